"""Composed schedules: SequentialLR and ChainedScheduler, with torch's stepping semantics.

Closed forms where torch's algebra allows: a SequentialLR of single schedules is a lookup of
the active child (each restarted as the child says: ``Schedule._restarted``), a
ChainedScheduler of ``"factor"`` children is the base times their factors. Everything else
is torch's own stepping, simulated exactly on the host (:mod:`lrfun._chain`) and cached.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lrfun import _validate as check
from lrfun._backend import Ctx, host_values, is_traced
from lrfun._chain import Chained, Node, Sequential, Shared, shared_group_keys, simulate
from lrfun._convert import from_torch
from lrfun._math import ByWidth, integer_tables, reaches, searchsorted
from lrfun._plateau import ReduceLROnPlateau
from lrfun._schedule import Cache, Schedule, derived, from_config

__all__ = ["ChainedScheduler", "SequentialLR"]


def _children(name: str, schedulers: Any) -> tuple[Schedule, ...]:
    if isinstance(schedulers, (str, bytes, Mapping)) or not isinstance(schedulers, Sequence):
        raise TypeError(f"schedulers must be a list of schedules, got {schedulers!r}")
    if not schedulers:
        raise ValueError(f"schedulers must hold at least one schedule for {name}, got []")
    out = []
    for i, child in enumerate(schedulers):
        if isinstance(child, Mapping):
            child = from_config(child)
        if isinstance(child, ReduceLROnPlateau):
            raise ValueError(
                f"schedulers[{i}] is a ReduceLROnPlateau, which {name} cannot hold (its step "
                "needs a metric; torch refuses it too)"
            )
        if not isinstance(child, Schedule):
            raise TypeError(f"schedulers[{i}] must be an lrfun schedule, got {child!r}")
        out.append(child)
    return tuple(out)


def _common_base(name: str, children: tuple[Schedule, ...]) -> tuple[Any, int | None]:
    """The per-group base lrs every child agrees on, and the group count."""
    counts = {c.groups for c in children if c.groups is not None}
    if len(counts) > 1:
        raise ValueError(f"{name}: children have different param group counts {sorted(counts)}")
    groups = counts.pop() if counts else None
    width = groups or 1
    bases = []
    for child in children:
        base = child._initial_lr
        bases.append(tuple(base) if isinstance(base, tuple) else (base,) * width)
    for i, base in enumerate(bases):
        # Traced values (a composite built inside jit/vmap) have no number to compare.
        if not all(
            math.isclose(x, y, rel_tol=1e-12, abs_tol=0.0)
            for x, y in zip(base, bases[0], strict=True)
            if isinstance(x, float) and isinstance(y, float)
        ):
            raise ValueError(
                f"{name}: torch runs every child on one optimizer, so their base lrs must "
                f"agree; schedulers[{i}] has {base}, schedulers[0] has {bases[0]}"
            )
    return (bases[0][0] if groups is None else bases[0]), groups


@dataclasses.dataclass(frozen=True)
class _Composite(Schedule, register=False):
    """Shared by the composites: the children, the exact host simulation, its cache and its
    lookup."""

    schedulers: Sequence[Schedule]
    horizon: int | None = dataclasses.field(default=None, kw_only=True)
    _closed: bool = derived()  # a closed form: else simulated on the host
    _tables: Cache = derived(cache=True)

    def __post_init__(self) -> None:
        name = type(self).__name__
        children = _children(name, self.schedulers)
        _, groups = _common_base(name, children)
        if self.horizon is not None:
            check.integer("horizon", self.horizon, minimum=0)
        self._set(schedulers=children, _groups=groups, _tables=Cache())

    def _tree_leaves(self) -> tuple[str, ...]:
        # A closed form computes from the children's hyperparameters, traced or not; a host
        # simulation needs them concrete, so such a composite is static data as a whole.
        return ("schedulers",) if self._closed else ()

    @property
    def _base(self) -> Any:
        """torch's ``initial_lr`` of every group, which the children agree on."""
        base = self.schedulers[0]._initial_lr
        if self._groups is not None and not isinstance(base, tuple):
            return (base,) * self._groups
        return base

    @property
    def cycles_momentum(self) -> bool:
        return any(c.cycles_momentum for c in self.schedulers)

    @property
    def _initial_lr(self) -> Any:
        return self._base

    def _leaves(self) -> tuple[Schedule, ...]:
        return tuple(leaf for child in self.schedulers for leaf in child._leaves())

    def _torch_steps(self) -> int | None:
        # torch's children may run a step ahead of the composite.
        limits = [n for leaf in self._leaves() if (n := leaf._torch_steps()) is not None]
        return max(0, min(limits) - 1) if limits else None

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
        # Values the definition fixes, grown by doubling.
        tables = self._tables
        if tables and tables["lr"].shape[0] > last:
            return tables["lr"], tables["momentum"]
        n = max(last, 2 * (tables["lr"].shape[0] if tables else 64))
        width = self._groups or 1
        base = np.broadcast_to(np.asarray(self._base, dtype=np.float64), (width,)).copy()
        lr, momentum = simulate(self, n, width, base)
        tables.update(lr=lr, momentum=momentum)
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

    milestones: Sequence[int]
    _boundaries: ByWidth = derived()
    _first: int = derived()  # the child active at step 0
    _reached: tuple[bool, ...] = derived()  # whether each child ever becomes active

    _gallery = (
        "SequentialLR([LinearLR(0.1, start_factor=0.01, total_iters=20), "
        "CosineAnnealingLR(0.1, T_max=180, eta_min=0.001)], milestones=[20])",
        200,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
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
            if reached[i] and i != first and isinstance(child, _Composite):
                raise ValueError(
                    f"schedulers[{i}] is a {type(child).__name__}, which SequentialLR would "
                    f"restart at milestone {milestones[i - 1]}; torch cannot (its _update_lr "
                    "raises NotImplementedError)"
                )
        # Closed form for single children, unless OneCycleLR children share their
        # param-group bounds with another cycling child (then simulated, as torch runs it).
        leaves = tuple(leaf for child in children for leaf in child._leaves())
        closed = not any(isinstance(c, _Composite) for c in children)
        self._set(
            milestones=milestones,
            _boundaries=integer_tables(milestones),
            _first=first,
            _reached=tuple(reached),
            _closed=closed and not shared_group_keys(leaves),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        if not self._closed:
            return self._lookup(ctx, step, 0)
        return self._segments(ctx, step, len(self.schedulers))

    def _segments(self, ctx: Ctx, step: Any, upto: int) -> Any:
        """The lr of the first ``upto`` children as SequentialLR runs them: one lookup of
        the active child (children from ``upto`` on are not looked up)."""
        xp = ctx.xp
        active = searchsorted(ctx, self._boundaries, step)
        out = self.schedulers[self._first]._lr(ctx, step)
        # One term per child: the structure is fixed at construction (no loop over steps).
        for i in range(self._first + 1, upto):
            m = self.milestones[i - 1]
            # A milestone past the step's integer range (an int32 count) is never reached.
            if not (self._reached[i] and reaches(ctx, step, m)):
                continue
            child = self.schedulers[i]
            since = xp.maximum(step - m, xp.zeros_like(step))
            # A child without a closed form continues from the lr the earlier ones left
            # just before its milestone.
            previous = (
                self._segments(ctx, xp.zeros_like(step) + (m - 1), i) if child._continues else None
            )
            value = child._restarted(ctx, since, self._base, previous)
            out = xp.where(active == i, value, out)
        return out

    def _node(self, n: int, groups: int, base: np.ndarray, shared: Shared) -> Node:
        children = [c._node(n, groups, base, shared) for c in self.schedulers]
        return Sequential(children, tuple(self.milestones), base)

    def _course_changes(self, n: int) -> list[float]:
        # each child's own course changes, from where it starts until the next switch
        starts, ends = [0, *self.milestones], [*self.milestones, n]
        changes: list[float] = list(self.milestones)
        for child, start, end in zip(self.schedulers, starts, ends, strict=True):
            changes += [
                start + x for x in child._course_changes(end - start) if 0 < x < end - start
            ]
        return changes

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        return {
            "schedulers": [from_torch(c) for c in scheduler._schedulers],
            "milestones": list(scheduler._milestones),
        }


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

    _gallery = (
        "ChainedScheduler([ConstantLR(0.1, factor=0.1, total_iters=10), "
        "ExponentialLR(0.1, gamma=0.98)])",
        100,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set(_closed=all(c.chain == "factor" for c in self.schedulers))

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        if not self._closed:
            return self._lookup(ctx, step, 0)
        # The base times every child's factor.
        out = ctx.const(self._base)
        for child in self.schedulers:
            out = out * child._factor(ctx, step)
        return out

    def _node(self, n: int, groups: int, base: np.ndarray, shared: Shared) -> Node:
        return Chained([c._node(n, groups, base, shared) for c in self.schedulers])

    def _course_changes(self, n: int) -> list[float]:
        return [x for child in self.schedulers for x in child._course_changes(n)]

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        return {"schedulers": [from_torch(c) for c in scheduler._schedulers]}
