"""Step -> array namespace, and the dtype policy every schedule shares.

A schedule's formula is written once against the array API standard. This module turns
whatever step the caller passes (a Python int, a NumPy array, a JAX array -- traced or not --
or a torch tensor on any device) into an integer array in that array's own namespace, picks
the floating dtype the formula evaluates in, and turns the result back into the caller's kind
of value.

Dtype policy:

* Python numbers are evaluated in float64 and come back as Python floats (a NumPy array when
  the schedule has several param groups). A Python int runs the formula on Python numbers
  (``math``: a call costs about what torch's own closed form does); where that cannot
  answer -- an array-only operation, an overflow Python raises on where NumPy gives inf --
  the step is evaluated as a NumPy array, as a Python float step always is.
* Integer arrays evaluate in their namespace's default floating dtype: float64 for NumPy,
  float32 for JAX (float64 under ``jax_enable_x64``), ``torch.get_default_dtype()`` for torch.
* Floating arrays evaluate in their own dtype (float16/bfloat16 are widened to float32);
  their values are floored to whole steps and a NaN step gives a NaN result.
* Negative steps are clamped to 0: the lr right after construction.
* A step that the namespace's integers cannot hold -- +inf, a float or an unsigned integer
  past 2**31 - 1 in JAX without x64 or past 2**63 - 1 elsewhere -- gives NaN, never the
  value at a wrapped step.
* Steps on torch's ``meta`` device give a meta result of the same shape and dtype as any
  other device's, also where the schedule is evaluated on the host (a user function, a
  simulated composite): a meta tensor has a shape and a dtype but no values.
* Host tables (a simulated composite's lrs, restart starts) are cast to the evaluation dtype
  in NumPy before they become arrays: no float64 tensor is ever made for a float32
  evaluation (MPS has no float64).
"""

from __future__ import annotations

import bisect
import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import array_api_compat
import numpy as np

if TYPE_CHECKING:
    from typing import TypeAlias

    # Only for type checkers: importing lrfun imports neither framework.
    import jax
    import numpy.typing as npt
    import torch

    # NumPy steps: integer or float arrays and scalars (a bool step is refused).
    NumPyStep: TypeAlias = (
        npt.NDArray[np.integer[Any] | np.floating[Any]] | np.integer[Any] | np.floating[Any]
    )
    # What NumPy steps give: float64 lrs (float32 for float32 steps).
    NumPyValues: TypeAlias = npt.NDArray[np.floating[Any]]
    # What a schedule takes as a step: a Python number or an array of any backend.
    Step: TypeAlias = float | NumPyStep | jax.Array | torch.Tensor

__all__ = [
    "SCALARS",
    "ArrayOnlyError",
    "Ctx",
    "NoValuesError",
    "device_of",
    "evaluate",
    "evaluate_scalar",
    "host_values",
    "is_numpy",
    "is_traced",
    "namespace",
    "numpy_namespace",
    "table_end",
]


class NoValuesError(TypeError):
    """A step on torch's ``meta`` device reached code that needs its values (a user function
    called on the host, a simulated composite's table length). ``evaluate`` answers such
    steps with a meta result instead; this error only escapes where something else asked."""


class Ctx(NamedTuple):
    """What a formula needs besides the step: the namespace, float dtype and device."""

    xp: Any
    dtype: Any
    device: Any
    # The fractional part of a real-valued step, for a schedule torch steps at real epochs
    # (``evaluate(..., real=True)``); None: the step is taken as the whole number below it.
    fraction: Any = None
    # (lowest, highest) step of a host evaluation (NumPy steps), or None: a formula in
    # phases evaluates only the phases these steps reach (``meets``).
    span: tuple[int, int] | None = None

    def shifted(self, offset: int) -> Ctx:
        """This context for a child evaluated at ``max(step - offset, 0)`` (a schedule
        restarted at ``offset``): the span moved with the steps."""
        span = self.span
        if span is None:
            return self
        return self._replace(span=(max(span[0] - offset, 0), max(span[1] - offset, 0)))

    def at(self, step: int) -> Ctx:
        """This context for a child evaluated at the one host step ``step``."""
        return self if self.span is None else self._replace(span=(step, step))

    def meets(self, start: float, end: float) -> bool:
        """Whether a step in ``[start, end)`` may be among the steps evaluated (True unless
        the host steps' span is known to miss it): a phase none of them is in need not be
        computed."""
        span = self.span
        return span is None or (span[0] < end and span[1] >= start)

    def const(self, value: Any) -> Any:
        """A hyperparameter as an operand: a Python float (or the array it is: traced, a
        tensor), or an array for per-group values."""
        if isinstance(value, tuple):
            if all(isinstance(v, float) for v in value):
                return self.xp.asarray(value, dtype=self.dtype, device=self.device)
            return self.xp.stack([self.array(v) for v in value], axis=-1)
        return value

    def array(self, value: Any) -> Any:
        """A number or array as an array of the evaluation dtype (an array keeps its device
        and batching: inside vmap a device placement would not apply)."""
        if isinstance(value, (int, float)):
            return self.xp.asarray(value, dtype=self.dtype, device=self.device)
        return self.xp.astype(self.xp.asarray(value), self.dtype, copy=False)

    def where(self, condition: Any, a: Any, b: Any) -> Any:
        """``where`` in the evaluation dtype (torch would give two Python floats its default
        float dtype)."""
        return self.xp.where(condition, self.array(a), self.array(b))

    def gather(self, values: Any, index: Any, dtype: Any = None) -> Any:
        """``values[index]`` for a host table (a sequence or NumPy array) and an integer array
        of any shape (``take`` on a flat index: plain integer indexing does not trace under
        torch.compile)."""
        xp = self.xp
        table = self.from_host(values, dtype)
        return xp.reshape(xp.take(table, xp.reshape(index, (-1,)), axis=0), index.shape)

    def from_host(self, values: Any, dtype: Any = None) -> Any:
        """A host table (a sequence or NumPy array, float64 from host work) as an array of
        the evaluation dtype (or ``dtype``) on the device. A float32 table is cast by NumPy
        first: torch would otherwise wrap a float64 table as a float64 tensor and cast that,
        a tensor MPS cannot hold (the rounding is the same either way). Under torch.compile
        the table is a constant of the graph and is left to torch."""
        xp = self.xp
        dtype = self.dtype if dtype is None else dtype
        if dtype == xp.float32 and not _compiling():
            with np.errstate(over="ignore"):  # past float32's range is inf, as torch's cast
                values = np.asarray(values, dtype=np.float32)
        return xp.asarray(values, dtype=dtype, device=self.device)

    def iinfo(self, x: Any) -> Any:
        """The limits of an integer array's dtype (``iinfo``): how far a step of its width
        counts (an int32 count stops at 2**31 - 1)."""
        return _iinfo(x.dtype)

    def minimum(self, x: Any, bound: int) -> Any:
        """``min(x, bound)`` for an integer array (the bound as an array: compat's clip with a
        Python bound does not trace under every torch.compile). A bound past ``x``'s integer
        range (an int32 count) is no bound for it."""
        bound = min(bound, self.iinfo(x).max)
        return self.xp.minimum(x, self.xp.asarray(bound, dtype=x.dtype, device=self.device))

    def float(self, x: Any) -> Any:
        """An integer array converted to the evaluation dtype."""
        return self.xp.astype(x, self.dtype)

    def quotient(self, x: Any, n: int) -> Any:
        """``x // n`` for a non-negative integer array and a positive ``n`` (a step): there
        truncation is floor division, which XLA does in one operation where its floor
        division takes ten (sign corrections for negative operands)."""
        if _is_jax(self.xp):
            return sys.modules["jax"].lax.div(x, self.xp.asarray(n, dtype=x.dtype))
        return x // n

    def remainder(self, x: Any, n: int) -> Any:
        """``x % n`` for a non-negative integer array and a positive ``n`` (see
        [``quotient``][lrfun.extend.Ctx.quotient])."""
        if _is_jax(self.xp):
            return sys.modules["jax"].lax.rem(x, self.xp.asarray(n, dtype=x.dtype))
        return x % n


class ArrayOnlyError(AttributeError):
    """An operation the Python-number namespace does not do (an array-only operation): the
    evaluation goes the array way instead. (An AttributeError: to ``getattr`` and
    ``hasattr`` the namespace has no such function.)"""


_INT64 = np.dtype(np.int64)
_NUMPY_INTEGRAL = np.int64
_INT64_INFO = np.iinfo(np.int64)


class _Step(int):
    """A Python-int step that says its width, as an int64 array's dtype does; a count
    derived from it by adding or subtracting integers says it too (formulas read the dtype
    of ``step - boundary``)."""

    __slots__ = ()
    dtype = _INT64
    shape = ()

    def __add__(self, other: Any) -> Any:
        out = int.__add__(self, other)
        return _Step(out) if type(out) is int else out

    def __sub__(self, other: Any) -> Any:
        out = int.__sub__(self, other)
        return _Step(out) if type(out) is int else out

    def __rsub__(self, other: Any) -> Any:
        out = int.__rsub__(self, other)
        return _Step(out) if type(out) is int else out

    __radd__ = __add__


class _Scalars:
    """The array API on Python numbers: a schedule's one formula evaluated on a Python int
    step, as ``math`` would (NumPy's 0-d operations cost a microsecond each; torch's own
    closed forms are plain Python), and the plateau machine's state stepped on the host.

    Values are Python floats, steps Python ints (the step itself an int carrying the int64
    ``dtype`` formulas read; a formula reading the dtype of another integer goes the array
    way). IEEE float64 either way: the same decisions, NaN
    and infinities included. What Python raises where NumPy returns inf or NaN (a division by
    zero, an overflowing power) and what is array-only raise; ``evaluate_scalar`` then
    answers None and the step is evaluated as an array."""

    float64 = np.float64
    float32 = np.float32
    int64 = np.int64
    int32 = np.int32
    nan = math.nan
    e = math.e
    pi = math.pi

    @staticmethod
    def where(condition: Any, a: Any, b: Any) -> Any:
        return a if condition else b

    @staticmethod
    def zeros_like(x: Any) -> Any:
        return type(x)(0)

    @staticmethod
    def ones_like(x: Any) -> Any:
        return type(x)(1)

    @staticmethod
    def full_like(x: Any, value: Any) -> Any:
        return type(x)(value)

    @staticmethod
    def maximum(a: Any, b: Any) -> Any:
        return a if a >= b or a != a else b  # NaN wins, as np.maximum's

    @staticmethod
    def minimum(a: Any, b: Any) -> Any:
        return a if a <= b or a != a else b

    @staticmethod
    def asarray(x: Any, dtype: Any = None, device: Any = None) -> Any:
        if isinstance(x, (tuple, list)):
            return tuple(x)  # a host table: searchsorted and take read it as it is
        if dtype is not None and dtype is not float and np.dtype(dtype).kind in "iu":
            return _Step(x)
        return float(x)

    @staticmethod
    def astype(x: Any, dtype: Any, copy: bool = True) -> Any:
        return _Step(x) if np.dtype(dtype).kind in "iu" else float(x)

    @staticmethod
    def iinfo(dtype: Any) -> Any:
        return _iinfo(dtype)

    @staticmethod
    def isdtype(dtype: Any, kind: Any) -> bool:
        return numpy_namespace().isdtype(dtype, kind)  # type: ignore[no-any-return]

    @staticmethod
    def reshape(x: Any, shape: Any, copy: Any = None) -> Any:
        if isinstance(x, (tuple, list, np.ndarray)):
            raise ArrayOnlyError("reshape")
        return x

    @staticmethod
    def broadcast_to(x: Any, shape: Any) -> Any:
        if shape != ():
            raise ArrayOnlyError("broadcast_to")
        return x

    @staticmethod
    def take(x: Any, index: Any, axis: Any = None) -> Any:
        return x[int(index)]

    @staticmethod
    def searchsorted(table: Any, x: Any, side: str = "left", **_: Any) -> Any:
        return (bisect.bisect_right if side == "right" else bisect.bisect_left)(table, x)

    @staticmethod
    def floor(x: Any) -> Any:
        return float(math.floor(x)) if math.isfinite(x) else x

    @staticmethod
    def isnan(x: Any) -> bool:
        return bool(x != x)

    @staticmethod
    def abs(x: Any) -> Any:
        return abs(x)

    @staticmethod
    def round(x: Any) -> Any:
        # half to even, as NumPy's (and Python's) rounding
        return float(round(x)) if math.isfinite(x) else x

    @staticmethod
    def ceil(x: Any) -> Any:
        return float(math.ceil(x)) if math.isfinite(x) else x

    @staticmethod
    def remainder(a: Any, b: Any) -> Any:
        return a % b  # the divisor's sign, as NumPy's (ZeroDivisionError: the array way)

    @staticmethod
    def tanh(x: Any) -> float:
        return math.tanh(x)

    @staticmethod
    def log1p(x: Any) -> float:
        if x > -1:
            return math.log1p(x)
        return -math.inf if x == -1 else math.nan

    @staticmethod
    def expm1(x: Any) -> float:
        try:
            return math.expm1(x)
        except OverflowError:
            return math.inf

    @staticmethod
    def cos(x: Any) -> float:
        return math.cos(x) if math.isfinite(x) else math.nan

    @staticmethod
    def sin(x: Any) -> float:
        return math.sin(x) if math.isfinite(x) else math.nan

    @staticmethod
    def exp(x: Any) -> float:
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf

    @staticmethod
    def log(x: Any) -> float:
        if x > 0:
            return math.log(x)
        return -math.inf if x == 0 else math.nan

    @staticmethod
    def sqrt(x: Any) -> float:
        return math.sqrt(x) if x >= 0 else math.nan

    def __getattr__(self, name: str) -> Any:
        raise ArrayOnlyError(name)


# (set apart: in the class body the name would shadow the annotations' bool)
setattr(_Scalars, "bool", np.bool_)  # noqa: B010
SCALARS = _Scalars()


class _ScalarCtx(Ctx):
    """A ``Ctx`` for one Python-number step (see ``_Scalars``): its helpers on Python
    numbers, one group only (per-group values are arrays)."""

    __slots__ = ()

    def const(self, value: Any) -> Any:
        if isinstance(value, tuple):
            raise ArrayOnlyError("per-group values")
        return value

    def array(self, value: Any) -> Any:
        if isinstance(value, (tuple, np.ndarray)):
            raise ArrayOnlyError("array")
        return float(value)

    def where(self, condition: Any, a: Any, b: Any) -> Any:
        return self.array(a if condition else b)

    def gather(self, values: Any, index: Any, dtype: Any = None) -> Any:
        value = values[int(index)]
        kind = "f" if dtype is None else np.dtype(dtype).kind
        return _Step(value) if kind in "iu" else bool(value) if kind == "b" else float(value)

    def from_host(self, values: Any, dtype: Any = None) -> Any:
        return values

    def iinfo(self, x: Any) -> Any:
        return _INT64_INFO

    def minimum(self, x: Any, bound: int) -> Any:
        return x if x <= bound else _Step(min(bound, _INT64_INFO.max))

    def float(self, x: Any) -> Any:
        return float(x)

    def quotient(self, x: Any, n: int) -> Any:
        return x // n

    def remainder(self, x: Any, n: int) -> Any:
        return x % n


_SCALAR_CTX = _ScalarCtx(SCALARS, np.float64, None)
# What sends a Python-number evaluation the array way: Python raises where NumPy gives inf
# or NaN (ZeroDivisionError, OverflowError), array-only operations, a formula reading array
# attributes. The array evaluation then gives the value, or the same error.
_ARRAY_WAY = (ArithmeticError, TypeError, AttributeError, IndexError, ValueError)


def evaluate_scalar(formula: Callable[[Ctx, Any], Any], step: int) -> float | None:
    """``formula`` at one Python-int step (``-2**63 <= step < 2**63``) on Python numbers:
    the value ``evaluate`` gives, or None where it must be evaluated as an array.

    The formula is the schedule's one formula, run on ``math`` instead of 0-d arrays
    (``math``'s libm and NumPy's vectorised functions may differ in the last ulp)."""
    try:
        out = formula(_SCALAR_CTX, _Step(step) if step > 0 else _ZERO)
    except _ARRAY_WAY:
        return None
    if isinstance(out, (float, int, np.floating, np.integer)) and not isinstance(out, bool):
        return float(out)
    return None  # a complex power of a negative base, an array: NumPy's answer differs


_ZERO = _Step(0)


# NumPy's (and JAX's) integer iinfo, built once (constructing one costs about a microsecond);
# never added to later: torch.compile guards on what a function reads.
_IINFOS: dict[Any, Any] = {
    np.dtype(f"{kind}{bits}"): np.iinfo(f"{kind}{bits}")
    for kind in ("int", "uint")
    for bits in (8, 16, 32, 64)
}


def _iinfo(dtype: Any) -> Any:
    info = _IINFOS.get(dtype) if isinstance(dtype, np.dtype) else None
    if info is not None:
        return info
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(dtype, torch.dtype):
        return torch.iinfo(dtype)
    return np.iinfo(dtype)


def _compiling() -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and torch.compiler.is_compiling()


# array-api-compat's NumPy namespace, imported on first use: importing it imports NumPy's
# testing and f2py packages (a third of ``import lrfun`` otherwise).
_numpy_xp: Any = None


def numpy_namespace() -> Any:
    """array-api-compat's NumPy namespace (the one NumPy steps, and Python numbers the
    Python-number path cannot answer, are evaluated in), imported on the first call."""
    global _numpy_xp
    if _numpy_xp is None:
        import array_api_compat.numpy

        _numpy_xp = array_api_compat.numpy
    return _numpy_xp


def is_numpy(xp: Any) -> bool:
    """Whether ``xp`` is array-api-compat's NumPy namespace (never imports it: a namespace
    that is not imported yet is not ``xp``)."""
    return xp is sys.modules.get("array_api_compat.numpy")


def _is_jax(xp: Any) -> bool:
    return getattr(xp, "__name__", "") == "jax.numpy"


def _is_torch(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def namespace(x: Any) -> Any:
    # torch is dispatched by hand: array_namespace() goes through lru_cache-wrapped helpers
    # that torch.compile warns about on every trace.
    if _is_torch(x):
        import array_api_compat.torch as torch_xp

        return torch_xp
    return array_api_compat.array_namespace(x)


def device_of(x: Any) -> Any:
    """The array's device (torch's own attribute: array_api_compat.device() is
    lru_cache-wrapped too)."""
    return x.device if _is_torch(x) else array_api_compat.device(x)


def _float_dtype(xp: Any, x: Any, device: Any) -> Any:
    if xp.isdtype(x.dtype, "real floating"):
        if xp.isdtype(x.dtype, xp.float64) or xp.isdtype(x.dtype, xp.float32):
            return x.dtype
        return xp.float32
    return xp.__array_namespace_info__().default_dtypes(device=device)["real floating"]


def _prepare(step: Any, real: bool = False) -> tuple[Ctx, Any, Any, bool]:
    """Returns (ctx, integer step array, NaN mask or None, whether step was a Python number);
    with ``real``, a float step's fractional part is ``ctx.fraction``."""
    if isinstance(step, bool) or (hasattr(step, "dtype") and str(step.dtype) == "bool"):
        raise TypeError(f"step must be an integer or an array of integers, got {step!r}")
    python = isinstance(step, (int, float))
    if python:
        if isinstance(step, int) and not -(2**63) <= step < 2**64:
            # Past every integer dtype: as a float step, past the range (NaN) or negative.
            step = math.inf if step > 0 else 0
        step = np.asarray(step)
    elif not hasattr(step, "dtype"):
        raise TypeError(f"step must be a Python number or an array, got {type(step).__name__}")
    xp = numpy_namespace() if python else namespace(step)
    device = device_of(step)
    dtype = np.float64 if python else _float_dtype(xp, step, device)
    # NumPy's default integer is fixed (torch's and JAX's follow settings that can change).
    integral = (
        _NUMPY_INTEGRAL
        if python or is_numpy(xp)
        else xp.__array_namespace_info__().default_dtypes(device=device)["integral"]
    )
    nan = None
    wraps = False
    fraction = None
    if xp.isdtype(step.dtype, "real floating"):
        # Past the integer range a cast is undefined (it wraps, saturates or warns by
        # platform): such steps, and NaN, have no integer value. (Widened first: float16
        # cannot hold that bound.)
        step = xp.astype(step, dtype, copy=False)
        nan = xp.isnan(step) | (step >= 2.0 ** (xp.iinfo(integral).bits - 1))
        real_step = xp.where(nan | (step < 0), 0, step)
        step = xp.floor(real_step)
        if real:
            fraction = xp.astype(real_step - step, dtype)
    elif not xp.isdtype(step.dtype, "integral"):
        raise TypeError(f"step must be an integer or float array, got dtype {step.dtype}")
    else:
        wraps = xp.iinfo(step.dtype).max > xp.iinfo(integral).max
    step = xp.astype(step, integral, copy=False)
    if wraps:
        # An unsigned step past the namespace's integers wraps negative in the cast (torch
        # cannot compare uint64 values before it).
        nan = step < 0
    # NumPy takes the bound as a scalar (no array of zeros); traced namespaces get an array.
    span = None
    if is_numpy(xp):
        step = np.maximum(step, 0)
        if step.size >= _SPANNED:
            span = (int(step.min()), int(step.max()))
    else:
        step = xp.maximum(step, xp.zeros_like(step))
    return Ctx(xp, dtype, device, fraction, span), step, nan, python


# From this many NumPy steps the span is taken (two cheap passes), so that a formula in phases
# evaluates only the phases the steps reach (a block of a trajectory is mostly in one).
_SPANNED = 256


def evaluate(
    formula: Callable[[Ctx, Any], Any], step: Any, groups: int | None, *, real: bool = False
) -> Any:
    """Evaluates ``formula(ctx, step)`` under the dtype policy.

    Args:
      formula: the schedule's formula over an integer step array, written against the array
        API; it broadcasts per-group hyperparameters against a trailing group axis.
      step: the caller's step(s).
      groups: the number of param groups when lr-valued arguments were sequences (adds a
        trailing axis), else None.
      real: whether a float step is a real-valued epoch (its fractional part is
        ``ctx.fraction``) rather than the whole number below it.

    Returns:
      A Python float for a Python step and one group; otherwise an array of shape
      ``step.shape`` (+ ``(groups,)``) in the caller's namespace and device.
    """
    if isinstance(step, np.ndarray) and step.size > _BLOCK:
        return _evaluate_blocks(formula, step, groups, real)
    ctx, s, nan, python = _prepare(step, real)
    try:
        out = _evaluate_prepared(formula, ctx, s, nan, groups)
    except NoValuesError:
        # Steps on the meta device, where the formula needs values (a host-evaluated
        # schedule): a meta tensor's only content is its shape and dtype, which are known.
        shape = tuple(step.shape) if groups is None else (*step.shape, groups)
        return ctx.xp.empty(shape, dtype=ctx.dtype, device=ctx.device)
    if python:
        return float(out) if out.ndim == 0 else np.asarray(out)
    return out


# Host (NumPy) trajectories are evaluated this many steps at a time into one preallocated
# output, so their temporaries stay a fixed size: peak memory is the output plus one block's
# worth, not several times the output.
_BLOCK = 1 << 16


def _evaluate_blocks(
    formula: Callable[[Ctx, Any], Any], step: np.ndarray, groups: int | None, real: bool
) -> np.ndarray:
    flat = step.reshape(-1)
    # the dtype and group axis, from one step
    first = evaluate(formula, flat[:1], groups, real=real)
    out = np.empty((flat.size, *first.shape[1:]), dtype=first.dtype)
    for start in range(0, flat.size, _BLOCK):
        block = flat[start : start + _BLOCK]
        out[start : start + _BLOCK] = evaluate(formula, block, groups, real=real)
    return out.reshape(step.shape + first.shape[1:])


def _evaluate_prepared(
    formula: Callable[[Ctx, Any], Any], ctx: Ctx, s: Any, nan: Any, groups: int | None
) -> Any:
    xp = ctx.xp
    if groups is not None:
        s = xp.expand_dims(s, axis=-1)
        nan = None if nan is None else xp.expand_dims(nan, axis=-1)
        if ctx.fraction is not None:
            ctx = ctx._replace(fraction=xp.expand_dims(ctx.fraction, axis=-1))
    out = formula(ctx, s)
    # Formulas may return a value that does not depend on the step (a constant schedule):
    # give it the step's shape so trajectories are always arrays of the same shape.
    out = ctx.array(out)
    shape = tuple(s.shape) if groups is None else (*s.shape[:-1], groups)
    if tuple(out.shape) != shape:  # (a broadcast costs microseconds even where it is a view)
        out = xp.broadcast_to(out, shape)
    if nan is not None:
        out = xp.where(nan, xp.nan, out)
    return out


def is_traced(x: Any) -> bool:
    """Whether ``x`` has no values to read on the host: a JAX tracer, any tensor inside
    torch.compile, or a tensor that torch.func wraps (vmap's batched tensors, which run
    eagerly but have no storage of their own to copy to NumPy)."""
    jax = sys.modules.get("jax")
    if jax is not None and isinstance(x, jax.core.Tracer):
        return True
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    return bool(torch.compiler.is_compiling() or _functorch_wrapped(torch, x))


def _functorch_wrapped(torch: Any, x: Any) -> bool:
    # torch.func has no public test for its wrappers; this one is what torch's own
    # functorch code uses (an older torch without it has no such wrappers to miss).
    wrapped = getattr(torch._C._functorch, "is_functorch_wrapped_tensor", None)
    return isinstance(x, torch.Tensor) and wrapped is not None and bool(wrapped(x))


def table_end(step: Any, horizon: int | None, what: str) -> int:
    """The last step a host table must hold to answer ``step``: ``horizon`` for traced
    steps (which cannot extend it), else the highest concrete step.

    Raises:
      TypeError: traced steps and no horizon; ``what`` says what is tabulated.
    """
    if is_traced(step):
        if horizon is None:
            raise TypeError(
                f"{what} is tabulated on the host; pass horizon=N to tabulate N steps for "
                "jit, vmap or torch.compile"
            )
        return horizon
    host = host_values(step)
    return int(host.max()) if host.size else 0


def host_values(step: Any) -> np.ndarray:
    """A concrete step array as a NumPy integer array.

    Raises:
      NoValuesError: ``step`` is a tensor on torch's meta device (it has no values).
      TypeError: ``step`` is traced.
    """
    detach = getattr(step, "detach", None)
    if detach is not None:  # torch
        if step.device.type == "meta":
            raise NoValuesError(
                "step is a tensor on the meta device: it has no values, and this schedule is "
                "evaluated on the host from the step's values"
            )
        values: np.ndarray = detach().cpu().numpy()
        return values
    try:
        return np.asarray(step)
    except Exception as error:  # a JAX tracer has no concrete values
        raise TypeError(f"step has no concrete values here ({type(step).__name__})") from error
