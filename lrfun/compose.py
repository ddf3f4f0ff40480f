"""Composed schedules: SequentialLR and ChainedScheduler, with torch's stepping semantics."""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lrfun import _validate as check
from lrfun._backend import Ctx, host_values, is_traced
from lrfun._chain import shared_group_keys, simulate
from lrfun._math import integer_tables, reaches, searchsorted
from lrfun.schedule import Schedule, from_config

__all__ = ["ChainedScheduler", "SequentialLR"]

# Children whose torch update multiplies the lr by a factor of their own epoch alone.
_MULTIPLICATIVE = frozenset(
    {
        "StepLR",
        "MultiStepLR",
        "ConstantLR",
        "LinearLR",
        "ExponentialLR",
        "PolynomialLR",
        "MultiplicativeLR",
    }
)
_COMPOSITES = frozenset({"SequentialLR", "ChainedScheduler"})


def _children(name: str, schedulers: Any) -> tuple[Schedule, ...]:
    if isinstance(schedulers, (str, bytes, Mapping)) or not isinstance(schedulers, Sequence):
        raise TypeError(f"schedulers must be a list of schedules, got {schedulers!r}")
    if not schedulers:
        raise ValueError(f"{name} needs at least one schedule, got {schedulers!r}")
    out = []
    for i, child in enumerate(schedulers):
        if isinstance(child, Mapping):
            child = from_config(child)
        if type(child).__name__ == "ReduceLROnPlateau":
            raise ValueError(
                f"schedulers[{i}] is a ReduceLROnPlateau, which {name} cannot hold (its step "
                "needs a metric; torch refuses it too)"
            )
        if not isinstance(child, Schedule):
            raise TypeError(f"schedulers[{i}] must be an lrfun schedule, got {child!r}")
        out.append(child)
    return tuple(out)


def _base_of(s: Schedule) -> Any:
    """What torch's ``initial_lr`` is for a child: OneCycleLR overwrites it."""
    name = type(s).__name__
    if name in _COMPOSITES:
        return s._base  # type: ignore[attr-defined]
    if name == "OneCycleLR":
        peak = s.max_lr  # type: ignore[attr-defined]
        div = s.div_factor  # type: ignore[attr-defined]
        return tuple(v / div for v in peak) if isinstance(peak, tuple) else peak / div
    return s.base_lr  # type: ignore[attr-defined]


def _common_base(name: str, children: tuple[Schedule, ...]) -> tuple[Any, int | None]:
    """The per-group base lrs every child agrees on, and the group count."""
    counts = {c.groups for c in children if c.groups is not None}
    if len(counts) > 1:
        raise ValueError(f"{name}: children have different param group counts {sorted(counts)}")
    groups = counts.pop() if counts else None
    width = groups or 1
    bases = []
    for child in children:
        base = _base_of(child)
        bases.append(tuple(base) if isinstance(base, tuple) else (base,) * width)
    for i, base in enumerate(bases):
        if not all(
            math.isclose(x, y, rel_tol=1e-12, abs_tol=0.0)
            for x, y in zip(base, bases[0], strict=True)
        ):
            raise ValueError(
                f"{name}: torch runs every child on one optimizer, so their base lrs must "
                f"agree; schedulers[{i}] has {base}, schedulers[0] has {bases[0]}"
            )
    return (bases[0][0] if groups is None else bases[0]), groups


def _normalised(s: Schedule) -> Schedule:
    """The same schedule on a base lr of 1: its factor relative to the base."""
    return dataclasses.replace(s, base_lr=1.0)  # type: ignore[type-var]


class _Composite(Schedule):
    """Shared by the composites: the exact host simulation, its cache and its lookup."""

    schedulers: Any
    horizon: int | None

    def _start(self, name: str) -> None:
        children = _children(name, self.schedulers)
        base, groups = _common_base(name, children)
        if self.horizon is not None:
            check.integer("horizon", self.horizon, minimum=0)
        self._set(schedulers=children, _base=base, _groups=groups, _tables={})
        # Each decay relative to its base lr, built once (products and continuations use it).
        self._set(
            _unit=tuple(
                _normalised(c) if type(c).__name__ in _MULTIPLICATIVE else None for c in children
            )
        )

    @property
    def cycles_momentum(self) -> bool:  # type: ignore[override]
        return any(c.cycles_momentum for c in self.schedulers)

    def to_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": type(self).__name__}
        for name, value in self.arguments().items():
            if name == "schedulers":
                config[name] = [c.to_config() for c in value]
            elif name == "milestones":
                config[name] = list(value)
            elif value is not None:
                config[name] = value
        return config

    def _table(self, last: int) -> tuple[np.ndarray, np.ndarray | None]:
        # A cache of values the definition fixes, grown by doubling.
        if self._tables and self._tables["lr"].shape[0] > last:
            return self._tables["lr"], self._tables["momentum"]
        n = max(last, 2 * (self._tables["lr"].shape[0] if self._tables else 64))
        width = self._groups or 1
        base = np.broadcast_to(np.asarray(self._base, dtype=np.float64), (width,)).copy()
        lr, momentum = simulate(self, n, width, base)
        self._tables.update(lr=lr, momentum=momentum)
        return lr, momentum

    def _lookup(self, ctx: Ctx, step: Any, which: int) -> Any:
        """Values of the simulated table at ``step`` (NaN past a traced table's horizon)."""
        xp = ctx.xp
        if is_traced(step):
            if self.horizon is None:
                raise TypeError(
                    f"{type(self).__name__} has no closed form here, so it is simulated on "
                    "the host; pass horizon=N to tabulate N steps for jit or compile"
                )
            last = self.horizon
        else:
            host = host_values(step)
            last = int(host.max()) if host.size else 0
        table = self._table(last)[which][: last + 1]
        index = ctx.minimum(step, table.shape[0] - 1)
        if self._groups is None:
            values = ctx.gather(table[:, 0], index)
        else:
            flat = index[..., 0]
            values = xp.stack([ctx.gather(table[:, g], flat) for g in range(self._groups)], axis=-1)
        return xp.where(step < table.shape[0], values, xp.nan)

    def _momentum(self, ctx: Ctx, step: Any) -> Any:
        return self._lookup(ctx, step, 1)


@dataclasses.dataclass(frozen=True)
class SequentialLR(_Composite):
    """Runs one schedule after another, switching at the milestones, as torch's SequentialLR.

    Up to ``milestones[0]`` the first schedule runs from its step 0; at ``milestones[i]`` the
    next one restarts through torch's ``_update_lr(0)`` and runs its own steps. For children
    that are single schedules this has a closed form, evaluated by one lookup of the active
    child: its own value ``k`` steps after its milestone. Torch behaviours reproduced:
    MultiplicativeLR (which has no closed form in torch) continues from the lr the previous
    child left, times ``lr_lambda(0)``; ConstantLR with ``total_iters=0`` restarts at the base
    lr (torch's closed form), not ``base * factor``; equal milestones skip a child; a
    milestone at 0 starts with a later child; milestones past the horizon never switch.
    Composite children, OneCycleLR children that share their param-group bounds with another
    cycling child, and momentum are simulated step by step on the host (see ``horizon``).

    Args:
      schedulers: lrfun schedules (or their configs), sharing one base lr per group.
      milestones: non-decreasing integers >= 0, one fewer than the schedules.
      horizon: (keyword, lrfun only) steps to simulate up front, for jit/compile evaluation of
        what has no closed form.

    >>> from lrfun import ExponentialLR, LinearLR
    >>> warmup = SequentialLR([LinearLR(0.1, 0.1, total_iters=4), ExponentialLR(0.1, 0.5)], [4])
    >>> [round(warmup(t), 6) for t in (0, 2, 4, 5)]
    [0.01, 0.055, 0.1, 0.05]
    """

    schedulers: Sequence[Schedule]
    milestones: Sequence[int]
    horizon: int | None = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        self._start("SequentialLR")
        children = self.schedulers
        milestones = check.integers("milestones", self.milestones, minimum=0)
        if len(milestones) != len(children) - 1:
            raise ValueError(
                f"milestones must have one value fewer than schedulers ({len(children)}), "
                f"got {list(milestones)}"
            )
        if list(milestones) != sorted(milestones):
            raise ValueError(f"milestones must be non-decreasing, got {list(milestones)}")
        first = bisect.bisect_right(milestones, 0)
        ends = [*milestones, math.inf]
        reached = [
            i == first or (i > first and ends[i - 1] < ends[i]) for i in range(len(children))
        ]
        for i, child in enumerate(children):
            if reached[i] and i != first and type(child).__name__ in _COMPOSITES:
                raise ValueError(
                    f"schedulers[{i}] is a {type(child).__name__}, which SequentialLR would "
                    f"restart at milestone {milestones[i - 1]}; torch cannot (its _update_lr "
                    "raises NotImplementedError)"
                )
        self._set(
            milestones=milestones,
            _boundaries=integer_tables(milestones),
            _first=first,
            _reached=tuple(reached),
            # Closed form for single children, unless OneCycleLR children share their
            # param-group bounds with another cycling child (then simulated, as torch runs it).
            _closed=not any(type(c).__name__ in _COMPOSITES for c in children)
            and not shared_group_keys(self),
        )
        self._set(_prevs=self._previous_lrs() if self._closed else {})

    def _previous_lrs(self) -> dict[int, Any]:
        """The lr just before each MultiplicativeLR child's milestone (host, float64)."""
        later = [
            i
            for i, child in enumerate(self.schedulers)
            if self._reached[i] and i != self._first and type(child).__name__ == "MultiplicativeLR"
        ]
        # Only earlier segments decide the value at a milestone - 1; this one and later ones
        # are computed there but not selected, so placeholders stand in until they are known.
        prevs: dict[int, Any] = dict.fromkeys(later, 0.0)
        self._set(_prevs=prevs)
        for i in later:
            prevs[i] = self(self.milestones[i - 1] - 1)
        return prevs

    def _segment(self, ctx: Ctx, i: int, since: Any) -> Any:
        """Child ``i``'s lr ``since`` steps after it took over at its milestone."""
        child = self.schedulers[i]
        name = type(child).__name__
        if name == "ConstantLR" and child.total_iters == 0:  # type: ignore[attr-defined]
            return ctx.const(self._base) + 0.0 * ctx.float(since)
        if name == "MultiplicativeLR":
            fns = child.lr_lambda  # type: ignore[attr-defined]
            first = tuple(float(f(0)) for f in fns) if isinstance(fns, tuple) else float(fns(0))
            prev = self._prevs[i]
            prev = tuple(np.broadcast_to(prev, (self._groups,))) if self._groups else prev
            return ctx.const(prev) * ctx.const(first) * self._unit[i]._lr(ctx, since)
        return child._lr(ctx, since)

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        if not self._closed:
            return self._lookup(ctx, step, 0)
        xp = ctx.xp
        active = searchsorted(ctx, self._boundaries, step)
        out = self.schedulers[self._first]._lr(ctx, step)
        # One term per child: the structure is fixed at construction (no loop over steps).
        for i in range(self._first + 1, len(self.schedulers)):
            # A milestone past the step's integer range (an int32 count) is never reached.
            if self._reached[i] and reaches(ctx, step, self.milestones[i - 1]):
                since = xp.maximum(step - self.milestones[i - 1], xp.zeros_like(step))
                out = xp.where(active == i, self._segment(ctx, i, since), out)
        return out


@dataclasses.dataclass(frozen=True)
class ChainedScheduler(_Composite):
    """Steps every schedule at every step, in list order, each acting on the lr the previous
    left, as torch's ChainedScheduler.

    When every child is a decay of its own epoch (StepLR, MultiStepLR, ConstantLR, LinearLR,
    ExponentialLR, PolynomialLR, MultiplicativeLR) the lr is the base times the product of
    their factors: a closed form. Otherwise torch's updates are simulated on the host:
    LambdaLR, CyclicLR, OneCycleLR and warm restarts overwrite the lr each step (so decays
    listed before them are lost, and decays after them apply their one-step factor only);
    CosineAnnealingLR's update is affine, with an additive branch at its trough. Children
    take their first step when constructed, as in torch, where the composite adds none.

    Args:
      schedulers: lrfun schedules (or their configs), sharing one base lr per group.
      horizon: (keyword, lrfun only) steps to simulate up front, for jit/compile evaluation of
        what has no closed form.

    >>> from lrfun import ConstantLR, ExponentialLR
    >>> both = ChainedScheduler([ConstantLR(1.0, 0.5, 2), ExponentialLR(1.0, 0.5)])
    >>> [both(t) for t in range(4)]
    [0.5, 0.25, 0.25, 0.125]
    """

    schedulers: Sequence[Schedule]
    horizon: int | None = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        self._start("ChainedScheduler")
        names = {type(c).__name__ for c in self.schedulers}
        self._set(_closed=names <= _MULTIPLICATIVE)

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        if not self._closed:
            return self._lookup(ctx, step, 0)
        out = ctx.const(self._base)
        for unit in self._unit:
            out = out * unit._lr(ctx, step)
        return out
