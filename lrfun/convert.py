"""From torch: any constructed torch scheduler becomes the equivalent lrfun object."""

from __future__ import annotations

import math
from typing import Any

from lrfun.schedule import Configurable, from_config

__all__ = ["from_torch"]


def _per_group(values: list[Any]) -> Any:
    """One group: the scalar; several: a tuple (lrfun's per-group form)."""
    values = [float(v) for v in values]
    return values[0] if len(values) == 1 else tuple(values)


def _lambdas(fns: list[Any]) -> Any:
    return fns[0] if all(fn is fns[0] for fn in fns) else list(fns)


def _pct_start(end_step: float, total: int) -> float:
    """The pct_start whose ``float(pct * total) - 1`` is torch's stored phase end exactly."""
    guess = (end_step + 1) / total
    candidates = [guess]
    for direction in (math.inf, -math.inf):
        value = guess
        for _ in range(4):
            value = math.nextafter(value, direction)
            candidates.append(value)
    for pct in candidates:
        if float(pct * total) - 1 == end_step:
            return pct
    return guess


def _one_cycle(s: Any) -> dict[str, Any]:
    groups = s.optimizer.param_groups
    max_lr = [g["max_lr"] for g in groups]
    config: dict[str, Any] = {
        "max_lr": _per_group(max_lr),
        "total_steps": s.total_steps,
        "pct_start": _pct_start(s._schedule_phases[0]["end_step"], s.total_steps),
        "anneal_strategy": s._anneal_func_type,
        "cycle_momentum": s.cycle_momentum,
        "div_factor": float(groups[0]["max_lr"]) / float(groups[0]["initial_lr"]),
        "final_div_factor": float(groups[0]["initial_lr"]) / float(groups[0]["min_lr"]),
        "three_phase": len(s._schedule_phases) == 3,
    }
    if s.cycle_momentum:
        config["base_momentum"] = _per_group([g["base_momentum"] for g in groups])
        config["max_momentum"] = _per_group([g["max_momentum"] for g in groups])
    return config


def _cyclic(s: Any) -> dict[str, Any]:
    up = s.total_size * s.step_ratio
    config: dict[str, Any] = {
        "base_lr": _per_group(s.base_lrs),
        "max_lr": _per_group(s.max_lrs),
        "step_size_up": round(up),
        "step_size_down": round(s.total_size - up),
        "mode": s.mode,
        "gamma": s.gamma,
        "scale_fn": s._scale_fn_custom,
        "scale_mode": s.scale_mode,
        "cycle_momentum": s.cycle_momentum,
    }
    if s.cycle_momentum:
        config["base_momentum"] = _per_group(s.base_momentums)
        config["max_momentum"] = _per_group(s.max_momentums)
    return config


# torch class name -> the lrfun arguments read off a constructed scheduler.
_READERS = {
    "LambdaLR": lambda s: {"lr_lambda": _lambdas(s.lr_lambdas)},
    "MultiplicativeLR": lambda s: {"lr_lambda": _lambdas(s.lr_lambdas)},
    "StepLR": lambda s: {"step_size": s.step_size, "gamma": s.gamma},
    "MultiStepLR": lambda s: {"milestones": sorted(s.milestones.elements()), "gamma": s.gamma},
    "ConstantLR": lambda s: {"factor": s.factor, "total_iters": s.total_iters},
    "LinearLR": lambda s: {
        "start_factor": s.start_factor,
        "end_factor": s.end_factor,
        "total_iters": s.total_iters,
    },
    "ExponentialLR": lambda s: {"gamma": s.gamma},
    "PolynomialLR": lambda s: {"total_iters": s.total_iters, "power": s.power},
    "CosineAnnealingLR": lambda s: {"T_max": s.T_max, "eta_min": s.eta_min},
    "CosineAnnealingWarmRestarts": lambda s: {
        "T_0": s.T_0,
        "T_mult": s.T_mult,
        "eta_min": s.eta_min,
    },
    "ReduceLROnPlateau": lambda s: {
        "base_lr": _per_group([g["lr"] for g in s.optimizer.param_groups]),
        "mode": s.mode,
        "factor": s.factor,
        "patience": s.patience,
        "threshold": s.threshold,
        "threshold_mode": s.threshold_mode,
        "cooldown": s.cooldown,
        "min_lr": _per_group(s.min_lrs),
        "eps": s.eps,
    },
    "CyclicLR": _cyclic,
    "OneCycleLR": _one_cycle,
    "SequentialLR": lambda s: {
        "schedulers": [from_torch(c) for c in s._schedulers],
        "milestones": list(s._milestones),
    },
    "ChainedScheduler": lambda s: {"schedulers": [from_torch(c) for c in s._schedulers]},
}
_OWN_LRS = ("CyclicLR", "OneCycleLR", "ReduceLROnPlateau", "SequentialLR", "ChainedScheduler")


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
    name = cls.__name__
    if cls.__module__ != "torch.optim.lr_scheduler" or name not in _READERS:
        raise TypeError(
            f"from_torch cannot express {cls.__module__}.{cls.__qualname__}: lrfun knows "
            f"torch's own {', '.join(sorted(_READERS))}"
        )
    arguments = _READERS[name](scheduler)
    if name not in _OWN_LRS:
        arguments = {"base_lr": _per_group(scheduler.base_lrs), **arguments}
    return from_config({"name": name, **arguments})
