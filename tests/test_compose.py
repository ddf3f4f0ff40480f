"""SequentialLR and ChainedScheduler: torch's trajectories for random nested compositions."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import lrfun
from parity import assert_close, lr_scale, torch_scheduler, torch_trajectory
from parity.report import check, float32_representable
from parity.strategies import compositions, horizon, unit_momenta

_steps = st.one_of(st.integers(0, 60), st.integers(60, 400))


@given(config=compositions(), steps=_steps, optimizer=st.sampled_from(["sgd", "adam"]))
def test_parity_every_backend(config: dict, steps: int, optimizer: str) -> None:
    if not unit_momenta(config):
        optimizer = "sgd"  # Adam's step raises on a beta1 cycled outside [0, 1)
    rows = check(config, horizon(config, steps), optimizer=optimizer)
    failed = [f"{r.backend}: {r.detail}" for r in rows if not r.passed]
    assert not failed, "\n".join(failed)


@given(config=compositions(), steps=st.integers(0, 200))
@settings(max_examples=10)
def test_parity_tensor_lr(config: dict, steps: int) -> None:
    steps = horizon(config, steps)
    assume(float32_representable(config, steps))
    rows = check(config, steps, tensor_lr=True)
    failed = [f"{r.backend}: {r.detail}" for r in rows if not r.passed]
    assert not failed, "\n".join(failed)


@given(config=compositions(), steps=st.integers(0, 150))
@settings(max_examples=15)
def test_from_torch_follows_torch(config: dict, steps: int) -> None:
    steps = horizon(config, steps)
    _, native = torch_scheduler(config)
    ref = torch_trajectory(config, steps)
    ours = lrfun.from_torch(native)(np.arange(steps + 1))
    assert_close(ours, ref, dtype="float64", scale=lr_scale(config))


@given(config=compositions())
@settings(max_examples=20)
def test_config_round_trip(config: dict) -> None:
    schedule = lrfun.from_config(config)
    try:
        text = json.dumps(schedule.to_config())
    except TypeError as error:
        assert "callable" in str(error)
        return
    again = lrfun.from_config(json.loads(text))
    assert again == schedule
    ks = np.arange(40)
    np.testing.assert_array_equal(again(ks), schedule(ks))


def _warmup_cosine() -> lrfun.SequentialLR:
    return lrfun.SequentialLR(
        [lrfun.LinearLR(0.1, 0.01, total_iters=10), lrfun.CosineAnnealingLR(0.1, T_max=90)], [10]
    )


def test_closed_form_traces_without_a_horizon() -> None:
    s = _warmup_cosine()
    ks = jnp.arange(200)
    assert_close(jax.jit(s)(ks), s(np.arange(200)), dtype="float32")
    import torch._dynamo.testing

    counter = torch._dynamo.testing.CompileCounter()
    torch._dynamo.reset()
    compiled = torch.compile(s, fullgraph=True, backend=counter)
    for k in (0, 5, 10, 50):
        torch.testing.assert_close(compiled(torch.tensor(k)), s(torch.tensor(k)))
    assert counter.frame_count == 1


def test_simulated_composites_need_a_horizon_to_trace() -> None:
    children = [lrfun.CosineAnnealingLR(1.0, 5, eta_min=0.1), lrfun.StepLR(1.0, 3)]
    with pytest.raises(TypeError, match="pass horizon=N"):
        jax.jit(lrfun.ChainedScheduler(children))(jnp.arange(4))
    bounded = lrfun.ChainedScheduler(children, horizon=30)
    traced = np.asarray(jax.jit(bounded)(jnp.arange(40)), np.float64)
    assert_close(traced[:31], bounded(np.arange(31)), dtype="float32")
    assert np.isnan(traced[31:]).all()


def test_multistep_milestones_do_not_grow_the_sequential_graph() -> None:
    def ops(n: int) -> int:
        s = lrfun.SequentialLR(
            [lrfun.MultiStepLR(0.1, list(range(n))), lrfun.ConstantLR(0.1)], [n + 5]
        )
        text = jax.jit(s).lower(jnp.arange(8)).as_text()
        return sum("=" in line for line in text.splitlines())

    assert ops(3) == ops(3000)


BAD = [
    (dict(schedulers=[], milestones=[]), ValueError, "schedulers must hold at least one schedule"),
    (
        dict(schedulers=lrfun.StepLR(0.1, 2), milestones=[]),
        TypeError,
        "must be a list of schedules",
    ),
    (
        dict(schedulers=[lrfun.StepLR(0.1, 2), 3], milestones=[1]),
        TypeError,
        "schedulers[1] must be an lrfun schedule, got 3",
    ),
    (
        dict(schedulers=[lrfun.StepLR(0.1, 2)], milestones=[4]),
        ValueError,
        "milestones must have one value fewer than schedulers (1), got [4]",
    ),
    (
        dict(schedulers=[lrfun.StepLR(0.1, 2)] * 3, milestones=[5, 2]),
        ValueError,
        "milestones must be non-decreasing, got [5, 2]",
    ),
    (
        dict(schedulers=[lrfun.StepLR(0.1, 2)] * 2, milestones=[-1]),
        ValueError,
        "milestones must hold integers >= 0, got -1",
    ),
    (
        dict(schedulers=[lrfun.StepLR(0.1, 2), lrfun.StepLR(0.1, 2, start_lr=0.2)], milestones=[3]),
        ValueError,
        "schedulers[1] has start_lr=0.2",
    ),
    (
        dict(schedulers=[lrfun.StepLR([0.1, 0.1], 2), lrfun.StepLR([0.1] * 3, 2)], milestones=[3]),
        ValueError,
        "different param group counts [2, 3]",
    ),
    (
        dict(schedulers=[lrfun.StepLR(0.1, 2), lrfun.ReduceLROnPlateau(0.1)], milestones=[3]),
        ValueError,
        "schedulers[1] is a ReduceLROnPlateau",
    ),
    (
        dict(
            schedulers=[lrfun.StepLR(0.1, 2), lrfun.ChainedScheduler([lrfun.StepLR(0.1, 2)])],
            milestones=[3],
        ),
        ValueError,
        "torch cannot (its _update_lr raises NotImplementedError)",
    ),
    (
        dict(schedulers=[lrfun.StepLR(0.1, 2)] * 2, milestones=[3], horizon=-1),
        ValueError,
        "horizon must be an integer >= 0, got -1",
    ),
]


@pytest.mark.parametrize(("arguments", "error", "message"), BAD)
def test_bad_arguments(arguments: dict, error: type, message: str) -> None:
    with pytest.raises(error) as raised:
        lrfun.SequentialLR(**arguments)
    assert message in str(raised.value)


def test_torch_fails_restarting_a_composite_child() -> None:
    """Why the last bad case is refused: torch raises when the milestone arrives."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    first = torch.optim.lr_scheduler.StepLR(opt, 2)
    inner = torch.optim.lr_scheduler.ChainedScheduler([torch.optim.lr_scheduler.StepLR(opt, 2)])
    seq = torch.optim.lr_scheduler.SequentialLR(opt, [first, inner], milestones=[1])
    opt.step()
    with pytest.raises(NotImplementedError):
        seq.step()
