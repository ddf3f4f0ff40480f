"""Branching a schedule: a cooldown from any step, a resume with a new total length.

[``Cooldown``][lrfun.Cooldown] follows a schedule up to a step and cools down from the lr
it has there (the anytime-checkpoint workflow: cool down a copy of a long run at a
checkpoint); [``Resume``][lrfun.Resume] follows an old schedule up to the resume step and
continues, from the lr it reached, along a new schedule's course to the new end. Both are
schedules that hold their children (configs, specs, JAX pytrees, both adapters), with no
jump at the branch step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lrfun import _shapes
from lrfun import _validate as check
from lrfun._backend import Ctx
from lrfun._hf import _at_least, _phase, _since
from lrfun._math import reaches
from lrfun._reference import FunctionReference
from lrfun._schedule import Schedule, from_config

__all__ = ["Cooldown", "Resume", "cooldown_from", "resume"]


def _children(schedules: Any, count: int, words: str) -> tuple[Schedule, ...]:
    """``count`` lrfun schedules (or their configs), one param-group count between them."""
    if isinstance(schedules, (Schedule, Mapping)) and count == 1:
        schedules = [schedules]
    if isinstance(schedules, (str, bytes, Mapping)) or not isinstance(schedules, Sequence):
        raise TypeError(f"schedules must be a list of {words}, got {check._shown(schedules)}")
    if len(schedules) != count:
        raise ValueError(f"schedules must be a list of {words}, got {check._shown(schedules)}")
    out = []
    for i, child in enumerate(schedules):
        if isinstance(child, Mapping):
            child = from_config(child)
        if not isinstance(child, Schedule):
            raise TypeError(
                f"schedules[{i}] must be an lrfun schedule (a function of the step), got "
                f"{check._shown(child)}"
            )
        out.append(child)
    groups = {c.groups for c in out}
    if len(groups) > 1:
        raise ValueError(
            f"schedules must have one number of param groups, got {[c.groups for c in out]}"
        )
    return tuple(out)


def _at(ctx: Ctx, schedule: Schedule, like: Any, step: int) -> Any:
    """``schedule``'s lr at the fixed ``step``, as an array of the evaluation (a 0-d step
    of ``like``'s integer type: broadcasts against any step array)."""
    fixed = ctx.xp.asarray(step, dtype=like.dtype, device=ctx.device)
    # (the steps' span says which phases they reach, not which this step is in)
    return schedule._lr(ctx.at(step), fixed)


class _Branch(Schedule, register=False):
    """A schedule holding child schedules (``schedules``), evaluated at integer steps."""

    schedules: Sequence[Schedule]

    _namespace = "lrfun."
    _schedules_argument = "schedules"

    def _tree_leaves(self) -> tuple[str, ...]:
        return ("schedules", *self._hyperparameters)

    def to_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self._name}
        for name, value in self.arguments().items():
            if name == "schedules":
                config[name] = [c.to_config() for c in value]
            else:
                config[name] = list(value) if isinstance(value, tuple) else value
        return config

    def _lr_scale(self) -> float:
        return max([c._lr_scale() for c in self.schedules] + [super()._lr_scale()])

    @property
    def _initial_lr(self) -> Any:
        # the lr the run starts at: the first child's
        return self.schedules[0]._initial_lr


@dataclasses.dataclass(frozen=True)
class Cooldown(_Branch):
    """A schedule followed up to ``step``, then a cooldown from the lr it has there.

    ``t < step``: ``schedule(t)``; ``step <= t < step + length``: ``final_lr + (L -
    final_lr) * decay((t - step) / length)`` with ``L = schedule(step)``; then ``final_lr``.
    The decay shapes are [``WarmupStableDecay``][lrfun.WarmupStableDecay]'s (``exponential``
    is geometric from ``L`` to ``final_lr``). At ``step`` the lr is the schedule's own: no
    jump.

    Args:
      schedules: a list of one lrfun schedule (or its config): the run to branch from (a
        schedule alone is taken as that list).
      step: the branch step, an integer >= 0.
      length: the cooldown's length in steps, an integer >= 0 (0: ``final_lr`` from
        ``step`` on).
      shape: a decay shape: ``linear``, ``1-sqrt``, ``cosine``, ``square``,
        ``mirror-cosine``, ``exponential``, ``exponential-halving``.
      final_lr: the lr the cooldown ends at (per group: a sequence).

    >>> import lrfun
    >>> run = lrfun.WarmupStableDecay(1.0, total_steps=1000, warmup=10, decay=0.2)
    >>> s = Cooldown([run], step=300, length=100, shape="linear", final_lr=0.1)
    >>> s(299), s(300), round(s(350), 12), s(400), s(1000)
    (1.0, 1.0, 0.55, 0.1, 0.1)
    """

    schedules: Sequence[Schedule]
    step: int
    length: int
    shape: str = "1-sqrt"
    final_lr: float | Sequence[float] = 0.0

    _hyperparameters = ("final_lr",)
    _lr_arguments = ("final_lr",)
    _gallery = (
        "lrfun.Cooldown([lrfun.WarmupStableDecay(0.1, total_steps=100, warmup=10, "
        "decay=0.2)], step=40, length=20, shape='1-sqrt')",
        100,
    )

    def __post_init__(self) -> None:
        children = _children(self.schedules, 1, "one schedule")
        final_lr = check.lr_values("final_lr", self.final_lr)
        groups = children[0].groups
        final_groups = check.group_count(final_lr=final_lr)
        if final_groups is not None and groups is not None and final_groups != groups:
            raise ValueError(
                f"final_lr has {final_groups} values but the schedule has {groups} param "
                "groups: per-group arguments need one value per param group"
            )
        self._set(
            schedules=children,
            step=check.integer("step", self.step, minimum=0, whole=True),
            length=check.integer("length", self.length, minimum=0, whole=True),
            shape=check.choice("shape", self.shape, _shapes.DECAYS),
            final_lr=final_lr,
            _groups=groups if groups is not None else final_groups,
        )

    @property
    def schedule(self) -> Schedule:
        """The schedule branched from."""
        return self.schedules[0]

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        child, start, length = self.schedules[0], self.step, self.length
        end = start + length

        def cool() -> Any:
            within = _at_least(ctx, step, start)
            if reaches(ctx, step, end):
                within = ctx.minimum(within, end)
            progress = _since(ctx, within, start) / float(max(1, length))
            lr = _at(ctx, child, step, start)
            final = ctx.const(self.final_lr)
            positive = lr > 0
            rate = ctx.where(positive, final / ctx.where(positive, lr, 1.0), 1.0)
            return final + (lr - final) * _shapes.decay(ctx, self.shape, progress, rate)

        def ended() -> Any:
            return ctx.const(self.final_lr) + ctx.xp.zeros_like(ctx.float(step))

        return _phase(
            ctx,
            step,
            start,
            lambda: child._lr(ctx, step),
            lambda: _phase(ctx, step, end, cool, ended),
        )

    def _course_changes(self, n: int) -> list[float]:
        changes = {x for x in self.schedules[0]._course_changes(n) if x < self.step}
        changes |= {float(self.step), float(self.step + self.length)}
        return sorted(x for x in changes if 0 < x < n)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        from lrfun._wsd import WarmupStableDecay

        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "schedules": WarmupStableDecay._strategy(groups).map(lambda c: [c]),
                "step": st.one_of(st.sampled_from([0, 1]), st.integers(0, 400)),
                "length": st.one_of(st.sampled_from([0, 1]), st.integers(0, 300)),
                "shape": st.sampled_from(_shapes.DECAYS),
                "final_lr": st.one_of(st.just(0.0), st.floats(1e-6, 1.0)),
            }
        )


@dataclasses.dataclass(frozen=True)
class Resume(_Branch):
    """A run resumed at ``step`` with a new schedule (a new total length), without a jump.

    ``t < step``: ``old(t)``. From ``step`` on, the new schedule's course rescaled to start
    from the lr the old one reached, ``old(step)``, and to end where the new one ends,
    ``new(end)``: ``new(end) + (new(t) - new(end)) * (old(step) - new(end)) / (new(step) -
    new(end))``. Where the new schedule is flat from ``step`` to ``end`` (``new(step) ==
    new(end)``) the difference ``old(step) - new(step)`` fades linearly instead: ``new(t)
    + (old(step) - new(step)) * max(0, (end - t) / (end - step))``.

    Args:
      schedules: ``[old, new]``, lrfun schedules (or configs) of one param-group count:
        the schedule the run followed, and the one with the new total.
      step: the resume step, an integer >= 0.
      end: the new schedule's end (its total steps), an integer > ``step``.

    >>> import lrfun
    >>> old = lrfun.CosineAnnealingLR(1.0, T_max=100)
    >>> new = lrfun.CosineAnnealingLR(1.0, T_max=200)
    >>> s = Resume([old, new], step=50, end=200)
    >>> round(old(50), 12), round(s(50), 12), round(s(125), 12), s(200)
    (0.5, 0.5, 0.180807836521, 0.0)
    """

    schedules: Sequence[Schedule]
    step: int
    end: int

    _gallery = (
        "lrfun.Resume([lrfun.WarmupStableDecay(0.1, total_steps=100, warmup=10, "
        "decay_shape='cosine', decay=0.5), lrfun.WarmupStableDecay(0.1, total_steps=150, "
        "warmup=10, decay_shape='cosine', decay=0.5)], step=70, end=150)",
        160,
    )

    def __post_init__(self) -> None:
        children = _children(self.schedules, 2, "two schedules: [old, new]")
        step = check.integer("step", self.step, minimum=0, whole=True)
        end = check.integer("end", self.end, minimum=0, whole=True)
        if end <= step:
            raise ValueError(f"end must be after step ({step}), got {end!r}")
        self._set(schedules=children, step=step, end=end, _groups=children[0].groups)

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        old, new = self.schedules
        start, end = self.step, self.end

        def resumed() -> Any:
            xp = ctx.xp
            reached = _at(ctx, old, step, start)
            new_start = _at(ctx, new, step, start)
            new_end = _at(ctx, new, step, end) if reaches(ctx, step, end) else new_start
            course = new._lr(ctx, step)
            span = new_start - new_end
            flat = span == 0
            scale = (reached - new_end) / ctx.where(flat, 1.0, span)
            rescaled = new_end + (course - new_end) * scale
            left = ctx.float(_until_clipped(ctx, step, end)) / float(end - start)
            faded = course + (reached - new_start) * left
            return xp.where(flat, faded, rescaled)

        return _phase(ctx, step, start, lambda: old._lr(ctx, step), resumed)

    def _course_changes(self, n: int) -> list[float]:
        old, new = self.schedules
        changes = {x for x in old._course_changes(n) if x < self.step}
        changes |= {x for x in new._course_changes(n) if x > self.step}
        changes |= {float(self.step), float(self.end)}
        return sorted(x for x in changes if 0 < x < n)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        from lrfun._wsd import WarmupStableDecay

        child = WarmupStableDecay._strategy(None)

        @st.composite
        def config(draw: st.DrawFn) -> dict[str, Any]:
            step = draw(st.one_of(st.sampled_from([0, 1]), st.integers(0, 300)))
            end = step + draw(st.one_of(st.just(1), st.integers(1, 300)))
            return {
                "name": cls._name,
                "schedules": [draw(child), draw(child)],
                "step": step,
                "end": end,
            }

        return config()


def _until_clipped(ctx: Ctx, step: Any, end: int) -> Any:
    """``max(0, end - step)`` for steps ``>= 0``, in the step's integers."""
    if not reaches(ctx, step, end):
        return ctx.xp.asarray(end, dtype=ctx.dtype, device=ctx.device) - ctx.float(step)
    top = ctx.xp.asarray(end, dtype=step.dtype, device=ctx.device)
    return top - ctx.minimum(step, end)


def cooldown_from(
    schedule: Schedule,
    step: int,
    length: int,
    shape: str = "1-sqrt",
    final_lr: float | Sequence[float] = 0.0,
) -> Cooldown:
    """``schedule`` followed up to ``step``, then a cooldown of ``length`` steps from the lr
    it has there to ``final_lr`` (see [``Cooldown``][lrfun.Cooldown]).

    Args:
      schedule: any lrfun schedule.
      step: the branch step, an integer >= 0.
      length: the cooldown's length in steps, an integer >= 0.
      shape: a decay shape (``1-sqrt`` by default: Hägele et al.'s recommendation).
      final_lr: the lr it ends at.

    Returns:
      The [``Cooldown``][lrfun.Cooldown] schedule.

    >>> import lrfun
    >>> run = lrfun.WarmupStableDecay(1.0, total_steps=1000, warmup=10, stable_shape="rsqrt")
    >>> s = cooldown_from(run, 500, 100)
    >>> round(run(500), 12), round(s(500), 12), s(600)
    (0.141421356237, 0.141421356237, 0.0)
    """
    return Cooldown([schedule], step, length, shape, final_lr)


def resume(old: Schedule, new: Schedule, step: int, end: int) -> Resume:
    """The run of ``old`` resumed at ``step`` with ``new`` (its new total ``end``),
    continuing from the lr ``old`` reached (see [``Resume``][lrfun.Resume]).

    Args:
      old: the schedule the run followed.
      new: the schedule with the new total length.
      step: the resume step, an integer >= 0.
      end: where ``new`` ends, an integer > ``step``.

    Returns:
      The [``Resume``][lrfun.Resume] schedule.

    >>> import lrfun
    >>> old = lrfun.WarmupStableDecay(1.0, total_steps=100, decay=0.5, decay_shape="cosine")
    >>> new = lrfun.WarmupStableDecay(1.0, total_steps=300, decay=0.5, decay_shape="cosine")
    >>> s = resume(old, new, step=80, end=300)
    >>> round(old(80), 12), round(s(80), 12), s(300)
    (0.345491502813, 0.345491502813, 0.0)
    """
    return Resume([old, new], step, end)


def _branch_formula(schedule: Any, steps: np.ndarray) -> np.ndarray:
    """The definition, step by step on the host from the children's own values."""
    ks = np.maximum(np.asarray(steps, dtype=np.int64).reshape(-1), 0)
    if isinstance(schedule, Cooldown):
        child = schedule.schedules[0]
        before = np.asarray(child(ks), dtype=np.float64)
        lr = np.asarray(child(np.int64(schedule.step)), dtype=np.float64)
        final = np.asarray(schedule.final_lr, dtype=np.float64)
        out = []
        for k, value in zip(ks.tolist(), before, strict=True):
            if k < schedule.step:
                out.append(value)
            elif k < schedule.step + schedule.length:
                p = (k - schedule.step) / schedule.length
                out.append(_textbook(schedule.shape, p, lr, final))
            else:
                out.append(np.broadcast_to(final, np.shape(value)))
        return np.asarray(out, dtype=np.float64)
    old, new = schedule.schedules
    a, b = np.asarray(old(ks), np.float64), np.asarray(new(ks), np.float64)
    reached = np.asarray(old(np.int64(schedule.step)), np.float64)
    n0 = np.asarray(new(np.int64(schedule.step)), np.float64)
    n1 = np.asarray(new(np.int64(schedule.end)), np.float64)
    rows = []
    for k, x, y in zip(ks.tolist(), a, b, strict=True):
        if k < schedule.step:
            rows.append(x)
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            rescaled = n1 + (y - n1) * (reached - n1) / (n0 - n1)
        faded = y + (reached - n0) * max(0, schedule.end - k) / (schedule.end - schedule.step)
        rows.append(np.where(n0 == n1, faded, rescaled))
    return np.asarray(rows, dtype=np.float64)


def _textbook(shape: str, p: float, start: Any, final: Any) -> Any:
    """A decay from ``start`` to ``final`` at progress ``p``, as the papers write it."""
    import math

    if shape == "exponential":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(
                start > 0, start * (final / np.where(start > 0, start, 1.0)) ** p, final
            )
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


Cooldown._reference = FunctionReference("lrfun formula", _branch_formula, package="lrfun")
Resume._reference = FunctionReference("lrfun formula", _branch_formula, package="lrfun")
