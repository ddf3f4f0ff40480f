"""An lr sweep in JAX: N models with N peak lrs, one vmapped step against N compiled ones.

The workload is ``examples/sweep_jax.py``: linear regressions trained with
``lrfun.optax.inject(optax.sgd, OneCycleLR(peak))``. Swept together, the batch of schedules
is one pytree (stacked leaves) passed through one ``jax.jit(jax.vmap(step))``: one trace and
one compile whatever N is. One at a time, each peak closes over its own jitted step: N
traces and N compiles. Reported: traces of each way and the wall-time ratio (compiles
included: they are what a sweep costs), the two ways taking turns over several rounds (each
call traces and compiles afresh) and the ratio the median of the rounds' ratios.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from benchmarks._common import Ratio, Row, rounds

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
    runs: dict[str, list[dict[str, Any]]] = {"together": [], "apart": []}
    ways = {"together": example.sweep, "apart": example.one_at_a_time}
    for i in range(rounds(1 if tiny else 3)):
        for way in ["together", "apart"] if i % 2 == 0 else ["apart", "together"]:
            runs[way].append(ways[way](models, steps))
    together, apart = runs["together"][0], runs["apart"][0]
    ratio = Ratio.of(
        [a["seconds"] / t["seconds"] for a, t in zip(runs["apart"], runs["together"], strict=True)]
    )
    case = f"OneCycleLR, {models} peak lrs, {steps} steps"
    detail = {
        "vmapped seconds": [t["seconds"] for t in runs["together"]],
        "one-at-a-time seconds": [a["seconds"] for a in runs["apart"]],
        "models": models,
        "steps": steps,
    }
    return [
        Row("sweep", case, "vmapped sweep: traces", together["traces"], "== 1", detail),
        Row("sweep", case, "one at a time: traces", apart["traces"], "", detail),
        Row.paired("sweep", case, "speed-up of one vmapped sweep (x)", ratio, "", detail),
    ]
