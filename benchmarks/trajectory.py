"""Whole trajectories of 10^6 steps: lrfun vectorized against stepping torch's scheduler.

lrfun evaluates ``schedule(np.arange(n))`` in NumPy (float64) and ``jax.jit`` of the same
(float32; compile time reported apart). torch has no trajectory: its scheduler is stepped
``n`` times (timed over 10^5 steps of a fresh scheduler in every round and scaled: a step
costs the same at every step). All four (NumPy, JAX, torch, the floor) take turns in every
round; each speed-up is the median of the rounds' ratios. Peak memory is measured against
the output array: NumPy's with tracemalloc (the step array is the caller's and made
beforehand), JAX's from the compiled program's own accounting
(``memory_analysis``: temporaries plus output, steps generated in the program).
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import numpy as np

from benchmarks._common import Row, paired, rounds

__all__ = ["CONFIGS", "run"]

N = 10**6
TORCH_STEPS = 10**5

CONFIGS: dict[str, dict[str, Any]] = {
    "ExponentialLR": {"name": "ExponentialLR", "base_lr": 0.1, "gamma": 0.99999},
    "StepLR": {"name": "StepLR", "base_lr": 0.1, "step_size": 1000, "gamma": 0.9},
    "MultiStepLR, 3 milestones": {
        "name": "MultiStepLR",
        "base_lr": 0.1,
        "milestones": [N // 4, N // 2, 3 * N // 4],
        "gamma": 0.1,
    },
    "MultiStepLR, 999 milestones": {
        "name": "MultiStepLR",
        "base_lr": 0.1,
        "milestones": list(range(1000, N, 1000)),
        "gamma": 0.999,
    },
    "CosineAnnealingLR": {"name": "CosineAnnealingLR", "base_lr": 0.1, "T_max": 10_000},
    "CosineAnnealingWarmRestarts": {
        "name": "CosineAnnealingWarmRestarts",
        "base_lr": 0.1,
        "T_0": 1000,
        "T_mult": 2,
    },
    "CyclicLR": {"name": "CyclicLR", "base_lr": 0.01, "max_lr": 0.1, "step_size_up": 2000},
    "OneCycleLR": {"name": "OneCycleLR", "max_lr": 0.1, "total_steps": N},
}


# Schedules whose formula is a cosine: compared with one np.cos pass (the others: np.exp).
_COSINE = ("CosineAnnealingLR", "CosineAnnealingWarmRestarts", "OneCycleLR")


def _torch_stepping(config: dict[str, Any], steps: int, count: int) -> Any:
    """A function that steps a fresh torch scheduler ``steps`` times, ``count`` times (the
    schedulers are made beforehand: the timing holds only their steps)."""
    from parity import torch_scheduler

    schedulers = []
    for _ in range(count):
        opt, scheduler = torch_scheduler(config)
        opt.step()
        schedulers.append(scheduler)

    def step() -> None:
        scheduler = schedulers.pop()
        for _ in range(steps):
            scheduler.step()

    return step


def _numpy_peak(schedule: Any, steps: np.ndarray) -> tuple[int, int]:
    """(peak bytes allocated while evaluating, output bytes)."""
    tracemalloc.start()
    try:
        out = schedule(steps)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, out.nbytes


def run(tiny: bool = False) -> list[Row]:
    """Speed-ups over torch and peak memory, per schedule."""
    import jax
    import jax.numpy as jnp

    import lrfun

    n, torch_steps, repeat = (2_000, 200, 1) if tiny else (N, TORCH_STEPS, 5)
    names = ["CosineAnnealingLR"] if tiny else list(CONFIGS)
    rows = []
    for name in names:
        config = dict(CONFIGS[name])
        if name == "OneCycleLR":
            config["total_steps"] = n
        schedule = lrfun.from_config(config)
        steps = np.arange(n)
        trajectory = jax.jit(lambda schedule=schedule: schedule(jnp.arange(n)))
        start = time.perf_counter()
        compiled = trajectory.lower().compile()
        compile_s = time.perf_counter() - start
        # The floor: one pass of the schedule's own transcendental over the same steps.
        floor = np.cos if name in _COSINE else np.exp
        timings = paired(
            {
                "numpy": lambda schedule=schedule, steps=steps: schedule(steps),
                "jax": lambda compiled=compiled: compiled().block_until_ready(),
                "floor": lambda floor=floor, steps=steps: floor(steps * 1e-6),
                "torch": _torch_stepping(config, torch_steps, rounds(repeat)),
            },
            repeat=repeat,
        )
        # torch's rounds step torch_steps steps: scaled to the n steps of a trajectory
        scale = n / torch_steps
        peak, out_bytes = _numpy_peak(schedule, steps)
        memory = compiled.memory_analysis()
        jax_out = memory.output_size_in_bytes
        jax_peak = memory.temp_size_in_bytes + jax_out
        detail = {
            "steps": n,
            "torch_steps_timed": torch_steps,
            "torch_s": timings.median("torch") * scale,
            "numpy_s": timings.median("numpy"),
            "floor_s": timings.median("floor"),
            "floor": floor.__name__,
            "jax_s": timings.median("jax"),
            "rounds_s": timings.detail()["rounds_s"],
            "jax_compile_s": compile_s,
            "numpy_peak_bytes": peak,
            "numpy_output_bytes": out_bytes,
            "jax_peak_bytes": jax_peak,
            "jax_output_bytes": jax_out,
        }
        rows += [
            Row.paired(
                "trajectory",
                name,
                "NumPy speed-up vs torch (x)",
                timings.ratio("torch", "numpy", scale),
                ">= 100",
                detail,
            ),
            Row.paired(
                "trajectory",
                name,
                "jax.jit speed-up vs torch (x)",
                timings.ratio("torch", "jax", scale),
                ">= 100" if "999" in name else ">= 300",
                detail,
            ),
            Row.paired(
                "trajectory",
                name,
                f"NumPy time / one np.{floor.__name__} pass",
                timings.ratio("numpy", "floor"),
                "<= 2",
                detail,
            ),
            Row("trajectory", name, "NumPy peak memory / output", peak / out_bytes, "<= 2", detail),
            Row("trajectory", name, "JAX peak memory / output", jax_peak / jax_out, "<= 2", detail),
        ]
    return rows
