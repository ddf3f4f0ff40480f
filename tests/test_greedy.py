"""GreedyLR: transformers' decisions on every metric sequence, on every backend.

The reference is transformers' own ``GreedyLR`` on a real torch optimizer, run live: every
group's lr and every counter are compared with lrfun's machine after every step.
"""

from __future__ import annotations

import copy
import io
import math
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lrfun
import lrfun.optax
import lrfun.torch
from lrfun import hf
from lrfun.hf import GreedyLR, GreedyState
from parity import assert_close, torch_trajectory
from parity.strategies import configs, metric_sequences

transformers = pytest.importorskip("transformers", reason="the live reference is transformers")
TransformersGreedyLR = transformers.optimization.GreedyLR
transformers_get_scheduler = transformers.get_scheduler

Config = dict[str, Any]

# The counters of transformers' object, by the state field that holds each.
_COUNTERS = {
    "num_bad_epochs": "num_bad_epochs",
    "num_good_epochs": "num_good_epochs",
    "cooldown_counter": "cooldown_counter",
    "warmup_counter": "warmup_counter",
    "reset_start": "reset_start",
    "last_epoch": "last_epoch",
}


def greedy_configs(exact32: bool = False) -> st.SearchStrategy[Config]:
    """parity.strategies' GreedyLR configs, as constructor arguments (without the name)."""
    return configs("hf.GreedyLR", exact32=exact32).map(
        lambda config: {key: value for key, value in config.items() if key != "name"}
    )


def _optimizer(base_lr: list[float]) -> torch.optim.Optimizer:
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in base_lr]
    return torch.optim.SGD(groups, lr=0.1)


def _kwargs(config: Config) -> Config:
    return {key: value for key, value in config.items() if key != "base_lr"}


def _ours(config: Config) -> GreedyLR:
    base = config["base_lr"]
    return GreedyLR(base[0] if len(base) == 1 else base, **_kwargs(config))


# -- recording both sides -----------------------------------------------------------------


def _record_transformers(scheduler: TransformersGreedyLR, metrics: list[float]) -> Config:
    """transformers' lrs (steps + 1, groups), best and counters after every step."""
    rows: list[Config] = []

    def record() -> None:
        rows.append(
            {
                "lr": [float(g["lr"]) for g in scheduler.optimizer.param_groups],
                "best": float(scheduler.best),
                **{field: getattr(scheduler, name) for field, name in _COUNTERS.items()},
            }
        )

    record()
    for metric in metrics:
        scheduler.step(metric)
        record()
    return {key: np.asarray([row[key] for row in rows]) for key in rows[0]}


def _reference(config: Config, metrics: list[float]) -> Config:
    scheduler = TransformersGreedyLR(_optimizer(config["base_lr"]), **_kwargs(config))
    return _record_transformers(scheduler, metrics)


def _stacked(states: list[GreedyState]) -> Config:
    def host(value: Any) -> np.ndarray:
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().numpy()
        return np.asarray(value)

    return {
        field: np.stack([host(getattr(s, field)) for s in states]) for field in GreedyState._fields
    }


def _stepped(machine: GreedyLR, metrics: list[float], like: Any = None) -> Config:
    """The states after 0..n updates, one update at a time (metrics in ``like``'s kind)."""
    state = machine.init(like=like)
    states = [state]
    for metric in metrics:
        if isinstance(like, torch.Tensor):
            metric = torch.tensor(metric, dtype=like.dtype)
        state = machine.update(state, metric)
        states.append(state)
    return _stacked(states)


def _scanned(machine: GreedyLR, metrics: list[float], dtype: Any) -> Config:
    """The states after 0..n updates as one jitted ``lax.scan``."""

    @jax.jit
    def run(metrics: Any) -> tuple[GreedyState, GreedyState]:
        state = machine.init(like=metrics)

        def body(state: GreedyState, metric: Any) -> tuple[GreedyState, GreedyState]:
            state = machine.update(state, metric)
            return state, state

        return state, jax.lax.scan(body, state, metrics)[1]

    first, rest = run(jnp.asarray(metrics, dtype=dtype).reshape(-1))
    return {
        field: np.concatenate([np.asarray(getattr(first, field))[None], np.asarray(stack)])
        for field, stack in zip(GreedyState._fields, rest, strict=True)
    }


def _check(ours: Config, ref: Config, dtype: str) -> None:
    """Every lr within lrfun's tolerance, every counter equal, at every step."""
    groups = ref["lr"].shape[1]
    lrs = np.broadcast_to(ours["lr"].reshape(len(ref["lr"]), -1), ref["lr"].shape)
    assert_close(lrs, ref["lr"], dtype=dtype, scale=float(np.max(ref["lr"])))
    assert groups >= 1
    rtol = lrfun.tolerance(dtype)[0]
    np.testing.assert_allclose(ours["best"], ref["best"], rtol=rtol, atol=0.0, equal_nan=True)
    for field in _COUNTERS:
        np.testing.assert_array_equal(ours[field], ref[field], err_msg=field)


# -- parity --------------------------------------------------------------------------------


@given(config=greedy_configs(), metrics=metric_sequences(max_size=60))
def test_parity_float64_backends(config: Config, metrics: list[float]) -> None:
    ref = _reference(config, metrics)
    machine = _ours(config)
    _check(_stepped(machine, metrics), ref, "float64")  # NumPy on the host, Python floats in
    trajectory = machine.trajectory(metrics)
    assert_close(
        np.broadcast_to(trajectory.reshape(len(ref["lr"]), -1), ref["lr"].shape),
        ref["lr"],
        dtype="float64",
    )
    if not any(0.0 < abs(m) < sys.float_info.min for m in metrics):
        # XLA flushes subnormals to zero: a subnormal metric is 0.0 to JAX (quirks page).
        with jax.enable_x64(True):
            _check(_scanned(machine, metrics, jnp.float64), ref, "float64")
    _check(_stepped(machine, metrics, like=torch.zeros((), dtype=torch.float64)), ref, "float64")


@given(config=greedy_configs(exact32=True), metrics=metric_sequences(max_size=60, exact32=True))
def test_parity_float32_backends(config: Config, metrics: list[float]) -> None:
    ref = _reference(config, metrics)
    machine = _ours(config)
    _check(_scanned(machine, metrics, jnp.float32), ref, "float32")
    _check(_stepped(machine, metrics, like=torch.zeros(())), ref, "float32")


@given(config=greedy_configs(), metrics=metric_sequences(max_size=30))
@settings(max_examples=10)
def test_jit_update_equals_eager(config: Config, metrics: list[float]) -> None:
    machine = _ours(config)
    eager = _stepped(machine, metrics)
    with jax.enable_x64(True):
        update = jax.jit(machine.update)
        state = machine.init(like=jnp.zeros((), jnp.float64))
        states = [state]
        for metric in metrics:
            state = update(state, metric)
            states.append(state)
        jitted = _stacked(states)
    # the decisions (counters) exactly; the values within float64's tolerance: XLA may
    # divide by the factor as a product with its reciprocal (one ulp from NumPy's quotient)
    for field in GreedyState._fields:
        if field in ("lr", "best", "window_values", "window_sum"):
            np.testing.assert_allclose(jitted[field], eager[field], rtol=1e-15, err_msg=field)
        else:
            np.testing.assert_array_equal(jitted[field], eager[field], err_msg=field)


def test_smoothing_keeps_transformers_running_sum() -> None:
    """Once NaN or inf has been in the window, the running sum stays NaN after it leaves
    (``nan - nan``, ``inf - inf``), as transformers' does; a sum recomputed over the window
    would recover."""
    config: Config = {"base_lr": [0.1], "smooth": True, "window_size": 2, "patience": 1}
    metrics = [1.0, math.inf, 2.0, 3.0, 1.0, 0.5, 0.25]
    scheduler = TransformersGreedyLR(_optimizer(config["base_lr"]), **_kwargs(config))
    machine = _ours(config)
    state = machine.init()
    for metric in metrics:
        scheduler.step(metric)
        state = machine.update(state, metric)
    assert math.isnan(scheduler._streaming_avg.sum) and math.isnan(float(state.window_sum))
    assert int(state.window_count) == len(scheduler._streaming_avg.values) == 2


def test_resets_happen_and_match() -> None:
    """A constant metric cuts to the floor, counts down, resets to the base lr: every step as
    transformers."""
    config: Config = {"base_lr": [0.1, 0.2], "factor": 0.5, "patience": 0, "min_lr": 0.02}
    config.update(reset_start=2, cooldown=1, smooth=True, window_size=3)
    metrics = [1.0] * 30
    ref = _reference(config, metrics)
    ours = _stepped(_ours(config), metrics)
    _check(ours, ref, "float64")
    assert np.sum(np.all(ref["lr"][1:] == [0.1, 0.2], axis=1)) >= 2  # it did reset


# -- from a stepped transformers scheduler --------------------------------------------------


@given(
    config=greedy_configs(),
    metrics=metric_sequences(max_size=60),
    data=st.data(),
)
@settings(max_examples=15)
def test_stepped_scheduler_converts_and_continues(
    config: Config, metrics: list[float], data: st.DataObject
) -> None:
    split = data.draw(st.integers(0, len(metrics)), label="split")
    scheduler = TransformersGreedyLR(_optimizer(config["base_lr"]), **_kwargs(config))
    for metric in metrics[:split]:
        scheduler.step(metric)
    machine = lrfun.from_torch(scheduler)  # transformers' own class, read in its state
    assert isinstance(machine, GreedyLR)
    assert lrfun.from_config(machine.to_config()) == machine
    ref = _record_transformers(scheduler, metrics[split:])
    ours = _stepped(machine, metrics[split:])
    _check(ours, {**ref, "last_epoch": ref["last_epoch"]}, "float64")


# -- the torch adapter ---------------------------------------------------------------------


def _adapter_pair(config: Config) -> tuple[Any, Any]:
    native = TransformersGreedyLR(_optimizer(config["base_lr"]), **_kwargs(config))
    ours = lrfun.torch.PlateauScheduler(_optimizer(config["base_lr"]), _ours(config))
    return native, ours


def _lrs(scheduler: Any) -> list[float]:
    return [float(g["lr"]) for g in scheduler.optimizer.param_groups]


def _round_trip(state: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@given(config=greedy_configs(), metrics=metric_sequences(max_size=50), data=st.data())
@settings(max_examples=15)
def test_torch_adapter_drives_an_optimizer_as_transformers(
    config: Config, metrics: list[float], data: st.DataObject
) -> None:
    native, ours = _adapter_pair(config)
    split = data.draw(st.integers(0, len(metrics)), label="split")
    assert _lrs(ours) == _lrs(native)
    for metric in metrics[:split]:
        native.step(metric)
        ours.step(metric)
        assert _lrs(ours) == pytest.approx(_lrs(native), rel=1e-12, abs=0.0)
    # a checkpoint, restored into a fresh scheduler on a fresh optimizer
    saved = _round_trip(ours.state_dict())
    resumed = lrfun.torch.PlateauScheduler(_optimizer(config["base_lr"]), _ours(config))
    resumed.load_state_dict(saved)
    assert _lrs(resumed) == _lrs(ours) and resumed.last_epoch == native.last_epoch
    for metric in metrics[split:]:
        native.step(metric)
        resumed.step(metric)
        assert _lrs(resumed) == pytest.approx(_lrs(native), rel=1e-12, abs=0.0)
        assert resumed.num_bad_epochs == native.num_bad_epochs
        assert resumed.cooldown_counter == native.cooldown_counter


def _snapshot(scheduler: Any) -> Any:
    state = {k: np.asarray(v).tolist() for k, v in scheduler.state._asdict().items()}
    return state, _lrs(scheduler), scheduler.last_epoch, scheduler._step_count


def _greedy_adapter() -> Any:
    config: Config = {"base_lr": [0.1, 0.2], "smooth": True, "window_size": 3, "patience": 1}
    config.update(reset_start=4)
    _, ours = _adapter_pair(config)
    for metric in [3.0, 2.0, 2.0, 2.0, 1.0]:
        ours.step(metric)
    return ours


_BAD_LOADS: list[tuple[str, dict[str, Any], type, list[str]]] = [
    ("window length", {"window": [1.0, 2.0]}, ValueError, ["window", "shape (3,)"]),
    ("window str", {"window": "abc"}, TypeError, ["window", "'abc'"]),
    ("window_count past the window", {"window_count": 4}, ValueError, ["window_count", "3"]),
    ("window_head past the window", {"window_head": 3}, ValueError, ["window_head", "2"]),
    ("reset countdown past reset_start", {"reset_start": 5}, ValueError, ["reset_start", "4"]),
    ("good epochs -1", {"num_good_epochs": -1}, ValueError, ["num_good_epochs", "-1"]),
    ("warmup_counter float", {"warmup_counter": 1.5}, TypeError, ["warmup_counter", "1.5"]),
    ("window_sum str", {"window_sum": "1"}, TypeError, ["window_sum", "'1'"]),
    ("lr nan", {"lr": [math.nan, 0.1]}, ValueError, ["lr'][0]", "nan"]),
    ("best nan", {"best": math.nan}, ValueError, ["best", "nan"]),
    ("another machine", {"plateau": {"name": "hf.GreedyLR", "base_lr": [0.1, 0.2]}},
     ValueError, ["delete state_dict['plateau']"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("entries", "error", "words"),
    [row[1:] for row in _BAD_LOADS],
    ids=[row[0] for row in _BAD_LOADS],
)
def test_torch_adapter_refuses_bad_loads_and_changes_nothing(
    entries: dict[str, Any], error: type, words: list[str]
) -> None:
    ours = _greedy_adapter()
    state = copy.deepcopy(ours.state_dict())
    state.update(entries)
    before = _snapshot(ours)
    with pytest.raises(error) as raised:
        ours.load_state_dict(state)
    for word in words:
        assert word in str(raised.value), f"{word!r} not in {str(raised.value)!r}"
    assert _snapshot(ours) == before
    ours.step(1.0)  # and it still steps


def test_torch_adapter_refuses_the_other_machines_state() -> None:
    ours = _greedy_adapter()
    plateau = lrfun.torch.PlateauScheduler(_optimizer([0.1, 0.2]), lrfun.ReduceLROnPlateau(0.1))
    state = plateau.state_dict()
    before = _snapshot(ours)
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        ours.load_state_dict(state)
    del state["plateau"]  # loading it anyway: the greedy fields are missing
    with pytest.raises(ValueError, match=r"lacks.*num_good_epochs"):
        ours.load_state_dict(state)
    assert _snapshot(ours) == before


def test_torch_adapter_attributes_and_repr() -> None:
    machine = GreedyLR(0.1, patience=0, cooldown=2)
    sched = lrfun.torch.PlateauScheduler(_optimizer([0.1]), machine)
    sched.step(1.0)
    assert sched.best == 1.0 and sched.num_bad_epochs == 0 and not sched.in_cooldown
    assert repr(sched) == f"PlateauScheduler({machine!r})"
    assert repr(sched).startswith("PlateauScheduler(hf.GreedyLR(base_lr=0.1,")


# -- optax ---------------------------------------------------------------------------------


@given(config=greedy_configs(), metrics=metric_sequences(max_size=40).filter(bool), data=st.data())
@settings(max_examples=10)
def test_optax_inject_follows_the_metric(
    config: Config, metrics: list[float], data: st.DataObject
) -> None:
    machine = _ours(config)
    group = None if machine.groups is None else data.draw(st.integers(0, machine.groups - 1))
    ref = _reference(config, metrics)["lr"][:, group or 0]
    with jax.enable_x64(True):
        opt = lrfun.optax.inject(optax.sgd, machine, group=group)
        params = jnp.zeros(2, dtype=jnp.float64)
        state = opt.init(params)
        update = jax.jit(opt.update)
        used = []
        for metric in metrics:
            _, state = update(jnp.ones(2, jnp.float64), state, params, value=metric)
            used.append(float(state.hyperparams["learning_rate"]))
        lrfun.optax.check_state(machine, jax.device_get(state))
    # update k uses the lr after k metric steps, as torch's optimizer.step before
    # scheduler.step(metric)
    assert_close(np.asarray(used), ref[:-1], dtype="float64", scale=float(np.max(ref)))


def test_optax_chain_and_check_state() -> None:
    machine = GreedyLR([0.1, 0.2], patience=0, factor=0.5, smooth=True, window_size=2)
    opt = optax.chain(optax.sgd(0.1), lrfun.optax.reduce_on_plateau(machine, group=0))
    params = jnp.zeros(1)
    state = opt.init(params)
    for metric in [3.0, 2.0, 1.0]:
        _, state = opt.update(jnp.ones(1), state, params, value=metric)
    assert float(state[1].lr[0]) == pytest.approx(0.8)  # raised three times, by 1 / 0.5
    assert lrfun.optax.check_state(machine, state) is state
    bad = (state[0], state[1]._replace(window=jnp.zeros(3)))
    with pytest.raises(ValueError, match=r"state\[1\]\.window must be shape \(2,\)"):
        lrfun.optax.check_state(machine, bad)
    with pytest.raises(ValueError, match=r"no lrfun\.GreedyState"):
        lrfun.optax.check_state(machine, (state[0], lrfun.ReduceLROnPlateau(0.1).init()))


# -- transformers' names, configs, pytrees ---------------------------------------------------


def test_get_scheduler_greedy() -> None:
    kwargs = {"mode": "max", "factor": 0.5, "min_lr": [0.0, 0.01], "verbose": False}
    ours = hf.get_scheduler("greedy", [0.1, 0.2], scheduler_specific_kwargs=kwargs)
    assert ours == hf.get_greedy_schedule([0.1, 0.2], **kwargs)
    native = transformers_get_scheduler(
        "greedy", _optimizer([0.1, 0.2]), scheduler_specific_kwargs=kwargs
    )
    read = lrfun.from_torch(native)
    assert isinstance(read, GreedyLR)
    for field in GreedyState._fields:  # the same machine, max_lr spelled per group
        np.testing.assert_array_equal(
            getattr(read.init(), field), getattr(ours.init(), field), err_msg=field
        )
    assert hf.from_config(ours.to_config()) == ours
    assert ours.to_config()["name"] == "hf.GreedyLR"


def test_machine_is_a_pytree() -> None:
    machine = GreedyLR([0.1, 0.2], factor=0.5, smooth=True, window_size=4)
    leaves, tree = jax.tree_util.tree_flatten(machine)
    assert leaves == [0.1, 0.2, 0.5, 1e-6, 1e-3, 1.0, 1e-8]
    assert jax.tree_util.tree_unflatten(tree, leaves) == machine
    state = machine.init(like=jnp.zeros(()))
    assert all(isinstance(x, jax.Array) for x in jax.tree_util.tree_leaves(state))
    assert state.window.shape == (4,)

    @jax.jit
    def step(m: GreedyLR, s: GreedyState) -> GreedyState:
        return m.update(s, 1.0)

    assert float(step(machine, state).best) == 1.0


_BAD_ARGUMENTS: list[tuple[dict[str, Any], type, str]] = [
    ({"factor": 1.0}, ValueError, "factor must be a normal float in (0, 1), got 1.0"),
    ({"factor": 0.0}, ValueError, "factor must be a normal float in (0, 1), got 0.0"),
    ({"factor": -0.5}, ValueError, "factor must be a normal float in (0, 1), got -0.5"),
    ({"factor": 5e-324}, ValueError, "factor must be a normal float in (0, 1), got 5e-324"),
    ({"factor": math.nan}, ValueError, "factor must be a finite number, got nan"),
    ({"mode": "minimum"}, ValueError, "mode must be one of 'min', 'max'; got 'minimum'"),
    ({"threshold_mode": "pct"}, ValueError, "threshold_mode must be one of 'rel', 'abs'"),
    ({"patience": -1}, ValueError, "patience must be an integer >= 0, got -1"),
    ({"warmup": 2.5}, TypeError, "warmup must be an integer >= 0, got 2.5"),
    ({"cooldown": 2**31}, ValueError, "cooldown must be an integer >= 0 no larger than"),
    ({"threshold": -1.0}, ValueError, "threshold must be a finite number >= 0.0, got -1.0"),
    ({"eps": math.inf}, ValueError, "eps must be a finite number >= 0.0, got inf"),
    ({"min_lr": [0.0, 0.1, 0.2]}, ValueError, "min_lr has 3 values but base_lr has 2"),
    ({"max_lr": -1.0}, ValueError, "max_lr must be a finite number >= 0.0, got -1.0"),
    ({"smooth": "yes"}, TypeError, "smooth must be True or False, got 'yes'"),
    ({"window_size": 0}, ValueError, "window_size must be a positive integer, got 0"),
    ({"reset_start": -1}, ValueError, "reset_start must be an integer >= 0, got -1"),
    ({"reset_countdown": 600}, ValueError, "reset_countdown must be an integer >= 0 no larger"),
    ({"best": math.nan}, ValueError, "best must be a number (not NaN), got nan"),
    ({"window_values": [1.0]}, ValueError, "window_values must hold at most window_size=50"),
    ({"current_lr": [0.1]}, ValueError, "current_lr has 1 values but base_lr has 2"),
    ({"verbose": True}, TypeError, "verbose"),
]


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    _BAD_ARGUMENTS,
    ids=[next(iter(row[0])) + f"={next(iter(row[0].values()))!r}" for row in _BAD_ARGUMENTS],
)
def test_bad_arguments(arguments: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error) as raised:
        GreedyLR([0.1, 0.2], **arguments)
    assert message in str(raised.value)


@given(config=greedy_configs(), metrics=metric_sequences(max_size=40), data=st.data())
@settings(max_examples=10)
def test_the_live_reference_starts_where_a_stepped_config_stands(
    config: Config, metrics: list[float], data: st.DataObject
) -> None:
    """A config read off a stepped transformers GreedyLR builds, as the parity reference, a
    transformers GreedyLR standing where the first one stood: both go on alike."""
    split = data.draw(st.integers(0, len(metrics)), label="split")
    scheduler = TransformersGreedyLR(_optimizer(config["base_lr"]), **_kwargs(config))
    for metric in metrics[:split]:
        scheduler.step(metric)
    stepped = lrfun.from_torch(scheduler).to_config()
    rest = metrics[split:]
    rebuilt = torch_trajectory(stepped, len(rest), metrics=rest)
    expected = np.asarray(_record_transformers(scheduler, rest)["lr"])
    assert_close(rebuilt.lr, expected, dtype="float64")
