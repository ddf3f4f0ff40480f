"""torch's stepping of composed schedulers, simulated exactly on the host.

Every torch ``get_lr`` is affine in the group's current lr: ``lr <- A * lr + B`` (decays
multiply, CosineAnnealingLR is affine, LambdaLR/CyclicLR/OneCycleLR/warm restarts set the lr
outright). Each schedule class gives its own maps (``Schedule._chain_maps``) and its own node
(``Schedule._node``); this module is the engine that runs them in float64, mirroring torch's
objects: each child's own epoch counter, its first ("initial") step, SequentialLR's reset of
the lr and ``recursive_undo``, its switch to the next child with ``_update_lr(0)`` (the closed
form where torch has one), ChainedScheduler stepping every child in list order. It knows no
schedule by name. Cost: O(steps x children), once per horizon (the caller caches the table).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ChainMaps", "Chained", "Node", "Sequential", "Shared", "Single", "simulate"]

Pair = tuple[Any, Any]


@dataclass(frozen=True)
class ChainMaps:
    """torch's update of one scheduler, as affine maps of the group's lr."""

    a: np.ndarray  # (n + 1, G): the multiplier at own epoch e (a step that is not the first)
    b: np.ndarray  # (n + 1, G): the offset
    initial: Pair  # the first step (construction)
    restart: Pair  # SequentialLR's _update_lr(0)
    momentum: np.ndarray | None  # (n + 1, G): what a cycling child writes at own epoch e

    @classmethod
    def absolute(cls, schedule: Any, n: int, groups: int) -> ChainMaps:
        """A scheduler whose every step sets the lr to its closed form (and its momentum)."""
        values = _host(schedule(np.arange(n + 1)), n, groups)
        momentum = None
        if schedule.cycles_momentum:
            momentum = _host(schedule.momentum(np.arange(n + 1)), n, groups)
        first = (np.zeros(groups), values[0])
        return cls(np.zeros((n + 1, groups)), values, first, first, momentum)

    @classmethod
    def factor(
        cls,
        schedule: Any,
        a: Any,
        n: int,
        groups: int,
        *,
        initial: Any = 1.0,
        restart: Pair | None = None,
        b: Any = 0.0,
    ) -> ChainMaps:
        """A scheduler that multiplies the lr by ``a[e]`` (plus ``b[e]``) at own epoch ``e``;
        ``initial`` is its factor at construction and ``restart`` its ``_update_lr(0)``
        (default: torch's closed form at epoch 0, which overwrites the lr)."""
        zeros = np.zeros(groups)
        if restart is None:
            restart = (zeros, _host(schedule(np.arange(1)), 0, groups)[0])
        return cls(
            np.broadcast_to(np.asarray(a, dtype=np.float64), (n + 1, groups)).copy(),
            np.broadcast_to(np.asarray(b, dtype=np.float64), (n + 1, groups)).copy(),
            (np.broadcast_to(np.asarray(initial, dtype=np.float64), (groups,)), zeros),
            restart,
            None,
        )


def epochs(n: int, groups: int) -> np.ndarray:
    """Own epochs ``0..n`` as a float ``(n + 1, groups)`` array (for maps written in NumPy)."""
    return np.arange(n + 1)[:, None] * np.ones((1, groups))


def _host(values: Any, n: int, groups: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return np.broadcast_to(v if v.ndim == 2 else v[:, None], (n + 1, groups)).copy()


class Shared:
    """Param-group keys some schedulers write at construction and read when they step
    (OneCycleLR's lr bounds, CyclicLR's and OneCycleLR's momentum bounds): which scheduler
    wrote each last."""

    def __init__(self) -> None:
        self.bounds: Any = None
        self.momenta: Any = None
        self.initial_lr: Any = None  # the groups' initial_lr (None: no scheduler built yet)


class Node:
    """One torch scheduler object during the simulation (host state, not the schedule)."""

    def construct(self, lr: np.ndarray, mom: Any) -> Pair:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError

    def initial_step(self, lr: np.ndarray, mom: Any) -> Pair:
        raise NotImplementedError

    def step(self, lr: np.ndarray, mom: Any) -> Pair:
        raise NotImplementedError

    def restart(self, lr: np.ndarray, mom: Any) -> Pair:
        raise NotImplementedError


class Single(Node):
    """A single scheduler: its maps at its own epoch.

    Where the schedule reads param-group keys another scheduler may have written
    (``leaf._reads_group_keys``), its maps are rebuilt from ``leaf._read(shared)`` for
    whatever the groups hold when it steps.
    """

    def __init__(
        self,
        maps: ChainMaps,
        leaf: Any = None,
        shared: Shared | None = None,
        build: Callable[[Any], ChainMaps] | None = None,
    ) -> None:
        self.maps, self.epoch = maps, -1
        self.leaf, self.shared, self.build = leaf, shared, build
        self.cache: dict[Pair, ChainMaps] = {}

    def _refresh(self) -> None:
        if self.build is None or not self.leaf._reads_group_keys:
            return
        shared = self.shared
        key = (id(shared.bounds), id(shared.momenta))
        if key not in self.cache:
            self.cache[key] = self.build(self.leaf._read(shared))
        self.maps = self.cache[key]

    def _apply(self, ab: Pair, lr: np.ndarray, mom: Any) -> Pair:
        m = self.maps.momentum
        return ab[0] * lr + ab[1], (mom if m is None else m[min(self.epoch, len(m) - 1)])

    def construct(self, lr: np.ndarray, mom: Any) -> Pair:
        leaf, shared, first = self.leaf, self.shared, self.maps.initial
        if shared is not None:
            leaf._write(shared)
            before = shared.initial_lr
            own = np.broadcast_to(np.asarray(leaf._initial_lr, dtype=np.float64), lr.shape)
            if leaf._sets_initial_lr or before is None:  # setdefault, or an overwrite
                shared.initial_lr = own
            if leaf._first_step_reads_initial_lr and before is not None:
                first = (np.zeros_like(lr), before)
        self._refresh()
        self.epoch = 0
        return self._apply(first, lr, mom)

    def undo(self) -> None:
        self.epoch -= 1

    def initial_step(self, lr: np.ndarray, mom: Any) -> Pair:
        self._refresh()
        self.epoch += 1
        return self._apply(self.maps.initial, lr, mom)

    def step(self, lr: np.ndarray, mom: Any) -> Pair:
        self._refresh()
        self.epoch += 1
        e = min(self.epoch, len(self.maps.a) - 1)
        return self._apply((self.maps.a[e], self.maps.b[e]), lr, mom)

    def restart(self, lr: np.ndarray, mom: Any) -> Pair:
        self._refresh()
        self.epoch = 0
        return self._apply(self.maps.restart, lr, mom)


class Chained(Node):
    """torch's ChainedScheduler: every child steps, in list order."""

    def __init__(self, children: list[Node]) -> None:
        self.children = children

    def construct(self, lr: np.ndarray, mom: Any) -> Pair:
        for child in self.children:
            lr, mom = child.construct(lr, mom)
        return lr, mom

    def undo(self) -> None:
        for child in self.children:
            child.undo()

    def step(self, lr: np.ndarray, mom: Any) -> Pair:
        for child in self.children:
            lr, mom = child.step(lr, mom)
        return lr, mom

    # torch's _initial_step on a ChainedScheduler is a plain step(): the children do not see
    # the initial flag.
    initial_step = step


class Sequential(Node):
    """torch's SequentialLR: one child at a time, switched at the milestones."""

    def __init__(self, children: list[Node], milestones: tuple[int, ...], base: np.ndarray):
        self.children, self.milestones, self.base, self.t = children, milestones, base, 0

    def construct(self, lr: np.ndarray, mom: Any) -> Pair:
        for child in self.children:
            lr, mom = child.construct(lr, mom)
        self.t = 0
        lr = self.base.copy()  # every group's lr back to its initial_lr
        self.undo()
        first = self.children[bisect.bisect_right(self.milestones, 0)]
        return first.initial_step(lr, mom)

    def undo(self) -> None:  # recursive_undo: the children's epochs, not this one's
        for child in self.children:
            child.undo()

    def step(self, lr: np.ndarray, mom: Any) -> Pair:
        self.t += 1
        i = bisect.bisect_right(self.milestones, self.t)
        child = self.children[i]
        if i > 0 and self.milestones[i - 1] == self.t:
            return child.restart(lr, mom)
        return child.step(lr, mom)

    initial_step = step  # torch's _initial_step calls step()


def shared_group_keys(leaves: Sequence[Any]) -> bool:
    """Whether some of the single schedules ``leaves`` reads param-group keys another writes.

    OneCycleLR keeps its lr bounds (``initial_lr``, ``max_lr``, ``min_lr``) and momentum
    bounds (``max_momentum``, ``base_momentum``) in the optimizer's param groups, where every
    OneCycleLR -- and every CyclicLR that cycles momentum -- writes its own at construction;
    each OneCycleLR reads whatever is there when it steps.
    """
    readers = [leaf for leaf in leaves if leaf._reads_group_keys]
    writers = [leaf for leaf in leaves if leaf._writes_group_keys]
    return bool(readers) and len(writers) > 1


def simulate(
    root: Any, n: int, groups: int, base: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, Any]:
    """lr (and momentum, None if nothing cycles it) after 0..n steps of torch's composite,
    whose groups hold ``start`` before the first child is built and ``base`` as their
    ``initial_lr`` once all are."""
    # Maps are written over every epoch at once, and some branches divide by zero at epochs
    # where np.where then selects the other branch.
    with np.errstate(divide="ignore", invalid="ignore"):
        node = root._node(n + 2, groups, base, Shared())
        lr, mom = node.construct(start.copy(), None)
        lrs, moms = [lr], [mom]
        for _ in range(n):
            lr, mom = node.step(lr, mom)
            lrs.append(lr)
            moms.append(mom)
    momentum = None if moms[-1] is None else np.stack([np.asarray(m, np.float64) for m in moms])
    return np.stack(lrs), momentum
