"""Decays of the base lr by a factor: StepLR, MultiStepLR, ConstantLR, LinearLR,
ExponentialLR, PolynomialLR."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

from lrfun import _validate as check
from lrfun._backend import Ctx
from lrfun._math import integer_tables, power, reaches, searchsorted
from lrfun.schedule import Schedule

__all__ = [
    "ConstantLR",
    "ExponentialLR",
    "LinearLR",
    "MultiStepLR",
    "PolynomialLR",
    "StepLR",
]

_frozen = dataclasses.dataclass(frozen=True)


def _base(self: Schedule) -> None:
    """Checks ``base_lr`` and records the group count (shared by the decays)."""
    base_lr = check.lr_values("base_lr", self.base_lr)  # type: ignore[attr-defined]
    self._set(base_lr=base_lr, _groups=check.group_count(base_lr=base_lr))


@_frozen
class StepLR(Schedule):
    """Decays the lr by ``gamma`` every ``step_size`` steps.

    ``lr(t) = base_lr * gamma ** (t // step_size)``; the decay lands *at* the step that is a
    multiple of ``step_size``, as in torch.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      step_size: steps between decays, a positive integer.
      gamma: the decay factor, >= 0.

    >>> StepLR(0.1, step_size=2, gamma=0.5)(4)
    0.025
    """

    base_lr: float | Sequence[float]
    step_size: int
    gamma: float = 0.1

    def __post_init__(self) -> None:
        _base(self)
        self._set(
            step_size=check.integer("step_size", self.step_size),
            gamma=check.real("gamma", self.gamma, low=0.0),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        # A step_size past the step's integer range (an int32 count): no decay reached.
        reached = reaches(ctx, step, self.step_size)
        decays = ctx.float(step // self.step_size if reached else ctx.xp.zeros_like(step))
        return ctx.const(self.base_lr) * power(ctx, self.gamma, decays)


@_frozen
class MultiStepLR(Schedule):
    """Decays the lr by ``gamma`` at each milestone.

    ``lr(t) = base_lr * gamma ** #{m in milestones : m <= t}``. As in torch (a Counter), a
    milestone listed twice decays twice, a milestone at 0 decays the step-0 lr, and order
    does not matter. Evaluation is one sorted lookup: 10,000 milestones trace to the same
    graph as 3.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      milestones: non-negative integer steps.
      gamma: the decay factor, >= 0.

    >>> MultiStepLR(1.0, milestones=[2, 5, 5], gamma=0.5)(5)
    0.125
    """

    base_lr: float | Sequence[float]
    milestones: Sequence[int]
    gamma: float = 0.1

    def __post_init__(self) -> None:
        _base(self)
        milestones = tuple(sorted(check.integers("milestones", self.milestones)))
        self._set(
            milestones=milestones,
            gamma=check.real("gamma", self.gamma, low=0.0),
            _boundaries=integer_tables(milestones),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        decays = ctx.float(searchsorted(ctx, self._boundaries, step))
        return ctx.const(self.base_lr) * power(ctx, self.gamma, decays)


@_frozen
class ConstantLR(Schedule):
    """Scales the lr by ``factor`` until step ``total_iters``.

    ``lr(t) = base_lr * (factor if t < total_iters else 1)``.

    Torch quirk reproduced: with ``total_iters=0`` torch applies the factor at construction
    and never removes it, so the lr stays ``base_lr * factor`` forever.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      factor: in (0, 1], a normal float (torch allows 0, then divides by it at
        ``total_iters``).
      total_iters: an integer >= 0.

    >>> ConstantLR(0.3, factor=0.5, total_iters=2)(1), ConstantLR(0.3, factor=0.5, total_iters=2)(2)
    (0.15, 0.3)
    """

    base_lr: float | Sequence[float]
    factor: float = 1.0 / 3
    total_iters: int = 5

    def __post_init__(self) -> None:
        _base(self)
        self._set(
            # Normal floats only: torch divides by the factor at total_iters, and 1 / a
            # subnormal overflows to inf (then the lr is inf or NaN).
            factor=check.real("factor", self.factor, low=sys.float_info.min, high=1.0),
            total_iters=check.integer("total_iters", self.total_iters, minimum=0),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        base = ctx.const(self.base_lr)
        if self.total_iters == 0 or not reaches(ctx, step, self.total_iters):
            return base * self.factor
        return base * ctx.where(step >= self.total_iters, 1.0, self.factor)


@_frozen
class LinearLR(Schedule):
    """Scales the lr linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` steps.

    ``lr(t) = base_lr * (start + (end - start) * min(t, total_iters) / total_iters)``.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      start_factor: in (0, 1], a normal float.
      end_factor: in [0, 1].
      total_iters: a positive integer (torch accepts 0, then never leaves ``start_factor``).

    >>> LinearLR(1.0, start_factor=0.5, end_factor=1.0, total_iters=4)(2)
    0.75
    """

    base_lr: float | Sequence[float]
    start_factor: float = 1.0 / 3
    end_factor: float = 1.0
    total_iters: int = 5

    def __post_init__(self) -> None:
        _base(self)
        self._set(
            # Normal floats only: torch's update divides by total_iters * start_factor, which
            # overflows for a subnormal start (then the lr is NaN).
            start_factor=check.real(
                "start_factor", self.start_factor, low=sys.float_info.min, high=1.0
            ),
            end_factor=check.real("end_factor", self.end_factor, low=0.0, high=1.0),
            total_iters=check.integer("total_iters", self.total_iters),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        done = ctx.float(ctx.minimum(step, self.total_iters)) / float(self.total_iters)
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return ctx.const(self.base_lr) * factor


@_frozen
class ExponentialLR(Schedule):
    """Decays the lr by ``gamma`` every step: ``lr(t) = base_lr * gamma ** t``.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      gamma: the decay factor, >= 0.

    >>> ExponentialLR(1.0, gamma=0.5)(3)
    0.125
    """

    base_lr: float | Sequence[float]
    gamma: float

    def __post_init__(self) -> None:
        _base(self)
        self._set(gamma=check.real("gamma", self.gamma, low=0.0))

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        return ctx.const(self.base_lr) * power(ctx, self.gamma, ctx.float(step))


@_frozen
class PolynomialLR(Schedule):
    """Decays the lr polynomially to 0 over ``total_iters`` steps, then holds it.

    ``lr(t) = base_lr * (1 - min(t, total_iters) / total_iters) ** power``.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      total_iters: a positive integer (torch accepts 0, then never decays).
      power: >= 0 (torch accepts a negative power, then divides by zero at ``total_iters``).

    >>> PolynomialLR(1.0, total_iters=4, power=2.0)(2)
    0.25
    """

    base_lr: float | Sequence[float]
    total_iters: int = 5
    power: float = 1.0

    def __post_init__(self) -> None:
        _base(self)
        self._set(
            total_iters=check.integer("total_iters", self.total_iters),
            power=check.real("power", self.power, low=0.0),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        # The remaining fraction from integers: XLA turns x / T into x * (1 / T), so 1 - T / T
        # would be an ulp off zero, and a small power makes that ulp a visible lr.
        if reaches(ctx, step, self.total_iters):
            left = ctx.float(self.total_iters - ctx.minimum(step, self.total_iters))
        else:
            # total_iters is past an int32 count, so it is no operand: exact parts summed.
            imax = ctx.xp.iinfo(step.dtype).max
            left = ctx.float(imax - step) + float(self.total_iters - imax)
        decay = (left / float(self.total_iters)) ** self.power
        if self.power > 0:
            # 0 ** power is 0 even when float32 flushes a tiny power to 0 (0 ** 0 is 1).
            decay = ctx.where(left == 0, 0.0, decay)
        return ctx.const(self.base_lr) * decay
