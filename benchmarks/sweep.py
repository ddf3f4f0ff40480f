"""An lr sweep in JAX: N models with N peak lrs, one vmapped step against N compiled ones.

The workload is ``examples/sweep_jax.py``: linear regressions trained with
``lrfun.optax.inject(optax.sgd, OneCycleLR(peak))``. Swept together, the batch of schedules
is one pytree (stacked leaves) passed through one ``jax.jit(jax.vmap(step))``: one trace and
one compile whatever N is. One at a time, each peak closes over its own jitted step: N
traces and N compiles. Reported: traces of each way and the wall-time ratio (compiles
included: they are what a sweep costs).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from benchmarks._common import Row

__all__ = ["run"]

MODELS, STEPS = 16, 200


def _example() -> Any:
    path = str(Path(__file__).resolve().parent.parent / "examples")
    sys.path.insert(0, path)
    try:
        import sweep_jax
    finally:
        sys.path.remove(path)
    return sweep_jax


def run(tiny: bool = False) -> list[Row]:
    """Traces and wall time of the vmapped sweep against one compile per model."""
    example = _example()
    models, steps = (3, 6) if tiny else (MODELS, STEPS)
    together = example.sweep(models, steps)
    apart = example.one_at_a_time(models, steps)
    case = f"OneCycleLR, {models} peak lrs, {steps} steps"
    detail = {
        "vmapped seconds": together["seconds"],
        "one-at-a-time seconds": apart["seconds"],
        "models": models,
        "steps": steps,
    }
    return [
        Row("sweep", case, "vmapped sweep: traces", together["traces"], "== 1", detail),
        Row("sweep", case, "one at a time: traces", apart["traces"], "", detail),
        Row(
            "sweep",
            case,
            "speed-up of one vmapped sweep (x)",
            apart["seconds"] / together["seconds"],
            "",
            detail,
        ),
    ]
