"""Cosine annealing: CosineAnnealingLR and CosineAnnealingWarmRestarts."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from lrfun import _validate as check
from lrfun._backend import Ctx
from lrfun._chain import ChainMaps, epoch_grid
from lrfun._math import ByWidth, anneal_cos, integer_tables, reaches, searchsorted
from lrfun._reference import TORCH
from lrfun._schedule import Schedule

__all__ = ["CosineAnnealingLR", "CosineAnnealingWarmRestarts"]

# Restart boundaries are tabulated while they fit an int64 step.
_INT64_MAX = 2**63 - 1


@dataclasses.dataclass(frozen=True)
class CosineAnnealingLR(Schedule):
    """Anneals the lr from ``base_lr`` to ``eta_min`` along a half cosine over ``T_max`` steps.

    ``lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2``.

    Torch quirk reproduced: the lr is not held at ``eta_min`` after ``T_max`` steps; it
    follows the cosine back up to ``base_lr`` at ``2 * T_max`` and keeps oscillating with
    period ``2 * T_max`` (torch's recursive form has an additive branch at each trough that
    keeps it on this curve). The phase ``t mod 2 * T_max`` is taken in integers, so long runs
    lose no precision.

    A ``T_max`` that is not a whole number (``total / 2`` for an odd total, ``3.1``) is used as
    torch uses it: the angle is ``pi * t / T_max`` in floats, and torch's recursion follows
    the same curve. Where ``T_max`` is the float of a fraction ``p / q`` (``q <= 2**15``),
    the cosine repeats every ``2p / gcd(2, q)`` steps: float32 folds the step on that period
    in integers, so long runs keep float32's accuracy. With ``q`` odd (``1.2 = 6 / 5``) the
    steps ``p * (2j + 1)`` are troughs, where torch's recursion divides by ``1 + cos(pi * (2j
    + 1) * q) = 0`` unless its trough test, in floats, catches it: torch raises
    ZeroDivisionError there (``T_max=1.2``: at step 19), and lrfun refuses such a ``T_max``
    at construction, naming the step.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      T_max: the half period, a positive number below 2**63 (torch accepts 0, then divides
        by it); a float one at least 2**-60 (a shorter one overflows the angle), and not one
        whose recursion divides by zero in torch (see above).
      eta_min: the lr at the trough, any finite number (a negative one makes the lr negative
        near the trough, as in torch).
      start_lr: (keyword) the group's lr when torch's scheduler took its first step, where
        it differs from ``base_lr`` (built after another scheduler ran; ``from_torch`` reads
        it): torch's recursion scales the first half cosine from it, and its first trough
        puts the lr back on the ``base_lr`` curve.

    >>> s = CosineAnnealingLR(1.0, T_max=10)
    >>> round(s(5), 12), s(10), s(20)
    (0.5, 0.0, 1.0)
    """

    _reference = TORCH

    base_lr: float | Sequence[float]
    T_max: float
    eta_min: float = 0.0
    start_lr: float | Sequence[float] | None = dataclasses.field(default=None, kw_only=True)
    # A float T_max as the fraction p / q it is the float of (None: a whole T_max, or none
    # with q <= 2**15 and p * q < 2**30): float32 folds the step on its period.
    _fraction: tuple[int, int] | None = dataclasses.field(init=False, repr=False, compare=False)

    # torch's recursive form is affine, with an additive branch at each trough.
    chain: ClassVar[Literal["factor", "affine", "absolute"]] = "affine"
    # The affine recursion rounds relative to eta_min at every step: with eta_min far above
    # base_lr it drifts from the closed form (1.2x the float64 tolerance in 3,000 steps).
    _torch_drifts: ClassVar[bool] = True
    _torch_attributes = ("T_max", "eta_min")
    _lr_arguments = ("base_lr", "start_lr", "eta_min")
    _hyperparameters = ("base_lr", "start_lr", "eta_min")
    _gallery = ("CosineAnnealingLR(0.1, T_max=50, eta_min=0.005)", 200)

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        start_lr = check.start_lr(self.start_lr)
        self._set(
            base_lr=base_lr,
            start_lr=start_lr,
            _groups=check.group_count(base_lr=base_lr, start_lr=start_lr),
            T_max=check.length("T_max", check.period("T_max", self.T_max)),
            eta_min=check.real("eta_min", self.eta_min),
        )
        fraction = _fraction(self.T_max)
        if fraction is not None:
            step = _torch_divides_by_zero(self.T_max, *fraction)
            if step is not None:
                raise ValueError(
                    f"T_max={self.T_max!r} (= {fraction[0]}/{fraction[1]}) puts a trough of the "
                    f"cosine on step {step - 1}, where torch's recursion divides by "
                    f"1 + cos(pi * {step - 1} / T_max) = 0: torch raises ZeroDivisionError at "
                    f"step {step}"
                )
        self._set(_fraction=fraction)

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        return self._started(ctx, step, self.base_lr if self.start_lr is None else self.start_lr)

    def _started(self, ctx: Ctx, step: Any, start: Any) -> Any:
        wave = self._wave(ctx, step)
        on_base = self.eta_min + (ctx.const(self.base_lr) - self.eta_min) * wave
        if start is self.base_lr:
            return on_base
        # torch's recursion scales (lr - eta_min) by ratios of the wave, from the lr it found;
        # the additive branch at the first trough (step T_max + 1, only for a whole T_max)
        # lands on the base curve.
        from_start = self.eta_min + (ctx.const(start) - self.eta_min) * wave
        T = self.T_max
        if not isinstance(T, int) or not reaches(ctx, step, T):
            return from_start
        return ctx.where(step <= T, from_start, on_base)

    def _wave(self, ctx: Ctx, step: Any) -> Any:
        """``(1 + cos(pi * step / T_max)) / 2``: torch's closed form without the lrs."""
        # On the period folded in integers where it is one (2 * T_max: the cosine continues
        # past T_max), so the angle stays in [0, 2 pi) however long the run; a period past
        # the step's integer range (an int32 count) is never completed.
        period = 2 * self.T_max
        if float(period).is_integer() and reaches(ctx, step, int(period)):
            step = ctx.remainder(step, int(period))
        elif self._fraction is not None:
            # float32 cannot hold pi * t / T_max past a few thousand steps (3.1: 12x the
            # float32 tolerance at step 1,132): the angle is pi * x / p with x = t * q mod 2p,
            # taken in integers on the period 2p / gcd(2, q). float64 keeps torch's arithmetic
            # while that holds the phase -- its angle's rounding under 2e-13 of the lr, up to
            # step 1000 * T_max -- and folds past it (at 2**53 torch's own angle has lost it).
            p, q = self._fraction
            steps = 2 * p // math.gcd(2, q)
            folded = ctx.remainder(step, steps) if reaches(ctx, step, steps) else step
            x = ctx.remainder(folded * q, 2 * p) if q > 1 else folded
            exact = 0.5 + 0.5 * ctx.xp.cos(ctx.float(x) * (math.pi / p))
            if ctx.dtype != ctx.xp.float64:
                return exact
            held = max(1, int(1000 * self.T_max))
            if not reaches(ctx, step, held) or not ctx.meets(held, math.inf):
                return self._torch_wave(ctx, step)
            if not ctx.meets(0, held):
                return exact
            return ctx.where(step < held, self._torch_wave(ctx, step), exact)
        return self._torch_wave(ctx, step)

    def _torch_wave(self, ctx: Ctx, step: Any) -> Any:
        """torch's own ``(1 + cos(pi * t / T_max)) / 2``, in its float arithmetic."""
        return 0.5 + 0.5 * ctx.xp.cos(ctx.float(step) * (math.pi / self.T_max))

    def _chain_maps(self, epochs: np.ndarray, groups: int, base: np.ndarray) -> ChainMaps:
        e = epoch_grid(epochs, groups)
        T, eta = self.T_max, self.eta_min
        trough = (e - 1 - T) % (2 * T) == 0
        r = (1 + np.cos(math.pi * e / T)) / (1 + np.cos(math.pi * (e - 1) / T))
        lift = (base - eta) * (1 - math.cos(math.pi / T)) / 2
        a = np.where(trough, 1.0, r)
        b = np.where(trough, lift, eta * (1.0 - np.where(trough, 0.0, r)))
        return ChainMaps.factor(self, a, epochs, groups, b=b)

    def _course_changes(self, n: int) -> list[float]:
        return [float(x) for x in np.arange(1, n / self.T_max) * self.T_max]


def _fraction(T_max: float) -> tuple[int, int] | None:
    """``(p, q)`` where a float ``T_max`` is the float of ``p / q`` (``q <= 2**15``, ``p * q
    < 2**30``: the folded phase ``t * q mod 2p`` fits an int32), else None."""
    if not isinstance(T_max, float):
        return None
    from fractions import Fraction  # here: only float periods need it

    fraction = Fraction(T_max).limit_denominator(2**15)
    p, q = fraction.numerator, fraction.denominator
    if float(fraction) != T_max or p * q >= 2**30:
        return None
    return p, q


# Troughs searched for torch's division by zero: the first ones are where it happens.
_TROUGHS = 4096


def _torch_divides_by_zero(T_max: float, p: int, q: int) -> int | None:
    """The step at which torch's recursion for ``T_max = p / q`` raises ZeroDivisionError
    (None: none within the first troughs).

    Troughs (``(t - 1) / T_max`` odd) fall on whole steps only for an odd ``q``, at ``t - 1 =
    p * (2j + 1)``. At each, torch takes its additive branch where ``(t - 1 - T_max) % (2 *
    T_max) == 0`` in floats, and otherwise divides by ``1 + cos(pi * (t - 1) / T_max)``: this
    is torch's own arithmetic, as its ``get_lr`` does it (checked live in the tests)."""
    if q % 2 == 0:
        return None
    for j in range(_TROUGHS):
        epoch = p * (2 * j + 1) + 1
        if (epoch - 1 - T_max) % (2 * T_max) == 0:
            continue
        if 1 + math.cos(math.pi * (epoch - 1) / T_max) == 0.0:
            return epoch
    return None


@dataclasses.dataclass(frozen=True)
class CosineAnnealingWarmRestarts(Schedule):
    """Cosine annealing from ``base_lr`` to ``eta_min`` that restarts, each period ``T_mult``
    times longer than the last (SGDR).

    With ``T_cur`` the steps since the last restart and ``T_i`` the current period:
    ``lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``. Restarts
    happen at ``T_0 * (T_mult**n - 1) / (T_mult - 1)`` (every ``T_0`` steps when
    ``T_mult == 1``), forever; they are found by one integer lookup, never a loop.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      T_0: the first period, a positive integer.
      T_mult: the period growth, an integer >= 1.
      eta_min: the lr at the end of each period, any finite number (a negative one makes the
        lr negative before each restart, as in torch).

    >>> s = CosineAnnealingWarmRestarts(1.0, T_0=4)
    >>> round(s(2), 12), s(4)
    (0.5, 1.0)
    """

    _reference = TORCH

    base_lr: float | Sequence[float]
    T_0: int
    T_mult: int = 1
    eta_min: float = 0.0
    _restarts: ByWidth = dataclasses.field(init=False, repr=False, compare=False)

    # Every torch step sets the lr from the epoch since the last restart.
    chain: ClassVar[Literal["factor", "affine", "absolute"]] = "absolute"
    _real_steps = True
    _torch_attributes = ("T_0", "T_mult", "eta_min")
    _lr_arguments = ("base_lr", "eta_min")
    _hyperparameters = ("base_lr", "eta_min")
    _gallery = ("CosineAnnealingWarmRestarts(0.1, T_0=10, T_mult=2, eta_min=0.001)", 150)

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        T_0 = check.integer("T_0", self.T_0)
        T_mult = check.integer("T_mult", self.T_mult)
        starts, periods = [0], [T_0]
        if T_mult > 1:
            while starts[-1] + periods[-1] <= _INT64_MAX:
                starts.append(starts[-1] + periods[-1])
                periods.append(periods[-1] * T_mult)
        self._set(
            base_lr=base_lr,
            _groups=check.group_count(base_lr=base_lr),
            T_0=T_0,
            T_mult=T_mult,
            eta_min=check.real("eta_min", self.eta_min),
            # Per step width: the restarts such a step can reach (int32 stops at 2**31 - 1).
            _restarts=ByWidth(
                {
                    bits: (integer_tables(fit), tuple(float(p) for p in periods[: len(fit)]))
                    for bits in (32, 64)
                    for fit in [tuple(s for s in starts if s < 2 ** (bits - 1))]
                }
            ),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        if self.T_mult == 1:
            since = ctx.remainder(step, self.T_0) if reaches(ctx, step, self.T_0) else step
            period = float(self.T_0)  # a float operand: an int past int32 overflows JAX
        else:
            bits = ctx.iinfo(step).bits
            starts, periods = self._restarts[bits]
            cycle = searchsorted(ctx, starts, step) - 1
            since = step - ctx.gather(starts[bits], cycle, dtype=step.dtype)
            period = ctx.gather(periods, cycle)
        t_cur = ctx.float(since)
        if ctx.fraction is not None:  # a real-valued epoch: the cycle is its whole part's
            t_cur = t_cur + ctx.fraction
        return anneal_cos(ctx, ctx.const(self.base_lr), self.eta_min, t_cur / period)

    def _cycle(self, epoch: int) -> tuple[int, int]:
        """The (start, length) of the period holding the whole epoch ``epoch`` (on the host)."""
        if self.T_mult == 1:
            return epoch - epoch % self.T_0, self.T_0
        start, period = 0, self.T_0
        while start + period <= epoch:
            start, period = start + period, period * self.T_mult
        return start, period

    def _check_epoch(self, epoch: float) -> None:
        # torch finds the period of step(epoch) as int(math.log(epoch / T_0 * (T_mult - 1) + 1,
        # T_mult)), which rounds down at some restarts (T_0=1, T_mult=3: 121 gives period 81
        # at T_cur=81, the trough, where the restart is due): refused, never a different lr.
        if self.T_mult == 1 or epoch < self.T_0:
            return
        n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
        start, period = self._cycle(math.floor(epoch))
        if self.T_0 * self.T_mult**n != period:
            raise ValueError(
                f"step({epoch!r}) of CosineAnnealingWarmRestarts(T_0={self.T_0}, "
                f"T_mult={self.T_mult}) is a restart torch's step(epoch) misses: its log "
                f"rounds to period {self.T_0 * self.T_mult**n}, where the epoch is in the "
                f"period of {period} steps from {start} (torch's lr there is eta_min, not the "
                "restart's); step() there instead, which both compute alike"
            )

    def _check_live(self, scheduler: Any) -> None:
        # torch keeps the cycle it is in (T_cur, T_i) beside last_epoch: a scheduler rebuilt
        # with last_epoch= starts a cycle of its own (T_cur = last_epoch), which no schedule of
        # the epoch gives. A real-valued epoch (step(epoch + i / iters)) stands at T_cur.
        epoch, t_cur, t_i = scheduler.last_epoch, float(scheduler.T_cur), scheduler.T_i
        start, period = self._cycle(max(epoch, 0))
        # torch's T_cur is the real epoch less the period's start (a whole number): adding it
        # back gives that epoch (to the rounding of one float subtraction, never past floor)
        real: float = start + t_cur
        if t_cur.is_integer():
            real = start + int(t_cur)
        if t_i != period or not 0 <= t_cur < t_i or math.floor(real) != epoch:
            raise ValueError(
                f"from_torch cannot express CosineAnnealingWarmRestarts with T_cur={t_cur!r}, "
                f"T_i={t_i!r} at last_epoch={epoch}: no epoch reaches that state from the "
                f"start (at epoch {epoch} the period is {period} steps from epoch {start}). "
                "torch gets there when built with last_epoch= (its T_cur restarts from it) "
                "or stepped to a restart at an epoch whose log rounds down"
            )
        if real != epoch:
            warnings.warn(
                f"the CosineAnnealingWarmRestarts was last stepped to the real epoch {real!r} "
                f"(T_cur={t_cur!r}): its lr is schedule({real!r}), not schedule({epoch}), and "
                "its next step() goes to epoch "
                f"{real + 1!r}; step lrfun.torch.Scheduler with the same epochs",
                UserWarning,
                stacklevel=4,
            )

    def _course_changes(self, n: int) -> list[float]:
        restarts: list[float] = []
        period = at = self.T_0
        while at < n:
            restarts.append(at)
            period *= self.T_mult
            at += period
        return restarts
