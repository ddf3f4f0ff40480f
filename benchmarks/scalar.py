"""``schedule(step)`` on a Python int -- ``group["lr"] = s(step)`` in a hand-written loop --
against torch's own closed form for the same schedule, and against the formula written with
``math`` (the floor no general library reaches).

torch's side, per schedule: ``_get_closed_form_lr()`` where torch has one (its decays and
cosine); ``get_lr()`` at the step for those whose ``get_lr`` is a function of the step
(OneCycleLR, CyclicLR, LambdaLR; MultiplicativeLR's is one recursive update); the step
itself for CosineAnnealingWarmRestarts (``step(epoch)`` is how torch computes an epoch's lr);
the children's closed forms, composed as torch's composites compose them, for SequentialLR
and ChainedScheduler; transformers' ``lr_lambda(step) * base_lr`` for its schedules.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from typing import Any

from benchmarks._common import Row, paired

__all__ = ["CASES", "agree", "run"]

# (spec, torch's side) per case; the torch side is built by ``_torch_side``.
CASES: dict[str, str] = {
    "StepLR": "StepLR(0.1, step_size=30, gamma=0.5)",
    "MultiStepLR": "MultiStepLR(0.1, milestones=[30, 60, 90], gamma=0.5)",
    "ConstantLR": "ConstantLR(0.1, factor=0.5, total_iters=100)",
    "LinearLR": "LinearLR(0.1, start_factor=0.1, total_iters=100)",
    "ExponentialLR": "ExponentialLR(0.1, gamma=0.999)",
    "PolynomialLR": "PolynomialLR(0.1, total_iters=1000, power=2.0)",
    "CosineAnnealingLR": "CosineAnnealingLR(0.1, T_max=1000)",
    "CosineAnnealingWarmRestarts": "CosineAnnealingWarmRestarts(0.1, T_0=100, T_mult=2)",
    "CyclicLR": "CyclicLR(0.01, max_lr=0.1, step_size_up=500)",
    "OneCycleLR": "OneCycleLR(0.1, total_steps=100000)",
    "LambdaLR": "LambdaLR(0.1, lr_lambda=0.999)",
    "MultiplicativeLR": "MultiplicativeLR(0.1, lr_lambda=0.999)",
    "SequentialLR": (
        "SequentialLR([LinearLR(0.1, start_factor=0.1, total_iters=100), "
        "CosineAnnealingLR(0.1, T_max=10000)], milestones=[100])"
    ),
    "ChainedScheduler": (
        "ChainedScheduler([ConstantLR(0.1, factor=0.5, total_iters=100), "
        "ExponentialLR(0.1, gamma=0.999)])"
    ),
    "hf.CosineWithWarmup": (
        "hf.CosineWithWarmup(0.1, num_warmup_steps=100, num_training_steps=10000)"
    ),
    "hf.WarmupStableDecay": (
        "hf.WarmupStableDecay(0.1, num_warmup_steps=100, num_stable_steps=8900, "
        "num_decay_steps=1000)"
    ),
}

# Steps the calls cycle through: inside every phase of the schedules above.
_STEPS = (0, 7, 55, 123, 250, 777, 1500, 4321)


def _schedule(name: str) -> Any:
    import lrfun
    from lrfun._spec import parse

    if name == "LambdaLR":
        return lrfun.LambdaLR(0.1, lr_lambda=lambda k: 0.999**k)
    return parse(CASES[name])


def _within_step(native: Any) -> Callable[[], list[float]]:
    """``get_lr`` as torch calls it inside ``step`` (outside it, torch warns)."""

    def get_lr() -> list[float]:
        native._get_lr_called_within_step = True
        try:
            return [float(v) for v in native.get_lr()]
        finally:
            native._get_lr_called_within_step = False

    return get_lr


def _closed(native: Any) -> Callable[[int], float]:
    """torch's lr at ``step`` for one native scheduler, computed the way torch computes it
    there without stepping through the steps before."""
    import torch

    kind = type(native).__name__
    if kind == "CosineAnnealingWarmRestarts":

        def restarts(step: int) -> float:
            native.step(step)
            return float(native.get_last_lr()[0])

        return restarts
    if hasattr(native, "_get_closed_form_lr"):
        form = native._get_closed_form_lr

        def closed(step: int) -> float:
            native.last_epoch = step
            return float(form()[0])

        return closed
    if isinstance(native, torch.optim.lr_scheduler.SequentialLR):
        children = [_closed(child) for child in native._schedulers]
        marks = list(native._milestones)

        def sequential(step: int) -> float:
            i = bisect.bisect_right(marks, step)
            return children[i](step - (marks[i - 1] if i else 0))

        return sequential
    if isinstance(native, torch.optim.lr_scheduler.ChainedScheduler):
        factors = [_closed(child) for child in native._schedulers]
        base = native.optimizer.param_groups[0]["initial_lr"]

        def chained(step: int) -> float:
            lr = base
            for factor in factors:
                lr *= factor(step) / base
            return lr

        return chained
    get_lr = _within_step(native)

    def by_get_lr(step: int) -> float:
        native.last_epoch = step
        return get_lr()[0]

    return by_get_lr


def _torch_side(name: str) -> Callable[[int], float]:
    from parity import torch_scheduler

    _, native = torch_scheduler(_schedule(name))
    return _closed(native)


# torch's MultiplicativeLR has no closed form: its side is one recursive update, the work
# torch does per step, whose value is the lr only along a run.
_RECURSIVE = ("MultiplicativeLR",)


def agree(name: str) -> bool:
    """Whether the two contenders give the same lr (float64 tolerance) at every timed step
    (for a case torch computes recursively, whether lrfun's value is torch's along a run)."""
    schedule, theirs = _schedule(name), _torch_side(name)
    if name in _RECURSIVE:
        from parity import torch_trajectory

        lrs = torch_trajectory(schedule, max(_STEPS)).lr[:, 0]
        return all(math.isclose(schedule(k), float(lrs[k]), rel_tol=1e-9) for k in _STEPS)
    return all(
        math.isclose(schedule(k), theirs(k), rel_tol=1e-9, abs_tol=1e-15) for k in _STEPS
    )


def run(tiny: bool = False) -> list[Row]:
    """One row per case: seconds per ``s(step)`` over torch's closed form."""
    number, repeat = (2, 1) if tiny else (300, 15)
    rows = []
    names = ["StepLR", "SequentialLR", "hf.CosineWithWarmup"] if tiny else list(CASES)
    for name in names:
        schedule, theirs = _schedule(name), _torch_side(name)

        def ours(s: Any = schedule) -> None:
            for k in _STEPS:
                s(k)

        def torch_closed(t: Callable[[int], float] = theirs) -> None:
            for k in _STEPS:
                t(k)

        timings = paired({"torch": torch_closed, "lrfun": ours}, number=number, repeat=repeat)
        detail = timings.detail(unit=1e6 / len(_STEPS), suffix="_us_per_call")
        rows.append(
            Row.paired(
                "scalar",
                name,
                "s(int) time, lrfun / torch's closed form",
                timings.ratio("lrfun", "torch"),
                "<= 3",
                detail,
            )
        )
    return rows
