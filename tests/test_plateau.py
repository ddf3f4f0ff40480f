"""ReduceLROnPlateau: torch's decision on every metric sequence, on every backend."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lrfun
import lrfun.torch
from parity import assert_close, torch_trajectory
from parity.strategies import configs, metric_sequences


def _reference(config: dict, metrics: list[float], **kwargs: object):
    return torch_trajectory(config, len(metrics), metrics=metrics, **kwargs)


@given(config=configs("ReduceLROnPlateau"), metrics=metric_sequences())
def test_parity_float64_backends(config: dict, metrics: list[float]) -> None:
    ref = _reference(config, metrics)
    plateau = lrfun.from_config(config)
    assert_close(plateau.trajectory(metrics), ref, dtype="float64")  # NumPy, on the host
    with jax.enable_x64(True):
        assert_close(plateau.trajectory(jnp.asarray(metrics)), ref, dtype="float64")
    assert_close(
        plateau.trajectory(torch.tensor(metrics, dtype=torch.float64)), ref, dtype="float64"
    )
    # one update at a time, Python floats in
    state, lrs = plateau.init(), [plateau.lr(plateau.init())]
    for metric in metrics:
        state = plateau.update(state, metric)
        lrs.append(plateau.lr(state))
    assert_close(np.stack(lrs), ref, dtype="float64")
    assert int(state.last_epoch) == len(metrics)


@given(
    config=configs("ReduceLROnPlateau", exact32=True),
    metrics=metric_sequences(exact32=True),
    tensor_lr=st.booleans(),
)
def test_parity_float32_backends(config: dict, metrics: list[float], tensor_lr: bool) -> None:
    ref = _reference(config, metrics, tensor_lr=tensor_lr)
    plateau = lrfun.from_config(config)
    assert_close(plateau.trajectory(jnp.asarray(metrics, dtype=jnp.float32)), ref, dtype="float32")
    assert_close(
        plateau.trajectory(torch.tensor(metrics, dtype=torch.float32)), ref, dtype="float32"
    )


@given(config=configs("ReduceLROnPlateau"), metrics=metric_sequences(max_size=30))
@settings(max_examples=10)
def test_jit_update_equals_eager(config: dict, metrics: list[float]) -> None:
    plateau = lrfun.from_config(config)
    with jax.enable_x64(True):
        eager = plateau.trajectory(np.asarray(metrics))
        update = jax.jit(plateau.update)
        state = plateau.init(like=jnp.zeros((), jnp.float64))
        lrs = [state.lr]
        for metric in metrics:
            state = update(state, metric)
            lrs.append(state.lr)
        np.testing.assert_array_equal(np.stack(lrs), eager)


def test_compiled_update_has_no_graph_break() -> None:
    import torch._dynamo.testing

    config = {
        "name": "ReduceLROnPlateau",
        "base_lr": [0.1, 0.2],
        "patience": 0,
        "min_lr": [0.0, 0.05],
    }
    metrics = [1.0, 1.0, 0.5, 0.5, math.nan]
    plateau = lrfun.from_config(config)
    counter = torch._dynamo.testing.CompileCounter()
    torch._dynamo.reset()
    update = torch.compile(plateau.update, fullgraph=True, backend=counter)
    state = plateau.init(like=torch.zeros(()))
    lrs = [state.lr]
    for metric in metrics:
        state = update(state, torch.tensor(metric))
        lrs.append(state.lr)
    assert counter.frame_count == 1  # one graph, whatever the metric
    assert_close(torch.stack(lrs), _reference(config, metrics), dtype="float32")


def test_state_is_a_pytree_of_arrays() -> None:
    plateau = lrfun.ReduceLROnPlateau(0.1)
    leaves = jax.tree_util.tree_leaves(plateau.init(like=jnp.zeros(())))
    assert len(leaves) == 5 and all(isinstance(x, jax.Array) for x in leaves)


def test_config_round_trip() -> None:
    plateau = lrfun.ReduceLROnPlateau([0.1, 0.2], mode="max", min_lr=[0.0, 1e-3], cooldown=2)
    assert lrfun.from_config(plateau.to_config()) == plateau


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (dict(factor=1.0), ValueError, "factor must be 0 or a normal float in [0, 1), got 1.0"),
        (dict(factor=-0.5), ValueError, "factor must be 0 or a normal float in [0, 1), got -0.5"),
        (dict(factor=5e-324), ValueError, "factor must be 0 or a normal float in [0, 1)"),
        (dict(factor=math.nan), ValueError, "factor must be a finite number, got nan"),
        (dict(best="1.0"), TypeError, "best must be a number (not NaN), got '1.0'"),
        (dict(best=math.nan), ValueError, "best must be a number (not NaN), got nan"),
        # a position the adapters' state check would refuse is refused here first
        (dict(last_epoch=2**53 + 1), ValueError, "last_epoch must be an integer >= 0 no larger"),
        # the position is a count like the others: what init() holds on every backend
        (dict(last_epoch=2**31 - 1), ValueError, "no larger than 2147483646, got 2147483647"),
        (dict(mode="minimum"), ValueError, "mode must be one of 'min', 'max'; got 'minimum'"),
        (dict(threshold_mode="pct"), ValueError, "threshold_mode must be one of 'rel', 'abs'"),
        (dict(patience=-1), ValueError, "patience must be an integer >= 0, got -1"),
        (dict(patience=2.5), TypeError, "patience must be an integer >= 0, got 2.5"),
        (dict(cooldown=-1), ValueError, "cooldown must be an integer >= 0, got -1"),
        (dict(threshold=math.nan), ValueError, "threshold must be a finite number >= 0.0, got nan"),
        (dict(eps=-1.0), ValueError, "eps must be a finite number >= 0.0, got -1.0"),
        (dict(min_lr=[0.0, 0.1, 0.2]), ValueError, "min_lr has 3 values but base_lr has 2"),
        (dict(min_lr=-1.0), ValueError, "min_lr must be a finite number >= 0.0, got -1.0"),
    ],
)
def test_bad_arguments(arguments: dict, error: type, message: str) -> None:
    with pytest.raises(error) as raised:
        lrfun.ReduceLROnPlateau([0.1, 0.2], **arguments)
    assert message in str(raised.value)


# -- issue 22 item 9: hostile numbers reach the machine as the right value or a named refusal --


def test_every_position_the_constructor_takes_inits_on_every_backend() -> None:
    """The largest position the constructor accepts fits JAX's int32 state (optax's init
    used to raise OverflowError at last_epoch >= 2**31, which the constructor accepted)."""
    plateau = lrfun.ReduceLROnPlateau(0.1, last_epoch=2**31 - 2, num_bad_epochs=2**31 - 2)
    for like in (None, jnp.zeros(()), torch.zeros(())):
        assert int(plateau.init(like=like).last_epoch) == 2**31 - 2


def test_init_names_a_count_its_integers_cannot_hold() -> None:
    """A machine whose position is past the state's integers (int32 on JAX without x64) is
    refused by init naming the count, not met as OverflowError."""
    plateau = lrfun.ReduceLROnPlateau(0.1)
    plateau._set(last_epoch=2**31)  # as a machine whose constructor allows 64-bit positions
    with pytest.raises(ValueError, match="last_epoch=2147483648 does not fit this state's int32"):
        plateau.init(like=jnp.zeros(()))
    assert int(plateau.init().last_epoch) == 2**31  # NumPy's int64


@pytest.mark.parametrize("name", ["eps", "factor", "threshold", "base_lr", "min_lr"])
def test_tensor_hyperparameters_combine_with_every_state(name: str) -> None:
    """A concrete tensor hyperparameter is its number (a tensor eps met a NumPy state as
    NotImplementedError, a JAX one as TypeError): the same trajectory on every backend, a
    JSON config."""
    values = {"eps": 1e-3, "factor": 0.5, "threshold": 0.1, "base_lr": 0.1, "min_lr": 0.02}
    arguments = dict(base_lr=0.1, patience=0, threshold_mode="abs")
    plain = lrfun.ReduceLROnPlateau(**{**arguments, name: values[name]})
    tensor = torch.tensor(values[name], dtype=torch.float64)
    plateau = lrfun.ReduceLROnPlateau(**{**arguments, name: tensor})
    assert plateau == plain and isinstance(getattr(plateau, name), float)
    assert plateau.to_config() == plain.to_config()
    metrics = [3.0, 3.0, 2.0, 2.0, 2.0, 1.0]
    expected = plain.trajectory(metrics)
    np.testing.assert_array_equal(plateau.trajectory(metrics), expected)
    np.testing.assert_allclose(plateau.trajectory(jnp.asarray(metrics)), expected, rtol=1e-6)
    got = plateau.trajectory(torch.tensor(metrics, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("mode", ["min", "max"])
def test_a_metric_past_float_range_is_its_infinity(mode: str) -> None:
    """A Python integer past float's range is the infinity of its sign, as ``best=`` takes it
    (``float()`` raised OverflowError), on the host, NumPy, JAX and torch states and in the
    torch adapter."""
    plateau = lrfun.ReduceLROnPlateau([0.1], mode=mode, patience=0)
    for like in (None, jnp.zeros(()), torch.zeros((), dtype=torch.float64)):
        for metric, infinity in ((10**400, math.inf), (-(10**400), -math.inf)):
            expected = plateau.update(plateau.init(like=like), infinity)
            got = plateau.update(plateau.init(like=like), metric)
            assert float(got.best) == float(expected.best)
            assert int(got.num_bad_epochs) == int(expected.num_bad_epochs)
    np.testing.assert_array_equal(
        plateau.trajectory([1.0, 10**400, -(10**400), 2]),
        plateau.trajectory([1.0, math.inf, -math.inf, 2]),
    )
    one = lrfun.ReduceLROnPlateau(0.1, mode=mode, patience=0)
    host = one._host(one.init())
    assert one.update(host, 10**400) == one.update(host, math.inf)
    adapters = []
    for metric in (10**400, math.inf):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        sched = lrfun.torch.PlateauScheduler(opt, one)
        opt.step()
        sched.step(metric)
        adapters.append((sched.state, opt.param_groups[0]["lr"]))
    assert adapters[0] == adapters[1]
