"""Graph size and compile time against the milestone count: lrfun against optax.

MultiStepLR is one ``searchsorted`` over its milestones, so its lowered graph is the same at
every count; ``optax.piecewise_constant_schedule`` unrolls one branch per boundary. A
50-piece SequentialLR is compared with ``optax.join_schedules`` over the same pieces.
Compile times (trace, lower and compile a fresh jit of the step function) are taken in
turns, lrfun and optax alternating, over several rounds; a speed-up is the median of the
rounds' ratios.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks._common import Ratio, Row, paired

__all__ = ["run"]

COUNTS = (3, 100, 1_000, 10_000)
TINY_COUNTS = (3, 10)
# optax unrolls ~13 lowered lines per boundary: 10,000 boundaries take minutes to compile,
# so optax is compiled up to this count.
OPTAX_MAX_COUNT = 1_000


def lines(fn: Callable[[Any], Any]) -> int:
    """Lines of the lowered StableHLO of ``fn`` for a step."""
    import jax
    import jax.numpy as jnp

    return len(jax.jit(fn).lower(jnp.int32(0)).as_text().splitlines())


def compiled(fn: Callable[[Any], Any]) -> Any:
    """``fn`` traced, lowered and compiled for a step, afresh: a new function object each
    time, so no cache of JAX's (traces, lowerings, executables) answers a later round."""
    import jax
    import jax.numpy as jnp

    return jax.jit(lambda step: fn(step)).lower(jnp.int32(0)).compile()


def _compile_detail(timings: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {f"{who}_compile_s": timings.median(who) for who in timings.seconds}
    detail["rounds_compile_s"] = dict(timings.seconds)
    return detail


def multistep_pair(count: int) -> tuple[Any, Any]:
    """lrfun's MultiStepLR and the optax schedule a user would port it to."""
    import optax

    import lrfun

    milestones = list(range(10, 10 * count + 10, 10))
    ours = lrfun.MultiStepLR(0.1, milestones, gamma=0.99)
    theirs = optax.piecewise_constant_schedule(0.1, dict.fromkeys(milestones, 0.99))
    return ours, theirs


def sequential_pair(pieces: int) -> tuple[Any, Any]:
    """A SequentialLR of alternating LinearLR warmups and ExponentialLR decays, and the same
    pieces joined by ``optax.join_schedules``."""
    import optax

    import lrfun

    ours_pieces, their_pieces = [], []
    for i in range(pieces):
        if i % 2 == 0:
            ours_pieces.append(lrfun.LinearLR(0.1, 0.5, 1.0, total_iters=5))
            their_pieces.append(optax.linear_schedule(0.05, 0.1, 5))
        else:
            ours_pieces.append(lrfun.ExponentialLR(0.1, 0.99))
            their_pieces.append(optax.exponential_decay(0.1, 1, 0.99))
    boundaries = list(range(10, 10 * pieces, 10))
    return lrfun.SequentialLR(ours_pieces, boundaries), optax.join_schedules(
        their_pieces, boundaries
    )


def same_values(ours: Any, theirs: Any, steps: int) -> bool:
    """Whether the pair agrees over ``steps`` steps: the comparison is between equivalent
    schedules."""
    import jax
    import jax.numpy as jnp

    # In float64: optax's float32 decays compound the rounding of their rate (0.999 ** k
    # drifts past 1e-5 by k = 1,000), which is not what this checks.
    with jax.enable_x64(True):
        k = jnp.arange(steps)
        a = np.asarray(ours(k), dtype=np.float64)
        b = np.asarray(theirs(k), dtype=np.float64)
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12 * np.abs(b).max()))


def run(tiny: bool = False) -> list[Row]:
    """The graph-size and compile-time rows."""
    counts = TINY_COUNTS if tiny else COUNTS
    repeat = 1 if tiny else 3
    rows: list[Row] = []
    lines_at: dict[int, int] = {}
    compiled(lambda step: step + 1)  # the first compile of a process pays JAX's own start-up
    for count in counts:
        ours, theirs = multistep_pair(count)
        lines_at[count] = lines(ours)
        detail: dict[str, Any] = {"lrfun_lines": lines_at[count]}
        case = f"MultiStepLR, {count:,} milestones"
        rows.append(
            Row("graph", case, "lrfun lowered lines", lines_at[count], f"== {lines_at[counts[0]]}")
        )
        if count <= OPTAX_MAX_COUNT:
            detail["optax_lines"] = lines(theirs)
            timings = paired(
                {"lrfun": lambda ours=ours: compiled(ours), "optax": lambda t=theirs: compiled(t)},
                repeat=repeat,
            )
            detail |= _compile_detail(timings)
            rows.append(
                Row("graph", case, "optax lowered lines", detail["optax_lines"], "", detail)
            )
            target = ">= 20" if count == 1_000 else ""
            rows.append(
                Row.paired(
                    "graph",
                    case,
                    "compile speed-up vs optax (x)",
                    timings.ratio("optax", "lrfun"),
                    target,
                    detail,
                )
            )
        else:
            timings = paired({"lrfun": lambda ours=ours: compiled(ours)}, repeat=repeat)
            detail |= _compile_detail(timings)
            seconds = Ratio.of(timings.seconds["lrfun"])  # the median and quartiles of seconds
            rows.append(Row.paired("graph", case, "lrfun compile (s)", seconds, "", detail))
    pieces = 6 if tiny else 50
    ours, theirs = sequential_pair(pieces)
    detail = {"lrfun_lines": lines(ours), "optax_lines": lines(theirs)}
    timings = paired(
        {"lrfun": lambda: compiled(ours), "optax": lambda: compiled(theirs)}, repeat=repeat
    )
    detail |= _compile_detail(timings)
    case = f"SequentialLR, {pieces} pieces"
    ratio = detail["lrfun_lines"] / detail["optax_lines"]
    rows.append(Row("graph", case, "lowered lines, lrfun / optax", ratio, "", detail))
    rows.append(
        Row.paired(
            "graph",
            case,
            "compile speed-up vs optax (x)",
            timings.ratio("optax", "lrfun"),
            "",
            detail,
        )
    )
    return rows
