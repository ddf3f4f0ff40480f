"""The canonical LLM schedule: warmup, a stable (or slowly falling) phase, a cooldown.

[``WarmupStableDecay``][lrfun.WarmupStableDecay] composes three phase shapes from
``lrfun._shapes`` -- one definition of each curve, which the framework presets
(``lrfun.llm``) share where their arithmetic is the same -- with every phase length in
steps or as a fraction of the total.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from lrfun import _shapes
from lrfun import _validate as check
from lrfun._backend import Ctx
from lrfun._hf import _at_least, _phase, _since
from lrfun._math import reaches
from lrfun._reference import FunctionReference
from lrfun._schedule import Schedule

__all__ = ["WarmupStableDecay", "phase_length"]


def phase_length(name: str, value: Any, total: int) -> int:
    """A phase's length in steps: an integer is steps, a float in ``[0, 1]`` a fraction of
    ``total`` (``round(fraction * total)``, Python's rounding, as OLMo-core and torchtitan
    resolve theirs).

    Raises:
      TypeError: neither an integer nor a float (a bool included).
      ValueError: a negative integer, or a float outside ``[0, 1]``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{name} must be an integer number of steps or a float fraction of total_steps "
            f"in [0, 1], got {check._shown(value)}"
        )
    if isinstance(value, (int, np.integer)):
        return check.integer(name, value, minimum=0)
    fraction: float = check.real(name, float(value), low=0.0, high=1.0)
    return round(fraction * total)


@dataclasses.dataclass(frozen=True)
class WarmupStableDecay(Schedule):
    """Warmup, stable phase, cooldown: the LLM schedule family, one closed form.

    ``W`` warmup steps from ``init_lr`` to ``base_lr``; a stable phase up to step ``T - D``
    that holds ``base_lr`` (``constant``) or falls slowly from it (``rsqrt``, ``power``);
    a cooldown over the last ``D`` steps from the lr the stable phase reached, ``L``, to
    ``final_lr``; ``final_lr`` from ``T`` on:

    * ``t < W``: ``init_lr + (base_lr - init_lr) * warmup(t / W)``;
    * ``t < T - D``: ``base_lr * stable(t - W)``;
    * ``t < T``: ``final_lr + (L - final_lr) * decay((t - T + D) / D)``,
      ``L = base_lr * stable(T - D - W)``;
    * ``t >= T``: ``final_lr``.

    The shapes (``lrfun._shapes``): warmups ``linear``, ``cosine``, ``1-sqrt``; stable
    phases ``constant``, ``rsqrt`` (``1 / sqrt((s + T') / T')``, timescale ``T'``),
    ``power`` (``((s + T') / T') ** exponent``); decays ``linear``, ``1-sqrt``,
    ``cosine``, ``square``, ``mirror-cosine``, ``exponential`` (geometric from ``L`` to
    ``final_lr``: ``L * (final_lr / L) ** p``; a cliff at ``final_lr = 0``, as Hägele et
    al.'s) and ``exponential-halving`` (Megatron-LM's ``2 * 0.5**p - 1``).

    Args:
      base_lr: the peak lr (a sequence: one per param group).
      total_steps: T, where the cooldown ends, an integer >= 0.
      warmup: W: an integer number of steps, or a float fraction of ``total_steps`` in
        ``[0, 1]`` (``round(fraction * T)``).
      decay: D, the cooldown's length, steps or a fraction as ``warmup``; ``W + D <= T``.
      final_lr: the lr the cooldown ends at and holds after (per group: a sequence).
      init_lr: the lr the warmup starts from (0: from zero; per group: a sequence).
      warmup_shape: one of ``linear``, ``cosine``, ``1-sqrt``.
      stable_shape: one of ``constant``, ``rsqrt``, ``power``.
      decay_shape: one of ``linear``, ``1-sqrt``, ``cosine``, ``square``,
        ``mirror-cosine``, ``exponential``, ``exponential-halving``.
      timescale: T', the stable phase's timescale in steps (a positive integer); None:
        ``max(1, W)`` (the power law of OLMo-core's ``PowerLR``, big_vision's rsqrt with
        ``timescale = warmup``).
      exponent: the ``power`` stable phase's exponent, a finite number <= 0.

    >>> s = WarmupStableDecay(1.0, total_steps=10, warmup=2, decay=0.4, final_lr=0.1)
    >>> [round(s(t), 6) for t in (0, 1, 2, 6, 8, 10, 20)]
    [0.0, 0.5, 1.0, 1.0, 0.55, 0.1, 0.1]
    """

    base_lr: float | Sequence[float]
    total_steps: int
    warmup: int | float = 0
    decay: int | float = 0.2
    final_lr: float | Sequence[float] = 0.0
    init_lr: float | Sequence[float] = 0.0
    warmup_shape: str = "linear"
    stable_shape: str = "constant"
    decay_shape: str = "linear"
    timescale: int | None = None
    exponent: float = -0.5

    # The phase lengths in steps, and the stable phase's timescale, resolved.
    _warmup: int = dataclasses.field(init=False, repr=False, compare=False)
    _decay: int = dataclasses.field(init=False, repr=False, compare=False)
    _timescale: int = dataclasses.field(init=False, repr=False, compare=False)

    _namespace = "lrfun."
    _hyperparameters = ("base_lr", "final_lr", "init_lr", "exponent")
    _static_floats = ("warmup", "decay")
    _lr_arguments = ("base_lr", "final_lr", "init_lr")
    _gallery = (
        "lrfun.WarmupStableDecay(0.1, total_steps=100, warmup=10, decay=0.2, "
        "decay_shape='1-sqrt', final_lr=0.001)",
        120,
    )

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        final_lr = check.lr_values("final_lr", self.final_lr)
        init_lr = check.lr_values("init_lr", self.init_lr)
        total = check.integer("total_steps", self.total_steps, minimum=0, whole=True)
        warmup = phase_length("warmup", self.warmup, total)
        decay = phase_length("decay", self.decay, total)
        if warmup + decay > total:
            raise ValueError(
                f"warmup ({self.warmup!r}: {warmup} steps) and decay ({self.decay!r}: "
                f"{decay} steps) must fit in total_steps ({total})"
            )
        timescale = self.timescale
        if timescale is not None:
            timescale = check.integer("timescale", timescale, whole=True)
        exponent = check.real("exponent", self.exponent, high=0.0)
        self._set(
            base_lr=base_lr,
            final_lr=final_lr,
            init_lr=init_lr,
            total_steps=total,
            warmup_shape=check.choice("warmup_shape", self.warmup_shape, _shapes.WARMUPS),
            stable_shape=check.choice("stable_shape", self.stable_shape, _shapes.STABLES),
            decay_shape=check.choice("decay_shape", self.decay_shape, _shapes.DECAYS),
            timescale=timescale,
            exponent=exponent,
            _warmup=warmup,
            _decay=decay,
            _timescale=max(1, warmup) if timescale is None else timescale,
            _groups=check.group_count(base_lr=base_lr, final_lr=final_lr, init_lr=init_lr),
        )

    def _stable(self, ctx: Ctx, since: Any) -> Any:
        """The stable phase's lr ``since`` steps (a float array) into it."""
        fraction = _shapes.stable(
            ctx, self.stable_shape, since, float(self._timescale), self.exponent
        )
        return ctx.const(self.base_lr) * fraction

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        w, d, t = self._warmup, self._decay, self.total_steps
        cooldown = t - d  # where the cooldown starts

        def warm() -> Any:
            progress = ctx.float(ctx.minimum(step, w)) / float(max(1, w))
            fraction = _shapes.warmup(ctx, self.warmup_shape, progress)
            return _shapes.interpolate(ctx, self.init_lr, self.base_lr, fraction)

        def hold() -> Any:
            within = _at_least(ctx, step, w)
            if reaches(ctx, step, cooldown):
                within = ctx.minimum(within, cooldown)
            return self._stable(ctx, _since(ctx, within, w))

        def cool() -> Any:
            within = _at_least(ctx, step, cooldown)
            if reaches(ctx, step, t):
                within = ctx.minimum(within, t)
            progress = _since(ctx, within, cooldown) / float(max(1, d))
            start = self._stable(ctx, ctx.array(float(cooldown - w)))
            final = ctx.const(self.final_lr)
            # the exponential's rate: final over the lr it starts from (1 where that is 0)
            positive = start > 0
            rate = ctx.where(positive, final / ctx.where(positive, start, 1.0), 1.0)
            fraction = _shapes.decay(ctx, self.decay_shape, progress, rate)
            return final + (start - final) * fraction

        def ended() -> Any:
            return ctx.const(self.final_lr) + ctx.xp.zeros_like(ctx.float(step))

        return _phase(
            ctx,
            step,
            w,
            warm,
            lambda: _phase(ctx, step, cooldown, hold, lambda: _phase(ctx, step, t, cool, ended)),
        )

    def _course_changes(self, n: int) -> list[float]:
        ends = (self._warmup, self.total_steps - self._decay, self.total_steps)
        return sorted({float(e) for e in ends if 0 < e < n})

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def config(draw: st.DrawFn) -> dict[str, Any]:
            total = draw(st.one_of(st.sampled_from([0, 1, 2, 10]), st.integers(0, 300)))

            def length(room: int) -> int | float:
                if draw(st.booleans()):
                    return draw(st.integers(0, room))
                # a fraction whose steps fit in the room left
                top = room / total if total else 1.0
                return draw(st.one_of(st.just(0.0), st.floats(0.0, min(1.0, top))))

            warmup = length(total)
            w = phase_length("warmup", warmup, total)
            decay = length(total - w)
            if phase_length("decay", decay, total) + w > total:  # rounding up past the room
                decay = total - w
            lr = st.one_of(st.sampled_from([0.0, 0.1, 1.0, 3e-4]), st.floats(1e-6, 1.0))
            out = {
                "name": cls._name,
                "base_lr": draw(lr),
                "total_steps": total,
                "warmup": warmup,
                "decay": decay,
                "final_lr": draw(lr),
                "init_lr": draw(lr),
                "warmup_shape": draw(st.sampled_from(_shapes.WARMUPS)),
                "stable_shape": draw(st.sampled_from(_shapes.STABLES)),
                "decay_shape": draw(st.sampled_from(_shapes.DECAYS)),
                "timescale": draw(st.one_of(st.none(), st.integers(1, 400))),
                "exponent": draw(st.one_of(st.sampled_from([0.0, -0.5, -1.0]), st.floats(-2, 0))),
            }
            n = None if groups is None else draw(groups)
            if n is not None:  # (None drawn: one group, whose lrs are numbers)
                out["base_lr"] = [draw(lr) for _ in range(n)]
                out["final_lr"] = [draw(lr) for _ in range(n)]
            return out

        return config()


def _formula(schedule: WarmupStableDecay, steps: np.ndarray) -> np.ndarray:
    """The family's definition, step by step in plain Python (the textbook forms of the
    shapes, independent of ``lrfun._shapes``' arithmetic): the reference the closed form is
    held to."""
    s = schedule
    w, d, t = s._warmup, s._decay, s.total_steps
    groups = s.groups or 1

    def per_group(value: Any) -> list[float]:
        return list(value) if isinstance(value, tuple) else [float(value)] * groups

    peaks, finals, inits = per_group(s.base_lr), per_group(s.final_lr), per_group(s.init_lr)
    ts, b = float(s._timescale), float(s.exponent)

    def stable(since: float) -> float:
        x = (since + ts) / ts
        values = {"constant": 1.0, "rsqrt": 1.0 / math.sqrt(x), "power": float(x**b)}
        return values[s.stable_shape]

    def warm(p: float) -> float:
        if s.warmup_shape == "linear":
            return p
        if s.warmup_shape == "cosine":
            return 0.5 * (1.0 - math.cos(math.pi * p))
        return 1.0 - math.sqrt(1.0 - p)

    def cool(p: float, start: float, final: float) -> Any:
        shape = s.decay_shape
        if shape == "exponential":
            return start * (final / start) ** p if start > 0 else final
        cosine = 0.5 * (1.0 + math.cos(math.pi * p))
        fraction = {
            "linear": 1.0 - p,
            "1-sqrt": 1.0 - math.sqrt(p),
            "cosine": cosine,
            "square": 1.0 - p * p,
            "mirror-cosine": 2.0 * (1.0 - p) - cosine,
            "exponential-halving": 2.0 * 0.5**p - 1.0,
        }[shape]
        return final + (start - final) * fraction

    rows = []
    for k in np.asarray(steps).reshape(-1).tolist():
        k = max(int(k), 0)
        row = []
        for peak, final, init in zip(peaks, finals, inits, strict=True):
            if k < w:
                row.append(init + (peak - init) * warm(k / w))
            elif k < t - d:
                row.append(peak * stable(k - w))
            elif k < t:
                row.append(cool((k - (t - d)) / d, peak * stable(t - d - w), final))
            else:
                row.append(final)
        rows.append(row)
    out = np.asarray(rows, dtype=np.float64)
    return out if s.groups else out[:, 0]


WarmupStableDecay._reference = FunctionReference("lrfun formula", _formula, package="lrfun")
