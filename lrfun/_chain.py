"""torch's stepping of composed schedulers, simulated exactly on the host.

Every torch ``get_lr`` is affine in the group's current lr: ``lr <- A * lr + B`` (decays
multiply, CosineAnnealingLR is affine, LambdaLR/CyclicLR/OneCycleLR/warm restarts set the lr
outright). A composite's trajectory is therefore a recurrence over steps that this module runs
in float64, mirroring torch's objects: each child's own epoch counter, its first ("initial")
step, SequentialLR's reset of the lr and ``recursive_undo``, its switch to the next child with
``_update_lr(0)`` (the closed form where torch has one), ChainedScheduler stepping every child
in list order. Cost: O(steps x children), once per horizon (the caller caches the table).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["shared_group_keys", "simulate"]


@dataclass
class _Maps:
    a: np.ndarray  # (n + 1, G): the multiplier at own epoch e (a step that is not the first)
    b: np.ndarray  # (n + 1, G): the offset
    initial: tuple[np.ndarray, np.ndarray]  # the first step (construction)
    restart: tuple[np.ndarray, np.ndarray]  # SequentialLR's _update_lr(0)
    momentum: np.ndarray | None  # (n + 1, G): what a cycling child writes at own epoch e


def _host(values: Any, n: int, groups: int) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return np.broadcast_to(v if v.ndim == 2 else v[:, None], (n + 1, groups)).copy()


def _fns(s: Any, groups: int) -> list[Any]:
    fns = s.lr_lambda
    return list(fns) if isinstance(fns, tuple) else [fns] * groups


def _maps(s: Any, n: int, groups: int, base: np.ndarray) -> _Maps:
    name = type(s).__name__
    e = np.arange(n + 1)[:, None] * np.ones((1, groups))
    one, zero = np.ones((n + 1, groups)), np.zeros((n + 1, groups))
    ones, zeros = np.ones(groups), np.zeros(groups)
    values = _host(s(np.arange(n + 1)), n, groups)
    momentum = _host(s.momentum(np.arange(n + 1)), n, groups) if s.cycles_momentum else None
    absolute = (zero, values, (zeros, values[0]), (zeros, values[0]), momentum)
    if name in ("LambdaLR", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR"):
        return _Maps(*absolute)
    restart = (zeros, values[0])  # _update_lr(0) with torch's closed form at epoch 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "MultiplicativeLR":
            f = np.array([[float(fn(k)) for fn in _fns(s, groups)] for k in range(n + 1)])
            return _Maps(f, zero, (ones, zeros), (f[0], zeros), None)
        if name == "StepLR":
            a = np.where((e != 0) & (e % s.step_size == 0), s.gamma, 1.0)
            return _Maps(a, zero, (ones, zeros), restart, None)
        if name == "MultiStepLR":
            counts = np.array([s.milestones.count(k) for k in range(n + 1)], dtype=np.float64)
            a = np.broadcast_to(s.gamma ** counts[:, None], (n + 1, groups)).copy()
            return _Maps(a, zero, (a[0], zeros), restart, None)
        if name == "ConstantLR":
            a = np.where(e == 0, s.factor, np.where(e == s.total_iters, 1.0 / s.factor, 1.0))
            # torch's closed form at epoch 0: base when total_iters is 0, not base * factor
            restart = (zeros, base * (s.factor + (s.total_iters == 0) * (1 - s.factor)))
            return _Maps(a, zero, (a[0], zeros), restart, None)
        if name == "LinearLR":
            T, lo, hi = s.total_iters, s.start_factor, s.end_factor
            ramp = 1.0 + (hi - lo) / (T * lo + (e - 1) * (hi - lo))
            a = np.where(e == 0, lo, np.where(e > T, 1.0, ramp))
            return _Maps(a, zero, (a[0], zeros), restart, None)
        if name == "ExponentialLR":
            return _Maps(one * s.gamma, zero, (ones, zeros), restart, None)
        if name == "PolynomialLR":
            T = s.total_iters
            ratio = ((1.0 - e / T) / (1.0 - (e - 1) / T)) ** s.power
            return _Maps(np.where(e > T, 1.0, ratio), zero, (ones, zeros), restart, None)
        if name == "CosineAnnealingLR":
            T, eta = s.T_max, s.eta_min
            trough = (e - 1 - T) % (2 * T) == 0
            r = (1 + np.cos(math.pi * e / T)) / (1 + np.cos(math.pi * (e - 1) / T))
            lift = (base - eta) * (1 - math.cos(math.pi / T)) / 2
            a = np.where(trough, 1.0, r)
            b = np.where(trough, lift, eta * (1.0 - np.where(trough, 0.0, r)))
            return _Maps(a, b, (ones, zeros), restart, None)
    raise TypeError(f"{name} cannot be a child of a composite schedule")


class _Node:
    """One torch scheduler object during the simulation (host state, not the schedule)."""

    def construct(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError

    def initial_step(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def step(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def restart(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        raise NotImplementedError


class _Group:
    """The param-group keys OneCycleLR reads back (see :func:`shared_group_keys`): which
    construction wrote the lr bounds and the momentum bounds last."""

    def __init__(self) -> None:
        self.bounds: Any = None
        self.momenta: Any = None


class _Single(_Node):
    def __init__(self, maps: _Maps) -> None:
        self.maps, self.epoch = maps, -1

    def _apply(self, ab: tuple[Any, Any], lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        m = self.maps.momentum
        return ab[0] * lr + ab[1], (mom if m is None else m[min(self.epoch, len(m) - 1)])

    def _at(self) -> tuple[Any, Any]:
        e = min(self.epoch, len(self.maps.a) - 1)
        return self.maps.a[e], self.maps.b[e]

    def construct(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        self.epoch = 0
        return self._apply(self.maps.initial, lr, mom)

    def undo(self) -> None:
        self.epoch -= 1

    def initial_step(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        self.epoch += 1
        return self._apply(self.maps.initial, lr, mom)

    def step(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        self.epoch += 1
        return self._apply(self._at(), lr, mom)

    def restart(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        self.epoch = 0
        return self._apply(self.maps.restart, lr, mom)


class _OneCycle(_Single):
    """A OneCycleLR child: its maps follow whatever bounds the param groups hold now."""

    def __init__(self, leaf: Any, group: _Group, build: Any) -> None:
        self.leaf, self.group, self.build, self.cache = leaf, group, build, {}
        super().__init__(build(leaf))

    def _refresh(self) -> None:
        key = (id(self.group.bounds), id(self.group.momenta))
        if key not in self.cache:
            self.cache[key] = self.build(_as_read(self.leaf, self.group))
        self.maps = self.cache[key]

    def construct(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        self.group.bounds = self.leaf
        if self.leaf.cycle_momentum:
            self.group.momenta = self.leaf
        self._refresh()
        return super().construct(lr, mom)

    def initial_step(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        self._refresh()
        return super().initial_step(lr, mom)

    def step(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        self._refresh()
        return super().step(lr, mom)

    def restart(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        self._refresh()
        return super().restart(lr, mom)


class _CyclicMomentum(_Single):
    """A CyclicLR that cycles momentum: it writes the momentum bounds at construction."""

    def __init__(self, leaf: Any, group: _Group, maps: _Maps) -> None:
        self.leaf, self.group = leaf, group
        super().__init__(maps)

    def construct(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        self.group.momenta = self.leaf
        return super().construct(lr, mom)


class _Chained(_Node):
    def __init__(self, children: list[_Node]) -> None:
        self.children = children

    def construct(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        for child in self.children:
            lr, mom = child.construct(lr, mom)
        return lr, mom

    def undo(self) -> None:
        for child in self.children:
            child.undo()

    def step(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        for child in self.children:
            lr, mom = child.step(lr, mom)
        return lr, mom

    # torch's _initial_step on a ChainedScheduler is a plain step(): the children do not see
    # the initial flag.
    initial_step = step


class _Sequential(_Node):
    def __init__(self, children: list[_Node], milestones: tuple[int, ...], base: np.ndarray):
        self.children, self.milestones, self.base, self.t = children, milestones, base, 0

    def construct(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
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

    def step(self, lr: np.ndarray, mom: Any) -> tuple[np.ndarray, Any]:
        self.t += 1
        i = bisect.bisect_right(self.milestones, self.t)
        child = self.children[i]
        if i > 0 and self.milestones[i - 1] == self.t:
            return child.restart(lr, mom)
        return child.step(lr, mom)

    initial_step = step  # torch's _initial_step calls step()


def _leaves(s: Any) -> list[Any]:
    """Single schedules in construction order (torch builds children before parents)."""
    if type(s).__name__ in ("SequentialLR", "ChainedScheduler"):
        return [leaf for child in s.schedulers for leaf in _leaves(child)]
    return [s]


def _as_read(leaf: Any, group: Any) -> Any:
    """A OneCycleLR with the bounds the param groups hold (``group.bounds``: the OneCycleLR
    that wrote ``initial_lr``/``max_lr``/``min_lr`` last; ``group.momenta``: the cycling child
    that wrote ``max_momentum``/``base_momentum`` last)."""
    changes: dict[str, Any] = {}
    bounds, momenta = group.bounds, group.momenta
    if bounds is not None and bounds is not leaf:
        changes.update(
            max_lr=bounds.max_lr,
            div_factor=bounds.div_factor,
            final_div_factor=bounds.final_div_factor,
        )
    if leaf.cycle_momentum and momenta is not None and momenta is not leaf:
        changes.update(base_momentum=momenta.base_momentum, max_momentum=momenta.max_momentum)
    return dataclasses.replace(leaf, **changes) if changes else leaf


def shared_group_keys(root: Any) -> bool:
    """Whether some OneCycleLR in ``root`` reads bounds another child wrote.

    OneCycleLR keeps its lr bounds (``initial_lr``, ``max_lr``, ``min_lr``) and momentum
    bounds (``max_momentum``, ``base_momentum``) in the optimizer's param groups, where every
    OneCycleLR -- and every CyclicLR that cycles momentum -- writes its own at construction;
    each OneCycleLR reads whatever is there when it steps.
    """
    leaves = _leaves(root)
    one_cycles = [leaf for leaf in leaves if type(leaf).__name__ == "OneCycleLR"]
    writers = [
        leaf
        for leaf in leaves
        if type(leaf).__name__ in ("OneCycleLR", "CyclicLR")
        and (type(leaf).__name__ == "OneCycleLR" or leaf.cycle_momentum)
    ]
    return bool(one_cycles) and len(writers) > 1


def _tree(s: Any, n: int, groups: int, base: np.ndarray, group: _Group) -> _Node:
    name = type(s).__name__
    if name == "SequentialLR":
        children = [_tree(c, n, groups, base, group) for c in s.schedulers]
        return _Sequential(children, s.milestones, base)
    if name == "ChainedScheduler":
        return _Chained([_tree(c, n, groups, base, group) for c in s.schedulers])
    if name == "OneCycleLR":
        return _OneCycle(s, group, lambda leaf: _maps(leaf, n + 2, groups, base))
    if name == "CyclicLR" and s.cycle_momentum:
        return _CyclicMomentum(s, group, _maps(s, n + 2, groups, base))
    return _Single(_maps(s, n + 2, groups, base))


def simulate(s: Any, n: int, groups: int, base: np.ndarray) -> tuple[np.ndarray, Any]:
    """lr (and momentum, None if nothing cycles it) after 0..n steps of torch's composite."""
    root = _tree(s, n, groups, base, _Group())
    lr, mom = root.construct(base.copy(), None)
    lrs, moms = [lr], [mom]
    for _ in range(n):
        lr, mom = root.step(lr, mom)
        lrs.append(lr)
        moms.append(mom)
    momentum = None if moms[-1] is None else np.stack([np.asarray(m, np.float64) for m in moms])
    return np.stack(lrs), momentum
