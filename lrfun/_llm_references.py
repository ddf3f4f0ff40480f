"""The LLM frameworks' schedule functions, transcribed in plain Python from their pinned
sources: the references ``lrfun.llm``'s presets are held to (``FunctionReference``).

Each function is the upstream code with its configuration read from the preset's fields;
where the upstream code raises (a division by zero, an assertion), the value is NaN: the
framework defines no lr there. Sources:

* OLMo-core ``src/olmo_core/optim/scheduler.py`` at
  ``fa6c5014c9f6e9ee789da2d9c20d5126fee8df0d`` (v2.5.0 and 29 commits: ``PowerLR``);
* nanotron ``src/nanotron/helpers.py`` (``lr_scheduler_builder``) and
  ``src/nanotron/config/config.py`` (``LRSchedulerArgs``) at
  ``2411b022a75fb7f7561a1bb4166706da5e1b76de``;
* torchtitan ``torchtitan/components/optimizer/lr_scheduler.py``
  (``LRSchedulersContainer.Config.build``) at ``b5bcd76c66d0acb1a08b176d9639425bc55e0b2a``;
* big_vision ``big_vision/utils.py`` (``create_learning_rate_schedule``) at
  ``0127fb6b337ee2a27bf4e54dea79cff176527356`` (in float64: big_vision's last line casts
  to float32);
* epfml/schedules-and-scaling (Hägele et al., 2024) ``src/optim/utils.py``
  (``wsd_schedule``) at ``ce6b4055b1e37418d79b892c43a8d6eea04c69f8``.
"""

# The upstream code is copied as it is written (its casts and list building included).
# ruff: noqa: RUF005, RUF046

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["REFERENCES"]


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


def _linear_warmup(initial_lr: float, current: int, warmup: int, warmup_min_lr: float = 0.0) -> Any:
    return warmup_min_lr + (initial_lr - warmup_min_lr) * min(current, warmup) / warmup


def _linear_decay(
    initial_lr: float, step_from_end: int, decay: int, decay_min_lr: float = 0.0
) -> Any:
    return decay_min_lr + (initial_lr - decay_min_lr) * min(step_from_end, decay) / decay


def _olmo_length(steps: int | None, fraction: float | None, t_max: int) -> int:
    if steps is None:
        assert fraction is not None
        return round(t_max * fraction)
    return steps


def olmo_wsd(s: Any, steps: np.ndarray) -> np.ndarray:
    def get_lr(initial_lr: float, current: int) -> Any:
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
    def get_lr(initial_lr: float, current: int) -> Any:
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
    def get_lr(initial_lr: float, current: int) -> Any:
        warmup = _olmo_length(s.warmup, s.warmup_fraction, s.max_steps)
        if current < warmup:
            return _linear_warmup(initial_lr, current, warmup, s.warmup_min_lr)
        eta_min = initial_lr * s.alpha_f
        return eta_min + (initial_lr - eta_min) * math.sqrt(warmup / current)

    return _per_step(get_lr, s, steps)


def olmo_power_lr(s: Any, steps: np.ndarray) -> np.ndarray:
    def get_lr(initial_lr: float, current: int) -> Any:
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

    def peak(initial_lr: float, pidx: int) -> Any:
        return initial_lr if multipliers is None else initial_lr * multipliers[pidx]

    def get_lr(initial_lr: float, current: int) -> Any:
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

    def lr_lambda(initial_lr: float, current_step: int) -> Any:
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

    def linear_warmup_stable_decay(initial_lr: float, current_step: int) -> Any:
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

    def step_fn(base: float, step: int) -> Any:
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

    def schedule(base: float, step: int) -> Any:
        return base * factor(step)

    def factor(step: int) -> Any:
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


REFERENCES: dict[str, Callable[[Any, np.ndarray], np.ndarray]] = {
    "olmo_wsd": olmo_wsd,
    "olmo_cos_with_warmup": olmo_cos_with_warmup,
    "olmo_inv_sqrt_with_warmup": olmo_inv_sqrt_with_warmup,
    "olmo_power_lr": olmo_power_lr,
    "olmo_wsds": olmo_wsds,
    "nanotron_lr": nanotron_lr,
    "torchtitan_lr": torchtitan_lr,
    "big_vision_lr": big_vision_lr,
    "hagele_wsd": hagele_wsd,
}
