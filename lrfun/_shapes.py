"""The shapes of LLM schedules' phases, each defined once: warmups, stable phases, decays.

Every shape is a fraction, written against the array API (``ctx.xp``), that a schedule
scales between two lrs: a warmup's fraction rises from 0 (progress 0) to 1 (progress 1) and
gives ``start + (peak - start) * warmup(p)``; a decay's falls from 1 to 0 and gives
``final + (peak - final) * decay(p)``; a stable phase's is the lr relative to the peak,
1 where it starts. Progress ``p`` is a float array in ``[0, 1]`` (callers clamp it); the
formulas hold no Python branch on values.

Each curve is computed in the form that keeps its relative precision at the end where the
value is small (``1 - sqrt(p)`` as ``(1 - p) / (1 + sqrt(p))``, the cosine from its nearer
end, ``2 * 0.5**p - 1`` as ``expm1((1 - p) log 2)``): the same curve as the frameworks'
arithmetic, within the float64 and float32 tolerances, and a float32 cooldown to a small
final lr keeps its digits.

========================  ============================================================
warmup shapes             fraction at progress ``p``
========================  ============================================================
``linear``                ``p``
``cosine``                ``0.5 * (1 - cos(pi p))``
``1-sqrt``                ``1 - sqrt(1 - p)``
========================  ============================================================

========================  ============================================================
decay shapes              fraction at progress ``p`` (``r``: the rate)
========================  ============================================================
``linear``                ``1 - p``
``1-sqrt``                ``1 - sqrt(p)``
``cosine``                ``0.5 * (1 + cos(pi p))``
``square``                ``1 - p**2``
``mirror-cosine``         ``2 (1 - p) - 0.5 * (1 + cos(pi p))`` (Hägele et al.'s
                          ``miror_cosine``: the linear decay's mirror image of the cosine)
``exponential``           ``(r**p - r) / (1 - r)``: a geometric decay from 1 to ``r``,
                          rescaled to end at 0 (``1 - p`` at ``r = 1``); with ``r`` the
                          final lr's ratio to the peak the lr is ``peak * r**p``
                          (Hägele et al.'s ``final_lr_factor ** p``, timm's ``exp``)
``exponential-halving``   ``2 * 0.5**p - 1`` (Megatron-LM's WSD ``exponential``)
========================  ============================================================

========================  ============================================================
stable shapes             lr relative to the peak, ``s`` steps into the phase
========================  ============================================================
``constant``              ``1``
``rsqrt``                 ``1 / sqrt((s + T) / T)`` (big_vision's ``rsqrt``, timescale T)
``power``                 ``((s + T) / T) ** b`` (OLMo-core's ``PowerLR``: exponent b)
========================  ============================================================

>>> import numpy as np
>>> from lrfun._backend import Ctx, numpy_namespace
>>> ctx = Ctx(numpy_namespace(), np.float64, "cpu")
>>> p = np.array([0.0, 0.25, 1.0])
>>> decay(ctx, "linear", p).tolist(), warmup(ctx, "linear", p).tolist()
([1.0, 0.75, 0.0], [0.0, 0.25, 1.0])
>>> decay(ctx, "exponential-halving", p).round(12).tolist()
[1.0, 0.681792830507, 0.0]
"""

from __future__ import annotations

import math
from typing import Any

from lrfun._backend import Ctx
from lrfun._math import power

__all__ = [
    "DECAYS",
    "STABLES",
    "WARMUPS",
    "decay",
    "interpolate",
    "stable",
    "warmup",
]

WARMUPS = ("linear", "cosine", "1-sqrt")
STABLES = ("constant", "rsqrt", "power")
DECAYS = (
    "linear",
    "1-sqrt",
    "cosine",
    "square",
    "mirror-cosine",
    "exponential",
    "exponential-halving",
)


def interpolate(ctx: Ctx, low: Any, high: Any, fraction: Any) -> Any:
    """``low + (high - low) * fraction``: a shape's fraction as an lr between two lrs (the
    start or final lr and the peak)."""
    return ctx.const(low) + (ctx.const(high) - ctx.const(low)) * fraction


def _half_cosine(ctx: Ctx, p: Any) -> Any:
    """``0.5 * (1 + cos(pi p))`` from its nearer end: ``1 - sin(pi/2 p)**2`` up to the
    middle, ``sin(pi/2 (1 - p))**2`` after, so that it reaches 0 with its relative
    precision (``1 - p`` is exact there: Sterbenz)."""
    xp = ctx.xp
    first = p <= 0.5
    nearer = xp.sin((math.pi / 2) * xp.where(first, p, 1.0 - p)) ** 2
    return xp.where(first, 1.0 - nearer, nearer)


def warmup(ctx: Ctx, shape: str, progress: Any) -> Any:
    """A warmup's fraction at ``progress`` in ``[0, 1]``: 0 at the start, 1 at the end.

    Args:
      ctx: the evaluation context.
      shape: one of ``WARMUPS`` (``linear``, ``cosine``, ``1-sqrt``).
      progress: a float array in ``[0, 1]``.

    Returns:
      The fraction of the way from the start lr to the peak.
    """
    xp = ctx.xp
    if shape == "linear":
        return progress
    if shape == "cosine":
        # 0.5 * (1 - cos(pi p)), as the square of a sine: no cancellation near 0
        return xp.sin((math.pi / 2) * progress) ** 2
    if shape == "1-sqrt":
        # 1 - sqrt(1 - p) without cancellation near 0
        return progress / (1.0 + xp.sqrt(_nonnegative(ctx, 1.0 - progress)))
    raise ValueError(f"warmup shape must be one of {WARMUPS}, got {shape!r}")


def stable(ctx: Ctx, shape: str, since: Any, timescale: float, exponent: Any = -0.5) -> Any:
    """A stable phase's lr relative to the peak, ``since`` steps (a float array >= 0) into
    the phase: 1 at its start.

    Args:
      ctx: the evaluation context.
      shape: one of ``STABLES`` (``constant``, ``rsqrt``, ``power``).
      since: the steps since the phase began, a float array >= 0.
      timescale: T > 0, the steps over which ``rsqrt`` and ``power`` fall by their first
        factor (``(2T / T) ** b``).
      exponent: b, the power's exponent (``power`` only; ``rsqrt`` is ``b = -0.5``).

    Returns:
      ``1``, ``1 / sqrt((s + T) / T)`` or ``((s + T) / T) ** b``.
    """
    if shape == "constant":
        return ctx.xp.ones_like(since)
    scaled = (since + timescale) / timescale
    if shape == "rsqrt":
        return 1.0 / ctx.xp.sqrt(scaled)
    if shape == "power":
        return _real_power(ctx, scaled, exponent)
    raise ValueError(f"stable shape must be one of {STABLES}, got {shape!r}")


def decay(ctx: Ctx, shape: str, progress: Any, rate: Any = 0.0) -> Any:
    """A decay's fraction at ``progress`` in ``[0, 1]``: 1 at the start, 0 at the end.

    Args:
      ctx: the evaluation context.
      shape: one of ``DECAYS``.
      progress: a float array in ``[0, 1]``.
      rate: r >= 0, the ``exponential`` shape's ratio (the final lr over the
        peak, for Hägele et al.'s form); the other shapes ignore it.

    Returns:
      The fraction of the way from the final lr to the peak.
    """
    xp = ctx.xp
    p = progress
    if shape == "linear":
        return 1.0 - p
    if shape == "1-sqrt":
        # 1 - sqrt(p), without the cancellation near p = 1
        return (1.0 - p) / (1.0 + xp.sqrt(p))
    if shape == "cosine":
        return _half_cosine(ctx, p)
    if shape == "square":
        return (1.0 - p) * (1.0 + p)
    if shape == "mirror-cosine":
        return 2.0 * (1.0 - p) - _half_cosine(ctx, p)
    if shape == "exponential":
        return _geometric(ctx, p, rate)
    if shape == "exponential-halving":
        # 2 * 0.5**p - 1 = 2**(1 - p) - 1, with expm1 for its digits near p = 1
        return xp.expm1(math.log(2.0) * (1.0 - p))
    raise ValueError(f"decay shape must be one of {DECAYS}, got {shape!r}")


def _geometric(ctx: Ctx, p: Any, rate: Any) -> Any:
    """``(r**p - r) / (1 - r)`` for a rate ``r >= 0``; ``1 - p`` at ``r = 1`` (its limit).
    A rate above 1 (a final lr above the lr the decay starts from) rises geometrically."""
    xp = ctx.xp
    if isinstance(rate, float):
        if rate == 1.0:
            return 1.0 - p
        return (power(ctx, rate, p) - rate) / (1.0 - rate)
    r = ctx.array(rate)
    other = r != 1.0
    safe = xp.where(other, r, xp.zeros_like(r))
    curve = (power(ctx, safe, p) - safe) / (1.0 - safe)
    return xp.where(other, curve, 1.0 - p)


def _real_power(ctx: Ctx, base: Any, exponent: Any) -> Any:
    """``base ** exponent`` for a float array ``base >= 1`` and any real exponent (a float
    or a traced array), as ``exp(b log(base))`` in float32 (where a float32 power would
    round ``b`` first)."""
    xp = ctx.xp
    if ctx.dtype == xp.float64:
        return base ** ctx.const(exponent)
    return xp.exp(ctx.const(exponent) * xp.log(base))


def _nonnegative(ctx: Ctx, x: Any) -> Any:
    """``max(0, x)`` of an ``x`` that XLA may round just below 0 (``1 - 3 / 3``)."""
    return ctx.xp.where(x > 0, x, ctx.xp.zeros_like(x))
