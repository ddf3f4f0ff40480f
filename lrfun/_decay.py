"""Decays of the base lr by a factor: StepLR, MultiStepLR, ConstantLR, LinearLR,
ExponentialLR, PolynomialLR."""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from lrfun import _validate as check
from lrfun._backend import Ctx
from lrfun._chain import ChainMaps, epoch_grid
from lrfun._math import ByWidth, integer_tables, power, reaches, searchsorted
from lrfun._reference import TORCH
from lrfun._schedule import Schedule, per_group

__all__ = [
    "ConstantLR",
    "ExponentialLR",
    "LinearLR",
    "MultiStepLR",
    "PolynomialLR",
    "StepLR",
]


@dataclasses.dataclass(frozen=True)
class _Decay(Schedule, register=False):
    """A decay of the optimizer's lr: torch multiplies the lr by a factor of its own epoch,
    whatever lr the group holds -- ``start_lr`` where that is not its ``initial_lr``."""

    base_lr: float | Sequence[float]
    start_lr: float | Sequence[float] | None = dataclasses.field(default=None, kw_only=True)

    chain: ClassVar[Literal["factor", "affine", "absolute"]] = "factor"
    # torch's update reads only the group's lr: a group added mid-run decays from its own.
    _continues_added_groups = True

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        start_lr = check.start_lr(self.start_lr)
        self._set(
            base_lr=base_lr,
            start_lr=start_lr,
            _groups=check.group_count(base_lr=base_lr, start_lr=start_lr),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        return self._started(ctx, step, self.base_lr if self.start_lr is None else self.start_lr)

    def _started(self, ctx: Ctx, step: Any, start: Any) -> Any:
        # torch multiplies whatever lr the group holds: the base only names where it began.
        return ctx.const(start) * self._factor(ctx, step)

    def _factor(self, ctx: Ctx, step: Any) -> Any:
        """The lr relative to the base: what torch's updates have multiplied it by."""
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class _Geometric(_Decay, register=False):
    """A decay by ``gamma`` to the power of a count of the step: the power and the base lr
    are taken together, so a growth (gamma > 1) that passes float32's range only before the
    base scales it back (1e-8 * 1.05 ** 1819) stays finite."""

    if TYPE_CHECKING:
        # A field of each subclass, in torch's argument order there (declared here as a
        # field, type checkers would put it before the subclass's own arguments).
        @property
        def gamma(self) -> float: ...

    def _count(self, ctx: Ctx, step: Any) -> Any:
        raise NotImplementedError

    def _started(self, ctx: Ctx, step: Any, start: Any) -> Any:
        return power(ctx, self.gamma, self._count(ctx, step), scale=start)

    def _factor(self, ctx: Ctx, step: Any) -> Any:
        return power(ctx, self.gamma, self._count(ctx, step))


@dataclasses.dataclass(frozen=True)
class StepLR(_Geometric):
    """Decays the lr by ``gamma`` every ``step_size`` steps.

    ``lr(t) = base_lr * gamma ** (t // step_size)``; the decay lands *at* the step that is a
    multiple of ``step_size``, as in torch.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      start_lr: (keyword) the group's lr at torch's first step where it is not ``base_lr``
        (built after another scheduler ran; ``from_torch`` reads it): the factor scales it.
      step_size: steps between decays, a positive integer (a whole float, ``2.0``, is its
        integer, as torch runs it).
      gamma: the decay factor, >= 0.

    >>> StepLR(0.1, step_size=2, gamma=0.5)(4)
    0.025
    """

    _reference = TORCH

    step_size: int
    gamma: float = 0.1

    _torch_attributes = ("step_size", "gamma")
    _hyperparameters = ("base_lr", "start_lr", "gamma")
    _gallery = ("StepLR(0.1, step_size=30, gamma=0.5)", 150)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set(
            step_size=check.integer("step_size", self.step_size, whole=True),
            gamma=check.real("gamma", self.gamma, low=0.0),
        )

    def _count(self, ctx: Ctx, step: Any) -> Any:
        # A step_size past the step's integer range (an int32 count): no decay reached.
        reached = reaches(ctx, step, self.step_size)
        return ctx.float(ctx.quotient(step, self.step_size) if reached else ctx.xp.zeros_like(step))

    def _chain_maps(self, epochs: np.ndarray, groups: int, base: np.ndarray) -> ChainMaps:
        e = epoch_grid(epochs, groups)
        a = np.where((e != 0) & (e % self.step_size == 0), self.gamma, 1.0)
        return ChainMaps.factor(self, a, epochs, groups)

    def _course_changes(self, n: int) -> list[float]:
        return list(range(self.step_size, n, self.step_size))


@dataclasses.dataclass(frozen=True)
class MultiStepLR(_Geometric):
    """Decays the lr by ``gamma`` at each milestone.

    ``lr(t) = base_lr * gamma ** #{m in milestones : m <= t}``. As in torch (a Counter), a
    milestone listed twice decays twice, a milestone at 0 decays the step-0 lr, and order
    does not matter. Evaluation is one sorted lookup: 10,000 milestones trace to the same
    graph as 3.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      start_lr: (keyword) the group's lr at torch's first step where it is not ``base_lr``
        (built after another scheduler ran; ``from_torch`` reads it): the factor scales it.
      milestones: non-negative integer steps (whole floats, ``[2.0, 5.0]``, are their
        integers, as torch's Counter finds them).
      gamma: the decay factor, >= 0.

    >>> MultiStepLR(1.0, milestones=[2, 5, 5], gamma=0.5)(5)
    0.125
    """

    _reference = TORCH

    milestones: Sequence[int]
    gamma: float = 0.1
    _boundaries: ByWidth = dataclasses.field(init=False, repr=False, compare=False)

    _gallery = ("MultiStepLR([0.1, 0.04], milestones=[30, 80, 120], gamma=0.3)", 160)
    _hyperparameters = ("base_lr", "start_lr", "gamma")

    def __post_init__(self) -> None:
        super().__post_init__()
        milestones = tuple(sorted(check.milestones("milestones", self.milestones)))
        self._set(
            milestones=milestones,
            gamma=check.real("gamma", self.gamma, low=0.0),
            _boundaries=integer_tables(milestones),
        )

    def _count(self, ctx: Ctx, step: Any) -> Any:
        return ctx.float(searchsorted(ctx, self._boundaries, step))

    def _chain_maps(self, epochs: np.ndarray, groups: int, base: np.ndarray) -> ChainMaps:
        # The milestones at each own epoch (torch's Counter): two sorted lookups per epoch.
        marks = np.asarray(self._boundaries[64], dtype=np.int64)
        counts = np.searchsorted(marks, epochs, "right") - np.searchsorted(marks, epochs, "left")
        a = self.gamma ** counts[:, None].astype(np.float64)
        return ChainMaps.factor(self, a, epochs, groups, initial=a[0])

    def _course_changes(self, n: int) -> list[float]:
        return list(self.milestones)

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        return {
            "base_lr": per_group(scheduler.base_lrs),
            "milestones": sorted(scheduler.milestones.elements()),
            "gamma": scheduler.gamma,
        }


def _whole_iters(value: Any) -> int:
    """ConstantLR's total_iters: an integer >= 0, or a float equal to one (torch removes the
    factor at the step equal to it, so a fraction would keep it forever)."""
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, float) and 0 < value < float("inf"):
        raise ValueError(
            f"total_iters must be a whole number for ConstantLR, got {value!r}: torch removes "
            "the factor at the step equal to total_iters, so with a fraction it never does"
        )
    return check.integer("total_iters", value, minimum=0)


@dataclasses.dataclass(frozen=True)
class ConstantLR(_Decay):
    """Scales the lr by ``factor`` until step ``total_iters``.

    ``lr(t) = base_lr * (factor if t < total_iters else 1)``.

    Torch quirk reproduced: with ``total_iters=0`` torch applies the factor at construction
    and never removes it, so the lr stays ``base_lr * factor`` forever.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      start_lr: (keyword) the group's lr at torch's first step where it is not ``base_lr``
        (built after another scheduler ran; ``from_torch`` reads it): the factor scales it.
      factor: in (0, 1], a normal float (torch allows 0, then divides by it at
        ``total_iters``).
      total_iters: an integer >= 0 (a whole float is taken as its integer).

    >>> ConstantLR(0.3, factor=0.5, total_iters=2)(1), ConstantLR(0.3, factor=0.5, total_iters=2)(2)
    (0.15, 0.3)
    """

    _reference = TORCH

    factor: float = 1.0 / 3
    total_iters: int = 5

    _torch_attributes = ("factor", "total_iters")
    _hyperparameters = ("base_lr", "start_lr", "factor")
    _gallery = ("ConstantLR(0.1, factor=0.25, total_iters=20)", 60)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set(
            # Normal floats only: torch divides by the factor at total_iters, and 1 / a
            # subnormal overflows to inf (then the lr is inf or NaN).
            factor=check.real("factor", self.factor, low=sys.float_info.min, high=1.0),
            total_iters=_whole_iters(self.total_iters),
        )

    def _factor(self, ctx: Ctx, step: Any) -> Any:
        if self.total_iters == 0 or not reaches(ctx, step, self.total_iters):
            return self.factor
        return ctx.where(step >= self.total_iters, 1.0, self.factor)

    def _chain_maps(self, epochs: np.ndarray, groups: int, base: np.ndarray) -> ChainMaps:
        e = epoch_grid(epochs, groups)
        f = self.factor
        a = np.where(e == 0, f, np.where(e == self.total_iters, 1.0 / f, 1.0))
        # torch's closed form at epoch 0: base when total_iters is 0, not base * factor
        restart = (np.zeros(groups), base * (f + (self.total_iters == 0) * (1 - f)))
        return ChainMaps.factor(self, a, epochs, groups, initial=a[0], restart=restart)

    def _course_changes(self, n: int) -> list[float]:
        return [self.total_iters]

    def _restarted(self, ctx: Ctx, since: Any, base: Any, previous: Any) -> Any:
        if self.total_iters == 0:
            # torch's closed form at epoch 0 is the base lr, and nothing changes it later.
            return ctx.const(base) + 0.0 * ctx.float(since)
        return self._lr(ctx, since)


@dataclasses.dataclass(frozen=True)
class LinearLR(_Decay):
    """Scales the lr linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` steps.

    ``lr(t) = base_lr * (start + (end - start) * min(t, total_iters) / total_iters)``.

    A fractional ``total_iters`` is stepped as torch steps it: the ramp stops at its last
    whole step, short of ``end_factor`` (``total_iters=2.5`` from 0.5 to 1.0 holds at 0.9).

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      start_lr: (keyword) the group's lr at torch's first step where it is not ``base_lr``
        (built after another scheduler ran; ``from_torch`` reads it): the factor scales it.
      start_factor: in (0, 1], a normal float.
      end_factor: in [0, 1].
      total_iters: a positive number (torch accepts 0, then never leaves ``start_factor``).

    >>> LinearLR(1.0, start_factor=0.5, end_factor=1.0, total_iters=4)(2)
    0.75
    """

    _reference = TORCH

    start_factor: float = 1.0 / 3
    end_factor: float = 1.0
    total_iters: float = 5

    _torch_attributes = ("start_factor", "end_factor", "total_iters")
    _hyperparameters = ("base_lr", "start_lr", "start_factor", "end_factor")
    _gallery = ("LinearLR(0.1, start_factor=0.05, total_iters=50)", 100)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set(
            # Normal floats only: torch's update divides by total_iters * start_factor, which
            # overflows for a subnormal start (then the lr is NaN).
            start_factor=check.real(
                "start_factor", self.start_factor, low=sys.float_info.min, high=1.0
            ),
            end_factor=check.real("end_factor", self.end_factor, low=0.0, high=1.0),
            total_iters=check.period("total_iters", self.total_iters),
        )

    def _factor(self, ctx: Ctx, step: Any) -> Any:
        # torch's last ramp step is the last whole step up to total_iters.
        whole = math.floor(self.total_iters)
        done = ctx.float(ctx.minimum(step, whole)) / float(self.total_iters)
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return factor

    def _chain_maps(self, epochs: np.ndarray, groups: int, base: np.ndarray) -> ChainMaps:
        e = epoch_grid(epochs, groups)
        T, lo, hi = self.total_iters, self.start_factor, self.end_factor
        ramp = 1.0 + (hi - lo) / (T * lo + (e - 1) * (hi - lo))
        a = np.where(e == 0, lo, np.where(e > T, 1.0, ramp))
        return ChainMaps.factor(self, a, epochs, groups, initial=a[0])

    def _course_changes(self, n: int) -> list[float]:
        return [self.total_iters]


@dataclasses.dataclass(frozen=True)
class ExponentialLR(_Geometric):
    """Decays the lr by ``gamma`` every step: ``lr(t) = base_lr * gamma ** t``.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      start_lr: (keyword) the group's lr at torch's first step where it is not ``base_lr``
        (built after another scheduler ran; ``from_torch`` reads it): the factor scales it.
      gamma: the decay factor, >= 0.

    >>> ExponentialLR(1.0, gamma=0.5)(3)
    0.125
    """

    _reference = TORCH

    gamma: float

    _torch_attributes = ("gamma",)
    _hyperparameters = ("base_lr", "start_lr", "gamma")
    _gallery = ("ExponentialLR(0.1, gamma=0.97)", 150)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set(gamma=check.real("gamma", self.gamma, low=0.0))

    def _count(self, ctx: Ctx, step: Any) -> Any:
        return ctx.float(step)

    def _chain_maps(self, epochs: np.ndarray, groups: int, base: np.ndarray) -> ChainMaps:
        return ChainMaps.factor(self, self.gamma, epochs, groups)


@dataclasses.dataclass(frozen=True)
class PolynomialLR(_Decay):
    """Decays the lr polynomially to 0 over ``total_iters`` steps, then holds it.

    ``lr(t) = base_lr * (1 - min(t, total_iters) / total_iters) ** power``.

    A fractional ``total_iters`` is stepped as torch steps it: the decay stops at its last
    whole step, above 0 (``total_iters=2.5``, power 1: 1, 0.6, 0.2, 0.2, ...).

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      start_lr: (keyword) the group's lr at torch's first step where it is not ``base_lr``
        (built after another scheduler ran; ``from_torch`` reads it): the factor scales it.
      total_iters: a positive number (torch accepts 0, then never decays).
      power: >= 0 (torch accepts a negative power, then divides by zero at ``total_iters``).

    >>> PolynomialLR(1.0, total_iters=4, power=2.0)(2)
    0.25
    """

    _reference = TORCH

    total_iters: float = 5
    power: float = 1.0

    # torch's recursion multiplies ratios of (1 - e / T) ** power: over a long total_iters the
    # product drifts from its own closed form (8.8x the float64 tolerance at T - 1 for
    # T = 1e7, power 0.1).
    _torch_drifts: ClassVar[bool] = True
    _torch_attributes = ("total_iters", "power")
    _hyperparameters = ("base_lr", "start_lr", "power")
    _gallery = ("PolynomialLR(0.1, total_iters=100, power=2.0)", 130)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set(
            total_iters=check.period("total_iters", self.total_iters),
            power=check.real("power", self.power, low=0.0),
        )

    def _factor(self, ctx: Ctx, step: Any) -> Any:
        whole = math.floor(self.total_iters)  # torch's last decay step
        if ctx.dtype == ctx.xp.float64:
            # torch's 1 - t / T: it cancels near the end of a long total_iters (8.8x the
            # float64 tolerance at T - 1 for T = 1e7, power 0.1, off the exact fraction), and
            # torch's closed form and recursion both carry it. T as an operand no compiler
            # folds into a product with its reciprocal.
            t = ctx.float(ctx.minimum(step, whole))
            return (1.0 - t / (t * 0.0 + float(self.total_iters))) ** self.power
        # float32: the remaining fraction from integers: XLA turns x / T into x * (1 / T), so
        # 1 - T / T would be an ulp off zero, and a small power makes that ulp a visible lr.
        if reaches(ctx, step, whole):
            left = ctx.float(whole - ctx.minimum(step, whole))
        else:
            # total_iters is past an int32 count, so it is no operand: exact parts summed.
            imax = ctx.iinfo(step).max
            left = ctx.float(imax - step) + float(whole - imax)
        if whole != self.total_iters:
            left = left + (self.total_iters - whole)
        decay = (left / float(self.total_iters)) ** self.power
        # 0 ** power is 0 even when float32 flushes a tiny power to 0 (0 ** 0 is 1).
        if not isinstance(self.power, float):  # an array (swept): decided per element
            return ctx.where((left == 0) & (self.power > 0), 0.0, decay)
        if self.power > 0:
            decay = ctx.where(left == 0, 0.0, decay)
        return decay

    def _chain_maps(self, epochs: np.ndarray, groups: int, base: np.ndarray) -> ChainMaps:
        e = epoch_grid(epochs, groups)
        T = self.total_iters
        ratio = ((1.0 - e / T) / (1.0 - (e - 1) / T)) ** self.power
        return ChainMaps.factor(self, np.where(e > T, 1.0, ratio), epochs, groups)

    def _course_changes(self, n: int) -> list[float]:
        return [self.total_iters]
