"""Composites without a closed form: lrfun's host simulation against torch's own stepping.

The composite is a ChainedScheduler of a CyclicLR and a CosineAnnealingLR (torch's updates
overwrite, then scale, the lr every step). Loading it at a far step (what the torch adapter
does on resume: the 1,024 steps from there) simulates every step before it. Figures: the
simulation's speed per step against torch's ``scheduler.step()`` (a ratio), and the host
memory it peaks at against lrfun's budget.
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import numpy as np

from benchmarks._common import Row

__all__ = ["run"]

FAR = 3 * 10**7


def _schedule() -> Any:
    import lrfun

    return lrfun.ChainedScheduler(
        [lrfun.CyclicLR(0.01, 0.1, 3), lrfun.CosineAnnealingLR(0.01, 1000, eta_min=0.001)]
    )


def _torch_seconds_per_step(steps: int) -> float:
    import torch

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.01, momentum=0.9)
    S = torch.optim.lr_scheduler
    sched = S.ChainedScheduler(
        [S.CyclicLR(opt, 0.01, 0.1, 3), S.CosineAnnealingLR(opt, 1000, eta_min=0.001)]
    )
    start = time.perf_counter()
    for _ in range(steps):
        opt.step()
        sched.step()
    return (time.perf_counter() - start) / steps


def run(tiny: bool = False) -> list[Row]:
    """Seconds and peak memory of loading the composite at a far step."""
    from lrfun import _chain

    far = 10**5 if tiny else FAR
    schedule = _schedule()
    tracemalloc.start()
    start = time.perf_counter()
    values = schedule(np.arange(far, far + 1024))
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    torch_step = _torch_seconds_per_step(2_000 if tiny else 20_000)
    case = f"ChainedScheduler(CyclicLR, CosineAnnealingLR), steps {far:.0e}..+1023"
    detail = {"seconds": seconds, "torch_seconds_per_step": torch_step, "peak_bytes": peak}
    assert np.isfinite(values).all()
    return [
        Row(
            "simulation",
            case,
            "speed per step vs torch's step() (x)",
            torch_step * far / seconds,
            ">= 10",
            detail=detail,
        ),
        Row(
            "simulation",
            case,
            "peak host memory / budget",
            peak / _chain.BUDGET,
            "<= 1",
            detail=detail,
        ),
    ]
