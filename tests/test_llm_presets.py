"""The LLM frameworks' presets (``lrfun.llm``), held at every step to the frameworks' own
code, transcribed here in plain Python from the pinned sources -- independently of lrfun's
formulas:

* OLMo-core ``src/olmo_core/optim/scheduler.py`` at ``fa6c5014c9f6e9ee789da2d9c20d5126fee8df0d``;
* nanotron ``src/nanotron/helpers.py`` (``lr_scheduler_builder``) and
  ``src/nanotron/config/config.py`` at ``2411b022a75fb7f7561a1bb4166706da5e1b76de``;
* torchtitan ``torchtitan/components/optimizer/lr_scheduler.py`` at
  ``b5bcd76c66d0acb1a08b176d9639425bc55e0b2a``;
* big_vision ``big_vision/utils.py`` (``create_learning_rate_schedule``) at
  ``0127fb6b337ee2a27bf4e54dea79cff176527356``, in float64;
* epfml/schedules-and-scaling ``src/optim/utils.py`` (``wsd_schedule``) at
  ``ce6b4055b1e37418d79b892c43a8d6eea04c69f8``.

Every class is drawn over its whole argument space (its ``_strategy``) and compared at
steps 0..420 in float64 (NumPy; rtol 1e-12, atol 1e-12 x the largest lr) and float32 (JAX
under jit, torch; rtol 1e-5, atol 1e-6 x the largest lr). Where the framework's code
raises (NaN here) or, past the end of training, extrapolates below its floor, lrfun's
documented value is checked instead.
"""

# The upstream code is copied as it is written (its casts and list building included).
# ruff: noqa: RUF005, RUF046

from __future__ import annotations

import json
import math
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
import lrfun.llm
from lrfun._schedule import names, registered
from lrfun._spec import parse, to_spec

# -- the frameworks' code, transcribed (a copy of the upstream functions) --------------------


def _per_step(fn: Callable[[float, int], float], schedule: Any, steps: np.ndarray) -> np.ndarray:
    """``fn(initial_lr, step)`` for every group's base lr and step; NaN where it raises."""
    base = schedule.base_lr
    bases = list(base) if isinstance(base, tuple) else [base]
    rows = []
    for k in np.asarray(steps).reshape(-1).tolist():
        row = []
        for b in bases:
            try:
                row.append(float(fn(float(b), max(int(k), 0))))
            except (ZeroDivisionError, AssertionError, TypeError):
                row.append(math.nan)
        rows.append(row)
    out = np.asarray(rows, dtype=np.float64)
    return out if isinstance(base, tuple) else out[:, 0]


# -- OLMo-core ------------------------------------------------------------------------------


def _linear_warmup(
    initial_lr: float, current: int, warmup: int, warmup_min_lr: float = 0.0
) -> float:
    return warmup_min_lr + (initial_lr - warmup_min_lr) * min(current, warmup) / warmup


def _linear_decay(
    initial_lr: float, step_from_end: int, decay: int, decay_min_lr: float = 0.0
) -> float:
    return decay_min_lr + (initial_lr - decay_min_lr) * min(step_from_end, decay) / decay


def _olmo_length(steps: int | None, fraction: float | None, t_max: int) -> int:
    if steps is None:
        assert fraction is not None
        return round(t_max * fraction)
    return steps


def olmo_wsd(s: Any, steps: np.ndarray) -> np.ndarray:
    def get_lr(initial_lr: float, current: int) -> float:
        t_max = s.max_steps
        warmup = _olmo_length(s.warmup, s.warmup_fraction, t_max)
        if current <= warmup:
            return _linear_warmup(initial_lr, current, warmup, s.warmup_min_lr)
        decay = _olmo_length(s.decay, s.decay_fraction, t_max)
        if current >= t_max - decay:
            return _linear_decay(initial_lr, t_max - current, decay, s.decay_min_lr)
        return initial_lr

    return _per_step(get_lr, s, steps)


def olmo_cos_with_warmup(s: Any, steps: np.ndarray) -> np.ndarray:
    def get_lr(initial_lr: float, current: int) -> float:
        t_max = s.max_steps if s.t_max is None else s.t_max
        eta_min = initial_lr * s.alpha_f
        warmup = _olmo_length(s.warmup, s.warmup_fraction, t_max)
        if current < warmup:
            return _linear_warmup(initial_lr, current, warmup, s.warmup_min_lr)
        elif current >= t_max:
            return eta_min
        else:
            current = current - warmup
            t_max = t_max - warmup
            return eta_min + (initial_lr - eta_min) * (1 + math.cos(math.pi * current / t_max)) / 2

    return _per_step(get_lr, s, steps)


def olmo_inv_sqrt_with_warmup(s: Any, steps: np.ndarray) -> np.ndarray:
    def get_lr(initial_lr: float, current: int) -> float:
        warmup = _olmo_length(s.warmup, s.warmup_fraction, s.max_steps)
        if current < warmup:
            return _linear_warmup(initial_lr, current, warmup, s.warmup_min_lr)
        eta_min = initial_lr * s.alpha_f
        return eta_min + (initial_lr - eta_min) * math.sqrt(warmup / current)

    return _per_step(get_lr, s, steps)


def olmo_power_lr(s: Any, steps: np.ndarray) -> np.ndarray:
    def get_lr(initial_lr: float, current: int) -> float:
        t_max = s.max_steps
        warmup = _olmo_length(s.warmup, s.warmup_fraction, t_max)
        decay = _olmo_length(s.decay, s.decay_fraction, t_max)
        if current <= warmup:
            return _linear_warmup(initial_lr, current, warmup, s.warmup_min_lr)
        if current >= t_max - decay:
            lr_start_tail = initial_lr * ((t_max - decay) / warmup) ** s.b
            return _linear_decay(lr_start_tail, t_max - current, decay, s.decay_min_lr)
        return initial_lr * (current / warmup) ** s.b

    return _per_step(get_lr, s, steps)


def olmo_wsds(s: Any, steps: np.ndarray) -> np.ndarray:
    lengths = list(s.period_lengths)
    multipliers = None if s.period_lr_multipliers is None else list(s.period_lr_multipliers)

    def resolve_decay(length: int) -> int:
        if s.decay is not None:
            return int(s.decay)
        return int(round(s.decay_fraction * length))

    warmup_steps = (
        int(s.warmup) if s.warmup is not None else int(round(s.warmup_fraction * lengths[0]))
    )
    adjusted = [lengths[0] - warmup_steps] + lengths[1:]
    cum_end = np.cumsum(adjusted).tolist()

    def find_period(x: int) -> int:
        for idx, end in enumerate(cum_end):
            if x <= end:
                return idx
        return len(cum_end) - 1

    def peak(initial_lr: float, pidx: int) -> float:
        return initial_lr if multipliers is None else initial_lr * multipliers[pidx]

    def get_lr(initial_lr: float, current: int) -> float:
        if current < warmup_steps:
            return _linear_warmup(peak(initial_lr, 0), current, warmup_steps, s.warmup_min_lr)
        adjusted_current = current - warmup_steps
        if adjusted_current >= cum_end[-1]:
            return s.decay_min_lr
        pidx = find_period(adjusted_current)
        start = 0 if pidx == 0 else cum_end[pidx - 1]
        length = adjusted[pidx]
        pos = min(max(adjusted_current - start, 0), length)
        decay = resolve_decay(lengths[pidx])
        stable = length - decay
        if pos < stable:
            return peak(initial_lr, pidx)
        t = pos - stable
        return _linear_decay(peak(initial_lr, pidx), decay - t, decay, s.decay_min_lr)

    return _per_step(get_lr, s, steps)


# -- nanotron -------------------------------------------------------------------------------


def nanotron_lr(s: Any, steps: np.ndarray) -> np.ndarray:
    learning_rate = s._learning_rate
    min_decay_lr = s._min_decay_lr
    total_training_steps = s.total_training_steps
    if s.lr_decay_steps is None:
        lr_decay_steps = total_training_steps
        if s.lr_warmup_steps is not None:
            lr_decay_steps -= s.lr_warmup_steps
        if s.lr_decay_starting_step is not None:
            lr_decay_steps -= s.lr_decay_starting_step
    else:
        lr_decay_steps = s.lr_decay_steps
    if s.lr_decay_starting_step is None:
        lr_decay_starting_step = s.lr_warmup_steps if s.lr_warmup_steps is not None else 0
    else:
        lr_decay_starting_step = s.lr_decay_starting_step

    def lr_lambda(initial_lr: float, current_step: int) -> float:
        if s.lr_warmup_steps == 0 and lr_decay_steps == 0:
            # returned as the lambda itself, not normalised: LambdaLR gives initial_lr ** 2
            return initial_lr * initial_lr
        elif s.lr_warmup_style is not None and current_step <= s.lr_warmup_steps:
            if s.lr_warmup_style == "linear":
                lmbda = initial_lr * current_step / max(s.lr_warmup_steps, 1)
            else:
                lmbda = learning_rate
        elif current_step < lr_decay_starting_step:
            lmbda = initial_lr
        elif current_step < lr_decay_starting_step + lr_decay_steps:
            since = current_step - lr_decay_starting_step
            if s.lr_decay_style == "cosine":
                lmbda = (
                    min_decay_lr
                    + (initial_lr - min_decay_lr)
                    * (1 + math.cos(math.pi * since / lr_decay_steps))
                    / 2
                )
            elif s.lr_decay_style == "linear":
                lmbda = (
                    min_decay_lr
                    + (initial_lr - min_decay_lr) * (lr_decay_steps - since) / lr_decay_steps
                )
            else:
                lmbda = min_decay_lr + (initial_lr - min_decay_lr) * (
                    1 - math.sqrt(since / lr_decay_steps)
                )
        else:
            lmbda = min_decay_lr
        lmbda /= initial_lr  # Normalization for pytorch
        # torch's LambdaLR: base_lr * lr_lambda(step)
        return initial_lr * lmbda

    return _per_step(lr_lambda, s, steps)


# -- torchtitan -----------------------------------------------------------------------------


def torchtitan_lr(s: Any, steps: np.ndarray) -> np.ndarray:
    total_steps = s.training_steps if s.total_steps is None else s.total_steps
    warmup_steps = int(s.warmup_steps)
    if warmup_steps > total_steps:
        warmup_steps = total_steps
    if s.decay_ratio is not None:
        decay_steps = round(total_steps * s.decay_ratio)
        if warmup_steps + decay_steps > total_steps:
            decay_steps = total_steps - warmup_steps
    else:
        decay_steps = total_steps - warmup_steps
    stable_steps = total_steps + 1 - warmup_steps - decay_steps

    def linear_warmup_stable_decay(initial_lr: float, current_step: int) -> float:
        warmup_stable_steps = warmup_steps + stable_steps
        if current_step < warmup_steps:
            current_step += 1
            assert warmup_steps != 0
            curr_adjustment = float(current_step / warmup_steps)
        elif current_step < warmup_stable_steps:
            curr_adjustment = 1.0
        else:
            current_step += 1
            assert decay_steps != 0
            progress = float(current_step - warmup_stable_steps) / decay_steps
            if s.decay_type == "linear":
                curr_adjustment = 1 - progress
            elif s.decay_type == "sqrt":
                curr_adjustment = 1 - math.sqrt(progress)
            else:
                curr_adjustment = 0.5 * (1.0 + math.cos(math.pi * progress))
            curr_adjustment = s.min_lr_factor + (1 - s.min_lr_factor) * curr_adjustment
        return initial_lr * curr_adjustment

    return _per_step(linear_warmup_stable_decay, s, steps)


# -- big_vision -----------------------------------------------------------------------------


def big_vision_lr(s: Any, steps: np.ndarray) -> np.ndarray:
    total_steps, warmup_steps, cooldown_steps = s.total_steps, s.warmup_steps, s.cooldown_steps

    def step_fn(base: float, step: int) -> float:
        lr = base
        progress = (step - warmup_steps) / float(total_steps - warmup_steps)
        progress = float(np.clip(progress, 0.0, 1.0))
        if s.decay_type in ("linear", "polynomial"):
            zero = s.end
            lr = zero + (lr - zero) * (1.0 - progress) ** s.power
        elif s.decay_type == "cosine":
            lr = lr * 0.5 * (1.0 + math.cos(math.pi * progress))
        else:  # rsqrt
            t, shift = s.timescale, s.shift
            if warmup_steps <= step:
                lr = lr / math.sqrt(1 + (step + shift - warmup_steps) / t)
            else:
                lr = lr / math.sqrt(1 + shift / t)
        if warmup_steps:
            lr = lr * min(1.0, step / warmup_steps)
        if cooldown_steps:
            lr = lr * min(1.0, (total_steps - step) / cooldown_steps)
        return lr

    return _per_step(step_fn, s, steps)


# -- Hägele et al. (2024) -------------------------------------------------------------------


def hagele_wsd(s: Any, steps: np.ndarray) -> np.ndarray:
    n_iterations, final_lr_factor = s.n_iterations, s.final_lr_factor
    n_warmup, init_div_factor = s.n_warmup, s.init_div_factor
    n_anneal_steps = int(s.fract_decay * n_iterations)
    n_hold = n_iterations - n_anneal_steps
    decay_type = s.decay_type

    def schedule(base: float, step: int) -> float:
        return base * factor(step)

    def factor(step: int) -> float:
        if step < n_warmup:
            return (step / n_warmup) + (1 - step / n_warmup) / init_div_factor
        elif step < n_hold:
            return 1.0
        elif step < n_iterations:
            if decay_type == "linear":
                return final_lr_factor + (1 - final_lr_factor) * (
                    1 - (step - n_hold) / n_anneal_steps
                )
            elif decay_type == "exp":
                return final_lr_factor ** ((step - n_hold) / n_anneal_steps)
            elif decay_type == "cosine":
                return (
                    final_lr_factor
                    + (1 - final_lr_factor)
                    * (1 + math.cos(math.pi * (step - n_hold) / n_anneal_steps))
                    * 0.5
                )
            elif decay_type == "miror_cosine":
                cosine_value = (
                    final_lr_factor
                    + (1 - final_lr_factor)
                    * (1 + math.cos(math.pi * (step - n_hold) / n_anneal_steps))
                    * 0.5
                )
                linear_value = final_lr_factor + (1 - final_lr_factor) * (
                    1 - (step - n_hold) / n_anneal_steps
                )
                return linear_value * 2 - cosine_value
            elif decay_type == "square":
                return final_lr_factor + (1 - final_lr_factor) * (
                    1 - ((step - n_hold) / n_anneal_steps) ** 2
                )
            else:  # sqrt
                return final_lr_factor + (1 - final_lr_factor) * (
                    1 - math.sqrt((step - n_hold) / n_anneal_steps)
                )
        else:
            return final_lr_factor

    return _per_step(schedule, s, steps)


TRANSCRIPTIONS: dict[str, Callable[[Any, np.ndarray], np.ndarray]] = {
    "olmo.WSD": olmo_wsd,
    "olmo.CosWithWarmup": olmo_cos_with_warmup,
    "olmo.InvSqrtWithWarmup": olmo_inv_sqrt_with_warmup,
    "olmo.PowerLR": olmo_power_lr,
    "olmo.WSDS": olmo_wsds,
    "nanotron.LrScheduler": nanotron_lr,
    "torchtitan.LinearWarmupStableDecay": torchtitan_lr,
    "big_vision.LearningRateSchedule": big_vision_lr,
    "hagele.WsdSchedule": hagele_wsd,
}

NAMES = sorted(TRANSCRIPTIONS)
STEPS = np.arange(421)


def _end(s: Any) -> int | None:
    """The last step of training where the framework's formula extrapolates past it (lrfun
    holds the lr of that step after it); None where it holds its own floor."""
    if s._name in ("olmo.WSD", "olmo.PowerLR"):  # the warmup may run past max_steps
        return max(
            int(s.max_steps),
            s.warmup if s.warmup is not None else round(s.max_steps * s.warmup_fraction),
        )
    if s._name == "torchtitan.LinearWarmupStableDecay":
        return s._phases()[0]
    if s._name == "big_vision.LearningRateSchedule":
        return int(s.total_steps)
    return None


def _check(ours: Any, truth: np.ndarray, dtype: str, scale: float) -> float:
    """The worst error as a fraction of the tolerance (asserted <= 1)."""
    ours = np.asarray(ours, dtype=np.float64)
    rtol, atol = (1e-12, 1e-12) if dtype == "float64" else (1e-5, 1e-6)
    tolerance = rtol * np.abs(truth) + atol * scale
    error = np.abs(ours - truth)
    fraction = float(np.max(error / np.maximum(tolerance, 1e-300), initial=0.0))
    assert np.all(error <= tolerance), (dtype, fraction, np.argmax(error - tolerance))
    return fraction


def _where_defined(s: Any, truth: np.ndarray) -> np.ndarray:
    """The steps where the framework defines the lr and lrfun reproduces it."""
    mask = np.isfinite(truth)
    end = _end(s)
    if end is not None:
        mask &= (STEPS <= end).reshape((-1,) + (1,) * (truth.ndim - 1))
    return mask


@pytest.mark.parametrize("name", NAMES)
@settings(deadline=None, max_examples=max(2, settings().max_examples * 3 // 5))
@given(data=st.data())
def test_every_step_is_the_frameworks(name: str, data: st.DataObject) -> None:
    groups = data.draw(st.sampled_from([None, st.integers(1, 3)]), label="groups")
    config = data.draw(registered(name)._strategy(groups), label="config")  # type: ignore[union-attr]
    s = lrfun.from_config(config)
    truth = TRANSCRIPTIONS[name](s, STEPS)
    mask = _where_defined(s, truth)
    scale = float(np.max(np.abs(np.where(mask, truth, 0.0)), initial=0.0)) or 1.0
    ours64 = np.asarray(s(STEPS))
    _check(ours64[mask], truth[mask], "float64", scale)
    ours_jax = np.asarray(jax.jit(lambda sch, k: sch(k))(s, jnp.asarray(STEPS)))
    assert ours_jax.dtype == np.float32
    _check(ours_jax[mask], truth[mask], "float32", scale)
    ours_torch = s(torch.as_tensor(STEPS)).numpy()
    _check(ours_torch[mask], truth[mask], "float32", scale)
    # where the framework defines no lr, or extrapolates past its end: lrfun's own value,
    # finite, never negative, and past the end the lr of the last step
    assert np.all(np.isfinite(ours64)) and np.all(ours64 >= 0)
    end = _end(s)
    if end is not None and end < STEPS[-1]:
        # OLMo-core's presets hold decay_min_lr, the others the lr of their last step
        held = getattr(s, "decay_min_lr", None)
        held = ours64[end] if held is None else held
        after = ours64[end + 1 :]
        np.testing.assert_allclose(after, np.broadcast_to(held, after.shape), rtol=1e-12, atol=0)
    # a Python step is the same number
    assert s(7) == pytest.approx(ours64[7], rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("name", NAMES)
def test_the_reference_is_the_frameworks_code(name: str) -> None:
    """The class's reference (what the parity harness and ``lrfun plot --torch`` run) gives
    the transcription's values."""
    cls = registered(name)
    assert cls is not None and cls._gallery is not None
    s = parse(cls._gallery[0])
    np.testing.assert_array_equal(cls._reference.function(s, STEPS), TRANSCRIPTIONS[name](s, STEPS))  # type: ignore[union-attr]
    assert type(s) is cls and getattr(lrfun.llm, cls.__name__) is cls
    assert lrfun.from_config(json.loads(json.dumps(s.to_config()))) == s
    assert parse(to_spec(s)) == s


def test_every_class_is_public_and_registered() -> None:
    ours = {
        n
        for ns in ("olmo.", "nanotron.", "torchtitan.", "big_vision.", "hagele.")
        for n in names(ns)
    }
    assert ours == set(NAMES)
    assert sorted(lrfun.llm.__all__) == sorted(registered(n).__name__ for n in NAMES)  # type: ignore[union-attr]


def test_a_sweep_is_a_vmap() -> None:
    s = lrfun.llm.WSD(1.0, max_steps=100, warmup=10, decay_fraction=0.2)
    stacked = jax.tree.map(
        lambda *x: jnp.stack(x), s, lrfun.llm.WSD(0.5, max_steps=100, warmup=10, decay_fraction=0.2)
    )
    out = jax.vmap(lambda sch: sch(jnp.arange(101)))(stacked)
    np.testing.assert_allclose(out[1], 0.5 * out[0], rtol=1e-6)


def test_what_the_frameworks_leave_undefined() -> None:
    # nanotron: with neither warmup nor decay its lambda is the lr itself: base_lr ** 2
    assert lrfun.llm.LrScheduler(0.1, 0)(5) == pytest.approx(0.01, rel=1e-15)
    assert nanotron_lr(lrfun.llm.LrScheduler(0.1, 0), np.array([5]))[0] == pytest.approx(0.01)
    # nanotron's min_decay_lr defaults to its learning_rate: no decay at all
    assert lrfun.llm.LrScheduler(0.1, 100, lr_warmup_steps=10)(90) == pytest.approx(0.1)
    # OLMo-core: no warmup divides 0 by 0 at step 0; lrfun gives the lr after it
    s = lrfun.llm.WSD(1.0, max_steps=10, warmup=0, decay=2, decay_fraction=None)
    assert math.isnan(olmo_wsd(s, np.array([0]))[0]) and s(0) == 1.0
    # past max_steps OLMo-core's linear decay goes negative; lrfun holds decay_min_lr
    assert olmo_wsd(s, np.array([12]))[0] == -1.0 and s(12) == 0.0
    # torchtitan asserts past its last step when there is no decay; lrfun holds the lr
    t = lrfun.llm.LinearWarmupStableDecay(1.0, 10, warmup_steps=10)
    assert math.isnan(torchtitan_lr(t, np.array([11]))[0]) and t(11) == 1.0
    # big_vision's cooldown goes negative past total_steps; lrfun holds 0
    b = lrfun.llm.LearningRateSchedule(1.0, 10, "rsqrt", cooldown_steps=5)
    assert big_vision_lr(b, np.array([12]))[0] < 0 and b(12) == 0.0


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: lrfun.llm.WSD(1.0, 100), ValueError, "exactly one of warmup and warmup_fraction"),
        (
            lambda: lrfun.llm.WSD(1.0, 100, warmup=1, decay=3),
            ValueError,
            "decay and decay_fraction",
        ),
        (lambda: lrfun.llm.WSD(1.0, 100, warmup_fraction=1.5), ValueError, "warmup_fraction"),
        (lambda: lrfun.llm.WSD(1.0, -1, warmup=1), ValueError, "max_steps"),
        (lambda: lrfun.llm.PowerLR(1.0, 100, warmup=0), ValueError, "at least 1 step"),
        (lambda: lrfun.llm.PowerLR(1.0, 100, b=0.5, warmup=2), ValueError, "b must be"),
        (
            lambda: lrfun.llm.PowerLR(1.0, 10, warmup=2, decay=10, decay_fraction=None),
            ValueError,
            "max_steps",
        ),
        (lambda: lrfun.llm.WSDS(1.0, [], warmup=0, decay=0), ValueError, "period_lengths"),
        (lambda: lrfun.llm.WSDS(1.0, [10], warmup=8, decay=4), ValueError, "first period"),
        (
            lambda: lrfun.llm.WSDS(1.0, [10, 5], [1.0], warmup=0, decay=1),
            ValueError,
            "one value per period",
        ),
        (lambda: lrfun.llm.LrScheduler(0.0, 10), ValueError, "base_lr"),
        (
            lambda: lrfun.llm.LrScheduler(0.1, 10, lr_warmup_style="cosine"),
            ValueError,
            "lr_warmup_style",
        ),
        (lambda: lrfun.llm.LrScheduler([0.1, 0.2], 10), ValueError, "learning_rate"),
        (
            lambda: lrfun.llm.LinearWarmupStableDecay(1.0, 10, decay_type="exp"),
            ValueError,
            "decay_type",
        ),
        (
            lambda: lrfun.llm.LinearWarmupStableDecay(1.0, 10, decay_ratio=2.0),
            ValueError,
            "decay_ratio",
        ),
        (lambda: lrfun.llm.LearningRateSchedule(1.0, 10, "stair"), ValueError, "decay_type"),
        (
            lambda: lrfun.llm.LearningRateSchedule(1.0, 10, "rsqrt", warmup_steps=10),
            ValueError,
            "warmup_steps",
        ),
        (
            lambda: lrfun.llm.LearningRateSchedule(1.0, 10, "linear", power=1e-300),
            ValueError,
            "power",
        ),
        (lambda: lrfun.llm.WsdSchedule(1.0, 10, decay_type="mirror"), ValueError, "decay_type"),
        (
            lambda: lrfun.llm.WsdSchedule(1.0, 10, init_div_factor=0.0),
            ValueError,
            "init_div_factor",
        ),
        (lambda: lrfun.llm.WsdSchedule(1.0, 10.5), TypeError, "n_iterations"),
    ],
)
def test_bad_arguments_name_themselves(build: Callable[[], Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()
