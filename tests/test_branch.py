"""Branching: ``lrfun.Cooldown`` (``cooldown_from``) and ``lrfun.Resume`` (``resume``).

Over any branch step, length, shape and final lr, from the canonical family and from
torch's schedulers: the lr follows the schedule before the branch, is the schedule's own
at the branch step (no jump), ends at the final lr (the new schedule's end); every step
is the definition (``_branch_formula``, from the children's own values) on NumPy, JAX
(jit) and torch; and the torch adapter, resumed from a ``state_dict`` with the branched
schedule, continues without a jump.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lrfun
import lrfun._shapes
import lrfun.torch
from lrfun._branch import _branch_formula
from lrfun._spec import parse, to_spec

STEPS = np.arange(0, 700)


def _children() -> st.SearchStrategy[lrfun.Schedule]:
    """Schedules to branch from: the canonical family, and torch's schedulers."""
    family = lrfun.WarmupStableDecay._strategy().map(lrfun.from_config)
    torch_ones = st.sampled_from(
        [
            lrfun.CosineAnnealingLR(0.1, T_max=200, eta_min=1e-4),
            lrfun.OneCycleLR(0.2, total_steps=800),
            lrfun.ExponentialLR(0.1, gamma=0.99),
            lrfun.StepLR(0.3, step_size=50, gamma=0.5),
            lrfun.hf.InverseSqrt(0.1, num_warmup_steps=20),
        ]
    )
    return st.one_of(family, torch_ones)


def _tolerance(truth: np.ndarray, dtype: str, scale: float) -> np.ndarray:
    rtol, atol = (1e-12, 1e-12) if dtype == "float64" else (1e-5, 1e-6)
    return rtol * np.abs(truth) + atol * scale


def _close(ours: Any, truth: Any, dtype: str, scale: float, slack: Any = 0.0) -> None:
    ours, truth = np.asarray(ours, np.float64), np.asarray(truth, np.float64)
    bound = _tolerance(truth, dtype, scale) + slack
    assert np.all(np.abs(ours - truth) <= bound), (dtype, np.max(np.abs(ours - truth) - bound))


@settings(deadline=None, max_examples=max(2, settings().max_examples * 3 // 5))
@given(
    child=_children(),
    step=st.one_of(st.sampled_from([0, 1]), st.integers(0, 600)),
    length=st.one_of(st.sampled_from([0, 1]), st.integers(0, 300)),
    shape=st.sampled_from(lrfun._shapes.DECAYS),
    final=st.one_of(st.just(0.0), st.floats(1e-6, 0.1)),
)
def test_cooldown_follows_branches_without_a_jump_and_ends_at_the_final_lr(
    child: lrfun.Schedule, step: int, length: int, shape: str, final: float
) -> None:
    s = lrfun.cooldown_from(child, step, length, shape, final)
    scale = max(s._lr_scale(), child._lr_scale(), float(np.max(child(STEPS))), 1e-300)
    before = STEPS[STEPS < step]
    np.testing.assert_array_equal(s(before), child(before))  # the run itself, untouched
    if length:  # no jump at the branch (a cooldown of no steps is final_lr from there)
        _close(s(step), child(step), "float64", scale)
    assert s(step + length) == final and s(step + length + 50) == final  # ends at final_lr
    truth = _branch_formula(s, STEPS)
    _close(s(STEPS), truth, "float64", scale)
    _close(jax.jit(lambda sch, k: sch(k))(s, jnp.asarray(STEPS)), truth, "float32", scale)
    _close(s(torch.as_tensor(STEPS)), truth, "float32", scale)


@settings(deadline=None, max_examples=max(2, settings().max_examples * 3 // 5))
@given(old=_children(), new=_children(), step=st.integers(0, 500), span=st.integers(1, 300))
def test_resume_continues_from_the_lr_reached_to_the_new_end(
    old: lrfun.Schedule, new: lrfun.Schedule, step: int, span: int
) -> None:
    end = step + span
    s = lrfun.resume(old, new, step, end)
    scale = max(
        old._lr_scale(),
        new._lr_scale(),
        float(np.max(old(STEPS))),
        float(np.max(new(STEPS))),
        1e-300,
    )
    before = STEPS[STEPS < step]
    np.testing.assert_array_equal(s(before), old(before))
    _close(s(step), old(step), "float64", scale)  # no jump at the resume step
    # the new end: the new schedule's lr there
    n0, n1 = float(new(step)), float(new(end))
    _close(s(end), n1, "float64", scale, slack=1e-12 * abs(float(old(step)) - n0))
    truth = _branch_formula(s, STEPS)
    _close(s(STEPS), truth, "float64", scale, slack=1e-12 * np.abs(truth))
    # float32: the new schedule's own rounding, times the rescaling's factor
    factor = abs((float(old(step)) - n1) / (n0 - n1)) if n0 != n1 else 1.0
    slack32 = 2e-6 * scale * (1.0 + factor)
    _close(jax.jit(lambda sch, k: sch(k))(s, jnp.asarray(STEPS)), truth, "float32", scale, slack32)
    _close(s(torch.as_tensor(STEPS)), truth, "float32", scale, slack32)


def test_resume_with_a_longer_wsd_keeps_the_new_decay() -> None:
    old = lrfun.WarmupStableDecay(1.0, 1000, warmup=100, decay=0.2, final_lr=0.01)
    new = lrfun.WarmupStableDecay(1.0, 2000, warmup=100, decay=0.2, final_lr=0.01)
    s = lrfun.resume(old, new, step=900, end=2000)  # resumed in the middle of the cooldown
    assert abs(s(900) - old(900)) < 1e-15
    # the lr reached is held through the new stable phase, then decays with the new shape
    assert abs(s(1500) - old(900)) < 1e-12 and abs(s(2000) - 0.01) < 1e-15
    # resumed in the stable phase: the new schedule itself
    same = lrfun.resume(old, new, step=500, end=2000)
    np.testing.assert_allclose(same(np.arange(500, 2100)), new(np.arange(500, 2100)), rtol=1e-12)


def _torch_run(schedule: lrfun.Schedule, steps: int) -> tuple[Any, Any, list[float]]:
    opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)  # the base lr
    sched = lrfun.torch.Scheduler(opt, schedule)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return opt, sched, lrs


@pytest.mark.parametrize("kind", ["cooldown", "resume"])
def test_the_torch_adapter_resumes_into_a_branch_without_a_jump(kind: str) -> None:
    run = lrfun.WarmupStableDecay(0.1, 1000, warmup=50, decay=0.2, stable_shape="rsqrt")
    _, sched, lrs = _torch_run(run, 400)
    state = sched.state_dict()
    if kind == "cooldown":
        branch: lrfun.Schedule = lrfun.cooldown_from(run, 400, 100, "1-sqrt", 1e-4)
        end = 500
    else:
        longer = lrfun.WarmupStableDecay(0.1, 3000, warmup=50, decay=0.2, stable_shape="rsqrt")
        branch, end = lrfun.resume(run, longer, 400, 3000), 3000
    # a checkpoint of the run, loaded into a scheduler of the branched schedule (the saved
    # "schedule" entry names the old one: deleting it is how a state moves across schedules)
    opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    resumed = lrfun.torch.Scheduler(opt, branch)
    del state["schedule"]
    resumed.load_state_dict(state)
    after = [opt.param_groups[0]["lr"]]
    for _ in range(end - 400):
        opt.step()
        resumed.step()
        after.append(opt.param_groups[0]["lr"])
    previous_step = lrs[-1] - run(398)  # one step of the run itself
    assert abs(after[0] - run(400)) < 1e-15  # the checkpoint's lr, no jump
    assert abs(after[1] - after[0]) <= abs(previous_step) + abs(after[0] - branch(401)) + 1e-15
    np.testing.assert_allclose(after, branch(np.arange(400, end + 1)), rtol=1e-12)
    assert abs(after[-1] - branch(end)) < 1e-15


def test_branches_are_configs_specs_and_pytrees() -> None:
    run = lrfun.WarmupStableDecay([0.1, 0.2], 100, warmup=10)
    for s in (
        lrfun.cooldown_from(run, 40, 20, "exponential", [1e-3, 2e-3]),
        lrfun.resume(run, lrfun.WarmupStableDecay([0.1, 0.2], 150, warmup=10), 40, 150),
    ):
        assert lrfun.from_config(json.loads(json.dumps(s.to_config()))) == s
        assert parse(to_spec(s)) == s
        out = jax.jit(lambda sch: sch(jnp.arange(160)))(s)
        np.testing.assert_allclose(out, s(np.arange(160)), rtol=1e-5, atol=1e-7)
        stacked = jax.tree.map(lambda *x: jnp.stack(x), s, s)
        assert jax.vmap(lambda sch: sch(jnp.arange(160)))(stacked).shape == (2, 160, 2)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: lrfun.cooldown_from(lrfun.StepLR(0.1, 5), -1, 10), ValueError, "step"),
        (lambda: lrfun.cooldown_from(lrfun.StepLR(0.1, 5), 3, 1.5), TypeError, "length"),
        (lambda: lrfun.cooldown_from(lrfun.StepLR(0.1, 5), 3, 10, "exp"), ValueError, "shape"),
        (
            lambda: lrfun.cooldown_from(lrfun.StepLR(0.1, 5), 3, 10, final_lr=-1.0),
            ValueError,
            "final_lr",
        ),
        (
            lambda: lrfun.cooldown_from(lrfun.StepLR([0.1, 0.2], 5), 3, 10, final_lr=[0.0] * 3),
            ValueError,
            "final_lr",
        ),
        (lambda: lrfun.Cooldown([], 3, 10), ValueError, "schedules"),
        (lambda: lrfun.Cooldown("StepLR", 3, 10), TypeError, "schedules"),
        (lambda: lrfun.Cooldown([1.0], 3, 10), TypeError, "schedules\\[0\\]"),
        (
            lambda: lrfun.resume(lrfun.StepLR(0.1, 5), lrfun.StepLR(0.1, 9), 10, 10),
            ValueError,
            "end",
        ),
        (
            lambda: lrfun.resume(lrfun.StepLR(0.1, 5), lrfun.StepLR([0.1, 0.2], 9), 1, 10),
            ValueError,
            "param groups",
        ),
        (lambda: lrfun.Resume([lrfun.StepLR(0.1, 5)], 1, 10), ValueError, "schedules"),
    ],
)
def test_bad_arguments_name_themselves(build: Callable[[], Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()
