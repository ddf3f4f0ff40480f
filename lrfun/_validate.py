"""One argument-checking policy: every check names the argument and the value received.

Wrong types raise TypeError, values out of range raise ValueError. Checks run in constructors
only, on host values, so the traced formulas never branch on them.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "boolean",
    "callables",
    "choice",
    "group_count",
    "integer",
    "integers",
    "lr_values",
    "period",
    "real",
    "start_lr",
]

LrValue = Any  # a float (or 0-d array), or a tuple of them: one per param group


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# The largest integer argument: no step (an int64) passes it, so a longer period or a later
# milestone could never be reached, and float32 and float64 both hold it.
INT_MAX = 2**63 - 1


def _shown(value: Any) -> str:
    """A value for an error message: a huge one is cut (its repr may be megabytes)."""
    try:
        text = repr(value)
    except ValueError:  # an int too long for Python to print
        return f"an integer of {value.bit_length()} bits"
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"


def integer(name: str, value: Any, *, minimum: int = 1, maximum: int = INT_MAX) -> int:
    """An int in [minimum, maximum] as a Python int (NumPy integers too; bools and integral
    floats are rejected, as torch rejects 2.0)."""
    words = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if not _is_int(value):
        raise TypeError(f"{name} must be {words}, got {_shown(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be {words}, got {_shown(value)}")
    if value > maximum:
        raise ValueError(f"{name} must be {words} no larger than {maximum}, got {_shown(value)}")
    return int(value)


def period(name: str, value: Any) -> int | float:
    """A positive length that torch also takes as a float (``T_max = total / 2``): an int,
    or a finite float > 0 (a whole one becomes an int, so it is folded exactly)."""
    if _is_int(value):
        return integer(name, value)
    number = real(name, value, low=0.0, low_open=True, high=float(INT_MAX))
    if not isinstance(number, float):  # a tensor or traced value: not a length to fold
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    return int(number) if number.is_integer() else number


def integers(name: str, values: Any, *, minimum: int = 0) -> tuple[int, ...]:
    """A sequence of ints >= minimum, returned as a tuple."""
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        # A string or a dict iterates, but not over integers one meant.
        raise TypeError(f"{name} must be a sequence of integers, got {_shown(values)}")
    if not isinstance(values, (Sequence, set, frozenset)):
        values = list(values)
    out = []
    for value in values:
        if not _is_int(value):
            raise TypeError(f"{name} must hold integers, got {_shown(value)} in {_shown(values)}")
        if value < minimum:
            raise ValueError(f"{name} must hold integers >= {minimum}, got {_shown(value)}")
        if value > INT_MAX:
            raise ValueError(
                f"{name} must hold integers no larger than {INT_MAX}, got {_shown(value)}"
            )
        out.append(int(value))
    return tuple(out)


def _scalar_array(value: Any) -> bool:
    """Whether ``value`` is a 0-d real NumPy, JAX or torch array (or NumPy scalar)."""
    if getattr(value, "shape", None) != () or not hasattr(value, "dtype"):
        return False
    kind = str(value.dtype).removeprefix("torch.")
    return kind.startswith(("float", "bfloat", "int", "uint"))


def _traced(value: Any) -> bool:
    """A value without a concrete number now: a JAX tracer, a tensor inside torch.compile."""
    jax = sys.modules.get("jax")
    if jax is not None and isinstance(value, jax.core.Tracer):
        return True
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor) and torch.compiler.is_compiling()


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def real(
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> Any:
    """A finite real number in the interval given (closed unless said open), as a float.

    0-d arrays are numbers too: NumPy's and concrete JAX ones become Python floats; a torch
    tensor is checked and kept (it computes on its device). A traced value (``jit``, ``vmap``,
    ``torch.compile``) has no number to check: it is kept unchecked, as equinox does.
    """
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    interval = f"a finite number in {left}{low}, {high}{right}"
    if low == -math.inf and high == math.inf:
        interval = "a finite number"
    elif high == math.inf:
        interval = f"a finite number {'>' if low_open else '>='} {low}"
    if _scalar_array(value):
        if _traced(value):
            return value
        kept = value if _is_tensor(value) else None
        value = float(value)
    elif not _is_real(value):
        raise TypeError(f"{name} must be {interval}, got {_shown(value)}")
    else:
        kept = None
    try:
        number = float(value)
    except OverflowError:  # an integer past float's range
        raise ValueError(f"{name} must be {interval}, got {_shown(value)}") from None
    inside = (
        math.isfinite(number)
        and (number > low if low_open else number >= low)
        and (number < high if high_open else number <= high)
    )
    if not inside:
        raise ValueError(f"{name} must be {interval}, got {_shown(value)}")
    return number if kept is None else kept


def lr_values(name: str, value: Any, **bounds: Any) -> LrValue:
    """A real in bounds (default: finite and >= 0), or a non-empty sequence of them (one per
    param group), returned as a float or a tuple of floats."""
    bounds.setdefault("low", 0.0)
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {value!r}")
    if getattr(value, "shape", None) == ():  # a 0-d array: one number (or not a number)
        return real(name, value, **bounds)
    if isinstance(value, Sequence) or (hasattr(value, "__len__") and not _is_real(value)):
        values = list(value)
        if not values:
            raise ValueError(f"{name} must not be empty, got {value!r}")
        return tuple(real(f"{name}[{i}]", v, **bounds) for i, v in enumerate(values))
    return real(name, value, **bounds)


def start_lr(value: Any) -> LrValue | None:
    """The group's lr at a scheduler's first step where it differs from the base (None:
    the base), checked as an lr."""
    return None if value is None else lr_values("start_lr", value)


def callables(name: str, value: Any) -> Callable[..., Any] | tuple[Callable[..., Any], ...]:
    """A callable, or a non-empty sequence of callables (one per param group)."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{name} must not be empty, got {value!r}")
        for i, fn in enumerate(value):
            if not callable(fn):
                raise TypeError(f"{name}[{i}] must be callable, got {fn!r}")
        return tuple(value)
    if not callable(value):
        raise TypeError(f"{name} must be callable or a list of callables, got {value!r}")
    function: Callable[..., Any] = value
    return function


def choice(name: str, value: Any, options: Sequence[Any]) -> Any:
    """One of a fixed set of values."""
    if not any(
        value is option or (type(value) is type(option) and value == option) for option in options
    ):
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def boolean(name: str, value: Any) -> bool:
    """A bool (not a truthy stand-in: torch would take 'no' as True)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def group_count(**per_group: Any) -> int | None:
    """The number of param groups the tuple-valued arguments imply, None if all are scalars.

    Raises ValueError when two of them disagree.
    """
    count, first = None, None
    for name, value in per_group.items():
        if isinstance(value, tuple):
            if count is None:
                count, first = len(value), name
            elif len(value) != count:
                raise ValueError(
                    f"{name} has {len(value)} values but {first} has {count}: "
                    "per-group arguments need one value per param group"
                )
    return count
