"""torch's stepping of composed schedulers, simulated exactly on the host.

Every torch ``get_lr`` is affine in the group's current lr: ``lr <- A * lr + B`` (decays
multiply, CosineAnnealingLR is affine, LambdaLR/CyclicLR/OneCycleLR/warm restarts set the lr
outright). Each schedule class gives its own maps (``Schedule._chain_maps``) and its own node
(``Schedule._node``); this module is the engine that runs them in float64, mirroring torch's
objects: each child's own epoch counter, its first ("initial") step, SequentialLR's reset of
the lr and ``recursive_undo``, its switch to the next child with ``_update_lr(0)`` (the closed
form where torch has one), ChainedScheduler stepping every child in list order. It knows no
schedule by name.

Cost. Steps are simulated a block at a time: every node turns a block of steps into columns
of affine maps (``Node.plan``: epochs, milestone switches and restarts worked out with
array operations, maps built for just the epochs the block reaches, which are handed to the
schedule's ``_chain_maps``), and the maps are applied in torch's order (``affine_chain``:
whole runs of decays in one NumPy call, other maps one at a time). The cost is linear in the
steps, and memory does not grow with them:
a ``Simulation`` keeps the simulation's state at block boundaries (checkpoints, thinned as
they grow) and the values of a few recent blocks, all within ``BUDGET`` bytes. A step
whose simulation applies more than ``MAX_MAPS`` updates, and tables (``horizon``, a
smoothing window) past half the budget, are refused (``check_steps``,
``check_table``): every host table, window and simulation of lrfun answers to these two.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

__all__ = [
    "BUDGET",
    "MAX_MAPS",
    "ChainMaps",
    "Chained",
    "Node",
    "Sequential",
    "Shared",
    "Simulation",
    "Single",
    "affine_chain",
    "check_steps",
    "check_table",
    "epoch_grid",
    "simulate",
]

Pair = tuple[Any, Any]
Slot = tuple[np.ndarray, np.ndarray, Any, Any]  # (a, b, momentum or None, written or None)

# Bytes a schedule may hold on the host: a simulation's checkpoints, its cached blocks and a
# ``horizon`` table (for jit/compile), together; one table alone (a horizon, a smoothing
# window) at most half of it. A block's temporaries are sized to a fraction of it too.
BUDGET = 64 << 20
# The most updates (one scheduler's map of one param group's lr, or one call of a user's
# factor) a host simulation applies to reach a step: it runs torch's stepping from step 0
# on, so the cost of a step grows with it. The slowest updates, maps with an offset applied
# one at a time (cosine annealing), take about 0.33 us each on 2 cores: about half a minute
# for the lot. Others (decays, lrs set outright, many param groups at once) are faster.
MAX_MAPS = 10**8
# Affine maps solved per block (steps x maps per step x groups): bounds the temporaries, and
# the maps of one step (a block is at least one step).
_BLOCK_MAPS = 1 << 18
# The cost of building one scheduler's maps for a block (NumPy calls on the block's epochs,
# about 130 us for a cosine), in updates: it dominates where many schedulers make short
# blocks (1,000 children: blocks of 256 steps).
_BLOCK_COST = 512
# Steps per block, at most.
_BLOCK_STEPS = 1 << 16
# Consecutive maps with no offset (decays) fewer than this are applied in the Python loop
# with the maps around them: a NumPy call on so few costs more than the loop.
_RUN = 32


def check_steps(
    last: int,
    simulation: Simulation,
    what: str,
    advice: str,
    per: str = "schedulers x param groups",
    name: str | None = None,
) -> None:
    """Refuses a step whose host simulation from step 0 costs more than ``MAX_MAPS``
    updates (``Simulation.cost``), and a simulation one step of which holds more maps
    than a block may: ``what`` names what is simulated, ``per`` what its updates a step
    are, ``advice`` what else to do; ``name`` the argument that asked for step ``last``
    (a ``horizon``), if one did."""
    maps = simulation.maps
    head = f"{what} is computed on the host step by step from step 0, {maps} update(s) a step"
    head += f" ({per})"
    if maps > _BLOCK_MAPS:
        raise ValueError(
            f"{head}: past the {_BLOCK_MAPS} one step may hold within lrfun's memory budget; "
            f"use fewer, or {advice}"
        )
    cost = simulation.cost(last)
    if cost > MAX_MAPS:
        asked, most = (
            (f"step {last}", "evaluate steps up to")
            if name is None
            else (f"{name}={last}", f"pass {name} <=")
        )
        raise ValueError(
            f"{head}: {asked} costs about {cost:.3g} updates, past lrfun's limit of "
            f"{MAX_MAPS:.0e} (about half a minute); {most} {simulation.most()}, or {advice}"
        )


def check_table(
    name: str, value: int, rows: int, row: int, what: str, advice: str | None = None
) -> None:
    """Refuses ``name=value`` where it makes a host table of ``rows`` rows of ``row`` float64
    values each past half of ``BUDGET`` bytes; ``what`` says what keeps the table,
    ``advice`` what else to do."""
    size = rows * row * 8
    if size > BUDGET // 2:
        most = value - rows + BUDGET // 2 // (row * 8)
        raise ValueError(
            f"{what}: {name}={value} needs a table of {size / 2**20:.0f} MiB, past half of "
            f"lrfun's {BUDGET >> 20} MiB budget for it (lrfun._chain.BUDGET); pass "
            f"{name} <= {most}" + (f", or {advice}" if advice else "")
        )


@dataclass(frozen=True)
class ChainMaps:
    """torch's update of one scheduler, as affine maps of the group's lr.

    A schedule's ``_chain_maps(epochs, groups, base)`` builds them for the own epochs
    ``epochs`` (int64, one row each, epoch 0 first: the first step's factor may be read from
    row 0), which the engine chooses: those a block of steps reaches.
    """

    a: np.ndarray  # (rows, G): the multiplier at own epoch e (a step that is not the first)
    b: np.ndarray  # (rows, G): the offset
    initial: Pair  # the first step (construction)
    # SequentialLR's _update_lr(0), or what computes it (the closed form at epoch 0, an
    # evaluation of the schedule: not repeated for every block, see ``restart``)
    at_restart: Pair | Callable[[], Pair]
    momentum: np.ndarray | None  # (rows, G): what a cycling child writes at own epoch e

    @cached_property
    def restart(self) -> Pair:
        """SequentialLR's ``_update_lr(0)``: the maps of a restart."""
        at = self.at_restart
        return at() if callable(at) else at

    @classmethod
    def absolute(cls, schedule: Any, epochs: np.ndarray, groups: int) -> ChainMaps:
        """A scheduler whose every step sets the lr to its closed form (and its momentum)."""
        values = _host(schedule(epochs), epochs.size, groups)
        momentum = None
        if schedule.cycles_momentum:
            momentum = _host(schedule.momentum(epochs), epochs.size, groups)
        first = (np.zeros(groups), values[0])
        return cls(np.zeros((epochs.size, groups)), values, first, first, momentum)

    @classmethod
    def factor(
        cls,
        schedule: Any,
        a: Any,
        epochs: np.ndarray,
        groups: int,
        *,
        initial: Any = 1.0,
        restart: Pair | Callable[[], Pair] | None = None,
        b: Any = 0.0,
    ) -> ChainMaps:
        """A scheduler that multiplies the lr by ``a[e]`` (plus ``b[e]``) at own epoch ``e``,
        for the own epochs ``epochs``; ``initial`` is its factor at construction and
        ``restart`` its ``_update_lr(0)`` (default: torch's closed form at epoch 0, which
        overwrites the lr)."""
        zeros = np.zeros(groups)
        rows = epochs.size

        def at_zero() -> Pair:
            return zeros, _host(schedule(np.arange(1)), 1, groups)[0]

        return cls(
            np.broadcast_to(np.asarray(a, dtype=np.float64), (rows, groups)).copy(),
            np.broadcast_to(np.asarray(b, dtype=np.float64), (rows, groups)).copy(),
            (np.broadcast_to(np.asarray(initial, dtype=np.float64), (groups,)), zeros),
            at_zero if restart is None else restart,
            None,
        )


def epoch_grid(epochs: np.ndarray, groups: int) -> np.ndarray:
    """The own epochs ``epochs`` as a float ``(rows, groups)`` array, for maps written in
    NumPy elementwise in them."""
    return epochs[:, None] * np.ones((1, groups))


def _host(values: Any, rows: int, groups: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return np.broadcast_to(v if v.ndim == 2 else v[:, None], (rows, groups)).copy()


class Shared:
    """Param-group keys some schedulers write at construction and read when they step
    (OneCycleLR's lr bounds, CyclicLR's and OneCycleLR's momentum bounds): which scheduler
    wrote each last."""

    def __init__(self) -> None:
        self.bounds: Any = None
        self.momenta: Any = None
        self.initial_lr: Any = None  # the groups' initial_lr (None: no scheduler built yet)


def _identity(steps: int, groups: int) -> Slot:
    return np.ones((steps, groups)), np.zeros((steps, groups)), None, None


class Node:
    """One torch scheduler object during the simulation (host state, not the schedule).

    ``construct`` and ``initial_step`` run once; then ``plan`` turns a block of steps into
    the affine maps torch applies, in order, and advances the node's state past them.
    """

    def construct(self, lr: np.ndarray, mom: Any) -> Pair:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError

    def initial_step(self, lr: np.ndarray, mom: Any) -> Pair:
        raise NotImplementedError

    def plan(self, kinds: np.ndarray, groups: int) -> list[Slot]:
        """The maps of a block of steps: ``kinds[i]`` is 0 where this node is not stepped
        (its slot is the identity), 1 for ``step()``, 2 for SequentialLR's restart. Each slot
        is one map per step (a ChainedScheduler has one per child, applied in order) with
        the momentum it writes where it writes one."""
        raise NotImplementedError

    def state(self) -> Any:
        """The node's counters (epochs, steps), for ``restore``."""
        raise NotImplementedError

    def restore(self, state: Any) -> None:
        raise NotImplementedError

    def step(self, lr: np.ndarray, mom: Any) -> Pair:
        """One step."""
        lrs, moms = run(self.plan(np.ones(1, dtype=np.int8), lr.size), lr, mom)
        return lrs[0], None if moms is None else moms[0]


class Single(Node):
    """A single scheduler: its maps at its own epoch.

    ``build(leaf, epochs)`` gives the maps of ``leaf`` (the schedule, or the schedule as it
    reads the groups) at the own epochs ``epochs``. Where the schedule reads param-group keys
    another scheduler may have written (``leaf._reads_group_keys``), its maps are rebuilt
    from ``leaf._read(shared)`` for whatever the groups hold when it steps.
    """

    def __init__(
        self, leaf: Any, shared: Shared, build: Callable[[Any, np.ndarray], ChainMaps]
    ) -> None:
        self.leaf, self.shared, self.build = leaf, shared, build
        self.maps, self.epoch = self._first_maps(leaf), -1
        self.cache: dict[Pair, ChainMaps] = {}

    def _build(self, leaf: Any, epochs: np.ndarray) -> ChainMaps:
        maps = self.build(leaf, epochs)
        if maps.a.shape[0] != epochs.size:
            raise ValueError(
                f"{type(leaf).__name__}._chain_maps gave {maps.a.shape[0]} rows of maps for "
                f"{epochs.size} epochs: one row per epoch asked is needed"
            )
        return maps

    def _first_maps(self, leaf: Any) -> ChainMaps:
        # epochs 0 and 1: what construction and the first step read
        return self._build(leaf, np.arange(2))

    def _source(self) -> Any:
        if not self.leaf._reads_group_keys:
            return self.leaf
        return self.leaf._read(self.shared)

    def _refresh(self) -> None:
        if not self.leaf._reads_group_keys:
            return
        key = (id(self.shared.bounds), id(self.shared.momenta))
        if key not in self.cache:
            self.cache[key] = self._first_maps(self._source())
        self.maps = self.cache[key]

    def _apply(self, ab: Pair, lr: np.ndarray, mom: Any) -> Pair:
        m = self.maps.momentum
        return ab[0] * lr + ab[1], (mom if m is None else m[min(self.epoch, len(m) - 1)])

    def construct(self, lr: np.ndarray, mom: Any) -> Pair:
        leaf, shared, first = self.leaf, self.shared, self.maps.initial
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

    def _maps_at(self, lo: int, hi: int) -> tuple[ChainMaps, int]:
        """Maps for own epochs ``lo..hi``, and the row of epoch ``lo`` in them."""
        # Epoch 0 first: the restart's maps, and a first factor read from it, live there.
        epochs = np.concatenate([[0], np.arange(lo, hi + 1)])
        return self._build(self._source(), epochs), 1

    def plan(self, kinds: np.ndarray, groups: int) -> list[Slot]:
        size = kinds.size
        stepped, restart = kinds == 1, kinds == 2
        if stepped.all():  # every step, no restart: consecutive epochs
            lo = self.epoch + 1
            self.epoch += size
            maps, row = self._maps_at(lo, self.epoch)
            a, b = maps.a[row : row + size], maps.b[row : row + size]
            if maps.momentum is None:
                return [(a, b, None, None)]
            return [(a, b, maps.momentum[row : row + size], stepped)]
        count = np.cumsum(stepped)
        epoch = self.epoch + count
        if restart.any():
            last = np.maximum.accumulate(np.where(restart, np.arange(size), -1))
            epoch = np.where(last >= 0, count - count[np.maximum(last, 0)], epoch)
        if not (stepped.any() or restart.any()):
            return [_identity(size, groups)]
        self.epoch = int(epoch[-1])
        lo = int(epoch[stepped].min()) if stepped.any() else 0
        hi = int(epoch[stepped].max()) if stepped.any() else 0
        maps, row = self._maps_at(lo, hi)
        index = np.where(stepped, epoch - lo + row, 0)
        ra, rb = (np.broadcast_to(np.asarray(v, dtype=np.float64), (groups,)) for v in maps.restart)
        s, r = stepped[:, None], restart[:, None]
        a = np.where(s, maps.a[index], np.where(r, ra, 1.0))
        b = np.where(s, maps.b[index], np.where(r, rb, 0.0))
        if maps.momentum is None:
            return [(a, b, None, None)]
        m = maps.momentum
        mom = np.where(s, m[index], m[0])
        return [(a, b, mom, kinds != 0)]

    def state(self) -> Any:
        return self.epoch

    def restore(self, state: Any) -> None:
        self.epoch = state


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

    def plan(self, kinds: np.ndarray, groups: int) -> list[Slot]:
        return [slot for child in self.children for slot in child.plan(kinds, groups)]

    def state(self) -> Any:
        return tuple(child.state() for child in self.children)

    def restore(self, state: Any) -> None:
        for child, own in zip(self.children, state, strict=True):
            child.restore(own)

    # torch's _initial_step on a ChainedScheduler is a plain step(): the children do not see
    # the initial flag.
    def initial_step(self, lr: np.ndarray, mom: Any) -> Pair:
        return self.step(lr, mom)


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

    def plan(self, kinds: np.ndarray, groups: int) -> list[Slot]:
        # A SequentialLR is stepped, never restarted (torch cannot restart a composite).
        stepped = kinds != 0
        t = self.t + np.cumsum(stepped)
        self.t = int(t[-1])
        active = np.searchsorted(np.asarray(self.milestones, dtype=np.int64), t, side="right")
        plans = []
        for i, child in enumerate(self.children):
            mine = stepped & (active == i)
            if not mine.any():
                continue
            switch = i > 0 and mine & (t == self.milestones[i - 1])
            plans.append((mine, child.plan(np.where(switch, 2, mine.astype(np.int8)), groups)))
        if len(plans) <= 1:
            return plans[0][1] if plans else [_identity(kinds.size, groups)]
        width = max(len(slots) for _, slots in plans)
        out = []
        for j in range(width):
            a, b, m, w = *_identity(kinds.size, groups)[:2], None, None
            for mine, slots in plans:
                if j >= len(slots):
                    continue
                ca, cb, cm, cw = slots[j]
                a = np.where(mine[:, None], ca, a)
                b = np.where(mine[:, None], cb, b)
                if cm is not None:
                    m = np.where(mine[:, None], cm, np.zeros_like(cm) if m is None else m)
                    w = (mine & cw) | (np.zeros_like(cw) if w is None else w)
            out.append((a, b, m, w))
        return out

    def state(self) -> Any:
        return self.t, tuple(child.state() for child in self.children)

    def restore(self, state: Any) -> None:
        self.t = state[0]
        for child, own in zip(self.children, state[1], strict=True):
            child.restore(own)

    def initial_step(self, lr: np.ndarray, mom: Any) -> Pair:  # torch's calls step()
        return self.step(lr, mom)


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


def affine_chain(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x_k = a[k] * x_{k-1} + b[k]`` for every k, from ``x_{-1} = x`` (arrays ``(K, G)``),
    in torch's order: each map applied to the value the one before it left, rounded as torch
    rounds it.

    A recurrence with offsets has no exact vectorised form, so those maps are applied in a
    Python loop. A run of maps with no offset (decays, which torch applies as ``lr * factor``)
    is one ``np.multiply.accumulate``: it multiplies in that same order, one product at a
    time, so its values are the loop's to the bit (a zero lr may keep a negative sign there,
    which the loop's ``+ 0.0`` drops).

    Many groups are taken together, a map at a time for all of them (``_by_rows``): the
    same operations on the same values.
    """
    if a.shape[1] >= _WIDE:
        return _by_rows(x, a, b)
    out = np.empty_like(a)
    for g in range(a.shape[1]):
        ag, bg, column = a[:, g], b[:, g], out[:, g]
        value, done = float(x[g]), 0
        for lo, hi in _product_runs(bg):
            value = _one_by_one(value, ag[done:lo], bg[done:lo], column[done:lo])
            # as silent as the loop's Python floats, which overflow to inf without a word
            with np.errstate(all="ignore"):
                products = np.multiply.accumulate(np.concatenate([[value], ag[lo:hi]]))
            column[lo:hi] = products[1:]
            value, done = float(column[hi - 1]), hi
        _one_by_one(value, ag[done:], bg[done:], column[done:])
    return out


# Groups from which the maps are applied to all groups at once: a NumPy operation on this
# many costs about what the Python loop spends on them one by one.
_WIDE = 8


def _by_rows(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``affine_chain`` for many groups: each map applied to every group at once, by
    NumPy's elementwise products and sums (rounded as Python's floats are), and runs of maps
    with no offset in any group in one ``np.multiply.accumulate``."""
    out = np.empty_like(a)
    value = np.array(x, dtype=np.float64)
    done = 0
    # as silent as the loop's Python floats
    with np.errstate(all="ignore"):
        for lo, hi in [*_product_runs((b != 0).any(axis=1).astype(np.float64)), (len(a), len(a))]:
            for k in range(done, lo):
                value = a[k] * value + b[k]
                out[k] = value
            if hi > lo:
                products = np.multiply.accumulate(np.concatenate([value[None], a[lo:hi]]))
                out[lo:hi] = products[1:]
                value = out[hi - 1].copy()
            done = hi
    return out


def _product_runs(b: np.ndarray) -> list[tuple[int, int]]:
    """The runs ``[lo, hi)`` of at least ``_RUN`` consecutive maps with no offset."""
    plain = np.concatenate([[0], (b == 0).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(plain))
    lo, hi = edges[0::2], edges[1::2]
    keep = hi - lo >= _RUN
    return list(zip(lo[keep].tolist(), hi[keep].tolist(), strict=True))


def _one_by_one(value: float, a: np.ndarray, b: np.ndarray, into: np.ndarray) -> float:
    """Applies the maps ``(a, b)`` to ``value`` in order, writing each result ``into``;
    returns the last."""
    values = []
    for ak, bk in zip(a.tolist(), b.tolist(), strict=True):
        value = ak * value + bk
        values.append(value)
    into[:] = values
    return value


def run(slots: list[Slot], lr: np.ndarray, mom: Any) -> Pair:
    """The lr ``(S, G)`` and momentum (``(S, G)``, or None while nothing cycles it) after
    each step of a block planned as ``slots``, from ``lr`` and ``mom`` before it."""
    size, groups = slots[0][0].shape
    width = len(slots)
    last = np.full(size, -1)
    for j, slot in enumerate(slots):  # the last map of each step that sets the lr outright
        last = np.where((slot[0] == 0).all(axis=1), j, last)
    if (last >= 0).all() and np.isfinite(lr).all():
        # Every step sets the lr outright (a CyclicLR, a LambdaLR...): each step's lr is the
        # maps from its last such one on, applied in torch's order.
        lrs = np.zeros((size, groups))
        for j, (a, b, _, _) in enumerate(slots):
            after, at = (last < j)[:, None], (last == j)[:, None]
            lrs = np.where(after, a * lrs + b, np.where(at, b, lrs))
    else:
        a = np.stack([s[0] for s in slots], axis=1).reshape(size * width, groups)
        b = np.stack([s[1] for s in slots], axis=1).reshape(size * width, groups)
        lrs = affine_chain(lr, a, b).reshape(size, width, groups)[:, -1]
    written = [s for s in slots if s[2] is not None]
    if not written:
        return lrs, None if mom is None else np.broadcast_to(mom, (size, groups)).copy()
    value = np.full((size, groups), np.nan)
    has = np.zeros(size, dtype=bool)
    for _, _, m, w in written:  # the last write of each step wins
        value = np.where(w[:, None], m, value)
        has |= w
    last = np.maximum.accumulate(np.where(has, np.arange(size), -1))
    before = np.full(groups, np.nan) if mom is None else np.asarray(mom, dtype=np.float64)
    moms = np.where((last >= 0)[:, None], value[np.maximum(last, 0)], before)
    return lrs, moms


class Simulation:
    """torch's stepping of one composite, evaluated at any steps in blocks.

    Keeps the state at block boundaries (checkpoints: every ``stride``-th block, the stride
    doubling as they grow) and the values of recently asked blocks, within ``BUDGET``.
    A block is simulated from the nearest checkpoint before it.
    """

    def __init__(self, root: Any, groups: int, base: np.ndarray, start: np.ndarray) -> None:
        self.arguments = (root, groups, base, start)
        self.groups, self.lock = groups, threading.Lock()
        # Maps are written over every epoch at once, and some branches divide by zero at
        # epochs where np.where then selects the other branch.
        with np.errstate(divide="ignore", invalid="ignore"):
            self.node = root._node(groups, base, Shared())
            lr, mom = self.node.construct(start.copy(), None)
        self.momentum = mom is not None or self._cycles(self.node)
        width = self._width(self.node)
        # Single schedulers, and updates a step (upper bounds): what the cost counts.
        self.width, self.maps = width, width * groups
        # As many steps as the bounds on temporaries and held bytes allow, one at least (very
        # many groups: check_steps refuses a step of more maps than a block holds).
        self.block = 1
        while self.block < _BLOCK_STEPS and 2 * self.block * width * groups <= _BLOCK_MAPS:
            if 2 * self._block_bytes(2 * self.block) > BUDGET // 4:
                break
            self.block *= 2
        self.stride = 1
        self.checkpoints: dict[int, Any] = {0: self._save(lr, mom)}
        self.blocks: OrderedDict[int, Pair] = OrderedDict()
        self.table: Pair | None = None  # a horizon table: steps 0..n

    @staticmethod
    def _cycles(node: Node) -> bool:
        leaf = getattr(node, "leaf", None)
        if leaf is not None:
            return bool(leaf.cycles_momentum)
        return any(Simulation._cycles(c) for c in getattr(node, "children", ()))

    def __getstate__(self) -> Any:  # a copy starts afresh (nodes hold functions)
        return self.arguments

    def __setstate__(self, arguments: Any) -> None:
        self.__init__(*arguments)  # type: ignore[misc]

    @staticmethod
    def _width(node: Node) -> int:
        """An upper bound on the maps per step: the single schedulers."""
        children = getattr(node, "children", None)
        return 1 if children is None else sum(Simulation._width(c) for c in children)

    def cost(self, last: int) -> int:
        """The work of simulating steps ``0..last``, in updates: ``maps`` a step, and
        ``_BLOCK_COST`` for every single scheduler in every block (its maps built)."""
        return (last + 1) * self.maps + (last // self.block + 1) * self.width * _BLOCK_COST

    def most(self) -> int:
        """The last step whose ``cost`` is within ``MAX_MAPS``."""
        fixed = self.width * _BLOCK_COST
        per_step = self.maps + fixed / self.block
        # cost(n) <= per_step * n + maps + fixed, so this n keeps it within MAX_MAPS.
        return max(0, int((MAX_MAPS - fixed - self.maps) / per_step))

    def _save(self, lr: np.ndarray, mom: Any) -> Any:
        return self.node.state(), lr.copy(), None if mom is None else np.array(mom, np.float64)

    def _block_bytes(self, steps: int) -> int:
        return steps * self.groups * 8 * (2 if self.momentum else 1)

    def _limits(self) -> tuple[int, int]:
        """The most checkpoints and cached blocks the budget allows: a quarter of it each
        (a horizon table may take half: ``check_table``). Two checkpoints and one block
        at least, which the most maps a step (``_BLOCK_MAPS``) keeps within it."""
        each = 2 * self.groups * 8 + 64 * 8  # two (G,) arrays and the counters, roughly
        return max(2, BUDGET // 4 // each), max(1, BUDGET // 4 // self._block_bytes(self.block))

    def nbytes(self) -> int:
        """Bytes held: checkpoints, cached blocks and the horizon table."""
        arrays = [v for _, lr, mom in self.checkpoints.values() for v in (lr, mom)]
        arrays += [v for pair in self.blocks.values() for v in pair]
        arrays += list(self.table or ())
        return sum(v.nbytes for v in arrays if v is not None)

    def _simulate(self, k: int) -> Pair:
        """Values of block ``k`` (steps ``k * block`` on), simulated from a checkpoint."""
        start = max(j for j in self.checkpoints if j <= k)
        state, lr, mom = self.checkpoints[start]
        self.node.restore(state)
        steps = np.ones(self.block, dtype=np.int8)
        with np.errstate(divide="ignore", invalid="ignore"):
            for j in range(start, k + 1):
                lrs, moms = run(self.node.plan(steps, self.groups), lr, mom)
                values = (
                    np.concatenate([lr[None], lrs[:-1]]),
                    None if moms is None else np.concatenate([_row(mom, self.groups), moms[:-1]]),
                )
                lr, mom = lrs[-1], None if moms is None else moms[-1]
                if (j + 1) % self.stride == 0 and j + 1 not in self.checkpoints:
                    self.checkpoints[j + 1] = self._save(lr, mom)
                    self._thin()
        return values

    def _thin(self) -> None:
        most, _ = self._limits()
        while len(self.checkpoints) > most:
            self.stride *= 2
            self.checkpoints = {j: c for j, c in self.checkpoints.items() if j % self.stride == 0}

    def _block(self, k: int) -> Pair:
        if k in self.blocks:
            self.blocks.move_to_end(k)
            return self.blocks[k]
        values = self._simulate(k)
        self.blocks[k] = values
        while len(self.blocks) > self._limits()[1]:
            self.blocks.popitem(last=False)
        return values

    def values(self, steps: np.ndarray) -> Pair:
        """lr ``(len, G)`` and momentum (or None) at the sorted, distinct ``steps``."""
        with self.lock:
            return self._values(steps)

    def _values(self, steps: np.ndarray) -> Pair:
        lr = np.empty((steps.size, self.groups))
        mom = np.empty((steps.size, self.groups)) if self.momentum else None
        which = steps // self.block
        bounds = np.flatnonzero(np.diff(which)) + 1
        for part in np.split(np.arange(steps.size), bounds):
            if part.size == 0:
                continue
            k = int(which[part[0]])
            lrs, moms = self._block(k)
            offsets = steps[part] - k * self.block
            lr[part] = lrs[offsets]
            if mom is not None:
                mom[part] = np.nan if moms is None else moms[offsets]
        return lr, mom

    def upto(self, n: int) -> Pair:
        """The table of steps ``0..n`` (a horizon table, kept)."""
        # A table is replaced whole, never changed: one that holds n is read without the
        # lock (which torch.compile cannot trace).
        table = self.table
        if table is not None and table[0].shape[0] > n:
            return table
        with self.lock:
            if self.table is None or self.table[0].shape[0] <= n:
                self.table = self._values(np.arange(n + 1))
            return self.table


def _row(mom: Any, groups: int) -> np.ndarray:
    if mom is None:
        return np.full((1, groups), np.nan)
    return np.asarray(mom, dtype=np.float64)[None]


def simulate(
    root: Any, n: int, groups: int, base: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, Any]:
    """lr (and momentum, None if nothing cycles it) after 0..n steps of torch's composite,
    whose groups hold ``start`` before the first child is built and ``base`` as their
    ``initial_lr`` once all are."""
    return Simulation(root, groups, base, start).values(np.arange(n + 1))
