"""LLM training frameworks' schedules, each reproduced exactly: the ``olmo.``, ``nanotron.``,
``torchtitan.``, ``big_vision.`` and ``hagele.`` families (public in ``lrfun.llm``).

Each class is one framework's schedule function, its fields the framework's configuration
(same names and defaults), pinned to the commit its formula was read at; its reference is
a plain-Python transcription of that code (``lrfun._llm_references``). The curves are the
shapes of ``lrfun._shapes`` wherever the framework's arithmetic is the same (a cosine, a
``1 - sqrt``, an rsqrt or a power law, the interpolation between two lrs), and a formula
of the class's own where it differs (OLMo-core's decay counted from the end, torchtitan's
``+ 1`` offsets, big_vision's multiplied warmup and cooldown).

A framework that divides by zero or asserts at some step (OLMo-core's warmup of 0 steps at
step 0, torchtitan past its last step with no decay) defines no lr there; each class says
what lrfun gives instead. Past the end of training (``max_steps``, ``total_steps``) some
frameworks' formulas go on below the final lr, to negative lrs (OLMo-core's linear decay,
torchtitan's, big_vision's cooldown): no framework steps there, and lrfun holds the lr of
the last step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from lrfun import _shapes
from lrfun import _validate as check
from lrfun._backend import Ctx
from lrfun._hf import _at_least, _phase, _power, _since, _until
from lrfun._llm_references import REFERENCES
from lrfun._math import integer_tables, reaches, searchsorted
from lrfun._reference import FunctionReference
from lrfun._schedule import Schedule

__all__ = [
    "WSD",
    "WSDS",
    "CosWithWarmup",
    "InvSqrtWithWarmup",
    "LearningRateSchedule",
    "LinearWarmupStableDecay",
    "LrScheduler",
    "PowerLR",
    "WsdSchedule",
]

_INT_MAX = check.INT_MAX


def _formula_of(name: str, key: str, package: str) -> FunctionReference:
    return FunctionReference(name, REFERENCES[key], package=package)


def _count(name: str, value: Any, minimum: int = 0) -> int:
    return check.integer(name, value, minimum=minimum, whole=True)


def _optional_count(name: str, value: Any) -> int | None:
    return None if value is None else _count(name, value)


def _fraction(name: str, value: Any) -> float | None:
    return None if value is None else check.real(name, value, low=0.0, high=1.0)


def _one_of(steps_name: str, steps: Any, fraction_name: str, fraction: Any) -> None:
    """OLMo-core's rule: exactly one of a length in steps and a fraction is given."""
    if (steps is None) == (fraction is None):
        raise ValueError(
            f"exactly one of {steps_name} and {fraction_name} must be given, got "
            f"{steps_name}={steps!r}, {fraction_name}={fraction!r}"
        )


def _length(steps: int | None, fraction: float | None, total: int) -> int:
    """A length given in steps, or as OLMo-core resolves a fraction: ``round(total * f)``."""
    if steps is not None:
        return steps
    assert fraction is not None
    return round(total * fraction)


def _held(ctx: Ctx, step: Any, low: int, high: int) -> Any:
    """The step held in ``[low, high]`` (where the integer width reaches them)."""
    within = _at_least(ctx, step, low)
    if reaches(ctx, step, high):
        within = ctx.minimum(within, high)
    return within


def _const_like(ctx: Ctx, value: Any, step: Any) -> Any:
    """A hyperparameter broadcast to the step's shape, as an array."""
    return ctx.const(value) + ctx.xp.zeros_like(ctx.float(step))


def _lrs() -> Any:
    from hypothesis import strategies as st

    return st.one_of(st.sampled_from([0.1, 1.0, 3e-4]), st.floats(1e-6, 1.0))


def _base(groups: Any) -> Any:
    from hypothesis import strategies as st

    if groups is None:
        return _lrs()
    # the group count drawn: None is one group, whose lr is a number
    return groups.flatmap(
        lambda n: _lrs() if n is None else st.lists(_lrs(), min_size=n, max_size=n)
    )


def _steps_or_fraction(draw: Any, total: int, allow_none: bool = False) -> tuple[Any, Any]:
    from hypothesis import strategies as st

    if draw(st.booleans()):
        return draw(st.integers(0, max(total, 0))), None
    return None, draw(st.one_of(st.sampled_from([0.0, 0.1, 1.0]), st.floats(0.0, 1.0)))


# -- OLMo-core ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Olmo(Schedule, register=False):
    """OLMo-core's ``Scheduler.get_lr(initial_lr, current, t_max)``: the lr at step
    ``current`` (lrfun's step: OLMo-core's trainer's ``global_step``) of a run of
    ``max_steps`` (its ``t_max``) for a group whose initial lr is ``base_lr``.

    OLMo-core at ``fa6c5014c9f6e9ee789da2d9c20d5126fee8df0d``
    (``src/olmo_core/optim/scheduler.py``).
    """

    _namespace = "olmo."
    _lr_arguments = ("base_lr", "warmup_min_lr", "decay_min_lr")

    def _warm(self, ctx: Ctx, step: Any, warmup: int, peak: Any) -> Any:
        """``_linear_warmup``: ``warmup_min_lr + (peak - warmup_min_lr) * min(t, W) / W``."""
        progress = ctx.float(ctx.minimum(step, warmup)) / float(max(1, warmup))
        return _shapes.interpolate(ctx, self.warmup_min_lr, peak, progress)  # type: ignore[attr-defined]

    def _cool(self, ctx: Ctx, step: Any, end: int, decay: int, start: Any) -> Any:
        """``_linear_decay`` counted from the end: ``decay_min_lr + (start - decay_min_lr) *
        min(end - t, D) / D``, the step held at ``end`` (the lr past the run's end)."""
        within = ctx.minimum(step, end) if reaches(ctx, step, end) else step
        left = _until(ctx, end, within)
        left = ctx.xp.minimum(left, ctx.array(float(decay))) / float(max(1, decay))
        return _shapes.interpolate(ctx, self.decay_min_lr, start, left)  # type: ignore[attr-defined]


def _olmo_checks(s: Any, *, decay: bool) -> dict[str, Any]:
    base_lr = check.lr_values("base_lr", s.base_lr)
    out = {
        "base_lr": base_lr,
        "max_steps": _count("max_steps", s.max_steps),
        "warmup": _optional_count("warmup", s.warmup),
        "warmup_fraction": _fraction("warmup_fraction", s.warmup_fraction),
        "warmup_min_lr": check.real("warmup_min_lr", s.warmup_min_lr, low=0.0),
        "_groups": check.group_count(base_lr=base_lr),
    }
    _one_of("warmup", out["warmup"], "warmup_fraction", out["warmup_fraction"])
    if decay:
        out["decay"] = _optional_count("decay", s.decay)
        out["decay_fraction"] = _fraction("decay_fraction", s.decay_fraction)
        out["decay_min_lr"] = check.real("decay_min_lr", s.decay_min_lr, low=0.0)
        _one_of("decay", out["decay"], "decay_fraction", out["decay_fraction"])
    return out


def _olmo_strategy(cls: Any, groups: Any, *, decay: bool, **extra: Any) -> Any:
    from hypothesis import strategies as st

    @st.composite
    def config(draw: st.DrawFn) -> dict[str, Any]:
        total = draw(st.one_of(st.sampled_from([1, 2, 10]), st.integers(1, 300)))
        warmup, warmup_fraction = _steps_or_fraction(draw, total)
        out = {
            "name": cls._name,
            "base_lr": draw(_base(groups)),
            "max_steps": total,
            "warmup": warmup,
            "warmup_fraction": warmup_fraction,
            "warmup_min_lr": draw(st.one_of(st.just(0.0), st.floats(0.0, 1e-6))),
        }
        if decay:
            d, f = _steps_or_fraction(draw, total)
            out.update(decay=d, decay_fraction=f)
            out["decay_min_lr"] = draw(st.one_of(st.just(0.0), st.floats(0.0, 1e-6)))
        out.update({k: draw(v) for k, v in extra.items()})
        return out

    return config()


@dataclasses.dataclass(frozen=True)
class WSD(_Olmo):
    """OLMo-core's ``WSD``: a linear warmup from ``warmup_min_lr``, ``base_lr``, and a
    linear decay to ``decay_min_lr`` over the last ``decay`` steps of ``max_steps``.

    ``t <= W``: ``warmup_min_lr + (base_lr - warmup_min_lr) * t / W``; ``t >= T - D``:
    ``decay_min_lr + (base_lr - decay_min_lr) * min(T - t, D) / D``; else ``base_lr``
    (``W``, ``D``: steps, or ``round(T * fraction)``). The warmup wins where the phases
    overlap. OLMo-core divides by zero at step 0 with no warmup and at step ``T`` with no
    decay: lrfun gives ``base_lr`` and ``decay_min_lr`` there. Past ``T`` the lr holds
    ``decay_min_lr`` (OLMo-core's formula would go on below it).

    Args:
      base_lr: the group's initial lr (a sequence: one per param group).
      max_steps: T, the trainer's ``max_steps``, an integer >= 0.
      warmup: W in steps (exactly one of ``warmup``, ``warmup_fraction``).
      warmup_fraction: W as a fraction of T in ``[0, 1]``.
      decay: D in steps (exactly one of ``decay``, ``decay_fraction``).
      decay_fraction: D as a fraction of T in ``[0, 1]`` (OLMo-core's default 0.1).
      warmup_min_lr: where the warmup starts, >= 0.
      decay_min_lr: where the decay ends, >= 0.

    >>> s = WSD(1.0, max_steps=10, warmup=2, decay_fraction=0.4)
    >>> [round(s(t), 12) for t in (1, 2, 5, 6, 8, 10, 12)]
    [0.5, 1.0, 1.0, 1.0, 0.5, 0.0, 0.0]
    """

    base_lr: float | Sequence[float]
    max_steps: int
    warmup: int | None = None
    warmup_fraction: float | None = None
    decay: int | None = None
    decay_fraction: float | None = 0.1
    warmup_min_lr: float = 0.0
    decay_min_lr: float = 0.0

    _hyperparameters = ("base_lr", "warmup_min_lr", "decay_min_lr")
    _static_floats = ("warmup_fraction", "decay_fraction")
    _reference = _formula_of("OLMo-core formula", "olmo_wsd", "ai2-olmo-core")
    _gallery = ("olmo.WSD(0.1, max_steps=100, warmup=10, decay_fraction=0.2)", 110)

    def __post_init__(self) -> None:
        self._set(**_olmo_checks(self, decay=True))

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        t = self.max_steps
        w = _length(self.warmup, self.warmup_fraction, t)
        d = _length(self.decay, self.decay_fraction, t)
        peak = ctx.const(self.base_lr)

        def rest() -> Any:
            return _phase(
                ctx,
                step,
                t - d,
                lambda: _const_like(ctx, self.base_lr, step),
                lambda: self._cool(ctx, step, t, d, peak),
            )

        if w == 0:  # OLMo-core's 0 / 0 at step 0: the lr after it
            return rest()
        return _phase(ctx, step, w + 1, lambda: self._warm(ctx, step, w, peak), rest)

    def _course_changes(self, n: int) -> list[float]:
        t = self.max_steps
        ends = (
            _length(self.warmup, self.warmup_fraction, t),
            t - _length(self.decay, self.decay_fraction, t),
            t,
        )
        return sorted({float(e) for e in ends if 0 < e < n})

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        return _olmo_strategy(cls, groups, decay=True)


@dataclasses.dataclass(frozen=True)
class CosWithWarmup(_Olmo):
    """OLMo-core's ``CosWithWarmup``: a linear warmup, then a half cosine from ``base_lr``
    to ``base_lr * alpha_f`` at ``t_max`` (``max_steps`` when None), then that floor.

    ``t < W``: the linear warmup; ``t >= T``: ``eta_min = base_lr * alpha_f``; else
    ``eta_min + (base_lr - eta_min) * (1 + cos(pi (t - W) / (T - W))) / 2`` (the
    ``cosine`` decay shape).

    Args:
      base_lr: the group's initial lr (a sequence: one per param group).
      max_steps: the trainer's ``max_steps``, an integer >= 0.
      warmup: W in steps (exactly one of ``warmup``, ``warmup_fraction``).
      warmup_fraction: W as a fraction of T in ``[0, 1]``.
      alpha_f: the floor as a fraction of ``base_lr``, >= 0.
      t_max: T, the cosine's end; None: ``max_steps``.
      warmup_min_lr: where the warmup starts, >= 0.

    >>> s = CosWithWarmup(1.0, max_steps=12, warmup=2, alpha_f=0.1)
    >>> [round(s(t), 12) for t in (1, 2, 7, 12, 20)]
    [0.5, 1.0, 0.55, 0.1, 0.1]
    """

    base_lr: float | Sequence[float]
    max_steps: int
    warmup: int | None = None
    warmup_fraction: float | None = None
    alpha_f: float = 0.1
    t_max: int | None = None
    warmup_min_lr: float = 0.0

    _hyperparameters = ("base_lr", "alpha_f", "warmup_min_lr")
    _static_floats = ("warmup_fraction",)
    _reference = _formula_of("OLMo-core formula", "olmo_cos_with_warmup", "ai2-olmo-core")
    _gallery = ("olmo.CosWithWarmup(0.1, max_steps=100, warmup=10)", 110)

    def __post_init__(self) -> None:
        out = _olmo_checks(self, decay=False)
        out["alpha_f"] = check.real("alpha_f", self.alpha_f, low=0.0)
        out["t_max"] = _optional_count("t_max", self.t_max)
        self._set(**out)

    def _end(self) -> int:
        return self.max_steps if self.t_max is None else self.t_max

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        t = self._end()
        w = _length(self.warmup, self.warmup_fraction, t)
        peak = ctx.const(self.base_lr)
        eta_min = peak * self.alpha_f

        def cosine() -> Any:
            within = _held(ctx, step, w, max(w, t))
            progress = _since(ctx, within, w) / float(max(1, t - w))
            return _shapes.interpolate(ctx, eta_min, peak, _shapes.decay(ctx, "cosine", progress))

        def floor() -> Any:
            return eta_min + ctx.xp.zeros_like(ctx.float(step))

        def after() -> Any:
            return _phase(ctx, step, t, cosine, floor) if t > w else floor()

        return _phase(ctx, step, w, lambda: self._warm(ctx, step, w, peak), after)

    def _course_changes(self, n: int) -> list[float]:
        t = self._end()
        ends = (_length(self.warmup, self.warmup_fraction, t), t)
        return sorted({float(e) for e in ends if 0 < e < n})

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return _olmo_strategy(
            cls,
            groups,
            decay=False,
            alpha_f=st.one_of(st.sampled_from([0.0, 0.1]), st.floats(1e-6, 1.0)),
            t_max=st.one_of(st.none(), st.integers(0, 300)),
        )


@dataclasses.dataclass(frozen=True)
class InvSqrtWithWarmup(_Olmo):
    """OLMo-core's ``InvSqrtWithWarmup``: a linear warmup, then ``eta_min + (base_lr -
    eta_min) * sqrt(W / t)`` with ``eta_min = base_lr * alpha_f`` (the ``rsqrt`` stable
    shape with timescale W).

    With no warmup OLMo-core divides 0 by 0 at step 0 and gives ``eta_min`` after: lrfun
    gives ``eta_min`` at every step.

    Args:
      base_lr: the group's initial lr (a sequence: one per param group).
      max_steps: the trainer's ``max_steps`` (what ``warmup_fraction`` is of).
      alpha_f: the floor as a fraction of ``base_lr``, >= 0.
      warmup: W in steps (exactly one of ``warmup``, ``warmup_fraction``).
      warmup_fraction: W as a fraction of ``max_steps`` in ``[0, 1]``.
      warmup_min_lr: where the warmup starts, >= 0.

    >>> s = InvSqrtWithWarmup(1.0, max_steps=1000, alpha_f=0.0, warmup=4)
    >>> s(2), s(4), s(16)
    (0.5, 1.0, 0.5)
    """

    base_lr: float | Sequence[float]
    max_steps: int
    alpha_f: float = 0.1
    warmup: int | None = None
    warmup_fraction: float | None = None
    warmup_min_lr: float = 0.0

    _hyperparameters = ("base_lr", "alpha_f", "warmup_min_lr")
    _static_floats = ("warmup_fraction",)
    _reference = _formula_of("OLMo-core formula", "olmo_inv_sqrt_with_warmup", "ai2-olmo-core")
    _gallery = ("olmo.InvSqrtWithWarmup(0.1, max_steps=200, warmup=10)", 200)

    def __post_init__(self) -> None:
        out = _olmo_checks(self, decay=False)
        out["alpha_f"] = check.real("alpha_f", self.alpha_f, low=0.0)
        self._set(**out)

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        w = _length(self.warmup, self.warmup_fraction, self.max_steps)
        peak = ctx.const(self.base_lr)
        eta_min = peak * self.alpha_f
        if w == 0:
            return eta_min + ctx.xp.zeros_like(ctx.float(step))

        def decay() -> Any:
            since = _since(ctx, _at_least(ctx, step, w), w)
            return _shapes.interpolate(
                ctx, eta_min, peak, _shapes.stable(ctx, "rsqrt", since, float(w))
            )

        return _phase(ctx, step, w, lambda: self._warm(ctx, step, w, peak), decay)

    def _course_changes(self, n: int) -> list[float]:
        w = _length(self.warmup, self.warmup_fraction, self.max_steps)
        return [float(w)] if 0 < w < n else []

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return _olmo_strategy(
            cls,
            groups,
            decay=False,
            alpha_f=st.one_of(st.sampled_from([0.0, 0.1]), st.floats(1e-6, 1.0)),
        )


@dataclasses.dataclass(frozen=True)
class PowerLR(_Olmo):
    """OLMo-core's ``PowerLR``: a linear warmup, the power law ``base_lr * (t / W) ** b``,
    and a linear decay over the last ``decay`` steps from the power law's value at
    ``T - D`` to ``decay_min_lr``.

    ``t <= W``: the linear warmup; ``t >= T - D``: ``decay_min_lr + (L - decay_min_lr) *
    min(T - t, D) / D`` with ``L = base_lr * ((T - D) / W) ** b``; else ``base_lr * (t /
    W) ** b`` (the ``power`` stable shape, timescale W). Past ``T`` the lr holds
    ``decay_min_lr``; with no decay OLMo-core divides by zero at ``T``, lrfun gives
    ``decay_min_lr`` there.

    Args:
      base_lr: the group's initial lr (a sequence: one per param group).
      max_steps: T, the trainer's ``max_steps``, an integer >= 1.
      b: the power law's exponent, a finite number < 0.
      warmup: W in steps, >= 1: the power law divides by it (exactly one of ``warmup``,
        ``warmup_fraction``).
      warmup_fraction: W as a fraction of T, giving at least one step.
      warmup_min_lr: where the warmup starts, >= 0.
      decay: D in steps (exactly one of ``decay``, ``decay_fraction``), ``T - D >= 1``.
      decay_fraction: D as a fraction of T in ``[0, 1]``.
      decay_min_lr: where the decay ends, >= 0.

    >>> s = PowerLR(1.0, max_steps=100, b=-0.5, warmup=4, decay=10, decay_fraction=None)
    >>> s(2), s(4), s(16), s(100)
    (0.5, 1.0, 0.5, 0.0)
    """

    base_lr: float | Sequence[float]
    max_steps: int
    b: float = -0.51
    warmup: int | None = None
    warmup_fraction: float | None = None
    warmup_min_lr: float = 0.0
    decay: int | None = None
    decay_fraction: float | None = 0.1
    decay_min_lr: float = 0.0

    _hyperparameters = ("base_lr", "b", "warmup_min_lr", "decay_min_lr")
    _static_floats = ("warmup_fraction", "decay_fraction")
    _reference = _formula_of("OLMo-core formula", "olmo_power_lr", "ai2-olmo-core")
    _gallery = ("olmo.PowerLR(0.1, max_steps=200, warmup=10, decay_fraction=0.2)", 210)

    def __post_init__(self) -> None:
        out = _olmo_checks(self, decay=True)
        out["b"] = check.real("b", self.b, high=0.0, high_open=True)
        t = out["max_steps"]
        w = _length(out["warmup"], out["warmup_fraction"], t)
        d = _length(out["decay"], out["decay_fraction"], t)
        if w < 1:
            raise ValueError(
                f"PowerLR's warmup must be at least 1 step (the power law divides by it), got "
                f"warmup={self.warmup!r}, warmup_fraction={self.warmup_fraction!r}"
            )
        if t - d < 1:
            raise ValueError(
                f"max_steps ({t}) must exceed the decay ({d} steps): the power law is taken "
                "at max_steps - decay"
            )
        self._set(**out)

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        t = self.max_steps
        w = _length(self.warmup, self.warmup_fraction, t)
        d = _length(self.decay, self.decay_fraction, t)
        peak = ctx.const(self.base_lr)

        def power(since: Any) -> Any:
            return peak * _shapes.stable(ctx, "power", since, float(w), self.b)

        def rest() -> Any:
            def law() -> Any:
                return power(_since(ctx, _held(ctx, step, w, max(w, t - d)), w))

            def tail() -> Any:
                return self._cool(ctx, step, t, d, power(ctx.array(float(t - d - w))))

            return _phase(ctx, step, t - d, law, tail)

        return _phase(ctx, step, w + 1, lambda: self._warm(ctx, step, w, peak), rest)

    def _course_changes(self, n: int) -> list[float]:
        t = self.max_steps
        ends = (
            _length(self.warmup, self.warmup_fraction, t),
            t - _length(self.decay, self.decay_fraction, t),
            t,
        )
        return sorted({float(e) for e in ends if 0 < e < n})

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def config(draw: st.DrawFn) -> dict[str, Any]:
            total = draw(st.integers(2, 300))
            warmup = draw(st.integers(1, total))
            decay = draw(st.integers(0, total - 1))
            return {
                "name": cls._name,
                "base_lr": draw(_base(groups)),
                "max_steps": total,
                "b": draw(st.one_of(st.sampled_from([-0.51, -0.5, -1.0]), st.floats(-2.0, -1e-3))),
                "warmup": warmup,
                "decay": decay,
                "decay_fraction": None,
                "warmup_min_lr": draw(st.one_of(st.just(0.0), st.floats(0.0, 1e-6))),
                "decay_min_lr": draw(st.one_of(st.just(0.0), st.floats(0.0, 1e-6))),
            }

        return config()


@dataclasses.dataclass(frozen=True)
class WSDS(_Olmo):
    """OLMo-core's ``WSDS`` (warmup-stable-decay-simplified, for continual pretraining):
    periods of ``period_lengths`` steps, each stable at ``base_lr`` (times its
    ``period_lr_multipliers``) and ending with a linear decay of ``decay`` steps (or
    ``round(decay_fraction * length)``) to ``decay_min_lr``; a linear warmup of the first
    period's peak over its first W steps; ``decay_min_lr`` after the last period.

    OLMo-core divides by zero at a period's end when its decay is 0 steps: lrfun gives
    ``decay_min_lr`` there.

    Args:
      base_lr: the group's initial lr (a sequence: one per param group).
      period_lengths: the periods' lengths in steps, each >= 1.
      period_lr_multipliers: each period's peak as a multiple of ``base_lr`` (> 0); None:
        1 for every period.
      warmup: W in steps (exactly one of ``warmup``, ``warmup_fraction``).
      warmup_fraction: W as a fraction of the first period.
      decay: each period's decay in steps (exactly one of ``decay``, ``decay_fraction``).
      decay_fraction: each period's decay as a fraction of its length.
      warmup_min_lr: where the warmup starts, >= 0.
      decay_min_lr: where every decay ends, >= 0.

    >>> s = WSDS(1.0, [10, 10], [1.0, 0.5], warmup=2, decay=4)
    >>> [round(s(t), 12) for t in (1, 2, 6, 8, 10, 11, 16, 18, 20, 30)]
    [0.5, 1.0, 1.0, 0.5, 0.0, 0.5, 0.5, 0.25, 0.0, 0.0]
    """

    base_lr: float | Sequence[float]
    period_lengths: Sequence[int]
    period_lr_multipliers: Sequence[float] | None = None
    warmup: int | None = None
    warmup_fraction: float | None = None
    decay: int | None = None
    decay_fraction: float | None = None
    warmup_min_lr: float = 0.0
    decay_min_lr: float = 0.0

    _hyperparameters = ("base_lr", "warmup_min_lr", "decay_min_lr")
    _static_floats = ("warmup_fraction", "decay_fraction")
    _reference = _formula_of("OLMo-core formula", "olmo_wsds", "ai2-olmo-core")
    _gallery = ("olmo.WSDS(0.1, period_lengths=[60, 40], warmup=10, decay_fraction=0.25)", 110)

    # per period: where it ends (after the warmup), its stable steps and decay steps
    _ends: Any = dataclasses.field(init=False, repr=False, compare=False)
    _table: tuple[tuple[int, int, int, float], ...] = dataclasses.field(
        init=False, repr=False, compare=False
    )
    _warmup_steps: int = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        lengths = check.integers("period_lengths", self.period_lengths, minimum=1)
        if not lengths:
            raise ValueError("period_lengths must hold at least one period, got []")
        multipliers = self.period_lr_multipliers
        if multipliers is not None:
            multipliers = tuple(
                check.real(f"period_lr_multipliers[{i}]", m, low=0.0, low_open=True)
                for i, m in enumerate(multipliers)
            )
            if len(multipliers) != len(lengths):
                raise ValueError(
                    f"period_lr_multipliers must have one value per period ({len(lengths)}), "
                    f"got {list(multipliers)}"
                )
        warmup = _optional_count("warmup", self.warmup)
        warmup_fraction = _fraction("warmup_fraction", self.warmup_fraction)
        decay = _optional_count("decay", self.decay)
        decay_fraction = _fraction("decay_fraction", self.decay_fraction)
        _one_of("warmup", warmup, "warmup_fraction", warmup_fraction)
        _one_of("decay", decay, "decay_fraction", decay_fraction)
        w = _length(warmup, warmup_fraction, lengths[0])
        decays = [decay if decay is not None else round(decay_fraction * n) for n in lengths]  # type: ignore[operator]
        if w + decays[0] > lengths[0]:
            raise ValueError(
                f"the first period's warmup ({w}) and decay ({decays[0]}) exceed its length "
                f"({lengths[0]})"
            )
        for i, (n, d) in enumerate(zip(lengths, decays, strict=True)):
            if d > n:
                raise ValueError(f"period {i}'s decay ({d}) exceeds its length ({n})")
        adjusted = [lengths[0] - w, *lengths[1:]]
        ends = np.cumsum(adjusted).tolist()
        mults = multipliers or (1.0,) * len(lengths)
        table = tuple(
            (int(a), int(a) - d, d, float(m))
            for a, d, m in zip(adjusted, decays, mults, strict=True)
        )
        self._set(
            base_lr=base_lr,
            period_lengths=lengths,
            period_lr_multipliers=multipliers,
            warmup=warmup,
            warmup_fraction=warmup_fraction,
            decay=decay,
            decay_fraction=decay_fraction,
            warmup_min_lr=check.real("warmup_min_lr", self.warmup_min_lr, low=0.0),
            decay_min_lr=check.real("decay_min_lr", self.decay_min_lr, low=0.0),
            _ends=integer_tables(tuple(int(e) for e in ends[:-1])),
            _table=table,
            _warmup_steps=w,
            _groups=check.group_count(base_lr=base_lr),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        w, table = self._warmup_steps, self._table
        peak = ctx.const(self.base_lr)
        last = sum(row[0] for row in table)  # the last period's end, after the warmup

        def periods() -> Any:
            xp = ctx.xp
            a = _since(ctx, _at_least(ctx, step, w), w)  # steps since the warmup, as floats
            shifted = _at_least(ctx, step, w) - w if w else step
            # the period holding a: the first whose end is >= a (count of ends < a)
            index = searchsorted(ctx, self._ends, shifted - 1)
            starts = [0.0, *np.cumsum([row[0] for row in table])[:-1].astype(float).tolist()]
            start = ctx.gather(starts, index)
            length = ctx.gather([float(r[0]) for r in table], index)
            stable = ctx.gather([float(r[1]) for r in table], index)
            decay = ctx.gather([float(r[2]) for r in table], index)
            mult = ctx.gather([r[3] for r in table], index)
            pos = xp.minimum(xp.maximum(a - start, ctx.array(0.0)), length)
            top = peak * mult
            left = xp.minimum(decay - (pos - stable), decay) / xp.maximum(decay, ctx.array(1.0))
            cooled = _shapes.interpolate(ctx, self.decay_min_lr, top, left)
            return xp.where(pos < stable, top + xp.zeros_like(cooled), cooled)

        def ended() -> Any:
            return ctx.const(self.decay_min_lr) + ctx.xp.zeros_like(ctx.float(step))

        rest = lambda: _phase(ctx, step, w + last, periods, ended)  # noqa: E731
        return _phase(ctx, step, w, lambda: self._warm(ctx, step, w, peak * table[0][3]), rest)

    def _course_changes(self, n: int) -> list[float]:
        edges, at = {float(self._warmup_steps)}, self._warmup_steps
        for length, stable, _, _ in self._table:
            edges |= {float(at + stable), float(at + length)}
            at += length
        return sorted(e for e in edges if 0 < e < n)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def config(draw: st.DrawFn) -> dict[str, Any]:
            lengths = draw(st.lists(st.integers(1, 80), min_size=1, max_size=4))
            shortest = min(lengths)
            decay = draw(st.integers(0, shortest))
            warmup = draw(st.integers(0, lengths[0] - decay))
            multipliers = draw(
                st.one_of(
                    st.none(),
                    st.lists(st.floats(0.1, 2.0), min_size=len(lengths), max_size=len(lengths)),
                )
            )
            return {
                "name": cls._name,
                "base_lr": draw(_base(groups)),
                "period_lengths": lengths,
                "period_lr_multipliers": multipliers,
                "warmup": warmup,
                "decay": decay,
                "warmup_min_lr": draw(st.one_of(st.just(0.0), st.floats(0.0, 1e-6))),
                "decay_min_lr": draw(st.one_of(st.just(0.0), st.floats(0.0, 1e-6))),
            }

        return config()


# -- nanotron -------------------------------------------------------------------------------

_NANOTRON_DECAYS = ("linear", "cosine", "1-sqrt")


@dataclasses.dataclass(frozen=True)
class LrScheduler(Schedule):
    """nanotron's ``lr_scheduler_builder``: a torch ``LambdaLR`` over a warmup, an optional
    constant phase, a decay to ``min_decay_lr`` and that floor after.

    With ``D`` = ``lr_decay_steps`` (None: ``total_training_steps - lr_warmup_steps -
    (lr_decay_starting_step or 0)``) and ``S`` = ``lr_decay_starting_step`` (None:
    ``lr_warmup_steps``): ``t <= W``: ``base_lr * t / max(W, 1)`` (``linear``) or
    ``learning_rate`` (``constant``); ``t < S``: ``base_lr``; ``t < S + D``:
    ``min_decay_lr + (base_lr - min_decay_lr) * shape((t - S) / D)``; then
    ``min_decay_lr``.

    nanotron behaviour reproduced: the warmup includes step W (and step 0 is 0 with no
    warmup); ``min_decay_lr`` defaults to ``learning_rate`` (no decay at all); with
    neither warmup nor decay its lambda returns the lr itself, which LambdaLR multiplies by
    the lr again: ``base_lr ** 2``.

    nanotron at ``2411b022a75fb7f7561a1bb4166706da5e1b76de`` (``src/nanotron/helpers.py``,
    ``src/nanotron/config/config.py``).

    Args:
      base_lr: the group's lr, > 0 (a sequence: one per param group).
      total_training_steps: an integer >= 0.
      lr_warmup_steps: W, an integer >= 0.
      lr_warmup_style: ``"linear"`` or ``"constant"``.
      lr_decay_style: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
      lr_decay_steps: D (None: see above).
      lr_decay_starting_step: S (None: see above).
      min_decay_lr: the floor (an lr, every group's); None: ``learning_rate``.
      learning_rate: ``LRSchedulerArgs.learning_rate``; None: ``base_lr`` (one group).

    >>> s = LrScheduler(1.0, 10, lr_warmup_steps=2, min_decay_lr=0.0)
    >>> [round(s(t), 12) for t in (0, 1, 2, 6, 10)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """

    base_lr: float | Sequence[float]
    total_training_steps: int
    lr_warmup_steps: int = 0
    lr_warmup_style: str = "linear"
    lr_decay_style: str = "linear"
    lr_decay_steps: int | None = None
    lr_decay_starting_step: int | None = None
    min_decay_lr: float | None = None
    learning_rate: float | None = None

    _learning_rate: float = dataclasses.field(init=False, repr=False, compare=False)
    _min_decay_lr: float = dataclasses.field(init=False, repr=False, compare=False)

    _namespace = "nanotron."
    _hyperparameters = ("base_lr",)
    _static_floats = ("min_decay_lr", "learning_rate")
    _lr_arguments = ("base_lr", "min_decay_lr", "learning_rate")
    _reference = _formula_of("nanotron formula", "nanotron_lr", "nanotron")
    _gallery = (
        "nanotron.LrScheduler(0.1, 100, lr_warmup_steps=10, lr_decay_style='1-sqrt', "
        "lr_decay_starting_step=70, min_decay_lr=0.0)",
        110,
    )

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr, low=0.0, low_open=True)
        learning_rate = self.learning_rate
        if learning_rate is None:
            if isinstance(base_lr, tuple):
                raise ValueError(
                    "learning_rate must be given when base_lr has one lr per param group "
                    "(nanotron's LRSchedulerArgs.learning_rate)"
                )
            learning_rate = base_lr
        learning_rate = check.real("learning_rate", learning_rate, low=0.0)
        floor = self.min_decay_lr
        floor = learning_rate if floor is None else check.real("min_decay_lr", floor, low=0.0)
        self._set(
            base_lr=base_lr,
            total_training_steps=_count("total_training_steps", self.total_training_steps),
            lr_warmup_steps=_count("lr_warmup_steps", self.lr_warmup_steps),
            lr_warmup_style=check.choice(
                "lr_warmup_style", self.lr_warmup_style, ("linear", "constant")
            ),
            lr_decay_style=check.choice("lr_decay_style", self.lr_decay_style, _NANOTRON_DECAYS),
            lr_decay_steps=None
            if self.lr_decay_steps is None
            else _count("lr_decay_steps", self.lr_decay_steps, minimum=-_INT_MAX),
            lr_decay_starting_step=_optional_count(
                "lr_decay_starting_step", self.lr_decay_starting_step
            ),
            min_decay_lr=None if self.min_decay_lr is None else floor,
            learning_rate=self.learning_rate if self.learning_rate is None else learning_rate,
            _learning_rate=learning_rate,
            _min_decay_lr=floor,
            _groups=check.group_count(base_lr=base_lr),
        )

    def _phases(self) -> tuple[int, int, int]:
        w = self.lr_warmup_steps
        d = self.lr_decay_steps
        if d is None:
            d = self.total_training_steps - w - (self.lr_decay_starting_step or 0)
        start = w if self.lr_decay_starting_step is None else self.lr_decay_starting_step
        return w, start, d

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        w, start, d = self._phases()
        peak = ctx.const(self.base_lr)
        if w == 0 and d == 0:
            return peak * peak + ctx.xp.zeros_like(ctx.float(step))

        def warm() -> Any:
            if self.lr_warmup_style == "constant":
                return _const_like(ctx, self._learning_rate, step)
            held = ctx.minimum(step, w)
            return peak * ctx.float(held) / float(max(w, 1))

        def decay() -> Any:
            within = _held(ctx, step, start, start + d)
            progress = _since(ctx, within, start) / float(max(d, 1))
            if self.lr_decay_style == "linear":  # nanotron: (D - (t - S)) / D
                fraction = (float(d) - _since(ctx, within, start)) / float(max(d, 1))
            else:
                fraction = _shapes.decay(ctx, self.lr_decay_style, progress)
            return _shapes.interpolate(ctx, self._min_decay_lr, peak, fraction)

        def floor() -> Any:
            return _const_like(ctx, self._min_decay_lr, step)

        def after_warmup() -> Any:
            def rest() -> Any:
                return _phase(ctx, step, start + d, decay, floor) if d > 0 else floor()

            return _phase(ctx, step, start, lambda: _const_like(ctx, self.base_lr, step), rest)

        return _phase(ctx, step, w + 1, warm, after_warmup)

    def _course_changes(self, n: int) -> list[float]:
        w, start, d = self._phases()
        return sorted({float(e) for e in (w, start, start + d) if 0 < e < n})

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def config(draw: st.DrawFn) -> dict[str, Any]:
            total = draw(st.one_of(st.sampled_from([0, 1, 10]), st.integers(0, 300)))
            base = draw(_base(groups))
            out = {
                "name": cls._name,
                "base_lr": base,
                "total_training_steps": total,
                "lr_warmup_steps": draw(st.integers(0, max(total, 1))),
                "lr_warmup_style": draw(st.sampled_from(["linear", "constant"])),
                "lr_decay_style": draw(st.sampled_from(_NANOTRON_DECAYS)),
                "lr_decay_steps": draw(st.one_of(st.none(), st.integers(0, 300))),
                "lr_decay_starting_step": draw(st.one_of(st.none(), st.integers(0, 300))),
                "min_decay_lr": draw(st.one_of(st.none(), st.just(0.0), st.floats(0.0, 1e-3))),
                "learning_rate": draw(_lrs()) if isinstance(base, list) else None,
            }
            return out

        return config()


# -- torchtitan -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LinearWarmupStableDecay(Schedule):
    """torchtitan's ``linear_warmup_stable_decay`` (``LRSchedulersContainer.Config``): a
    torch ``LambdaLR`` with a linear warmup that starts one step in, a stable phase, and a
    decay to ``base_lr * min_lr_factor`` at the last step.

    With ``T`` = ``total_steps`` (None: ``training_steps``), ``W = min(warmup_steps, T)``,
    ``D = round(T * decay_ratio)`` (at most ``T - W``; None: ``T - W``) and ``S = T + 1 - W
    - D``: ``t < W``: ``(t + 1) / W``; ``t < W + S``: 1; else ``m + (1 - m) * shape((t + 1
    - W - S) / D)``, which reaches ``m`` at step ``T`` (torchtitan's "virtual last step").

    torchtitan asserts past step ``T`` with no decay; its formula goes on past ``T`` below
    the floor: lrfun holds the lr of step ``T`` there.

    torchtitan at ``b5bcd76c66d0acb1a08b176d9639425bc55e0b2a``
    (``torchtitan/components/optimizer/lr_scheduler.py``).

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      training_steps: ``--training.steps``, an integer >= 0.
      warmup_steps: an integer >= 0 (torchtitan's default 200).
      total_steps: the schedule's own total (None: ``training_steps``).
      decay_ratio: the decay's fraction of T in ``[0, 1]`` (None: decay right after the
        warmup).
      decay_type: ``"linear"``, ``"sqrt"`` or ``"cosine"``.
      min_lr_factor: m, the floor as a fraction of ``base_lr``, >= 0.

    >>> s = LinearWarmupStableDecay(1.0, 10, warmup_steps=2, decay_ratio=0.4)
    >>> [round(s(t), 12) for t in (0, 1, 2, 6, 7, 10, 11)]
    [0.5, 1.0, 1.0, 1.0, 0.75, 0.0, 0.0]
    """

    base_lr: float | Sequence[float]
    training_steps: int
    warmup_steps: int = 200
    total_steps: int | None = None
    decay_ratio: float | None = None
    decay_type: str = "linear"
    min_lr_factor: float = 0.0

    _namespace = "torchtitan."
    _hyperparameters = ("base_lr", "min_lr_factor")
    _static_floats = ("decay_ratio",)
    _reference = _formula_of("torchtitan formula", "torchtitan_lr", "torchtitan")
    _gallery = (
        "torchtitan.LinearWarmupStableDecay(0.1, 100, warmup_steps=10, decay_ratio=0.2, "
        "decay_type='sqrt')",
        110,
    )

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        self._set(
            base_lr=base_lr,
            training_steps=_count("training_steps", self.training_steps),
            warmup_steps=_count("warmup_steps", self.warmup_steps),
            total_steps=_optional_count("total_steps", self.total_steps),
            decay_ratio=_fraction("decay_ratio", self.decay_ratio),
            decay_type=check.choice("decay_type", self.decay_type, ("linear", "sqrt", "cosine")),
            min_lr_factor=check.real("min_lr_factor", self.min_lr_factor, low=0.0),
            _groups=check.group_count(base_lr=base_lr),
        )

    def _phases(self) -> tuple[int, int, int, int]:
        t = self.training_steps if self.total_steps is None else self.total_steps
        w = min(self.warmup_steps, t)
        if self.decay_ratio is not None:
            d = round(t * self.decay_ratio)
            d = t - w if w + d > t else d
        else:
            d = t - w
        return t, w, t + 1 - w - d, d

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        t, w, s, d = self._phases()
        peak = ctx.const(self.base_lr)

        def warm() -> Any:
            return peak * ((ctx.float(ctx.minimum(step, w)) + 1.0) / float(max(w, 1)))

        def decay() -> Any:
            # held at T: the lr of torchtitan's last step
            within = _held(ctx, step, w + s, t)
            progress = (_since(ctx, within, w + s) + 1.0) / float(max(d, 1))
            shape = "1-sqrt" if self.decay_type == "sqrt" else self.decay_type
            fraction = _shapes.decay(ctx, shape, progress)
            factor = self.min_lr_factor + (1.0 - self.min_lr_factor) * fraction
            return peak * factor

        stable = lambda: _const_like(ctx, self.base_lr, step)  # noqa: E731
        rest = (lambda: _phase(ctx, step, w + s, stable, decay)) if d > 0 else stable
        return _phase(ctx, step, w, warm, rest)

    def _course_changes(self, n: int) -> list[float]:
        t, w, s, _ = self._phases()
        return sorted({float(e) for e in (w, w + s - 1, t) if 0 < e < n})

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "base_lr": _base(groups),
                "training_steps": st.one_of(st.sampled_from([0, 1, 10]), st.integers(0, 300)),
                "warmup_steps": st.one_of(st.sampled_from([0, 1, 200]), st.integers(0, 300)),
                "total_steps": st.one_of(st.none(), st.integers(0, 300)),
                "decay_ratio": st.one_of(st.none(), st.sampled_from([0.0, 1.0]), st.floats(0, 1)),
                "decay_type": st.sampled_from(["linear", "sqrt", "cosine"]),
                "min_lr_factor": st.one_of(st.sampled_from([0.0, 0.1]), st.floats(0.0, 1.0)),
            }
        )


# -- big_vision -----------------------------------------------------------------------------

_BIG_VISION_DECAYS = ("linear", "polynomial", "cosine", "rsqrt")


@dataclasses.dataclass(frozen=True)
class LearningRateSchedule(Schedule):
    """big_vision's ``create_learning_rate_schedule`` with its decays ``linear`` /
    ``polynomial``, ``cosine`` and ``rsqrt``, a linear warmup and a linear cooldown, both
    multiplied onto the decay (``stair`` and the epoch or example counts are not
    reproduced).

    With ``p = clip((t - W) / (T - W), 0, 1)``: ``linear``/``polynomial``: ``end +
    (base_lr - end) * (1 - p) ** power``; ``cosine``: ``base_lr * 0.5 * (1 + cos(pi
    p))``; ``rsqrt``: ``base_lr / sqrt(1 + (t + shift - W) / timescale)`` from W on
    (``base_lr / sqrt(1 + shift / timescale)`` before); then times ``min(1, t / W)`` and
    ``min(1, (T - t) / C)``.

    big_vision casts its lr to float32; its formula's cooldown goes negative past T: lrfun
    computes in the step's dtype and holds the lr of step T past it.

    big_vision at ``0127fb6b337ee2a27bf4e54dea79cff176527356`` (``big_vision/utils.py``).

    Args:
      base_lr: ``base``, the lr before warmup and decay (a sequence: one per param group).
      total_steps: T, an integer > ``warmup_steps``.
      decay_type: ``"linear"``, ``"polynomial"``, ``"cosine"`` or ``"rsqrt"``.
      warmup_steps: W, an integer >= 0.
      cooldown_steps: C, an integer >= 0.
      timescale: the rsqrt's timescale, an integer >= 1.
      shift: the rsqrt's shift in steps, an integer >= 0.
      power: the polynomial's power, 0 or a finite number >= 2**-126 (float32's smallest
        normal number, below which float32 takes it for 0).
      end: the linear or polynomial decay's end lr, >= 0 (big_vision's ``end`` or
        ``linear_end``).

    >>> s = LearningRateSchedule(1.0, 100, "rsqrt", warmup_steps=4, cooldown_steps=10,
    ...                          timescale=4)
    >>> s(2), s(4), s(16), round(s(95), 6), s(100)
    (0.5, 1.0, 0.5, 0.102598, 0.0)
    """

    base_lr: float | Sequence[float]
    total_steps: int
    decay_type: str
    warmup_steps: int = 0
    cooldown_steps: int = 0
    timescale: int = 10_000
    shift: int = 0
    power: float = 1.0
    end: float = 0.0

    _namespace = "big_vision."
    _hyperparameters = ("base_lr", "power", "end")
    _lr_arguments = ("base_lr", "end")
    _reference = _formula_of("big_vision formula", "big_vision_lr", "big_vision")
    _gallery = (
        "big_vision.LearningRateSchedule(0.1, 200, 'rsqrt', warmup_steps=10, "
        "cooldown_steps=40, timescale=10)",
        200,
    )

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        total = _count("total_steps", self.total_steps, minimum=1)
        warmup = _count("warmup_steps", self.warmup_steps)
        if warmup >= total:
            raise ValueError(f"warmup_steps ({warmup}) must be below total_steps ({total})")
        self._set(
            base_lr=base_lr,
            total_steps=total,
            decay_type=check.choice("decay_type", self.decay_type, _BIG_VISION_DECAYS),
            warmup_steps=warmup,
            cooldown_steps=_count("cooldown_steps", self.cooldown_steps),
            timescale=_count("timescale", self.timescale, minimum=1),
            shift=_count("shift", self.shift),
            power=_power(self.power),
            end=check.real("end", self.end, low=0.0),
            _groups=check.group_count(base_lr=base_lr),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        xp = ctx.xp
        t, w, c = self.total_steps, self.warmup_steps, self.cooldown_steps
        peak = ctx.const(self.base_lr)
        held = ctx.minimum(step, t) if reaches(ctx, step, t) else step
        progress = _since(ctx, _held(ctx, held, w, t), w) / float(t - w)
        if self.decay_type in ("linear", "polynomial"):
            # 1 - p from its integer numerator, (T - t) / (T - W): 1 - t / D would leave
            # float32 (and XLA's reciprocal) rounding near 0, which a power below 1 magnifies
            linear = _until(ctx, t, _held(ctx, held, w, t)) / float(t - w)
            remaining = linear ** ctx.const(self.power)
            lr = _shapes.interpolate(ctx, self.end, peak, remaining)
        elif self.decay_type == "cosine":
            lr = peak * _shapes.decay(ctx, "cosine", progress)
        else:
            since = _since(ctx, _at_least(ctx, held, w), w) + float(self.shift)
            lr = peak * _shapes.stable(ctx, "rsqrt", since, float(self.timescale))
            if w:
                before = peak * _shapes.stable(
                    ctx, "rsqrt", ctx.array(float(self.shift)), float(self.timescale)
                )
                lr = ctx.xp.where(held < w, before + xp.zeros_like(lr), lr)
        if w:
            lr = lr * (ctx.float(ctx.minimum(held, w)) / float(w))
        if c:
            left = _until(ctx, t, held)
            lr = lr * (xp.minimum(left, ctx.array(float(c))) / float(c))
        return lr

    def _course_changes(self, n: int) -> list[float]:
        t, w, c = self.total_steps, self.warmup_steps, self.cooldown_steps
        return sorted({float(e) for e in (w, t - c, t) if 0 < e < n})

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def config(draw: st.DrawFn) -> dict[str, Any]:
            total = draw(st.one_of(st.sampled_from([1, 2, 10]), st.integers(1, 300)))
            return {
                "name": cls._name,
                "base_lr": draw(_base(groups)),
                "total_steps": total,
                "decay_type": draw(st.sampled_from(_BIG_VISION_DECAYS)),
                "warmup_steps": draw(st.integers(0, total - 1)),
                "cooldown_steps": draw(st.integers(0, total)),
                "timescale": draw(st.one_of(st.sampled_from([1, 10_000]), st.integers(1, 400))),
                "shift": draw(st.one_of(st.just(0), st.integers(0, 400))),
                "power": draw(
                    st.one_of(st.sampled_from([0.0, 1.0, 2.0, 0.5]), st.floats(2.0**-126, 4.0))
                ),
                "end": draw(st.one_of(st.just(0.0), st.floats(0.0, 1e-3))),
            }

        return config()


# -- Hägele et al. (2024) -------------------------------------------------------------------

_HAGELE_DECAYS = {
    "linear": "linear",
    "exp": "exponential",
    "cosine": "cosine",
    "miror_cosine": "mirror-cosine",
    "square": "square",
    "sqrt": "1-sqrt",
}


@dataclasses.dataclass(frozen=True)
class WsdSchedule(Schedule):
    """Hägele et al. (2024)'s ``wsd_schedule`` ("Scaling Laws and Compute-Optimal Training
    Beyond Fixed Training Durations"): a linear warmup from ``base_lr / init_div_factor``,
    a hold at ``base_lr``, a cooldown of ``int(fract_decay * n_iterations)`` steps to
    ``base_lr * final_lr_factor``, then that floor.

    ``t < W``: ``t / W + (1 - t / W) / init_div_factor``; ``t < H = N - A``: 1; ``t < N``:
    ``f + (1 - f) * shape((t - H) / A)`` (``exp``: ``f ** ((t - H) / A)``); then ``f``;
    all times ``base_lr``. The decay types are the ``lrfun._shapes`` decays: ``linear``,
    ``exp`` (``exponential`` with rate f), ``cosine``, ``miror_cosine``
    (``mirror-cosine``), ``square``, ``sqrt`` (``1-sqrt``).

    epfml/schedules-and-scaling at ``ce6b4055b1e37418d79b892c43a8d6eea04c69f8``
    (``src/optim/utils.py``).

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      n_iterations: N, an integer >= 0.
      final_lr_factor: f, the final lr as a fraction of ``base_lr``, >= 0.
      n_warmup: W, an integer >= 0.
      init_div_factor: the warmup starts at ``base_lr / init_div_factor``, > 0.
      fract_decay: the cooldown's fraction of N, in ``[0, 1]``.
      decay_type: ``linear``, ``exp``, ``cosine``, ``miror_cosine``, ``square`` or
        ``sqrt``.

    >>> s = WsdSchedule(1.0, 100, final_lr_factor=0.1, n_warmup=10, fract_decay=0.2)
    >>> [round(s(t), 12) for t in (0, 5, 10, 80, 90, 100)]
    [0.01, 0.505, 1.0, 1.0, 0.55, 0.1]
    """

    base_lr: float | Sequence[float]
    n_iterations: int
    final_lr_factor: float = 0.0
    n_warmup: int = 1000
    init_div_factor: float = 100.0
    fract_decay: float = 0.1
    decay_type: str = "linear"

    _namespace = "hagele."
    _hyperparameters = ("base_lr", "final_lr_factor", "init_div_factor")
    _static_floats = ("fract_decay",)
    _reference = _formula_of("schedules-and-scaling formula", "hagele_wsd", "schedules-and-scaling")
    _gallery = (
        "hagele.WsdSchedule(0.1, 100, n_warmup=10, fract_decay=0.2, decay_type='sqrt')",
        110,
    )

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        self._set(
            base_lr=base_lr,
            n_iterations=_count("n_iterations", self.n_iterations),
            final_lr_factor=check.real("final_lr_factor", self.final_lr_factor, low=0.0),
            n_warmup=_count("n_warmup", self.n_warmup),
            init_div_factor=check.real(
                "init_div_factor", self.init_div_factor, low=0.0, low_open=True
            ),
            fract_decay=check.real("fract_decay", self.fract_decay, low=0.0, high=1.0),
            decay_type=check.choice("decay_type", self.decay_type, tuple(_HAGELE_DECAYS)),
            _groups=check.group_count(base_lr=base_lr),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        n, w = self.n_iterations, self.n_warmup
        a = int(self.fract_decay * n)
        hold = n - a
        f = self.final_lr_factor
        peak = ctx.const(self.base_lr)

        def warm() -> Any:
            p = ctx.float(ctx.minimum(step, w)) / float(max(w, 1))
            return peak * _shapes.interpolate(ctx, 1.0 / ctx.const(self.init_div_factor), 1.0, p)

        def cool() -> Any:
            within = _held(ctx, step, hold, n)
            progress = _since(ctx, within, hold) / float(max(a, 1))
            shape = _HAGELE_DECAYS[self.decay_type]
            return peak * _shapes.interpolate(ctx, f, 1.0, _shapes.decay(ctx, shape, progress, f))

        def rest() -> Any:
            return _phase(
                ctx,
                step,
                hold,
                lambda: _const_like(ctx, self.base_lr, step),
                lambda: _phase(
                    ctx, step, n, cool, lambda: peak * f + ctx.xp.zeros_like(ctx.float(step))
                ),
            )

        return _phase(ctx, step, w, warm, rest)

    def _course_changes(self, n: int) -> list[float]:
        a = int(self.fract_decay * self.n_iterations)
        ends = (self.n_warmup, self.n_iterations - a, self.n_iterations)
        return sorted({float(e) for e in ends if 0 < e < n})

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "base_lr": _base(groups),
                "n_iterations": st.one_of(st.sampled_from([0, 1, 10]), st.integers(0, 300)),
                "final_lr_factor": st.one_of(st.sampled_from([0.0, 0.1, 1.0]), st.floats(0, 1)),
                "n_warmup": st.one_of(st.sampled_from([0, 1, 1000]), st.integers(0, 300)),
                "init_div_factor": st.one_of(st.sampled_from([1.0, 100.0]), st.floats(1.0, 1e4)),
                "fract_decay": st.one_of(st.sampled_from([0.0, 0.1, 1.0]), st.floats(0, 1)),
                "decay_type": st.sampled_from(tuple(_HAGELE_DECAYS)),
            }
        )
