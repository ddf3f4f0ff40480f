"""Long horizons: float32 stays within tolerance of float64 up to optax's last int32 count,
and float64 matches torch up to 2**53.

JAX computes in float32 by default and optax counts are int32, so every closed-form schedule
is evaluated there at steps near 2**24 (where float32 stops holding every integer), 10**8 and
2**31 - 1, with periods and horizons from torch's usual ranges and past int32, and compared
with its float64 value (NumPy) under the float32 parity tolerance. float64 (NumPy and JAX
with x64) is compared with torch itself near 2**53: through torch's closed form
(``scheduler.step(epoch)``) where torch's arithmetic is exact there, at the epoch itself where
lrfun reproduces torch's arithmetic (CyclicLR's float phase), and at the equivalent epoch of
the period where neither holds (torch's own cosine loses its phase: measured below). Where
torch's own float recurrences drift at long horizons (CyclicLR with short cycles,
PolynomialLR near the end of a long ``total_iters``), torch is stepped live and measured.

LambdaLR, MultiplicativeLR and CyclicLR's ``scale_fn`` run user functions, which are out of
scope at these horizons; growing decays (gamma > 1) leave float32's range long before 2**31.
"""

from __future__ import annotations

import math
import re
import warnings
from fractions import Fraction
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
from hypothesis import given, reject
from hypothesis import strategies as st

import lrfun
import lrfun.optax
from parity import assert_close, compare, lr_scale, torch_scheduler
from parity.strategies import NAMES, configs

_INT32_MAX = 2**31 - 1
# Where float32 stops holding every integer, a typical long run, and optax's last count.
_ANCHORS = (2**24, 10**8, _INT32_MAX)
# The schedules with a closed form of their own (user functions are out of scope).
_LONG = tuple(n for n in NAMES if n not in ("LambdaLR", "MultiplicativeLR"))
# Integer arguments that set a period or a horizon.
_PERIODS = ("step_size", "T_max", "T_0", "step_size_up", "step_size_down", "total_iters")
_huge = st.one_of(
    st.sampled_from([2**24 - 1, 2**24 + 1, 10**8, 2**30, 2**30 + 1, _INT32_MAX, 2**31, 2**32 + 3]),
    st.integers(1, 2**34),
)


@st.composite
def long_configs(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """A config of ``name`` from torch's usual ranges, its periods and horizons sometimes as
    long as an int32 count or longer; no user function, no growth."""
    # One value per argument: param groups do not change the arithmetic, and one shape of
    # result lets eager JAX reuse its compiled operations from one example to the next.
    config = {
        k: v[0] if isinstance(v, list) and k != "milestones" else v
        for k, v in draw(configs(name)).items()
    }
    config.pop("scale_fn", None)
    config.pop("scale_mode", None)
    if name == "CyclicLR":
        # float32 takes whole cycle lengths in integers; a fractional one carries float32's
        # rounding of 1 + t / T, which no tolerance holds at these steps (docs/torch-quirks).
        for key, least in (("step_size_up", 1), ("step_size_down", 0)):
            if isinstance(config[key], float):
                config[key] = max(least, round(config[key]))
    if name != "CyclicLR" and config.get("gamma", 0.0) > 1.0:
        config["gamma"] = 1.0 / config["gamma"]
    if draw(st.booleans()):
        for key in _PERIODS:
            if key in config and draw(st.booleans()):
                config[key] = draw(_huge)
        if "milestones" in config:
            config["milestones"] = [*config["milestones"], *draw(st.lists(_huge, max_size=3))]
        if name == "OneCycleLR" and draw(st.booleans()):
            config.pop("epochs", None)
            config.pop("steps_per_epoch", None)
            config["total_steps"] = draw(_huge)
    return config


@st.composite
def long_steps(draw: st.DrawFn) -> np.ndarray:
    """Steps around each anchor, and anywhere an int32 count reaches, as int64 (always 24 of
    them: one array shape, so eager JAX compiles each operation once)."""
    steps = []
    for anchor in _ANCHORS:
        hi = min(anchor + 10**4, _INT32_MAX)
        steps += [anchor - 1, anchor, min(anchor + 1, _INT32_MAX)]
        steps += draw(st.lists(st.integers(anchor - 10**4, hi), min_size=4, max_size=4))
    steps += draw(st.lists(st.integers(0, _INT32_MAX), min_size=3, max_size=3))
    return np.array(sorted(steps), dtype=np.int64)


def momentum_scale(config: dict[str, Any]) -> float:
    """The largest momentum argument: what the absolute tolerance is relative to (as the
    largest lr is for lrs), however small the momenta at the steps compared."""
    return float(np.max(np.abs(np.hstack([config["base_momentum"], config["max_momentum"]]))))


def build(config: dict[str, Any]) -> Any:
    """The schedule, or a rejected example where widening left a config invalid."""
    try:
        return lrfun.from_config(config)
    except ValueError:  # a widened OneCycleLR whose pct_start leaves a phase empty
        reject()


@pytest.mark.parametrize("name", _LONG)
@given(data=st.data())
def test_float32_within_tolerance_of_float64(name: str, data: st.DataObject) -> None:
    config = data.draw(long_configs(name), label="config")
    schedule = build(config)
    steps = data.draw(long_steps(), label="steps")
    count = jnp.asarray(steps, dtype=jnp.int32)  # optax's count type
    ours = schedule(count)
    assert ours.dtype == jnp.float32
    assert_close(ours, schedule(steps), dtype="float32", scale=lr_scale(config))
    if schedule.cycles_momentum:
        ours, ref = schedule.momentum(count), schedule.momentum(steps)
        scale = momentum_scale(config)
        assert_close(ours, ref, dtype="float32", what="momentum", scale=scale)


# Traced (XLA may rewrite the arithmetic, e.g. x / T into x * (1 / T)): a fixed table of long
# runs, one compile each.
_TRACED = [
    lrfun.StepLR(0.1, step_size=7, gamma=0.999999),
    lrfun.StepLR(0.1, step_size=2**31, gamma=0.5),
    lrfun.MultiStepLR(0.1, milestones=[5, 2**24, _INT32_MAX, 2**40], gamma=0.5),
    lrfun.ConstantLR(0.1, factor=0.5, total_iters=_INT32_MAX),
    lrfun.LinearLR(0.1, start_factor=0.01, total_iters=2**31 + 5),
    lrfun.ExponentialLR(0.1, gamma=1 - 1e-9),
    lrfun.PolynomialLR(0.1, total_iters=2**31, power=0.01),
    lrfun.PolynomialLR(0.1, total_iters=_INT32_MAX, power=2.0),
    lrfun.CosineAnnealingLR(0.1, T_max=3),
    lrfun.CosineAnnealingLR(0.1, T_max=1000, eta_min=1e-3),
    lrfun.CosineAnnealingLR(0.1, T_max=2**30 + 1),
    lrfun.CosineAnnealingLR(0.1, T_max=_INT32_MAX),
    lrfun.CosineAnnealingWarmRestarts(0.1, T_0=7),
    lrfun.CosineAnnealingWarmRestarts(0.1, T_0=7, T_mult=2),
    lrfun.CosineAnnealingWarmRestarts(0.1, T_0=2**31),
    lrfun.CyclicLR(0.01, 0.1, step_size_up=2000),
    lrfun.CyclicLR(0.01, 0.1, step_size_up=1, step_size_down=0, mode="triangular2"),
    lrfun.CyclicLR(0.01, 0.1, step_size_up=3, mode="exp_range", gamma=1 - 1e-9),
    lrfun.CyclicLR(0.01, 0.1, step_size_up=2**30, step_size_down=2**30 + 7),
    lrfun.OneCycleLR(0.1, total_steps=10**8, three_phase=True),
    lrfun.OneCycleLR(0.1, total_steps=2**31 + 100),
    lrfun.SequentialLR(
        [lrfun.LinearLR(0.1, 0.01, total_iters=1000), lrfun.CosineAnnealingLR(0.1, T_max=2**31)],
        milestones=[1000],
    ),
    lrfun.SequentialLR([lrfun.ConstantLR(0.1, 0.5, 10), lrfun.StepLR(0.1, 3)], milestones=[2**32]),
]


@pytest.mark.parametrize("schedule", _TRACED, ids=lambda s: type(s).__name__)
def test_traced_float32_near_int32_max(schedule: Any) -> None:
    steps = np.array(
        [a + d for a in _ANCHORS for d in (-2, -1, 0, 1) if a + d <= _INT32_MAX], dtype=np.int64
    )
    ours = jax.jit(schedule)(jnp.asarray(steps, dtype=jnp.int32))
    scale = float(np.max(schedule(np.arange(0, 10**4, 7))))
    assert_close(ours, schedule(steps), dtype="float32", scale=scale)
    if schedule.cycles_momentum:
        ours = jax.jit(schedule.momentum)(jnp.asarray(steps, dtype=jnp.int32))
        ref = schedule.momentum(steps)
        assert_close(ours, ref, dtype="float32", what="momentum", scale=schedule.max_momentum)


def test_optax_count_saturates_at_int32_max() -> None:
    """optax's count stops at 2**31 - 1 (a saturating increment): the lr then holds."""
    schedule = lrfun.CyclicLR(0.01, 0.1, step_size_up=3, step_size_down=4)
    opt = lrfun.optax.inject(optax.sgd, schedule)
    params = jnp.zeros(2)
    # Every int32 leaf is a count (inject's own, and each wrapped schedule's): a long run
    # that has got this far.
    state = jax.tree.map(
        lambda x: jnp.full_like(x, _INT32_MAX - 3) if x.dtype == jnp.int32 else x,
        opt.init(params),
    )
    update = jax.jit(opt.update)
    lrs, momenta = [], []
    for _ in range(6):
        _, state = update(jnp.ones(2), state, params)
        lrs.append(state.hyperparams["learning_rate"])
        momenta.append(state.hyperparams["momentum"])
    counts = [_INT32_MAX - 3 + k for k in range(4)] + [_INT32_MAX] * 2
    assert int(state.count) == _INT32_MAX
    assert_close(jnp.stack(lrs), schedule(np.array(counts)), dtype="float32", scale=0.1)
    assert_close(jnp.stack(momenta), schedule.momentum(np.array(counts)), dtype="float32")


# float64 against torch near 2**53 ---------------------------------------------------------

# torch's closed form (scheduler.step(epoch)) is exact arithmetic at any epoch for these.
_CLOSED = ("StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR")
_EPOCH_WARNING = "The epoch parameter in `scheduler.step()` was not necessary"


_natives: dict[str, Any] = {}


def torch_at(config: dict[str, Any], epoch: int) -> tuple[list[float], list[float] | None]:
    """The lrs (and momenta) torch's native scheduler sets when stepped to ``epoch`` (these
    values depend on the epoch only, so one scheduler per config serves every epoch)."""
    key = repr(config)
    if key not in _natives:
        _natives.clear()
        opt, sched = torch_scheduler(config)
        opt.step()
        _natives[key] = opt, sched
    opt, sched = _natives[key]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=re.escape(_EPOCH_WARNING), category=UserWarning)
        sched.step(epoch)
    lrs = [float(g["lr"]) for g in opt.param_groups]
    if config["name"] not in ("CyclicLR", "OneCycleLR") or not config["cycle_momentum"]:
        return lrs, None
    return lrs, [float(g["momentum"]) for g in opt.param_groups]


def torch_reference(config: dict[str, Any], epoch: int) -> tuple[list[float], list[float] | None]:
    """torch's value at ``epoch``, through its exact closed form or at the equivalent epoch."""
    name = config["name"]
    if name in _CLOSED:
        return torch_at(config, epoch)
    if name == "CosineAnnealingLR":
        # cos(pi * epoch / T_max) at 2**53 has lost the phase in float64 (measured below);
        # torch's own curve has period 2 * T_max, so the equivalent epoch is exact. A float
        # T_max that is the float of p / q is p / q (lrfun's documented reading): its period
        # in whole steps is 2p / gcd(2, q), where a float remainder by 2 * T_max would carry
        # the float's rounding 2**53 times over.
        period = 2 * config["T_max"]
        fraction = Fraction(config["T_max"]).limit_denominator(2**15)
        if not float(period).is_integer() and float(fraction) == config["T_max"]:
            p, q = fraction.numerator, fraction.denominator
            return torch_at(config, epoch % (2 * p // math.gcd(2, q)))
        return torch_at(config, epoch % period)
    if name == "CosineAnnealingWarmRestarts":
        if config["T_mult"] == 1:
            return torch_at(config, epoch)  # torch takes epoch % T_0: exact
        # torch's step(epoch) finds the restart with a float log: the period and the steps
        # into it, in Python integers, give the same cosine from a fresh T_mult=1 scheduler.
        start, period = 0, config["T_0"]
        while start + period <= epoch:
            start, period = start + period, period * config["T_mult"]
        fresh = {**config, "T_0": period, "T_mult": 1}
        return torch_at(fresh, epoch - start)
    if name == "CyclicLR":
        # lrfun's float64 phase is torch's own float arithmetic: torch at the epoch itself,
        # except where triangular2's 1 / 2.0 ** (cycle - 1) raises OverflowError (1,024
        # cycles in); its 0.5 ** cycles is below any tolerance past 1,000 cycles, so a
        # 1,000th cycle at the same phase stands in there.
        limit = lrfun.from_config(config)._torch_steps()
        if limit is None or epoch <= limit:
            return torch_at(config, epoch)
        total = config["step_size_up"] + (
            config["step_size_up"] if config["step_size_down"] is None else config["step_size_down"]
        )
        return torch_at(config, epoch % total + total * 1000)
    if name == "OneCycleLR":
        total = config.get("total_steps") or config["epochs"] * config["steps_per_epoch"]
        return torch_at(config, min(epoch, total))  # torch refuses to step past total_steps
    raise AssertionError(name)


_TORCH64 = (*_CLOSED, "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR")


@pytest.mark.parametrize("name", _TORCH64)
@given(data=st.data())
def test_float64_matches_torch_near_2_53(name: str, data: st.DataObject) -> None:
    config = dict(data.draw(configs(name), label="config"))
    if config.get("gamma", 0.0) > 1.0 and name != "CyclicLR":
        config["gamma"] = 1.0 / config["gamma"]  # growth overflows Python floats in torch
    if name == "ConstantLR" and config["total_iters"] == 0:
        # torch's closed form removes the factor there; its stepping never does (lrfun
        # follows the stepping: a torch quirk).
        config["total_iters"] = data.draw(st.integers(1, 60), label="total_iters")
    if name == "CyclicLR":
        config.pop("scale_fn", None)  # user functions are out of scope at these horizons
        config.pop("scale_mode", None)
    schedule = lrfun.from_config(config)
    epochs = data.draw(
        st.lists(
            st.one_of(st.integers(2**53 - 10**6, 2**53), st.integers(0, 2**53)),
            min_size=3,
            max_size=3,
        ),
        label="epochs",
    )
    epochs = sorted([2**53, 2**53 - 1, _INT32_MAX, *epochs])
    refs = [torch_reference(config, e) for e in epochs]
    lr = np.array([r[0] for r in refs])
    steps = np.array(epochs, dtype=np.int64)
    ours = np.reshape(schedule(steps), lr.shape)
    assert_close(ours, lr, dtype="float64", scale=lr_scale(config))
    # a Python int: the same value (NumPy's scalar and vector pow may differ by an ulp)
    np.testing.assert_allclose(np.reshape(schedule(epochs[-1]), -1), ours[-1], rtol=1e-15)
    if refs[0][1] is not None:
        momentum = np.array([r[1] for r in refs])
        ours = np.reshape(schedule.momentum(steps), momentum.shape)
        scale = momentum_scale(config)
        assert_close(ours, momentum, dtype="float64", what="momentum", scale=scale)


@pytest.mark.parametrize("schedule", _TRACED, ids=lambda s: type(s).__name__)
def test_traced_x64_equals_numpy_near_2_53(schedule: Any) -> None:
    """JAX with x64 (int64 steps) evaluates as NumPy does, which matches torch above."""
    steps = np.array([2**53 - 1, 2**53, 2**53 + 1, 2**62 + 5, 2**63 - 1], dtype=np.int64)
    with jax.enable_x64(True):
        ours = np.asarray(jax.jit(schedule)(jnp.asarray(steps)))
    scale = float(np.max(schedule(np.arange(0, 10**4, 7))))
    assert_close(ours, schedule(steps), dtype="float64", scale=scale)


def test_python_steps_past_2_53_are_exact() -> None:
    """Python ints are taken exactly as int64: no float rounding of the step anywhere."""
    s = lrfun.CosineAnnealingLR(1.0, T_max=3)
    for step in (2**62, 2**62 + 1, 2**63 - 1):
        assert s(step) == s(step % 6)
    assert lrfun.StepLR(1.0, step_size=2**62, gamma=0.5)(2**63 - 1) == 0.5


def test_torch_closed_form_loses_the_cosine_phase() -> None:
    """torch's CosineAnnealingLR closed form at 2**53 is off by about half the lr range: the
    product pi * epoch has no phase left in float64. lrfun takes the phase in integers."""
    config = {"name": "CosineAnnealingLR", "base_lr": 0.1, "T_max": 3}
    epoch = 2**53
    native = torch_at(config, epoch)[0][0]
    equivalent = torch_at(config, epoch % 6)[0][0]
    assert abs(native - equivalent) > 0.04  # measured: 0.0494 (lr range 0.1)
    assert lrfun.from_config(config)(epoch) == pytest.approx(equivalent, rel=1e-12)
    assert math.isclose(lrfun.from_config(config)(epoch % 6), equivalent, rel_tol=1e-12)


# torch's own float recurrences over long runs -------------------------------------------


def _stepped(native: tuple[Any, Any], steps: int, keep: int) -> np.ndarray:
    """The lrs torch's scheduler sets over its next ``steps`` steps, stepped live one at a
    time; the last ``keep`` of them."""
    opt, sched = native
    group = opt.param_groups[0]
    lrs = []
    for k in range(steps):
        opt.step()
        sched.step()
        if k >= steps - keep:
            lrs.append(float(group["lr"]))
    return np.array(lrs)


def _float64_backends(schedule: Any, steps: np.ndarray) -> dict[str, np.ndarray]:
    """The schedule in float64 on NumPy, jitted JAX with x64 and torch float64 steps."""
    with jax.enable_x64(True):
        jitted = np.asarray(jax.jit(schedule)(jnp.asarray(steps)))
    return {
        "numpy": schedule(steps),
        "jax-x64-jit": jitted,
        "torch-f64": schedule(torch.as_tensor(steps, dtype=torch.float64)).numpy(),
    }


def test_cyclic_lr_float64_is_torchs_phase_over_long_runs() -> None:
    """torch's CyclicLR rounds its phase 1 + t / T to an ulp of t / T, which a short cycle's
    slope multiplies: with up=1, down=2 the exact phase is off torch's value by 7.3x the
    float64 tolerance by step 100,000 (39x by 786,431). lrfun's float64 phase is torch's
    arithmetic, so it is torch's value at every step; float32 keeps the exact phase, within
    its tolerance of torch's."""
    config = {"name": "CyclicLR", "base_lr": 0.0, "max_lr": 1.0, "step_size_up": 1}
    config["step_size_down"] = 2
    n = 100_000
    ref = _stepped(torch_scheduler(config), n, n)
    steps = np.arange(1, n + 1)
    r = steps % 3
    exact = np.where(r <= 1, r, (3 - r) / 2)  # the integer phase's triangle
    far = np.max(np.abs(exact - ref) / (1e-12 + 1e-12 * np.abs(ref)))
    assert far > 5  # measured: 7.28x the float64 tolerance
    schedule = lrfun.from_config(config)
    for backend, ours in _float64_backends(schedule, steps).items():
        np.testing.assert_array_equal(ours, ref, err_msg=backend)
    f32 = schedule(jnp.asarray(steps, dtype=jnp.int32))
    assert_close(f32, ref, dtype="float32", scale=1.0)


@pytest.mark.parametrize("mode", ["triangular2", "exp_range"])
def test_cyclic_lr_float64_modes_are_torchs_over_long_runs(mode: str) -> None:
    """The scaled modes take torch's float phase too (triangular2 up to torch's overflow)."""
    config = {"name": "CyclicLR", "base_lr": 0.01, "max_lr": 0.1, "step_size_up": 1}
    config.update(step_size_down=2, mode=mode, gamma=1 - 1e-6)
    n = 3 * 1024 - 1 if mode == "triangular2" else 100_000
    ref = _stepped(torch_scheduler(config), n, n)
    steps = np.arange(1, n + 1)
    ours = _float64_backends(lrfun.from_config(config), steps)
    worst = {b: compare(v, ref, dtype="float64", scale=0.1).max_fraction for b, v in ours.items()}
    assert max(worst.values()) <= 1.0, worst


def test_polynomial_lr_end_of_a_long_total_iters_follows_torch() -> None:
    """Near the end of total_iters=1e7 with power 0.1, torch's 1 - t / T cancels to a relative
    error of ulp(1) / (1 - t / T), which the power keeps: the exact remaining fraction
    (T - t) / T is off torch's value by 8.8x the float64 tolerance at T - 1. torch's closed
    form and its recursion (whose ratios telescope) both carry it; lrfun's float64 path
    computes torch's 1 - t / T, and the harness allows what is left, torch's recursion
    against its own closed form (``_torch_drifts``: 0.007x the tolerance over the full run),
    measured here over the last 10,000 steps, stepped live from torch's closed form."""
    total, keep = 10**7, 10_000
    config = {"name": "PolynomialLR", "base_lr": 1.0, "total_iters": total, "power": 0.1}
    opt, sched = torch_scheduler(config)
    opt.step()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=re.escape(_EPOCH_WARNING), category=UserWarning)
        sched.step(total - keep)  # torch's closed form there; its recursion from then on
    ref = _stepped((opt, sched), keep, keep)
    steps = np.arange(total - keep + 1, total + 1)
    closed = np.empty_like(ref)
    for i, epoch in enumerate(steps):
        sched.last_epoch = int(epoch)
        closed[i] = float(sched._get_closed_form_lr()[0])
    drift = np.abs(ref - closed)  # what the harness allows for PolynomialLR (_torch_drifts)
    assert lrfun.PolynomialLR._torch_drifts
    exact = ((total - steps) / total) ** 0.1
    assert abs(exact[-2] - ref[-2]) > 5 * (1e-12 + 1e-12 * ref[-2])  # measured: 8.8x
    ours = _float64_backends(lrfun.from_config(config), steps)
    worst = {
        b: compare(v, ref, dtype="float64", slack=drift, scale=1.0).max_fraction
        for b, v in ours.items()
    }
    assert max(worst.values()) <= 1.0, worst


def test_torch_steps_at_float32_counts_agree() -> None:
    """A torch int32 step tensor (a compiled step's counter) gives the float32 values too."""
    schedule = lrfun.CosineAnnealingWarmRestarts(0.1, T_0=5, T_mult=3)
    steps = np.array([2**24 + 1, 10**8 + 3, _INT32_MAX], dtype=np.int64)
    ours = schedule(torch.tensor(steps, dtype=torch.int32))
    assert ours.dtype == torch.get_default_dtype()
    assert_close(ours, schedule(steps), dtype=str(ours.dtype), scale=0.1)
