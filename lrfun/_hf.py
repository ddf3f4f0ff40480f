"""transformers' learning-rate schedules (``transformers.get_scheduler``) as closed forms.

transformers builds each of its schedules as a torch ``LambdaLR`` whose ``lr_lambda`` is a
``functools.partial`` of a module-level function of the step with Python ``if``\\s inside:
``lr(t) = base_lr * lr_lambda(t)``. Each class below is one of those functions, its fields
the partial's keywords (beside ``base_lr``), written once against the array API from a few
shared pieces:

* phases: ``_phase`` selects the piece that holds before a step boundary (warmup,
  stable, decay, tail) with ``where``, never a Python branch on the step;
* warmup shapes: the linear ramp ``t / max(1, W)`` most schedules share, and WSD's linear,
  cosine and 1-sqrt ramps (``_WARMUP_SHAPES``);
* decay shapes: the half cosine with ``num_cycles`` (``_cosine``), WSD's linear, cosine
  and 1-sqrt decays (``_DECAY_SHAPES``), the floor ``f * (1 - m) + m``
  (``_floored``), and the exact step differences they are fractions of
  (``_since``, ``_until``).

Every piece keeps transformers' arithmetic order (the numerator of a fraction taken in
integers first) but one: the cosines take their whole turns off before the ``pi``
(``_cosine``), so that float32 keeps its accuracy past the total. In float64 the results
are transformers' own up to a few ulps.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, cast

import numpy as np

from lrfun import _validate as check
from lrfun._backend import SCALARS, Ctx
from lrfun._math import reaches
from lrfun._reference import LiveScheduler
from lrfun._schedule import Schedule

__all__ = [
    "ConstantWithWarmup",
    "CosineWarmupWithMinLr",
    "CosineWithHardRestarts",
    "CosineWithWarmup",
    "InverseSqrt",
    "LinearWithWarmup",
    "PolynomialDecayWithWarmup",
    "WarmupStableDecay",
]

# WSD's phase shapes, as transformers names them.
SHAPES = ("linear", "cosine", "1-sqrt")

# A step count may be as large as an int64 step.
_INT_MAX = check.INT_MAX


# -- the pieces ---------------------------------------------------------------------------


def _phase(
    ctx: Ctx, step: Any, end: int, before: Callable[[], Any], after: Callable[[], Any]
) -> Any:
    """``before()`` for steps below ``end``, ``after()`` from it on (transformers' ``if step <
    end``), as a ``where``. A phase that is empty, or that no step of this integer width
    leaves (an int32 count stops at 2**31 - 1), is decided here, without tracing the other
    piece."""
    if ctx.xp is SCALARS:  # one Python-int step: its own phase only
        return before() if step < end else after()
    if end <= 0 or not ctx.meets(0, end):
        return after()
    if not reaches(ctx, step, end) or not ctx.meets(end, math.inf):
        return before()
    return ctx.where(step < end, before(), after())


def _at_least(ctx: Ctx, step: Any, low: int) -> Any:
    """``max(step, low)``: the step a later phase is evaluated at, so that its formula never
    sees a step before the phase (a square root of a negative, a power of one) where
    ``where`` discards the value but NumPy would still warn."""
    if low <= 0 or not reaches(ctx, step, low):
        return step
    return ctx.xp.maximum(step, ctx.xp.asarray(low, dtype=step.dtype, device=ctx.device))


def _since(ctx: Ctx, step: Any, start: int) -> Any:
    """``float(step - start)`` for ``step >= start``: the difference of integers first, then
    one rounding (in float32 a late step minus a late start keeps every unit)."""
    if 0 <= start and reaches(ctx, step, start):
        return ctx.float(step - start) if start else ctx.float(step)
    return ctx.float(step) - float(start)


def _until(ctx: Ctx, end: int, step: Any) -> Any:
    """``float(end - step)`` for ``0 <= step``, the difference of integers first."""
    if 0 <= end and reaches(ctx, step, end):
        return ctx.float(ctx.xp.asarray(end, dtype=step.dtype, device=ctx.device) - step)
    return float(end) - ctx.float(step)


def _ramp(ctx: Ctx, step: Any, steps: int) -> Any:
    """The linear warmup: ``float(step) / float(max(1, steps))``."""
    return ctx.float(step) / float(max(1, steps))


def _nonnegative(ctx: Ctx, x: Any) -> Any:
    """Python's ``max(0.0, x)``."""
    return ctx.where(x > 0, x, 0.0)


def _root(ctx: Ctx, x: Any) -> Any:
    """``sqrt(x)`` of an ``x`` >= 0 that XLA may round just below 0 (it divides by a constant
    as a multiplication by its reciprocal: ``1 - 3 / 3`` can come out -6e-8)."""
    return ctx.xp.sqrt(_nonnegative(ctx, x))


def _cosine(ctx: Ctx, num_cycles: Any, since: Any, span: int) -> Any:
    """The half cosine of transformers' decays at progress ``since / span``: ``0.5 * (1.0 +
    cos(pi * num_cycles * 2.0 * progress))`` (``num_cycles=0.5``: from 1 at progress 0 to 0
    at progress 1).

    The whole turns are taken off before the division and the ``pi``: ``num_cycles * 2.0 *
    since`` is exact in float32 for the cycles users write (0.5, 1, 0.25, ...), so past the
    total, where transformers' cosine keeps turning, a float32 evaluation keeps its
    accuracy instead of losing it with the size of the argument.
    """
    turns = (num_cycles * 2.0 * since) % (2.0 * span) / float(span)
    return 0.5 * (1.0 + ctx.xp.cos(math.pi * turns))


def _turns_end(num_cycles: Any, end: int) -> int | None:
    """``Schedule._float32_steps`` of a cosine that keeps turning past ``end``: every
    step when float32 holds ``num_cycles`` exactly, else ``end`` (past it the rounding of
    ``num_cycles`` to float32 shifts the phase by a fraction that grows with the step)."""
    exact = isinstance(num_cycles, float) and float(np.float32(num_cycles)) == num_cycles
    return None if exact else end


def _floored(ctx: Ctx, factor: Any, floor: Any) -> Any:
    """``max(0, factor * (1 - floor) + floor)``: a shape rescaled to end at ``floor``."""
    return _nonnegative(ctx, factor * (1.0 - floor) + floor)


_WARMUP_SHAPES: dict[str, Callable[[Ctx, Any], Any]] = {
    "linear": lambda ctx, p: p,
    "cosine": lambda ctx, p: 0.5 * (1.0 - ctx.xp.cos(math.pi * p)),
    "1-sqrt": lambda ctx, p: 1.0 - _root(ctx, 1.0 - p),
}

# (ctx, since, span, num_cycles) -> the decay at progress since / span
_DECAY_SHAPES: dict[str, Callable[[Ctx, Any, int, Any], Any]] = {
    "linear": lambda ctx, since, span, cycles: 1.0 - since / float(span),
    "cosine": lambda ctx, since, span, cycles: _cosine(ctx, cycles, since, span),
    "1-sqrt": lambda ctx, since, span, cycles: 1.0 - _root(ctx, since / float(span)),
}


def transformers_optimization(name: str) -> Any:
    """``transformers.optimization``, the live reference of the schedule ``name``; an
    ImportError saying how to install it when it is not there."""
    try:
        from transformers import optimization
    except ImportError:
        raise ImportError(
            f"the live reference of {name} is transformers, which is not installed: "
            "pip install 'lrfun[hf]'"
        ) from None
    return optimization


# -- the classes --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Transformers(Schedule, register=False):
    """One of transformers' ``LambdaLR`` schedules: ``lr(t) = base_lr * multiplier(t)``.

    Registered as ``hf.<Class>``: configs and specs name them so (``lrfun.from_config``,
    ``lrfun plot "hf.CosineWithWarmup(0.1, 10, 100)" --torch``).

    ``num_warmup_steps`` and ``num_training_steps`` may be whole floats (``10.0``), taken as
    their integers: transformers compares the step with them and divides by them, which
    gives the integer's values.
    """

    base_lr: float | Sequence[float]
    num_warmup_steps: int

    _namespace = "hf."
    # transformers builds torch LambdaLRs of its own functions (from_torch reads those).
    _reference = LiveScheduler(
        "transformers", "torch.optim.lr_scheduler.LambdaLR", package="transformers"
    )
    # transformers' module-level lr_lambda functions this class is (the first one builds the
    # live reference; a partial of any of them with the class's keywords is this schedule).
    _functions: ClassVar[tuple[str, ...]] = ()
    # The transformers.get_scheduler types that build this class.
    _types: ClassVar[tuple[str, ...]] = ()

    def _torch_object(self, optimizer: Any) -> Any:
        """transformers' own scheduler: a torch ``LambdaLR`` of a ``functools.partial`` of
        its function with these keywords, exactly as ``transformers.get_scheduler`` builds
        it."""
        import torch

        optimization = transformers_optimization(self._name)
        function = functools.partial(
            getattr(optimization, self._functions[0]), **self._live_arguments()
        )
        return torch.optim.lr_scheduler.LambdaLR(optimizer, function)

    @classmethod
    def _recognise(cls, obj: object) -> Schedule | None:
        # A LambdaLR is this schedule where its functions are partials of this class's.
        assert cls._reference is not None
        if not cls._reference.holds(obj, cls):
            return None
        found = from_lambda_lr(obj)
        return found if type(found) is cls else None

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        self._set(
            base_lr=base_lr,
            _groups=check.group_count(base_lr=base_lr),
            # A whole float (10.0) is its integer: transformers compares and divides by it.
            num_warmup_steps=check.integer(
                "num_warmup_steps", self.num_warmup_steps, minimum=0, whole=True
            ),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        # torch's LambdaLR: base_lr * lr_lambda(epoch), in that order
        return ctx.const(self.base_lr) * self._multiplier(ctx, step)

    def _multiplier(self, ctx: Ctx, step: Any) -> Any:
        """transformers' ``lr_lambda(step)``: the lr relative to the base."""
        w = self.num_warmup_steps
        return _phase(
            ctx,
            step,
            w,
            lambda: self._warmup(ctx, ctx.minimum(step, w)),
            lambda: self._after_warmup(ctx, _at_least(ctx, step, w)),
        )

    def _warmup(self, ctx: Ctx, step: Any) -> Any:
        return _ramp(ctx, step, self.num_warmup_steps)

    def _after_warmup(self, ctx: Ctx, step: Any) -> Any:
        raise NotImplementedError

    def _course_changes(self, n: int) -> list[float]:
        ends = [self.num_warmup_steps, getattr(self, "num_training_steps", 0)]
        return sorted({e for e in ends if 0 < e < n})


def _training_steps(value: Any) -> int:
    return check.integer("num_training_steps", value, minimum=0, whole=True)


@dataclasses.dataclass(frozen=True)
class ConstantWithWarmup(_Transformers):
    """transformers' ``constant_with_warmup`` (and ``constant``: no warmup): a linear warmup
    from 0 to ``base_lr`` over ``num_warmup_steps`` steps, then ``base_lr``.

    ``lr(t) = base_lr * (t / max(1, W) if t < W else 1)``.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      num_warmup_steps: W, an integer >= 0.

    >>> s = ConstantWithWarmup(0.1, num_warmup_steps=4)
    >>> s(2), s(4), s(100)
    (0.05, 0.1, 0.1)
    """

    num_warmup_steps: int = 0

    _hyperparameters = ("base_lr",)
    _types = ("constant_with_warmup", "constant")
    _functions = ("_get_constant_schedule_with_warmup_lr_lambda", "_get_constant_lambda")
    _gallery = ("hf.ConstantWithWarmup(0.1, num_warmup_steps=20)", 100)

    def _after_warmup(self, ctx: Ctx, step: Any) -> Any:
        return 1.0


@dataclasses.dataclass(frozen=True)
class LinearWithWarmup(_Transformers):
    """transformers' ``linear``: a linear warmup to ``base_lr`` over ``num_warmup_steps``, then
    a linear decay to 0 at ``num_training_steps``, and 0 after.

    ``lr(t) = base_lr * max(0, (T - t) / max(1, T - W))`` for ``t >= W``.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      num_warmup_steps: W, an integer >= 0.
      num_training_steps: T, an integer >= 0.

    >>> s = LinearWithWarmup(1.0, num_warmup_steps=2, num_training_steps=10)
    >>> s(1), s(2), s(6), s(12)
    (0.5, 1.0, 0.5, 0.0)
    """

    num_training_steps: int

    _hyperparameters = ("base_lr",)
    _types = ("linear",)
    _functions = ("_get_linear_schedule_with_warmup_lr_lambda",)
    _gallery = ("hf.LinearWithWarmup(0.1, num_warmup_steps=10, num_training_steps=100)", 120)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set(num_training_steps=_training_steps(self.num_training_steps))

    def _after_warmup(self, ctx: Ctx, step: Any) -> Any:
        t, w = self.num_training_steps, self.num_warmup_steps
        return _nonnegative(ctx, _until(ctx, t, step) / float(max(1, t - w)))


@dataclasses.dataclass(frozen=True)
class CosineWithWarmup(_Transformers):
    """transformers' ``cosine`` and ``cosine_with_min_lr``: a linear warmup, then
    ``num_cycles`` cosine waves over the remaining ``num_training_steps - W`` steps, from
    ``base_lr`` down to ``base_lr * min_lr_rate``.

    ``lr(t) = base_lr * max(0, c * (1 - m) + m)`` with ``c = 0.5 * (1 + cos(pi * num_cycles *
    2 * p))`` and ``p = (t - W) / max(1, T - W)``, for ``t >= W``.

    transformers behaviour reproduced: the cosine is not clamped at ``num_training_steps``;
    past it the lr follows the wave back up (with ``num_cycles=0.5`` it is back at
    ``base_lr`` at ``2T - W``). With ``W >= T`` the progress advances one whole unit per
    step, so the lr alternates between ``base_lr`` and the floor after the warmup.

    In float32 the cosine's angle ``2 pi * num_cycles * p`` carries float32 rounding, which
    grows with it: the lr stays within the float32 tolerance of the float64 value while
    ``num_cycles * p <= 8`` (every step of a decay with up to 8 cycles, and well past its
    end); far beyond (``W >= T``, where ``p`` grows by 1 a step) it drifts further.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      num_warmup_steps: W, an integer >= 0.
      num_training_steps: T, an integer >= 0.
      num_cycles: the number of cosine waves over the decay, a finite number >= 0 (0.5: a
        half cosine down to the floor).
      min_lr_rate: m, the floor as a fraction of ``base_lr``, a finite number >= 0.

    >>> s = CosineWithWarmup(1.0, num_warmup_steps=0, num_training_steps=10)
    >>> s(0), round(s(5), 12), s(10), s(20)
    (1.0, 0.5, 0.0, 1.0)
    """

    num_training_steps: int
    num_cycles: float = 0.5
    min_lr_rate: float = 0.0

    _hyperparameters = ("base_lr", "num_cycles", "min_lr_rate")
    _types = ("cosine", "cosine_with_min_lr")
    _functions = ("_get_cosine_schedule_with_warmup_lr_lambda",)
    _gallery = ("hf.CosineWithWarmup(0.1, num_warmup_steps=10, num_training_steps=100)", 120)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set(
            num_training_steps=_training_steps(self.num_training_steps),
            num_cycles=check.real("num_cycles", self.num_cycles, low=0.0),
            min_lr_rate=check.real("min_lr_rate", self.min_lr_rate, low=0.0),
        )

    def _after_warmup(self, ctx: Ctx, step: Any) -> Any:
        t, w = self.num_training_steps, self.num_warmup_steps
        wave = _cosine(ctx, self.num_cycles, _since(ctx, step, w), max(1, t - w))
        return _floored(ctx, wave, self.min_lr_rate)

    def _float32_steps(self) -> int | None:
        return _turns_end(self.num_cycles, max(self.num_training_steps, self.num_warmup_steps))


@dataclasses.dataclass(frozen=True)
class CosineWithHardRestarts(_Transformers):
    """transformers' ``cosine_with_restarts``: a linear warmup, then ``num_cycles`` half
    cosines from ``base_lr`` to 0, each restarting at ``base_lr``, and 0 from
    ``num_training_steps`` on.

    ``lr(t) = base_lr * 0.5 * (1 + cos(pi * ((num_cycles * p) % 1)))`` for ``W <= t`` and
    ``p = (t - W) / max(1, T - W) < 1``; 0 where ``p >= 1``.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      num_warmup_steps: W, an integer >= 0.
      num_training_steps: T, an integer >= 0.
      num_cycles: the number of half cosines, a finite number >= 0 (transformers documents an
        integer; a fraction ends the last one early).

    >>> s = CosineWithHardRestarts(1.0, num_warmup_steps=0, num_training_steps=8, num_cycles=2)
    >>> s(0), round(s(2), 12), s(4), s(8)
    (1.0, 0.5, 1.0, 0.0)
    """

    num_training_steps: int
    num_cycles: float = 1

    _hyperparameters = ("base_lr", "num_cycles")
    _types = ("cosine_with_restarts",)
    _functions = ("_get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda",)
    _gallery = (
        "hf.CosineWithHardRestarts(0.1, num_warmup_steps=10, num_training_steps=100, num_cycles=3)",
        120,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set(
            num_training_steps=_training_steps(self.num_training_steps),
            num_cycles=check.real("num_cycles", self.num_cycles, low=0.0),
        )

    def _after_warmup(self, ctx: Ctx, step: Any) -> Any:
        t, w = self.num_training_steps, self.num_warmup_steps
        span = float(max(1, t - w))
        if ctx.dtype == ctx.xp.float64:  # transformers' arithmetic
            phase = (self.num_cycles * (_since(ctx, step, w) / span)) % 1.0
        elif self._whole_cycles() is not None and reaches(ctx, step, w + int(span) - 1):
            # A whole num_cycles c: the phase's numerator c * k mod span in integers, k held
            # below the span (past it the lr is 0). float32 holds no step past 2**24: k
            # rounded up to the span made the step before it a restart (the peak, 3e7 steps:
            # 0.1 where transformers gives 2.7e-16).
            k = ctx.minimum(step, w + int(span) - 1) - w
            phase = ctx.float(ctx.remainder(k * self._whole_cycles(), int(span))) / span
        else:
            # The remainder of the numerator: at a restart (num_cycles * k a multiple of
            # the span) it is exactly 0, where float32 (and XLA's reciprocal) can give
            # 0.99999994 for the fraction, the end of the previous cycle.
            phase = ((self.num_cycles * _since(ctx, step, w)) % span) / span
        wave = 0.5 * (1.0 + ctx.xp.cos(math.pi * phase))
        # transformers' `progress >= 1.0`, decided in integers (the same for a correctly
        # rounded quotient; XLA's reciprocal gives 55 / 55 = 0.99999994)
        return _phase(ctx, step, w + max(1, t - w), lambda: _nonnegative(ctx, wave), lambda: 0.0)

    def _whole_cycles(self) -> int | None:
        """``num_cycles`` as an int where it is a whole float whose products with every step
        of the span fit the step's int32 (``c * span < 2**31``), else None."""
        c, span = self.num_cycles, max(1, self.num_training_steps - self.num_warmup_steps)
        if not isinstance(c, float) or not c.is_integer() or c * span >= 2**31:
            return None
        return int(c)

    def _course_changes(self, n: int) -> list[float]:
        w, t, cycles = self.num_warmup_steps, self.num_training_steps, self.num_cycles
        restarts: list[float] = []
        if isinstance(cycles, float) and cycles > 0 and t > w:
            # only the restarts before n, and none when they are denser than the steps.
            last = min(math.ceil(cycles), math.ceil((n - w) * cycles / (t - w)) + 1)
            if last <= n:
                restarts = [w + k * (t - w) / cycles for k in range(1, last)]
        return sorted({*super()._course_changes(n), *(r for r in restarts if r < n)})


@dataclasses.dataclass(frozen=True)
class PolynomialDecayWithWarmup(_Transformers):
    """transformers' ``polynomial``: a linear warmup, then a polynomial decay from ``lr_init``
    to ``lr_end`` at ``num_training_steps``, and ``lr_end`` after -- each relative to
    ``lr_init``, the optimizer's default lr, so every group's lr is its ``base_lr`` times
    the same multiplier.

    ``lr(t) = base_lr * ((lr_init - lr_end) * (1 - (t - W) / (T - W)) ** power + lr_end) /
    lr_init`` for ``W <= t <= T``, ``base_lr * lr_end / lr_init`` for ``t > T``.

    transformers divides by zero at step ``T`` when ``W == T``; lrfun gives the warmup's end
    there (``base_lr``), then ``lr_end`` from ``T + 1``.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      num_warmup_steps: W, an integer >= 0.
      num_training_steps: T, an integer >= 0.
      lr_end: the final lr (of a group whose base is ``lr_init``), a finite number >= 0.
      power: the decay's exponent, 0 or a finite number >= 2**-126 (float32's smallest
        normal number).
      lr_init: the optimizer's default lr (torch's ``optimizer.defaults["lr"]``), a finite
        number > ``lr_end``; by default ``base_lr`` (one group, or groups of one lr).

    >>> s = PolynomialDecayWithWarmup(1.0, 0, 10, lr_end=0.0, power=2.0)
    >>> s(0), s(5), s(10), s(11)
    (1.0, 0.25, 0.0, 0.0)
    """

    num_training_steps: int
    lr_end: float = 1e-7
    power: float = 1.0
    lr_init: float | None = None

    _hyperparameters = ("base_lr", "lr_end", "power", "lr_init")
    _types = ("polynomial",)
    _functions = ("_get_polynomial_decay_schedule_with_warmup_lr_lambda",)
    _gallery = (
        "hf.PolynomialDecayWithWarmup(0.1, num_warmup_steps=10, num_training_steps=100, "
        "lr_end=0.01, power=2.0)",
        120,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        lr_init = default_lr("lr_init", self.base_lr, self.lr_init)
        lr_end = check.real("lr_end", self.lr_end, low=0.0)
        if isinstance(lr_init, float) and isinstance(lr_end, float) and not lr_init > lr_end:
            raise ValueError(f"lr_end ({lr_end}) must be smaller than initial lr ({lr_init})")
        self._set(
            num_training_steps=_training_steps(self.num_training_steps),
            lr_end=lr_end,
            power=_power(self.power),
            lr_init=lr_init,
        )

    def _after_warmup(self, ctx: Ctx, step: Any) -> Any:
        t, w = self.num_training_steps, self.num_warmup_steps
        lr_init = self.lr_init
        assert lr_init is not None  # __post_init__ sets it (the default lr when not given)
        end = self.lr_end / lr_init
        if t < w:  # no decay phase: every step from W on is past T
            return end

        def decay() -> Any:
            # the decay phase, W <= t <= T: the step held in it
            within = ctx.minimum(step, t)
            span = max(1, t - w)
            if ctx.dtype == ctx.xp.float64:  # transformers' arithmetic
                remaining = 1.0 - _since(ctx, within, w) / float(span)
            else:
                # The same fraction from its integer numerator: 1 - k / D would leave float32
                # (and XLA's reciprocal) rounding near 0, which a power below 1 magnifies
                # (1 - 71 / 71 = 6e-8 in XLA, whose square root is 2e-4).
                remaining = _until(ctx, w + span, within) / float(span)
            remaining = _nonnegative(ctx, remaining)
            lr_range = lr_init - self.lr_end
            return (lr_range * remaining**self.power + self.lr_end) / lr_init

        return _phase(ctx, step, t + 1, decay, lambda: end)


# float32's smallest normal number: a smaller power is 0 in float32 (where 0 ** 0 is 1).
_FLOAT32_TINY = 2.0**-126


def _power(value: Any) -> Any:
    power = check.real("power", value, low=0.0)
    if isinstance(power, float) and 0.0 < power < _FLOAT32_TINY:
        raise ValueError(
            f"power must be 0 or at least {_FLOAT32_TINY!r} (float32's smallest normal number, "
            f"below which float32 takes it for 0), got {power!r}"
        )
    return power


@dataclasses.dataclass(frozen=True)
class InverseSqrt(_Transformers):
    """transformers' ``inverse_sqrt``: a linear warmup, then ``base_lr / sqrt((t - W +
    timescale) / timescale)`` (big_vision's rsqrt decay).

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      num_warmup_steps: W, an integer >= 0.
      timescale: a positive integer (a whole float is its integer); by default
        ``num_warmup_steps``, or 10,000 without
        warmup (transformers' default).

    >>> s = InverseSqrt(1.0, num_warmup_steps=4)
    >>> s(2), s(4), s(16)
    (0.5, 1.0, 0.5)
    """

    timescale: int | None = None

    _hyperparameters = ("base_lr",)
    _types = ("inverse_sqrt",)
    _functions = ("_get_inverse_sqrt_schedule_lr_lambda",)
    _gallery = ("hf.InverseSqrt(0.1, num_warmup_steps=20)", 200)

    def __post_init__(self) -> None:
        super().__post_init__()
        timescale = self.timescale
        if timescale is None:
            timescale = self.num_warmup_steps or 10_000
        # a whole float is its integer: transformers' default is num_warmup_steps as given
        self._set(timescale=check.integer("timescale", timescale, whole=True))

    def _after_warmup(self, ctx: Ctx, step: Any) -> Any:
        assert self.timescale is not None  # set by the constructor
        shifted = _since(ctx, step, self.num_warmup_steps - self.timescale)
        return 1.0 / ctx.xp.sqrt(shifted / float(self.timescale))


@dataclasses.dataclass(frozen=True)
class CosineWarmupWithMinLr(_Transformers):
    """transformers' ``cosine_warmup_with_min_lr``: a warmup that reaches ``base_lr`` one
    step early, then a cosine down to ``base_lr * min_lr_rate`` that is one step ahead of
    [``CosineWithWarmup``][lrfun.hf.CosineWithWarmup]'s.

    Warmup (``t < W``): ``(t + 1) / max(1, W)``, or, with ``warmup_lr_rate`` r, ``r + (1 - r)
    * t / max(1, W - 1)``. Then ``max(0, c * (1 - m) + m)`` with ``c = 0.5 * (1 + cos(pi *
    num_cycles * 2 * p))`` and ``p = (t - W + 1) / max(1, T - W)``: the floor is reached at
    step ``T - 1`` and, as in ``CosineWithWarmup``, the wave goes on past it (in
    float32 within tolerance while ``num_cycles * p <= 8``, as there).

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      num_warmup_steps: W, an integer >= 0.
      num_training_steps: T, an integer >= 0.
      num_cycles: the number of cosine waves over the decay, a finite number >= 0.
      min_lr_rate: m, the floor as a fraction of ``base_lr``, a finite number >= 0.
      warmup_lr_rate: r, where the warmup starts as a fraction of ``base_lr``, a finite
        number; None: ``1 / W``.

    >>> s = CosineWarmupWithMinLr(1.0, 2, 12, min_lr_rate=0.1)
    >>> s(0), s(1), round(s(6), 12), round(s(11), 12)
    (0.5, 1.0, 0.55, 0.1)
    """

    num_training_steps: int
    num_cycles: float = 0.5
    min_lr_rate: float = 0.0
    warmup_lr_rate: float | None = None

    _hyperparameters = ("base_lr", "num_cycles", "min_lr_rate", "warmup_lr_rate")
    _types = ("cosine_warmup_with_min_lr",)
    _functions = ("_get_cosine_with_min_lr_schedule_with_warmup_lr_rate_lambda",)
    _gallery = (
        "hf.CosineWarmupWithMinLr(0.1, num_warmup_steps=10, num_training_steps=100, "
        "min_lr_rate=0.1)",
        120,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        rate = self.warmup_lr_rate
        self._set(
            num_training_steps=_training_steps(self.num_training_steps),
            num_cycles=check.real("num_cycles", self.num_cycles, low=0.0),
            min_lr_rate=check.real("min_lr_rate", self.min_lr_rate, low=0.0),
            warmup_lr_rate=None if rate is None else check.real("warmup_lr_rate", rate),
        )

    def _warmup(self, ctx: Ctx, step: Any) -> Any:
        w, rate = self.num_warmup_steps, self.warmup_lr_rate
        if rate is None:
            return (ctx.float(step) + 1.0) / float(max(1, w))
        return rate + (1.0 - rate) * ctx.float(step) / float(max(1, w - 1))

    def _after_warmup(self, ctx: Ctx, step: Any) -> Any:
        t, w = self.num_training_steps, self.num_warmup_steps
        wave = _cosine(ctx, self.num_cycles, _since(ctx, step, w) + 1.0, max(1, t - w))
        return _floored(ctx, wave, self.min_lr_rate)

    def _float32_steps(self) -> int | None:
        return _turns_end(self.num_cycles, max(self.num_training_steps, self.num_warmup_steps))


@dataclasses.dataclass(frozen=True)
class WarmupStableDecay(_Transformers):
    """transformers' ``warmup_stable_decay`` (WSD): a warmup from ``base_lr * min_lr_ratio``
    to ``base_lr``, a stable phase at ``base_lr``, a decay back to ``base_lr *
    min_lr_ratio``, and that floor after.

    For ``t < W``: ``max(0, f(t / max(1, W)) * (1 - m) + m)`` with the warmup shape f --
    ``linear`` p, ``cosine`` ``0.5 * (1 - cos(pi * p))``, ``1-sqrt`` ``1 - sqrt(1 - p)``;
    for ``t < W + S``: 1; for ``t < W + S + D``: ``max(0, g(p) * (1 - m) + m)`` with
    ``p = (t - W - S) / max(1, D)`` and the decay shape g -- ``linear`` ``1 - p``,
    ``cosine`` ``0.5 * (1 + cos(pi * num_cycles * 2 * p))``, ``1-sqrt`` ``1 - sqrt(p)``;
    then m.

    transformers behaviour reproduced: a negative ``num_stable_steps`` (what
    ``get_wsd_schedule`` computes when ``num_training_steps < W + D``) starts the decay
    part-way through, at the step after the warmup.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      num_warmup_steps: W, an integer >= 0.
      num_stable_steps: S, an integer (negative: see above).
      num_decay_steps: D, an integer >= 0.
      warmup_type: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
      decay_type: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
      min_lr_ratio: m, the floor as a fraction of ``base_lr``, a finite number >= 0.
      num_cycles: the number of cosine waves of a ``cosine`` decay, a finite number >= 0.

    >>> s = WarmupStableDecay(1.0, 2, 3, 4, decay_type="linear", min_lr_ratio=0.5)
    >>> s(0), s(1), s(4), s(7), s(9)
    (0.5, 0.75, 1.0, 0.75, 0.5)
    """

    num_stable_steps: int
    num_decay_steps: int
    warmup_type: str = "linear"
    decay_type: str = "cosine"
    min_lr_ratio: float = 0.0
    num_cycles: float = 0.5

    _hyperparameters = ("base_lr", "min_lr_ratio", "num_cycles")
    _types = ("warmup_stable_decay",)
    _functions = ("_get_wsd_scheduler_lambda",)
    _gallery = (
        "hf.WarmupStableDecay(0.1, num_warmup_steps=10, num_stable_steps=60, num_decay_steps=30)",
        120,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set(
            # whole floats are their integers, as transformers computes with them
            # (get_wsd_schedule's num_training_steps=10.0 makes num_stable_steps a float)
            num_stable_steps=check.integer(
                "num_stable_steps", self.num_stable_steps, minimum=-_INT_MAX, whole=True
            ),
            num_decay_steps=check.integer(
                "num_decay_steps", self.num_decay_steps, minimum=0, whole=True
            ),
            warmup_type=check.choice("warmup_type", self.warmup_type, SHAPES),
            decay_type=check.choice("decay_type", self.decay_type, SHAPES),
            min_lr_ratio=check.real("min_lr_ratio", self.min_lr_ratio, low=0.0),
            num_cycles=check.real("num_cycles", self.num_cycles, low=0.0),
        )

    def _warmup(self, ctx: Ctx, step: Any) -> Any:
        shape = _WARMUP_SHAPES[self.warmup_type]
        return _floored(ctx, shape(ctx, _ramp(ctx, step, self.num_warmup_steps)), self.min_lr_ratio)

    def _after_warmup(self, ctx: Ctx, step: Any) -> Any:
        stable_end = self.num_warmup_steps + self.num_stable_steps
        decay_end = stable_end + self.num_decay_steps

        def decay() -> Any:
            # the decay phase, held between its ends (where its formula is defined)
            within = _at_least(ctx, step, stable_end)
            if 0 < decay_end and reaches(ctx, step, decay_end):
                within = ctx.minimum(within, decay_end)
            since, span = _since(ctx, within, stable_end), max(1, self.num_decay_steps)
            shape = _DECAY_SHAPES[self.decay_type]
            return _floored(ctx, shape(ctx, since, span, self.num_cycles), self.min_lr_ratio)

        return _phase(
            ctx,
            step,
            stable_end,
            lambda: 1.0,
            lambda: _phase(ctx, step, decay_end, decay, lambda: self.min_lr_ratio),
        )

    def _course_changes(self, n: int) -> list[float]:
        w = self.num_warmup_steps
        ends = (w, w + self.num_stable_steps, w + self.num_stable_steps + self.num_decay_steps)
        return sorted({e for e in ends if 0 < e < n})


def default_lr(name: str, base_lr: Any, value: Any) -> Any:
    """torch's ``optimizer.defaults["lr"]``, which some of transformers' schedules read: the
    value given (checked as a positive lr), else the base lr of every group when they agree.

    Raises:
      ValueError: not given, and the groups' base lrs differ (the optimizer's default cannot
        be told from them).
    """
    if value is not None:
        return check.real(name, value, low=0.0, low_open=True)
    base = check.lr_values("base_lr", base_lr)
    values = base if isinstance(base, tuple) else (base,)
    if any(v is not values[0] and v != values[0] for v in values):
        raise ValueError(
            f"{name} must be given when the param groups' base lrs differ ({list(values)}): "
            'transformers reads the optimizer\'s default lr (optimizer.defaults["lr"])'
        )
    return check.real(name, values[0], low=0.0, low_open=True)


# transformers' module-level lr_lambda functions (partials of them are what its LambdaLRs
# hold), by name: the class each one is.
_BY_FUNCTION: dict[str, type[_Transformers]] = {
    function: cls for cls in _Transformers.__subclasses__() for function in cls._functions
}


def from_lambda_lr(scheduler: Any) -> _Transformers | None:
    """The closed form of a torch ``LambdaLR`` that transformers built (every group's
    ``lr_lambda`` a ``functools.partial`` of one of transformers' own functions, with the
    same keywords), or None for any other LambdaLR.

    Args:
      scheduler: a torch ``LambdaLR``.

    Returns:
      The lrfun schedule with the partial's keywords and the scheduler's base lrs.
    """
    fns = list(scheduler.lr_lambdas)
    first = fns[0]
    func = getattr(first, "func", first)
    if getattr(func, "__module__", None) != "transformers.optimization":
        return None
    cls = _BY_FUNCTION.get(getattr(func, "__name__", ""))
    keywords = dict(getattr(first, "keywords", None) or {})
    same = all(
        getattr(fn, "func", fn) is func and dict(getattr(fn, "keywords", None) or {}) == keywords
        for fn in fns
    )
    # A partial's positional args, a tuple (the cast keeps mypy from reading the default as
    # a bool, the context of ``or``).
    if cls is None or not same or cast("tuple[Any, ...]", getattr(first, "args", ())):
        return None
    if cls is ConstantWithWarmup:
        keywords.setdefault("num_warmup_steps", 0)
    base = [float(b) for b in scheduler.base_lrs]
    return cls(base[0] if len(base) == 1 else tuple(base), **keywords)
