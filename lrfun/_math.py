"""Formulas several schedules share, each defined once."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lrfun._backend import SCALARS, Ctx, _is_jax, is_numpy

__all__ = [
    "ByWidth",
    "anneal_cos",
    "anneal_linear",
    "integer_tables",
    "power",
    "reaches",
    "searchsorted",
]


def power(ctx: Ctx, base: Any, exponent: Any, scale: Any = 1.0) -> Any:
    """``scale * base ** exponent`` for a base >= 0 and a float array exponent >= 0.

    In float32 it is computed as ``exp(exponent * log(base))`` with the log of a host base
    taken in float64, so long decays stay within float32 tolerance, where
    ``float32(gamma) ** k`` would compound gamma's rounding k times; a positive host
    ``scale`` joins inside the exponential, so a power past float32's range that the scale
    brings back (1e-8 * 1.05 ** 1819) stays finite. In float64, plain
    ``scale * base ** exponent``. ``scale`` is a hyperparameter as given (a float, a
    per-group tuple, an array). A base that is an array (traced: a hyperparameter swept by
    vmap) takes the same forms in array operations.
    """
    xp = ctx.xp
    factor = ctx.const(scale)
    if not isinstance(base, float):
        base = ctx.array(base)
        if ctx.dtype == xp.float64:
            return factor * base**exponent
        positive = base > 0
        logs = xp.log(xp.where(positive, base, xp.ones_like(base)))
        zero = ctx.where(exponent == 0, 1.0, 0.0)
        return factor * xp.where(positive, xp.exp(exponent * logs), zero)
    if base == 0.0:
        return factor * ctx.where(exponent == 0, 1.0, 0.0)
    if ctx.dtype == xp.float64:
        if xp is SCALARS:  # Python raises where NumPy overflows to inf
            try:
                return factor * base**exponent
            except OverflowError:
                return factor * math.inf
        return factor * base**exponent  # torch's own closed form, exact for powers of two
    scales = scale if isinstance(scale, tuple) else (scale,)
    if all(isinstance(s, float) and s >= 0 for s in scales):
        logs = tuple(math.log(s) if s > 0 else -math.inf for s in scales)
        log_scale = ctx.const(logs if isinstance(scale, tuple) else logs[0])
        return xp.exp(exponent * math.log(base) + log_scale)
    grown = exponent * math.log(base)
    if base > 1.0:
        # A growth with a scale that is an array (traced by jit, swept by vmap): its log joins
        # inside the exponential too where it is positive, so a power past float32's range
        # that the scale brings back stays finite.
        factor = ctx.array(factor)
        positive = factor > 0
        log_scale = xp.log(xp.where(positive, factor, xp.ones_like(factor)))
        return xp.where(positive, xp.exp(grown + log_scale), factor * xp.exp(grown))
    return factor * xp.exp(grown)


def anneal_cos(ctx: Ctx, start: Any, end: Any, fraction: Any) -> Any:
    """Half-cosine from ``start`` (fraction 0) to ``end`` (fraction 1).

    Torch writes it ``end + (start - end) / 2 * (1 + cos(pi * fraction))``. The same curve is
    computed here from whichever end is nearer -- ``start + (end - start) * sin(a) ** 2``
    in the first half, ``end + (start - end) * sin(pi/2 - a) ** 2`` in the second, with
    ``a = pi/2 * fraction`` -- so neither end suffers cancellation: a float32 warmup from a
    small initial lr keeps its relative precision, and fraction 1 lands exactly on ``end``.
    """
    xp = ctx.xp
    first_half = fraction <= 0.5
    # 1 - fraction is exact for fraction in [0.5, 2] (Sterbenz), so fraction 1 gives end.
    # One sine for both halves: the angle from the nearer end is selected first.
    nearer = xp.sin((math.pi / 2) * xp.where(first_half, fraction, 1.0 - fraction)) ** 2
    return xp.where(first_half, start + (end - start) * nearer, end + (start - end) * nearer)


def anneal_linear(ctx: Ctx, start: Any, end: Any, fraction: Any) -> Any:
    """Straight line from ``start`` (fraction 0) to ``end`` (fraction 1), torch's formula:
    ``(end - start) * fraction + start``."""
    return (end - start) * fraction + start


class ByWidth(dict[int, Any]):
    """Values per width of step integer (32, 64 bits): a hashable mapping, so a schedule
    holding one is static JAX data (jit compares and hashes it)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))

    def host(self, bits: int) -> Any:
        """The width's values as a read-only NumPy int64 array, made once (a table of 10^5
        milestones takes milliseconds to convert)."""
        arrays = self.__dict__.setdefault("_arrays", {})
        table = arrays.get(bits)
        if table is None:
            table = np.asarray(self[bits], dtype=np.int64)
            table.flags.writeable = False
            arrays[bits] = table
        return table


def integer_tables(values: tuple[int, ...]) -> ByWidth:
    """Sorted integer boundaries, per width of step integer (32, 64 bits), built once at
    construction. A boundary past a width's range is never reached by such a step (JAX counts
    are int32), so it is left out there (clipped to 2**31 - 1, it would count at that step)."""
    return ByWidth({bits: tuple(v for v in values if v < 2 ** (bits - 1)) for bits in (32, 64)})


def reaches(ctx: Ctx, step: Any, n: int) -> bool:
    """Whether an integer step array of this width can reach ``n`` (an int32 count stops at
    2**31 - 1). A host integer past that is no operand for the step -- it would overflow --
    and no step gets there: formulas take the branch for steps below it instead."""
    top: int = ctx.iinfo(step).max
    return n <= top


def searchsorted(ctx: Ctx, tables: ByWidth, step: Any) -> Any:
    """How many of the sorted boundaries (from ``integer_tables``) are <= ``step``: one
    lookup, whatever their number, so the traced graph does not grow with them."""
    xp = ctx.xp
    bits = ctx.iinfo(step).bits
    boundaries = tables[bits]
    if not boundaries:
        return xp.zeros_like(step)
    if is_numpy(xp) and step.dtype == np.int64:
        return _host_counts(tables.host(bits), step)
    table = xp.asarray(boundaries, dtype=step.dtype, device=ctx.device)
    if len(boundaries) <= _SMALL_TABLE and math.prod(step.shape) >= _MANY_STEPS and _is_jax(xp):
        # A trajectory against a short table (warm restarts, a few milestones): XLA fuses
        # comparing every step with every boundary into one pass with no temporaries, where
        # its binary search keeps several step-sized arrays. Training steps keep the binary
        # search, whose graph is one size for every table.
        return xp.searchsorted(table, step, side="right", method="compare_all")
    return xp.searchsorted(table, step, side="right")


def _host_counts(table: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``searchsorted(table, step, "right")`` for NumPy steps. Sorted steps (a trajectory)
    against many boundaries are counted the other way round: each boundary is looked up
    among the steps, and the counts are the running sum of where they land -- a pass of
    cheap operations per step instead of a binary search."""
    flat = step.reshape(-1)
    if len(table) >= _SWEPT_TABLE and flat.size >= 8 * len(table) and (flat[1:] >= flat[:-1]).all():
        # boundary b counts from the first step >= b on
        landed = np.bincount(np.searchsorted(flat, table, side="left"), minlength=flat.size + 1)
        return np.cumsum(landed[: flat.size]).reshape(step.shape)
    return np.searchsorted(table, step, side="right")


# Boundaries from which sorted NumPy steps are counted by a running sum (below it a binary
# search of a few levels is as fast).
_SWEPT_TABLE = 16
# Boundaries up to which, and steps from which, a step array is compared with all the
# boundaries at once (JAX).
_SMALL_TABLE = 64
_MANY_STEPS = 4096
