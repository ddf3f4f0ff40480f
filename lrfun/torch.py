"""torch adapters: a pure lrfun schedule drives a torch optimizer through torch's own protocol.

``Scheduler`` is an ``LRScheduler`` and ``PlateauScheduler`` a ``ReduceLROnPlateau``,
so training loops, Lightning-style trainers and checkpoint code that know torch's schedulers
work unchanged. The schedule is the truth: every ``step()`` writes ``schedule(last_epoch)``
into the param groups (and the momentum / ``betas[0]`` where the schedule cycles it). There
is no recursion to drift or to replay, so a checkpoint is a step count and resuming is exact.

This module imports torch; ``import lrfun`` does not.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import itertools
import math
import sys
import threading
import warnings
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, SupportsFloat, cast

import numpy as np

try:
    import torch
except ModuleNotFoundError as error:  # the hint, where a bare "No module named" would be
    if error.name != "torch":
        raise
    raise ModuleNotFoundError(
        "lrfun.torch needs torch, which is not installed: pip install 'lrfun[torch]'",
        name=error.name,
    ) from error
from torch.optim import Optimizer
from torch.optim.lr_scheduler import EPOCH_DEPRECATION_WARNING, LRScheduler
from torch.optim.lr_scheduler import ChainedScheduler as _TorchChained
from torch.optim.lr_scheduler import ReduceLROnPlateau as _TorchPlateau
from torch.optim.lr_scheduler import SequentialLR as _TorchSequential

from lrfun import _validate as check
from lrfun._backend import evaluate
from lrfun._plateau import Machine, ReduceLROnPlateau, host_metric
from lrfun._schedule import Schedule

__all__ = ["PlateauScheduler", "Scheduler"]

# Steps evaluated per vectorised call: a step then costs a list lookup. Stretches start at
# multiples of this, so the value at a step never depends on where a run was resumed.
_CHUNK = 1024

# A stretch of evaluated steps: (start, lr rows, momentum rows, stepwise start, peak), a row
# being one value per param group, the peak the largest finite magnitude of its values.
_Stretch = tuple[int, list[list[float]], list[list[float]], int, float]

# The largest finite value of each tensor dtype met (torch.finfo per write would cost more
# than the write); a dtype's entry never changes, so concurrent fills agree.
_LARGEST: dict[torch.dtype, float] = {}


def _largest(dtype: torch.dtype) -> float:
    """The largest finite value a tensor of ``dtype`` holds (inf: no such bound known)."""
    top = _LARGEST.get(dtype)
    if top is None:
        try:
            top = float(torch.finfo(dtype).max) if dtype.is_floating_point else math.inf
        except (NotImplementedError, RuntimeError, TypeError):  # packed (float4 pairs)
            top = math.inf
        _LARGEST[dtype] = top
    return top


# The least largest finite value of torch's floating dtypes (240, float8_e4m3fnuz): a stretch
# whose values all lie within it fits any tensor lr or momentum, so its steps need no check of
# the groups' dtypes.
_FITS_ANY = min(
    _largest(dtype)
    for dtype in vars(torch).values()
    if isinstance(dtype, torch.dtype) and dtype.is_floating_point
)

_STEP_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
    "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
    "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
    "will result in PyTorch skipping the first value of the learning rate schedule. "
    "See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)

# torch's ChainedScheduler lets each child update the lr the previous child left (a decay
# multiplies it, a LambdaLR overwrites it), and it never calls its children when it is built:
# each child has already written its own step-0 lr by then. An adapter writes its schedule's
# absolute lr, so inside that container the last adapter would silently win (ConstantLR(0.25)
# then ExponentialLR(0.9) gives 0.1, 0.09, 0.081 where torch's chain gives 0.025, 0.0225,
# 0.02025), and no rule applied at step() could repair step 0, written before the chain
# existed. So the adapter refuses the container -- when it is built, where torch's
# constructor reads the adapter's ``optimizer``, and again at a step, where its step() calls
# the adapter's -- and lrfun's ChainedScheduler gives torch's values.
_CHAINED_INIT = _TorchChained.__init__.__code__
_CHAINED_STEP = _TorchChained.step.__code__
# torch's SequentialLR steps its children itself (a child's step is not one of the user's),
# and its constructor reads each child's optimizer, then resets the lrs to initial_lr.
_SEQUENTIAL_INIT = _TorchSequential.__init__.__code__
_SEQUENTIAL_STEP = _TorchSequential.step.__code__
_INITIAL_STEP = LRScheduler._initial_step.__code__


class _Steps:
    """Which adapter last stepped an optimizer itself (not through a container), and when
    (a tick of ``_TICKS``): torch compounds two schedulers stepped on one optimizer (each
    updates the lr the other left), while an adapter writes its schedule's lr outright, so
    the last one would win, silently. One per optimizer, shared by its adapters, which
    keep it at hand: a step reads two attributes."""

    __slots__ = ("owner", "tick")

    def __init__(self) -> None:
        self.owner: weakref.ref[Any] | None = None
        self.tick = -1


_STEPS: weakref.WeakKeyDictionary[Optimizer, _Steps] = weakref.WeakKeyDictionary()
_STEPS_LOCK = threading.Lock()
_TICKS = itertools.count()
# The record's owner for each of torch's SequentialLRs stepping adapters.
_CONTAINERS: weakref.WeakKeyDictionary[Any, weakref.ref[Any]] = weakref.WeakKeyDictionary()


def _attach(adapter: Any, optimizer: Optimizer) -> None:
    """Joins ``adapter`` (either kind) to the optimizer's record of who steps it (see
    ``_Steps``), as a new adapter: built now, or a copy."""
    adapter._ref = weakref.ref(adapter)
    adapter._steps = _steps_of(optimizer)
    adapter._born = next(_TICKS)


def _steps_of(optimizer: Optimizer) -> _Steps:
    with _STEPS_LOCK:
        found = _STEPS.get(optimizer)
        if found is None:
            found = _STEPS[optimizer] = _Steps()
        return found
_TWO_MESSAGE = (
    "two lrfun adapters step one optimizer ({first} and {second}): torch compounds two "
    "schedulers stepped together (each updates the lr the other left), while an adapter "
    "writes its schedule's lr outright, so the last one stepped would win, silently. {advice}"
)
_COMPOSE = (
    "Compose the schedules in lrfun and adapt the composite: lrfun.torch.Scheduler(optimizer, "
    "lrfun.ChainedScheduler([a, b])) gives torch's values of stepping both"
)
_NO_COMPOSITE = (
    "A metric-driven machine has no lrfun composite with another schedule yet: step one "
    "adapter per optimizer (or torch's own schedulers, which compound)"
)
_CHAINED_MESSAGE = (
    "lrfun.torch.Scheduler cannot run inside torch.optim.lr_scheduler.ChainedScheduler: torch "
    "chains by letting each child update the lr the previous child left, while this adapter "
    "writes its schedule's lr outright (the last adapter would win, silently). Chain the "
    "schedules in lrfun and adapt the chain: lrfun.torch.Scheduler(optimizer, "
    "lrfun.ChainedScheduler([a, b])) gives torch's ChainedScheduler values"
)


class Scheduler(LRScheduler):
    """A torch ``LRScheduler`` whose lrs come from a pure lrfun schedule.

    Construction writes the step-0 lrs into the optimizer; each ``step()`` advances
    ``last_epoch`` and writes ``schedule(last_epoch)`` -- one value for every param group, or
    one per group when the schedule's lr-valued arguments are sequences -- and, when the
    schedule cycles momentum, ``schedule.momentum(last_epoch)`` into SGD/RMSprop's
    ``momentum`` or the Adam family's ``betas[0]``. A tensor lr (or beta1) is updated in place
    on its device, so a compiled optimizer step that reads it is not recompiled.

    ``state_dict()`` is plain data (ints, floats, strings, lists: it loads with
    ``torch.load(..., weights_only=True)`` and is JSON-serialisable); ``load_state_dict``
    restores the step and writes that step's lrs into the optimizer, so it does not matter
    whether the optimizer's state is loaded before or after. It checks every entry (and that
    the step's lrs are finite and fit the groups' dtypes) before changing anything: a refused
    state leaves the scheduler and the optimizer as they were; a step whose value a tensor
    lr's dtype cannot hold is refused the same way. The adapter itself pickles with its
    optimizer (``copy.deepcopy``, a spawn worker, ``torch.save`` then ``torch.load(...,
    weights_only=False)``: a whole object is not weights); a checkpoint holds its state_dict.

    Unlike torch's schedulers, values are never computed from the previous lr: an lr set on
    the optimizer by hand is overwritten at the next step rather than decayed from. The
    schedule's base lr is the truth: where a group's ``initial_lr`` (or, on a fresh
    optimizer, its ``lr``) differs from it, construction warns and the schedule's value is
    written anyway.

    A param group added mid-run (``optimizer.add_param_group``) continues from its own lr
    where torch's scheduler continues one (its decays, and a ChainedScheduler of them,
    stepped without an epoch); elsewhere it is refused at the next step, where torch raises
    (at once, or later: CosineAnnealingLR at its trough). Two adapters (or torch's
    SequentialLR of adapters and another adapter) stepping one optimizer are refused: torch
    would compound them; compose them in ``lrfun.ChainedScheduler``.

    torch's containers: ``torch.optim.lr_scheduler.SequentialLR`` of adapters runs as torch's
    SequentialLR of the native schedulers (a child restarts at its milestone through
    ``_update_lr(0)``, which writes its step 0 here). torch's ``ChainedScheduler`` cannot hold
    an adapter and refuses it (see Raises): chain in lrfun instead,
    ``Scheduler(optimizer, lrfun.ChainedScheduler([a, b]))``.

    Args:
      optimizer: the torch optimizer.
      schedule: any lrfun schedule (``lrfun.from_torch(native)`` converts a torch scheduler).

    Warns:
      UserWarning: a param group's lr (``initial_lr`` where set) is not the schedule's base lr
        (its first scheduler's, for a composite), compared within a relative 1e-12 or the
        rounding of a tensor lr's dtype. Not checked: base lrs that are arrays, and schedules
        that set the lrs themselves (CyclicLR, OneCycleLR, a composite starting with one).

    Raises:
      TypeError: ``optimizer`` is not a torch Optimizer or ``schedule`` not an lrfun schedule;
        or the adapter is put inside torch's ``ChainedScheduler`` (raised when that is built,
        or at its first step).
      ValueError: the schedule has per-group values for a different number of param groups,
        cycles momentum on an optimizer without ``momentum`` or ``betas``, or its step-0 lr
        is more than a group's tensor lr holds (float16: 65504), checked before torch's
        constructor sets ``initial_lr``.

    Example:
      >>> import torch, lrfun, lrfun.torch
      >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
      >>> sched = lrfun.torch.Scheduler(opt, lrfun.StepLR(0.1, step_size=2))
      >>> for _ in range(2):
      ...     opt.step()
      ...     sched.step()
      >>> sched.get_last_lr()
      [0.010000000000000002]
    """

    # Set by ``_attach``: this adapter's place in its optimizer's record of who steps it.
    _ref: weakref.ref[Any]
    _steps: _Steps
    _born: int

    def __init__(self, optimizer: Optimizer, schedule: Schedule) -> None:
        check.instance("optimizer", optimizer, Optimizer, "a torch.optim.Optimizer")
        hint = (
            f" (use lrfun.torch.PlateauScheduler for {type(schedule).__name__})"
            if isinstance(schedule, Machine)
            else ""
        )
        check.instance("schedule", schedule, Schedule, "an lrfun schedule", hint=hint)
        check.groups_fit("schedule", schedule.groups, len(optimizer.param_groups))
        _warn_if_base_differs(optimizer, schedule)
        self.schedule = schedule
        self._momentum_key = _momentum_key(optimizer) if schedule.cycles_momentum else None
        # The param groups the schedule drives: those of construction (or of a loaded state).
        # Groups added since continue from their own lr as torch's scheduler continues them.
        self._width = len(optimizer.param_groups)
        # The real epoch last stepped to, where it was not a whole one (warm restarts).
        self._real: float | None = None
        # The last step torch's object can take (OneCycleLR's total_steps): past it torch
        # raises, the error that tells a trainer its step count is wrong.
        self._limit = schedule._torch_steps() if schedule._leaves() == (schedule,) else None
        self._last = check.MAX_STEP if self._limit is None else self._limit  # one comparison
        self._real_steps = schedule._real_steps
        _attach(self, optimizer)
        # The evaluated stretch: rows of per-group values for steps _start, _start + 1, ...
        self._start: int
        self._lr_rows: list[list[float]]
        self._momentum_rows: list[list[float]]
        self._stepwise: int
        self._peak: float
        # The lrs the previous child of torch's SequentialLR left when that container restarted
        # this one at its milestone, for schedules whose restart continues from them.
        self._previous: tuple[float, ...] | None = None
        self._forget()
        # Step 0's values are checked against the groups' dtypes before torch's constructor
        # changes anything (it sets each group's initial_lr, then steps).
        self._optimizer = optimizer
        self._check_step(0, *self._values(0))
        if any(leaf._sets_initial_lr for leaf in schedule._leaves()):
            # torch's OneCycleLR writes its own initial_lr (max_lr / div_factor), which a
            # SequentialLR resets the lrs to; the schedule says what torch's group holds.
            initial = _row(_host_lr(schedule._initial_lr), self._width, schedule)
            for group, lr in zip(optimizer.param_groups, initial, strict=True):
                group["initial_lr"] = lr
        super().__init__(optimizer)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.schedule!r})"

    # ``optimizer`` is read through a property only to see who asks: torch's ChainedScheduler
    # constructor reads it from each child (see _CHAINED_INIT). The adapter's own code reads
    # ``_optimizer``.
    @property
    def optimizer(self) -> Optimizer:
        """The torch optimizer whose param groups this scheduler writes."""
        caller = sys._getframe(1)
        if caller.f_code is _CHAINED_INIT:
            raise TypeError(_CHAINED_MESSAGE)
        if caller.f_code is _SEQUENTIAL_INIT:
            _check_sequential(caller.f_locals.get("schedulers"), caller.f_locals.get("milestones"))
        return self._optimizer

    @optimizer.setter
    def optimizer(self, optimizer: Optimizer) -> None:
        self._optimizer = optimizer

    def step(self, epoch: float | None = None) -> None:
        """Advances one step (or jumps to step ``epoch``) and writes its lrs.

        Args:
          epoch: optional: the step to jump to (torch deprecates this argument for its
            recursive schedulers and warns, as here; every step has a closed form, so a jump
            is exact). A schedule torch steps at real epochs (CosineAnnealingWarmRestarts:
            ``step(epoch + i / iters)``) takes a real one, without the warning, as torch's;
            a ``step()`` after it goes one epoch further (2.3, then 3.3).

        Raises:
          ValueError: the step's lr (or momentum) is more than a group's tensor lr holds
            (float16: 65504, float32: 3.4e38), or the step is past the last one torch's
            scheduler takes (OneCycleLR's ``total_steps``: torch's "Tried to step N times");
            nothing changes (not even ``last_epoch``).
          RuntimeError: another adapter steps the same optimizer (torch would compound the
            two: compose them in an lrfun ChainedScheduler), or a param group added since
            construction is one torch's scheduler cannot continue (torch raises too).
        """
        caller = sys._getframe(1).f_code
        if epoch is None and self._step_count > 1 and self._real is None:
            # The common step, the one a training loop takes every iteration: the next row
            # of the evaluated stretch into float lrs, by this adapter, which stepped last.
            steps = self._steps
            step = self.last_epoch + 1
            offset = step - self._start
            rows = self._lr_rows
            groups = self._optimizer.param_groups
            if (
                steps.owner is self._ref
                and caller is not _SEQUENTIAL_STEP
                and caller is not _CHAINED_STEP
                and step <= self._last
                and 0 <= offset < len(rows)
                and self._peak <= _FITS_ANY
                and len(groups) == self._width
            ):
                lrs = rows[offset]
                key = self._momentum_key
                # SGD's float momentum too (other momenta: the general step below)
                fast = key is None
                if key == "momentum":
                    for group in groups:
                        if type(group["momentum"]) is not float:
                            break
                    else:
                        fast = True
                if fast:
                    if key is not None:
                        momenta = self._momentum_rows[offset]
                        for group, momentum in zip(groups, momenta, strict=True):
                            group["momentum"] = momentum
                    for group, lr in zip(groups, lrs, strict=True):
                        if type(group["lr"]) is float:
                            group["lr"] = lr
                        else:
                            _set(group, "lr", lr)
                    self._last_lr = lrs  # type: ignore[assignment]  # floats, torch's type
                    self.last_epoch = step
                    self._step_count += 1
                    steps.tick = next(_TICKS)
                    return
        self._step(epoch, caller)

    def _step(self, epoch: float | None, caller: Any) -> None:
        """``step`` in general (``caller``: the code object that called it)."""
        if caller is _CHAINED_STEP:
            raise TypeError(_CHAINED_MESSAGE)
        if epoch is not None:
            if self._real_steps:
                epoch = check.epoch("epoch", epoch, maximum=check.MAX_STEP)
                self.schedule._check_epoch(epoch)
            else:
                epoch = check.integer("epoch", epoch, minimum=0, maximum=check.MAX_STEP)
        # the user's step, or one of torch's SequentialLR (the container's, shared by its
        # children), not a construction's
        direct = caller is not _INITIAL_STEP
        steps = self._steps
        me = self._ref if caller is not _SEQUENTIAL_STEP else self._container(caller)
        if direct and steps.owner is not me and steps.tick > self._born:
            _refuse_two(steps.owner, self)
        # (torch's warm restarts step without this warning)
        if self._step_count == 1 and not self._real_steps and not getattr(
            self._optimizer, "_opt_called", False
        ):
            warnings.warn(_STEP_ORDER_WARNING, UserWarning, stacklevel=3)
        if epoch is not None and not self._real_steps:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=3)
        self._advance(epoch)  # may refuse the step's values: then nothing has changed
        self._step_count += 1
        if direct:
            steps.owner, steps.tick = me, next(_TICKS)

    def _container(self, caller: Any) -> weakref.ref[Any]:
        """The record's name for torch's SequentialLR stepping this adapter: one for all its
        children (they take turns, as torch's do). (Called from ``_step``, from ``step``,
        from the container's ``step``.)"""
        container = sys._getframe(3).f_locals.get("self")
        if container is None:
            return self._ref
        found = _CONTAINERS.get(container)  # made once per container, under the lock
        if found is None:
            with _STEPS_LOCK:
                found = _CONTAINERS.get(container)
                if found is None:
                    found = _CONTAINERS[container] = weakref.ref(container)
        return found

    def _update_lr(self, epoch: int | None = None) -> None:
        """torch's hook, which its SequentialLR calls as ``_update_lr(0)`` to restart a child
        at its milestone: the schedule restarts as torch restarts its native scheduler (the
        schedule class says how: MultiplicativeLR continues from the lr the previous child
        left, ConstantLR with ``total_iters=0`` from its base lr, the others from step 0),
        momentum included."""
        if epoch == 0 and type(self.schedule)._restarted is not Schedule._restarted:
            previous = tuple(float(group["lr"]) for group in self._optimizer.param_groups)
            if previous != self._previous:
                kept = self._previous, self._kept()
                self._previous = previous
                self._forget()
                try:
                    self._advance(epoch)
                except BaseException:  # a refused restart changes nothing
                    self._previous = kept[0]
                    self._keep(kept[1])
                    raise
                return
        self._advance(epoch)

    def _advance(self, epoch: float | None) -> None:
        if epoch is None:
            step, real = self.last_epoch + 1, self._real
            if real is not None:
                real += 1.0  # torch's T_cur + 1
        elif isinstance(epoch, int):
            step, real = epoch, None
        else:
            step, real = math.floor(epoch), epoch
        if step > self._last and self._limit is not None:
            kind, message = self.schedule._torch_step_error
            told = message.format(step=step, limit=self._limit, name=self.schedule._name)
            raise kind(f"{told} (as torch raises; nothing was changed)")
        # checks before it writes: a refused step leaves last_epoch too
        if real is None:
            self._write(step, explicit=epoch is not None)
        else:
            self._write_real(real)
        self.last_epoch, self._real = step, real

    def _forget(self) -> None:
        """Drops the evaluated stretch (the values it holds no longer apply)."""
        self._keep(_NOTHING)

    def _keep(self, stretch: _Stretch) -> None:
        """Keeps ``stretch`` as the evaluated one."""
        self._start, self._lr_rows, self._momentum_rows, self._stepwise, self._peak = stretch

    def _kept(self) -> _Stretch:
        return self._start, self._lr_rows, self._momentum_rows, self._stepwise, self._peak

    def __getstate__(self) -> dict[str, Any]:
        """What pickle, ``copy.deepcopy``, ``torch.save`` and a spawn worker take: everything
        but the evaluated stretch, which is derived (the next step evaluates it again) and
        may be large, and the link to the optimizer's record of who steps it (a copy joins
        its own optimizer's)."""
        state = self.__dict__.copy()
        names = ("_start", "_lr_rows", "_momentum_rows", "_stepwise", "_peak")
        state.update(zip(names, _NOTHING, strict=True))
        for name in ("_ref", "_steps"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        # a pickle of an earlier version: what it did not keep, as its construction gives it
        if "_width" not in state:
            schedule = self.schedule
            self._width = len(self._optimizer.param_groups)
            self._real, self._real_steps = None, schedule._real_steps
            self._limit = schedule._torch_steps() if schedule._leaves() == (schedule,) else None
            self._last = check.MAX_STEP if self._limit is None else self._limit
        # torch's constructor wraps optimizer.step to note that it ran, which the step-order
        # warning reads; a copied optimizer has lost the wrapper (an unstepped copy would warn
        # at its first step, after optimizer.step()), so it is put back.
        _note_steps(self._optimizer)
        _attach(self, self._optimizer)

    # Python floats only: narrower than torch's list[float | Tensor] (a list is invariant).
    def get_lr(self) -> list[float]:  # type: ignore[override]
        """The lrs of the current step, one per param group (Python floats)."""
        return list(self._values(self.last_epoch)[0])

    def get_last_lr(self) -> list[float | torch.Tensor]:
        """The lrs last written, one per param group, of the same types as the groups' lrs
        (a tensor lr gives a new tensor that does not alias it)."""
        return _typed(self._optimizer, self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state as plain data: the step, the last lrs and the schedule's
        config (``None`` when it holds a Python callable)."""
        state: dict[str, Any] = {
            "last_epoch": self.last_epoch,
            "_step_count": self._step_count,
            "_last_lr": list(self._last_lr),
            "base_lrs": [float(v) for v in self.base_lrs],
            "schedule": _config_or_none(self.schedule),
            "restarted_from": None if self._previous is None else list(self._previous),
        }
        if self._real is not None:
            state["real_epoch"] = self._real
        if len(self._optimizer.param_groups) != self._width:
            state["schedule_groups"] = self._width
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restores a ``state_dict`` and writes that step's lrs into the optimizer.

        Every entry is checked, and the lrs (and momenta) of the restored step evaluated,
        before anything changes: a refused state leaves the scheduler and the optimizer as
        they were. Values are checked in the dtype they are written in: a group's tensor lr
        (or momentum) takes only what its dtype holds (65504 for float16).

        A state at step -1 is a child of torch's SequentialLR that has not started (torch's
        constructor steps every child back by one): it is restored without writing, so that
        the running child's lrs, written by its own load, stay.

        Raises:
          TypeError: ``state_dict`` is not a mapping, or an entry has the wrong type (a count
            that is not an integer, lrs that are not a list of numbers, a ``"schedule"`` that
            is not a config).
          ValueError: the state was written by a scheduler running a different schedule
            (delete its ``"schedule"`` entry to load it anyway), by a
            ``PlateauScheduler``, or by another kind of scheduler (torch's own StepLR,
            OneCycleLR, ...: entries this adapter never writes, named); an entry is out of
            range (``last_epoch`` outside [-1, 2**53], a negative ``_step_count``, lrs that
            are negative, not finite, not one per param group, or past what a group's
            dtype holds); or the schedule's lr (or momentum) at the restored step is not
            finite or past what a group's dtype holds.
        """
        check.state_entries(
            state_dict, (), _PLATEAU_KEYS, "a PlateauScheduler (or torch's ReduceLROnPlateau)"
        )
        if "schedule" in state_dict:  # deleted: the documented way to load across schedules
            current = _config_or_none(self.schedule)
            check.state_matches("schedule", state_dict["schedule"], current, config=True)
        check.state_known(state_dict, _SCHEDULER_ENTRIES, "lrfun.torch.Scheduler", _STEP_HINT)
        check.state_entries(state_dict, ("last_epoch", "_step_count"), (), "")
        every = self._optimizer.param_groups
        last_epoch = _count(state_dict, "last_epoch", minimum=-1)
        step_count = _count(state_dict, "_step_count")
        width = self._width
        if "schedule_groups" in state_dict:  # groups added after the saving adapter was built
            width = check.integer(
                "state_dict['schedule_groups']", state_dict["schedule_groups"],
                minimum=1, maximum=len(every),
            )
            check.groups_fit("schedule", self.schedule.groups, width)
        groups = every[:width]
        real = None
        if state_dict.get("real_epoch") is not None:
            real = check.epoch("state_dict['real_epoch']", state_dict["real_epoch"])
            if not self.schedule._real_steps or math.floor(real) != last_epoch:
                raise ValueError(
                    f"state_dict['real_epoch'] is {real!r}, which is not an epoch of "
                    f"last_epoch={last_epoch} for {self.schedule._name}"
                )
        base_lrs: list[Any] = self.base_lrs
        if "base_lrs" in state_dict:
            base_lrs = _numbers(state_dict, "base_lrs", len(groups), low=0.0)
            _check_row("state_dict['base_lrs'][{}]", base_lrs, None, groups)
        added = [float(g["lr"]) for g in every[width:]]
        if "_last_lr" in state_dict:
            last_lrs = _numbers(state_dict, "_last_lr", len(every))
            # the step's lrs are written; an added group continues from the lr it was saved at
            added = last_lrs[width:]
            _check_row("state_dict['_last_lr'][{}]", added, None, every[width:])
        previous = state_dict.get("restarted_from")
        if previous is not None:
            # The lrs the optimizer held when torch's SequentialLR restarted this schedule:
            # lrs that group could hold (never negative: that would be gradient ascent).
            previous = tuple(_numbers(state_dict, "restarted_from", len(groups), low=0.0))
            _check_row("state_dict['restarted_from'][{}]", list(previous), None, groups)
        # The values to write, evaluated last: every cheap check has passed by now, so a
        # refused state never starts an evaluation (a simulated composite can be long).
        stretch = _NOTHING
        if last_epoch >= 0:
            if real is None:
                stretch = self._stretch(last_epoch, previous, -1, width)
                lrs, momenta = _at(stretch, last_epoch, self._momentum_key)
            else:
                lrs, momenta = self._real_values(real, width)
            at = f"state_dict['last_epoch']={last_epoch}"
            _check_row(f"the schedule's lr at {at}", lrs, None, groups, finite=True)
            if momenta is not None:
                what = f"the schedule's momentum at {at}"
                _check_row(what, momenta, self._momentum_key, groups, finite=True)
        # Everything checked: the state changes all at once.
        self.last_epoch, self._step_count, self.base_lrs = last_epoch, step_count, list(base_lrs)
        self._previous, self._width, self._real = previous, width, real
        self._keep(stretch)
        if last_epoch >= 0:
            # the step's lrs into the groups the schedule drives, the saved ones into the added
            self._put(lrs, momenta, added)

    def _check_step(
        self, step: int, lrs: list[float], momenta: list[float] | None, width: int | None = None
    ) -> None:
        """Refuses a step's values that a group's tensor lr or momentum cannot hold (those of
        the first ``width`` groups: the ones the schedule drives)."""
        groups = self._optimizer.param_groups[:width]
        _check_row(f"the schedule's lr at step {step}", lrs, None, groups)
        if momenta is not None:
            what = f"the schedule's momentum at step {step}"
            _check_row(what, momenta, self._momentum_key, groups)

    def _values(self, step: int) -> tuple[list[float], list[float] | None]:
        """The lrs (and momenta) at ``step``, one per param group (shared rows: not to be
        changed by the caller)."""
        offset = step - self._start
        if not 0 <= offset < len(self._lr_rows):
            self._load(step)
            offset = step - self._start
        return self._lr_rows[offset], (self._momentum_rows[offset] if self._momentum_key else None)

    def _load(self, step: int) -> None:
        """Evaluates the stretch of ``_CHUNK`` steps holding ``step`` (one stretch kept:
        memory stays O(_CHUNK))."""
        self._keep(self._stretch(step, self._previous, self._stepwise))

    def _stretch(
        self,
        step: int,
        previous: tuple[float, ...] | None,
        stepwise: int,
        width: int | None = None,
    ) -> _Stretch:
        """The stretch holding ``step`` (see ``_Stretch``), for the restart ``previous`` and
        ``width`` groups (default: the driven ones); changes nothing (a load checks the
        values first)."""
        start = step - step % _CHUNK
        width = self._width if width is None else width
        if start != stepwise:
            try:
                steps = np.arange(start, start + _CHUNK)
                lrs, momenta, peak = self._evaluate(steps, previous, width)
                return start, lrs, momenta, stepwise, peak
            except Exception:
                # A user function may be defined only over the steps a run reaches (a lambda
                # indexing a list): then this stretch goes one step at a time, so an error
                # surfaces at the step where torch would meet it.
                stepwise = start
        lrs, momenta, peak = self._evaluate(np.arange(step, step + 1), previous, width)
        return step, lrs, momenta, stepwise, peak

    def _evaluate(
        self, steps: np.ndarray, previous: tuple[float, ...] | None, groups: int
    ) -> tuple[list[list[float]], list[list[float]], float]:
        """Rows of one value per driven param group (``groups`` of them), for each step, of
        lrs and momenta, and the largest finite magnitude among them."""
        peak = 0.0

        def rows(values: Any) -> list[list[float]]:
            nonlocal peak
            table = np.asarray(values, dtype=np.float64)
            finite = np.abs(table[np.isfinite(table)])
            peak = max(peak, float(finite.max()) if finite.size else 0.0)
            if table.ndim == 1:  # one value for every group: the rows built by NumPy
                table = np.broadcast_to(table[:, None], (table.shape[0], groups))
            elif table.shape[1:] != (groups,):
                _row(table[0].tolist(), groups, self.schedule)  # raises, naming the counts
            rows: list[list[float]] = table.tolist()
            return rows

        schedule = self.schedule
        if previous is None:
            lrs = rows(schedule(steps))
        else:
            base = schedule._initial_lr

            def restarted(ctx: Any, since: Any) -> Any:
                return schedule._restarted(ctx, since, base, previous)

            lrs = rows(evaluate(restarted, steps, groups))
        if self._momentum_key is None:
            return lrs, [], peak
        return lrs, rows(self.schedule.momentum(steps)), peak

    def _write(self, step: int, *, explicit: bool = False) -> None:
        # The hot path of every step: a row lookup and one assignment per group.
        offset = step - self._start
        stretch = None
        if 0 <= offset < len(self._lr_rows):
            lrs = self._lr_rows[offset]
            momenta = self._momentum_rows[offset] if self._momentum_key else None
        else:  # kept once the step's values are known to be written
            stretch = self._stretch(step, self._previous, self._stepwise)
            lrs, momenta = _at(stretch, step, self._momentum_key)
        added = None
        if len(self._optimizer.param_groups) != self._width:
            added = self._added(step, explicit)  # the added groups' lrs (or a refusal)
            self._check_step(step, [*lrs, *added], None)
        # Before any group changes: a tensor lr or momentum takes only what its dtype holds
        # (float32's fill_ would raise half-way through the groups, float16's store inf).
        # Only a stretch holding a value past the least dtype's largest needs the check: the
        # common case costs one comparison.
        if (self._peak if stretch is None else stretch[4]) > _FITS_ANY:
            self._check_step(step, lrs, momenta, self._width)
        if stretch is not None:
            self._keep(stretch)
        self._put(lrs, momenta, added)

    def _write_real(self, epoch: float) -> None:
        """Writes the lrs at a real-valued epoch (a schedule torch steps at real epochs)."""
        if len(self._optimizer.param_groups) != self._width:
            # refuses: such schedules continue no added group
            self._added(math.floor(epoch), explicit=True)
        lrs, momenta = self._real_values(epoch, self._width)
        self._check_step(epoch, lrs, momenta, self._width)  # type: ignore[arg-type]
        self._put(lrs, momenta, None)

    def _real_values(self, epoch: float, width: int) -> tuple[list[float], list[float] | None]:
        """The lrs (and momenta) at a real epoch, one per group the schedule drives."""
        lrs = _row(_host_lr(self.schedule(epoch)), width, self.schedule)
        if self._momentum_key is None:
            return lrs, None
        return lrs, _row(_host_lr(self.schedule.momentum(epoch)), width, self.schedule)

    def _added(self, step: int, explicit: bool) -> list[float]:
        """The lrs at ``step`` of the param groups added after construction: torch's update
        of each from the lr it holds now (its decays read only the group's lr); refused
        where torch's scheduler cannot continue such a group, or for a jump."""
        groups = self._optimizer.param_groups
        schedule, name = self.schedule, self.schedule._name
        if len(groups) < self._width:
            raise RuntimeError(
                f"the optimizer has {len(groups)} param groups, fewer than the {self._width} "
                f"{name} was built for (a group was removed)"
            )
        leaves = schedule._leaves()
        # torch's ChainedScheduler of decays applies each one's update in turn
        children = getattr(schedule, "schedulers", ())
        chains = getattr(schedule, "_chains", False)
        flat = len(leaves) == 1 or (chains and len(children) == len(leaves))
        if not flat or not all(leaf._continues_added_groups for leaf in leaves):
            raise RuntimeError(
                f"a param group was added after the scheduler was built ({len(groups)} groups, "
                f"{self._width} at construction): torch's {name} cannot continue it (its "
                "per-group lists are as long as the groups at construction: torch raises), "
                "and neither can this adapter. Build the scheduler after adding the group; "
                "torch's decays (StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, "
                "PolynomialLR) and a ChainedScheduler of them continue an added group"
            )
        if explicit:
            raise RuntimeError(
                f"cannot step to an epoch given ({step}) with param groups added after "
                f"construction: torch's closed form of {name} (step(epoch), or its "
                "SequentialLR's restart) has no value for them (it raises)"
            )
        values = [float(group["lr"]) for group in groups[self._width :]]
        epochs = np.array([step])
        for leaf in leaves:
            maps = leaf._chain_maps(epochs, 1, np.zeros(1))  # a decay reads no base lr
            a, b = float(maps.a[0, 0]), float(maps.b[0, 0])
            values = [a * v + b if b else a * v for v in values]
        return values

    def _put(
        self, lrs: list[float], momenta: list[float] | None, added: list[float] | None
    ) -> None:
        """Writes checked lrs (and momenta) into the groups the schedule drives, and the
        added groups' lrs into theirs."""
        groups = self._optimizer.param_groups
        driven = groups[: self._width] if added else groups  # no copy in the common case
        for group, lr in zip(driven, lrs, strict=True):
            if type(group["lr"]) is float:  # the common case, without a call
                group["lr"] = lr
            else:
                _set(group, "lr", lr)
        if momenta is not None:
            key = self._momentum_key
            for group, momentum in zip(driven, momenta, strict=True):
                if key == "momentum" and type(group["momentum"]) is float:
                    group["momentum"] = momentum
                else:
                    _set_momentum(group, key, momentum)
        if added:
            for group, lr in zip(groups[self._width :], added, strict=True):
                _set(group, "lr", lr)
            lrs = [*lrs, *added]
        self._last_lr = lrs  # type: ignore[assignment]  # floats, in torch's type


class PlateauScheduler(_TorchPlateau):
    """A torch ``ReduceLROnPlateau`` whose decisions are an lrfun metric-driven machine's:
    ``lrfun.ReduceLROnPlateau``, or transformers' GreedyLR (``lrfun.hf.GreedyLR``).

    ``step(metric)`` is ``plateau.update`` on a host float64 state, then writes the state's
    lrs into the optimizer (a tensor lr in place). It is an instance of torch's
    ``ReduceLROnPlateau``, so trainers that pass the metric to such schedulers pass it here;
    ``best``, ``num_bad_epochs``, ``cooldown_counter`` and ``in_cooldown`` read the state.
    The state, not the optimizer, holds the lr: a value set on the optimizer by hand is
    overwritten at the next step (torch's scheduler would cut from it).

    Args:
      optimizer: the torch optimizer.
      plateau: an ``lrfun.ReduceLROnPlateau`` or a GreedyLR (the lr its state starts
        from is written into the optimizer at construction).

    Example:
      >>> import torch, lrfun, lrfun.torch
      >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
      >>> sched = lrfun.torch.PlateauScheduler(opt, lrfun.ReduceLROnPlateau(1.0, patience=1))
      >>> for loss in [3.0, 3.0, 3.0]:
      ...     opt.step()
      ...     sched.step(loss)
      >>> sched.get_last_lr()
      [0.1]
    """

    # The machine's settings torch's ReduceLROnPlateau keeps as attributes (where it has them).
    _SETTINGS = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "eps")

    # Set by ``_attach``: this adapter's place in its optimizer's record of who steps it.
    _ref: weakref.ref[Any]
    _steps: _Steps
    _born: int

    def __init__(self, optimizer: Optimizer, plateau: Machine[Any]) -> None:
        # torch's own constructor is not called: it derives its state from the optimizer's
        # lrs, while here the plateau machine is the state.
        check.instance("optimizer", optimizer, Optimizer, "a torch.optim.Optimizer")
        check.instance("plateau", plateau, Machine, "an lrfun.ReduceLROnPlateau or GreedyLR")
        check.groups_fit("plateau", plateau.groups, len(optimizer.param_groups))
        self.optimizer = optimizer
        self.plateau = plateau
        for name in self._SETTINGS:  # torch's settings, where the machine has them
            if hasattr(plateau, name):
                setattr(self, name, getattr(plateau, name))
        self.state = plateau._host(plateau.check_state(plateau.init()))
        self._width = len(optimizer.param_groups)
        _attach(self, optimizer)
        # A min_lr per group (torch's list) cannot be extended to an added group.
        self._floors = isinstance(getattr(plateau, "min_lr", None), tuple)
        lrs = self._lrs()
        _check_row("the plateau's lr", lrs, None, optimizer.param_groups)  # before any write
        self.base_lrs = cast("list[float | torch.Tensor]", lrs)  # floats, in torch's type
        self.last_epoch = int(self.state.last_epoch)
        self._step_count = 0
        self._write(lrs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.plateau!r})"

    # Read from the state, which is the truth: torch's writeable attributes are read-only
    # views here (the ignores below).
    @property
    def best(self) -> float:  # type: ignore[override]
        """The best metric so far (``inf`` in min mode, ``-inf`` in max mode before any)."""
        return float(self.state.best)

    @property
    def num_bad_epochs(self) -> int:  # type: ignore[override]
        """Steps since the last improvement (reset by a cut and during cooldown)."""
        return int(self.state.num_bad_epochs)

    @property
    def cooldown_counter(self) -> int:  # type: ignore[override]
        """Steps of cooldown left."""
        return int(self.state.cooldown_counter)

    @property
    def min_lrs(self) -> list[float]:  # type: ignore[override]
        """The lr floor of each param group."""
        return _row(self.plateau.min_lr, len(self.optimizer.param_groups), self.plateau)

    def step(self, metrics: SupportsFloat, epoch: None = None) -> None:  # type: ignore[override]
        """One plateau step with this step's metric (a number or a 0-d tensor/array; a NaN
        metric is a bad epoch, as in torch; an integer past float's range is its infinity,
        where torch raises OverflowError). A new lr more than a group's tensor lr holds is
        refused (ValueError) before anything changes."""
        if epoch is not None:
            raise TypeError("PlateauScheduler.step takes no epoch: the state counts its steps")
        steps = self._steps  # a Scheduler stepping the same optimizer too
        if steps.owner is not self._ref and steps.tick > self._born:
            _refuse_two(steps.owner, self)
        plateau, state = self.plateau, self.state
        groups = self.optimizer.param_groups
        if type(metrics) is float and type(state.lr) is float and len(groups) == self._width:
            # The common step: one lr for every group, a float metric, no group added. Where
            # the groups already hold the new lr there is nothing to check or write.
            state = plateau.update(state, metrics)
            lr = state.lr
            for group in groups:
                if type(group["lr"]) is not float or group["lr"] != lr:
                    break
            else:
                self.state, self.last_epoch = state, state.last_epoch
                self._step_count += 1
                self._last_lr = [lr] * len(groups)
                steps.owner, steps.tick = self._ref, next(_TICKS)
                return
        if type(metrics) is not float and isinstance(metrics, torch.Tensor):
            metrics = metrics.detach()  # a loss with its graph: only the value is wanted
        plateau, state = self._grown()
        state = plateau.update(state, host_metric(metrics))
        lrs = _row(_host_lr(state.lr), len(self.optimizer.param_groups), plateau)
        # A GreedyLR may raise the lr past what a tensor lr holds: refused before any change.
        _check_row("the plateau's lr", lrs, None, self.optimizer.param_groups)
        self.plateau, self.state, self.last_epoch = plateau, state, int(state.last_epoch)
        self._step_count += 1
        self._write(lrs)
        steps.owner, steps.tick = self._ref, next(_TICKS)

    def __getstate__(self) -> dict[str, Any]:
        """What pickle and ``copy.deepcopy`` take: all but the link to the optimizer's record
        of who steps it (a copy joins its own optimizer's)."""
        state = self.__dict__.copy()
        for name in ("_ref", "_steps"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        _attach(self, self.optimizer)

    def _grown(self) -> tuple[Machine[Any], Any]:
        """The machine and state for param groups added since construction: torch's
        ReduceLROnPlateau continues each from its own lr, with its scalar ``min_lr`` (a
        list cannot be extended: torch raises, and so does this)."""
        groups, plateau = self.optimizer.param_groups, self.plateau
        driven = self._width if plateau.groups is None else plateau.groups
        if len(groups) == driven:
            return plateau, self.state
        extends = isinstance(plateau, ReduceLROnPlateau)  # torch's: GreedyLR has no such rule
        if len(groups) < driven or not extends or self._floors:
            why = "one per group" if extends else "what it is"
            raise RuntimeError(
                f"the optimizer has {len(groups)} param groups, and {plateau!r} drives "
                f"{driven} (a group was added or removed after construction): torch cannot "
                f"extend its min_lr, {why} (it raises at its next cut); this adapter "
                "refuses at once"
            )
        current = _row(_host_lr(self.state.lr), driven, plateau)
        lrs = [*current, *(float(group["lr"]) for group in groups[driven:])]
        grown = dataclasses.replace(plateau, base_lr=tuple(lrs))  # type: ignore[call-arg]
        state = grown._host(grown.check_state(self.state._replace(lr=np.asarray(lrs))))
        return grown, state

    def get_last_lr(self) -> list[float | torch.Tensor]:
        """The lrs last written, typed like the groups' lrs (as ``Scheduler.get_last_lr``)."""
        return _typed(self.optimizer, self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The machine's state as plain data (every state field under its name: numbers and
        lists of numbers), with the machine's config."""
        fields = {
            name: np.asarray(value).tolist()
            for name, value in self.state._asdict().items()
            if name != "last_epoch"
        }
        return {
            "last_epoch": self.last_epoch,
            "_step_count": self._step_count,
            **fields,
            "_last_lr": list(self._last_lr),
            "plateau": self.plateau.to_config(),
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restores a ``state_dict`` and writes its lrs into the optimizer.

        Every entry is checked before anything changes (the state fields by the machine's
        own ``check_state``): a refused state leaves the scheduler and the optimizer as they
        were.

        Raises:
          TypeError: ``state_dict`` is not a mapping, or an entry has the wrong type (a count
            that is not an integer, an lr or ``best`` that is not a number, a ``"plateau"``
            that is not a config).
          ValueError: the state belongs to a different machine or configuration (delete its
            ``"plateau"`` entry to load it anyway), to a ``Scheduler``, or to another
            kind of scheduler (torch's own ReduceLROnPlateau: entries this adapter never
            writes, named); an entry is missing or out of range (``last_epoch`` outside [0,
            2**53], a counter outside [0, 2**31 - 2], an lr that is negative, not finite or
            more than a group's tensor lr holds, a NaN ``best``, a number past float64, lrs
            not one per param group).
        """
        plateau = self.plateau
        fields = plateau.state_type._fields
        writer = "a Scheduler (or a torch LRScheduler)"
        check.state_entries(state_dict, (), _SCHEDULER_KEYS, writer)
        # Another machine's (or configuration's) state is named as such, before its fields.
        if "plateau" in state_dict:  # deleted: the documented way to load across configs
            saved_config = state_dict["plateau"]
            grown = self._grown_into(saved_config)
            if grown is None:
                check.state_matches("plateau", saved_config, plateau.to_config(), config=True)
            else:
                plateau = grown
        known = (*fields, *_PLATEAU_ENTRIES)
        check.state_known(state_dict, known, "lrfun.torch.PlateauScheduler", "")
        check.state_entries(state_dict, fields, (), writer)
        groups = len(self.optimizer.param_groups)
        saved = plateau.state_type(**{name: state_dict[name] for name in fields})
        state = plateau._host(plateau.check_state(saved, label="state_dict[{!r}]"))
        step_count = _count(state_dict, "_step_count") if "_step_count" in state_dict else 0
        if "_last_lr" in state_dict:
            _numbers(state_dict, "_last_lr", groups, low=0.0)  # checked only: lr is the truth
        if "min_lrs" in state_dict:  # torch's entry: the floor this plateau cannot change
            min_lrs = _numbers(state_dict, "min_lrs", groups, low=0.0)
            check.state_matches("min_lrs", min_lrs, self.min_lrs)
        lrs = _row(_host_lr(state.lr), groups, plateau)  # raises if the groups changed
        what = "state_dict['lr']" + ("" if plateau.groups is None else "[{}]")
        _check_row(what, lrs, None, self.optimizer.param_groups)  # in the groups' dtypes
        # Everything checked: the state changes all at once.
        self.plateau, self.state, self.last_epoch = plateau, state, int(state.last_epoch)
        self._step_count = step_count
        self._write(lrs)

    def _grown_into(self, saved: Any) -> Machine[Any] | None:
        """The machine a saved config names where this adapter's plateau grew into it, for
        param groups added mid-run (``_grown``: the same settings, one base lr per group of
        the optimizer now); None otherwise."""
        plateau = self.plateau
        if not isinstance(saved, Mapping) or not isinstance(plateau, ReduceLROnPlateau):
            return None
        current = plateau.to_config()
        base = saved.get("base_lr")
        groups = len(self.optimizer.param_groups)
        if self._floors or not isinstance(base, list) or len(base) != groups:
            return None
        if set(saved) != set(current) or any(
            saved[key] != value for key, value in current.items() if key != "base_lr"
        ):
            return None
        try:
            grown = dataclasses.replace(plateau, base_lr=tuple(float(v) for v in base))
        except (TypeError, ValueError):
            return None
        return grown

    def _lrs(self) -> list[float]:
        return _row(_host_lr(self.state.lr), len(self.optimizer.param_groups), self.plateau)

    def _write(self, lrs: list[float]) -> None:
        """Writes checked lrs (see ``_check_row``) into the param groups."""
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            _set(group, "lr", lr)
        self._last_lr = lrs  # type: ignore[assignment]  # floats, in torch's type


def _refuse_two(owner: weakref.ref[Any] | None, adapter: Any) -> None:
    """Refuses a step of ``adapter``: another adapter (or torch's SequentialLR of adapters)
    has stepped the same optimizer since ``adapter`` was built (the two would overwrite each
    other, see ``_Steps``). An adapter built after another one stopped stepping, or whose
    rival is gone, takes over."""
    other = None if owner is None else owner()
    if other is None:
        return
    plateau = isinstance(other, PlateauScheduler) or isinstance(adapter, PlateauScheduler)
    advice = _NO_COMPOSITE if plateau else _COMPOSE
    raise RuntimeError(
        _TWO_MESSAGE.format(first=repr(other), second=repr(adapter), advice=advice)
    )


def _check_sequential(schedulers: Any, milestones: Any) -> None:
    """Refuses torch's SequentialLR over adapters where it would reset the lrs to an
    ``initial_lr`` that a later OneCycleLR wrote (torch's OneCycleLR rewrites it): torch's
    first scheduler then continues from that lr, while its adapter writes its schedule's."""
    if not isinstance(schedulers, (list, tuple)) or not isinstance(milestones, (list, tuple)):
        return
    first = schedulers[bisect.bisect_right(list(milestones), 0)] if schedulers else None
    if not isinstance(first, Scheduler):
        return
    schedule = first.schedule
    if schedule._with_start(1.0 if schedule.groups is None else (1.0,) * schedule.groups) is None:
        return  # its first lr does not depend on the lr it finds
    expected = _row(_host_lr(schedule._initial_lr), first._width, schedule)
    found = [group.get("initial_lr") for group in first._optimizer.param_groups[: first._width]]
    for index, (have, want) in enumerate(zip(found, expected, strict=True)):
        if have is None or isinstance(have, torch.Tensor):
            continue
        if math.isclose(have, want, rel_tol=1e-12):
            continue
        raise TypeError(
            f"torch's SequentialLR resets the lrs to the groups' initial_lr ({have!r} in param "
            f"group {index}: a later OneCycleLR writes its own, or the optimizer's lr was not "
            f"the schedule's), and its first scheduler continues from there; the adapter of "
            f"{schedule!r} writes its own lrs (from {want!r}), so the two would differ. "
            "Compose in lrfun and adapt the composite: lrfun.torch.Scheduler(optimizer, "
            "lrfun.SequentialLR([...], milestones)) gives torch's values"
        )


def _check_row(
    what: str,
    values: Sequence[float],
    key: str | None,
    groups: Sequence[Mapping[str, Any]],
    *,
    finite: bool = False,
) -> None:
    """Refuses values, one per param group, that the group's lr (``key`` None), momentum or
    beta1 cannot take as the number they are (see ``_unfit``). ``what`` names the values
    (``{}``: the group's index)."""
    found = _unfit(values, key, groups, finite=finite)
    if found is not None:
        raise ValueError(_refusal(what, key, *found))


def _unfit(
    values: Sequence[float],
    key: str | None,
    groups: Sequence[Mapping[str, Any]],
    *,
    finite: bool = False,
) -> tuple[int, float, Any] | None:
    """The first (group index, value, dtype) where a group cannot take the value: a finite
    value past its tensor's dtype (a float32 tensor's ``fill_`` raises, a float16 one stores
    inf) or, with ``finite``, a value that is not finite (dtype None). None: all fit."""
    for index, (group, value) in enumerate(zip(groups, values, strict=True)):
        if finite and not math.isfinite(value):
            return index, value, None
        target = group["betas"][0] if key == "betas" else group[key or "lr"]
        if type(target) is float:
            continue
        dtype = getattr(target, "dtype", None)  # a tensor's (a Python number has none)
        if dtype is not None and abs(value) > _largest(dtype) and math.isfinite(value):
            return index, value, dtype
    return None


def _refusal(what: str, key: str | None, index: int, value: float, dtype: Any) -> str:
    name = "betas[0]" if key == "betas" else key or "lr"
    if dtype is None:
        return (
            f"{what.format(index)} is {value!r} (param group {index}): refusing to write it "
            "into the optimizer"
        )
    return (
        f"{what.format(index)} is {value!r}, more than param group {index}'s {name} holds "
        f"({dtype}, at most {_largest(dtype)!r}): refused, nothing was changed"
    )


def _host_lr(lr: Any) -> Any:
    """A plateau state's lr as a Python float or a list of them."""
    return lr if isinstance(lr, float) else np.asarray(lr, dtype=np.float64).tolist()


def _note_steps(optimizer: Optimizer) -> None:
    """Wraps ``optimizer.step`` to set ``_opt_called``, as torch's LRScheduler constructor
    does (once: a wrapped step is left as it is)."""
    step = optimizer.step
    if hasattr(step, "_wrapped_by_lr_sched"):
        return
    owner = weakref.ref(optimizer)
    function = step.__func__  # type: ignore[attr-defined]

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        opt = owner()
        opt._opt_called = True  # type: ignore[union-attr]
        return function.__get__(opt, type(opt))(*args, **kwargs)

    wrapper._wrapped_by_lr_sched = True  # type: ignore[attr-defined]
    optimizer.step = wrapper  # type: ignore[method-assign]


def _warn_if_base_differs(optimizer: Optimizer, schedule: Schedule) -> None:
    """Warns where a param group's lr is not the schedule's base lr (the schedule wins).

    torch's scheduler would take the group's ``initial_lr`` (its ``lr`` on a fresh
    optimizer) as its base; the adapter writes the schedule's values, so a different base
    means the lrs the user set are silently replaced. Only numbers are compared: a base that
    is an array (a traced or tensor hyperparameter), or a tensor lr without values here (on
    the meta device, or not 0-d), is not checked.
    """
    # The first scheduler torch builds is the one that takes the optimizer's lr as its base
    # (a later OneCycleLR may overwrite initial_lr, which a composite's own base then says).
    first = schedule._leaves()[0]
    if first.sets_lrs:
        return  # torch's CyclicLR / OneCycleLR ignore the optimizer's lr too
    base = first._initial_lr
    groups = optimizer.param_groups
    bases = base if isinstance(base, tuple) else (base,) * len(groups)
    for index, (group, expected) in enumerate(zip(groups, bases, strict=False)):
        key = "initial_lr" if "initial_lr" in group else "lr"
        have = group[key]
        if isinstance(expected, bool) or not isinstance(expected, (int, float)):
            continue
        rel_tol = 1e-12
        if isinstance(have, torch.Tensor):
            if have.device.type == "meta" or have.ndim or not have.is_floating_point():
                continue
            # A tensor lr holds the base rounded to its dtype (0.1 as float32 is 0.10000000149).
            rel_tol = max(rel_tol, torch.finfo(have.dtype).eps)
            have = float(have)
        elif isinstance(have, bool) or not isinstance(have, (int, float)):
            continue
        if not math.isclose(have, expected, rel_tol=rel_tol, abs_tol=0.0):
            warnings.warn(
                f"param group {index} has {key}={have!r}, but the schedule's base lr is "
                f"{expected!r}: the adapter overwrites the group's lr with the schedule's "
                f"values, computed from {expected!r}, not {have!r}. Build the schedule with "
                f"base_lr={have!r} or the optimizer with lr={expected!r} to silence this",
                UserWarning,
                stacklevel=3,
            )


def _momentum_key(optimizer: Optimizer) -> str:
    # torch's CyclicLR/OneCycleLR rule: beta1 when the optimizer has betas, else momentum.
    if "betas" in optimizer.defaults:
        return "betas"
    if "momentum" in optimizer.defaults:
        return "momentum"
    raise ValueError(
        f"the schedule cycles momentum, but {type(optimizer).__name__} has neither 'momentum' "
        "nor 'betas' (torch refuses this too; pass cycle_momentum=False)"
    )


def _config_or_none(schedule: Schedule) -> dict[str, Any] | None:
    try:
        return schedule.to_config()
    except TypeError:  # a Python callable: only the step can be saved
        return None


def _row(values: Any, groups: int, owner: Any) -> list[float]:
    """One value per param group from a scalar or a per-group row."""
    if not isinstance(values, (list, tuple)):
        return [values] * groups
    if len(values) != groups:
        raise RuntimeError(
            f"{owner!r} has values for {len(values)} param groups, but the optimizer now has "
            f"{groups} (a group was added after the scheduler was built)"
        )
    return list(values)


def _set(group: dict[str, Any], key: str, value: float) -> None:
    current = group[key]
    # A float first: isinstance against torch.Tensor goes through its metaclass.
    if type(current) is not float and isinstance(current, torch.Tensor):
        current.fill_(value)  # in place: a compiled step reading it keeps its graph
    else:
        group[key] = value


def _set_momentum(group: dict[str, Any], key: str | None, value: float) -> None:
    if key == "momentum":
        _set(group, "momentum", value)
        return
    betas = group["betas"]
    if isinstance(betas[0], torch.Tensor):
        betas[0].fill_(value)
    else:
        group["betas"] = (value, *betas[1:])


def _typed(
    optimizer: Optimizer, values: Sequence[float | torch.Tensor]
) -> list[float | torch.Tensor]:
    out: list[float | torch.Tensor] = []
    # Groups added since the last step have no last lr yet, as in torch.
    for group, value in zip(optimizer.param_groups, values, strict=False):
        lr = group["lr"]
        if isinstance(lr, torch.Tensor):
            out.append(torch.tensor(value, dtype=lr.dtype, device=lr.device))
        else:
            out.append(value)
    return out


# The entries only one kind of adapter writes: a state holding the other kind's is refused
# even when its config entry ("schedule" / "plateau") was deleted to load it anyway.
_SCHEDULER_KEYS = ("base_lrs", "schedule", "restarted_from")
_PLATEAU_KEYS = ("lr", "best", "num_bad_epochs", "cooldown_counter", "plateau")

# Every entry an adapter's state may hold (a PlateauScheduler's: these and its machine's
# state fields; "min_lrs" is torch's, checked against the plateau's floor). Any other entry
# is another kind of scheduler's: torch's own save their settings ("gamma", "T_0", ...), and
# would otherwise load into an adapter running any schedule.
_SCHEDULER_ENTRIES = (
    "last_epoch", "_step_count", "_last_lr", "real_epoch", "schedule_groups", *_SCHEDULER_KEYS
)
_PLATEAU_ENTRIES = ("last_epoch", "_step_count", "_last_lr", "plateau", "min_lrs")
_STEP_HINT = "; to carry its step over, load {'last_epoch': n, '_step_count': n + 1}"


def _count(
    state_dict: Mapping[str, Any], key: str, *, minimum: int = 0, maximum: int = check.MAX_STEP
) -> int:
    """``state_dict[key]`` as an int in [minimum, maximum] (a Python or NumPy integer)."""
    return check.integer(f"state_dict[{key!r}]", state_dict[key], minimum=minimum, maximum=maximum)


def _numbers(state_dict: Mapping[str, Any], key: str, groups: int, **bounds: Any) -> list[float]:
    """``state_dict[key]`` as one finite float in ``bounds`` per param group."""
    return check.row(f"state_dict[{key!r}]", state_dict[key], groups, **bounds)


_NOTHING: _Stretch = (0, [], [], -1, 0.0)  # no stretch evaluated


def _at(
    stretch: _Stretch, step: int, momentum_key: str | None
) -> tuple[list[float], list[float] | None]:
    """The lrs (and momenta) at ``step`` of a stretch that holds it."""
    start, lrs, momenta, _, _ = stretch
    return lrs[step - start], (momenta[step - start] if momentum_key else None)
