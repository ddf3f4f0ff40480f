"""transformers' GreedyLR as a pure state machine: ``init``, ``update(state, metric)``, ``lr``.

``transformers.optimization.GreedyLR`` (``get_scheduler("greedy", ...)``) raises the lr after
a run of improvements and cuts it after a plateau, and resets itself after lingering at the
floor. Here it is a ``Machine`` beside ReduceLROnPlateau: the state is a
NamedTuple of arrays, each update is ``where``-selection (jittable, no Python branch on
values), and in float64 every decision and every lr is transformers' own.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from lrfun import _validate as check
from lrfun._backend import Ctx
from lrfun._chain import check_table
from lrfun._hf import transformers_optimization
from lrfun._plateau import Machine, _per_group_lr
from lrfun._reference import LiveScheduler, assign_lr
from lrfun._schedule import per_group
from lrfun._validate import BEST, COUNT, COUNTER_MAX, LR, MAX_STEP, METRICS, FieldSpec

__all__ = ["GreedyLR", "GreedyState"]


class GreedyState(NamedTuple):
    """The state of a [``GreedyLR``][lrfun.hf.GreedyLR] machine (a pytree of arrays)."""

    lr: Any  # the lr now: shape () or (groups,)
    best: Any  # the best metric seen (+inf in min mode, -inf in max mode before any)
    num_bad_epochs: Any  # updates since the last improvement
    num_good_epochs: Any  # improvements in a row
    cooldown_counter: Any  # updates of cooldown (after a cut) left
    warmup_counter: Any  # updates of warmup (after a raise) left
    reset_start: Any  # cuts at the floor left before the reset (transformers' reset_start)
    last_epoch: Any  # updates so far
    window: Any  # the smoothing window, a ring buffer: shape (window_size,) (or (0,))
    window_count: Any  # values the window holds
    window_head: Any  # where the next value goes (the oldest value, once full)
    window_sum: Any  # the running sum, kept as transformers keeps it: += new, -= removed


@dataclasses.dataclass(frozen=True)
class GreedyLR(Machine[GreedyState]):
    """transformers' GreedyLR: raises the lr while a metric keeps improving, cuts it on a
    plateau, transformers' decisions exactly.

    Each ``update(state, metric)`` is one ``scheduler.step(metric)``. With ``smooth`` the
    metric is first replaced by the mean of the last ``window_size`` metrics (a running sum:
    ``sum += metric``, then ``sum -= oldest`` once the window is full; ``mean = sum / n``).
    During cooldown (after a cut) and then warmup (after a raise) the update only counts
    down. Otherwise the metric improves on the best when ``metric < best * (1 - threshold)``
    (min, rel), ``metric < best - threshold`` (min, abs), ``metric > best * (1 + threshold)``
    (max, rel) or ``metric > best + threshold`` (max, abs): an improvement adds a good epoch
    and clears the bad ones, anything else the reverse. Then:

    * more than ``patience`` good epochs: every group's lr becomes ``min(lr / factor,
      max_lr)`` where that raises it by more than ``eps``; warmup starts, the reset
      countdown restarts at ``reset_start``;
    * more than ``patience`` bad epochs: every group's lr becomes ``max(lr * factor, min_lr)``
      where that cuts it by more than ``eps``; cooldown starts. When every group is then at
      or below its ``min_lr`` the reset countdown goes down by one, and at 0 the machine
      resets: lrs back to ``base_lr``, best, counters and the window cleared (then cooldown
      starts, as transformers sets it after the reset).

    All of it is ``where``-selection: jittable, no Python branch on values.

    transformers behaviours reproduced: a NaN metric never improves (a bad epoch), and once
    in a smoothing window it makes every later mean NaN (the running sum stays NaN after the
    value leaves: ``nan - nan``); +inf and -inf in a window give NaN the same way once one
    leaves; an lr below ``min_lr`` at the start is never cut, but counts as at the floor.

    Args:
      base_lr: the optimizer's lr at construction, which a reset returns to (a sequence: one
        per param group).
      mode: ``'min'`` or ``'max'``.
      factor: the cut and (divided by) the raise, in (0, 1).
      patience: good or bad epochs tolerated, an integer in [0, 2**31 - 2].
      threshold: the least improvement that counts, a finite number >= 0.
      threshold_mode: ``'rel'`` or ``'abs'``.
      cooldown: updates to wait after a cut, an integer in [0, 2**31 - 2].
      warmup: updates to wait after a raise, an integer in [0, 2**31 - 2].
      min_lr: the floor (a sequence: one per param group), >= 0.
      max_lr: the ceiling (a sequence: one per param group), >= 0.
      eps: changes of at most this much are skipped, >= 0.
      smooth: whether decisions see the window's mean rather than the metric.
      window_size: the smoothing window, an integer in [1, 2**31 - 2]; with ``smooth``, at
        most 2**22 (the window, kept in the state, within half of lrfun's host budget).
      reset_start: cuts at the floor before the reset, an integer in [0, 2**31 - 2].
      current_lr: (keyword, like the nine below) where a stepped transformers scheduler
        stands, for ``init`` to start there (``lrfun.from_torch`` reads them); by
        default a fresh scheduler's. Its group lrs.
      best: its best metric.
      num_bad_epochs: its bad epochs in a row.
      num_good_epochs: its good epochs in a row.
      cooldown_counter: its updates of cooldown left.
      warmup_counter: its updates of warmup left.
      reset_countdown: its ``reset_start`` attribute: cuts at the floor left before a reset.
      last_epoch: its updates so far.
      window_values: its streaming average's values, oldest first.
      window_sum: its streaming average's running sum.

    >>> g = GreedyLR(0.1, patience=1, factor=0.5)
    >>> s = g.init()
    >>> for metric in [3.0, 2.0, 1.0]:
    ...     s = g.update(s, metric)
    >>> float(g.lr(s))
    0.2
    >>> for metric in [1.0, 1.0]:
    ...     s = g.update(s, metric)
    >>> float(g.lr(s))
    0.1
    """

    base_lr: float | Sequence[float]
    mode: str = "min"
    factor: float = 0.95
    patience: int = 10
    threshold: float = 1e-6
    threshold_mode: str = "abs"
    cooldown: int = 0
    warmup: int = 0
    min_lr: float | Sequence[float] = 1e-3
    max_lr: float | Sequence[float] = 1.0
    eps: float = 1e-8
    smooth: bool = False
    window_size: int = 50
    reset_start: int = 500
    # Where a stepped transformers scheduler left off (_from_torch reads them): init() starts
    # there.
    current_lr: float | Sequence[float] | None = dataclasses.field(default=None, kw_only=True)
    best: float | None = dataclasses.field(default=None, kw_only=True)
    num_bad_epochs: int | None = dataclasses.field(default=None, kw_only=True)
    num_good_epochs: int | None = dataclasses.field(default=None, kw_only=True)
    cooldown_counter: int | None = dataclasses.field(default=None, kw_only=True)
    warmup_counter: int | None = dataclasses.field(default=None, kw_only=True)
    reset_countdown: int | None = dataclasses.field(default=None, kw_only=True)
    last_epoch: int | None = dataclasses.field(default=None, kw_only=True)
    window_values: Sequence[float] | None = dataclasses.field(default=None, kw_only=True)
    window_sum: float | None = dataclasses.field(default=None, kw_only=True)

    state_type = GreedyState
    _reference = LiveScheduler("transformers", "transformers.optimization.GreedyLR")
    _lr_arguments = ("base_lr", "min_lr", "max_lr")
    _namespace = "hf."  # configs and reprs name it hf.GreedyLR, as transformers' schedules
    _hyperparameters = ("base_lr", "factor", "threshold", "min_lr", "max_lr", "eps")
    _gallery = ("hf.GreedyLR(0.1, patience=3, min_lr=0.005, max_lr=0.2)", 150)

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        min_lr = check.lr_values("min_lr", self.min_lr)
        max_lr = check.lr_values("max_lr", self.max_lr)
        counter: dict[str, Any] = dict(minimum=0, maximum=COUNTER_MAX)
        self._set(
            base_lr=base_lr,
            min_lr=min_lr,
            max_lr=max_lr,
            mode=check.choice("mode", self.mode, ("min", "max")),
            # not 0: the first raise divides by it
            factor=check.factor("factor", self.factor),
            patience=check.integer("patience", self.patience, **counter),
            threshold=check.real("threshold", self.threshold, low=0.0),
            threshold_mode=check.choice("threshold_mode", self.threshold_mode, ("rel", "abs")),
            cooldown=check.integer("cooldown", self.cooldown, **counter),
            warmup=check.integer("warmup", self.warmup, **counter),
            eps=check.real("eps", self.eps, low=0.0),
            smooth=check.boolean("smooth", self.smooth),
            window_size=check.integer(
                "window_size", self.window_size, minimum=1, maximum=COUNTER_MAX
            ),
            reset_start=check.integer("reset_start", self.reset_start, **counter),
        )
        if self.smooth:  # the state holds the window: refused before any state is built
            check_table(
                "window_size",
                self.window_size,
                self.window_size,
                1,
                f"{self._name} keeps its smoothing window in its state",
            )
        current = self.current_lr
        if current is not None:
            current = check.lr_values("current_lr", current)
            self._set(current_lr=current)
        self._set(
            _groups=check.group_count(
                base_lr=base_lr, min_lr=min_lr, max_lr=max_lr, current_lr=current
            )
        )
        self._check_position()

    def _check_position(self) -> None:
        """The keyword fields saying where a stepped scheduler stands."""
        if self.best is not None:
            # +-inf is transformers' best before any metric (or after an infinite one).
            self._set(best=check.metric("best", self.best, nan=False))
        counts = check.counts(
            self,
            num_bad_epochs=COUNTER_MAX,
            num_good_epochs=COUNTER_MAX,
            cooldown_counter=COUNTER_MAX,
            warmup_counter=COUNTER_MAX,
            reset_countdown=self.reset_start,
            last_epoch=MAX_STEP,
        )
        self._set(**counts)
        if self.window_values is not None:
            values = self.window_values
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
                raise TypeError(
                    f"window_values must be a sequence of numbers, got {check._shown(values)}"
                )
            values = tuple(check.metric(f"window_values[{i}]", v) for i, v in enumerate(values))
            if len(values) > (self.window_size if self.smooth else 0):
                raise ValueError(
                    f"window_values must hold at most window_size={self.window_size} values "
                    f"(none unless smooth), got {len(values)}"
                )
            self._set(window_values=values)
        if self.window_sum is not None:
            self._set(window_sum=check.metric("window_sum", self.window_sum))

    def _torch_object(self, optimizer: Any) -> Any:
        """transformers' own ``GreedyLR`` on ``optimizer`` (the live reference)."""
        optimization = transformers_optimization(self._name)
        return optimization.GreedyLR(optimizer, **self._live_arguments())

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        """The arguments, and where it stands, of a live ``transformers`` GreedyLR."""
        # transformers' running average (its values and sum), where it smooths
        average: Any = getattr(scheduler, "_streaming_avg", None)
        smooth = bool(scheduler.smooth) and average is not None
        worst = math.inf if scheduler.mode == "min" else -math.inf
        now = [float(g["lr"]) for g in scheduler.optimizer.param_groups]
        initial = [float(lr) for lr in scheduler._init_lrs]
        return {
            "base_lr": per_group(scheduler._init_lrs),
            "mode": scheduler.mode,
            "factor": scheduler.factor,
            "patience": scheduler.patience,
            "threshold": scheduler.threshold,
            "threshold_mode": scheduler.threshold_mode,
            "cooldown": scheduler.cooldown,
            "warmup": scheduler.warmup,
            "min_lr": per_group(scheduler.min_lrs),
            "max_lr": per_group(scheduler.max_lrs),
            "eps": scheduler.eps,
            "smooth": smooth,
            "window_size": scheduler.window_size,
            "reset_start": scheduler.reset_start_original,
            # where it stands: its next step continues from here
            # (unset where they are where construction puts them: an unstepped scheduler
            # reads back as the plain machine)
            "current_lr": None if now == initial else per_group(now),
            "best": None if scheduler.best == worst else float(scheduler.best),
            "num_bad_epochs": scheduler.num_bad_epochs or None,
            "num_good_epochs": scheduler.num_good_epochs or None,
            "cooldown_counter": scheduler.cooldown_counter or None,
            "warmup_counter": scheduler.warmup_counter or None,
            "reset_countdown": None
            if scheduler.reset_start == scheduler.reset_start_original
            else scheduler.reset_start,
            "last_epoch": scheduler.last_epoch or None,
            "window_values": list(average.values) if smooth and average.values else None,
            "window_sum": float(average.sum) if smooth and average.values else None,
        }

    @classmethod
    def _set_torch_state(cls, scheduler: Any, state: dict[str, Any]) -> None:
        """Puts a live transformers GreedyLR where the keyword options say (the inverse of
        ``_from_torch``)."""
        groups = scheduler.optimizer.param_groups
        for key, value in state.items():
            if key == "current_lr":
                lrs = value if isinstance(value, (list, tuple)) else [value] * len(groups)
                for group, lr in zip(groups, lrs, strict=True):
                    assign_lr(group, float(lr))
                scheduler._last_lr = [float(lr) for lr in lrs]
            elif key == "reset_countdown":
                scheduler.reset_start = int(value)
            elif key == "window_values":
                scheduler._streaming_avg.values = [float(v) for v in value]
            elif key == "window_sum":
                scheduler._streaming_avg.sum = float(value)
            else:
                setattr(scheduler, key, value)

    @property
    def _window(self) -> int:
        """The ring buffer's length (no buffer without smoothing)."""
        return self.window_size if self.smooth else 0

    def _initial(self, ctx: Ctx, integral: Any) -> GreedyState:
        xp, device, dtype = ctx.xp, ctx.device, ctx.dtype
        lr = self.base_lr if self.current_lr is None else self.current_lr
        best = (math.inf if self.mode == "min" else -math.inf) if self.best is None else self.best
        values = list(self.window_values or ())
        total = 0.0
        for value in values:  # transformers' running sum, when no value has left the window
            total += value
        if self.window_sum is not None:
            total = self.window_sum
        window = values + [0.0] * (self._window - len(values))
        countdown = self.reset_start if self.reset_countdown is None else self.reset_countdown

        def count(value: int | None) -> Any:
            # Separate arrays: aliased fields would make torch.compile guard on the aliasing.
            return xp.asarray(value or 0, dtype=integral, device=device)

        return GreedyState(
            lr=xp.asarray(_per_group_lr(self, lr), dtype=dtype, device=device),
            best=xp.asarray(best, dtype=dtype, device=device),
            num_bad_epochs=count(self.num_bad_epochs),
            num_good_epochs=count(self.num_good_epochs),
            cooldown_counter=count(self.cooldown_counter),
            warmup_counter=count(self.warmup_counter),
            reset_start=count(countdown),
            last_epoch=count(self.last_epoch),
            window=xp.asarray(window, dtype=dtype, device=device),
            window_count=count(len(values)),
            window_head=count(len(values) % self.window_size),
            window_sum=xp.asarray(total, dtype=dtype, device=device),
        )

    def _smoothed(self, ctx: Ctx, state: GreedyState, current: Any) -> tuple[Any, ...]:
        """transformers' ``StreamingAverage.streamavg``: (mean, window, count, head, sum)."""
        xp, n = ctx.xp, self.window_size
        head = state.window_head
        full = state.window_count >= n
        # The oldest value, which the new one replaces once the window is full. take on a
        # flat index: plain integer indexing by an array does not trace under torch.compile.
        removed = xp.reshape(xp.take(state.window, xp.reshape(head, (1,)), axis=0), ())
        added = state.window_sum + current  # sum += value
        total = xp.where(full, added - removed, added)  # then sum -= removed
        slots = xp.arange(n, dtype=head.dtype, device=ctx.device)
        window = xp.where(slots == head, current, state.window)
        following = head + 1
        head = xp.where(following >= n, xp.zeros_like(head), following)
        count = xp.where(full, state.window_count, state.window_count + 1)
        return total / ctx.float(count), window, count, head, total

    def _update(self, ctx: Ctx, state: GreedyState, current: Any) -> GreedyState:
        xp, device, dtype = ctx.xp, ctx.device, ctx.dtype
        window, count, head, total = (
            state.window,
            state.window_count,
            state.window_head,
            state.window_sum,
        )
        if self.smooth:
            current, window, count, head, total = self._smoothed(ctx, state, current)

        def zeros(x: Any) -> Any:
            return xp.zeros_like(x)

        def full(x: Any, value: Any) -> Any:
            return xp.full_like(x, value)

        # cooldown first, then warmup: either only counts down
        cooling = state.cooldown_counter > 0
        warming = ~cooling & (state.warmup_counter > 0)
        normal = ~(cooling | warming)
        cooldown_counter = xp.where(cooling, state.cooldown_counter - 1, state.cooldown_counter)
        warmup_counter = xp.where(warming, state.warmup_counter - 1, state.warmup_counter)

        best = state.best
        if self.threshold_mode == "rel":
            bound = best * (
                (1.0 - self.threshold) if self.mode == "min" else (1.0 + self.threshold)
            )
        else:
            bound = best - self.threshold if self.mode == "min" else best + self.threshold
        better = normal & (current < bound if self.mode == "min" else current > bound)
        worse = normal & ~better
        best = xp.where(better, current, best)
        good = xp.where(better, state.num_good_epochs + 1, zeros(state.num_good_epochs))
        bad = xp.where(worse, state.num_bad_epochs + 1, zeros(state.num_bad_epochs))
        raising = good > self.patience
        cutting = ~raising & (bad > self.patience)

        def lrs(value: Any) -> Any:
            return xp.asarray(ctx.const(value), dtype=dtype, device=device)

        lr = state.lr
        floor, ceiling = lrs(self.min_lr), lrs(self.max_lr)
        # The factor as an operand no compiler folds: XLA turns a division by a constant into
        # a product with its reciprocal, one ulp off transformers' lr / factor in 28% of lrs,
        # which can flip a later cut's `> eps` or the floor test, and so a reset.
        raised = xp.minimum(lr / (lr * 0.0 + self.factor), ceiling)
        cut = xp.maximum(lr * self.factor, floor)
        new_lr = xp.where(raising & (raised - lr > self.eps), raised, lr)
        new_lr = xp.where(cutting & (lr - cut > self.eps), cut, new_lr)
        countdown = xp.where(raising, full(state.reset_start, self.reset_start), state.reset_start)
        warmup_counter = xp.where(raising, full(warmup_counter, self.warmup), warmup_counter)
        good = xp.where(raising, zeros(good), good)

        # A cut that leaves every group at its floor counts down to the reset.
        at_floor = cutting & xp.all(new_lr <= floor)
        countdown = xp.where(at_floor, countdown - 1, countdown)
        reset = at_floor & (countdown <= 0)
        new_lr = xp.where(reset, lrs(self.base_lr), new_lr)
        best = xp.where(reset, full(best, math.inf if self.mode == "min" else -math.inf), best)
        good = xp.where(reset, zeros(good), good)
        warmup_counter = xp.where(reset, zeros(warmup_counter), warmup_counter)
        countdown = xp.where(reset, full(countdown, self.reset_start), countdown)
        if self.smooth:
            window = xp.where(reset, zeros(window), window)
            count = xp.where(reset, zeros(count), count)
            head = xp.where(reset, zeros(head), head)
            total = xp.where(reset, zeros(total), total)
        # after the cut (and any reset): cooldown starts, the bad epochs are cleared
        cooldown_counter = xp.where(
            cutting, full(cooldown_counter, self.cooldown), cooldown_counter
        )
        bad = xp.where(cutting, zeros(bad), bad)
        return GreedyState(
            lr=new_lr,
            best=best,
            num_bad_epochs=bad,
            num_good_epochs=good,
            cooldown_counter=cooldown_counter,
            warmup_counter=warmup_counter,
            reset_start=countdown,
            last_epoch=state.last_epoch + 1,
            window=window,
            window_count=count,
            window_head=head,
            window_sum=total,
        )

    def _host_trajectory(self, metrics: np.ndarray) -> np.ndarray:
        """``_update`` on Python numbers, the same float64 operations in the same order
        (transformers' own ``step`` is this loop), with the window as transformers keeps it:
        the values seen, oldest first (at most ``window_size``, never a buffer of that
        size). The lrs are kept only where they change."""
        from collections import deque

        minimize, relative = self.mode == "min", self.threshold_mode == "rel"
        worst = math.inf if minimize else -math.inf
        base, floors = self._floats(self.base_lr), self._floats(self.min_lr)
        ceilings = self._floats(self.max_lr)
        lrs = base if self.current_lr is None else self._floats(self.current_lr)
        best = worst if self.best is None else self.best
        bad, good = self.num_bad_epochs or 0, self.num_good_epochs or 0
        cooling, warming = self.cooldown_counter or 0, self.warmup_counter or 0
        reset_start = self.reset_start
        countdown = reset_start if self.reset_countdown is None else self.reset_countdown
        window = deque(self.window_values or ())
        total = 0.0
        for value in window:  # transformers' running sum, when no value has left the window
            total += value
        if self.window_sum is not None:
            total = self.window_sum
        factor, threshold, eps = float(self.factor), float(self.threshold), float(self.eps)
        patience = self.patience
        smooth, size = self.smooth, self.window_size
        scale = (1.0 - threshold) if minimize else (1.0 + threshold)
        steps, values = [0], [lrs]
        for k, current in enumerate(metrics.tolist(), 1):
            if smooth:  # transformers' StreamingAverage: sum += value, then -= the oldest
                window.append(current)
                total += current
                if len(window) > size:
                    total -= window.popleft()
                current = total / len(window)
            if cooling > 0:  # cooldown first, then warmup: either only counts down
                cooling, good, bad = cooling - 1, 0, 0
                continue
            if warming > 0:
                warming, good, bad = warming - 1, 0, 0
                continue
            if relative:
                bound = best * scale
            else:
                bound = best - threshold if minimize else best + threshold
            if current < bound if minimize else current > bound:  # NaN: never better
                best, good, bad = current, good + 1, 0
            else:
                good, bad = 0, bad + 1
            new = lrs
            if good > patience:
                raised = [min(lr / factor, top) for lr, top in zip(lrs, ceilings, strict=True)]
                new = [up if up - lr > eps else lr for lr, up in zip(lrs, raised, strict=True)]
                countdown, warming, good = reset_start, self.warmup, 0
            elif bad > patience:
                cut = [max(lr * factor, floor) for lr, floor in zip(lrs, floors, strict=True)]
                new = [down if lr - down > eps else lr for lr, down in zip(lrs, cut, strict=True)]
                if all(lr <= floor for lr, floor in zip(new, floors, strict=True)):
                    countdown -= 1  # every group at its floor: toward the reset
                    if countdown <= 0:
                        new, best, good, warming, countdown = base, worst, 0, 0, reset_start
                        if smooth:
                            window.clear()
                            total = 0.0
                cooling, bad = self.cooldown, 0
            if new != lrs:
                steps.append(k)
                values.append(new)
                lrs = new
        return self._changes(len(metrics) + 1, steps, values, self.groups)

    def _state_spec(self) -> dict[str, FieldSpec]:
        shape = () if self.groups is None else (self.groups,)
        return {
            "lr": FieldSpec(LR, shape),
            "best": FieldSpec(BEST, ()),
            "num_bad_epochs": FieldSpec(COUNT, (), COUNTER_MAX),
            "num_good_epochs": FieldSpec(COUNT, (), COUNTER_MAX),
            "cooldown_counter": FieldSpec(COUNT, (), COUNTER_MAX),
            "warmup_counter": FieldSpec(COUNT, (), COUNTER_MAX),
            "reset_start": FieldSpec(COUNT, (), self.reset_start),
            "last_epoch": FieldSpec(COUNT, (), MAX_STEP),
            "window": FieldSpec(METRICS, (self._window,)),
            "window_count": FieldSpec(COUNT, (), self._window),
            "window_head": FieldSpec(COUNT, (), max(self._window - 1, 0)),
            "window_sum": FieldSpec(METRICS, ()),
        }
