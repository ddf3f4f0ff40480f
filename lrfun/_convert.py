"""From a live object: any constructed scheduler becomes the equivalent lrfun object.

Every registered class is asked whether the object is one of its reference's
(``Configurable._recognise``), families other than torch's first: transformers' LambdaLRs
are its schedules, a library's own classes answer for their objects. The class reads its
arguments off the object (``_from_torch``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from lrfun import _validate as check
from lrfun._schedule import Configurable, Schedule, classes, is_own, per_group

if TYPE_CHECKING:
    from torch.optim import lr_scheduler

    from lrfun._plateau import ReduceLROnPlateau

__all__ = ["from_torch", "read"]


# torch's ReduceLROnPlateau is an LRScheduler too (the overlap type checkers warn about): a
# plateau typed as a mere LRScheduler is typed a Schedule, where it gives the plateau machine.
@overload
def from_torch(  # type: ignore[overload-overlap]
    scheduler: lr_scheduler.ReduceLROnPlateau,
) -> ReduceLROnPlateau: ...
@overload
def from_torch(scheduler: lr_scheduler.LRScheduler) -> Schedule: ...
@overload
def from_torch(scheduler: object) -> Configurable: ...


def from_torch(scheduler: object) -> Configurable:
    """The lrfun equivalent of a constructed torch scheduler (nested SequentialLR and
    ChainedScheduler included).

    Per-group base lrs come from the scheduler's ``base_lrs`` (the optimizer's
    ``initial_lr``); ReduceLROnPlateau becomes the ``ReduceLROnPlateau`` machine
    with the optimizer's current lrs. LambdaLR/MultiplicativeLR keep the user's functions.
    The result describes the schedule from construction on: a scheduler already stepped
    ``k`` times is at ``schedule(k)``. A scheduler whose chainable updates started from an lr
    other than its ``initial_lr`` (built after another scheduler ran, after the lr was set by
    hand or an optimizer state was loaded) gets that lr as ``start_lr``, read from the lr it
    holds now: torch continues from it.

    Args:
      scheduler: an instance of one of torch's scheduler classes (not a subclass: its steps
        may differ), of transformers', or of any registered class's live reference (a
        library's own, see [``lrfun.extend``][lrfun.extend]).

    The lrs it continues from are the groups' lrs now -- what torch's next step reads: one
    written by hand, by an optimizer state load or a scheduler-only load counts.

    Raises:
      TypeError: any other object, naming its class.
      ValueError: a state no lrfun schedule describes, named: groups added to the optimizer
        after construction, lrs a chainable schedule cannot continue from (past a cosine's
        first trough, past PolynomialLR's end, negative), warm restarts rebuilt with
        ``last_epoch=``, children stepped before their container was built.

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    >>> from_torch(torch.optim.lr_scheduler.StepLR(opt, 30))
    StepLR(base_lr=0.1, step_size=30, gamma=0.1)
    """
    return read(scheduler, alone=True)


def read(scheduler: Any, *, alone: bool) -> Configurable:
    """``from_torch``; ``alone=False`` for a composite's child, whose lr the composite
    sets, so the lr it found at its first step is the composite's to say."""
    kind = type(scheduler)
    found = []
    for cls in classes():
        try:
            schedule = cls._recognise(scheduler)
        except ValueError:  # the class reads the object, and refuses it (a state, a value)
            raise
        except Exception as e:
            raise TypeError(
                f"from_torch: {cls._name} fails to read its {kind.__qualname__}: "
                f"{type(e).__name__}: {e}"
            ) from None
        if schedule is not None:
            found.append((cls, schedule))
    if not found:
        references = sorted({c._reference.name for c in classes() if c._reference is not None})
        raise TypeError(
            f"from_torch cannot express {kind.__module__}.{kind.__qualname__}: no registered "
            f"class reads it (lrfun reads the live objects of {', '.join(references)}, each "
            "by its own class; a subclass may step differently)"
        )
    schedule = _one(found, kind)
    if alone:
        schedule._check_live(scheduler)
        if isinstance(schedule, Schedule):
            schedule = _continued(schedule, scheduler)
    return schedule


def _continued(schedule: Schedule, scheduler: Any) -> Schedule:
    """``schedule`` as it continues from the lrs the groups hold now, which is what torch's
    next step reads: the lr written at the last step, or one written since by hand, by an
    optimizer state load or by a scheduler-only load.

    A chainable schedule continues from them through ``start_lr``; a schedule whose every
    step sets the lr outright (LambdaLR, CyclicLR, warm restarts, ...) overwrites them at
    the next step, as torch does. Where a chainable schedule's next lrs depend on held lrs
    that no ``start_lr`` gives, the state is refused, named."""
    if not getattr(schedule._reference, "continues_held_lrs", True):
        # its library's next step sets the lrs outright from the count it is given (timm's)
        return schedule
    step = _epoch(scheduler)
    groups = _param_groups(scheduler)
    held = scheduler.get_last_lr() if groups is None else [group["lr"] for group in groups]
    width = schedule.groups or 1
    if groups is not None and len(groups) != width:
        raise ValueError(
            f"from_torch cannot express {type(scheduler).__name__} over an optimizer that has "
            f"{len(groups)} param groups where the scheduler was built for {width} (a group was "
            "added after construction: torch continues an added group from its own lr, or "
            "raises, by scheduler). Build the scheduler after adding the groups, or drive "
            "the optimizer with lrfun.torch.Scheduler, which follows torch for added groups"
        )
    values = [float(v) for v in held]
    start = _start_lr(schedule, step, values)
    if start is not None:
        return schedule._with_start(start) or schedule
    expected = np.broadcast_to(np.asarray(schedule(step), dtype=np.float64), (width,))
    if schedule._with_start(1.0 if schedule.groups is None else (1.0,) * width) is None:
        return schedule  # torch's next step sets the lrs outright
    # within the float64 parity tolerance, widened with the steps torch's recursion has
    # rounded on its way there (a cosine run for 11,550 steps is 3.6e-12 off, relative)
    rtol = max(1e-12, 4 * np.finfo(np.float64).eps * step)
    if np.allclose(expected, values, rtol=rtol, atol=1e-12 * schedule._lr_scale()):
        return schedule
    raise ValueError(
        f"from_torch cannot express {type(scheduler).__name__} at step {step} with the groups' "
        f"lrs {check._shown(values)}: torch continues from them, but the schedule gives "
        f"{check._shown(expected.tolist())} there and no start_lr of {schedule._name} reaches "
        "them (an lr written by hand or loaded after its first trough, past its last step, "
        "or negative). Build a fresh scheduler from the lr the groups hold, or write the "
        "schedule's lr back into the groups"
    )


def _param_groups(scheduler: Any) -> Any:
    """The param groups of the optimizer a live scheduler drives (None: none found)."""
    optimizer = getattr(scheduler, "optimizer", None)
    return getattr(optimizer, "param_groups", None)


def _one(found: list[tuple[type[Configurable], Configurable]], kind: type) -> Configurable:
    """The reading of a live object that more than one class claims: a class that tells its
    objects apart (its own ``_recognise``: transformers' LambdaLRs) before one that goes by
    the object's class alone, then lrfun's own before a library's; two left is ambiguous."""

    def rank(cls: type[Configurable]) -> tuple[bool, bool]:
        generic = getattr(cls._recognise, "__func__", None) is _GENERIC
        return (generic, not is_own(cls))

    best = min(rank(cls) for cls, _ in found)
    tied = [(cls, s) for cls, s in found if rank(cls) == best]
    if len(tied) > 1:
        names = ", ".join(cls._name for cls, _ in tied)
        raise TypeError(
            f"from_torch cannot tell which schedule a {kind.__qualname__} is: {names} all read "
            "it (a class sharing its live class with another gives its own _recognise)"
        )
    return tied[0][1]


_GENERIC = getattr(Configurable._recognise, "__func__", None)


def _epoch(scheduler: Any) -> int:
    """Steps taken (torch's ChainedScheduler keeps none: its first child's)."""
    if hasattr(scheduler, "last_epoch"):
        return int(scheduler.last_epoch)
    return _epoch(scheduler._schedulers[0])


def _start_lr(schedule: Schedule, step: int, lrs: Sequence[Any]) -> Any:
    """The group lrs torch's first step must have found for the scheduler to hold ``lrs`` at
    its epoch ``step`` (None where the schedule already holds them, or where they do not
    depend on it). The lr at a step is affine in that start, so two evaluations give it."""
    width = schedule.groups or 1
    held = np.array([float(v) for v in lrs])
    if held.shape != (width,) or not np.all(np.isfinite(held)):
        return None

    def at(start: float) -> np.ndarray | None:
        started = schedule._with_start(start if schedule.groups is None else (start,) * width)
        return None if started is None else np.broadcast_to(started(step), (width,))

    zero, one = at(0.0), at(1.0)
    if zero is None or one is None:
        return None
    slope = one - zero
    if np.allclose(np.broadcast_to(schedule(step), (width,)), held, rtol=1e-12, atol=0.0):
        return None
    if np.any(slope == 0):
        return None
    start = (held - zero) / slope
    return None if np.any(start < 0) else per_group(start)
