"""Composition without repetition: a warmup in front of any schedule (or plateau), and
optax's ``join`` at boundaries.

[``Warmup``][lrfun.Warmup] ramps up to whatever the wrapped schedule gives -- its base lr is
never restated -- in one of two ways:

* ``mode="multiply"`` (the default): the first ``warmup_steps`` of the schedule itself are
  scaled by the ramp, so the schedule keeps its own step count (a cosine over ``T`` steps
  still ends at ``T``). torch spells it ``ChainedScheduler([LinearLR(opt, start_factor,
  total_iters=w), X])`` where ``X`` multiplies the lr by a factor of its own epoch
  (StepLR, ExponentialLR, ...).
* ``mode="prefix"``: ``warmup_steps`` steps ramp up to the schedule's step-0 lr, then the
  schedule starts from its step 0 (it is delayed by ``warmup_steps``). torch spells it
  ``SequentialLR([LinearLR(opt, start_factor, total_iters=w), X], milestones=[w])``, which
  restarts ``X``'s count at the milestone; the two coincide where ``X``'s step-0 lr is
  its base lr.

[``WarmupPlateau``][lrfun.WarmupPlateau] is the same ramp in front of the
``ReduceLROnPlateau`` machine: the lr ramps up to the plateau's lr over ``warmup_steps``
updates, whose metrics are ignored (the lr is still moving: timm's plateau scheduler does
the same), and the plateau decides from the next update on, as if it had been built then.
``lrfun.torch.PlateauScheduler`` and ``lrfun.optax.reduce_on_plateau`` drive it as they
drive the plateau.

The ramp: with ``r = min(step, w) / w``, the lr is ``start_factor + (1 - start_factor) *
u(r)`` times the lr warmed up to, where ``u`` is a decay shape played backwards:
``linear`` ``r``, ``cosine`` ``(1 - cos(pi r)) / 2``, ``1-sqrt`` ``1 - sqrt(1 - r)``,
``exponential`` ``2 ** r - 1`` (Megatron's ``2 * 0.5 ** q - 1`` cooldown reversed).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lrfun import _validate as check
from lrfun._backend import Ctx
from lrfun._math import reaches
from lrfun._optax_family import JoinSchedules
from lrfun._plateau import Machine, PlateauState, ReduceLROnPlateau
from lrfun._reference import FunctionReference, LiveScheduler, assign_lr
from lrfun._schedule import Schedule, from_config
from lrfun._shapes import warmup
from lrfun._validate import FieldSpec

__all__ = ["SHAPES", "Warmup", "WarmupPlateau", "join", "ramp"]

# The warmup shapes: each a decay shape of the warmup-stable-decay family, reversed in time.
SHAPES = ("linear", "cosine", "1-sqrt", "exponential")
MODES = ("multiply", "prefix")


def ramp(r: float, shape: str, start_factor: float) -> float:
    """The warmup factor at the fraction ``r`` in [0, 1] of the warmup, in plain Python
    floats (the references use it; schedules compute the same on arrays).

    >>> ramp(0.5, "linear", 0.0), ramp(1.0, "cosine", 0.1)
    (0.5, 1.0)
    """
    if shape == "linear":
        u = r
    elif shape == "cosine":
        u = (1.0 - math.cos(math.pi * r)) / 2.0
    elif shape == "1-sqrt":
        u = 1.0 - math.sqrt(1.0 - r)
    else:
        u = 2.0**r - 1.0
    return start_factor + (1.0 - start_factor) * u


def _ramp(ctx: Ctx, step: Any, steps: int, shape: str, start_factor: Any) -> Any:
    """``ramp`` on an integer step array, each shape written to keep its precision at both
    ends in float32 (no cancellation near r = 0)."""
    r = ctx.float(ctx.minimum(step, steps)) / float(steps)
    if shape == "exponential":
        u = ctx.xp.exp(math.log(2.0) * r) - 1.0  # 2 ** r - 1
    else:  # lrfun._shapes' warmups: linear, cosine, 1-sqrt
        u = warmup(ctx, shape, r)
    return start_factor + (1.0 - start_factor) * u


def _shape(value: Any) -> str:
    return str(check.choice("shape", value, SHAPES))


def _start_factor(value: Any) -> Any:
    return check.real("start_factor", value, low=0.0, high=1.0)


def _steps(value: Any) -> int:
    return check.integer("warmup_steps", value, minimum=0, whole=True)


def _one_schedule(value: Any) -> Schedule:
    """The wrapped schedule: a schedule, its config, or a list of one (a spec's form)."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, Mapping):
        value = from_config(value)
    if isinstance(value, Machine):
        raise TypeError(
            f"schedule must be an lrfun schedule (a function of the step), got {value!r}: "
            "a metric-driven machine is warmed up by lrfun.WarmupPlateau"
        )
    if not isinstance(value, Schedule):
        raise TypeError(
            f"schedule must be an lrfun schedule (a function of the step), got "
            f"{check._shown(value)}"
        )
    return value


def warmup_values(schedule: Warmup, steps: np.ndarray) -> np.ndarray:
    """The reference of a ``Warmup``: the wrapped schedule's own live reference, run, and the
    ramp applied step by step in Python floats."""
    inner = schedule.schedule
    reference = inner._reference
    if reference is None:
        raise ValueError(f"{inner._name} names no live reference: its warmup has none either")
    ks = np.maximum(np.asarray(steps, dtype=np.int64).reshape(-1), 0)
    lrs = reference.trajectory(inner, int(ks.max(initial=0))).lr
    w, shape, s = schedule.warmup_steps, schedule.shape, float(schedule.start_factor)
    rows = []
    for k in ks.tolist():
        if k >= w:
            rows.append(lrs[k - w if schedule.mode == "prefix" else k])
        else:
            at = lrs[0] if schedule.mode == "prefix" else lrs[k]
            rows.append(at * ramp(k / w, shape, s))
    return np.asarray(rows, dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class Warmup(Schedule):
    """A warmup in front of any schedule, up to the lr the schedule gives (its base lr is
    never restated).

    ``mode="multiply"``: ``lr(k) = f(k) * schedule(k)`` for ``k < warmup_steps``, then
    ``schedule(k)``. ``mode="prefix"``: ``f(k) * schedule(0)``, then ``schedule(k -
    warmup_steps)``. The factor ``f(k) = start_factor + (1 - start_factor) * u(min(k, w) /
    w)`` with ``u`` the ``shape`` (see ``lrfun._warmup``); it reaches 1 at ``warmup_steps``.

    Args:
      schedule: any lrfun schedule (per-group lrs too), its config, or a list holding one
        (as specs write it: ``lrfun.Warmup([CosineAnnealingLR(0.1, 100)], 10)``).
      warmup_steps: the warmup's length, an integer >= 0 (0: the schedule itself).
      shape: ``"linear"``, ``"cosine"``, ``"1-sqrt"`` or ``"exponential"``.
      start_factor: the lr at step 0 as a fraction of the lr warmed up to, in [0, 1]
        (torch's ``LinearLR(start_factor=...)``).
      mode: ``"multiply"`` or ``"prefix"``.

    A float step is taken as the whole number below it (the wrapped schedule sees integer
    steps).

    torch equivalents (``shape="linear"``): ``ChainedScheduler([LinearLR(opt,
    start_factor, total_iters=w), X])`` for ``multiply`` where ``X`` is a factor schedule;
    ``SequentialLR([LinearLR(opt, start_factor, total_iters=w), X], milestones=[w])`` for
    ``prefix`` where ``X(0)`` is its base lr.

    >>> import lrfun
    >>> s = lrfun.Warmup(lrfun.CosineAnnealingLR(1.0, T_max=100), 10)
    >>> s(0), s(5), s(10) == lrfun.CosineAnnealingLR(1.0, T_max=100)(10)
    (0.0, 0.49692208514878444, True)
    """

    schedule: Schedule
    warmup_steps: int
    shape: str = "linear"
    start_factor: float = 0.0
    mode: str = "multiply"

    _namespace = "lrfun."
    _reference = FunctionReference("ramp x the wrapped schedule's reference", warmup_values)
    _hyperparameters = ("start_factor",)
    _lr_arguments = ()
    _schedules_argument = "schedule"
    # The lrs come from the wrapped schedule (no base lr of its own).
    sets_lrs = True
    _gallery = ("lrfun.Warmup([CosineAnnealingLR(0.1, T_max=100)], 10, shape='cosine')", 120)

    def __post_init__(self) -> None:
        inner = _one_schedule(self.schedule)
        self._set(
            schedule=inner,
            warmup_steps=_steps(self.warmup_steps),
            shape=_shape(self.shape),
            start_factor=_start_factor(self.start_factor),
            mode=check.choice("mode", self.mode, MODES),
            _groups=inner.groups,
        )

    def _tree_leaves(self) -> tuple[str, ...]:
        return ("schedule", "start_factor")

    def to_config(self) -> dict[str, Any]:
        # The schedule as a list of one config: the form specs write it in (a list of
        # schedule calls), so configs and specs round-trip alike.
        config: dict[str, Any] = {"name": self._name}
        for name, value in self.arguments().items():
            config[name] = [value.to_config()] if name == "schedule" else value
        return config

    def _lr_scale(self) -> float:
        return self.schedule._lr_scale()

    @property
    def _initial_lr(self) -> Any:
        return self(0)

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        w, inner = self.warmup_steps, self.schedule
        own = ctx._replace(fraction=None)
        if w == 0:
            return inner._lr(own, step)
        factor = _ramp(ctx, step, w, self.shape, ctx.const(self.start_factor))
        if self.mode == "multiply":
            lr = inner._lr(own, step)
            return ctx.where(step < w, factor * lr, lr)
        first = inner._lr(own.at(0), ctx.xp.zeros_like(step))
        if not reaches(ctx, step, w):  # (an int32 step never gets past such a warmup)
            return factor * first
        bound = ctx.xp.asarray(w, dtype=step.dtype, device=ctx.device)
        later = inner._lr(own.shifted(w), ctx.xp.maximum(step, bound) - w)
        return ctx.where(step < w, factor * first, later)

    def _course_changes(self, n: int) -> list[float]:
        w = self.warmup_steps
        shift = w if self.mode == "prefix" else 0
        inner = [shift + x for x in self.schedule._course_changes(max(n - shift, 0))]
        return sorted({float(x) for x in (w, *inner) if 0 < x < n})

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        from lrfun._schedule import classes

        # children: the families whose classes give their own strategies (optax's, Megatron's)
        family = [
            c
            for namespace in ("optax.", "megatron.")
            for c in classes(namespace, own=True)
            if c._schedules_argument is None and hasattr(c, "_strategy")
        ]
        child = st.sampled_from(family).flatmap(lambda c: c._strategy(groups=groups))
        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "schedule": child,
                "warmup_steps": st.one_of(st.sampled_from([0, 1, 2]), st.integers(0, 60)),
                "shape": st.sampled_from(SHAPES),
                "start_factor": st.one_of(st.sampled_from([0.0, 1.0, 0.1]), st.floats(0.0, 1.0)),
                "mode": st.sampled_from(MODES),
            }
        )


# -- in front of a plateau -----------------------------------------------------------------


class LiveWarmupPlateau:
    """The live reference of ``WarmupPlateau``: torch's own ``ReduceLROnPlateau`` on the
    optimizer, behind a ramp written step by step, as timm's plateau scheduler runs its
    warmup: the first ``warmup_steps`` calls of ``step(metric)`` write the ramp's lrs and
    ignore the metric, every later call is the torch scheduler's ``step(metric)``.

    Args:
      optimizer: a torch optimizer whose groups hold the plateau's lrs.
      plateau: the ``lrfun.ReduceLROnPlateau`` whose torch scheduler is built.
      warmup_steps, shape, start_factor: the ramp.
    """

    def __init__(
        self,
        optimizer: Any,
        plateau: ReduceLROnPlateau,
        warmup_steps: int,
        shape: str = "linear",
        start_factor: float = 0.0,
    ) -> None:
        import torch

        arguments = plateau._live_arguments()
        arguments.pop("base_lr", None)
        self.optimizer = optimizer
        self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **arguments)
        self.warmup_steps, self.shape, self.start_factor = warmup_steps, shape, start_factor
        self.base_lrs = [float(group["lr"]) for group in optimizer.param_groups]
        self.last_epoch = 0
        self._write(0)

    def _write(self, k: int) -> None:
        w = self.warmup_steps
        factor = 1.0 if k >= w else ramp(k / w, self.shape, self.start_factor)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            assign_lr(group, base if k >= w else base * factor)  # a tensor lr in place

    def step(self, metric: float) -> None:
        self.last_epoch += 1
        if self.last_epoch <= self.warmup_steps:
            self._write(self.last_epoch)
        else:
            self.plateau.step(metric)


def _plateau(value: Any) -> ReduceLROnPlateau:
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, Mapping):
        value = from_config(value)
    if not isinstance(value, ReduceLROnPlateau):
        raise TypeError(f"plateau must be an lrfun.ReduceLROnPlateau, got {check._shown(value)}")
    stepped = [
        name
        for name in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch")
        if getattr(value, name) is not None
    ]
    if stepped:
        raise ValueError(
            f"plateau must start fresh (the warmup comes first); it carries {stepped[0]}="
            f"{getattr(value, stepped[0])!r} from a stepped scheduler"
        )
    return value


@dataclasses.dataclass(frozen=True)
class WarmupPlateau(Machine[PlateauState]):
    """A warmup in front of ``ReduceLROnPlateau``: the lr ramps up to the plateau's lr over
    the first ``warmup_steps`` updates, whose metrics are ignored, then the plateau decides
    from the next update on as if it had been built then.

    The state is the plateau's (``PlateauState``); its ``last_epoch`` counts every update,
    the warmup's included, and says where the warmup stands. During the warmup the state's
    ``lr`` is the ramp's (``f(k) * base_lr``, ``f`` as in [``Warmup``][lrfun.Warmup]) and
    ``best`` and the counters stay as built; from ``warmup_steps`` updates on it is the
    plateau's. Everything is ``where``-selection: jittable.

    Args:
      plateau: a fresh ``lrfun.ReduceLROnPlateau``, its config, or a list holding one (as
        specs write it: ``lrfun.WarmupPlateau([ReduceLROnPlateau(0.1)], 10)``).
      warmup_steps: updates of warmup, an integer >= 0 (0: the plateau itself).
      shape: ``"linear"``, ``"cosine"``, ``"1-sqrt"`` or ``"exponential"``.
      start_factor: the lr at update 0 as a fraction of the plateau's, in [0, 1].

    >>> import lrfun
    >>> m = lrfun.WarmupPlateau(lrfun.ReduceLROnPlateau(1.0, patience=0), 2)
    >>> s = m.init()
    >>> lrs = [float(m.lr(s))]
    >>> for loss in [5.0, 4.0, 3.0, 3.0]:
    ...     s = m.update(s, loss)
    ...     lrs.append(float(m.lr(s)))
    >>> lrs
    [0.0, 0.5, 1.0, 1.0, 0.1]
    """

    plateau: ReduceLROnPlateau
    warmup_steps: int
    shape: str = "linear"
    start_factor: float = 0.0

    state_type = PlateauState
    _namespace = "lrfun."
    _reference = LiveScheduler("torch", LiveWarmupPlateau, package="torch")
    _hyperparameters = ("start_factor",)
    _lr_arguments = ()
    _schedules_argument = "plateau"
    _gallery = ("lrfun.WarmupPlateau([ReduceLROnPlateau(0.1, factor=0.5, patience=5)], 10)", 150)

    def __post_init__(self) -> None:
        plateau = _plateau(self.plateau)
        self._set(
            plateau=plateau,
            warmup_steps=_steps(self.warmup_steps),
            shape=_shape(self.shape),
            start_factor=_start_factor(self.start_factor),
            _groups=plateau.groups,
        )

    # The plateau's settings, read where torch's ReduceLROnPlateau keeps them (the torch
    # adapter mirrors them).
    @property
    def base_lr(self) -> Any:
        """The plateau's lr, which the warmup ramps up to."""
        return self.plateau.base_lr

    @property
    def min_lr(self) -> Any:
        """The plateau's floor."""
        return self.plateau.min_lr

    @property
    def mode(self) -> str:
        """The plateau's mode."""
        return self.plateau.mode

    @property
    def factor(self) -> Any:
        """The plateau's cut."""
        return self.plateau.factor

    @property
    def patience(self) -> int:
        """The plateau's patience."""
        return self.plateau.patience

    @property
    def threshold(self) -> Any:
        """The plateau's threshold."""
        return self.plateau.threshold

    @property
    def threshold_mode(self) -> str:
        """The plateau's threshold mode."""
        return self.plateau.threshold_mode

    @property
    def cooldown(self) -> int:
        """The plateau's cooldown."""
        return self.plateau.cooldown

    @property
    def eps(self) -> Any:
        """The plateau's eps."""
        return self.plateau.eps

    def _tree_leaves(self) -> tuple[str, ...]:
        return ("plateau", "start_factor")

    def to_config(self) -> dict[str, Any]:
        # the plateau as a list of one config, the form specs write it in (as Warmup's)
        config: dict[str, Any] = {"name": self._name}
        for name, value in self.arguments().items():
            config[name] = [value.to_config()] if name == "plateau" else value
        return config

    def _lr_scale(self) -> float:
        return self.plateau._lr_scale()

    @property
    def _initial_lr(self) -> Any:
        return self.plateau.base_lr

    def _ramped(self, ctx: Ctx, k: Any) -> Any:
        """The state's lr after ``k`` updates (the plateau's lr from ``warmup_steps`` on)."""
        w = self.warmup_steps
        if isinstance(k, int):  # a host state of one group: Python numbers
            base = float(self.plateau.base_lr)  # type: ignore[arg-type]
            return base * ramp(k / w, self.shape, float(self.start_factor)) if k < w else base
        base = ctx.const(self.plateau.base_lr)
        factor = _ramp(ctx, k, w, self.shape, ctx.const(self.start_factor))
        return ctx.where(k < w, base * factor, base)

    def _initial(self, ctx: Ctx, integral: Any) -> PlateauState:
        state = self.plateau._initial(ctx, integral)
        if self.warmup_steps == 0:
            return state
        return state._replace(lr=self._ramped(ctx, ctx.xp.zeros_like(state.last_epoch)))

    def _update(self, ctx: Ctx, state: PlateauState, current: Any) -> PlateauState:
        after = self.plateau._update(ctx, state, current)
        if self.warmup_steps == 0:
            return after
        xp = ctx.xp
        k = state.last_epoch + 1
        # this update's metric was measured while the lr still ramped: it is ignored
        warming = k <= self.warmup_steps
        return PlateauState(
            lr=ctx.where(warming, self._ramped(ctx, k), after.lr),
            best=xp.where(warming, state.best, after.best),
            num_bad_epochs=xp.where(warming, state.num_bad_epochs, after.num_bad_epochs),
            cooldown_counter=xp.where(warming, state.cooldown_counter, after.cooldown_counter),
            last_epoch=after.last_epoch,
        )

    def _state_spec(self) -> dict[str, FieldSpec]:
        return self.plateau._state_spec()

    def _host(self, state: PlateauState) -> PlateauState:
        return self.plateau._host(state)

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        plateau = ReduceLROnPlateau._from_torch(scheduler.plateau)
        # the plateau's lr is the one the warmup ramps up to; where it stands is refused
        plateau["base_lr"] = (
            tuple(scheduler.base_lrs) if len(scheduler.base_lrs) > 1 else (scheduler.base_lrs[0])
        )
        if scheduler.last_epoch:
            raise ValueError(
                "from_torch cannot express a warmup-then-plateau scheduler already stepped "
                f"(last_epoch={scheduler.last_epoch}): read it before its first step"
            )
        return {
            "plateau": ReduceLROnPlateau(**plateau),
            "warmup_steps": scheduler.warmup_steps,
            "shape": scheduler.shape,
            "start_factor": scheduler.start_factor,
        }

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        # values float32 holds exactly, so float32 decisions are float64's
        lrs = st.sampled_from([0.0, 0.5, 1.0, 0.125, 2.0**-10])
        plateau = st.fixed_dictionaries(
            {
                "name": st.just(ReduceLROnPlateau._name),
                "base_lr": lrs,
                "mode": st.sampled_from(["min", "max"]),
                "factor": st.sampled_from([0.0, 0.1, 0.5, 0.25]),
                "patience": st.integers(0, 4),
                "threshold": st.sampled_from([0.0, 1e-4, 0.5]),
                "threshold_mode": st.sampled_from(["rel", "abs"]),
                "cooldown": st.integers(0, 3),
                "min_lr": st.sampled_from([0.0, 2.0**-12]),
                "eps": st.sampled_from([0.0, 1e-8]),
            }
        )
        return st.fixed_dictionaries(
            {
                "name": st.just(cls._name),
                "plateau": plateau,
                "warmup_steps": st.one_of(st.sampled_from([0, 1, 2]), st.integers(0, 30)),
                "shape": st.sampled_from(SHAPES),
                "start_factor": st.sampled_from([0.0, 0.1, 0.5, 1.0]),
            }
        )


def join(schedules: Sequence[Schedule | Mapping[str, Any]], boundaries: Sequence[int]) -> Schedule:
    """optax's ``join_schedules`` for any lrfun schedules: ``schedules[0]`` until the first
    boundary, then each next schedule from its boundary on, its count restarted there
    (``schedules[i](step - boundaries[i - 1])``). The result is
    [``lrfun.optax.JoinSchedules``][lrfun.optax.JoinSchedules] (one implementation; its
    config names it ``optax.JoinSchedules``).

    Args:
      schedules: lrfun schedules of one lr each (or their configs), at least one.
      boundaries: integers, one fewer than the schedules.

    >>> import lrfun
    >>> s = lrfun.join([lrfun.LinearLR(1.0, 0.25, total_iters=4), lrfun.StepLR(1.0, 5)], [4])
    >>> s(0), s(4), s(9)
    (0.25, 1.0, 0.1)
    """
    return JoinSchedules(schedules, boundaries)  # type: ignore[arg-type]  # configs too
