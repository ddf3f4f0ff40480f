"""Formulas several schedules share, each defined once."""

from __future__ import annotations

import math
from typing import Any

from lrfun._backend import Ctx

__all__ = ["anneal_cos", "anneal_linear", "power", "searchsorted"]


def power(ctx: Ctx, base: float, exponent: Any) -> Any:
    """``base ** exponent`` for a host base >= 0 and a float array exponent >= 0.

    Computed as ``exp(exponent * log(base))`` with the log taken on the host in float64: a
    float32 evaluation then stays within float32 tolerance for long decays, where
    ``float32(gamma) ** k`` would compound gamma's rounding k times.
    """
    if base == 0.0:
        return ctx.xp.where(exponent == 0, 1.0, 0.0)
    return ctx.xp.exp(exponent * math.log(base))


def anneal_cos(ctx: Ctx, start: Any, end: Any, fraction: Any) -> Any:
    """Half-cosine from ``start`` (fraction 0) to ``end`` (fraction 1), torch's formula:
    ``end + (start - end) / 2 * (1 + cos(pi * fraction))``."""
    return end + (start - end) / 2.0 * (1.0 + ctx.xp.cos(math.pi * fraction))


def anneal_linear(ctx: Ctx, start: Any, end: Any, fraction: Any) -> Any:
    """Straight line from ``start`` (fraction 0) to ``end`` (fraction 1), torch's formula:
    ``(end - start) * fraction + start``."""
    return (end - start) * fraction + start


def searchsorted(ctx: Ctx, boundaries: tuple[int, ...], step: Any) -> Any:
    """How many of the sorted integer ``boundaries`` are <= ``step``: one lookup, whatever
    the number of boundaries (no loop over them, so the traced graph does not grow)."""
    xp = ctx.xp
    if not boundaries:
        return xp.zeros_like(step)
    # A boundary past the step dtype's range is never reached; clipping keeps it
    # representable (JAX counts are int32).
    top = xp.iinfo(step.dtype).max
    table = xp.asarray([min(b, top) for b in boundaries], dtype=step.dtype, device=ctx.device)
    return xp.searchsorted(table, step, side="right")
