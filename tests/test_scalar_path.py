"""The Python-number path and the host shortcuts: the same values as the array evaluation.

``s(k)`` for a Python int runs the schedule's one formula on Python numbers (``math``, not
0-d arrays); a formula that needs arrays, or an arithmetic Python raises on where NumPy gives
inf or NaN, goes the array way. NumPy trajectories evaluate only the phases their steps
reach (``Ctx.span``) and count sorted steps against many boundaries by a running sum. Each
is compared here with the array evaluation it replaces, within the parity tolerance (libm
and NumPy's vectorised functions may differ in the last ulp).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrfun
from lrfun import from_config
from lrfun._backend import evaluate_scalar
from lrfun._math import _host_counts
from lrfun._spec import parse
from lrfun.extend import classes
from parity.strategies import HF_NAMES, NAMES, configs

RTOL, ATOL_FRAC = lrfun.tolerance("float64")

# Every registered schedule whose configs parity's strategies draw (torch's, transformers',
# and each family's own ``_strategy``).
SCHEDULES = sorted(
    {
        cls._name
        for cls in classes()
        if issubclass(cls, lrfun.Schedule)
        and (cls._name in NAMES or cls._name in HF_NAMES or hasattr(cls, "_strategy"))
    }
)
GALLERY = sorted(
    cls._name for cls in classes() if issubclass(cls, lrfun.Schedule) and cls._gallery
)

steps = st.one_of(
    st.integers(0, 300),
    st.integers(0, 2**40),
    st.sampled_from([2**31 - 1, 2**31, 2**53, 2**63 - 1]),
    st.integers(-(2**63), -1),
)


def _outcome(evaluate: Any) -> Any:
    # (NumPy warns where a power overflows to inf: the array way's value either way)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return evaluate()
    except ValueError as e:
        return type(e), str(e)


def _close(a: float, b: float, scale: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= RTOL * abs(b) + ATOL_FRAC * scale


@pytest.mark.parametrize("name", SCHEDULES)
@given(data=st.data())
def test_python_int_is_the_array_value(name: str, data: st.DataObject) -> None:
    schedule = from_config(data.draw(configs(name, groups=1), label="config"))
    step = data.draw(steps, label="step")
    # the array way, as every step was evaluated before this path; a step past what a host
    # simulation may compute is refused either way, with the same message
    array = _outcome(lambda: float(schedule(np.asarray([max(step, 0)]))[0]))
    value = _outcome(lambda: schedule(step))
    if isinstance(array, tuple):
        assert value == array
        return
    assert type(value) is float
    assert _close(value, array, schedule._lr_scale()), (value, array)
    if schedule.cycles_momentum:
        momentum = _outcome(lambda: schedule.momentum(step))
        assert type(momentum) is float
        expected = _outcome(lambda: float(schedule.momentum(np.asarray([max(step, 0)]))[0]))
        assert _close(momentum, expected, 1.0), (momentum, expected)


@pytest.mark.parametrize("name", GALLERY)
def test_representative_schedules_take_the_python_path(name: str) -> None:
    """A schedule's representative configuration answers on Python numbers at every step of
    its plot: no formula falls back to arrays unnoticed (a cost, not a value, would change)."""
    cls = lrfun.extend.registered(name)
    spec, length = cls._gallery
    schedule = parse(spec)
    if schedule.groups is not None:
        pytest.skip(f"{spec} has per-group values, which are arrays by definition")
    missed = [k for k in range(0, length, 7) if evaluate_scalar(schedule._lr, k) is None]
    assert not missed, f"{spec}: array evaluation at steps {missed}"


def test_a_user_function_is_called_once_per_step() -> None:
    calls: list[int] = []

    def factor(k: int) -> float:
        calls.append(k)
        return 0.5**k

    schedule = lrfun.LambdaLR(1.0, lr_lambda=factor)
    assert schedule(3) == 0.125
    assert calls == [3] and type(calls[0]) is int


def test_an_overflow_is_numpys_inf_or_the_array_way() -> None:
    # Python raises OverflowError where NumPy gives inf: a power answers inf itself (a user
    # function before it is not called twice), any other overflow goes the array way.
    calls: list[int] = []
    schedule = lrfun.SequentialLR(
        [lrfun.LambdaLR(1.0, lambda k: calls.append(k) or 1.0), lrfun.ExponentialLR(1.0, 10.0)],
        [500],
    )
    assert evaluate_scalar(lrfun.ExponentialLR(1.0, gamma=10.0)._lr, 400) == math.inf
    assert schedule(900) == math.inf and schedule(3) == 1.0
    assert calls == [3]  # (900: only the child active there)
    with np.errstate(over="ignore"):
        assert float(schedule(np.asarray([900]))[0]) == math.inf
    assert evaluate_scalar(lrfun.CosineAnnealingLR(1.0, T_max=10)._lr, 2**62) is not None


@given(
    table=st.lists(st.integers(0, 2000), min_size=0, max_size=80).map(sorted),
    values=st.lists(st.integers(0, 2200), min_size=0, max_size=1500),
    ordered=st.booleans(),
    column=st.booleans(),
)
def test_boundary_counts_are_searchsorted(
    table: list[int], values: list[int], ordered: bool, column: bool
) -> None:
    step = np.asarray(sorted(values) if ordered else values, dtype=np.int64)
    if column:
        step = step.reshape(-1, 1)
    boundaries = np.asarray(table, dtype=np.int64)
    got = _host_counts(boundaries, step)
    np.testing.assert_array_equal(got, np.searchsorted(boundaries, step, side="right"))


PHASED = [
    "OneCycleLR",
    "CyclicLR",
    "MultiStepLR",
    "hf.WarmupStableDecay",
    "hf.CosineWithWarmup",
    "hf.LinearWithWarmup",
]


@pytest.mark.parametrize("name", PHASED)
@given(data=st.data())
def test_host_trajectories_evaluate_only_the_phases_they_reach(
    name: str, data: st.DataObject
) -> None:
    """Blocks of at least the span threshold, sorted or shuffled, anywhere in the schedule:
    the values of one step at a time."""
    schedule = from_config(data.draw(configs(name), label="config"))
    start = data.draw(st.integers(0, 3000), label="start")
    count = data.draw(st.integers(256, 700), label="count")
    step = np.arange(start, start + count, dtype=np.int64)
    if data.draw(st.booleans(), label="shuffled"):
        step = np.random.default_rng(start).permutation(step)
    got = np.asarray(schedule(step))
    one_by_one = np.stack([np.asarray(schedule(step[i : i + 1]))[0] for i in range(count)])
    scale = schedule._lr_scale()
    np.testing.assert_allclose(got, one_by_one, rtol=RTOL, atol=ATOL_FRAC * scale)


FIRST = [
    {"name": "LinearLR", "base_lr": 0.1, "total_iters": 7},
    {"name": "StepLR", "base_lr": 0.1, "step_size": 3},
]
LATER = [
    {"name": "CosineAnnealingLR", "base_lr": 0.1, "T_max": 50},
    {"name": "ExponentialLR", "base_lr": 0.1, "gamma": 0.99},
    {"name": "MultiplicativeLR", "base_lr": 0.1, "lr_lambda": 0.9},
]


@given(
    config=st.sampled_from(FIRST),
    later=st.sampled_from(LATER),
    milestones=st.lists(st.integers(0, 900), min_size=1, max_size=3).map(sorted),
    start=st.integers(0, 1500),
    shuffled=st.booleans(),
)
def test_sequential_host_trajectories_evaluate_only_the_children_they_reach(
    config: dict, later: dict, milestones: list[int], start: int, shuffled: bool
) -> None:
    children = [config] + [later] * len(milestones)
    schedule = from_config(
        {"name": "SequentialLR", "schedulers": children, "milestones": milestones}
    )
    step = np.arange(start, start + 300, dtype=np.int64)
    if shuffled:
        step = np.random.default_rng(start).permutation(step)
    got = np.asarray(schedule(step))
    one_by_one = np.asarray([schedule(step[i : i + 1])[0] for i in range(len(step))])
    np.testing.assert_allclose(got, one_by_one, rtol=RTOL, atol=ATOL_FRAC * 0.1)


@given(
    config=configs("ReduceLROnPlateau", groups=1),
    metrics=st.lists(
        st.one_of(st.floats(allow_nan=True), st.sampled_from([1.0, 0.5, 0.25])), max_size=40
    ),
)
def test_the_plateaus_host_step_is_its_array_step(config: dict, metrics: list[float]) -> None:
    plateau = from_config(config)
    host = plateau._host(plateau.init())
    arrays = plateau.init()
    assert isinstance(host.lr, float) and not isinstance(arrays.lr, float)
    for metric in metrics:
        host = plateau.update(host, metric)
        arrays = plateau.update(arrays, metric)
        for a, b in zip(host, arrays, strict=True):
            assert a == float(b) or (math.isnan(a) and math.isnan(float(b)))


PHASED_CHILDREN = [
    {"name": "OneCycleLR", "max_lr": 0.1, "total_steps": 400},
    {"name": "hf.LinearWithWarmup", "base_lr": 0.1, "num_warmup_steps": 50,
     "num_training_steps": 300},
    {"name": "hf.WarmupStableDecay", "base_lr": 0.1, "num_warmup_steps": 30,
     "num_stable_steps": 100, "num_decay_steps": 100},
    {"name": "MultiplicativeLR", "base_lr": 0.1, "lr_lambda": 0.99},
]


def _composite(kind: str, first: dict, later: dict, at: int) -> Any:
    if kind == "sequential":
        config = {"name": "SequentialLR", "schedulers": [first, later], "milestones": [at]}
        return from_config(config)
    if kind == "join":
        return lrfun.join([from_config(first), from_config(later)], [at])
    return lrfun.Warmup(from_config(later), warmup_steps=at, mode="prefix")


@given(
    kind=st.sampled_from(["sequential", "join", "prefix"]),
    first=st.sampled_from([FIRST[0], PHASED_CHILDREN[0]]),
    later=st.sampled_from(PHASED_CHILDREN),
    at=st.integers(1, 1200),
    start=st.integers(0, 1500),
    shuffled=st.booleans(),
)
def test_a_composite_gives_each_child_the_steps_it_sees(
    kind: str, first: dict, later: dict, at: int, start: int, shuffled: bool
) -> None:
    """A child restarted at a milestone sees the steps less the milestone: a block of host
    steps past it takes that child's phases at those steps (not at the block's)."""
    if kind == "join" and later["name"] == "MultiplicativeLR":
        later = PHASED_CHILDREN[1]  # a join's children are closed forms
    schedule = _composite(kind, first, later, at)
    step = np.arange(start, start + 300, dtype=np.int64)
    if shuffled:
        step = np.random.default_rng(start).permutation(step)
    got = np.asarray(schedule(step))
    one_by_one = np.asarray([float(schedule(int(k))) for k in step])
    np.testing.assert_allclose(got, one_by_one, rtol=RTOL, atol=ATOL_FRAC * 0.1)


def test_the_adapter_writes_a_phased_later_childs_lrs() -> None:
    import torch

    import lrfun.torch

    schedule = lrfun.SequentialLR(
        [lrfun.LinearLR(0.1, 0.01, total_iters=500), lrfun.OneCycleLR(0.1, total_steps=2000)],
        [500],
    )
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = lrfun.torch.Scheduler(opt, schedule)
    written = []
    for _ in range(1100):
        opt.step()
        sched.step()
        written.append(opt.param_groups[0]["lr"])
    expected = [schedule(k) for k in range(1, 1101)]
    np.testing.assert_allclose(written, expected, rtol=RTOL, atol=ATOL_FRAC * 0.1)
