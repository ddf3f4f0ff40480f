"""Composites without a closed form: lrfun's host simulation against torch's own stepping,
and its way of applying the maps against the alternatives.

The far case is a ChainedScheduler of a CyclicLR and a CosineAnnealingLR (torch's updates
overwrite, then scale, the lr every step). Loading it at a far step (what the torch adapter
does on resume: the 1,024 steps from there) simulates every step before it. Figures: the
simulation's speed per step against torch's ``scheduler.step()`` (a ratio), and the host
memory it peaks at against lrfun's budget.

The maps of a block are applied in torch's order (``lrfun._chain.affine_chain``: runs of
decays in one ``np.multiply.accumulate``, other maps in a Python loop). Three composites whose
maps reach it (an offset every step; offsets, then decays; decays only) are simulated to the
same step with it, with a blocked prefix composition (the maps composed 64 at a time by
doubling, which departs from torch's rounding order; lrfun's earlier path) and with every map
applied in the Python loop. Figures: the time ratios, measured in the same run, and how far
the blocked composition's lrs are from torch's order. (The far case's maps never reach it:
every step sets the lr outright, which the engine applies with array operations.)
"""

from __future__ import annotations

import contextlib
import functools
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import numpy as np

from benchmarks._common import Row, paired

__all__ = ["COMPOSITES", "run", "solvers", "values"]

FAR = 3 * 10**7
# The step the ways of applying the maps are compared at (every step before it is simulated).
NEAR = 3 * 10**6
# The blocked composition's block of maps.
_CHUNK = 64
_CANCEL = 2.0

Solver = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _schedule() -> Any:
    import lrfun

    return lrfun.ChainedScheduler(
        [lrfun.CyclicLR(0.01, 0.1, 3), lrfun.CosineAnnealingLR(0.01, 1000, eta_min=0.001)]
    )


def _cosine_decay() -> Any:
    import lrfun

    # an offset every step (the cosine's eta_min), then a decay: no run of decays
    return lrfun.ChainedScheduler(
        [lrfun.CosineAnnealingLR(0.1, 97, eta_min=0.003), lrfun.StepLR(0.1, 500, 0.9)]
    )


def _warmup_cosine_then_decay() -> Any:
    import lrfun

    # a composite first child, then a long run of decays after the milestone
    first = lrfun.ChainedScheduler(
        [lrfun.LinearLR(0.1, 0.1, 1.0, 50), lrfun.CosineAnnealingLR(0.1, 31, eta_min=0.001)]
    )
    return lrfun.SequentialLR([first, lrfun.ExponentialLR(0.1, 0.9999)], [7000])


def _decays() -> Any:
    import lrfun

    # decays only: no offset anywhere
    first = lrfun.ChainedScheduler(
        [lrfun.LinearLR(0.1, 0.01, 1.0, 1000), lrfun.ExponentialLR(0.1, 0.99999)]
    )
    milestones = [10**5, 3 * 10**5, 6 * 10**5]
    return lrfun.SequentialLR([first, lrfun.MultiStepLR(0.1, milestones, 0.5)], [2000])


COMPOSITES: dict[str, Callable[[], Any]] = {
    "ChainedScheduler(CosineAnnealingLR, StepLR)": _cosine_decay,
    "SequentialLR([ChainedScheduler(LinearLR, CosineAnnealingLR), ExponentialLR])": (
        _warmup_cosine_then_decay
    ),
    "SequentialLR([ChainedScheduler(LinearLR, ExponentialLR), MultiStepLR])": _decays,
}


def _torch_stepping(steps: int) -> None:
    """torch's own composite, made and stepped ``steps`` times."""
    import torch

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.01, momentum=0.9)
    S = torch.optim.lr_scheduler
    sched = S.ChainedScheduler(
        [S.CyclicLR(opt, 0.01, 0.1, 3), S.CosineAnnealingLR(opt, 1000, eta_min=0.001)]
    )
    for _ in range(steps):
        opt.step()
        sched.step()


def _loop(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Every map applied in the Python loop, in torch's order."""
    from lrfun import _chain

    out = np.empty_like(a)
    for g in range(a.shape[1]):
        _chain._one_by_one(float(x[g]), a[:, g], b[:, g], out[:, g])
    return out


def _blocked(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The blocked prefix composition: within each block of :data:`_CHUNK` maps the prefix
    compositions by doubling, the blocks chained one after another; blocks whose terms
    cancel (a cosine's trough) and non-finite results applied in the loop instead."""
    with np.errstate(all="ignore"):
        out = _composed(x, a, b)
    return out if np.isfinite(out).all() else _loop(x, a, b)


def _composed(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    size, groups = a.shape
    pad = -size % _CHUNK

    def by_position(v: np.ndarray, fill: float) -> np.ndarray:
        v = np.concatenate([v, np.full((pad, groups), fill)]).reshape(-1, _CHUNK, groups)
        return np.ascontiguousarray(v.transpose(1, 0, 2))

    A, B = by_position(a, 1.0), by_position(b, 0.0)
    size_b = np.abs(B)
    shift = 1
    while shift < _CHUNK:
        B[shift:] += A[shift:] * B[:-shift]
        size_b[shift:] += np.abs(A[shift:]) * size_b[:-shift]
        A[shift:] *= A[:-shift].copy()
        shift *= 2
    ends = [(A[-1, :, g].tolist(), B[-1, :, g].tolist()) for g in range(groups)]
    starts = np.empty((A.shape[1], groups))
    for g, (last_a, last_b) in enumerate(ends):
        value = float(x[g])
        for j, (ak, bk) in enumerate(zip(last_a, last_b, strict=True)):
            starts[j, g] = value
            value = ak * value + bk
    out = A * starts + B
    sizes = np.abs(A) * np.abs(starts) + size_b
    bad = ~(sizes <= _CANCEL * np.abs(out)).all(axis=0)
    if bad.any():
        a_rows = [r.tolist() for r in np.moveaxis(by_position(a, 1.0), 0, -1)]
        b_rows = [r.tolist() for r in np.moveaxis(by_position(b, 0.0), 0, -1)]
        for g in range(groups):
            value = float(x[g])
            for j in range(A.shape[1]):
                starts[j, g] = value
                if not bad[j, g]:
                    value = ends[g][0][j] * value + ends[g][1][j]
                    continue
                for k, (ak, bk) in enumerate(zip(a_rows[j][g], b_rows[j][g], strict=True)):
                    value = ak * value + bk
                    out[k, j, g] = value
        out = np.where(~bad, A * starts + B, out)
    lrs: np.ndarray = out.transpose(1, 0, 2).reshape(-1, groups)[:size]
    return lrs


def solvers() -> dict[str, Solver]:
    """The ways of applying a block's maps: lrfun's, and the alternatives."""
    from lrfun import _chain

    return {"torch order": _chain.affine_chain, "blocked": _blocked, "loop": _loop}


@contextlib.contextmanager
def _solving_with(solver: Solver) -> Iterator[None]:
    from lrfun import _chain

    with mock.patch.object(_chain, "affine_chain", solver):
        yield


def values(make: Callable[[], Any], step: int, solver: Solver) -> np.ndarray:
    """The lrs of a fresh composite at the 1,024 steps up to ``step``, its maps applied by
    ``solver``."""
    with _solving_with(solver):
        out: np.ndarray = np.asarray(make()(np.arange(step - 1024, step)))
    return out


def _compared(tiny: bool) -> list[Row]:
    step = 10**4 if tiny else NEAR
    ways = solvers()
    rows = []
    for label, make in COMPOSITES.items():
        case = f"{label}, steps to {step:.0e}"
        ours = values(make, step, ways["torch order"])
        # The loop is torch's order too: the same lrs to the bit. The blocked composition
        # rounds in another order: how far that takes it is a figure.
        np.testing.assert_array_equal(values(make, step, ways["loop"]), ours)
        departure = np.abs(values(make, step, ways["blocked"]) - ours) / np.abs(ours)
        timings = paired(
            {name: functools.partial(values, make, step, s) for name, s in ways.items()},
            repeat=1 if tiny else 5,
        )
        seconds = timings.detail()
        rows += [
            Row.paired(
                "simulation",
                case,
                "speed-up vs the blocked prefix composition (x)",
                timings.ratio("blocked", "torch order"),
                detail=seconds,
            ),
            Row(
                "simulation",
                case,
                "blocked composition: largest relative distance from torch's order",
                float(np.max(departure)),
            ),
            Row.paired(
                "simulation",
                case,
                "speed-up vs every map in the Python loop (x)",
                timings.ratio("loop", "torch order"),
                detail=seconds,
            ),
        ]
    return rows


def run(tiny: bool = False) -> list[Row]:
    """Seconds and peak memory of loading the composite at a far step; the ways of applying
    the maps, compared."""
    from lrfun import _chain

    far = 10**5 if tiny else FAR
    torch_steps = 2_000 if tiny else 20_000
    tracemalloc.start()
    lrs = _schedule()(np.arange(far, far + 1024))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert np.isfinite(lrs).all()
    # A fresh composite every round (a composite keeps what it simulated), timed in turn
    # with torch stepping its own.
    timings = paired(
        {
            "lrfun": lambda: _schedule()(np.arange(far, far + 1024)),
            "torch": functools.partial(_torch_stepping, torch_steps),
        },
        repeat=1 if tiny else 3,
    )
    case = f"ChainedScheduler(CyclicLR, CosineAnnealingLR), steps {far:.0e}..+1023"
    detail = {
        "seconds": timings.median("lrfun"),
        "torch_seconds_per_step": timings.median("torch") / torch_steps,
        "rounds_s": timings.detail()["rounds_s"],
        "torch_steps_timed": torch_steps,
        "peak_bytes": peak,
    }
    return [
        Row.paired(
            "simulation",
            case,
            "speed per step vs torch's step() (x)",
            timings.ratio("torch", "lrfun", far / torch_steps),
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
        *_compared(tiny),
    ]
