"""The one tolerance policy for comparing a schedule's values with torch's.

An element passes when ``|ours - torch| <= atol_frac * max|torch| + rtol * |torch|``, where
``max|torch|`` is the largest finite ``|value|`` of the whole reference (every step and
group); the absolute term is never below the dtype's smallest normal number (values under it
are not representable in that precision). The row is chosen by precision: the looser of our
evaluation dtype and the reference's dtype decides, so a float64 schedule checked against
torch's float32 tensor-lr trajectory gets the float32 row. Everything is compared in float64.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np

from lrfun._reference import Trajectory

__all__ = ["TOLERANCES", "Comparison", "assert_close", "compare", "tolerance"]

# (rtol, atol as a fraction of the reference's largest |value|). float64 sits far below
# anything training can see and far above the few-ulp drift of torch's recursive forms.
TOLERANCES: Final[Mapping[str, tuple[float, float]]] = {
    "float64": (1e-12, 1e-12),
    "float32": (1e-5, 1e-6),
}


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing a schedule's values with torch's.

    Args:
      max_error: the largest ``|ours - torch|`` (``inf`` where NaN or an infinity disagrees).
      max_fraction: the largest ``error / allowed``; ``<= 1`` everywhere means passed
        (0.0 where both are 0, ``inf`` where something differs and nothing is allowed).
      passed: whether every step and group is within tolerance.
      worst_step: the step (row) of ``max_fraction``.
      worst_group: the param group (column) of ``max_fraction``.
      steps: scheduler steps compared; the arrays had ``steps + 1`` rows.
      dtype: the tolerance row used (``"float64"`` or ``"float32"``).
      fractions: ``error / allowed`` per step, the worst over the groups (``steps + 1``
        values; what a plot of the agreement draws).

    Example:
      >>> compare([1.0, 0.5], [1.0, 0.5], dtype="float64").passed
      True
    """

    max_error: float
    max_fraction: float
    passed: bool
    worst_step: int
    worst_group: int
    steps: int
    dtype: str
    fractions: np.ndarray = field(repr=False, compare=False)


def tolerance(dtype: object) -> tuple[float, float]:
    """The ``(rtol, atol_frac)`` row for an evaluation dtype.

    Args:
      dtype: a NumPy, JAX or torch dtype (or scalar type), or its name.

    Returns:
      ``TOLERANCES["float64"]`` or ``TOLERANCES["float32"]``.

    Raises:
      ValueError: for float16/bfloat16 (no parity promise at that precision) and for any
        dtype that is not a float.

    Example:
      >>> tolerance("float32")
      (1e-05, 1e-06)
    """
    return TOLERANCES[_dtype_name(dtype)]


def compare(
    ours: Any,
    reference: Any,
    *,
    dtype: object,
    what: Literal["lr", "momentum"] = "lr",
    slack: Any = 0.0,
    scale: float = 0.0,
) -> Comparison:
    """Compares our values with torch's under the one tolerance policy.

    Args:
      ours: array-like of shape ``(steps + 1,)`` or ``(steps + 1, groups)``; NumPy, JAX and
        torch tensors on any device all work.
      reference: a ``Trajectory`` (its ``lr`` or ``momentum`` per ``what``;
        its ``dtype`` counts) or an array-like of the same shape; a ``(steps + 1,)`` array
        matches a ``(steps + 1, 1)`` one. A float32 reference array counts as float32.
      dtype: the precision of our evaluation; the looser of it and the reference's decides.
      what: ``"lr"`` or ``"momentum"``: which trajectory to use, and the word in messages.
      slack: per-element error the reference itself carries, added to what is allowed (the
        report passes torch's own float32-vs-float64 difference for tensor-lr references,
        whose recursion rounds to float32 at every step). Default 0.
      scale: the schedule's largest lr when larger than any value the reference reaches (an
        eta_min above base_lr, a peak past the horizon): torch computes with it, so its
        rounding is relative to it. The absolute term uses the larger of the two.

    Returns:
      The [``Comparison``][lrfun.Comparison].

    Example:
      >>> compare([0.1, 0.05], [[0.1], [0.05]], dtype="float32").max_error
      0.0
    """
    return _evaluate(ours, reference, dtype=dtype, what=what, slack=slack, scale=scale).comparison


def assert_close(
    ours: Any,
    reference: Any,
    *,
    dtype: object,
    what: Literal["lr", "momentum"] = "lr",
    slack: Any = 0.0,
    scale: float = 0.0,
) -> Comparison:
    """Like [``compare``][lrfun.compare], but raises ``AssertionError`` when not within tolerance.

    Args:
      ours: as in [``compare``][lrfun.compare].
      reference: as in [``compare``][lrfun.compare].
      dtype: as in [``compare``][lrfun.compare].
      what: as in [``compare``][lrfun.compare].

    Returns:
      The passing [``Comparison``][lrfun.Comparison].

    Raises:
      AssertionError: naming the worst step and group, both values, the error and what
        was allowed there, and how many values are out of tolerance.

    Example:
      >>> assert_close([1.0, 0.5], [1.0, 0.5 + 1e-13], dtype="float64").passed
      True
    """
    result = _evaluate(ours, reference, dtype=dtype, what=what, slack=slack, scale=scale)
    if not result.comparison.passed:
        raise AssertionError(result.message())
    return result.comparison


@dataclass(frozen=True)
class _Evaluation:
    # The public Comparison plus what a failure message needs.
    comparison: Comparison
    what: str
    ours: float
    torch: float
    error: float
    allowed: float
    failed: int
    total: int
    scale: float

    def message(self) -> str:
        c = self.comparison
        rtol, atol_frac = TOLERANCES[c.dtype]
        return (
            f"{self.what} differs from torch beyond {c.dtype} tolerance at "
            f"{self.failed} of {self.total} values; worst at step {c.worst_step}, "
            f"group {c.worst_group}: ours={self.ours!r}, torch={self.torch!r}, "
            f"|diff|={self.error!r}, allowed={self.allowed!r} "
            f"({c.max_fraction:.3g}x; rtol={rtol:g}, atol={atol_frac:g} x max|torch| "
            f"= {atol_frac * self.scale:g})"
        )


def _evaluate(
    ours: Any, reference: Any, *, dtype: object, what: str, slack: Any = 0.0, scale: float = 0.0
) -> _Evaluation:
    if what not in ("lr", "momentum"):
        raise ValueError(f"what must be 'lr' or 'momentum'; got {what!r}")
    our_dtype = _dtype_name(dtype)
    if isinstance(reference, Trajectory):
        ref_dtype = _dtype_name(reference.dtype)
        reference = reference.lr if what == "lr" else reference.momentum
        if reference is None:
            raise ValueError("the reference trajectory has no momentum: torch did not cycle it")
    else:
        ref_dtype = _array_dtype_name(reference)
    # The looser row decides: a float32 side cannot be held to float64's tolerance.
    row = max(our_dtype, ref_dtype, key=lambda name: TOLERANCES[name])
    rtol, atol_frac = TOLERANCES[row]

    o, r = _as_2d(ours, "ours"), _as_2d(reference, "reference")
    if o.shape != r.shape:
        raise ValueError(
            f"ours has shape {np.shape(ours)} but the reference has {np.shape(reference)}: "
            "expected the same (steps + 1, groups), or (steps + 1,) against (steps + 1, 1)"
        )
    if o.size == 0:
        raise ValueError("nothing to compare: the arrays are empty")

    finite = np.abs(r[np.isfinite(r)])
    scale = max(float(finite.max()) if finite.size else 0.0, abs(float(scale)))
    # Equal values (equal infinities) and NaN against NaN agree; a lone NaN or an
    # unequal infinity can never be within tolerance.
    same = (o == r) | (np.isnan(o) & np.isnan(r))
    bad = ~same & ~(np.isfinite(o) & np.isfinite(r))
    error = np.zeros_like(o)
    with np.errstate(over="ignore"):  # finite values far apart: an infinite error is right
        np.subtract(o, r, out=error, where=~same & ~bad)
    error = np.abs(error)
    error[bad] = np.inf
    # The absolute floor never drops below the dtype's smallest normal number: a value under
    # it (a 1e-8 lr times a 1e-311 factor) cannot be represented in that precision at all.
    floor = max(atol_frac * scale, float(np.finfo(np.dtype(row)).tiny))
    allowed = floor + rtol * np.abs(np.where(np.isfinite(r), r, 0.0))
    allowed = allowed + np.broadcast_to(
        np.abs(np.asarray(slack, dtype=np.float64)).reshape(
            np.shape(slack) if np.ndim(slack) != 1 else (-1, 1)
        ),
        allowed.shape,
    )
    ok = same | (error <= allowed)
    fraction = np.where(ok, 0.0, np.inf)
    np.divide(error, allowed, out=fraction, where=allowed > 0)
    worst = int(np.argmax(fraction))
    step, group = divmod(worst, o.shape[1])
    comparison = Comparison(
        max_error=float(error.max()),
        max_fraction=float(fraction.flat[worst]),
        passed=bool(ok.all()),
        worst_step=step,
        worst_group=group,
        steps=o.shape[0] - 1,
        dtype=row,
        fractions=_read_only(fraction.max(axis=1)),
    )
    return _Evaluation(
        comparison=comparison,
        what=what,
        ours=float(o[step, group]),
        torch=float(r[step, group]),
        error=float(error[step, group]),
        allowed=float(allowed[step, group]),
        failed=int((~ok).sum()),
        total=int(ok.size),
        scale=scale,
    )


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _as_2d(values: Any, label: str) -> np.ndarray:
    array = _to_numpy(values).astype(np.float64)
    if array.ndim == 1:
        return array[:, None]
    if array.ndim != 2:
        raise ValueError(
            f"{label} must have shape (steps + 1,) or (steps + 1, groups); got {array.shape}"
        )
    return array


def _to_numpy(values: Any) -> np.ndarray:
    # torch tensors: detach, then host, then float64 there (MPS has no float64, and
    # bfloat16 has no NumPy dtype) -- all without importing torch.
    if _is_torch_tensor(values):
        host: np.ndarray = values.detach().cpu().double().numpy()
        return host
    return np.asarray(values)


def _array_dtype_name(values: Any) -> str:
    if _is_torch_tensor(values):
        name = str(values.dtype)
    else:
        name = np.asarray(values).dtype.name
    try:
        return _dtype_name(name)
    except ValueError:
        # Integer or bool references are exact values: they impose no looser row.
        if name.removeprefix("torch.").startswith(("int", "uint", "bool")):
            return "float64"
        raise


def _is_torch_tensor(values: Any) -> bool:
    return type(values).__module__.startswith("torch") and hasattr(values, "detach")


def _dtype_name(dtype: object) -> str:
    text = str(dtype)
    if text.startswith("torch."):
        name = text.removeprefix("torch.")
    else:
        try:
            name = np.dtype(dtype).name  # type: ignore[call-overload]
        except TypeError:
            name = text if isinstance(dtype, str) else repr(dtype)
    if name in TOLERANCES:
        return name
    if name.startswith(("float", "bfloat")):
        raise ValueError(
            f"dtype {name} is not supported: parity is defined for float64 and float32 only"
        )
    raise ValueError(f"dtype must be a floating dtype (float64 or float32); got {dtype!r}")
