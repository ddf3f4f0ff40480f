"""``lrfun.torch.Scheduler.step()`` against the native torch scheduler's ``step()``.

Every schedule, one param group, SGD with momentum, float lrs; horizons long enough that no
schedule runs out (OneCycleLR's total_steps is 10^8). ReduceLROnPlateau is reported too:
``PlateauScheduler.step(metric)`` against torch's, with a constant metric, at 1 and at 10
param groups.
"""

from __future__ import annotations

from typing import Any

from benchmarks._common import Row, paired
from parity.strategies import constant, geometric

__all__ = ["CONFIGS", "agree", "run"]

_BIG = 10**8

CONFIGS: dict[str, dict[str, Any]] = {
    "LambdaLR": {"name": "LambdaLR", "base_lr": 0.1, "lr_lambda": geometric(0.999)},
    "MultiplicativeLR": {"name": "MultiplicativeLR", "base_lr": 0.1, "lr_lambda": constant(0.9999)},
    "StepLR": {"name": "StepLR", "base_lr": 0.1, "step_size": 30, "gamma": 0.5},
    "MultiStepLR": {
        "name": "MultiStepLR",
        "base_lr": 0.1,
        "milestones": list(range(100, 100_000, 100)),
        "gamma": 0.999,
    },
    "ConstantLR": {"name": "ConstantLR", "base_lr": 0.1, "factor": 0.5, "total_iters": 1000},
    "LinearLR": {"name": "LinearLR", "base_lr": 0.1, "start_factor": 0.1, "total_iters": 1000},
    "ExponentialLR": {"name": "ExponentialLR", "base_lr": 0.1, "gamma": 0.9999},
    "PolynomialLR": {"name": "PolynomialLR", "base_lr": 0.1, "total_iters": _BIG, "power": 2.0},
    "CosineAnnealingLR": {"name": "CosineAnnealingLR", "base_lr": 0.1, "T_max": 1000},
    "CosineAnnealingWarmRestarts": {
        "name": "CosineAnnealingWarmRestarts",
        "base_lr": 0.1,
        "T_0": 100,
        "T_mult": 2,
    },
    "CyclicLR": {"name": "CyclicLR", "base_lr": 0.01, "max_lr": 0.1, "step_size_up": 500},
    "OneCycleLR": {"name": "OneCycleLR", "max_lr": 0.1, "total_steps": _BIG},
    "SequentialLR": {
        "name": "SequentialLR",
        "schedulers": [
            {"name": "LinearLR", "base_lr": 0.1, "start_factor": 0.1, "total_iters": 100},
            {"name": "CosineAnnealingLR", "base_lr": 0.1, "T_max": 10_000},
        ],
        "milestones": [100],
    },
    "ChainedScheduler": {
        "name": "ChainedScheduler",
        "schedulers": [
            {"name": "ConstantLR", "base_lr": 0.1, "factor": 0.5, "total_iters": 100},
            {"name": "ExponentialLR", "base_lr": 0.1, "gamma": 0.9999},
        ],
    },
}


def _pair(config: dict[str, Any]) -> tuple[Any, Any]:
    """(native step, lrfun step) callables, each on its own fresh optimizer."""
    import lrfun
    import lrfun.torch
    from parity import torch_scheduler

    _, native = torch_scheduler(config)
    opt, _ = torch_scheduler(config)
    ours = lrfun.torch.Scheduler(opt, lrfun.from_config(config))
    for scheduler in (native, ours):
        scheduler.optimizer.step()  # the order torch expects, so no warning is timed
    return native.step, ours.step


def agree(name: str, steps: int) -> bool:
    """Whether the native scheduler and the adapter set the same lrs (float64 tolerance)
    over ``steps`` steps: the two timed calls do the same work."""
    import numpy as np

    native, ours = _pair(CONFIGS[name])
    for _ in range(steps):
        native()
        ours()
    a = native.__self__.get_last_lr()
    b = ours.__self__.get_last_lr()
    return bool(np.allclose(a, b, rtol=1e-12, atol=0.0))


def _plateau_pair(groups: int = 1) -> tuple[Any, Any]:
    import torch

    import lrfun
    import lrfun.torch

    def optimizer() -> Any:
        params = [{"params": [torch.zeros(1, requires_grad=True)]} for _ in range(groups)]
        return torch.optim.SGD(params, lr=0.1, momentum=0.9)

    native = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer())
    ours = lrfun.torch.PlateauScheduler(optimizer(), lrfun.ReduceLROnPlateau(0.1))
    return (lambda: native.step(1.0)), (lambda: ours.step(1.0))


def run(tiny: bool = False) -> list[Row]:
    """One row per schedule: seconds per step(), lrfun over native."""
    number, repeat = (20, 1) if tiny else (2_000, 15)
    rows = []
    names = ["StepLR", "SequentialLR"] if tiny else list(CONFIGS)
    for name in [*names, "ReduceLROnPlateau", "ReduceLROnPlateau, 10 groups"]:
        if name.startswith("ReduceLROnPlateau"):
            native, ours = _plateau_pair(10 if name.endswith("groups") else 1)
            target = "<= 2"
        else:
            native, ours = _pair(CONFIGS[name])
            target = "<= 0.5"
        timings = paired({"torch": native, "lrfun": ours}, number=number, repeat=repeat)
        detail = timings.detail(unit=1e6, suffix="_us_per_step")
        rows.append(
            Row.paired(
                "adapter",
                name,
                "step() time, lrfun / torch",
                timings.ratio("lrfun", "torch"),
                target,
                detail,
            )
        )
    return rows
