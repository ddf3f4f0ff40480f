"""transformers' schedules (``transformers.get_scheduler``) as lrfun schedules.

The same names, arguments, defaults and errors as ``transformers.optimization``, minus the
optimizer: its lr becomes ``base_lr`` (a sequence: one per param group) and
``last_epoch`` is gone (a schedule is a function of the step: call it at the step to resume
at). Each function returns a closed form -- one array-API formula, jittable and vmappable,
a JAX pytree -- where transformers returns a torch ``LambdaLR`` that runs Python ``if``\\s
on concrete steps; ``schedule(step)`` is the lr after ``step`` calls of
``scheduler.step()``. This module imports neither transformers nor torch.

>>> from lrfun import hf
>>> s = hf.get_scheduler("cosine", 0.1, num_warmup_steps=10, num_training_steps=110)
>>> type(s).__name__, s.num_cycles
('CosineWithWarmup', 0.5)
>>> s(5), s(10), round(s(60), 12), s(110)
(0.05, 0.1, 0.05, 0.0)

Where transformers reads the optimizer's default lr (``optimizer.defaults["lr"]``:
``polynomial``'s ``lr_init``, ``min_lr`` as a rate), pass it as ``default_lr`` when the
param groups' lrs differ; by default it is their common base lr.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, overload

from lrfun import _validate as check
from lrfun._greedy import GreedyLR, GreedyState
from lrfun._hf import (
    ConstantWithWarmup,
    CosineWarmupWithMinLr,
    CosineWithHardRestarts,
    CosineWithWarmup,
    InverseSqrt,
    LinearWithWarmup,
    PolynomialDecayWithWarmup,
    WarmupStableDecay,
    default_lr,
)
from lrfun._plateau import ReduceLROnPlateau
from lrfun._schedule import Configurable, Schedule
from lrfun._schedule import from_config as _from_config

__all__ = [
    "TYPES",
    "ConstantWithWarmup",
    "CosineWarmupWithMinLr",
    "CosineWithHardRestarts",
    "CosineWithWarmup",
    "GreedyLR",
    "GreedyState",
    "InverseSqrt",
    "LinearWithWarmup",
    "PolynomialDecayWithWarmup",
    "WarmupStableDecay",
    "from_config",
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_greedy_schedule",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_reduce_on_plateau_schedule",
    "get_scheduler",
    "get_wsd_schedule",
]

LrValue = float | Sequence[float]


def get_constant_schedule(base_lr: LrValue) -> ConstantWithWarmup:
    """transformers' ``constant``: ``base_lr`` at every step.

    >>> get_constant_schedule(0.1)(1000)
    0.1
    """
    return ConstantWithWarmup(base_lr, num_warmup_steps=0)


def get_constant_schedule_with_warmup(
    base_lr: LrValue, num_warmup_steps: int
) -> ConstantWithWarmup:
    """transformers' ``constant_with_warmup``: a linear warmup from 0, then ``base_lr``
    ([``ConstantWithWarmup``][lrfun.hf.ConstantWithWarmup])."""
    return ConstantWithWarmup(base_lr, num_warmup_steps=num_warmup_steps)


def get_linear_schedule_with_warmup(
    base_lr: LrValue, num_warmup_steps: int, num_training_steps: int
) -> LinearWithWarmup:
    """transformers' ``linear``: a linear warmup, then a linear decay to 0 at
    ``num_training_steps`` ([``LinearWithWarmup``][lrfun.hf.LinearWithWarmup])."""
    return LinearWithWarmup(base_lr, num_warmup_steps, num_training_steps)


def get_cosine_schedule_with_warmup(
    base_lr: LrValue, num_warmup_steps: int, num_training_steps: int, num_cycles: float = 0.5
) -> CosineWithWarmup:
    """transformers' ``cosine``: a linear warmup, then ``num_cycles`` cosine waves down to 0
    at ``num_training_steps`` (``CosineWithWarmup``: past that step it goes back up,
    as transformers' does)."""
    return CosineWithWarmup(base_lr, num_warmup_steps, num_training_steps, num_cycles)


def get_cosine_with_hard_restarts_schedule_with_warmup(
    base_lr: LrValue, num_warmup_steps: int, num_training_steps: int, num_cycles: int = 1
) -> CosineWithHardRestarts:
    """transformers' ``cosine_with_restarts``: a linear warmup, then ``num_cycles`` half
    cosines restarting at ``base_lr``, and 0 from ``num_training_steps``
    ([``CosineWithHardRestarts``][lrfun.hf.CosineWithHardRestarts])."""
    return CosineWithHardRestarts(base_lr, num_warmup_steps, num_training_steps, num_cycles)


def get_polynomial_decay_schedule_with_warmup(
    base_lr: LrValue,
    num_warmup_steps: int,
    num_training_steps: int,
    lr_end: float = 1e-7,
    power: float = 1.0,
    *,
    default_lr: float | None = None,
) -> PolynomialDecayWithWarmup:
    """transformers' ``polynomial``: a linear warmup, then a polynomial decay to ``lr_end``
    ([``PolynomialDecayWithWarmup``][lrfun.hf.PolynomialDecayWithWarmup]).

    Args:
      default_lr: (keyword) the optimizer's default lr, which transformers decays from (by
        default the groups' common base lr).

    Raises:
      ValueError: ``lr_end`` is not below the default lr (transformers' message).
    """
    lr_init = default_lr_of(base_lr, default_lr)
    return PolynomialDecayWithWarmup(
        base_lr, num_warmup_steps, num_training_steps, lr_end, power, lr_init
    )


def get_inverse_sqrt_schedule(
    base_lr: LrValue, num_warmup_steps: int, timescale: int | None = None
) -> InverseSqrt:
    """transformers' ``inverse_sqrt``: a linear warmup, then an inverse square-root decay
    with ``timescale`` (default ``num_warmup_steps or 10_000``) (``InverseSqrt``)."""
    return InverseSqrt(base_lr, num_warmup_steps, timescale)


def get_reduce_on_plateau_schedule(base_lr: LrValue, **kwargs: Any) -> ReduceLROnPlateau:
    """transformers' ``reduce_lr_on_plateau``: torch's ``ReduceLROnPlateau`` with ``kwargs``,
    as lrfun's pure state machine ([``lrfun.ReduceLROnPlateau``][lrfun.ReduceLROnPlateau])."""
    return ReduceLROnPlateau(base_lr, **kwargs)


def _min_lr_rate(
    base_lr: LrValue, min_lr: float | None, min_lr_rate: float | None, lr: float | None
) -> Any:
    """transformers' ``min_lr`` / ``min_lr_rate`` resolution (its messages): a float, or a
    tensor where the default lr is one."""
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError("Only one of min_lr or min_lr_rate should be set")
    if min_lr is not None:
        # checked here, by its name: the rate it becomes is checked only as min_lr_rate
        return check.real("min_lr", min_lr, low=0.0) / default_lr_of(base_lr, lr)
    if min_lr_rate is None:
        raise ValueError(
            "One of min_lr or min_lr_rate should be set through the `lr_scheduler_kwargs`"
        )
    return min_lr_rate


def get_cosine_with_min_lr_schedule_with_warmup(
    base_lr: LrValue,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    *,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    default_lr: float | None = None,
) -> CosineWithWarmup:
    """transformers' ``cosine_with_min_lr``: ``get_cosine_schedule_with_warmup`` down to
    ``min_lr`` (or ``base_lr * min_lr_rate``) instead of 0 (``CosineWithWarmup``).

    ``min_lr`` and ``min_lr_rate`` are keywords here (transformers' ``last_epoch`` came
    before them). ``min_lr`` is taken relative to the optimizer's default lr
    (``default_lr``, by default the groups' common base lr).

    Raises:
      ValueError: both or neither of ``min_lr`` and ``min_lr_rate`` (transformers' messages).
    """
    rate = _min_lr_rate(base_lr, min_lr, min_lr_rate, default_lr)
    return CosineWithWarmup(base_lr, num_warmup_steps, num_training_steps, num_cycles, rate)


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    base_lr: LrValue,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    *,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    warmup_lr_rate: float | None = None,
    default_lr: float | None = None,
) -> CosineWarmupWithMinLr:
    """transformers' ``cosine_warmup_with_min_lr`` (``CosineWarmupWithMinLr``):
    arguments as in ``get_cosine_with_min_lr_schedule_with_warmup``, and
    ``warmup_lr_rate``, where the warmup starts relative to ``base_lr``."""
    rate = _min_lr_rate(base_lr, min_lr, min_lr_rate, default_lr)
    return CosineWarmupWithMinLr(
        base_lr, num_warmup_steps, num_training_steps, num_cycles, rate, warmup_lr_rate
    )


def get_wsd_schedule(
    base_lr: LrValue,
    num_warmup_steps: int,
    num_decay_steps: int,
    num_training_steps: int | None = None,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: float = 0,
    num_cycles: float = 0.5,
) -> WarmupStableDecay:
    """transformers' ``warmup_stable_decay``: warmup, stable, decay (``WarmupStableDecay``).

    Without ``num_stable_steps`` the stable phase is ``num_training_steps - num_warmup_steps
    - num_decay_steps`` steps (negative where those exceed the total: the decay then starts
    part-way, as in transformers).

    Raises:
      ValueError: neither ``num_training_steps`` nor ``num_stable_steps``, or an unknown
        warmup or decay type (transformers' messages).

    Warns:
      UserWarning: both ``num_training_steps`` and ``num_stable_steps`` (the latter is used).
    """
    if num_training_steps is None and num_stable_steps is None:
        raise ValueError("Either num_training_steps or num_stable_steps must be specified.")
    if num_training_steps is not None and num_stable_steps is not None:
        warnings.warn(
            "Both num_training_steps and num_stable_steps are specified. num_stable_steps will "
            "be used.",
            stacklevel=2,
        )
    if warmup_type not in ["linear", "cosine", "1-sqrt"]:
        raise ValueError(
            f"Unknown warmup type: {warmup_type}, expected 'linear', 'cosine' or '1-sqrt'"
        )
    if decay_type not in ["linear", "cosine", "1-sqrt"]:
        raise ValueError(
            f"Unknown decay type: {decay_type}, expected 'linear', 'cosine' or '1-sqrt'"
        )
    if num_stable_steps is None:
        assert num_training_steps is not None
        num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
    return WarmupStableDecay(
        base_lr,
        num_warmup_steps,
        num_stable_steps,
        num_decay_steps,
        warmup_type,
        decay_type,
        min_lr_ratio,
        num_cycles,
    )


def get_greedy_schedule(base_lr: LrValue, **kwargs: Any) -> GreedyLR:
    """transformers' ``greedy``: its ``GreedyLR`` with ``kwargs``, as lrfun's pure state
    machine (``GreedyLR``; ``verbose`` is accepted and ignored: the machine prints
    nothing).

    >>> g = get_greedy_schedule(0.1, patience=0, factor=0.5)
    >>> s, lrs = g.init(), []
    >>> for metric in [1.0, 1.0, 1.0]:  # an improvement raises it; then two plateau cuts
    ...     s = g.update(s, metric)
    ...     lrs.append(float(g.lr(s)))
    >>> lrs
    [0.2, 0.1, 0.05]
    """
    kwargs.pop("verbose", None)
    return GreedyLR(base_lr, **kwargs)


# transformers' SchedulerType values, in its order, and the function each names.
_FUNCTIONS: dict[str, Callable[..., Schedule | ReduceLROnPlateau | GreedyLR]] = {
    "linear": get_linear_schedule_with_warmup,
    "cosine": get_cosine_schedule_with_warmup,
    "cosine_with_restarts": get_cosine_with_hard_restarts_schedule_with_warmup,
    "polynomial": get_polynomial_decay_schedule_with_warmup,
    "constant": get_constant_schedule,
    "constant_with_warmup": get_constant_schedule_with_warmup,
    "inverse_sqrt": get_inverse_sqrt_schedule,
    "reduce_lr_on_plateau": get_reduce_on_plateau_schedule,
    "cosine_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup,
    "cosine_warmup_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup_lr_rate,
    "warmup_stable_decay": get_wsd_schedule,
    "greedy": get_greedy_schedule,
}
# The schedules that read the optimizer's default lr.
_READ_DEFAULT_LR = ("polynomial", "cosine_with_min_lr", "cosine_warmup_with_min_lr")

TYPES: tuple[str, ...] = tuple(_FUNCTIONS)
"""transformers' scheduler type names (``SchedulerType`` values), in its order."""


# The type names whose schedule is a function of the step (the others are metric-driven).
_StepTypes = Literal[
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
    "warmup_stable_decay",
]


@overload
def get_scheduler(
    name: _StepTypes,
    base_lr: LrValue,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict[str, Any] | None = None,
    *,
    default_lr: float | None = None,
) -> Schedule: ...
@overload
def get_scheduler(
    name: Literal["reduce_lr_on_plateau"],
    base_lr: LrValue,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict[str, Any] | None = None,
    *,
    default_lr: float | None = None,
) -> ReduceLROnPlateau: ...
@overload
def get_scheduler(
    name: Literal["greedy"],
    base_lr: LrValue,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict[str, Any] | None = None,
    *,
    default_lr: float | None = None,
) -> GreedyLR: ...
@overload
def get_scheduler(
    name: str,
    base_lr: LrValue,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict[str, Any] | None = None,
    *,
    default_lr: float | None = None,
) -> Schedule | ReduceLROnPlateau | GreedyLR: ...


def get_scheduler(
    name: str,
    base_lr: LrValue,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict[str, Any] | None = None,
    *,
    default_lr: float | None = None,
) -> Schedule | ReduceLROnPlateau | GreedyLR:
    """transformers' ``get_scheduler``, minus the optimizer: the schedule a type name gives.

    Args:
      name: one of ``TYPES`` (or a ``transformers.SchedulerType``).
      base_lr: the optimizer's lr (a sequence: one per param group).
      num_warmup_steps: required by every type but ``constant``, ``reduce_lr_on_plateau``
        and ``greedy``.
      num_training_steps: required by every type that decays to an end, except
        ``warmup_stable_decay`` (which may take ``num_stable_steps`` instead).
      scheduler_specific_kwargs: passed on to the type's function (ignored by ``constant``
        and ``constant_with_warmup``, as in transformers).
      default_lr: (keyword) the optimizer's default lr (``optimizer.defaults["lr"]``), for
        the types that read it (``polynomial``, ``min_lr`` of the cosines); by default the
        groups' common base lr.

    Returns:
      An lrfun schedule, or a metric-driven machine (``lrfun.ReduceLROnPlateau``,
      [``GreedyLR``][lrfun.hf.GreedyLR]).

    Raises:
      ValueError: an unknown name, or a required step count missing (transformers'
        messages); TypeError: an argument the type's function does not take.

    >>> get_scheduler("linear", 1.0, num_warmup_steps=2, num_training_steps=10)(6)
    0.5
    """
    value = getattr(name, "value", name)
    if value not in _FUNCTIONS:
        from lrfun._suggest import did_you_mean

        # transformers' message, then the close type names
        suggestion = did_you_mean(value, _FUNCTIONS)
        raise ValueError(
            f"{value} is not a valid SchedulerType, please select one of {list(_FUNCTIONS)}"
            + (f" ({suggestion})" if suggestion else "")
        )
    function = _FUNCTIONS[value]
    shown = f"SchedulerType.{value.upper()}"
    if value == "constant":
        return function(base_lr)
    kwargs = dict(scheduler_specific_kwargs or {})
    if value in ("reduce_lr_on_plateau", "greedy"):
        return function(base_lr, **kwargs)
    if num_warmup_steps is None:
        raise ValueError(f"{shown} requires `num_warmup_steps`, please provide that argument.")
    if value == "constant_with_warmup":
        return function(base_lr, num_warmup_steps=num_warmup_steps)
    if value == "inverse_sqrt":
        return function(base_lr, num_warmup_steps=num_warmup_steps, **kwargs)
    if value == "warmup_stable_decay":
        return function(
            base_lr, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps,
            **kwargs,
        )  # fmt: skip
    if num_training_steps is None:
        raise ValueError(f"{shown} requires `num_training_steps`, please provide that argument.")
    if value in _READ_DEFAULT_LR:
        kwargs["default_lr"] = default_lr
    return function(
        base_lr, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps, **kwargs
    )


def default_lr_of(base_lr: LrValue, value: float | None) -> Any:
    """The optimizer's default lr: ``value``, or the groups' common base lr."""
    return default_lr("default_lr", base_lr, value)


def from_config(config: Mapping[str, Any]) -> Configurable:
    """Builds a schedule from its ``to_config()`` dict: ``lrfun.from_config``, which
    knows this module's schedules (named ``hf.<Class>``) as every other lrfun schedule.

    >>> s = get_wsd_schedule(0.1, num_warmup_steps=10, num_decay_steps=20, num_stable_steps=70)
    >>> from_config(s.to_config()) == s
    True
    """
    return _from_config(config)
