"""Keras 3's learning-rate schedules (``keras.optimizers.schedules``) as closed forms: the
``keras.`` family.

Each class is one of Keras 3.15's schedule classes, its fields the class's arguments (same
names, order and defaults, less Keras' ``name``: a name scope, no part of the schedule),
registered as ``keras.<Class>`` (``keras.CosineDecay``, ...); ``lrfun.keras`` exposes them
with ``from_keras`` (a live Keras schedule read back) and ``LearningRateSchedule`` (any
lrfun schedule as a Keras one). The formulas are written once against the array API, so
they run on Python numbers, NumPy, JAX (``jit``, ``vmap``) and torch; each class's live
reference is Keras' own schedule object, evaluated at the steps (``FunctionReference``,
package ``keras``). This module imports neither jax nor keras.

What Keras does that is reproduced here:

* float steps are real-valued: Keras casts the step to a float and computes with it, so
  ``PolynomialDecay(1.0, 4, 0.0)(2.5)`` is 0.375 (``_real_steps``); ``staircase`` floors
  ``step / decay_steps``; ``PolynomialDecay(cycle=True)`` takes ``ceil(step /
  decay_steps)`` cycles (1 at step 0);
* ``PiecewiseConstantDecay`` moves to the next value *after* a boundary (``step >
  boundary``), where optax and torch move at it; a repeated boundary skips the value
  between the two;
* ``CosineDecay`` holds ``alpha * initial_learning_rate`` past ``decay_steps`` (past
  ``warmup_steps + decay_steps`` with a warmup), and with ``warmup_target`` set and
  ``warmup_steps=0`` decays from ``warmup_target`` at once;
* ``CosineDecayRestarts`` multiplies each restart's peak by ``m_mul`` but not its floor
  (``alpha`` stays a fraction of ``initial_learning_rate``), and its cycles grow by
  ``t_mul``: the ``i``-th restart is at ``first_decay_steps * (t_mul**i - 1) / (t_mul - 1)``.

Where lrfun differs on purpose: a negative step gives step 0's value (Keras would
extrapolate); arguments Keras would turn into NaN, infinite or negative lrs (a negative
lr, ``decay_rate``, ``power`` or ``alpha``, ``t_mul < 1``, ``m_mul < 0``) raise a
ValueError naming the argument; step counts (``decay_steps``, ``first_decay_steps``,
``warmup_steps``, ``boundaries``) are integers; ``PiecewiseConstantDecay``'s boundaries must
be in order and at least one.

Precision: Keras on the JAX and torch backends caps its type promotion at 32 bits
(``cos``, ``floor``, ``ceil`` of a float64 come back float32), so its float64 evaluation is
measured with that cap lifted (``keras_values``). In float64 lrfun gives Keras' float64
values to a few ulps; ``CosineDecayRestarts`` restarts exactly at each restart step, where
Keras' ``floor(log(...) / log(t_mul))`` can come out one low (the previous cycle's trough
at that one step: ``t_mul=2``, ``first_decay_steps=10``: step 70), and the reference takes
Keras' value just past such a step (``keras_values``); late in a run Keras' float64
``c - floor(c)`` of ``c = step / first_decay_steps`` loses ``ulp(c)`` of a cycle, where
lrfun counts in integers. In float32
lrfun is within float32 tolerance of that float64 value (restart tables built on the host,
integer step arithmetic); Keras' own float32 evaluation drifts further where it rounds the
step (``staircase``, ``cycle`` and restarts late in a run), which lrfun does not copy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from lrfun import _validate as check
from lrfun._backend import Ctx
from lrfun._math import ByWidth, integer_tables, power, reaches
from lrfun._math import searchsorted as _searchsorted
from lrfun._optax_family import (
    _clip,
    _cosine,
    _counts,
    _exponents,
    _fractions,
    _joined,
    _lrs,
    _polynomial,
    _rates,
    _since,
)
from lrfun._reference import FunctionReference
from lrfun._schedule import Schedule

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "keras_values",
]

_INT_MAX = check.INT_MAX
# Restart boundaries CosineDecayRestarts tabulates on the host (cycles growing by t_mul >=
# 1.01 reach past int64's range within them; closer to 1 the later cycles use the formula).
_RESTART_TABLE = 4096


# -- the live reference: Keras' own schedule ---------------------------------------------------


def import_keras(what: str) -> Any:
    """Keras (on its JAX backend unless chosen: ``KERAS_BACKEND``, read at its import)."""
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import keras  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError(
            f"{what} needs Keras, which is not installed: pip install 'lrfun[keras]'"
        ) from None
    return keras


def _keras_module(name: str) -> Any:
    """Keras, on its JAX backend: the live reference of ``name``."""
    keras = import_keras(f"the live reference of {name}")
    if keras.config.backend() != "jax":
        raise RuntimeError(
            f"the live reference of {name} runs Keras on its JAX backend; this process "
            f"runs Keras on {keras.config.backend()!r} (set KERAS_BACKEND=jax)"
        )
    return keras


@contextlib.contextmanager
def _float64(keras: Any) -> Iterator[None]:
    """Keras computing in float64: floatx float64, and its 32-bit cap on type promotion
    lifted (on the JAX and torch backends Keras maps a float64 result of ``cos``,
    ``floor``, ``ceil`` to float32 otherwise)."""
    from keras.src.backend.common import dtypes  # type: ignore[import-untyped]

    floatx = keras.config.floatx()
    cap = dtypes.BIT64_TO_BIT32_DTYPE.pop("float64", None)
    keras.config.set_floatx("float64")
    try:
        yield
    finally:
        keras.config.set_floatx(floatx)
        if cap is not None:
            dtypes.BIT64_TO_BIT32_DTYPE["float64"] = cap


def keras_values(
    schedule: Any, steps: Any, *, dtype: str = "float64", at_restarts: bool = True
) -> Any:
    """Keras' own schedule for ``schedule`` (its class built from the same arguments),
    evaluated at ``steps`` on Keras' JAX backend.

    ``CosineDecayRestarts`` restarts at a step where a cycle ends; Keras finds the cycle as
    ``floor(log(1 + c * (t_mul - 1)) / log(t_mul))``, which rounding can put one low at
    that very step (float64, ``t_mul=2``: step 70 of ``first_decay_steps=10``), giving the
    previous cycle's trough there. With ``at_restarts`` (float64) such a step takes Keras'
    value a relative 1e-13 later (the new cycle's peak, which any later step approaches):
    where that differs from the value at the step, a restart lies between the two.

    Args:
      schedule: a schedule of the ``keras.`` family.
      steps: a NumPy array of steps (integers or floats).
      dtype: ``"float64"``: Keras in float64 (``jax.enable_x64``, floatx float64, its
        32-bit promotion cap lifted), int64 or float64 steps; ``"float32"``: Keras as it
        trains by default (floatx float32, int32 or float32 steps).

    Returns:
      A float64 NumPy array of the shape of ``steps``.
    """
    import jax
    import numpy as np

    host = np.asarray(steps)
    flat = host.reshape(-1)
    live = schedule._keras()
    # Op by op: Keras' ops.cond would compile a new XLA program for every schedule object
    with jax.disable_jit():
        return _evaluated(jax, live, schedule, host, flat, dtype, at_restarts)


def _evaluated(
    jax: Any, live: Any, schedule: Any, host: Any, flat: Any, dtype: str, at_restarts: bool
) -> Any:
    import jax.numpy as jnp
    import numpy as np

    keras = _keras_module(schedule._name)
    if dtype == "float64":
        with jax.enable_x64(True), _float64(keras):
            out = np.asarray(jax.vmap(live)(jnp.asarray(flat)), dtype=np.float64)
            if at_restarts and getattr(schedule, "t_mul", 1.0) != 1.0:
                # (t_mul = 1 counts cycles with floor(step / T0): exact)
                later = flat.astype(np.float64) * (1.0 + 1e-13)
                past = np.asarray(jax.vmap(live)(jnp.asarray(later)), dtype=np.float64)
                scale = max(abs(float(schedule.initial_learning_rate)), 1e-300)
                out = np.where(np.abs(past - out) > 1e-9 * scale, past, out)
    elif dtype == "float32":
        kind = np.float32 if flat.dtype.kind == "f" else np.int32
        out = np.asarray(jax.vmap(live)(jnp.asarray(flat.astype(kind))), dtype=np.float64)
    else:
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    return np.broadcast_to(out, (host.size,)).reshape(host.shape).copy()


def _reference(schedule: Any, steps: Any) -> Any:
    return keras_values(schedule, steps)


KERAS = FunctionReference("keras", _reference, package="keras")


# -- the classes ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Keras(Schedule, register=False):
    """One of Keras' schedule classes: fields are its arguments, the live reference is its
    object evaluated at the steps (``keras_values``)."""

    _namespace = "keras."
    _reference = KERAS
    # Keras casts the step to a float: a float step is a real-valued count.
    _real_steps = True
    # The schedule gives the lrs itself (a Keras optimizer takes it as its learning_rate).
    sets_lrs = True
    _lr_arguments = (
        "initial_learning_rate",
        "end_learning_rate",
        "warmup_target",
        "values",
    )

    def _keras(self) -> Any:
        """Keras' own schedule object for these arguments."""
        keras = _keras_module(self._name)
        cls = getattr(keras.optimizers.schedules, type(self).__name__)
        arguments = {k: list(v) if isinstance(v, tuple) else v for k, v in self.arguments().items()}
        return cls(**arguments)

    @property
    def _initial_lr(self) -> Any:
        # The lr at step 0: what the schedule sets first.
        return self(0)

    @classmethod
    def _from_keras_config(cls, config: dict[str, Any]) -> _Keras:
        """The schedule of a Keras ``get_config()`` (its ``name`` dropped)."""
        return cls(**{k: v for k, v in config.items() if k != "name"})


def _value(name: str, value: Any) -> Any:
    """An lr-valued argument: a finite number >= 0 (a 0-d array kept as JAX or torch has it)."""
    return check.real(name, value, low=0.0)


def _steps(name: str, value: Any, minimum: int = 1) -> int:
    return check.integer(name, value, minimum=minimum, whole=True)


def _ratio(ctx: Ctx, step: Any, steps: int, staircase: bool) -> Any:
    """Keras' ``p = step / decay_steps``, floored with ``staircase`` (of a real step, the
    whole part's integer quotient: ``floor((k + f) / T) == k // T``)."""
    if staircase:
        if reaches(ctx, step, steps):
            return ctx.float(ctx.quotient(step, steps))
        return ctx.float(ctx.xp.zeros_like(step))
    return _since(ctx, step, 0) / float(steps)


def _fraction_positive(ctx: Ctx, step: Any) -> Any:
    """1 where a real step has a fractional part, else 0 (an integer array of the step's)."""
    if ctx.fraction is None:
        return ctx.xp.zeros_like(step)
    return ctx.xp.astype(ctx.fraction > 0, step.dtype)


@dataclasses.dataclass(frozen=True)
class ExponentialDecay(_Keras):
    """Keras' ``ExponentialDecay``: ``initial_learning_rate * decay_rate ** (step /
    decay_steps)``, the exponent floored with ``staircase``.

    Args:
      initial_learning_rate: the lr at step 0, a finite number >= 0.
      decay_steps: the steps per factor of ``decay_rate``, a positive integer.
      decay_rate: a finite number >= 0 (above 1 the lr grows).
      staircase: whether the lr moves in whole factors, every ``decay_steps`` steps.

    >>> s = ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)
    >>> s(1), s(2), s(5.5)
    (1.0, 0.5, 0.25)
    """

    initial_learning_rate: float
    decay_steps: int
    decay_rate: float
    staircase: bool = False

    _hyperparameters = ("initial_learning_rate", "decay_rate")
    _gallery = ("keras.ExponentialDecay(0.1, decay_steps=20, decay_rate=0.5)", 100)

    def __post_init__(self) -> None:
        self._set(
            initial_learning_rate=_value("initial_learning_rate", self.initial_learning_rate),
            decay_steps=_steps("decay_steps", self.decay_steps),
            decay_rate=check.real("decay_rate", self.decay_rate, low=0.0),
            staircase=check.boolean("staircase", self.staircase),
            _groups=None,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        p = _ratio(ctx, step, self.decay_steps, self.staircase)
        return power(ctx, self.decay_rate, p, self.initial_learning_rate)

    def _course_changes(self, n: int) -> list[float]:
        return []

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "initial_learning_rate": _lrs(),
                "decay_steps": _counts(minimum=1),
                "decay_rate": _rates(),
                "staircase": st.booleans(),
            }
        )


@dataclasses.dataclass(frozen=True)
class PiecewiseConstantDecay(_Keras):
    """Keras' ``PiecewiseConstantDecay``: ``values[0]`` while ``step <= boundaries[0]``,
    ``values[i]`` while ``boundaries[i - 1] < step <= boundaries[i]``, ``values[-1]`` past
    the last boundary.

    Keras moves to the next value *after* a boundary (optax and torch move at it). The
    lookup is one ``searchsorted``, whatever the number of boundaries (Keras sums one term
    per boundary).

    Args:
      boundaries: integers in non-decreasing order, at least one (a repeated boundary
        skips the value between the two, as in Keras).
      values: lrs (finite numbers >= 0), one more than the boundaries.

    >>> s = PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    >>> s(10), s(10.5), s(11), s(25)
    (1.0, 0.5, 0.5, 0.1)
    """

    boundaries: Sequence[int]
    values: Sequence[float]

    _tables: ByWidth = dataclasses.field(init=False, repr=False, compare=False)

    _hyperparameters = ("values",)
    _gallery = ("keras.PiecewiseConstantDecay([30, 60, 80], [0.1, 0.05, 0.025, 0.005])", 100)

    def __post_init__(self) -> None:
        boundaries = check.integers("boundaries", self.boundaries, minimum=-_INT_MAX)
        if not boundaries:
            # Keras builds it, then fails at its first call (boundaries[0]).
            raise ValueError("boundaries must hold at least one step, got none")
        for low, high in itertools.pairwise(boundaries):
            if high < low:
                # Keras sums overlapping ranges there: values added together, or none.
                raise ValueError(
                    f"boundaries must be in non-decreasing order, got {list(boundaries)}"
                )
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, Sequence):
            raise TypeError(f"values must be a sequence of lrs, got {check._shown(self.values)}")
        values = tuple(_value(f"values[{i}]", v) for i, v in enumerate(self.values))
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                f"values must have one more entry than boundaries ({len(boundaries)}), got "
                f"{len(values)}"
            )
        self._set(
            boundaries=boundaries,
            values=values,
            _tables=integer_tables(boundaries),
            _groups=None,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        # boundaries below the real step k + f: those <= k - 1 + (f > 0), all integers
        below = step - 1 + _fraction_positive(ctx, step)
        index = _searchsorted(ctx, self._tables, below)
        values = self.values
        if all(isinstance(v, float) for v in values):
            return ctx.gather(values, index)
        table = ctx.xp.stack([ctx.array(v) for v in values])  # traced or tensor values
        return ctx.xp.reshape(ctx.xp.take(table, ctx.xp.reshape(index, (-1,))), index.shape)

    def _course_changes(self, n: int) -> list[float]:
        return sorted({float(b) + 1.0 for b in self.boundaries if 0 < b + 1 < n})

    def _lr_scale(self) -> float:
        return max(abs(float(v)) for v in self.values)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def config(draw: st.DrawFn) -> dict[str, Any]:
            steps = st.one_of(st.sampled_from([-3, 0, 1]), st.integers(-3, 300))
            boundaries = sorted(draw(st.lists(steps, min_size=1, max_size=16)))
            values = draw(
                st.lists(_lrs(), min_size=len(boundaries) + 1, max_size=len(boundaries) + 1)
            )
            return {"name": cls._name, "boundaries": boundaries, "values": values}

        return config()


@dataclasses.dataclass(frozen=True)
class PolynomialDecay(_Keras):
    """Keras' ``PolynomialDecay``: ``(initial_learning_rate - end_learning_rate) * (1 -
    step / decay_steps) ** power + end_learning_rate`` up to ``decay_steps``, then
    ``end_learning_rate``; with ``cycle``, the decay stretches to the next multiple of
    ``decay_steps``: ``D = decay_steps * ceil(step / decay_steps)`` (``decay_steps`` at
    step 0) in place of ``decay_steps``, with no clip.

    Args:
      initial_learning_rate, end_learning_rate: lrs, finite numbers >= 0 (the end may be
        the larger: a rise).
      decay_steps: a positive integer.
      power: a finite number >= 0.
      cycle: whether the decay restarts, stretched, past ``decay_steps``.

    >>> s = PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0)
    >>> s(2), s(2.5), s(10)
    (0.5, 0.375, 0.0)
    >>> PolynomialDecay(1.0, 4, 0.0, cycle=True)(6)
    0.25
    """

    initial_learning_rate: float
    decay_steps: int
    end_learning_rate: float = 0.0001
    power: float = 1.0
    cycle: bool = False

    _hyperparameters = ("initial_learning_rate", "end_learning_rate", "power")
    _gallery = (
        "keras.PolynomialDecay(0.1, decay_steps=40, end_learning_rate=0.01, power=2.0, cycle=True)",
        100,
    )

    def __post_init__(self) -> None:
        self._set(
            initial_learning_rate=_value("initial_learning_rate", self.initial_learning_rate),
            decay_steps=_steps("decay_steps", self.decay_steps),
            end_learning_rate=_value("end_learning_rate", self.end_learning_rate),
            power=check.real("power", self.power, low=0.0),
            cycle=check.boolean("cycle", self.cycle),
            _groups=None,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        init, end, T = self.initial_learning_rate, self.end_learning_rate, self.decay_steps
        if not self.cycle:
            # optax's polynomial_schedule is the same curve: one definition of it
            return _polynomial(ctx, step, init, end, self.power, T, 0)
        xp = ctx.xp
        zeros = xp.zeros_like(step)
        if reaches(ctx, step, T):
            # the cycles before this one, ceil((k + f) / T) - 1 (0 at step 0): (k - 1 +
            # (f > 0)) // T; the count into this one, k - T * done + f, in integers first
            # (no rounding of a late step)
            done = ctx.quotient(xp.maximum(step - 1 + _fraction_positive(ctx, step), zeros), T)
            into = _since(ctx, step - done * T, 0)
        else:
            done, into = zeros, _since(ctx, step, 0)
        # 1 - step / D as the steps left to D over D, D = T * (done + 1)
        left = (float(T) - into) / ((ctx.float(done) + 1.0) * float(T))
        shaped = left if isinstance(self.power, float) and self.power == 1.0 else left**self.power
        return (ctx.const(init) - ctx.const(end)) * shaped + ctx.const(end)

    def _course_changes(self, n: int) -> list[float]:
        if self.cycle:
            return []
        return [float(self.decay_steps)] if 0 < self.decay_steps < n else []

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "initial_learning_rate": _lrs(),
                "decay_steps": _counts(minimum=1),
                "end_learning_rate": _lrs(),
                "power": _exponents(),
                "cycle": st.booleans(),
            }
        )


@dataclasses.dataclass(frozen=True)
class InverseTimeDecay(_Keras):
    """Keras' ``InverseTimeDecay``: ``initial_learning_rate / (1 + decay_rate * step /
    decay_steps)``, ``step / decay_steps`` floored with ``staircase``.

    Args:
      initial_learning_rate: the lr at step 0, a finite number >= 0.
      decay_steps: a positive integer.
      decay_rate: a finite number >= 0.
      staircase: whether the lr moves every ``decay_steps`` steps only.

    >>> s = InverseTimeDecay(1.0, decay_steps=2, decay_rate=1.0)
    >>> s(2), s(3), InverseTimeDecay(1.0, 2, 1.0, staircase=True)(3)
    (0.5, 0.4, 0.5)
    """

    initial_learning_rate: float
    decay_steps: int
    decay_rate: float
    staircase: bool = False

    _hyperparameters = ("initial_learning_rate", "decay_rate")
    _gallery = ("keras.InverseTimeDecay(0.1, decay_steps=10, decay_rate=0.5)", 100)

    def __post_init__(self) -> None:
        self._set(
            initial_learning_rate=_value("initial_learning_rate", self.initial_learning_rate),
            decay_steps=_steps("decay_steps", self.decay_steps),
            decay_rate=check.real("decay_rate", self.decay_rate, low=0.0),
            staircase=check.boolean("staircase", self.staircase),
            _groups=None,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        p = _ratio(ctx, step, self.decay_steps, self.staircase)
        return ctx.const(self.initial_learning_rate) / (1.0 + ctx.const(self.decay_rate) * p)

    def _course_changes(self, n: int) -> list[float]:
        return []

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "initial_learning_rate": _lrs(),
                "decay_steps": _counts(minimum=1),
                "decay_rate": st.one_of(
                    st.sampled_from([0.0, 0.5, 1.0, 10.0]), st.floats(0.0, 100.0)
                ),
                "staircase": st.booleans(),
            }
        )


@dataclasses.dataclass(frozen=True)
class CosineDecay(_Keras):
    """Keras' ``CosineDecay``: ``initial_learning_rate * ((1 - alpha) * c + alpha)`` with
    ``c = 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps))``.

    With ``warmup_target`` set, first a straight line from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps``, then the cosine from ``warmup_target`` (floor
    ``alpha * warmup_target``) over the next ``decay_steps`` steps; ``warmup_steps=0``
    decays from ``warmup_target`` at once. Without it, ``warmup_steps`` has no effect.

    Args:
      initial_learning_rate: the lr at step 0, a finite number >= 0.
      decay_steps: the steps of the cosine, a positive integer.
      alpha: the floor as a fraction of the cosine's start, a finite number >= 0.
      warmup_target: None, or the lr the warmup reaches, a finite number >= 0.
      warmup_steps: an integer >= 0.

    >>> s = CosineDecay(1.0, decay_steps=10, alpha=0.1)
    >>> s(0), round(s(5), 12), round(s(50), 12)
    (1.0, 0.55, 0.1)
    >>> w = CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
    >>> w(2), w(4), round(w(9), 12)
    (0.5, 1.0, 0.5)
    """

    initial_learning_rate: float
    decay_steps: int
    alpha: float = 0.0
    warmup_target: float | None = None
    warmup_steps: int = 0

    _hyperparameters = ("initial_learning_rate", "alpha", "warmup_target")
    _gallery = (
        "keras.CosineDecay(0.0, decay_steps=80, alpha=0.1, warmup_target=0.1, warmup_steps=20)",
        120,
    )

    def __post_init__(self) -> None:
        target = self.warmup_target
        self._set(
            initial_learning_rate=_value("initial_learning_rate", self.initial_learning_rate),
            decay_steps=_steps("decay_steps", self.decay_steps),
            alpha=check.real("alpha", self.alpha, low=0.0),
            warmup_target=None if target is None else _value("warmup_target", target),
            warmup_steps=_steps("warmup_steps", self.warmup_steps, minimum=0),
            _groups=None,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        T = self.decay_steps
        if self.warmup_target is None:
            cosine = _cosine(ctx, _since(ctx, step, 0), T, self.alpha, 1.0)
            return ctx.const(self.initial_learning_rate) * cosine
        w, target = self.warmup_steps, self.warmup_target

        def warmup(k: Any) -> Any:
            return _polynomial(ctx, k, self.initial_learning_rate, target, 1.0, w, 0)

        def decay(k: Any) -> Any:
            return ctx.const(target) * _cosine(ctx, _since(ctx, k, 0), T, self.alpha, 1.0)

        return _joined(ctx, step, w, warmup, decay)

    def _course_changes(self, n: int) -> list[float]:
        ends = {self.decay_steps}
        if self.warmup_target is not None:
            ends = {self.warmup_steps, self.warmup_steps + self.decay_steps}
        return sorted(float(e) for e in ends if 0 < e < n)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "initial_learning_rate": _lrs(),
                "decay_steps": _counts(minimum=1),
                "alpha": _fractions(),
                "warmup_target": st.one_of(st.none(), _lrs()),
                "warmup_steps": _counts(minimum=0),
            }
        )


@dataclasses.dataclass(frozen=True)
class _Restarts:
    """CosineDecayRestarts' restart tables, built on the host in float64: the restart
    boundaries ``B_i = T0 * (t**i - 1) / (t - 1)`` (``B_0 = 0``), as the integer steps at
    which each is reached (per width of step integer), the whole and fractional parts of
    each, and each cycle's length ``T0 * t**i``."""

    reached: ByWidth  # ceil(B_i), i >= 1: a step k is in cycle #{B_i <= k}
    whole: ByWidth  # floor(B_i), i >= 0, clipped to the width; one sentinel entry more
    part: tuple[float, ...]  # B_i - floor(B_i); one sentinel entry more
    length: tuple[float, ...]  # T0 * t**i
    complete: ByWidth  # whether the table holds every boundary a step of the width reaches


def _restart_tables(first: int, t_mul: float) -> _Restarts:
    boundaries = [0.0]
    lengths = [float(first)]
    while len(boundaries) < _RESTART_TABLE:
        k = len(boundaries)
        # t**k - 1 in one rounding where exact (powers of 2, 3, 1.5 ...)
        b = first * ((t_mul**k - 1.0) / (t_mul - 1.0))
        boundaries.append(b)
        lengths.append(first * t_mul**k)
        if b >= 2.0**63:
            break
    last = boundaries[-1]
    ceils = tuple(math.ceil(b) for b in boundaries[1:] if b < 2.0**63)
    floors = [math.floor(b) if b < 2.0**63 else 2**63 - 1 for b in boundaries]
    parts = [b - math.floor(b) if b < 2.0**63 else 0.0 for b in boundaries]
    whole = ByWidth(
        {bits: (*(min(f, 2 ** (bits - 1) - 1) for f in floors), -1) for bits in (32, 64)}
    )
    return _Restarts(
        reached=integer_tables(ceils),
        whole=whole,
        part=(*parts, 0.0),
        length=tuple(lengths),
        complete=ByWidth({bits: last > 2 ** (bits - 1) - 1 for bits in (32, 64)}),
    )


@dataclasses.dataclass(frozen=True)
class CosineDecayRestarts(_Keras):
    """Keras' ``CosineDecayRestarts`` (SGDR): cosine cycles from ``initial_learning_rate *
    m_mul**i`` to ``alpha * initial_learning_rate``, the ``i``-th ``first_decay_steps *
    t_mul**i`` steps long, each restarting where the one before ends.

    The lr in cycle ``i`` at ``w`` of the way through it is ``initial_learning_rate * ((1
    - alpha) * m_mul**i * 0.5 * (1 + cos(pi * w)) + alpha)``. The cycle of a step is
    looked up in restart tables built on the host (``t_mul = 1``: integer arithmetic), so a
    step at a restart is in the new cycle in every dtype.

    Args:
      initial_learning_rate: the first peak, a finite number >= 0.
      first_decay_steps: the first cycle's length, a positive integer.
      t_mul: the growth of each cycle's length, a finite number >= 1.
      m_mul: the factor of each restart's peak, a finite number >= 0.
      alpha: the floor as a fraction of ``initial_learning_rate``, a finite number >= 0.

    >>> s = CosineDecayRestarts(1.0, first_decay_steps=2, t_mul=2.0, m_mul=0.5)
    >>> [round(s(k), 12) for k in (0, 1, 2, 4, 6)]
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    initial_learning_rate: float
    first_decay_steps: int
    t_mul: float = 2.0
    m_mul: float = 1.0
    alpha: float = 0.0

    _tables: _Restarts | None = dataclasses.field(init=False, repr=False, compare=False)

    # t_mul shapes the restart tables: static, as an integer is.
    _hyperparameters = ("initial_learning_rate", "m_mul", "alpha")
    _static_floats = ("t_mul",)
    _gallery = (
        "keras.CosineDecayRestarts(0.1, first_decay_steps=10, t_mul=2.0, m_mul=0.8, alpha=0.05)",
        160,
    )

    def __post_init__(self) -> None:
        first = _steps("first_decay_steps", self.first_decay_steps)
        t_mul = check.real("t_mul", self.t_mul, low=1.0)
        if not isinstance(t_mul, float):
            raise TypeError(f"t_mul must be a number (it shapes the cycles), got {t_mul!r}")
        self._set(
            initial_learning_rate=_value("initial_learning_rate", self.initial_learning_rate),
            first_decay_steps=first,
            t_mul=t_mul,
            m_mul=check.real("m_mul", self.m_mul, low=0.0),
            alpha=check.real("alpha", self.alpha, low=0.0),
            _tables=None if t_mul == 1.0 else _restart_tables(first, t_mul),
            _groups=None,
        )

    def _cycle(self, ctx: Ctx, step: Any) -> tuple[Any, Any]:
        """(the cycle index, as a float array; the fraction of it done)."""
        xp = ctx.xp
        T0 = self.first_decay_steps
        fraction = ctx.fraction
        tables = self._tables
        if tables is None:  # t_mul == 1: cycles of T0 steps, in integers
            if not reaches(ctx, step, T0):
                return ctx.float(xp.zeros_like(step)), _since(ctx, step, 0) / float(T0)
            index = ctx.quotient(step, T0)
            into = ctx.float(ctx.remainder(step, T0))
            if fraction is not None:
                into = into + fraction
            return ctx.float(index), into / float(T0)
        bits = xp.iinfo(step.dtype).bits
        index = _searchsorted(ctx, tables.reached, step)
        whole = ctx.gather(tables.whole[bits], index, dtype=step.dtype)
        if fraction is not None:
            # a real step k + f past the next boundary, where it falls in (k, k + 1)
            after = ctx.gather(tables.whole[bits], index + 1, dtype=step.dtype)
            part = ctx.gather(tables.part, index + 1)
            passed = (after == step) & (part > 0) & (fraction >= part)
            index = index + xp.astype(passed, index.dtype)
            whole = xp.where(passed, after, whole)
        # the count into the cycle: its integer part exact, then the fractions
        into = ctx.float(step - whole) - ctx.gather(tables.part, index)
        if fraction is not None:
            into = into + fraction
        done = into / ctx.gather(tables.length, index)
        cycle = ctx.float(index)
        if not tables.complete[bits]:
            # past the table (t_mul close to 1): Keras' own formula, in the evaluation dtype
            last = len(tables.length) - 1
            t = self.t_mul
            c = _since(ctx, step, 0) / float(T0)
            far = xp.floor(xp.log1p(c * (t - 1.0)) / math.log(t))
            grown = xp.exp(far * math.log(t))
            far_done = _clip(ctx, (c - (grown - 1.0) / (t - 1.0)) / grown, 0.0, 1.0)
            beyond = index >= last
            cycle = xp.where(beyond, far, cycle)
            done = xp.where(beyond, far_done, done)
        return cycle, done

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        cycle, done = self._cycle(ctx, step)
        # 0.5 * (1 + cos(pi * w)) as sin(pi/2 * (1 - w)) ** 2: no cancellation at a trough
        half = ctx.xp.sin((math.pi / 2) * (1.0 - done)) ** 2
        alpha = ctx.const(self.alpha)
        peak = power(ctx, self.m_mul, cycle)
        return ctx.const(self.initial_learning_rate) * ((1.0 - alpha) * peak * half + alpha)

    def _course_changes(self, n: int) -> list[float]:
        out: list[float] = []
        start, length = 0.0, float(self.first_decay_steps)
        while start + length < n and len(out) < 64:
            start += length
            length *= self.t_mul
            out.append(start)
        return out

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "initial_learning_rate": _lrs(),
                "first_decay_steps": _counts(minimum=1),
                "t_mul": st.one_of(st.sampled_from([1.0, 1.5, 2.0, 3.0]), st.floats(1.0, 4.0)),
                "m_mul": st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0.0, 1.2)),
                "alpha": _fractions(),
            }
        )
