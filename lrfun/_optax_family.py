"""optax's schedule factories (``optax.schedules``) as closed forms: the ``optax.`` family.

Each class is one of optax 0.2.8's factories, its fields the factory's arguments (same
names, order and defaults), registered as ``optax.<Class>`` (``optax.LinearSchedule``,
``optax.ExponentialDecay``, ...); ``lrfun.optax`` exposes the factories themselves under
optax's names (``lrfun.optax.linear_schedule(...)``). The formulas are written once
against the array API, so they run on Python numbers, NumPy, JAX (``jit``, ``vmap``) and
torch, and each class's live reference is optax's own schedule function, evaluated at the
steps (``FunctionReference``, package ``optax``).

What optax does that is reproduced here:

* float steps are real-valued: optax's schedules compute with the count as it comes, so
  ``linear_schedule(1.0, 0.0, 10)(2.5)`` is 0.75 (``_real_steps``); a boundary (of a
  phase, a piecewise table, a staircase) is passed once the step reaches it;
* ``transition_steps <= 0`` (polynomial, linear, exponential, warmup-constant) and
  ``decay_rate == 0`` make a constant schedule at ``init_value``; a negative
  ``transition_begin`` counts as 0;
* ``warmup_constant_schedule`` with ``warmup_steps=0`` stays at ``init_value``, not at
  ``peak_value`` (it is a linear schedule of no steps);
* the warmup schedules are optax's ``join_schedules`` of a linear warmup and a decay that
  restarts its count at ``warmup_steps``; ``warmup_cosine_decay_schedule``'s floor is
  ``peak_value * (end_value / peak_value)`` (0 when ``peak_value`` is 0);
* the onecycle schedules are optax's piecewise interpolations, with the boundaries
  ``int(pct * transition_steps)`` in a dict as optax builds it (a boundary that falls on
  another replaces its scale); their phases end one step later than torch's ``OneCycleLR``;
* the piecewise-interpolate lr is the accumulated product of the scales, interpolated
  between boundaries (not the scales themselves).

Where lrfun's policy differs, on inputs optax never produces in training: a negative step
gives step 0's value (optax's cosine decay would follow the cosine backwards), arguments
optax would turn into NaN or infinite lrs (a negative ``decay_rate``, ``power`` or
``exponent``, a negative scale) raise a ValueError naming the argument, and every lr-valued
argument is one number (optax gives each param group an optimizer of its own).

Precision: in float64 (Python numbers, NumPy, JAX with x64) the values are optax's under
x64 to a few ulps. In float32 they are within float32 tolerance of that float64 value;
optax's own float32 evaluation can drift further where it raises the float32-rounded
``decay_rate`` to a large power (``exponential_decay``: a relative error up to about
``p * 6e-8`` at exponent ``p``), which lrfun does not copy.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from lrfun import _validate as check
from lrfun._backend import Ctx
from lrfun._math import ByWidth, anneal_cos, anneal_linear, integer_tables, power, reaches
from lrfun._math import searchsorted as _searchsorted
from lrfun._reference import FunctionReference
from lrfun._schedule import Schedule, classes, from_config

__all__ = [
    "ConstantSchedule",
    "CosineDecaySchedule",
    "CosineOnecycleSchedule",
    "ExponentialDecay",
    "JoinSchedules",
    "LinearOnecycleSchedule",
    "LinearSchedule",
    "PiecewiseConstantSchedule",
    "PiecewiseInterpolateSchedule",
    "PolynomialSchedule",
    "WarmupConstantSchedule",
    "WarmupCosineDecaySchedule",
    "WarmupExponentialDecaySchedule",
    "constant_schedule",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "exponential_decay",
    "join_schedules",
    "linear_onecycle_schedule",
    "linear_schedule",
    "optax_values",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_schedule",
    "sgdr_schedule",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
]

_INT_MAX = check.INT_MAX
# What optax's piecewise interpolation can do between two boundaries.
INTERPOLATE_TYPES = ("linear", "cosine")


# -- the live reference: optax's own schedule ----------------------------------------------


def optax_values(schedule: Any, steps: Any) -> Any:
    """optax's schedule for ``schedule`` (built by its own factory from the same arguments),
    evaluated at ``steps`` in float64 (``jax.enable_x64``): integer steps as optax's int64
    counts, float steps as float64 counts.

    A staircase (``exponential_decay(..., staircase=True)``, also one joined to others) is
    evaluated one step at a time, as a Python number, the way optax's documentation calls a
    schedule: over an array (or under ``jit``) XLA divides by ``transition_steps`` as a
    multiplication by its reciprocal, and ``floor`` of ``k * T * (1 / T)`` comes out ``k - 1``
    at some multiples of ``T`` (the staircase steps one count late there; lrfun steps at the
    multiples).

    Args:
      schedule: a schedule of the ``optax.`` family.
      steps: a NumPy array of steps (integers or floats).

    Returns:
      A float64 NumPy array of the shape of ``steps``.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    host = np.asarray(steps)
    flat = host.reshape(-1)
    with jax.enable_x64(True):
        fn = schedule._optax()
        if _staircase(schedule):
            values: Any = [float(fn(step)) for step in flat.tolist()]
        else:
            values = jax.vmap(fn)(jnp.asarray(flat))
        out = np.asarray(values, dtype=np.float64)
    return np.broadcast_to(out, (host.size,)).reshape(host.shape).copy()


def _staircase(schedule: Any) -> bool:
    """Whether a staircase is in the schedule (a join's children included)."""
    children = getattr(schedule, "schedules", ())
    return bool(getattr(schedule, "staircase", False)) or any(_staircase(c) for c in children)


def _optax_module(name: str) -> Any:
    try:
        import optax
    except ImportError:
        raise ImportError(
            f"the live reference of {name} is optax, which is not installed: "
            "pip install 'lrfun[jax]'"
        ) from None
    return optax


OPTAX = FunctionReference("optax", optax_values, package="optax")


# -- the pieces ----------------------------------------------------------------------------


def _since(ctx: Ctx, step: Any, start: int) -> Any:
    """The real-valued count ``step + fraction - start`` (the integer difference first, so
    a late step keeps every unit in float32)."""
    if start == 0:
        out = ctx.float(step)
    elif start > 0 and reaches(ctx, step, start):
        out = ctx.float(step - start)
    else:
        out = ctx.float(step) - float(start)
    return out if ctx.fraction is None else out + ctx.fraction


def _at_least(ctx: Ctx, step: Any, low: int) -> Any:
    """``max(step, low)`` for an integer step array (a later phase's count never starts
    below its boundary, where ``where`` would discard a value NumPy still warns about)."""
    if low <= 0 or not reaches(ctx, step, low):
        return step
    return ctx.xp.maximum(step, ctx.xp.asarray(low, dtype=step.dtype, device=ctx.device))


def _joined(ctx: Ctx, step: Any, boundary: int, before: Any, after: Any) -> Any:
    """optax's ``join_schedules([before, after], [boundary])``: ``before(step)`` below the
    boundary, ``after`` at the count restarted there, from it on. ``before``/``after`` take
    the integer step (and read ``ctx.fraction``)."""
    if boundary <= 0:
        return after(step)
    if not reaches(ctx, step, boundary):
        return before(step)
    later = after(_at_least(ctx, step, boundary) - boundary)
    return ctx.where(step < boundary, before(step), later)


def _clip(ctx: Ctx, x: Any, low: float, high: float) -> Any:
    return ctx.where(x < low, low, ctx.where(x > high, high, x))


def _polynomial(
    ctx: Ctx, step: Any, init: Any, end: Any, exponent: Any, steps: int, begin: int
) -> Any:
    """optax's ``polynomial_schedule``: ``(init - end) * (1 - c / T) ** power + end`` with
    ``c = clip(step - begin, 0, T)``; ``T <= 0`` is the constant ``init``."""
    if steps <= 0:
        return ctx.const(init)
    c = _clip(ctx, _since(ctx, step, max(begin, 0)), 0.0, float(steps))
    frac = (float(steps) - c) / float(steps)
    shaped = frac if isinstance(exponent, float) and exponent == 1.0 else frac**exponent
    return (ctx.const(init) - ctx.const(end)) * shaped + ctx.const(end)


def _cosine(ctx: Ctx, count: Any, steps: int, alpha: Any, exponent: Any) -> Any:
    """optax's cosine decay multiplier ``(1 - alpha) * c ** exponent + alpha`` with ``c =
    0.5 * (1 + cos(pi * min(count, T) / T))``, written ``sin(pi/2 * (T - count) / T) ** 2``
    (no cancellation near the end in float32)."""
    left = (float(steps) - _clip(ctx, count, 0.0, float(steps))) / float(steps)
    c = ctx.xp.sin((math.pi / 2) * left) ** 2
    shaped = c if isinstance(exponent, float) and exponent == 1.0 else c**exponent
    alpha = ctx.const(alpha)
    return (1.0 - alpha) * shaped + alpha


def _exponential(
    ctx: Ctx,
    step: Any,
    init: Any,
    steps: int,
    rate: Any,
    begin: int,
    staircase: bool,
    end: Any,
    lower_bound: bool,
) -> Any:
    """optax's ``exponential_decay``: ``init * rate ** ((step - begin) / T)`` from
    ``begin`` on (the exponent floored with ``staircase``), clipped at ``end`` (a floor for a
    rate below 1, else a ceiling)."""
    begin = max(begin, 0)
    if staircase:
        # floor((t - begin) / T) of a real t is that of its whole part: integers throughout
        if reaches(ctx, step, begin):
            whole = ctx.xp.maximum(step - begin, ctx.xp.zeros_like(step))
            if reaches(ctx, step, steps):
                whole = ctx.quotient(whole, steps)
            else:  # no step of this width reaches one transition
                whole = ctx.xp.zeros_like(step)
        else:
            whole = ctx.xp.zeros_like(step)
        exponent = ctx.float(whole)
    else:
        exponent = _since(ctx, step, begin) / float(steps)
        exponent = ctx.where(exponent > 0, exponent, 0.0)
    value = power(ctx, rate, exponent, init)
    if end is None:
        return value
    bound = ctx.const(end)
    if lower_bound:
        return ctx.where(value < bound, bound, value)
    return ctx.where(value > bound, bound, value)


def _pairs(name: str, value: Any, *, minimum: int) -> tuple[tuple[int, float], ...]:
    """optax's ``boundaries_and_scales`` (None, a ``{step: scale}`` dict -- a JSON dict's
    keys may be the integers as strings -- or a sequence of ``[step, scale]`` pairs, as a
    config holds them) as sorted ``(step, scale)`` pairs."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{name} must be a dict of {{step: scale}} or a list of [step, scale] pairs, "
            f"got {check._shown(value)}"
        )
    else:
        items = []
        for item in value:
            if isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 2:
                raise TypeError(
                    f"{name} must hold [step, scale] pairs, got {check._shown(item)} in "
                    f"{check._shown(value)}"
                )
            items.append((item[0], item[1]))
    out: dict[int, float] = {}
    for key, scale in items:
        if isinstance(key, str) and key.strip().lstrip("+-").isdigit():
            key = int(key)  # a JSON dict's key
        step = check.integer(f"{name} step", key, minimum=minimum, whole=True)
        if step in out:
            raise ValueError(f"{name} gives step {step} twice")
        # optax: "expects non-negative scale factors"
        out[step] = check.real(f"{name}[{step}]", scale, low=0.0)
        if not isinstance(out[step], float):
            raise TypeError(f"{name}[{step}] must be a number, got {check._shown(scale)}")
    return tuple(sorted(out.items()))


def _cumulative(scales: Sequence[float]) -> tuple[float, ...]:
    """``(1, s1, s1*s2, ...)``: the lr relative to ``init_value`` past each boundary."""
    out = [1.0]
    for scale in scales:
        out.append(out[-1] * scale)
    return tuple(out)


# -- the classes ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Optax(Schedule, register=False):
    """One of optax's schedule factories: fields are its arguments, the live reference is
    the factory's schedule evaluated at the steps (``optax_values``)."""

    _namespace = "optax."
    _reference = OPTAX
    # optax computes with the count as given: a float step is a real-valued count.
    _real_steps = True
    # The schedule gives the lrs itself (optax has no optimizer lr to take as a base).
    sets_lrs = True
    _lr_arguments = ("init_value", "end_value", "peak_value", "value")
    # The optax factory this class is.
    _factory: ClassVar[str] = ""

    def _optax(self) -> Any:
        """optax's own schedule function for these arguments."""
        factory = getattr(_optax_module(self._name), self._factory)
        return factory(**self._optax_arguments())

    def _optax_arguments(self) -> dict[str, Any]:
        return self.arguments()

    @property
    def _initial_lr(self) -> Any:
        # The lr at step 0: what the schedule sets first.
        return self(0)


def _value(name: str, value: Any) -> Any:
    """An lr-valued argument: a finite number >= 0 (a 0-d array kept as JAX or torch has it)."""
    return check.real(name, value, low=0.0)


def _steps(name: str, value: Any, minimum: int = -_INT_MAX) -> int:
    return check.integer(name, value, minimum=minimum, whole=True)


@dataclasses.dataclass(frozen=True)
class ConstantSchedule(_Optax):
    """optax's ``constant_schedule``: ``value`` at every step.

    >>> ConstantSchedule(0.1)(1000)
    0.1
    """

    value: float

    _hyperparameters = ("value",)
    _factory = "constant_schedule"
    _gallery = ("optax.ConstantSchedule(0.1)", 100)

    def __post_init__(self) -> None:
        self._set(value=_value("value", self.value), _groups=None)

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        return ctx.const(self.value)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.builds(lambda v: {"name": cls._name, "value": v}, _lrs())


@dataclasses.dataclass(frozen=True)
class PolynomialSchedule(_Optax):
    """optax's ``polynomial_schedule``: ``init_value`` until ``transition_begin``, then
    ``(init_value - end_value) * (1 - c / T) ** power + end_value`` with ``c`` the steps
    since ``transition_begin`` (at most ``T = transition_steps``), then ``end_value``.

    ``transition_steps <= 0``: ``init_value`` at every step; a negative
    ``transition_begin`` counts as 0 (optax's behaviour).

    >>> s = PolynomialSchedule(1.0, 0.0, power=2, transition_steps=10)
    >>> s(0), s(5), s(10), s(20)
    (1.0, 0.25, 0.0, 0.0)
    """

    init_value: float
    end_value: float
    power: float
    transition_steps: int
    transition_begin: int = 0

    _hyperparameters = ("init_value", "end_value", "power")
    _factory = "polynomial_schedule"
    _gallery = ("optax.PolynomialSchedule(0.1, 0.001, power=2, transition_steps=80)", 100)

    def __post_init__(self) -> None:
        self._set(
            init_value=_value("init_value", self.init_value),
            end_value=_value("end_value", self.end_value),
            power=check.real("power", self.power, low=0.0),
            transition_steps=_steps("transition_steps", self.transition_steps),
            transition_begin=_steps("transition_begin", self.transition_begin),
            _groups=None,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        return _polynomial(
            ctx,
            step,
            self.init_value,
            self.end_value,
            self.power,
            self.transition_steps,
            self.transition_begin,
        )

    def _course_changes(self, n: int) -> list[float]:
        return _ends(n, self.transition_begin, self.transition_begin + self.transition_steps)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "init_value": _lrs(),
                "end_value": _lrs(),
                "power": _exponents(),
                "transition_steps": _counts(),
                "transition_begin": _counts(),
            }
        )


@dataclasses.dataclass(frozen=True)
class LinearSchedule(_Optax):
    """optax's ``linear_schedule``: ``init_value`` until ``transition_begin``, a straight
    line to ``end_value`` over ``transition_steps`` steps, then ``end_value`` (optax's
    ``polynomial_schedule`` with ``power=1``; ``transition_steps <= 0``: ``init_value``).

    >>> s = LinearSchedule(1.0, 0.0, transition_steps=4)
    >>> s(1), s(2.5), s(9)
    (0.75, 0.375, 0.0)
    """

    init_value: float
    end_value: float
    transition_steps: int
    transition_begin: int = 0

    _hyperparameters = ("init_value", "end_value")
    _factory = "linear_schedule"
    _gallery = ("optax.LinearSchedule(0.1, 0.01, transition_steps=60, transition_begin=20)", 100)

    def __post_init__(self) -> None:
        self._set(
            init_value=_value("init_value", self.init_value),
            end_value=_value("end_value", self.end_value),
            transition_steps=_steps("transition_steps", self.transition_steps),
            transition_begin=_steps("transition_begin", self.transition_begin),
            _groups=None,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        return _polynomial(
            ctx,
            step,
            self.init_value,
            self.end_value,
            1.0,
            self.transition_steps,
            self.transition_begin,
        )

    def _course_changes(self, n: int) -> list[float]:
        return _ends(n, self.transition_begin, self.transition_begin + self.transition_steps)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "init_value": _lrs(),
                "end_value": _lrs(),
                "transition_steps": _counts(),
                "transition_begin": _counts(),
            }
        )


@dataclasses.dataclass(frozen=True)
class WarmupConstantSchedule(_Optax):
    """optax's ``warmup_constant_schedule``: a linear warmup from ``init_value`` to
    ``peak_value`` over ``warmup_steps`` steps, then ``peak_value``.

    optax behaviour reproduced: it is ``linear_schedule(init_value, peak_value,
    warmup_steps)``, so ``warmup_steps=0`` gives ``init_value`` at every step.

    >>> s = WarmupConstantSchedule(0.0, 1.0, warmup_steps=4)
    >>> s(2), s(100), WarmupConstantSchedule(0.0, 1.0, 0)(100)
    (0.5, 1.0, 0.0)
    """

    init_value: float
    peak_value: float
    warmup_steps: int

    _hyperparameters = ("init_value", "peak_value")
    _factory = "warmup_constant_schedule"
    _gallery = ("optax.WarmupConstantSchedule(0.0, 0.1, warmup_steps=20)", 100)

    def __post_init__(self) -> None:
        self._set(
            init_value=_value("init_value", self.init_value),
            peak_value=_value("peak_value", self.peak_value),
            warmup_steps=_steps("warmup_steps", self.warmup_steps),
            _groups=None,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        return _polynomial(ctx, step, self.init_value, self.peak_value, 1.0, self.warmup_steps, 0)

    def _course_changes(self, n: int) -> list[float]:
        return _ends(n, self.warmup_steps)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "init_value": _lrs(),
                "peak_value": _lrs(),
                "warmup_steps": _counts(),
            }
        )


@dataclasses.dataclass(frozen=True)
class CosineDecaySchedule(_Optax):
    """optax's ``cosine_decay_schedule``: ``init_value * ((1 - alpha) * c ** exponent +
    alpha)`` with ``c = 0.5 * (1 + cos(pi * min(t, T) / T))``, ``T = decay_steps``; from
    ``T`` on it stays at ``alpha * init_value``.

    Args:
      init_value: the lr at step 0, a finite number >= 0.
      decay_steps: T, a positive integer (optax raises at 0 too).
      alpha: the floor as a fraction of ``init_value``, a finite number >= 0.
      exponent: the power of the half cosine, a finite number >= 0.

    >>> s = CosineDecaySchedule(1.0, decay_steps=10, alpha=0.1)
    >>> s(0), round(s(5), 12), round(s(10), 12), round(s(50), 12)
    (1.0, 0.55, 0.1, 0.1)
    """

    init_value: float
    decay_steps: int
    alpha: float = 0.0
    exponent: float = 1.0

    _hyperparameters = ("init_value", "alpha", "exponent")
    _factory = "cosine_decay_schedule"
    _gallery = ("optax.CosineDecaySchedule(0.1, decay_steps=80, alpha=0.1)", 100)

    def __post_init__(self) -> None:
        self._set(
            init_value=_value("init_value", self.init_value),
            decay_steps=_steps("decay_steps", self.decay_steps, minimum=1),
            alpha=check.real("alpha", self.alpha, low=0.0),
            exponent=check.real("exponent", self.exponent, low=0.0),
            _groups=None,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        count = _since(ctx, step, 0)
        return ctx.const(self.init_value) * _cosine(
            ctx, count, self.decay_steps, self.alpha, self.exponent
        )

    def _course_changes(self, n: int) -> list[float]:
        return _ends(n, self.decay_steps)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "init_value": _lrs(),
                "decay_steps": _counts(minimum=1),
                "alpha": _fractions(),
                "exponent": _exponents(),
            }
        )


@dataclasses.dataclass(frozen=True)
class WarmupCosineDecaySchedule(_Optax):
    """optax's ``warmup_cosine_decay_schedule``: a linear warmup from ``init_value`` to
    ``peak_value`` over ``warmup_steps``, then a cosine decay to ``end_value`` at
    ``decay_steps`` (which includes the warmup), then ``end_value``.

    It is optax's join of ``linear_schedule(init_value, peak_value, warmup_steps)`` and
    ``cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha, exponent)`` at
    ``warmup_steps``, with ``alpha = end_value / peak_value`` (0 when ``peak_value`` is 0).

    Args:
      init_value, peak_value, end_value: lrs, finite numbers >= 0.
      warmup_steps: an integer >= 0.
      decay_steps: an integer above ``warmup_steps`` (optax's cosine decay needs a
        positive length).
      exponent: the power of the half cosine, a finite number >= 0.

    >>> s = WarmupCosineDecaySchedule(0.0, 1.0, warmup_steps=2, decay_steps=12)
    >>> s(1), s(2), round(s(7), 12), s(12)
    (0.5, 1.0, 0.5, 0.0)
    """

    init_value: float
    peak_value: float
    warmup_steps: int
    decay_steps: int
    end_value: float = 0.0
    exponent: float = 1.0

    # peak_value == 0 fixes alpha at 0 (optax's test, made on the host when built).
    _zero_peak: bool = dataclasses.field(init=False, repr=False, compare=False)

    _hyperparameters = ("init_value", "peak_value", "end_value", "exponent")
    _factory = "warmup_cosine_decay_schedule"
    _gallery = (
        "optax.WarmupCosineDecaySchedule(0.0, 0.1, warmup_steps=10, decay_steps=100, "
        "end_value=0.001)",
        120,
    )

    def __post_init__(self) -> None:
        warmup = _steps("warmup_steps", self.warmup_steps, minimum=0)
        decay = _steps("decay_steps", self.decay_steps, minimum=0)
        if decay <= warmup:
            raise ValueError(
                f"decay_steps must be larger than warmup_steps={warmup} (it includes the "
                f"warmup; optax's cosine decay needs a positive length), got {decay}"
            )
        peak = _value("peak_value", self.peak_value)
        self._set(
            init_value=_value("init_value", self.init_value),
            peak_value=peak,
            warmup_steps=warmup,
            decay_steps=decay,
            end_value=_value("end_value", self.end_value),
            exponent=check.real("exponent", self.exponent, low=0.0),
            _zero_peak=isinstance(peak, float) and peak == 0.0,
            _groups=None,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        w = self.warmup_steps
        peak = ctx.const(self.peak_value)
        alpha = 0.0 if self._zero_peak else ctx.const(self.end_value) / peak

        def warmup(k: Any) -> Any:
            return _polynomial(ctx, k, self.init_value, self.peak_value, 1.0, w, 0)

        def decay(k: Any) -> Any:
            count = _since(ctx, k, 0)
            return peak * _cosine(ctx, count, self.decay_steps - w, alpha, self.exponent)

        return _joined(ctx, step, w, warmup, decay)

    def _course_changes(self, n: int) -> list[float]:
        return _ends(n, self.warmup_steps, self.decay_steps)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def config(draw: st.DrawFn) -> dict[str, Any]:
            warmup = draw(_counts(minimum=0))
            return {
                "name": cls._name,
                "init_value": draw(_lrs()),
                "peak_value": draw(st.one_of(st.just(0.0), _lrs())),
                "warmup_steps": warmup,
                "decay_steps": warmup + draw(_counts(minimum=1)),
                "end_value": draw(st.one_of(st.just(0.0), _lrs())),
                "exponent": draw(_exponents()),
            }

        return config()


@dataclasses.dataclass(frozen=True)
class ExponentialDecay(_Optax):
    """optax's ``exponential_decay``: ``init_value`` until ``transition_begin``, then
    ``init_value * decay_rate ** ((t - transition_begin) / transition_steps)`` (the exponent
    floored with ``staircase``), clipped at ``end_value`` -- a floor when ``decay_rate < 1``,
    a ceiling otherwise.

    optax behaviour reproduced: ``transition_steps <= 0`` or ``decay_rate == 0`` give
    ``init_value`` at every step; a negative ``transition_begin`` counts as 0.

    Args:
      init_value: the lr until the decay begins, a finite number >= 0.
      transition_steps: the steps per factor of ``decay_rate``, an integer.
      decay_rate: a finite number >= 0 (optax's NaN for a negative one is refused).
      transition_begin: an integer.
      staircase: whether the decay moves in whole factors, every ``transition_steps``.
      end_value: None, or the bound, a finite number >= 0.

    >>> s = ExponentialDecay(1.0, transition_steps=2, decay_rate=0.5, staircase=True)
    >>> s(1), s(2), s(5)
    (1.0, 0.5, 0.25)
    """

    init_value: float
    transition_steps: int
    decay_rate: float
    transition_begin: int = 0
    staircase: bool = False
    end_value: float | None = None

    # decay_rate's place, fixed on the host when built: whether end_value is a floor (a rate
    # below 1), and whether the schedule is constant (a rate of 0, or no transition steps).
    _lower_bound: bool = dataclasses.field(init=False, repr=False, compare=False)
    _constant: bool = dataclasses.field(init=False, repr=False, compare=False)

    _hyperparameters = ("init_value", "decay_rate", "end_value")
    _factory = "exponential_decay"
    _gallery = (
        "optax.ExponentialDecay(0.1, transition_steps=10, decay_rate=0.7, transition_begin=10, "
        "end_value=0.005)",
        120,
    )

    def __post_init__(self) -> None:
        rate = check.real("decay_rate", self.decay_rate, low=0.0)
        end = self.end_value
        steps = _steps("transition_steps", self.transition_steps)
        self._set(
            init_value=_value("init_value", self.init_value),
            transition_steps=steps,
            decay_rate=rate,
            transition_begin=_steps("transition_begin", self.transition_begin),
            staircase=check.boolean("staircase", self.staircase),
            end_value=None if end is None else _value("end_value", end),
            _lower_bound=bool(float(rate) < 1.0),
            _constant=steps <= 0 or float(rate) == 0.0,
            _groups=None,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        if self._constant:
            return ctx.const(self.init_value)
        return _exponential(
            ctx,
            step,
            self.init_value,
            self.transition_steps,
            self.decay_rate,
            self.transition_begin,
            self.staircase,
            self.end_value,
            self._lower_bound,
        )

    def _course_changes(self, n: int) -> list[float]:
        return _ends(n, self.transition_begin)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "init_value": _lrs(),
                "transition_steps": _counts(),
                "decay_rate": _rates(),
                "transition_begin": _counts(),
                "staircase": st.booleans(),
                "end_value": st.one_of(st.none(), _lrs()),
            }
        )


@dataclasses.dataclass(frozen=True)
class WarmupExponentialDecaySchedule(_Optax):
    """optax's ``warmup_exponential_decay_schedule``: a linear warmup from ``init_value`` to
    ``peak_value`` over ``warmup_steps``, then ``exponential_decay(peak_value, ...)`` with
    its count restarted at ``warmup_steps`` (optax's join of the two).

    >>> s = WarmupExponentialDecaySchedule(0.0, 1.0, 2, transition_steps=1, decay_rate=0.5)
    >>> s(1), s(2), s(4)
    (0.5, 1.0, 0.25)
    """

    init_value: float
    peak_value: float
    warmup_steps: int
    transition_steps: int
    decay_rate: float
    transition_begin: int = 0
    staircase: bool = False
    end_value: float | None = None

    _lower_bound: bool = dataclasses.field(init=False, repr=False, compare=False)
    _constant: bool = dataclasses.field(init=False, repr=False, compare=False)

    _hyperparameters = ("init_value", "peak_value", "decay_rate", "end_value")
    _factory = "warmup_exponential_decay_schedule"
    _gallery = (
        "optax.WarmupExponentialDecaySchedule(0.0, 0.1, warmup_steps=10, transition_steps=10, "
        "decay_rate=0.6, staircase=True)",
        100,
    )

    def __post_init__(self) -> None:
        rate = check.real("decay_rate", self.decay_rate, low=0.0)
        end = self.end_value
        steps = _steps("transition_steps", self.transition_steps)
        self._set(
            init_value=_value("init_value", self.init_value),
            peak_value=_value("peak_value", self.peak_value),
            warmup_steps=_steps("warmup_steps", self.warmup_steps, minimum=0),
            transition_steps=steps,
            decay_rate=rate,
            transition_begin=_steps("transition_begin", self.transition_begin),
            staircase=check.boolean("staircase", self.staircase),
            end_value=None if end is None else _value("end_value", end),
            _lower_bound=bool(float(rate) < 1.0),
            _constant=steps <= 0 or float(rate) == 0.0,
            _groups=None,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        w = self.warmup_steps

        def warmup(k: Any) -> Any:
            return _polynomial(ctx, k, self.init_value, self.peak_value, 1.0, w, 0)

        def decay(k: Any) -> Any:
            if self._constant:
                return ctx.const(self.peak_value)
            return _exponential(
                ctx,
                k,
                self.peak_value,
                self.transition_steps,
                self.decay_rate,
                self.transition_begin,
                self.staircase,
                self.end_value,
                self._lower_bound,
            )

        return _joined(ctx, step, w, warmup, decay)

    def _course_changes(self, n: int) -> list[float]:
        return _ends(n, self.warmup_steps, self.warmup_steps + max(self.transition_begin, 0))

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "init_value": _lrs(),
                "peak_value": _lrs(),
                "warmup_steps": _counts(minimum=0),
                "transition_steps": _counts(),
                "decay_rate": _rates(),
                "transition_begin": _counts(),
                "staircase": st.booleans(),
                "end_value": st.one_of(st.none(), _lrs()),
            }
        )


@dataclasses.dataclass(frozen=True)
class PiecewiseConstantSchedule(_Optax):
    """optax's ``piecewise_constant_schedule``: ``init_value`` times the product of every
    scale whose step the step has reached.

    ``boundaries_and_scales`` is optax's ``{step: scale}`` dict (scales >= 0), or None;
    configs hold it as sorted ``[step, scale]`` pairs. The lookup is one ``searchsorted``
    whatever the number of boundaries (optax unrolls a loop over them).

    >>> s = PiecewiseConstantSchedule(1.0, {10: 0.5, 20: 0.1})
    >>> s(9), s(10), s(25)
    (1.0, 0.5, 0.05)
    """

    init_value: float
    boundaries_and_scales: Any = None

    _steps_table: ByWidth = dataclasses.field(init=False, repr=False, compare=False)
    _factors: tuple[float, ...] = dataclasses.field(init=False, repr=False, compare=False)

    _hyperparameters = ("init_value",)
    _factory = "piecewise_constant_schedule"
    _gallery = (
        "optax.PiecewiseConstantSchedule(0.1, [[30, 0.5], [60, 0.5], [80, 0.2]])",
        100,
    )

    def __post_init__(self) -> None:
        pairs = _pairs("boundaries_and_scales", self.boundaries_and_scales, minimum=-_INT_MAX)
        self._set(
            init_value=_value("init_value", self.init_value),
            boundaries_and_scales=pairs,
            _steps_table=integer_tables(tuple(step for step, _ in pairs)),
            _factors=_cumulative([scale for _, scale in pairs]),
            _groups=None,
        )

    def _optax_arguments(self) -> dict[str, Any]:
        return {
            "init_value": self.init_value,
            "boundaries_and_scales": dict(self.boundaries_and_scales),
        }

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        if not self.boundaries_and_scales:
            return ctx.const(self.init_value)
        passed = _searchsorted(ctx, self._steps_table, step)
        return ctx.const(self.init_value) * ctx.gather(self._factors, passed)

    def _course_changes(self, n: int) -> list[float]:
        return _ends(n, *(step for step, _ in self.boundaries_and_scales))

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "init_value": _lrs(),
                "boundaries_and_scales": _boundaries(minimum=-5),
            }
        )


@dataclasses.dataclass(frozen=True)
class _Interpolated(_Optax, register=False):
    """optax's ``piecewise_interpolate_schedule`` and the onecycles built on it: values
    ``init * (1, s1, s1*s2, ...)`` at the boundaries ``(0, b1, b2, ...)``, interpolated
    linearly or by a half cosine in between, the last one held after the last boundary."""

    # The tables the lookup reads, built on the host from the boundaries: where each
    # interval starts (per width of step integer), its length (at least 1), and the
    # values at its two ends relative to the initial value; past the last boundary one more
    # interval holds the last value.
    _starts: ByWidth = dataclasses.field(init=False, repr=False, compare=False)
    _lengths: tuple[float, ...] = dataclasses.field(init=False, repr=False, compare=False)
    _from: tuple[float, ...] = dataclasses.field(init=False, repr=False, compare=False)
    _to: tuple[float, ...] = dataclasses.field(init=False, repr=False, compare=False)
    _type: str = dataclasses.field(init=False, repr=False, compare=False)

    def _build(self, kind: str, pairs: Sequence[tuple[int, float]]) -> None:
        bounds = (0, *(step for step, _ in pairs))
        factors = _cumulative([scale for _, scale in pairs])
        n = len(pairs)
        self._set(
            _starts=integer_tables(bounds),
            _lengths=(*(float(max(bounds[i + 1] - bounds[i], 1)) for i in range(n)), 1.0),
            _from=(*factors[:n], factors[n]),
            _to=(*factors[1:], factors[n]),
            _type=kind,
            _groups=None,
        )

    def _init(self, ctx: Ctx) -> Any:
        raise NotImplementedError

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        init = self._init(ctx)
        if len(self._from) == 1:  # no boundary: the initial value throughout
            return init
        index = _searchsorted(ctx, self._starts, step) - 1
        starts = self._starts[ctx.iinfo(step).bits]
        start = ctx.gather(starts, index, dtype=step.dtype)
        pct = ctx.float(step - start)
        if ctx.fraction is not None:
            pct = pct + ctx.fraction
        pct = pct / ctx.gather(self._lengths, index)
        low = init * ctx.gather(self._from, index)
        high = init * ctx.gather(self._to, index)
        if self._type == "linear":
            return anneal_linear(ctx, low, high, pct)
        return anneal_cos(ctx, low, high, pct)

    def _course_changes(self, n: int) -> list[float]:
        return _ends(n, *self._starts[64][1:])


@dataclasses.dataclass(frozen=True)
class PiecewiseInterpolateSchedule(_Interpolated):
    """optax's ``piecewise_interpolate_schedule``: the accumulated values ``init_value *
    s1 * ... * sk`` at the boundaries, joined by straight lines (``"linear"``) or half
    cosines (``"cosine"``) from ``init_value`` at step 0; the last value after the last
    boundary.

    ``boundaries_and_scales`` is optax's ``{step: scale}`` dict (steps >= 0, scales >= 0),
    or None; configs hold it as sorted ``[step, scale]`` pairs.

    >>> s = PiecewiseInterpolateSchedule("linear", 1.0, {4: 0.1, 8: 0.01})
    >>> s(2), s(4), round(s(6), 12), s(10)
    (0.55, 0.1, 0.0505, 0.001)
    """

    interpolate_type: str
    init_value: float
    boundaries_and_scales: Any = None

    _hyperparameters = ("init_value",)
    _factory = "piecewise_interpolate_schedule"
    _gallery = (
        "optax.PiecewiseInterpolateSchedule('cosine', 0.01, [[20, 10.0], [80, 0.01]])",
        100,
    )

    def __post_init__(self) -> None:
        kind = check.choice("interpolate_type", self.interpolate_type, INTERPOLATE_TYPES)
        pairs = _pairs("boundaries_and_scales", self.boundaries_and_scales, minimum=0)
        self._set(
            interpolate_type=kind,
            init_value=_value("init_value", self.init_value),
            boundaries_and_scales=pairs,
        )
        self._build(kind, pairs)

    def _optax_arguments(self) -> dict[str, Any]:
        return {
            "interpolate_type": self.interpolate_type,
            "init_value": self.init_value,
            "boundaries_and_scales": dict(self.boundaries_and_scales),
        }

    def _init(self, ctx: Ctx) -> Any:
        return ctx.const(self.init_value)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "interpolate_type": st.sampled_from(INTERPOLATE_TYPES),
                "init_value": _lrs(),
                "boundaries_and_scales": _boundaries(minimum=0),
            }
        )


def _onecycle_checks(owner: Any) -> tuple[int, Any, float, float]:
    steps = check.integer("transition_steps", owner.transition_steps, whole=True)
    peak = _value("peak_value", owner.peak_value)
    div = check.real("div_factor", owner.div_factor, low=0.0, low_open=True)
    final = check.real("final_div_factor", owner.final_div_factor, low=0.0, low_open=True)
    if not isinstance(div, float) or not isinstance(final, float):
        raise TypeError("div_factor and final_div_factor must be numbers (they place values)")
    return steps, peak, div, final


def _pct(name: str, value: Any) -> float:
    number = check.real(name, value, low=0.0, high=1.0)
    if not isinstance(number, float):
        raise TypeError(f"{name} must be a number in [0, 1] (it places a boundary), got {value!r}")
    return number


@dataclasses.dataclass(frozen=True)
class CosineOnecycleSchedule(_Interpolated):
    """optax's ``cosine_onecycle_schedule``: from ``peak_value / div_factor`` up to
    ``peak_value`` at step ``int(pct_start * transition_steps)`` and down to ``peak_value /
    (div_factor * final_div_factor)`` at ``transition_steps``, by half cosines.

    optax behaviour reproduced: the phases end at ``int(pct_start * T)`` and ``T`` (torch's
    ``OneCycleLR`` ends them a step earlier); a ``pct_start`` of 1 lets the second
    boundary replace the first (optax's dict), so the lr falls from the start.

    >>> s = CosineOnecycleSchedule(10, 1.0, pct_start=0.2, div_factor=10.0)
    >>> s(0), s(2), s(10)
    (0.1, 1.0, 1e-05)
    """

    transition_steps: int
    peak_value: float
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4

    _hyperparameters = ("peak_value",)
    _static_floats = ("pct_start", "div_factor", "final_div_factor")
    _factory = "cosine_onecycle_schedule"
    _gallery = ("optax.CosineOnecycleSchedule(100, 0.1)", 110)

    def __post_init__(self) -> None:
        steps, peak, div, final = _onecycle_checks(self)
        pct_start = _pct("pct_start", self.pct_start)
        self._set(
            transition_steps=steps,
            peak_value=peak,
            pct_start=pct_start,
            div_factor=div,
            final_div_factor=final,
        )
        # optax's dict, built as optax builds it (a repeated key keeps the later scale)
        scales = {int(pct_start * steps): div, int(steps): 1.0 / (div * final)}
        self._build("cosine", sorted(scales.items()))

    def _init(self, ctx: Ctx) -> Any:
        return ctx.const(self.peak_value) / self.div_factor

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "transition_steps": _counts(minimum=1),
                "peak_value": _lrs(),
                "pct_start": st.one_of(st.sampled_from([0.0, 0.3, 0.5, 1.0]), st.floats(0, 1)),
                "div_factor": _divisors(),
                "final_div_factor": _divisors(),
            }
        )


@dataclasses.dataclass(frozen=True)
class LinearOnecycleSchedule(_Interpolated):
    """optax's ``linear_onecycle_schedule``: three straight phases, from ``peak_value /
    div_factor`` up to ``peak_value`` at ``int(pct_start * T)``, back down to ``peak_value /
    div_factor`` at ``int(pct_final * T)``, and to ``peak_value / (div_factor *
    final_div_factor)`` at ``T = transition_steps``.

    optax behaviour reproduced: the boundaries are keys of one dict, so phases that fall on
    the same step keep the later scale.

    >>> s = LinearOnecycleSchedule(10, 1.0, pct_start=0.2, pct_final=0.6, div_factor=10.0)
    >>> s(0), s(2), s(6), s(10)
    (0.1, 1.0, 0.1, 1e-05)
    """

    transition_steps: int
    peak_value: float
    pct_start: float = 0.3
    pct_final: float = 0.85
    div_factor: float = 25.0
    final_div_factor: float = 1e4

    _hyperparameters = ("peak_value",)
    _static_floats = ("pct_start", "pct_final", "div_factor", "final_div_factor")
    _factory = "linear_onecycle_schedule"
    _gallery = ("optax.LinearOnecycleSchedule(100, 0.1)", 110)

    def __post_init__(self) -> None:
        steps, peak, div, final = _onecycle_checks(self)
        pct_start = _pct("pct_start", self.pct_start)
        pct_final = _pct("pct_final", self.pct_final)
        self._set(
            transition_steps=steps,
            peak_value=peak,
            pct_start=pct_start,
            pct_final=pct_final,
            div_factor=div,
            final_div_factor=final,
        )
        scales = {
            int(pct_start * steps): div,
            int(pct_final * steps): 1.0 / div,
            steps: 1.0 / final,
        }
        self._build("linear", sorted(scales.items()))

    def _init(self, ctx: Ctx) -> Any:
        return ctx.const(self.peak_value) / self.div_factor

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        pct = st.one_of(st.sampled_from([0.0, 0.3, 0.85, 1.0]), st.floats(0, 1))
        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "transition_steps": _counts(minimum=1),
                "peak_value": _lrs(),
                "pct_start": pct,
                "pct_final": pct,
                "div_factor": _divisors(),
                "final_div_factor": _divisors(),
            }
        )


def _join_children(schedules: Any) -> tuple[Schedule, ...]:
    """A join's children: lrfun schedules (or their configs) of one lr each."""
    if isinstance(schedules, (str, bytes, Mapping)) or not isinstance(schedules, Sequence):
        raise TypeError(f"schedules must be a list of schedules, got {check._shown(schedules)}")
    if not schedules:
        raise ValueError("schedules must hold at least one schedule, got []")
    out = []
    for i, child in enumerate(schedules):
        if isinstance(child, Mapping):
            child = from_config(child)
        if not isinstance(child, Schedule):
            raise TypeError(
                f"schedules[{i}] must be an lrfun schedule (a function of the step), got "
                f"{check._shown(child)}"
            )
        if child.groups is not None:
            raise ValueError(
                f"schedules[{i}] has {child.groups} param groups; a join gives one lr, as "
                "optax's schedules do"
            )
        out.append(child)
    return tuple(out)


def _shifted(ctx: Ctx, step: Any, boundary: int) -> Any:
    """``step - boundary``, the count a joined schedule restarted at ``boundary`` is at, for
    the steps at or past it (a step below it gives 0; a count past the step's integer range,
    behind a negative boundary, stops at its largest value)."""
    if boundary > 0:
        return _at_least(ctx, step, boundary) - boundary
    if boundary == 0:
        return step
    top: int = ctx.iinfo(step).max
    if -boundary >= top:
        return ctx.xp.full_like(step, top)
    return ctx.minimum(step, top + boundary) - boundary


@dataclasses.dataclass(frozen=True)
class JoinSchedules(_Optax):
    """optax's ``join_schedules``: ``schedules[0]`` until the first boundary, then each next
    schedule from its boundary on, at the count restarted there: ``schedules[i](step -
    boundaries[i - 1])`` once ``step >= boundaries[i - 1]``.

    The children are any lrfun schedules of one lr (optax's own, torch's, a library's), or
    their configs; configs and specs hold them as configs and schedule calls. Boundaries are
    integers in any order, as optax takes them: a later schedule whose boundary the step has
    reached replaces every earlier one (so a boundary at or below 0 starts with a later
    schedule, and a boundary above a later one never switches). The lookup is one
    ``searchsorted``, each child evaluated at its own count and selected by ``where``; a
    float step is a real-valued count, for the children that take real steps.

    Args:
      schedules: lrfun schedules (or configs), at least one.
      boundaries: integers, one fewer than the schedules.

    >>> s = JoinSchedules([LinearSchedule(0.0, 1.0, 4), ConstantSchedule(0.5)], [4])
    >>> s(2), s(4), s(100)
    (0.5, 0.5, 0.5)
    """

    schedules: Sequence[Schedule]
    boundaries: Sequence[int]

    # The step each child starts at, where it runs at all (the smallest of its own and every
    # later boundary: a later child that starts earlier replaces it), per width of step
    # integer; and whether each child runs at some step >= 0.
    _starts: ByWidth = dataclasses.field(init=False, repr=False, compare=False)
    _reached: tuple[bool, ...] = dataclasses.field(init=False, repr=False, compare=False)

    _schedules_argument = "schedules"
    _factory = "join_schedules"
    _gallery = (
        "optax.JoinSchedules([optax.WarmupCosineDecaySchedule(0.0, 0.1, warmup_steps=5, "
        "decay_steps=40), optax.WarmupCosineDecaySchedule(0.0, 0.05, warmup_steps=5, "
        "decay_steps=80)], boundaries=[40])",
        120,
    )

    def __post_init__(self) -> None:
        children = _join_children(self.schedules)
        boundaries = check.integers("boundaries", self.boundaries, minimum=-_INT_MAX)
        if len(boundaries) != len(children) - 1:
            raise ValueError(
                f"boundaries must have one value fewer than schedules ({len(children)}), got "
                f"{list(boundaries)}"
            )
        # starts[i]: where child i may take over (child 0: from the first step)
        starts = [min(boundaries[i - 1 :]) for i in range(1, len(children))]
        low, high = [-math.inf, *starts], [*starts, math.inf]
        reached = tuple(high[i] > max(low[i], 0) for i in range(len(children)))
        self._set(
            schedules=children,
            boundaries=boundaries,
            _starts=integer_tables(tuple(starts)),
            _reached=reached,
            _groups=None,
        )

    def _tree_leaves(self) -> tuple[str, ...]:
        return ("schedules",)

    def _optax(self) -> Any:
        # optax's own function for each optax child, the lrfun schedule (a JAX function of
        # the count) for any other
        children = [c._optax() if isinstance(c, _Optax) else c for c in self.schedules]
        return _optax_module(self._name).join_schedules(children, list(self.boundaries))

    def to_config(self) -> dict[str, Any]:
        return {
            "name": self._name,
            "schedules": [c.to_config() for c in self.schedules],
            "boundaries": list(self.boundaries),
        }

    def _lr_scale(self) -> float:
        return max(c._lr_scale() for c in self.schedules)

    def _child(self, ctx: Ctx, step: Any, i: int) -> Any:
        child = self.schedules[i]
        own = ctx if child._real_steps else ctx._replace(fraction=None)
        if i == 0:
            return child._lr(own, step)
        boundary = self.boundaries[i - 1]
        return child._lr(own.shifted(boundary), _shifted(ctx, step, boundary))

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        # One term per child that runs: the structure is fixed at construction.
        running = [
            i
            for i, reached in enumerate(self._reached)
            if reached and (i == 0 or reaches(ctx, step, self.boundaries[i - 1]))
        ]
        out = self._child(ctx, step, running[0])
        if len(running) == 1:
            return out
        active = _searchsorted(ctx, self._starts, step)
        for i in running[1:]:
            out = ctx.where(active == i, self._child(ctx, step, i), out)
        return out

    def _course_changes(self, n: int) -> list[float]:
        starts = [0, *(min(self.boundaries[i - 1 :]) for i in range(1, len(self.schedules)))]
        ends = [*starts[1:], n]
        changes: set[float] = set()
        for i, child in enumerate(self.schedules):
            if not self._reached[i]:
                continue
            start, end = starts[i], ends[i]
            changes.add(float(start))
            changes.update(start + x for x in child._course_changes(min(end, n) - start))
        return sorted(x for x in changes if 0 < x < n)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        family = [c for c in classes("optax.", own=True) if c is not cls]
        child = st.sampled_from(family).flatmap(lambda c: c._strategy())  # type: ignore[attr-defined]
        edges = st.one_of(st.sampled_from([-3, -1, 0, 1, 2]), st.integers(0, 400))

        @st.composite
        def config(draw: st.DrawFn) -> dict[str, Any]:
            n = draw(st.integers(1, 4))
            children = [draw(child) for _ in range(n)]
            boundaries = draw(st.lists(edges, min_size=n - 1, max_size=n - 1))
            if draw(st.integers(0, 3)):  # mostly in order, as joins are written
                boundaries.sort()
            return {"name": cls._name, "schedules": children, "boundaries": boundaries}

        return config()


def _ends(n: int, *steps: int) -> list[float]:
    return sorted({float(s) for s in steps if 0 < s < n})


# -- strategies (parity's configs draw from them; hypothesis imported when asked) ----------


def _lrs() -> Any:
    from hypothesis import strategies as st

    return st.one_of(
        st.sampled_from([0.0, 0.1, 1.0, 3e-4]), st.floats(-6.0, 1.0).map(lambda e: 10.0**e)
    )


def _counts(minimum: int = -3) -> Any:
    from hypothesis import strategies as st

    edges = [v for v in (-3, -1, 0, 1, 2) if v >= minimum]
    return st.one_of(st.sampled_from(edges), st.integers(max(minimum, 0), 300))


def _fractions() -> Any:
    from hypothesis import strategies as st

    return st.one_of(st.sampled_from([0.0, 0.1, 1.0]), st.floats(0.0, 2.0))


def _exponents() -> Any:
    from hypothesis import strategies as st

    # (a power too small for float32, 1e-80, is 0 there: another schedule)
    return st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.floats(0.01, 4.0))


def _rates() -> Any:
    from hypothesis import strategies as st

    return st.one_of(st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0, 1.01]), st.floats(0.05, 1.05))


def _divisors() -> Any:
    from hypothesis import strategies as st

    return st.one_of(st.sampled_from([1.0, 25.0, 1e4]), st.floats(0.5, 1e4))


def _boundaries(minimum: int) -> Any:
    from hypothesis import strategies as st

    scales = st.one_of(st.sampled_from([0.0, 0.1, 0.5, 1.0, 2.0]), st.floats(0.0, 3.0))
    steps = st.one_of(st.sampled_from([minimum, 0, 1]), st.integers(minimum, 300))
    pairs = st.dictionaries(steps, scales, max_size=16).map(
        lambda d: [[k, v] for k, v in sorted(d.items())]
    )
    return st.one_of(st.none(), pairs)


# -- optax's factories, by their names -----------------------------------------------------


def constant_schedule(value: float) -> ConstantSchedule:
    """optax's ``constant_schedule``: ``value`` at every step."""
    return ConstantSchedule(value)


def polynomial_schedule(
    init_value: float,
    end_value: float,
    power: float,
    transition_steps: int,
    transition_begin: int = 0,
) -> PolynomialSchedule:
    """optax's ``polynomial_schedule``
    ([``PolynomialSchedule``][lrfun.optax.PolynomialSchedule])."""
    return PolynomialSchedule(init_value, end_value, power, transition_steps, transition_begin)


def linear_schedule(
    init_value: float, end_value: float, transition_steps: int, transition_begin: int = 0
) -> LinearSchedule:
    """optax's ``linear_schedule`` ([``LinearSchedule``][lrfun.optax.LinearSchedule])."""
    return LinearSchedule(init_value, end_value, transition_steps, transition_begin)


def piecewise_constant_schedule(
    init_value: float, boundaries_and_scales: Mapping[int, float] | None = None
) -> PiecewiseConstantSchedule:
    """optax's ``piecewise_constant_schedule``
    ([``PiecewiseConstantSchedule``][lrfun.optax.PiecewiseConstantSchedule])."""
    return PiecewiseConstantSchedule(init_value, boundaries_and_scales)


def exponential_decay(
    init_value: float,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> ExponentialDecay:
    """optax's ``exponential_decay`` ([``ExponentialDecay``][lrfun.optax.ExponentialDecay])."""
    return ExponentialDecay(
        init_value, transition_steps, decay_rate, transition_begin, staircase, end_value
    )


def cosine_decay_schedule(
    init_value: float, decay_steps: int, alpha: float = 0.0, exponent: float = 1.0
) -> CosineDecaySchedule:
    """optax's ``cosine_decay_schedule``
    ([``CosineDecaySchedule``][lrfun.optax.CosineDecaySchedule])."""
    return CosineDecaySchedule(init_value, decay_steps, alpha, exponent)


def piecewise_interpolate_schedule(
    interpolate_type: str,
    init_value: float,
    boundaries_and_scales: Mapping[int, float] | None = None,
) -> PiecewiseInterpolateSchedule:
    """optax's ``piecewise_interpolate_schedule``
    ([``PiecewiseInterpolateSchedule``][lrfun.optax.PiecewiseInterpolateSchedule])."""
    return PiecewiseInterpolateSchedule(interpolate_type, init_value, boundaries_and_scales)


def linear_onecycle_schedule(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> LinearOnecycleSchedule:
    """optax's ``linear_onecycle_schedule``
    ([``LinearOnecycleSchedule``][lrfun.optax.LinearOnecycleSchedule])."""
    return LinearOnecycleSchedule(
        transition_steps, peak_value, pct_start, pct_final, div_factor, final_div_factor
    )


def cosine_onecycle_schedule(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> CosineOnecycleSchedule:
    """optax's ``cosine_onecycle_schedule``
    ([``CosineOnecycleSchedule``][lrfun.optax.CosineOnecycleSchedule])."""
    return CosineOnecycleSchedule(
        transition_steps, peak_value, pct_start, div_factor, final_div_factor
    )


def warmup_constant_schedule(
    init_value: float, peak_value: float, warmup_steps: int
) -> WarmupConstantSchedule:
    """optax's ``warmup_constant_schedule``
    ([``WarmupConstantSchedule``][lrfun.optax.WarmupConstantSchedule])."""
    return WarmupConstantSchedule(init_value, peak_value, warmup_steps)


def warmup_cosine_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    end_value: float = 0.0,
    exponent: float = 1.0,
) -> WarmupCosineDecaySchedule:
    """optax's ``warmup_cosine_decay_schedule``
    ([``WarmupCosineDecaySchedule``][lrfun.optax.WarmupCosineDecaySchedule])."""
    return WarmupCosineDecaySchedule(
        init_value, peak_value, warmup_steps, decay_steps, end_value, exponent
    )


def warmup_exponential_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> WarmupExponentialDecaySchedule:
    """optax's ``warmup_exponential_decay_schedule``
    ([``WarmupExponentialDecaySchedule``][lrfun.optax.WarmupExponentialDecaySchedule])."""
    return WarmupExponentialDecaySchedule(
        init_value,
        peak_value,
        warmup_steps,
        transition_steps,
        decay_rate,
        transition_begin,
        staircase,
        end_value,
    )


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> JoinSchedules:
    """optax's ``join_schedules`` ([``JoinSchedules``][lrfun.optax.JoinSchedules]): each
    schedule from its boundary on, at the count restarted there."""
    return JoinSchedules(schedules, boundaries)


def sgdr_schedule(cosine_kwargs: Iterable[Mapping[str, Any]]) -> JoinSchedules:
    """optax's ``sgdr_schedule``: SGD with warm restarts, a
    [``JoinSchedules``][lrfun.optax.JoinSchedules] of one
    [``WarmupCosineDecaySchedule``][lrfun.optax.WarmupCosineDecaySchedule] per dict of
    ``cosine_kwargs`` (its arguments), each cycle restarting where the one before ends (its
    ``decay_steps`` later).

    >>> cycle = dict(init_value=0.0, peak_value=1.0, warmup_steps=2, decay_steps=10)
    >>> s = sgdr_schedule([cycle, cycle])
    >>> s(2), s(10), s(12)
    (1.0, 0.0, 1.0)
    """
    if isinstance(cosine_kwargs, (str, bytes, Mapping)) or not isinstance(
        cosine_kwargs, Iterable
    ):
        raise TypeError(
            f"cosine_kwargs must be a list of dicts of warmup_cosine_decay_schedule's "
            f"arguments, got {check._shown(cosine_kwargs)}"
        )
    schedules: list[Schedule] = []
    boundaries: list[int] = []
    step = 0
    for i, kwargs in enumerate(cosine_kwargs):
        if not isinstance(kwargs, Mapping):
            raise TypeError(f"cosine_kwargs[{i}] must be a dict, got {check._shown(kwargs)}")
        cycle = WarmupCosineDecaySchedule(**kwargs)
        step += cycle.decay_steps
        schedules.append(cycle)
        boundaries.append(step)
    if not schedules:
        raise ValueError("cosine_kwargs must hold at least one dict (one cycle), got none")
    return JoinSchedules(schedules, boundaries[:-1])
