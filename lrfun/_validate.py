"""One argument-checking policy: every check names the argument and the value received.

Wrong types raise TypeError, values out of range raise ValueError. Checks run on host values
only -- in constructors, in the adapters' constructors, and on a state restored from a
checkpoint -- so the traced formulas never branch on them.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np

__all__ = [
    "COUNTER_MAX",
    "MAX_STEP",
    "FieldSpec",
    "boolean",
    "callables",
    "choice",
    "counts",
    "cut",
    "factor",
    "group_count",
    "groups_fit",
    "index",
    "instance",
    "integer",
    "integers",
    "length",
    "lr_values",
    "metric",
    "milestones",
    "period",
    "real",
    "row",
    "start_lr",
    "state_entries",
    "state_field",
    "state_known",
    "state_matches",
]

LrValue = Any  # a float (or 0-d array), or a tuple of them: one per param group
T = TypeVar("T")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# The largest integer argument: no step (an int64) passes it, so a longer period or a later
# milestone could never be reached, and float32 and float64 both hold it.
INT_MAX = 2**63 - 1


def _shown(value: Any, limit: int | None = None) -> str:
    """A value for an error message: its repr, cut (it may be megabytes) by ``cut`` to
    ``limit`` characters (default 80; a file's path gets ``PATH_SHOWN``).

    A value whose repr fails is named by its type: the message that names the argument is
    what the caller raises, never the repr's own error."""
    try:
        text = repr(value)
    except ValueError:  # an int too long for Python to print
        if isinstance(value, int):
            return f"an integer of {value.bit_length()} bits"
        return f"a {type(value).__name__} (its repr fails)"
    except RecursionError:  # lists within lists, thousands deep
        return f"a {type(value).__name__} nested too deeply to print"
    except Exception:  # a repr that raises
        return f"a {type(value).__name__} (its repr fails)"
    return cut(text, _SHOWN if limit is None else limit)


def _whole_float(value: Any) -> bool:
    """A Python or NumPy float equal to an integer (``2.0``), which torch runs as that integer
    where it only compares, counts or divides by it."""
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def integer(
    name: str, value: Any, *, minimum: int = 1, maximum: int = INT_MAX, whole: bool = False
) -> int:
    """An int in [minimum, maximum] as a Python int (NumPy integers too; bools are rejected).

    Integral floats are rejected unless ``whole`` is set, as torch rejects ``T_0=2.0``; with
    ``whole`` (where torch runs ``2.0`` as 2: StepLR's ``step_size``, transformers' step
    counts) a whole float is taken as its integer, so configs and ``from_torch`` give ints.
    """
    words = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if whole and _whole_float(value):
        value = int(value)
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
    number = real(name, value, low=0.0, low_open=True)
    if not isinstance(number, float):  # a tensor or traced value: not a length to fold
        raise TypeError(f"{name} must be a positive number, got {_shown(value)}")
    if number >= 2.0**63:  # float(INT_MAX) is 2**63 itself, which no int64 holds
        raise ValueError(
            f"{name} must be below 2**63 steps (no int64 step reaches a longer one), "
            f"got {_shown(value)}"
        )
    return int(number) if number.is_integer() else number


def integers(name: str, values: Any, *, minimum: int = 0) -> tuple[int, ...]:
    """A sequence of ints >= minimum, returned as a tuple (a whole float, ``3.0``, as its
    integer: torch's milestones compare it equal to the step)."""
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        # A string or a dict iterates, but not over integers one meant.
        raise TypeError(f"{name} must be a sequence of integers, got {_shown(values)}")
    if not isinstance(values, (Sequence, set, frozenset)):
        values = list(values)
    out = []
    for value in values:
        if _whole_float(value):  # torch's Counter and bisect take 3.0 as 3
            value = int(value)
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


def epoch(name: str, value: Any, *, maximum: int = 2**53) -> int | float:
    """A real-valued epoch in [0, maximum] (``step(epoch + i / iters)``): an int, or a
    finite float (a whole one becomes its int)."""
    if _is_int(value):
        return integer(name, value, minimum=0, maximum=maximum)
    number = real(name, value, low=0.0, high=float(maximum))
    if not isinstance(number, float):  # a tensor: its number
        number = float(number)
    return int(number) if number.is_integer() else number


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


def factor(name: str, value: Any, *, zero: bool = False) -> Any:
    """A multiplicative cut: a normal float in (0, 1), or in [0, 1) where ``zero`` allows 0.

    Subnormals are refused: XLA flushes them to 0, so the cut lr would differ by backend. A
    torch tensor is checked and kept, a traced value kept unchecked (as ``real``).
    """
    number = real(name, value)
    if _traced(number):
        return number
    cut = float(number)
    if not ((cut >= sys.float_info.min or (zero and cut == 0.0)) and cut < 1.0):
        words = "0 or a normal float in [0, 1)" if zero else "a normal float in (0, 1)"
        raise ValueError(f"{name} must be {words}, got {_shown(value)}")
    return number


def metric(name: str, value: Any, *, nan: bool = True) -> float:
    """A metric (or the best one seen) as a float: a real number or a 0-d real array, the
    infinities included (an integer past float's range is one), NaN unless ``nan`` is False."""
    words = "a number" if nan else "a number (not NaN)"
    if not (_is_real(value) or _scalar_array(value)):
        raise TypeError(f"{name} must be {words}, got {_shown(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer past float's range
        number = math.inf if value > 0 else -math.inf
    if math.isnan(number) and not nan:
        raise ValueError(f"{name} must be {words}, got {_shown(value)}")
    return number


def lr_values(name: str, value: Any, **bounds: Any) -> LrValue:
    """A real in bounds (default: finite and >= 0), or a non-empty sequence of them (one per
    param group), returned as a float or a tuple of floats."""
    bounds.setdefault("low", 0.0)
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a number or a sequence of numbers, got {_shown(value)}")
    if getattr(value, "shape", None) == ():  # a 0-d array: one number (or not a number)
        return real(name, value, **bounds)
    if isinstance(value, Sequence) or (hasattr(value, "__len__") and not _is_real(value)):
        values = list(value)
        if not values:
            raise ValueError(f"{name} must not be empty, got {_shown(value)}")
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
            raise ValueError(f"{name} must not be empty, got {_shown(value)}")
        for i, fn in enumerate(value):
            if not callable(fn):
                raise TypeError(f"{name}[{i}] must be callable, got {_shown(fn)}")
        return tuple(value)
    if not callable(value):
        raise TypeError(f"{name} must be callable or a list of callables, got {_shown(value)}")
    function: Callable[..., Any] = value
    return function


def choice(name: str, value: Any, options: Sequence[Any]) -> Any:
    """One of a fixed set of values."""
    if not any(
        value is option or (type(value) is type(option) and value == option) for option in options
    ):
        from lrfun._suggest import did_you_mean

        suggestion = did_you_mean(value, options)
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, options))}; got {_shown(value)}"
            + (f" ({suggestion})" if suggestion else "")
        )
    return value


def boolean(name: str, value: Any) -> bool:
    """A bool (not a truthy stand-in: torch would take 'no' as True)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {_shown(value)}")
    return value


def instance(name: str, value: Any, kind: type[T], words: str, *, hint: str = "") -> T:
    """An instance of ``kind``; ``words`` say what that is, ``hint`` follows the value."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {words}, got {_shown(value)}{hint}")
    return value


def index(name: str, value: Any, size: int) -> int:
    """An index into ``size`` things: an int in [0, size)."""
    words = f"an integer in [0, {size})"
    if not _is_int(value):
        raise TypeError(f"{name} must be {words}, got {_shown(value)}")
    if not 0 <= value < size:
        raise ValueError(f"{name} must be {words}, got {_shown(value)}")
    return int(value)


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


def groups_fit(name: str, groups: int | None, have: int) -> None:
    """Refuses per-group values in ``name`` (``groups`` of them; None: one for all) for other
    than the optimizer's ``have`` param groups."""
    if groups is not None and groups != have:
        raise ValueError(f"{name} has values for {groups} param groups; the optimizer has {have}")


# -- a state restored from a checkpoint -------------------------------------------------------

# The largest step (or update count) a state may hold: every step up to it is exact in float64
# (and in JSON readers that parse numbers as doubles), stays within int64 with a stretch of
# steps after it, and evaluates without overflow.
MAX_STEP = 2**53

# The largest plateau counter (patience, cooldown, bad epochs): the counters are int32 on JAX
# (and any backend's default 32-bit integers), where one more would wrap them negative.
COUNTER_MAX = 2**31 - 2


def counts(owner: Any, **bounds: int) -> dict[str, int]:
    """The count attributes of ``owner`` named in ``bounds`` that are set (not None), each an
    integer in [0, its bound]: where a stepped machine stands, bounded as its state is."""
    return {
        name: integer(name, getattr(owner, name), minimum=0, maximum=top)
        for name, top in bounds.items()
        if getattr(owner, name) is not None
    }


def state_entries(
    state_dict: Any, keys: Sequence[str], foreign: Sequence[str], writer: str
) -> None:
    """Refuses a state that is not a mapping, holds entries only ``writer`` writes, or lacks
    one of ``keys``."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping, got {type(state_dict).__name__}")
    found = [key for key in foreign if key in state_dict]
    if found:
        raise ValueError(
            f"state_dict has {found}: it was written by {writer}, not by this scheduler"
        )
    missing = [key for key in keys if key not in state_dict]
    if missing:
        raise ValueError(f"state_dict lacks {missing} (it was not written by this scheduler)")


def state_known(
    state_dict: Mapping[Any, Any], known: Sequence[str], reader: str, hint: str
) -> None:
    """Refuses entries ``reader`` never writes, naming them: the state of another kind of
    scheduler (torch's own schedulers save their settings beside the step, so a StepLR's state
    would otherwise load into an adapter running any schedule)."""
    # Settings first (torch's private entries say little), each cut, at most six shown.
    found = sorted(
        (key for key in state_dict if key not in known),
        key=lambda key: (str(key).startswith("_"), repr(key)),
    )
    if found:
        names = ", ".join(_shown(key) for key in found[:6])
        more = f" and {len(found) - 6} more" if len(found) > 6 else ""
        raise ValueError(
            f"state_dict has {names}{more}, which {reader} never writes: it is another kind of "
            f"scheduler's state (torch's own save their settings){hint}"
        )


# How a config entry reads in a message when it is None: the writer's schedule held a
# Python function, which has no config.
_NO_CONFIG = "a schedule holding a Python function (no config)"


def state_matches(name: str, saved: Any, current: Any, *, config: bool = False) -> None:
    """Refuses a state written for another ``name``. Call it only where the state has the
    entry (a deleted entry is the documented way to load across configs).

    With ``config``, ``saved`` and ``current`` are configs (a mapping) or None (a schedule
    holding a Python function): anything else is refused, and None against a config is a
    different schedule, as a config is None exactly when the schedule holds a function.
    """
    if config and saved is not None and not isinstance(saved, Mapping):
        raise TypeError(
            f"state_dict[{name!r}] must be a config (a dict) or None, got {_shown(saved)}"
        )
    if config and (saved is None or current is None):
        same = saved is current
    else:
        try:
            same = _same(saved, current)
        except RecursionError:  # nested deeper than any config lrfun writes
            same = False
    if same:
        return
    if isinstance(saved, Mapping) and isinstance(current, Mapping):
        # The entries that differ (with the name), so a long config's difference shows.
        try:
            keys = [k for k in current if k == "name" or not _same(saved.get(k), current[k])]
        except RecursionError:
            keys = list(current)
        keys += [key for key in saved if key not in current]
        saved = {key: saved[key] for key in keys if key in saved}
        current = {key: current[key] for key in keys if key in current}

    def words(value: Any) -> str:
        return _NO_CONFIG if config and value is None else _shown(value)

    raise ValueError(
        f"the state_dict was written for {name} {words(saved)}, but this scheduler runs "
        f"{words(current)}; delete state_dict[{name!r}] to load it anyway"
    )


def _same(saved: Any, current: Any) -> bool:
    """Plain-data equality that never raises: a saved array's truth value is ambiguous where
    ``==`` meets it, so containers are compared entry by entry and such a leaf differs."""
    if isinstance(saved, Mapping) and isinstance(current, Mapping):
        return saved.keys() == current.keys() and all(
            _same(saved[key], current[key]) for key in current
        )
    if isinstance(saved, (list, tuple)) and isinstance(current, (list, tuple)):
        return len(saved) == len(current) and all(
            _same(a, b) for a, b in zip(saved, current, strict=True)
        )
    try:
        return bool(saved == current)
    except (TypeError, ValueError, RuntimeError):  # an array of several values, a tensor
        return False


def row(name: str, values: Any, count: int, **bounds: Any) -> list[float]:
    """One real in bounds (default: any finite) per param group, as floats: a list or tuple
    of ``count`` of them, or a 1-d array."""
    words = f"a list of {count} finite numbers (one per param group)"
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = list(values)
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be {words}, got {_shown(values)}")
    if len(values) != count:
        raise ValueError(f"{name} must be {words}, got {len(values)} values: {_shown(values)}")
    return [float(real(f"{name}[{i}]", value, **bounds)) for i, value in enumerate(values)]


# What a field of a metric-driven machine's state holds, for :func:`state_field`: the lr
# (finite, >= 0, one per param group), the best metric (any number but NaN), metrics as seen
# (anything, NaN included), or a count (an integer in [0, its bound]).
LR, BEST, METRICS, COUNT = "lr", "best", "metrics", "count"


class FieldSpec(NamedTuple):
    """What ``state_field`` accepts in one state field."""

    kind: str  # LR, BEST, METRICS or COUNT
    shape: tuple[int, ...]
    top: int = 0  # a count's largest value


def state_field(
    label: str,
    value: Any,
    field: FieldSpec,
    runs_in: Callable[[np.dtype], np.dtype] | None = None,
) -> np.ndarray:
    """One field of a restored state as a NumPy array (float64, or int64 for a count),
    refused (naming ``label``) unless ``field`` allows it in the dtype it will run in.

    That dtype is the field's own (float64 and int64 for Python numbers), passed through
    ``runs_in`` where the state runs elsewhere: JAX without x64 runs a float64 lr as
    float32, where 1e39 is inf, and an int64 count as int32. A count's dtype must hold every
    count the machine reaches (its bound, at most 2**31 - 2): in int8, patience 200 is -56
    and the plateau would cut at every update.
    """
    if _traced(value):
        raise TypeError(
            f"{label} is traced: check_state needs concrete values (call it on the restored "
            "state, outside jit)"
        )
    if field.kind == COUNT:
        return _state_count(label, value, field.top, runs_in)
    dtype = np.dtype(np.float64)  # a Python number's
    if isinstance(value, (list, tuple)):
        array = np.asarray([_state_number(f"{label}[{i}]", v) for i, v in enumerate(value)])
    elif _is_real(value):
        array = np.asarray(_state_number(label, value))
    else:
        array = _as_array(label, value)
        if not _is_floating(array.dtype):
            raise TypeError(f"{label} must be floating, got dtype {array.dtype}: {_shown(value)}")
        dtype = array.dtype
    array = array.astype(np.float64)
    if array.shape != field.shape:
        what = {LR: "finite numbers >= 0", BEST: "numbers", METRICS: "numbers"}[field.kind]
        wanted = (
            f"{field.shape[0]} {what} (one per param group, shape {field.shape})"
            if field.kind == LR and field.shape
            else f"shape {field.shape}"
        )
        raise ValueError(f"{label} must be {wanted}, got shape {array.shape}: {_shown(value)}")
    if runs_in is not None:
        dtype = runs_in(dtype)
    largest = _largest(dtype)
    for where, number in np.ndenumerate(array):
        name = label + "".join(f"[{i}]" for i in where)
        if field.kind == LR:
            real(name, float(number), low=0.0)
        elif field.kind == BEST and math.isnan(number):
            # +-inf is a real best (the mode's worst before any metric, or an infinite
            # metric); NaN would never be improved on, so the lr could never change again.
            raise ValueError(f"{name} must be a number (not NaN), got nan")
        if math.isfinite(number) and abs(number) > largest:
            raise ValueError(
                f"{name} must be a number {dtype} holds (at most {largest!r} in magnitude), "
                f"got {float(number)!r}"
            )
    return array


def _state_count(
    label: str, value: Any, top: int, runs_in: Callable[[np.dtype], np.dtype] | None
) -> np.ndarray:
    """A count field (see ``state_field``) as an int64 array."""
    dtype = np.dtype(np.int64) if _is_int(value) else None  # a Python int's
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        array = _as_array(label, value)
        if not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"{label} must be an integer, got dtype {array.dtype}: {_shown(value)}")
        if array.shape != ():
            raise ValueError(f"{label} must be one integer, got shape {array.shape}")
        dtype, value = array.dtype, int(array)
    if dtype is not None:
        if runs_in is not None:
            dtype = runs_in(dtype)
        reach = min(top, COUNTER_MAX)
        holds = int(np.iinfo(dtype).max)
        if holds < reach:
            raise TypeError(
                f"{label} must be an integer of a dtype that counts to {reach} (32 bits or "
                f"more), got dtype {dtype}: its counts would wrap past {holds}"
            )
        top = min(top, holds)
    return np.asarray(integer(label, value, minimum=0, maximum=top), dtype=np.int64)


def _state_number(label: str, value: Any) -> float:
    """A number of a restored state as a float; an integer past float64's range is refused
    (JAX cannot take it, and no scheduler writes one)."""
    if not (_is_real(value) or _scalar_array(value)):
        raise TypeError(f"{label} must be a number, got {_shown(value)}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{label} must be a number float64 holds, got {_shown(value)}") from None


def _is_floating(dtype: np.dtype) -> bool:
    """NumPy's floating dtypes and the ones ml_dtypes adds (JAX's bfloat16)."""
    return np.issubdtype(dtype, np.floating) or dtype.name == "bfloat16"


def _largest(dtype: np.dtype) -> float:
    """The largest finite value of a floating dtype (bfloat16 included)."""
    try:
        return float(np.finfo(dtype).max)
    except (TypeError, ValueError):
        ml_dtypes = sys.modules.get("ml_dtypes")
        return math.inf if ml_dtypes is None else float(ml_dtypes.finfo(dtype).max)


def _as_array(label: str, value: Any) -> np.ndarray:
    """A field's concrete value as a NumPy array (a torch tensor from any device)."""
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise TypeError(f"{label} must be a number or an array, got {_shown(value)}")
    if _is_tensor(value):
        value = value.detach().cpu()
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{label} must be a number or an array, got {_shown(value)}") from error


# The shortest length in steps a float period or phase may have (CosineAnnealingLR's T_max,
# CyclicLR's step sizes): pi * step / length stays finite in float32 for every step an int64
# holds (pi * 2**63 / 2**-60 < 3.4e38), so no angle or phase overflows to inf and no lr is
# NaN. torch raises at the first step where its phase overflows (T_max=5e-324: math domain
# error; a CyclicLR step size of 5e-324: OverflowError).
SHORTEST_LENGTH = 2.0**-60


def length(name: str, value: int | float, *, zero: bool = False) -> int | float:
    """A length in steps (a period, a phase of a cycle), already checked as a positive
    number (or >= 0 where ``zero``), as a schedule keeps it: a whole float becomes an int (its
    phase is folded exactly). Refused: a length past an int64 (no step reaches it, and a
    config could not hold it), and a float one shorter than ``SHORTEST_LENGTH`` (not 0)."""
    if isinstance(value, float):
        if value >= 2.0**63:
            raise ValueError(
                f"{name} must be below 2**63 steps (no int64 step reaches a longer one), "
                f"got {_shown(value)}"
            )
        if value < SHORTEST_LENGTH and not (zero and value == 0.0):
            words = "0 or at least" if zero else "at least"
            raise ValueError(
                f"{name} must be {words} 2**-60 steps (a shorter one overflows the phase "
                f"step / {name}: the lr would be NaN), got {_shown(value)}"
            )
        return int(value) if value.is_integer() else value
    if _is_int(value) and value > INT_MAX:
        raise ValueError(
            f"{name} must be below 2**63 steps (no int64 step reaches a longer one), "
            f"got {_shown(value)}"
        )
    return value


# A value in a message is cut to this many characters; a message of the command line, which
# holds values already cut, to 1,000.
_SHOWN = 80
# A file's path in a message: longer, for the whole of an ordinary path to show.
PATH_SHOWN = 500


def cut(text: str, limit: int = _SHOWN) -> str:
    """``text``, or its start and its length in at most ``limit`` characters: the one way
    values and messages are cut (a million-character argument is never echoed whole)."""
    if len(text) <= limit:
        return text
    tail = f"... ({len(text)} characters)"
    return text[: max(limit - len(tail), 0)] + tail


def milestones(name: str, values: Any, *, minimum: int = 0) -> tuple[int, ...]:
    """Milestone steps, as ``integers``: an iterable that refuses to be iterated (a 0-d
    array has ``__iter__`` and raises in it) is refused by name, as any other non-sequence."""
    if not isinstance(values, (str, bytes, Mapping, Sequence, set, frozenset)) and hasattr(
        values, "__iter__"
    ):
        try:
            values = list(values)
        except TypeError:
            words = "a sequence of integers"
            raise TypeError(f"{name} must be {words}, got {_shown(values)}") from None
    return integers(name, values, minimum=minimum)
