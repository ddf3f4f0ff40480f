"""Composed schedules: SequentialLR and ChainedScheduler, with torch's stepping semantics.

Closed forms where torch's algebra allows: a SequentialLR of single schedules is a lookup of
the active child (each restarted as the child says: ``Schedule._restarted``), a
ChainedScheduler of ``"factor"`` children is the base times their factors. Everything else
is torch's own stepping, simulated exactly on the host (``lrfun._chain``) and cached.
"""

from __future__ import annotations

import bisect
import dataclasses
import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from lrfun import _validate as check
from lrfun._backend import SCALARS, Ctx, evaluate, host_values, is_traced, table_end
from lrfun._chain import (
    Chained,
    Node,
    Sequential,
    Shared,
    Simulation,
    check_steps,
    check_table,
    shared_group_keys,
)
from lrfun._convert import read
from lrfun._math import ByWidth, integer_tables, reaches, searchsorted
from lrfun._plateau import ReduceLROnPlateau
from lrfun._reference import TORCH, LiveScheduler
from lrfun._schedule import Cache, Schedule, from_config

__all__ = ["ChainedScheduler", "SequentialLR"]


def _children(name: str, schedulers: Any) -> tuple[Schedule, ...]:
    if isinstance(schedulers, (str, bytes, Mapping)) or not isinstance(schedulers, Sequence):
        raise TypeError(f"schedulers must be a list of schedules, got {check._shown(schedulers)}")
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
            raise TypeError(f"schedulers[{i}] must be an lrfun schedule, got {check._shown(child)}")
        out.append(child)
    return tuple(out)


def _group_count(name: str, children: tuple[Schedule, ...]) -> int | None:
    counts = {c.groups for c in children if c.groups is not None}
    if len(counts) > 1:
        raise ValueError(f"{name}: children have different param group counts {sorted(counts)}")
    return counts.pop() if counts else None


def _per_group(value: Any, groups: int | None) -> Any:
    if groups is not None and not isinstance(value, tuple):
        return (value,) * groups
    return value


def _initial_lr(leaves: Sequence[Schedule]) -> Any:
    """The group's ``initial_lr`` once torch has constructed ``leaves`` in order: the first
    one sets it (``setdefault``), a OneCycleLR overwrites it. Children may hold other base
    lrs -- a CyclicLR's own, a decay built after a OneCycleLR -- as torch's do."""
    initial = leaves[0]._initial_lr
    for leaf in leaves[1:]:
        if leaf._sets_initial_lr:
            initial = leaf._initial_lr
    return initial


# Below this the product of a chain's factors may round to 0 in float64 on its way.
_UNDERFLOW = 2.0**-1000


def _may_underflow(children: Sequence[Schedule]) -> bool:
    """Whether torch's lr, multiplied by one child's factor after another, may round to 0
    while the closed form (the base times the product) would later rise again: torch's lr
    then stays 0 (``LinearLR(1000, 1e-200, 1.0, 1)`` twice). Bounded by each child's
    smallest factor up to its last course change (later, decays only decrease)."""
    if any(_traced_leaf(c) for c in children):
        return False  # traced hyperparameters: no numbers to bound
    ends = [max(c._course_changes(_BOUND_STEPS), default=0) for c in children]
    steps = np.arange(min(int(max(ends)) + 2, _BOUND_STEPS))

    def factor(child: Schedule) -> np.ndarray:
        # (steps, groups), a scalar schedule's one column broadcasting over the groups
        return np.asarray(evaluate(child._factor, steps, child.groups)).reshape(len(steps), -1)

    # One child's factors at a time: memory does not grow with the children.
    # A growth past float's range is inf, and 0 * inf NaN: not a bound, and no rise.
    with np.errstate(all="ignore"):
        smallest = np.abs(np.asarray(children[0]._initial_lr, dtype=np.float64)).min()
        for child in children:
            smallest = smallest * np.nanmin(np.abs(factor(child)))
        if smallest == 0:  # a factor of exactly 0: torch stays at 0 unless the product rises
            product = factor(children[0])
            for child in children[1:]:
                product = product * factor(child)
            return bool(np.any(np.diff(product, axis=0) > 0))
    return bool(smallest < _UNDERFLOW)


def _traced_leaf(schedule: Schedule) -> bool:
    leaves = schedule._tree_flatten()[0]
    flat = [v for leaf in leaves for v in (leaf if isinstance(leaf, tuple) else (leaf,))]
    return any(is_traced(v) for v in flat)


# Steps over which a chain's factors are bounded at construction.
_BOUND_STEPS = 1 << 16

# What a simulation refused for its cost may do instead.
_ADVICE = (
    "use children with a closed form (a SequentialLR of single schedules, a ChainedScheduler "
    "of decays)"
)


def _start_of(child: Schedule) -> Any:
    """The groups' lr when ``child`` is built first: its start_lr, else its base lr."""
    start = getattr(child, "start_lr", None)
    return child._initial_lr if start is None else start


def _start(child: Schedule, initial: Any) -> Any:
    """``initial``, or the child's own base lr when they are the same numbers (its closed
    form then needs no start)."""
    own = child._initial_lr
    mine = own if isinstance(own, tuple) else (own,)
    theirs = initial if isinstance(initial, tuple) else (initial,)
    # Traced values (a composite built inside jit/vmap) are the same objects or not.
    same = len(mine) == len(theirs) or len(mine) == 1
    for x, y in zip(mine * (len(theirs) // len(mine)), theirs, strict=False):
        same = same and (x is y or (isinstance(x, float) and isinstance(y, float) and x == y))
    return own if same else initial


@dataclasses.dataclass(frozen=True)
class _Composite(Schedule, register=False):
    """Shared by the composites: the children, the exact host simulation, its cache and its
    lookup."""

    schedulers: Sequence[Schedule]
    horizon: int | None = dataclasses.field(default=None, kw_only=True)
    # A closed form: else simulated on the host.
    _closed: bool = dataclasses.field(init=False, repr=False, compare=False)
    _tables: Cache = dataclasses.field(
        init=False, repr=False, compare=False, metadata={"cache": True}
    )

    def __post_init__(self) -> None:
        name = type(self).__name__
        children = _children(name, self.schedulers)
        groups = _group_count(name, children)
        for i, child in enumerate(children):
            # A ChainedScheduler's first child is built on the groups' lr as it is.
            if i == 0 and self._chains:
                continue
            start = getattr(child, "start_lr", None)
            if start is not None:
                raise ValueError(
                    f"schedulers[{i}] has start_lr={check._shown(start)}: inside {name} the lr a "
                    "child starts from is the composite's (SequentialLR resets it to "
                    "initial_lr; a ChainedScheduler child continues from the one before)"
                )
        if self.horizon is not None:
            check.integer("horizon", self.horizon, minimum=0)
        self._set(schedulers=children, _groups=groups, _tables=Cache())

    # Whether the children take their first step on the lr the one before left (torch's
    # ChainedScheduler), rather than on the groups' reset initial_lr (SequentialLR).
    _chains: ClassVar[bool] = False
    # Specs write the children as schedule calls.
    _schedules_argument: ClassVar[str | None] = "schedulers"

    def _tree_leaves(self) -> tuple[str, ...]:
        # A closed form computes from the children's hyperparameters, traced or not; a host
        # simulation needs them concrete, so such a composite is static data as a whole.
        return ("schedulers",) if self._closed else ()

    @property
    def _base(self) -> Any:
        """torch's ``initial_lr`` of every group once the children are constructed (found
        once per object: every evaluation reads it)."""
        return self._memo.get(
            "base", lambda: _per_group(_initial_lr(self._leaves()), self._groups)
        )

    @property
    def cycles_momentum(self) -> bool:
        return any(c.cycles_momentum for c in self.schedulers)

    @property
    def _initial_lr(self) -> Any:
        return self._base

    def _leaves(self) -> tuple[Schedule, ...]:
        return tuple(leaf for child in self.schedulers for leaf in child._leaves())

    def _lr_scale(self) -> float:
        return max(child._lr_scale() for child in self.schedulers)

    def _live(self, optimizer: Any) -> Any:
        # torch's composites take their children constructed, in list order, on the one
        # optimizer: the first sets the groups' initial_lr.
        children = [child._live(optimizer) for child in self.schedulers]
        arguments = {k: v for k, v in self._live_arguments().items() if k != "schedulers"}
        cls = self._torch_class()
        # By keyword: ChainedScheduler takes the schedulers first (and, before torch 2.3, no
        # optimizer at all: it reads the children's).
        if "optimizer" in inspect.signature(cls).parameters:
            arguments["optimizer"] = optimizer
        return cls(schedulers=children, **arguments)

    def _torch_class(self) -> Any:
        reference = self._reference
        if not isinstance(reference, LiveScheduler):  # a subclass with a reference of its own
            raise ValueError(
                f"{self._name} has no live scheduler class (its reference: "
                f"{getattr(reference, 'name', None)!r})"
            )
        return reference.resolve(type(self))

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

    def _simulation(self) -> Simulation:
        """torch's stepping of this composite on the host (built once, kept in the cache)."""

        def build() -> Simulation:
            width = self._groups or 1

            def host(value: Any) -> np.ndarray:
                return np.broadcast_to(np.asarray(value, dtype=np.float64), (width,)).copy()

            # The groups' lr before the first child is built: its start_lr, else its base lr.
            start = host(_start_of(self._leaves()[0]))
            return Simulation(self, width, host(self._base), start)

        simulation: Simulation = self._tables.get("simulation", build)
        return simulation

    def _build_tables(self) -> None:
        # The horizon's table is simulated here, before any tracing: torch.compile cannot
        # trace the simulation (NumPy on the host, a lock) and vmap's batched steps have no
        # values to simulate to, so traced steps only read it, a constant of the graph.
        # A closed form needs none.
        if self.horizon is not None and not self._closed:
            self._horizon_table(self.horizon)

    def _horizon_table(self, last: int) -> tuple[Any, Any]:
        """The simulation's lrs and momenta (None where nothing cycles momentum) at steps
        ``0..last`` (``last`` the horizon), refused past half of ``lrfun._chain.BUDGET``
        bytes and past ``lrfun._chain.MAX_MAPS`` updates."""
        name = type(self).__name__
        simulation = self._simulation()
        check_table(
            "horizon",
            last,
            last + 1,
            simulation.groups * (2 if simulation.momentum else 1),
            f"{name} has no closed form here, so it is tabulated on the host for jit, vmap "
            "or torch.compile",
            "evaluate with concrete steps (no table is kept for those)",
        )
        # A table within the budget may still take long to simulate (many children).
        check_steps(
            last,
            simulation,
            f"{name}'s horizon table (no closed form here)",
            _ADVICE,
            name="horizon",
        )
        return simulation.upto(last)

    def _lookup(self, ctx: Ctx, step: Any, which: int) -> Any:
        """Values of the simulated composite at ``step``: at concrete steps, simulated as far
        as the highest (no table kept); traced, from a table of ``horizon`` steps (NaN past
        it). Refused past ``lrfun._chain.MAX_MAPS`` updates and for a table past half of
        ``lrfun._chain.BUDGET`` bytes."""
        xp = ctx.xp
        name = type(self).__name__
        last = table_end(step, self.horizon, f"{name} has no closed form here, so it")
        simulation = self._simulation()
        groups = simulation.groups
        if is_traced(step):
            # Built at construction (_build_tables), so torch.compile only reads it, with no
            # lock to take; a JAX pytree copy (its cache empty) builds it here, where jit runs
            # Python.
            table = self._horizon_table(last)[which]
            index = ctx.minimum(step, table.shape[0] - 1)
            beyond = step >= table.shape[0]
        else:
            check_steps(last, simulation, f"{name} (no closed form here)", _ADVICE)
            host = host_values(step)
            steps, inverse = np.unique(host, return_inverse=True)
            table = simulation.values(steps)[which]
            index = xp.asarray(inverse.reshape(host.shape), device=ctx.device)
            beyond = None
        if self._groups is None:
            values = ctx.gather(table[:, 0], index)
        else:
            # Whole rows, every group at once: one operation however many groups.
            flat = index[..., 0]
            rows = xp.take(ctx.from_host(table), xp.reshape(flat, (-1,)), axis=0)
            values = xp.reshape(rows, (*flat.shape, groups))
        return values if beyond is None else xp.where(beyond, xp.nan, values)

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
      horizon: (keyword, lrfun only) steps to simulate at construction, for evaluation of
        what has no closed form under jit, vmap or torch.compile (NaN past it).

    >>> from lrfun import ExponentialLR, LinearLR
    >>> warmup = SequentialLR([LinearLR(0.1, 0.1, total_iters=4), ExponentialLR(0.1, 0.5)], [4])
    >>> [round(warmup(t), 6) for t in (0, 2, 4, 5)]
    [0.01, 0.055, 0.1, 0.05]
    """

    _reference = TORCH

    milestones: Sequence[int]
    _boundaries: ByWidth = dataclasses.field(init=False, repr=False, compare=False)
    # The child active at step 0.
    _first: int = dataclasses.field(init=False, repr=False, compare=False)
    # Whether each child ever becomes active.
    _reached: tuple[bool, ...] = dataclasses.field(init=False, repr=False, compare=False)

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
        self._build_tables()

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        if not self._closed:
            return self._lookup(ctx, step, 0)
        xp = ctx.xp
        if xp is SCALARS:  # one Python-int step: only the child active there
            ctx = ctx._replace(span=(int(step), int(step)))
        ends: tuple[float, ...] = (*self.milestones, math.inf)
        # One term per child: the structure is fixed at construction (no loop over steps).
        # A milestone past the step's integer range (an int32 count) is never reached; a
        # child none of the (host) steps is active in is not computed.
        active_children = [
            i
            for i in range(self._first, len(self.schedulers))
            if (
                i == self._first
                or (self._reached[i] and reaches(ctx, step, self.milestones[i - 1]))
            )
            and ctx.meets(ends[i - 1] if i else 0, ends[i])
        ]
        active = None
        if len(active_children) > 1:
            active = searchsorted(ctx, self._boundaries, step)
        out = None
        before: dict[int, Any] = {}
        for i in active_children:
            # The first child starts from the group's initial_lr, which SequentialLR
            # restores (``_child``).
            value = self._child(ctx, step, i, before)
            out = value if out is None else xp.where(active == i, value, out)
        return out

    def _child(self, ctx: Ctx, step: Any, i: int, before: dict[int, Any]) -> Any:
        """Child ``i``'s lr at ``step`` (a step where it is active). ``before`` keeps the lr
        just before each milestone, which a child without a closed form continues from:
        computed once per evaluation, each from the one before it (not again for every
        later child, which would double the work with each such child)."""
        xp = ctx.xp
        child = self.schedulers[i]
        if i == self._first:
            return child._started(ctx, step, _start(child, self._base))
        m = self.milestones[i - 1]
        since = xp.maximum(step - m, xp.zeros_like(step))
        previous = None
        if child._continues:
            if i not in before:
                # Step m - 1 is a host number, so the child active there is found on the host.
                at = m - 1
                active = bisect.bisect_right(self.milestones, at)
                fixed = xp.zeros_like(step) + at
                before[i] = self._child(ctx.at(at), fixed, active, before)
            previous = before[i]
        return child._restarted(ctx.shifted(m), since, child._initial_lr, previous)

    def _node(self, groups: int, base: np.ndarray, shared: Shared) -> Node:
        children = [c._node(groups, base, shared) for c in self.schedulers]
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

    def _check_live(self, obj: Any) -> None:
        # The running child continues from its own epoch: one stepped before it was wrapped
        # (torch's reset undoes one step of each) runs ahead of what the composite says. Only
        # a single child is checked: torch's bookkeeping of nested containers runs its own
        # epochs a step apart.
        epoch, milestones = obj.last_epoch, list(obj._milestones)
        index = bisect.bisect_right(milestones, epoch)
        child = obj._schedulers[index]
        since = epoch - (milestones[index - 1] if index else 0)
        if not hasattr(child, "_schedulers") and child.last_epoch != since:
            raise ValueError(
                f"from_torch cannot express a SequentialLR whose running schedulers[{index}] "
                f"stands at epoch {child.last_epoch} where the composite's step gives {since} "
                "(it was stepped before the SequentialLR was built): lrfun's SequentialLR "
                "starts each schedule at its milestone"
            )

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        return {
            "schedulers": [read(c, alone=False) for c in scheduler._schedulers],
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
      horizon: (keyword, lrfun only) steps to simulate at construction, for evaluation of
        what has no closed form under jit, vmap or torch.compile (NaN past it).

    >>> from lrfun import ConstantLR, ExponentialLR
    >>> both = ChainedScheduler([ConstantLR(1.0, 0.5, 2), ExponentialLR(1.0, 0.5)])
    >>> [both(t) for t in range(4)]
    [0.5, 0.25, 0.25, 0.125]
    """

    _reference = TORCH

    _chains: ClassVar[bool] = True
    _gallery = (
        "ChainedScheduler([ConstantLR(0.1, factor=0.1, total_iters=10), "
        "ExponentialLR(0.1, gamma=0.98)])",
        100,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        factors = all(c.chain == "factor" for c in self.schedulers)
        self._set(_closed=factors and not _may_underflow(self.schedulers))
        self._build_tables()

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        if not self._closed:
            return self._lookup(ctx, step, 0)
        # The lr the first child found times every child's factor.
        out = ctx.const(_per_group(_start_of(self.schedulers[0]), self._groups))
        for child in self.schedulers:
            out = out * child._factor(ctx, step)
        return out

    def _node(self, groups: int, base: np.ndarray, shared: Shared) -> Node:
        return Chained([c._node(groups, base, shared) for c in self.schedulers])

    def _with_start(self, start: Any) -> Schedule | None:
        first = self.schedulers[0]._with_start(start)
        if first is None:
            return None
        return dataclasses.replace(self, schedulers=[first, *self.schedulers[1:]])

    def _course_changes(self, n: int) -> list[float]:
        return [x for child in self.schedulers for x in child._course_changes(n)]

    def _check_live(self, obj: Any) -> None:
        # Children stepped in step with each other: one stepped before it was wrapped runs
        # ahead of the others, which this composite cannot say (single children only: torch's
        # bookkeeping of nested containers runs their epochs a step apart).
        epochs = [c.last_epoch for c in obj._schedulers if not hasattr(c, "_schedulers")]
        if len(set(epochs)) > 1:
            raise ValueError(
                f"from_torch cannot express a ChainedScheduler whose schedulers stand at "
                f"different epochs {epochs} (one was stepped before the chain was built): "
                "lrfun's ChainedScheduler steps its schedules together from their first step"
            )

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        return {"schedulers": [read(c, alone=False) for c in scheduler._schedulers]}
