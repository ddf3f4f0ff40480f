"""From torch: any constructed torch scheduler becomes the equivalent lrfun object.

Each lrfun class reads its own torch counterpart (``_from_torch``); this module finds the
class by the torch scheduler's name and holds the helpers the readers share.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lrfun._schedule import Configurable, from_config, names, registered

__all__ = ["from_torch", "lambdas", "per_group"]


def per_group(values: Sequence[Any]) -> Any:
    """One group: the scalar; several: a tuple (lrfun's per-group form)."""
    floats = [float(v) for v in values]
    return floats[0] if len(floats) == 1 else tuple(floats)


def lambdas(fns: Sequence[Any]) -> Any:
    """One function shared by every group: that function; else the list of them."""
    return fns[0] if all(fn is fns[0] for fn in fns) else list(fns)


def from_torch(scheduler: Any) -> Configurable:
    """The lrfun equivalent of a constructed torch scheduler (nested SequentialLR and
    ChainedScheduler included).

    Per-group base lrs come from the scheduler's ``base_lrs`` (the optimizer's
    ``initial_lr``); ReduceLROnPlateau becomes the :class:`~lrfun.ReduceLROnPlateau` machine
    with the optimizer's current lrs. LambdaLR/MultiplicativeLR keep the user's functions.
    The result describes the schedule from construction on: a scheduler already stepped
    ``k`` times is at ``schedule(k)``.

    Args:
      scheduler: an instance of one of torch's scheduler classes (not a subclass: its steps
        may differ).

    Raises:
      TypeError: any other object, naming its class.

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    >>> from_torch(torch.optim.lr_scheduler.StepLR(opt, 30))
    StepLR(base_lr=0.1, step_size=30, gamma=0.1)
    """
    cls = type(scheduler)
    ours = registered(cls.__name__) if cls.__module__ == "torch.optim.lr_scheduler" else None
    if ours is None:
        raise TypeError(
            f"from_torch cannot express {cls.__module__}.{cls.__qualname__}: lrfun knows "
            f"torch's own {', '.join(names())}"
        )
    return from_config({"name": cls.__name__, **ours._from_torch(scheduler)})
