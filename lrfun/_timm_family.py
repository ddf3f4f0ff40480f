"""timm's schedulers (``timm.scheduler``) as closed forms: the ``timm.`` family.

Each class is one of timm 1.0's scheduler classes, its fields the class's arguments (same
names, order and defaults) with the optimizer replaced by ``base_lr``, registered as
``timm.<Class>``. ``schedule(t)`` is the lr timm's scheduler writes into the param group for
``t``: ``scheduler.step(t)`` (``t_in_epochs=True``) or ``scheduler.step_update(t)``
(``t_in_epochs=False``), which is ``_get_lr(t)`` with timm's noise on it, times the group's
``lr_scale``. The live reference is timm's own scheduler on a torch optimizer, stepped at
``t = 0, 1, 2, ...`` (``TIMM``).

timm's noise (``noise_range_t``) draws from a torch CPU generator seeded ``noise_seed + t``;
``torch_noise`` reproduces torch's mt19937 and its Box-Muller transform in NumPy and
Python's ``math`` (the same C library torch calls), so noisy schedules need no torch.
Noise is a function of ``t`` only: concrete steps compute it on the host; traced steps
(``jit``, ``vmap``, ``torch.compile``) read a table built at construction over the noise
range, which needs ``horizon=N`` when the range has no end.

The cycle index of ``cycle_mul != 1`` is timm's ``floor(log(1 - t / T * (1 - m), m))``,
whose rounding decides on which step a cycle starts; it is evaluated on the host, exactly
as timm does, once per cycle boundary at construction, and traced steps look the cycle up.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import math
import sys
import types
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

import numpy as np

from lrfun import _validate as check
from lrfun._backend import Ctx, host_values, is_traced, table_end
from lrfun._chain import check_table
from lrfun._math import ByWidth, integer_tables, power, reaches
from lrfun._math import searchsorted as _searchsorted
from lrfun._plateau import Machine
from lrfun._reference import LiveScheduler, Trajectory, _make_optimizer
from lrfun._schedule import Cache, Schedule, per_group
from lrfun._validate import BEST, COUNT, COUNTER_MAX, LR, MAX_STEP, FieldSpec

__all__ = [
    "TIMM",
    "CosineLRScheduler",
    "MultiStepLRScheduler",
    "PlateauLRScheduler",
    "PlateauState",
    "PolyLRScheduler",
    "StepLRScheduler",
    "TanhLRScheduler",
    "WSDLRScheduler",
    "create_scheduler_v2",
    "timm_scheduler",
    "torch_noise",
]

_INT_MAX = check.INT_MAX
NOISE_TYPES = ("normal", "uniform")
STABLE_FNS = ("constant", "rsqrt", "power")
DECAY_FNS = ("linear", "1-sqrt", "cosine", "power", "exp")
# Cycles of cycle_mul != 1 tabulated at construction, at most.
_MAX_CYCLES = 1 << 20


# -- the live library ----------------------------------------------------------------------


def timm_scheduler() -> types.ModuleType:
    """``timm.scheduler``, imported without timm's package ``__init__`` where that fails.

    timm's ``__init__`` imports its models, and with them torchvision, whose wheel may not
    load against the installed torch; the scheduler modules need only torch and NumPy. When
    ``timm`` is not imported yet and its full import fails (or torchvision is absent), an
    empty package ``timm`` with timm's search path stands in for it in ``sys.modules``, and
    ``timm.scheduler`` is imported under it::

        spec = importlib.util.find_spec("timm")
        package = types.ModuleType("timm")
        package.__path__ = list(spec.submodule_search_locations)
        package.__spec__ = spec
        sys.modules["timm"] = package
        import timm.scheduler

    Raises:
      ImportError: timm is not installed.
    """
    if "timm" not in sys.modules:
        spec = importlib.util.find_spec("timm")
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError(
                "the live reference of the timm. family is timm, which is not installed: "
                "pip install --no-deps timm"
            )
        if importlib.util.find_spec("torchvision") is not None:
            before = set(sys.modules)
            try:
                importlib.import_module("timm")
            except Exception:
                # what the failed import left behind goes: the stand-in below replaces it
                for name in set(sys.modules) - before:
                    if name == "timm" or name.startswith("timm."):
                        del sys.modules[name]
        if "timm" not in sys.modules:
            package = types.ModuleType("timm")
            package.__path__ = list(spec.submodule_search_locations)
            package.__spec__ = spec
            package.__file__ = spec.origin
            sys.modules["timm"] = package
    return importlib.import_module("timm.scheduler")


# -- torch's CPU generator, without torch -----------------------------------------------------

_N, _M = 624, 397
_U32 = np.uint64(0xFFFFFFFF)


def _mt_states(seeds: np.ndarray) -> np.ndarray:
    """mt19937's state after ``manual_seed(seed)`` (torch keeps the seed's low 32 bits), one
    row per seed: uint64 words holding 32 bits each."""
    state = np.empty((seeds.size, _N), dtype=np.uint64)
    word = seeds.astype(np.uint64) & _U32
    state[:, 0] = word
    for j in range(1, _N):
        word = (np.uint64(1812433253) * (word ^ (word >> np.uint64(30))) + np.uint64(j)) & _U32
        state[:, j] = word
    return state


def _mt_block(state: np.ndarray) -> np.ndarray:
    """Twists ``state`` in place (mt19937's next state) and returns its 624 tempered outputs
    per row. The twist runs in four slices, each reading only words already final."""
    upper, lower, matrix, one = (
        np.uint64(0x80000000),
        np.uint64(0x7FFFFFFF),
        np.uint64(0x9908B0DF),
        np.uint64(1),
    )
    for lo, hi in ((0, 227), (227, 454), (454, 623), (623, 624)):
        i = np.arange(lo, hi)
        y = (state[:, i] & upper) | (state[:, (i + 1) % _N] & lower)
        state[:, i] = state[:, (i + _M) % _N] ^ (y >> one) ^ ((y & one) * matrix)
    y = state.copy()
    y ^= y >> np.uint64(11)
    y ^= (y << np.uint64(7)) & np.uint64(0x9D2C5680)
    y ^= (y << np.uint64(15)) & np.uint64(0xEFC60000)
    y ^= y >> np.uint64(18)
    return y & _U32


def torch_noise(seeds: Any, noise_type: str, noise_pct: float, noise_std: float) -> np.ndarray:
    """timm's ``Scheduler._calculate_noise`` for each seed (``noise_seed + t``), as torch's CPU
    generator gives it, computed without torch.

    torch seeds mt19937 with the seed's low 32 bits (a negative seed as its two's complement).
    ``torch.rand(1)`` is the low 24 bits of one output times 2**-24; ``torch.randn(1)`` is the
    float32 of a Box-Muller pair from two 53-bit doubles (each the low 53 bits of two outputs,
    high word first): ``r = sqrt(-2 log1p(-u2))``, ``r cos(2 pi u1)``, then the cached
    ``r sin(2 pi u1)``. The transcendentals are Python's ``math``: the C library torch calls.

    Args:
      seeds: integers, each in [-2**63, 2**64) (torch's range).
      noise_type: ``"normal"`` (resampled while ``|randn * noise_std| >= noise_pct``) or
        ``"uniform"`` (``2 * (rand - 0.5) * noise_pct``).
      noise_pct: the noise limit.
      noise_std: the normal noise's scale.

    Returns:
      float64 noise, one per seed.

    >>> torch_noise([42], "uniform", 0.5, 1.0).tolist()  # torch.manual_seed(42); torch.rand(1)
    [0.3822692632675171]
    """
    flat = [int(s) for s in np.asarray(seeds, dtype=object).reshape(-1)]
    out = np.zeros(len(flat))
    if not flat:
        return out
    for start in range(0, len(flat), 2048):  # 2048 states of 624 words: 10 MiB at a time
        chunk = np.asarray([s % 2**64 for s in flat[start : start + 2048]], dtype=np.uint64)
        out[start : start + chunk.size] = _noise_chunk(chunk, noise_type, noise_pct, noise_std)
    return out


def _noise_chunk(seeds: np.ndarray, noise_type: str, pct: float, std: float) -> np.ndarray:
    state = _mt_states(seeds)
    outputs = _mt_block(state).tolist()
    if noise_type != "normal":
        return np.asarray([2 * ((row[0] & 0xFFFFFF) * 2.0**-24 - 0.5) * pct for row in outputs])
    values = []
    for k, row in enumerate(outputs):
        used, rows, cached = 0, [row], None
        while True:
            if cached is not None:
                sample, cached = cached, None
            else:
                if used + 4 > _N * len(rows):  # past this row's outputs: the next twist
                    rows.append(_mt_block(state[k : k + 1])[0].tolist())
                words = [rows[(used + j) // _N][(used + j) % _N] for j in range(4)]
                used += 4
                u1 = (((words[0] << 32) | words[1]) & ((1 << 53) - 1)) * 2.0**-53
                u2 = (((words[2] << 32) | words[3]) & ((1 << 53) - 1)) * 2.0**-53
                r = math.sqrt(-2.0 * math.log1p(-u2))
                theta = 2.0 * math.pi * u1
                sample = float(np.float32(r * math.cos(theta)))
                cached = float(np.float32(r * math.sin(theta)))
            noise = sample * std
            if abs(noise) < pct:
                values.append(noise)
                break
    return np.asarray(values)


# -- the live reference ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TimmScheduler(LiveScheduler):
    """timm's scheduler of the schedule class's name (``timm.scheduler.<Class>``) on a torch
    optimizer, stepped as timm's training loop steps it: ``step(t)`` for ``t = 0, 1, ...``
    (``step_update(t)`` where ``t_in_epochs=False``), row ``t`` the groups' lrs after it; a
    metric-driven scheduler (PlateauLRScheduler) is built (row 0) and stepped
    ``step(k, metrics[k - 1])`` (row ``k``).

    timm writes Python floats into the groups: given tensor lrs, it replaces them, so the
    tensor-lr trajectory is the float one (float64). A timm scheduler is no torch
    ``LRScheduler``: torch's composites cannot hold it. ``lrfun.from_torch`` reads its
    objects back.
    """

    # timm's step(t) sets the lrs outright from t: from_torch has no held lr to continue from.
    continues_held_lrs: ClassVar[bool] = False

    def resolve(self, cls: type) -> Any:
        return getattr(timm_scheduler(), cls.__name__)

    def trajectory(
        self,
        schedule: Any,
        steps: int,
        *,
        optimizer: Literal["sgd", "adam"] = "sgd",
        device: Any = "cpu",
        tensor_lr: bool = False,
        metrics: Sequence[float] | None = None,
    ) -> Trajectory:
        import torch

        from lrfun._reference import _check_steps

        steps = _check_steps(steps)
        if schedule._metric_driven != (metrics is not None):
            raise ValueError(
                f"{schedule._name} needs exactly steps={steps} metrics"
                if schedule._metric_driven
                else f"metrics apply to metric-driven machines only, not {schedule._name}"
            )
        if metrics is not None and len(metrics) != steps:
            raise ValueError(f"{schedule._name} needs exactly steps={steps} metrics")
        groups = schedule.groups or 1
        lrs = [float(v) for v in np.broadcast_to(schedule._initial_lr, (groups,))]
        # tensor lrs: timm replaces them with the Python floats it computes (no float32 step)
        opt = _make_optimizer(torch, optimizer, lrs, device, tensor_lr)
        live = schedule._live(opt)
        rows = np.empty((steps + 1, groups))
        if metrics is None:
            advance = live.step if schedule.t_in_epochs else live.step_update
            for t in range(steps + 1):
                advance(t)
                rows[t] = [float(g["lr"]) for g in opt.param_groups]
        else:
            rows[0] = [float(g["lr"]) for g in opt.param_groups]
            for t, metric in enumerate(metrics, 1):
                live.step(t, float(metric))
                rows[t] = [float(g["lr"]) for g in opt.param_groups]
        rows.flags.writeable = False
        device_name = str(opt.param_groups[0]["params"][0].device)
        return Trajectory(rows, None, "float64", device_name, self.label())


TIMM = TimmScheduler("timm", module="timm.scheduler", package="timm")


def _build_live(schedule: Any, optimizer: Any) -> Any:
    """timm's scheduler for ``schedule`` on ``optimizer``: ``lr_scale`` is a param group key
    timm reads, and ``initialize=False`` reads the groups' ``initial_lr``."""
    scales = schedule.lr_scale
    for i, group in enumerate(optimizer.param_groups):
        if scales is not None:
            group["lr_scale"] = float(scales[i] if isinstance(scales, tuple) else scales)
        if not schedule.initialize:
            group.setdefault("initial_lr", group["lr"])
    return TIMM.build(schedule, optimizer)


def _check_live(scheduler: Any, warmup: bool = True) -> None:
    """Refuses (ValueError) a live timm scheduler whose state no lrfun schedule describes:
    param groups added after construction (timm writes only the groups it was built with)
    or base values changed since (its warmup steps were computed from the old ones)."""
    groups = len(scheduler.optimizer.param_groups)
    bases = [float(v) for v in scheduler.base_values]
    if groups != len(bases):
        raise ValueError(
            f"from_torch cannot express {type(scheduler).__name__} on an optimizer with "
            f"{groups} param groups: it was built with {len(bases)} (groups added since are "
            "ones timm never writes)"
        )
    warmup_t = getattr(scheduler, "warmup_t", 0)
    steps = getattr(scheduler, "warmup_steps", None)
    if steps is None or not warmup:
        return
    init = float(getattr(scheduler, "warmup_lr_init", 0.0))
    expected = [(v - init) / warmup_t for v in bases] if warmup_t else [1.0] * len(bases)
    if not np.allclose([float(s) for s in steps], expected, rtol=1e-12, atol=0.0):
        raise ValueError(
            f"from_torch cannot express {type(scheduler).__name__} whose base_values "
            f"({bases}) changed after construction: its warmup steps ({list(steps)}) "
            "were computed from others"
        )


def _scales(scales: list[Any]) -> Any:
    """The groups' ``lr_scale`` (a group without one: 1): one value where they share it."""
    values = [1.0 if s is None else float(s) for s in scales]
    return values[0] if len(set(values)) == 1 else tuple(values)


# -- the pieces ------------------------------------------------------------------------------


def _range(value: Any) -> float | tuple[float, float] | None:
    """``noise_range_t``: None, a number (noise from it on) or an ``[on, off)`` pair."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            # timm indexes [0] and [1]: one value raises IndexError at the first step,
            # more are ignored.
            raise ValueError(
                f"noise_range_t must be a number or a pair [on, off), got {check._shown(value)}"
            )
        on = check.real("noise_range_t[0]", value[0])
        off = check.real("noise_range_t[1]", value[1])
        return (_number(value[0], on), _number(value[1], off))
    number: float = _number(value, check.real("noise_range_t", value))
    return number


def _number(given: Any, checked: Any) -> Any:
    """A checked number as an int where it was given as one (configs keep it so)."""
    return int(given) if check._is_int(given) else float(checked)


def _whole(name: str, value: Any, minimum: int = 0) -> int:
    return check.integer(name, value, minimum=minimum, whole=True)


class _Segments(NamedTuple):
    """The cycles of ``cycle_mul != 1`` as timm counts them: segment ``j`` starts at step
    ``starts[j]`` (after any warmup prefix) and is cycle ``cycles[j]``."""

    starts: ByWidth  # the starts of segments 1.. (segment 0 starts at 0)
    cycles: tuple[float, ...]  # its cycle index i (as a float: an exponent)
    active: tuple[bool, ...]  # i < cycle_limit (else the lr is lr_min)
    offsets: tuple[float, ...]  # (1 - m**i) / (1 - m) * T
    lengths: tuple[float, ...]  # m**i * T


def _timm_cycle(t: int, t_initial: int, m: float) -> int | None:
    """timm's cycle index of step ``t`` (None where its log has no value: math.log raises)."""
    x = 1 - t / t_initial * (1 - m)
    if x <= 0:
        return None
    return math.floor(math.log(x, m))


def _segments(t_initial: int, m: float, limit: int) -> _Segments:
    """The cycle boundaries of ``cycle_mul = m != 1``, where timm's own float arithmetic puts
    them: the first step of each cycle up to ``cycle_limit`` (and, for ``m < 1``, the step
    from which timm's log has no value: lr_min there)."""
    starts, cycles = [0], [0]
    while cycles[-1] < limit and len(starts) < _MAX_CYCLES:
        k = cycles[-1] + 1
        guess = t_initial * (m**k - 1) / (m - 1) if k < 4096 or m < 1 else math.inf
        if not math.isfinite(guess) or guess >= _INT_MAX:
            break
        t = max(starts[-1] + 1, math.floor(guess) - 2)
        while True:
            i = _timm_cycle(t, t_initial, m)
            if i is None or i >= k:
                break
            t += 1
        if t > _INT_MAX:
            break
        starts.append(t)
        cycles.append(limit if i is None else i)  # past timm's domain: lr_min
        if i is None:
            break
    if len(starts) >= _MAX_CYCLES:
        raise ValueError(
            f"cycle_mul={m!r} with cycle_limit={limit} makes more than {_MAX_CYCLES} cycles "
            "before any int64 step: lrfun tabulates at most that many"
        )
    return _Segments(
        starts=integer_tables(tuple(starts[1:])),
        cycles=tuple(float(i) for i in cycles),
        active=tuple(i < limit for i in cycles),
        offsets=tuple((1 - m**i) / (1 - m) * t_initial if i < limit else 0.0 for i in cycles),
        lengths=tuple(m**i * t_initial if i < limit else 1.0 for i in cycles),
    )


def _warmup(ctx: Ctx, step: Any, init: Any, target: Any, warmup_t: int) -> Any:
    """timm's warmup: ``warmup_lr_init + t * (target - warmup_lr_init) / warmup_t``."""
    slope = (target - ctx.const(init)) / float(warmup_t)
    return ctx.const(init) + ctx.float(step) * slope


def _after(ctx: Ctx, step: Any, warmup_t: int, prefix: bool) -> Any:
    """The step timm's decay sees from the end of warmup on: ``t - warmup_t`` with the
    prefix, else ``t`` (never below ``warmup_t``: the warmup's steps are answered by it)."""
    if warmup_t == 0 or not reaches(ctx, step, warmup_t):
        return step
    at_least = ctx.xp.maximum(step, ctx.xp.asarray(warmup_t, dtype=step.dtype, device=ctx.device))
    return at_least - warmup_t if prefix else at_least


class _Noise:
    """timm's noise and the arguments every timm scheduler has (the schedules' base and the
    plateau machine's): the noise at a step, on the host or from a table."""

    _name: ClassVar[str]

    if TYPE_CHECKING:
        # Fields of every timm scheduler (each class declares them in timm's order), for type
        # checkers only: declared here as fields, they would come first in every signature.

        @property
        def base_lr(self) -> Any: ...

        @property
        def lr_scale(self) -> Any: ...

        @property
        def noise_range_t(self) -> Any: ...

        @property
        def noise_pct(self) -> Any: ...

        @property
        def noise_std(self) -> Any: ...

        @property
        def noise_seed(self) -> Any: ...

        @property
        def initialize(self) -> bool: ...

        @property
        def horizon(self) -> int | None: ...

        @property
        def warmup_t(self) -> int: ...

        @property
        def warmup_lr_init(self) -> Any: ...

        @property
        def _tables(self) -> Cache: ...

        @property
        def t_in_epochs(self) -> bool: ...

        @property
        def _noise_key(self) -> tuple[float, float]: ...

        @property
        def warmup_prefix(self) -> bool: ...

    def _noise_type(self) -> str:
        return "normal"

    def _check_common(self) -> dict[str, Any]:
        """The arguments every timm scheduler has, checked (the subclass sets the rest)."""
        base_lr = check.lr_values("base_lr", self.base_lr)
        lr_scale = None
        if self.lr_scale is not None:
            lr_scale = check.lr_values("lr_scale", self.lr_scale)
        pct = check.real("noise_pct", self.noise_pct)
        noise = _range(self.noise_range_t)
        seed = self.noise_seed
        # timm's None is 42 (it keeps 42: from_torch reads it so)
        seed = 42 if seed is None else seed
        seed = check.integer("noise_seed", seed, minimum=-(2**63), maximum=2**64 - 1)
        horizon = self.horizon
        if horizon is not None:
            horizon = _whole("horizon", horizon)
        if noise is not None and self._noise_type() == "normal" and not pct > 0:
            # timm resamples while |noise| >= noise_pct: it never returns
            raise ValueError(
                f"noise_pct must be > 0 for normal noise (timm's resampling never ends), "
                f"got {check._shown(self.noise_pct)}"
            )
        return dict(
            base_lr=base_lr,
            lr_scale=lr_scale,
            noise_range_t=noise,
            noise_pct=float(pct),
            noise_std=float(check.real("noise_std", self.noise_std)),
            noise_seed=seed,
            t_in_epochs=check.boolean("t_in_epochs", self.t_in_epochs),
            initialize=check.boolean("initialize", self.initialize),
            horizon=horizon,
            _tables=Cache(),
            # the noise's arguments as the host tables use them: static, where the leaves
            # of the same names may be traced
            _noise_key=(float(pct), float(check.real("noise_std", self.noise_std))),
        )

    # -- noise ---------------------------------------------------------------------------

    def _noise_bounds(self) -> tuple[int, int | None] | None:
        """The integer steps noise applies to: ``[on, off)`` (off None: no end)."""
        noise = self.noise_range_t
        if noise is None:
            return None
        if isinstance(noise, tuple):
            on, off = noise
            return max(0, math.ceil(on)), max(0, math.ceil(off))
        return max(0, math.ceil(noise)), None

    def _noise_values(self, steps: np.ndarray) -> np.ndarray:
        """The noise at host integer steps (0 outside the noise range)."""
        bounds = self._noise_bounds()
        out = np.zeros(steps.shape)
        if bounds is None:
            return out
        on, off = bounds
        inside = steps >= on if off is None else (steps >= on) & (steps < off)
        if inside.any():
            unique, where = np.unique(steps[inside], return_inverse=True)
            seeds = [self.noise_seed + int(t) for t in unique.tolist()]
            noise = torch_noise(seeds, self._noise_type(), *self._noise_key)
            out[inside] = noise[where.reshape(-1)]
        return out

    def _noise_table(self) -> tuple[int, np.ndarray]:
        """The noise at steps ``on..end`` for traced steps: its first step and values."""
        bounds = self._noise_bounds()
        assert bounds is not None
        on, off = bounds
        last = (off - 1) if off is not None else self.horizon
        assert last is not None

        def build() -> tuple[int, np.ndarray]:
            count = max(last - on + 1, 0)
            check_table(
                "horizon" if off is None else "noise_range_t",
                last,
                count,
                1,
                f"{self._name}'s noise is tabulated on the host for traced steps",
                "evaluate with concrete steps",
            )
            return on, self._noise_values(np.arange(on, on + count))

        found: tuple[int, np.ndarray] = self._tables.get("noise", build)
        return found

    def _build_noise(self) -> None:
        # Built ahead: traced steps (torch.compile) find the table ready.
        bounds = self._noise_bounds()
        if bounds is not None and (bounds[1] is not None or self.horizon is not None):
            self._noise_table()

    def _noise(self, ctx: Ctx, step: Any) -> Any:
        """timm's noise at ``step`` (0 outside the noise range): computed on the host for
        concrete steps, read from the construction-time table for traced ones (NaN past
        ``horizon`` where the range has no end)."""
        if not is_traced(step):
            return ctx.from_host(self._noise_values(host_values(step).astype(np.int64)))
        bounds = self._noise_bounds()
        assert bounds is not None
        off = bounds[1]
        if off is None and self.horizon is None:
            table_end(step, None, f"{self._name}'s noise (noise_range_t with no end)")
        first, values = self._noise_table()
        xp = ctx.xp
        if values.size == 0:
            return ctx.where(step < 0, 0.0, 0.0)
        last = first + values.size - 1
        if not reaches(ctx, step, first):
            return ctx.where(step < 0, 0.0, 0.0)
        index = ctx.minimum(xp.maximum(step - first, xp.zeros_like(step)), values.size - 1)
        noise = ctx.gather(values, index)
        inside = step >= first
        noise = xp.where(inside, noise, ctx.array(0.0))
        if reaches(ctx, step, last + 1):
            # past an [on, off) range: no noise; past the horizon: no value (NaN)
            past = ctx.array(math.nan if off is None else 0.0)
            noise = xp.where(step > last, past, noise)
        return noise


# -- the classes -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Timm(_Noise, Schedule, register=False):
    """One of timm's schedulers: ``lr(t) = (v + v * noise(t)) * lr_scale`` with ``v`` timm's
    ``_get_lr(t)`` for the group."""

    _noise_key: tuple[float, float] = dataclasses.field(init=False, repr=False, compare=False)

    _namespace = "timm."
    _reference = TIMM
    _lr_arguments: ClassVar[tuple[str, ...]] = ("base_lr", "lr_min", "warmup_lr_init")

    def _build_tables(self) -> None:
        self._build_noise()

    # -- the schedule ----------------------------------------------------------------------

    def _get_lr(self, ctx: Ctx, step: Any) -> Any:
        """timm's ``_get_lr(t)`` per group, before noise and ``lr_scale``."""
        raise NotImplementedError

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        lr = self._get_lr(ctx, step)
        if self.noise_range_t is not None:
            lr = lr + lr * self._noise(ctx, step)
        if self.lr_scale is not None:
            lr = lr * ctx.const(self.lr_scale)
        return lr

    def _warmed(self, ctx: Ctx, step: Any, after: Any, target: Any = None) -> Any:
        """``after`` from ``warmup_t`` on, timm's linear warmup to ``target`` (the base lr)
        before it."""
        warmup_t: int = self.warmup_t
        if warmup_t == 0:
            return after
        if not reaches(ctx, step, warmup_t):
            after = None
        base = ctx.const(self.base_lr) if target is None else target
        ramp = _warmup(ctx, step, self.warmup_lr_init, base, warmup_t)
        return ramp if after is None else ctx.xp.where(step < warmup_t, ramp, after)

    def _lr_scale(self) -> float:
        scale = super()._lr_scale()
        lr_scale = self.lr_scale
        if lr_scale is not None:
            values = lr_scale if isinstance(lr_scale, tuple) else (lr_scale,)
            scale *= max(abs(float(v)) for v in values)
        return scale

    @property
    def _initial_lr(self) -> Any:
        return self.base_lr

    def _torch_object(self, optimizer: Any) -> Any:
        return _build_live(self, optimizer)

    _torch_names: ClassVar[tuple[str, ...]] = ()
    # Whether timm's warmup_steps are computed from base_values (checked by from_torch).
    _warmup_to_base: ClassVar[bool] = True

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        _check_live(scheduler, warmup=cls._warmup_to_base)
        groups = scheduler.optimizer.param_groups
        scales = [g.get("lr_scale") for g in groups]
        if getattr(scheduler, "noise_type", "normal") != cls._live_noise_type(scheduler):
            raise ValueError(
                f"from_torch cannot express {type(scheduler).__name__} with noise_type="
                f"{scheduler.noise_type!r} set after construction: its constructor takes none"
            )
        arguments: dict[str, Any] = {"base_lr": per_group(scheduler.base_values)}
        for name in cls._torch_names:
            arguments[name] = getattr(scheduler, name)
        arguments["noise_range_t"] = scheduler.noise_range_t
        arguments["noise_pct"] = scheduler.noise_pct
        arguments["noise_std"] = scheduler.noise_std
        arguments["noise_seed"] = scheduler.noise_seed
        if any(s is not None for s in scales):
            arguments["lr_scale"] = _scales(scales)
        return arguments

    @classmethod
    def _live_noise_type(cls, scheduler: Any) -> str:
        return "normal"

    def _course_changes(self, n: int) -> list[float]:
        warmup_t: int = self.warmup_t
        return [float(warmup_t)] if 0 < warmup_t < n else []


@dataclasses.dataclass(frozen=True)
class _Cycles(_Timm, register=False):
    """What CosineLRScheduler, TanhLRScheduler and PolyLRScheduler share: warmup, then
    cycles of ``t_initial`` steps (each ``cycle_mul`` times the last, its peak
    ``cycle_decay`` times the last) up to ``cycle_limit`` cycles, then ``lr_min``."""

    _segments: _Segments | None = dataclasses.field(init=False, repr=False, compare=False)

    if TYPE_CHECKING:
        # Fields of every cycling scheduler, for type checkers (see _Noise).

        @property
        def t_initial(self) -> int: ...

        @property
        def lr_min(self) -> Any: ...

        @property
        def cycle_mul(self) -> float: ...

        @property
        def cycle_decay(self) -> Any: ...

        @property
        def cycle_limit(self) -> int: ...

    def _check_cycles(self) -> dict[str, Any]:
        t_initial = _whole("t_initial", self.t_initial, minimum=1)
        cycle_mul = float(check.real("cycle_mul", self.cycle_mul, low=0.0, low_open=True))
        if cycle_mul == 1.0:
            cycle_mul = 1.0
        limit = _whole("cycle_limit", self.cycle_limit)
        warmup_t = _whole("warmup_t", self.warmup_t)
        return dict(
            t_initial=t_initial,
            lr_min=check.real("lr_min", self.lr_min, low=0.0),
            cycle_mul=cycle_mul,
            cycle_decay=check.real("cycle_decay", self.cycle_decay, low=0.0),
            cycle_limit=limit,
            warmup_t=warmup_t,
            warmup_lr_init=check.real("warmup_lr_init", self.warmup_lr_init, low=0.0),
            warmup_prefix=check.boolean("warmup_prefix", self.warmup_prefix),
            _segments=None if cycle_mul == 1.0 else _segments(t_initial, cycle_mul, limit),
        )

    def _curve(self, ctx: Ctx, lr_max: Any, t_curr: Any, t_i: Any) -> Any:
        """The lr at ``t_curr`` steps into a cycle of ``t_i`` steps peaking at ``lr_max``."""
        raise NotImplementedError

    def _cycle(self, ctx: Ctx, t: Any) -> Any:
        """timm's lr after warmup at the (prefix-adjusted) integer step ``t``."""
        xp = ctx.xp
        base = ctx.const(self.base_lr)
        lr_min = ctx.const(self.lr_min)
        segments = self._segments
        if segments is None:
            t_initial: int = self.t_initial
            if reaches(ctx, t, t_initial):
                i = ctx.quotient(t, t_initial)
                t_curr = ctx.float(t - i * t_initial)
            else:
                i = xp.zeros_like(t)
                t_curr = ctx.float(t)
            active = i < self.cycle_limit if reaches(ctx, t, self.cycle_limit) else None
            exponent = ctx.float(i)
            t_i: Any = float(t_initial)
        else:
            j = _searchsorted(ctx, segments.starts, t)
            active = ctx.gather(np.asarray(segments.active), j, dtype=xp.bool)
            exponent = ctx.gather(segments.cycles, j)
            t_curr = ctx.float(t) - ctx.gather(segments.offsets, j)
            t_i = ctx.gather(segments.lengths, j)
        lr_max = power(ctx, self.cycle_decay, exponent, base)
        lr = self._curve(ctx, lr_max, t_curr, t_i)
        if active is None:
            return lr
        return xp.where(active, lr, ctx.array(lr_min) + ctx.array(0.0) * lr)

    def _get_lr(self, ctx: Ctx, step: Any) -> Any:
        t = _after(ctx, step, self.warmup_t, self.warmup_prefix)
        return self._warmed(ctx, step, self._cycle(ctx, t))

    def get_cycle_length(self, cycles: int = 0) -> int:
        """timm's ``get_cycle_length``: the steps of ``cycles`` cycles (default
        ``cycle_limit``), the warmup included where it is a prefix."""
        cycles = max(1, cycles or self.cycle_limit)
        m, t_initial = self.cycle_mul, self.t_initial
        if m == 1.0:
            t = t_initial * cycles
        else:
            t = math.floor(-t_initial * (m**cycles - 1) / (1 - m))
        return t + self.warmup_t if self.warmup_prefix else t

    def _course_changes(self, n: int) -> list[float]:
        out = super()._course_changes(n)
        shift = self.warmup_t if self.warmup_prefix else 0
        if self._segments is None:
            starts = range(self.t_initial, n, self.t_initial)
        else:
            starts = range(0)
            out += [float(s + shift) for s in self._segments.starts[64] if s + shift < n]
        out += [float(s + shift) for s in starts if s + shift < n]
        return sorted(set(out))


def _cycle_strategy(
    draw: Any, cls: Any, st: Any, extra: dict[str, Any], groups: Any = None
) -> dict[str, Any]:
    """Hypothesis: the arguments every cycling timm scheduler shares."""
    config: dict[str, Any] = {"name": cls._name, "base_lr": draw(_lrs(st, groups))}
    config["t_initial"] = draw(st.integers(1, 60))
    config["lr_min"] = draw(st.sampled_from([0.0, 1e-5, 0.01]))
    # cycle_mul < 1 ends timm's domain (its log raises) after t_initial / (1 - cycle_mul)
    # steps, which a trajectory of any length passes: tests/test_timm_family.py runs it there
    config["cycle_mul"] = draw(st.sampled_from([1.0, 1.0, 1.5, 2.0, 3.0]))
    config["cycle_decay"] = draw(st.sampled_from([1.0, 0.5, 0.1]))
    config["cycle_limit"] = draw(st.integers(0, 5))
    config.update(_warmup_strategy(draw, st))
    config["t_in_epochs"] = draw(st.booleans())
    config.update(_noise_strategy(draw, st))
    config.update(extra)
    return config


def _lrs(st: Any, groups: Any = None) -> Any:
    """Base lrs as ``_strategy(groups)`` says: ``groups`` None draws one or several groups;
    else a strategy of the count (None drawn: one group, its lr a number)."""
    one = st.floats(1e-5, 1.0)
    if groups is None:
        return st.one_of(one, st.lists(one, min_size=2, max_size=3).map(list))
    return groups.flatmap(
        lambda n: one if n is None else st.lists(one, min_size=n, max_size=n).map(list)
    )


def _warmup_strategy(draw: Any, st: Any) -> dict[str, Any]:
    return {
        "warmup_t": draw(st.sampled_from([0, 0, 1, 3, 10])),
        "warmup_lr_init": draw(st.sampled_from([0.0, 1e-6, 1e-3])),
        "warmup_prefix": draw(st.booleans()),
    }


def _noise_strategy(draw: Any, st: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    kind = draw(st.sampled_from(["none", "none", "from", "pair"]))
    if kind == "from":
        out["noise_range_t"] = draw(st.integers(0, 50))
    elif kind == "pair":
        on = draw(st.integers(0, 40))
        out["noise_range_t"] = [on, on + draw(st.integers(0, 40))]
    if kind != "none":
        out["noise_pct"] = draw(st.sampled_from([0.67, 0.1, 0.05, 1.5]))
        out["noise_std"] = draw(st.sampled_from([1.0, 0.5, 2.0, 0.0]))
        out["noise_seed"] = draw(st.sampled_from([42, 0, -3, 2**32 + 7, 123456789]))
    if draw(st.booleans()):
        out["lr_scale"] = draw(st.sampled_from([0.5, 1.0, 0.1]))
    return out


@dataclasses.dataclass(frozen=True)
class CosineLRScheduler(_Cycles):
    """timm's ``CosineLRScheduler``: cosine decay with warm restarts, k-decay and warmup.

    After warmup (``t' = t - warmup_t`` with ``warmup_prefix``, else ``t``), in cycle ``i``
    (``t_curr`` steps into a cycle of ``t_i`` steps; ``t_i = t_initial * cycle_mul ** i``):

    ``lr = lr_min + 0.5 * (base_lr * cycle_decay**i - lr_min) * (1 + cos(pi * t_curr**k /
    t_i**k))`` while ``i < cycle_limit``, then ``lr_min``. Before ``warmup_t``:
    ``warmup_lr_init + t * (base_lr - warmup_lr_init) / warmup_t``.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      t_initial: the first cycle's length, a positive integer.
      lr_min: the floor, >= 0.
      cycle_mul: each cycle's length over the last's, > 0.
      cycle_decay: each cycle's peak over the last's, >= 0.
      cycle_limit: the number of cycles, an integer >= 0.
      warmup_t: warmup steps, an integer >= 0.
      warmup_lr_init: the lr at step 0 of the warmup, >= 0.
      warmup_prefix: whether the cycles start after the warmup (else the warmup covers
        their first steps).
      t_in_epochs: whether timm steps it per epoch (``step``) or per update
        (``step_update``); either way ``schedule(t)`` is the lr for ``t``.
      noise_range_t: the steps with noise: ``t >= n`` for a number, ``[on, off)`` for a pair.
      noise_pct: the noise limit (normal noise is resampled until below it).
      noise_std: the normal noise's scale.
      noise_seed: the seed; step ``t``'s noise is torch's generator seeded ``noise_seed + t``.
      k_decay: the k-decay exponent.
      initialize: timm's flag: whether it sets the groups' ``initial_lr`` (the lr is the same).
      lr_scale: (keyword, lrfun only) the param groups' ``lr_scale`` (timm's per-group
        factor, layer-wise decay), one or one per group.
      horizon: (keyword, lrfun only) the last step traced steps may read noise for, where
        ``noise_range_t`` has no end.

    >>> s = CosineLRScheduler(0.1, t_initial=10, warmup_t=2, warmup_lr_init=0.01)
    >>> [round(s(t), 12) for t in (0, 1, 5, 10)]
    [0.01, 0.055, 0.05, 0.0]
    """

    base_lr: float | Sequence[float]
    t_initial: int
    lr_min: float = 0.0
    cycle_mul: float = 1.0
    cycle_decay: float = 1.0
    cycle_limit: int = 1
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = False
    t_in_epochs: bool = True
    noise_range_t: float | Sequence[float] | None = None
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42
    k_decay: float = 1.0
    initialize: bool = True
    lr_scale: float | Sequence[float] | None = dataclasses.field(default=None, kw_only=True)
    horizon: int | None = dataclasses.field(default=None, kw_only=True)
    _tables: Cache = dataclasses.field(
        init=False, repr=False, compare=False, metadata={"cache": True}
    )

    _hyperparameters = (
        "base_lr", "lr_min", "cycle_mul", "cycle_decay", "warmup_lr_init", "noise_pct",
        "noise_std", "k_decay", "lr_scale",
    )  # fmt: skip
    _torch_names = (
        "t_initial", "lr_min", "cycle_mul", "cycle_decay", "cycle_limit", "warmup_t",
        "warmup_lr_init", "warmup_prefix", "t_in_epochs", "k_decay",
    )  # fmt: skip
    _gallery = ("timm.CosineLRScheduler(0.1, 30, cycle_mul=2.0, cycle_limit=3, warmup_t=5)", 230)

    def __post_init__(self) -> None:
        common = self._check_common()
        cycles = self._check_cycles()
        k = check.real("k_decay", self.k_decay, low=0.0, low_open=True)
        self._set(
            **common,
            **cycles,
            k_decay=k,
            _groups=check.group_count(base_lr=common["base_lr"], lr_scale=common["lr_scale"]),
        )
        self._build_tables()

    def _curve(self, ctx: Ctx, lr_max: Any, t_curr: Any, t_i: Any) -> Any:
        k = self.k_decay
        if isinstance(k, float) and k == 1.0:
            fraction = t_curr / t_i
        else:
            fraction = t_curr**k / ctx.array(t_i) ** k
        lr_min = ctx.const(self.lr_min)
        return lr_min + 0.5 * (lr_max - lr_min) * (1 + ctx.xp.cos(math.pi * fraction))

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def draw(d: Any) -> dict[str, Any]:
            return _cycle_strategy(
                d, cls, st, {"k_decay": d(st.sampled_from([1.0, 1.0, 0.5, 2.0]))}, groups
            )

        return draw()


@dataclasses.dataclass(frozen=True)
class TanhLRScheduler(_Cycles):
    """timm's ``TanhLRScheduler``: hyperbolic-tangent decay with warm restarts and warmup.

    In cycle ``i`` at ``tr = t_curr / t_i`` (see CosineLRScheduler for the cycles):
    ``lr = lr_min + 0.5 * (base_lr * cycle_decay**i - lr_min) * (1 - tanh(lb * (1 - tr) +
    ub * tr))``. The warmup rises to the base lr with ``warmup_prefix``, else to the tanh's
    own value at ``warmup_t`` (timm's ``_get_lr(warmup_t)``).

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      t_initial: the first cycle's length, a positive integer.
      lb: the tanh's argument at a cycle's start, below ``ub``.
      ub: the tanh's argument at a cycle's end.
      lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init, warmup_prefix,
        t_in_epochs, noise_range_t, noise_pct, noise_std, noise_seed, initialize, lr_scale,
        horizon: as CosineLRScheduler's.

    >>> s = TanhLRScheduler(1.0, t_initial=10, lb=-1.0, ub=1.0)
    >>> round(s(5), 12), round(s(0), 6)
    (0.5, 0.880797)
    """

    base_lr: float | Sequence[float]
    t_initial: int
    lb: float = -7.0
    ub: float = 3.0
    lr_min: float = 0.0
    cycle_mul: float = 1.0
    cycle_decay: float = 1.0
    cycle_limit: int = 1
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = False
    t_in_epochs: bool = True
    noise_range_t: float | Sequence[float] | None = None
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42
    initialize: bool = True
    lr_scale: float | Sequence[float] | None = dataclasses.field(default=None, kw_only=True)
    horizon: int | None = dataclasses.field(default=None, kw_only=True)
    _tables: Cache = dataclasses.field(
        init=False, repr=False, compare=False, metadata={"cache": True}
    )

    _hyperparameters = (
        "base_lr", "lb", "ub", "lr_min", "cycle_mul", "cycle_decay", "warmup_lr_init",
        "noise_pct", "noise_std", "lr_scale",
    )  # fmt: skip
    # timm warms a tanh without prefix up to the curve's value at warmup_t, not the base
    _warmup_to_base: ClassVar[bool] = False
    _torch_names = (
        "t_initial", "lb", "ub", "lr_min", "cycle_mul", "cycle_decay", "cycle_limit",
        "warmup_t", "warmup_lr_init", "warmup_prefix", "t_in_epochs",
    )  # fmt: skip
    _gallery = ("timm.TanhLRScheduler(0.1, 100, warmup_t=5, warmup_prefix=True)", 110)

    def __post_init__(self) -> None:
        common = self._check_common()
        cycles = self._check_cycles()
        lb = check.real("lb", self.lb)
        ub = check.real("ub", self.ub)
        if not float(lb) < float(ub):
            raise ValueError(f"lb must be below ub, got lb={lb!r} and ub={ub!r}")
        self._set(
            **common,
            **cycles,
            lb=lb,
            ub=ub,
            _groups=check.group_count(base_lr=common["base_lr"], lr_scale=common["lr_scale"]),
        )
        self._build_tables()

    def _curve(self, ctx: Ctx, lr_max: Any, t_curr: Any, t_i: Any) -> Any:
        tr = t_curr / t_i
        lr_min = ctx.const(self.lr_min)
        arg = ctx.const(self.lb) * (1.0 - tr) + ctx.const(self.ub) * tr
        # 1 - tanh(x) without its cancellation at large x (float32 keeps its digits):
        # 2 e / (1 + e) for x > 0, 2 / (1 + e) else, with e = exp(-2|x|)
        e = ctx.xp.exp(-2.0 * ctx.xp.abs(arg))
        rest = ctx.xp.where(arg > 0, 2.0 * e / (1.0 + e), 2.0 / (1.0 + e))
        return lr_min + 0.5 * (lr_max - lr_min) * rest

    def _get_lr(self, ctx: Ctx, step: Any) -> Any:
        t = _after(ctx, step, self.warmup_t, self.warmup_prefix)
        after = self._cycle(ctx, t)
        if self.warmup_t == 0 or self.warmup_prefix:
            return self._warmed(ctx, step, after)
        # timm warms up to _get_lr(warmup_t): the tanh at warmup_t itself
        at = ctx.xp.asarray(self.warmup_t, dtype=step.dtype, device=ctx.device)
        target = self._cycle(ctx, at)
        return self._warmed(ctx, step, after, target)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def draw(d: Any) -> dict[str, Any]:
            lb = d(st.sampled_from([-7.0, -3.0, -1.0, 0.5]))
            ub = lb + d(st.sampled_from([0.5, 4.0, 10.0]))
            return _cycle_strategy(d, cls, st, {"lb": lb, "ub": ub}, groups)

        return draw()


@dataclasses.dataclass(frozen=True)
class PolyLRScheduler(_Cycles):
    """timm's ``PolyLRScheduler``: polynomial decay with warm restarts, k-decay and warmup.

    In cycle ``i`` (see CosineLRScheduler for the cycles): ``lr = lr_min + (base_lr *
    cycle_decay**i - lr_min) * (1 - t_curr**k / t_i**k) ** power``.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      t_initial: the first cycle's length, a positive integer.
      power: the polynomial's power, >= 0.
      lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init, warmup_prefix,
        t_in_epochs, noise_range_t, noise_pct, noise_std, noise_seed, k_decay, initialize,
        lr_scale, horizon: as CosineLRScheduler's.

    >>> s = PolyLRScheduler(1.0, t_initial=10, power=2.0)
    >>> round(s(5), 12), s(10)
    (0.25, 0.0)
    """

    base_lr: float | Sequence[float]
    t_initial: int
    power: float = 0.5
    lr_min: float = 0.0
    cycle_mul: float = 1.0
    cycle_decay: float = 1.0
    cycle_limit: int = 1
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = False
    t_in_epochs: bool = True
    noise_range_t: float | Sequence[float] | None = None
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42
    k_decay: float = 1.0
    initialize: bool = True
    lr_scale: float | Sequence[float] | None = dataclasses.field(default=None, kw_only=True)
    horizon: int | None = dataclasses.field(default=None, kw_only=True)
    _tables: Cache = dataclasses.field(
        init=False, repr=False, compare=False, metadata={"cache": True}
    )

    _hyperparameters = (
        "base_lr", "power", "lr_min", "cycle_mul", "cycle_decay", "warmup_lr_init",
        "noise_pct", "noise_std", "k_decay", "lr_scale",
    )  # fmt: skip
    _torch_names = (
        "t_initial", "power", "lr_min", "cycle_mul", "cycle_decay", "cycle_limit", "warmup_t",
        "warmup_lr_init", "warmup_prefix", "t_in_epochs", "k_decay",
    )  # fmt: skip
    _gallery = ("timm.PolyLRScheduler(0.1, 100, power=2.0, warmup_t=5)", 110)

    def __post_init__(self) -> None:
        common = self._check_common()
        cycles = self._check_cycles()
        self._set(
            **common,
            **cycles,
            power=check.real("power", self.power, low=0.0),
            k_decay=check.real("k_decay", self.k_decay, low=0.0, low_open=True),
            _groups=check.group_count(base_lr=common["base_lr"], lr_scale=common["lr_scale"]),
        )
        self._build_tables()

    def _curve(self, ctx: Ctx, lr_max: Any, t_curr: Any, t_i: Any) -> Any:
        k = self.k_decay
        if isinstance(k, float) and k == 1.0:
            fraction = t_curr / t_i
        else:
            fraction = t_curr**k / ctx.array(t_i) ** k
        left = ctx.xp.maximum(1 - fraction, ctx.array(0.0))
        lr_min = ctx.const(self.lr_min)
        return lr_min + (lr_max - lr_min) * left ** ctx.const(self.power)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def draw(d: Any) -> dict[str, Any]:
            extra = {
                "power": d(st.sampled_from([0.5, 1.0, 2.0, 0.9])),
                "k_decay": d(st.sampled_from([1.0, 1.0, 0.5, 2.0])),
            }
            return _cycle_strategy(d, cls, st, extra, groups)

        return draw()


@dataclasses.dataclass(frozen=True)
class StepLRScheduler(_Timm):
    """timm's ``StepLRScheduler``: ``lr = base_lr * decay_rate ** (t' // decay_t)`` after
    warmup (``t' = t - warmup_t`` with ``warmup_prefix``, timm's default here, else ``t``),
    Python's floor division of reals (``decay_t=2.4`` decays at 3, 5, 8, ...).

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      decay_t: the decay interval, a number > 0.
      decay_rate: the decay factor, >= 0.
      warmup_t, warmup_lr_init, warmup_prefix, t_in_epochs, noise_range_t, noise_pct,
        noise_std, noise_seed, initialize, lr_scale, horizon: as CosineLRScheduler's.

    >>> s = StepLRScheduler(1.0, decay_t=2.4, decay_rate=0.5)
    >>> [s(t) for t in (0, 2, 3, 5)]
    [1.0, 1.0, 0.5, 0.25]
    """

    base_lr: float | Sequence[float]
    decay_t: float
    decay_rate: float = 1.0
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = True
    t_in_epochs: bool = True
    noise_range_t: float | Sequence[float] | None = None
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42
    initialize: bool = True
    lr_scale: float | Sequence[float] | None = dataclasses.field(default=None, kw_only=True)
    horizon: int | None = dataclasses.field(default=None, kw_only=True)
    _tables: Cache = dataclasses.field(
        init=False, repr=False, compare=False, metadata={"cache": True}
    )
    _decay: int | float = dataclasses.field(init=False, repr=False, compare=False)

    # decay_t, where real, is a leaf for its value; the staircase reads _decay (static)
    _hyperparameters = (
        "base_lr", "decay_t", "decay_rate", "warmup_lr_init", "noise_pct", "noise_std",
        "lr_scale",
    )  # fmt: skip
    _lr_arguments = ("base_lr", "warmup_lr_init")
    _torch_names = (
        "decay_t", "decay_rate", "warmup_t", "warmup_lr_init", "warmup_prefix", "t_in_epochs",
    )  # fmt: skip
    _gallery = ("timm.StepLRScheduler(0.1, decay_t=2.4, decay_rate=0.97, warmup_t=3)", 100)

    def __post_init__(self) -> None:
        common = self._check_common()
        decay_t = check.real("decay_t", self.decay_t, low=0.0, low_open=True)
        decay_t = float(decay_t)
        self._set(
            **common,
            decay_t=int(decay_t) if decay_t.is_integer() and decay_t < 2**63 else decay_t,
            _decay=int(decay_t) if decay_t.is_integer() and decay_t < 2**63 else decay_t,
            decay_rate=check.real("decay_rate", self.decay_rate, low=0.0),
            warmup_t=_whole("warmup_t", self.warmup_t),
            warmup_lr_init=check.real("warmup_lr_init", self.warmup_lr_init, low=0.0),
            warmup_prefix=check.boolean("warmup_prefix", self.warmup_prefix),
            _groups=check.group_count(base_lr=common["base_lr"], lr_scale=common["lr_scale"]),
        )
        self._build_tables()

    def _float32_steps(self) -> int | None:
        # a real decay_t's float32 staircase is exact below _exact32 (see _floor_quotient)
        if isinstance(self._decay, int):
            return None
        shift = self.warmup_t if self.warmup_prefix else 0
        return _exact32(self._decay) + shift - 1

    def _tree_leaves(self) -> tuple[str, ...]:
        # an integer decay_t is structure (the staircase of integer steps), a real one a leaf
        if isinstance(self._decay, int):
            return tuple(n for n in self._hyperparameters if n != "decay_t")
        return self._hyperparameters

    def _get_lr(self, ctx: Ctx, step: Any) -> Any:
        t = _after(ctx, step, self.warmup_t, self.warmup_prefix)
        decay_t = self._decay
        if isinstance(decay_t, int):
            k = ctx.float(ctx.quotient(t, decay_t)) if reaches(ctx, t, decay_t) else None
        else:
            k = _floor_quotient(ctx, t, decay_t)
        base = ctx.const(self.base_lr)
        after = base if k is None else power(ctx, self.decay_rate, k, self.base_lr)
        return self._warmed(ctx, step, after)

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def draw(d: Any) -> dict[str, Any]:
            config: dict[str, Any] = {"name": cls._name, "base_lr": d(_lrs(st, groups))}
            config["decay_t"] = d(st.sampled_from([1, 2, 7, 30, 2.4, 0.5, 3.7]))
            config["decay_rate"] = d(st.sampled_from([1.0, 0.5, 0.97, 0.1, 0.0]))
            config.update(_warmup_strategy(d, st))
            config["t_in_epochs"] = d(st.booleans())
            config.update(_noise_strategy(d, st))
            return config

        return draw()


# Steps below this have an exact float32 staircase for a real decay_t (_floor_quotient).
_EXACT32 = 1 << 24
_LIMB = 12  # bits per limb of the integer comparison


def _floor_quotient(ctx: Ctx, t: Any, d: float) -> Any:
    """Python's ``t // d`` for integer steps ``t >= 0`` and a positive non-integer double
    ``d``, as a float array: the floor of the exact quotient, where timm's staircase steps.

    In float64, ``(t - fmod(t, d)) / d`` (``fmod`` is exact). In float32 ``d`` itself is
    rounded, so a float32 quotient can step a step apart at a multiple of ``d`` that lies
    within that rounding of a step (``12 // 2.4`` is 5; float32's 2.4 gives 4): there the
    float32 quotient ``q`` is within one of the floor, and ``c * d <= t`` is decided exactly
    for ``c = q, q + 1`` in integers, ``d = M * 2**-s``: the sign of ``t * 2**s - c * M``,
    summed in 12-bit limbs (int32 holds every column). Exact for steps below
    ``_exact32(d)``: ``2**24 * min(d, 1)``, where the quotient is below 2**24.
    """
    xp = ctx.xp
    real = ctx.float(t)
    if ctx.dtype == xp.float64:
        return xp.round((real - _fmod(ctx, real, d)) / d)
    approx = xp.floor(real / d)
    mantissa, exponent = math.frexp(d)
    m, shift = int(mantissa * 2**53), 53 - exponent
    while m % 2 == 0:
        m, shift = m // 2, shift - 1
    if shift <= 0 or not reaches(ctx, t, 1):
        return approx
    limbs = [(m >> (_LIMB * i)) & ((1 << _LIMB) - 1) for i in range(5)]
    whole, bits = divmod(shift, _LIMB)
    limit = _exact32(d)
    small = xp.minimum(t, xp.asarray(limit - 1, dtype=t.dtype, device=ctx.device))
    q = xp.astype(xp.minimum(approx, ctx.array(float(_EXACT32))), t.dtype)
    mask = (1 << _LIMB) - 1

    def at_most(c: Any) -> Any:
        """Whether c * d <= t: t * 2**shift - c * m >= 0, column by column."""
        c = xp.maximum(c, xp.zeros_like(c))
        cs = [xp.bitwise_and(xp.bitwise_right_shift(c, _LIMB * j), mask) for j in range(3)]
        ts = [xp.bitwise_and(small, mask), xp.bitwise_right_shift(small, _LIMB)]
        carry = xp.zeros_like(c)
        for column in range(max(whole + 2, len(limbs) + 1) + 1):
            value = carry
            for j, part in enumerate(ts):
                if column == whole + j:
                    value = value + part * (1 << bits)
            for j, part in enumerate(cs):
                i = column - j
                if 0 <= i < len(limbs) and limbs[i]:
                    value = value - part * limbs[i]
            carry = xp.bitwise_right_shift(value, _LIMB)
        return carry >= 0

    exact = ctx.float(q) - 1.0
    exact = exact + ctx.where(at_most(q), 1.0, 0.0) + ctx.where(at_most(q + 1), 1.0, 0.0)
    if not reaches(ctx, t, limit):
        return exact
    return xp.where(t < limit, exact, approx)


def _exact32(d: float) -> int:
    """The steps below which a float32 staircase of a real ``decay_t`` is exact."""
    return max(1, math.floor(_EXACT32 * min(d, 1.0)))


def _fmod(ctx: Ctx, x: Any, d: float) -> Any:
    """C's fmod of a non-negative float array by a positive float: exact."""
    xp = ctx.xp
    fmod = getattr(xp, "fmod", None)
    if fmod is not None:
        return fmod(x, ctx.array(d))
    return xp.remainder(x, ctx.array(d))  # both non-negative: the same value


@dataclasses.dataclass(frozen=True)
class MultiStepLRScheduler(_Timm):
    """timm's ``MultiStepLRScheduler``: ``lr = base_lr * decay_rate ** n`` with ``n`` the
    milestones ``<= t' + 1`` (timm's ``bisect_right(decay_t, t' + 1)``: a milestone ``m``
    applies from ``t' = m - 1``, a step before torch's MultiStepLR), after warmup.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      decay_t: the milestones, integers in ascending order (repeats decay twice).
      decay_rate: the decay factor, >= 0.
      warmup_t, warmup_lr_init, warmup_prefix, t_in_epochs, noise_range_t, noise_pct,
        noise_std, noise_seed, initialize, lr_scale, horizon: as CosineLRScheduler's.

    >>> s = MultiStepLRScheduler(1.0, decay_t=[3, 5], decay_rate=0.5)
    >>> [s(t) for t in (0, 1, 2, 3, 4)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    base_lr: float | Sequence[float]
    decay_t: Sequence[int]
    decay_rate: float = 1.0
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    warmup_prefix: bool = True
    t_in_epochs: bool = True
    noise_range_t: float | Sequence[float] | None = None
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42
    initialize: bool = True
    lr_scale: float | Sequence[float] | None = dataclasses.field(default=None, kw_only=True)
    horizon: int | None = dataclasses.field(default=None, kw_only=True)
    _tables: Cache = dataclasses.field(
        init=False, repr=False, compare=False, metadata={"cache": True}
    )
    _milestones: ByWidth = dataclasses.field(init=False, repr=False, compare=False)

    _hyperparameters = (
        "base_lr", "decay_rate", "warmup_lr_init", "noise_pct", "noise_std", "lr_scale",
    )  # fmt: skip
    _lr_arguments = ("base_lr", "warmup_lr_init")
    _torch_names = (
        "decay_t", "decay_rate", "warmup_t", "warmup_lr_init", "warmup_prefix", "t_in_epochs",
    )  # fmt: skip
    _gallery = ("timm.MultiStepLRScheduler(0.1, decay_t=[30, 60, 90], decay_rate=0.1)", 100)

    def __post_init__(self) -> None:
        common = self._check_common()
        milestones = check.milestones("decay_t", self.decay_t, minimum=-(2**62))
        if list(milestones) != sorted(milestones):
            # timm bisects them as they are: unsorted, its count is neither order's
            raise ValueError(
                f"decay_t must be in ascending order (timm bisects it), got "
                f"{check._shown(list(self.decay_t))}"
            )
        # t' + 1 >= m, i.e. t' >= m - 1: boundaries on the step itself
        shifted = tuple(max(m - 1, 0) for m in milestones)
        self._set(
            **common,
            decay_t=milestones,
            decay_rate=check.real("decay_rate", self.decay_rate, low=0.0),
            warmup_t=_whole("warmup_t", self.warmup_t),
            warmup_lr_init=check.real("warmup_lr_init", self.warmup_lr_init, low=0.0),
            warmup_prefix=check.boolean("warmup_prefix", self.warmup_prefix),
            _milestones=integer_tables(shifted),
            _groups=check.group_count(base_lr=common["base_lr"], lr_scale=common["lr_scale"]),
        )
        self._build_tables()

    def _get_lr(self, ctx: Ctx, step: Any) -> Any:
        t = _after(ctx, step, self.warmup_t, self.warmup_prefix)
        n = ctx.float(_searchsorted(ctx, self._milestones, t))
        return self._warmed(ctx, step, power(ctx, self.decay_rate, n, self.base_lr))

    def _course_changes(self, n: int) -> list[float]:
        shift = self.warmup_t if self.warmup_prefix else 0
        out = super()._course_changes(n)
        out += [float(m - 1 + shift) for m in self.decay_t if 0 <= m - 1 + shift < n]
        return sorted(set(out))

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def draw(d: Any) -> dict[str, Any]:
            config: dict[str, Any] = {"name": cls._name, "base_lr": d(_lrs(st, groups))}
            config["decay_t"] = sorted(d(st.lists(st.integers(0, 80), max_size=5)))
            config["decay_rate"] = d(st.sampled_from([1.0, 0.5, 0.1, 0.0]))
            config.update(_warmup_strategy(d, st))
            config["t_in_epochs"] = d(st.booleans())
            config.update(_noise_strategy(d, st))
            return config

        return draw()


@dataclasses.dataclass(frozen=True)
class WSDLRScheduler(_Timm):
    """timm's ``WSDLRScheduler``: warmup, a stable phase, and a decay to ``lr_min`` over the
    last ``decay_t`` of ``t_initial`` steps (the warmup is always a prefix).

    With ``t_s = t - warmup_t``, ``s = max(base_lr * stable(t_s), lr_min)`` (``stable``: 1,
    ``(1 + t_s / stable_timescale) ** -0.5`` for ``rsqrt``, ``** -stable_power`` for
    ``power``) and ``frac = min((t_s - (t_initial - decay_t)) / decay_t, 1)``:
    ``lr = s`` until the decay starts, then ``lr_min + (s - lr_min) * decay(frac)``
    (``1 - frac``, ``1 - sqrt(frac)``, ``0.5 * (1 + cos(pi frac))``, ``1 - frac **
    decay_power`` or ``(decay_ratio ** frac - decay_ratio) / (1 - decay_ratio)``).

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      t_initial: the stable plus decay steps, > 0.
      decay_t: the decay steps, in (0, t_initial].
      lr_min: the floor, >= 0.
      stable_fn: ``'constant'``, ``'rsqrt'`` or ``'power'``.
      stable_timescale: the stable function's timescale (default ``warmup_t``), > 0.
      stable_power: the ``power`` stable function's exponent, > 0.
      decay_fn: ``'linear'``, ``'1-sqrt'``, ``'cosine'``, ``'power'`` or ``'exp'`` (timm's
        callable is refused: see the docs).
      decay_power: the ``power`` decay's exponent, > 0.
      decay_ratio: the ``exp`` decay's ratio, in (0, 1).
      warmup_t, warmup_lr_init, t_in_epochs, noise_range_t, noise_pct, noise_std,
        noise_seed, initialize, lr_scale, horizon: as CosineLRScheduler's.

    >>> s = WSDLRScheduler(1.0, t_initial=10, decay_t=4, decay_fn="linear")
    >>> [s(t) for t in (0, 6, 8, 10)]
    [1.0, 1.0, 0.5, 0.0]
    """

    base_lr: float | Sequence[float]
    t_initial: int
    decay_t: int
    lr_min: float = 0.0
    stable_fn: str = "constant"
    stable_timescale: float | None = None
    stable_power: float = 0.5
    decay_fn: str = "1-sqrt"
    decay_power: float = 0.5
    decay_ratio: float = 0.1
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    t_in_epochs: bool = True
    noise_range_t: float | Sequence[float] | None = None
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int = 42
    initialize: bool = True
    lr_scale: float | Sequence[float] | None = dataclasses.field(default=None, kw_only=True)
    horizon: int | None = dataclasses.field(default=None, kw_only=True)
    _tables: Cache = dataclasses.field(
        init=False, repr=False, compare=False, metadata={"cache": True}
    )

    _hyperparameters = (
        "base_lr", "lr_min", "stable_timescale", "stable_power", "decay_power", "decay_ratio",
        "warmup_lr_init", "noise_pct", "noise_std", "lr_scale",
    )  # fmt: skip
    _torch_names = (
        "t_initial", "decay_t", "lr_min", "stable_fn", "stable_timescale", "stable_power",
        "decay_fn", "decay_power", "decay_ratio", "warmup_t", "warmup_lr_init", "t_in_epochs",
    )  # fmt: skip
    _gallery = ("timm.WSDLRScheduler(0.1, 100, decay_t=20, warmup_t=10)", 120)

    def __post_init__(self) -> None:
        common = self._check_common()
        t_initial = _whole("t_initial", self.t_initial, minimum=1)
        decay_t = _whole("decay_t", self.decay_t, minimum=1)
        if decay_t > t_initial:
            raise ValueError(
                f"decay_t must be in (0, t_initial] w/ t_initial={t_initial}, got {decay_t}"
            )
        if callable(self.decay_fn):
            raise TypeError(
                "decay_fn must be one of 'linear', '1-sqrt', 'cosine', 'power', 'exp': a "
                f"Python callable is refused (no config holds it), got {self.decay_fn!r}"
            )
        stable_fn = check.choice("stable_fn", self.stable_fn, STABLE_FNS)
        warmup_t = _whole("warmup_t", self.warmup_t)
        timescale = self.stable_timescale
        if stable_fn != "constant":
            timescale = warmup_t if timescale is None else timescale
            if not (check._is_real(timescale) and float(timescale) > 0):
                raise ValueError(
                    f"stable_fn={stable_fn} requires a positive stable_timescale, it defaults "
                    f"to warmup_t ({warmup_t}), got {check._shown(self.stable_timescale)}"
                )
        elif timescale is not None:
            timescale = check.real("stable_timescale", timescale)
        self._set(
            **common,
            t_initial=t_initial,
            decay_t=decay_t,
            lr_min=check.real("lr_min", self.lr_min, low=0.0),
            stable_fn=stable_fn,
            stable_timescale=None if timescale is None else float(timescale),
            stable_power=check.real("stable_power", self.stable_power, low=0.0, low_open=True),
            decay_fn=check.choice("decay_fn", self.decay_fn, DECAY_FNS),
            decay_power=check.real("decay_power", self.decay_power, low=0.0, low_open=True),
            decay_ratio=check.real(
                "decay_ratio", self.decay_ratio, low=0.0, high=1.0, low_open=True, high_open=True
            ),
            warmup_t=warmup_t,
            warmup_lr_init=check.real("warmup_lr_init", self.warmup_lr_init, low=0.0),
            _groups=check.group_count(base_lr=common["base_lr"], lr_scale=common["lr_scale"]),
        )
        self._build_tables()

    def _decay(self, ctx: Ctx, frac: Any) -> Any:
        xp = ctx.xp
        fn = self.decay_fn
        if fn == "linear":
            return 1.0 - frac
        if fn == "1-sqrt":
            return 1.0 - xp.sqrt(frac)
        if fn == "cosine":
            return 0.5 * (1.0 + xp.cos(math.pi * frac))
        if fn == "power":
            return 1.0 - frac ** ctx.const(self.decay_power)
        r = ctx.const(self.decay_ratio)
        return (r**frac - r) / (1.0 - r)

    def _get_lr(self, ctx: Ctx, step: Any) -> Any:
        xp = ctx.xp
        t_s = _after(ctx, step, self.warmup_t, True)
        base = ctx.const(self.base_lr)
        lr_min = ctx.const(self.lr_min)
        if self.stable_fn == "constant":
            stable = base
        else:
            p = 0.5 if self.stable_fn == "rsqrt" else ctx.const(self.stable_power)
            assert self.stable_timescale is not None
            stable = base * (1.0 + ctx.float(t_s) / self.stable_timescale) ** (-p)
        stable = xp.maximum(ctx.array(stable) + ctx.array(0.0) * ctx.float(t_s), ctx.array(lr_min))
        start = self.t_initial - self.decay_t
        if reaches(ctx, t_s, start + 1):
            since = ctx.float(xp.maximum(t_s - start, xp.zeros_like(t_s)))
            frac = xp.minimum(since / float(self.decay_t), ctx.array(1.0))
            decayed = lr_min + (stable - lr_min) * self._decay(ctx, frac)
            after = xp.where(t_s > start, decayed, stable)
        else:
            after = stable
        return self._warmed(ctx, step, after)

    def get_cycle_length(self, cycles: int = 0) -> int:
        """timm's ``get_cycle_length``: ``warmup_t + t_initial``."""
        return self.warmup_t + self.t_initial

    def _course_changes(self, n: int) -> list[float]:
        out = super()._course_changes(n)
        start = self.warmup_t + self.t_initial - self.decay_t
        out += [float(s) for s in (start, self.warmup_t + self.t_initial) if 0 < s < n]
        return sorted(set(out))

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def draw(d: Any) -> dict[str, Any]:
            config: dict[str, Any] = {"name": cls._name, "base_lr": d(_lrs(st, groups))}
            config["t_initial"] = d(st.integers(1, 80))
            config["decay_t"] = d(st.integers(1, config["t_initial"]))
            config["lr_min"] = d(st.sampled_from([0.0, 1e-5, 0.01]))
            config["stable_fn"] = d(st.sampled_from(STABLE_FNS))
            config["warmup_t"] = d(st.sampled_from([0, 1, 5, 10]))
            if config["stable_fn"] != "constant" and (config["warmup_t"] == 0 or d(st.booleans())):
                config["stable_timescale"] = d(st.sampled_from([1.0, 7.0, 20.0]))
            config["stable_power"] = d(st.sampled_from([0.5, 1.0, 0.25]))
            config["decay_fn"] = d(st.sampled_from(DECAY_FNS))
            config["decay_power"] = d(st.sampled_from([0.5, 1.0, 2.0]))
            config["decay_ratio"] = d(st.sampled_from([0.1, 0.5, 0.01]))
            config["warmup_lr_init"] = d(st.sampled_from([0.0, 1e-6, 1e-3]))
            config["t_in_epochs"] = d(st.booleans())
            config.update(_noise_strategy(d, st))
            return config

        return draw()


# -- PlateauLRScheduler: a machine ---------------------------------------------------------


class PlateauState(NamedTuple):
    """The state of a [``PlateauLRScheduler``][lrfun.timm.PlateauLRScheduler] machine."""

    lr: Any  # the lr the groups hold now (noise included): shape () or (groups,)
    plateau_lr: Any  # the lr torch's ReduceLROnPlateau steps from (timm's restore_lr)
    best: Any  # torch's best metric
    num_bad_epochs: Any  # torch's bad epochs since the last improvement
    cooldown_counter: Any  # torch's cooldown left
    last_epoch: Any  # torch's metric steps so far
    epoch: Any  # timm's epoch: the updates so far


@dataclasses.dataclass(frozen=True)
class PlateauLRScheduler(_Noise, Machine[PlateauState]):
    """timm's ``PlateauLRScheduler``: torch's ReduceLROnPlateau with timm's warmup and
    noise, as a pure state machine.

    ``update(state, metric)`` is timm's ``step(epoch, metric)`` at the next epoch (``epoch =
    1, 2, ...``, as timm's training loop calls it): through ``epoch <= warmup_t`` the lr is
    ``warmup_lr_init + epoch * (base_lr - warmup_lr_init) / warmup_t`` (the metric unused);
    after, torch's ReduceLROnPlateau (``factor=decay_rate``, ``patience=patience_t``,
    ``cooldown=cooldown_t``, ``min_lr=lr_min``, relative threshold, ``eps=1e-8``) steps on the
    un-noised lr, and in the noise range the groups get ``lr + lr * noise(epoch)``. Every lr
    is times the group's ``lr_scale``.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      decay_rate: the cut, in [0, 1).
      patience_t: bad epochs tolerated, an integer >= 0.
      threshold: the least relative improvement that counts, >= 0.
      cooldown_t: epochs to wait after a cut, an integer >= 0.
      warmup_t: warmup epochs, an integer >= 0.
      warmup_lr_init: the lr at epoch 0 of the warmup, >= 0.
      lr_min: the floor, >= 0.
      mode: ``'min'`` or ``'max'`` (timm's default).
      noise_range_t, noise_pct, noise_std: as CosineLRScheduler's.
      noise_type: ``'normal'`` or ``'uniform'``.
      noise_seed: the seed (None: 42, as timm).
      initialize: timm's flag (the lr is the same).
      lr_scale, horizon: as CosineLRScheduler's.
      current_lr: (keyword, like the five below) where a stepped timm scheduler stands, for
        ``init`` to start there (``lrfun.from_torch`` reads them): the un-noised lrs.
      best: torch's best metric.
      num_bad_epochs: torch's bad epochs.
      cooldown_counter: torch's cooldown left.
      last_epoch: torch's metric steps.
      epoch: timm's epoch.

    >>> p = PlateauLRScheduler(1.0, patience_t=1, mode="min")
    >>> s = p.init()
    >>> for metric in [3.0, 3.0, 3.0]:
    ...     s = p.update(s, metric)
    >>> float(p.lr(s))
    0.1
    """

    base_lr: float | Sequence[float]
    decay_rate: float = 0.1
    patience_t: int = 10
    threshold: float = 1e-4
    cooldown_t: int = 0
    warmup_t: int = 0
    warmup_lr_init: float = 0.0
    lr_min: float = 0.0
    mode: str = "max"
    noise_range_t: float | Sequence[float] | None = None
    noise_type: str = "normal"
    noise_pct: float = 0.67
    noise_std: float = 1.0
    noise_seed: int | None = None
    initialize: bool = True
    lr_scale: float | Sequence[float] | None = dataclasses.field(default=None, kw_only=True)
    horizon: int | None = dataclasses.field(default=None, kw_only=True)
    current_lr: float | Sequence[float] | None = dataclasses.field(default=None, kw_only=True)
    best: float | None = dataclasses.field(default=None, kw_only=True)
    num_bad_epochs: int | None = dataclasses.field(default=None, kw_only=True)
    cooldown_counter: int | None = dataclasses.field(default=None, kw_only=True)
    last_epoch: int | None = dataclasses.field(default=None, kw_only=True)
    epoch: int | None = dataclasses.field(default=None, kw_only=True)
    _tables: Cache = dataclasses.field(
        init=False, repr=False, compare=False, metadata={"cache": True}
    )
    _noise_key: tuple[float, float] = dataclasses.field(init=False, repr=False, compare=False)

    _namespace = "timm."
    _reference = TIMM
    state_type = PlateauState
    _gallery = ("timm.PlateauLRScheduler(0.1, patience_t=5, warmup_t=3, mode='min')", 100)
    t_in_epochs = True  # timm steps it per epoch only
    _lr_arguments = ("base_lr", "lr_min", "warmup_lr_init")
    _hyperparameters = (
        "base_lr", "decay_rate", "threshold", "warmup_lr_init", "lr_min", "noise_pct",
        "noise_std", "lr_scale",
    )  # fmt: skip

    def __post_init__(self) -> None:
        common = self._check_common()
        del common["t_in_epochs"]  # timm steps it per epoch only
        self._set(
            **common,
            noise_type=check.choice("noise_type", self.noise_type, NOISE_TYPES),
            decay_rate=check.factor("decay_rate", self.decay_rate, zero=True),
            patience_t=check.integer("patience_t", self.patience_t, minimum=0, maximum=COUNTER_MAX),
            threshold=check.real("threshold", self.threshold, low=0.0),
            cooldown_t=check.integer("cooldown_t", self.cooldown_t, minimum=0, maximum=COUNTER_MAX),
            warmup_t=_whole("warmup_t", self.warmup_t),
            warmup_lr_init=check.real("warmup_lr_init", self.warmup_lr_init, low=0.0),
            lr_min=check.real("lr_min", self.lr_min, low=0.0),
            mode=check.choice("mode", self.mode, ("min", "max")),
            _groups=check.group_count(base_lr=common["base_lr"], lr_scale=common["lr_scale"]),
        )
        if self.current_lr is not None:
            self._set(current_lr=check.lr_values("current_lr", self.current_lr))
        if self.best is not None:
            self._set(best=check.metric("best", self.best, nan=False))
        counts = dict(
            num_bad_epochs=COUNTER_MAX,
            cooldown_counter=COUNTER_MAX,
            last_epoch=COUNTER_MAX,
            epoch=COUNTER_MAX,
        )
        self._set(**check.counts(self, **counts))
        self._build_tables()

    def _build_tables(self) -> None:
        self._build_noise()

    def _noise_type(self) -> str:
        return self.noise_type

    def trajectory(self, metrics: Any) -> Any:
        """The lr after 0, 1, ..., n updates with ``metrics`` (see ``Machine.trajectory``).
        Noise with no end reaches the last of these updates: a table of them (a traced scan
        reads one) is built where no ``horizon`` says how far."""
        bounds = self._noise_bounds()
        if bounds is not None and bounds[1] is None and self.horizon is None:
            updates = int(np.shape(metrics)[0]) if np.ndim(metrics) else 1
            horizon = (self.epoch or 0) + updates
            return dataclasses.replace(self, horizon=horizon).trajectory(metrics)
        return super().trajectory(metrics)

    def _scaled(self, value: Any) -> list[float]:
        """An lr per group, times the group's ``lr_scale`` (timm's ``update_groups``)."""
        values = value if isinstance(value, list) else self._floats(value)
        scales = [1.0] * len(values) if self.lr_scale is None else self._floats(self.lr_scale)
        return [v * s for v, s in zip(values, scales, strict=True)]

    def _warmup_lrs(self, epoch: float) -> list[float]:
        """timm's warmup lrs at ``epoch``, scaled."""
        init = float(self.warmup_lr_init)
        steps = [(v - init) / self.warmup_t for v in self._floats(self.base_lr)]
        return self._scaled([init + epoch * s for s in steps])

    def _initial(self, ctx: Ctx, integral: Any) -> PlateauState:
        xp, device = ctx.xp, ctx.device
        # as arrays (the hyperparameters may be traced): timm's update_groups at construction
        if self.current_lr is not None:
            start = ctx.array(ctx.const(self.current_lr))
        else:
            start = ctx.array(ctx.const(self.warmup_lr_init if self.warmup_t else self.base_lr))
            if self.lr_scale is not None:
                start = start * ctx.array(ctx.const(self.lr_scale))
        shape = () if self.groups is None else (self.groups,)
        worse = math.inf if self.mode == "min" else -math.inf
        best = worse if self.best is None else self.best

        def count(value: int | None) -> Any:
            return xp.asarray(value or 0, dtype=integral, device=device)

        held = xp.broadcast_to(ctx.array(start), shape)
        epoch = count(self.epoch)
        lr = held
        if self.noise_range_t is not None and (self.epoch or 0) > self.warmup_t:
            lr = ctx.array(held + held * self._noise(ctx, epoch))
        return PlateauState(
            lr=lr,
            plateau_lr=xp.broadcast_to(ctx.array(start), shape),
            best=xp.asarray(best, dtype=ctx.dtype, device=device),
            num_bad_epochs=count(self.num_bad_epochs),
            cooldown_counter=count(self.cooldown_counter),
            last_epoch=count(self.last_epoch),
            epoch=epoch,
        )

    def _torch_plateau(self) -> Any:
        from lrfun._plateau import ReduceLROnPlateau

        return ReduceLROnPlateau(
            1.0,
            mode=self.mode,
            factor=self.decay_rate,
            patience=self.patience_t,
            threshold=self.threshold,
            cooldown=self.cooldown_t,
            min_lr=self.lr_min,
        )

    def _update(self, ctx: Ctx, state: PlateauState, current: Any) -> PlateauState:
        from lrfun._plateau import PlateauState as TorchState

        xp = ctx.xp
        epoch = state.epoch + 1
        inner = self._torch_plateau()._update(
            ctx,
            TorchState(
                state.plateau_lr,
                state.best,
                state.num_bad_epochs,
                state.cooldown_counter,
                state.last_epoch,
            ),
            current,
        )
        held = inner.lr
        lr = held
        if self.noise_range_t is not None:
            # an array, never a NumPy scalar: those are Python floats, a host state's lr
            lr = ctx.array(held + held * self._noise(ctx, epoch))
        if self.warmup_t:
            warm = epoch <= self.warmup_t
            init = ctx.const(self.warmup_lr_init)
            base = ctx.const(self.base_lr)
            ramp = init + ctx.float(epoch) * ((base - init) / float(self.warmup_t))
            if self.lr_scale is not None:
                ramp = ramp * ctx.const(self.lr_scale)
            ramp = ctx.array(ramp)
            held = xp.where(warm, ramp, held)
            lr = xp.where(warm, ramp, lr)
            return PlateauState(
                lr,
                held,
                xp.where(warm, state.best, inner.best),
                xp.where(warm, state.num_bad_epochs, inner.num_bad_epochs),
                xp.where(warm, state.cooldown_counter, inner.cooldown_counter),
                xp.where(warm, state.last_epoch, inner.last_epoch),
                epoch,
            )
        return PlateauState(
            lr,
            held,
            inner.best,
            inner.num_bad_epochs,
            inner.cooldown_counter,
            inner.last_epoch,
            epoch,
        )

    def _state_spec(self) -> dict[str, FieldSpec]:
        shape = () if self.groups is None else (self.groups,)
        return {
            "lr": FieldSpec(LR, shape),
            "plateau_lr": FieldSpec(LR, shape),
            "best": FieldSpec(BEST, ()),
            "num_bad_epochs": FieldSpec(COUNT, (), COUNTER_MAX),
            "cooldown_counter": FieldSpec(COUNT, (), COUNTER_MAX),
            "last_epoch": FieldSpec(COUNT, (), MAX_STEP),
            "epoch": FieldSpec(COUNT, (), MAX_STEP),
        }

    @property
    def _initial_lr(self) -> Any:
        return self.base_lr

    def _live(self, optimizer: Any) -> Any:
        if any(getattr(self, name) is not None for name in _PLATEAU_STATE):
            raise ValueError(
                f"{self._name}: a live timm scheduler cannot be built where a stepped one "
                "stood (its epoch is the caller's); build it fresh"
            )
        with warnings.catch_warnings():
            # timm deprecates the class (a FutureWarning at construction)
            warnings.simplefilter("ignore", FutureWarning)
            return _build_live(self, optimizer)

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        _check_live(scheduler)
        inner = scheduler.lr_scheduler
        groups = scheduler.optimizer.param_groups
        scales = [g.get("lr_scale") for g in groups]
        restore = scheduler.restore_lr
        held = [float(v) for v in (restore if restore is not None else [g["lr"] for g in groups])]
        if len(set(inner.min_lrs)) != 1:
            raise ValueError(
                f"from_torch cannot express a PlateauLRScheduler whose min_lrs differ by group "
                f"({inner.min_lrs}): timm gives every group its lr_min"
            )
        if inner.threshold_mode != "rel" or inner.eps != 1e-8:
            raise ValueError(
                "from_torch cannot express a PlateauLRScheduler whose torch plateau was "
                f"changed after construction (threshold_mode={inner.threshold_mode!r}, "
                f"eps={inner.eps!r})"
            )
        arguments: dict[str, Any] = {
            "base_lr": per_group(scheduler.base_values),
            "decay_rate": inner.factor,
            "patience_t": inner.patience,
            "threshold": inner.threshold,
            "cooldown_t": inner.cooldown,
            "warmup_t": scheduler.warmup_t,
            "warmup_lr_init": scheduler.warmup_lr_init,
            "lr_min": float(inner.min_lrs[0]),
            "mode": inner.mode,
            "noise_range_t": scheduler.noise_range_t,
            "noise_type": scheduler.noise_type,
            "noise_pct": scheduler.noise_pct,
            "noise_std": scheduler.noise_std,
            "noise_seed": scheduler.noise_seed,
        }
        if any(s is not None for s in scales):
            arguments["lr_scale"] = _scales(scales)
        # timm keeps no epoch: torch's metric steps follow the warmup epochs, one per epoch
        # (timm's training loop); before the first, the warmup lr the groups hold says it.
        epoch = scheduler.warmup_t + inner.last_epoch if inner.last_epoch else None
        fresh = False
        if epoch is None:
            probe = cls(**{k: v for k, v in arguments.items()})
            if scheduler.warmup_t:
                # the one warmup epoch whose lrs the groups hold (none, or several in a flat
                # warmup: timm keeps no epoch, and a guess would be a plausible wrong lr)
                found = [
                    e
                    for e in range(scheduler.warmup_t + 1)
                    if np.allclose(probe._warmup_lrs(e), held, rtol=1e-12, atol=0.0)
                ]
                if len(found) != 1:
                    raise ValueError(
                        f"from_torch cannot tell the epoch of this PlateauLRScheduler: its "
                        f"groups hold lrs {held}, which "
                        + ("no warmup epoch gives (written by hand?)" if not found else
                           f"warmup epochs {found} all give")
                        + "; timm keeps no epoch of its own"
                    )
                epoch, fresh = found[0] or None, found[0] == 0
            else:
                # before any metric the groups hold the lrs torch's plateau continues from:
                # the construction's, or others written since
                built = probe._scaled(probe._floats(probe.base_lr))
                fresh = bool(np.allclose(built, held, rtol=1e-12, atol=0.0))
        if restore is None and epoch is not None and scheduler._is_apply_noise(epoch):
            # a live run keeps the lr from before the noise; a loaded state does not, and
            # the groups' lr is noised already (the plateau would add noise again)
            raise ValueError(
                "from_torch cannot read this PlateauLRScheduler: its groups hold a noised lr "
                f"(epoch {epoch} is in noise_range_t) but not the lr before the noise, which "
                "timm's state_dict does not save; read it before saving, or between epochs "
                "outside the noise range"
            )
        arguments.update(
            current_lr=None if fresh else per_group(held),
            best=None if inner.best == inner.mode_worse else float(inner.best),
            num_bad_epochs=inner.num_bad_epochs or None,
            cooldown_counter=inner.cooldown_counter or None,
            last_epoch=inner.last_epoch or None,
            epoch=epoch,
        )
        return arguments

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        @st.composite
        def draw(d: Any) -> dict[str, Any]:
            config: dict[str, Any] = {"name": cls._name, "base_lr": d(_lrs(st, groups))}
            config["decay_rate"] = d(st.sampled_from([0.1, 0.5, 0.0]))
            config["patience_t"] = d(st.integers(0, 4))
            config["threshold"] = d(st.sampled_from([1e-4, 0.0, 0.1]))
            config["cooldown_t"] = d(st.integers(0, 3))
            config["warmup_t"] = d(st.sampled_from([0, 0, 1, 3]))
            config["warmup_lr_init"] = d(st.sampled_from([0.0, 1e-3]))
            config["lr_min"] = d(st.sampled_from([0.0, 1e-4]))
            config["mode"] = d(st.sampled_from(["min", "max"]))
            config.update(_noise_strategy(d, st))
            if "noise_range_t" in config:
                config["noise_type"] = d(st.sampled_from(NOISE_TYPES))
            return config

        return draw()


_PLATEAU_STATE = ("current_lr", "best", "num_bad_epochs", "cooldown_counter", "last_epoch", "epoch")


# -- timm's factory ----------------------------------------------------------------------


def create_scheduler_v2(
    base_lr: float | Sequence[float],
    sched: str = "cosine",
    num_epochs: int = 300,
    decay_epochs: float | None = None,
    decay_milestones: Sequence[int] = (90, 180, 270),
    cooldown_epochs: int = 0,
    patience_epochs: int = 10,
    decay_rate: float = 0.1,
    min_lr: float = 0.0,
    warmup_lr: float = 1e-5,
    warmup_epochs: int = 0,
    warmup_prefix: bool = False,
    noise: float | Sequence[float] | None = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    cycle_mul: float = 1.0,
    cycle_decay: float = 0.1,
    cycle_limit: int = 1,
    k_decay: float = 1.0,
    decay_fn: str | None = None,
    stable_timescale: float | None = None,
    plateau_mode: str = "max",
    step_on_epochs: bool = True,
    updates_per_epoch: int = 0,
) -> tuple[Any, int]:
    """timm's ``create_scheduler_v2`` with the optimizer's lr as ``base_lr``: the schedule
    (or machine, for ``'plateau'``; None for ``'none'``) and the epochs to train, exactly as
    timm computes them (cycles, warmup prefix and cooldown included).

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      sched: ``'cosine'``, ``'tanh'``, ``'step'``, ``'multistep'``, ``'poly'``, ``'wsd'``,
        ``'rsqrt'``, ``'constant'``, ``'plateau'`` or ``'none'``.
      num_epochs, decay_epochs, decay_milestones, cooldown_epochs, patience_epochs,
        decay_rate, min_lr, warmup_lr, warmup_epochs, warmup_prefix, noise, noise_pct,
        noise_std, noise_seed, cycle_mul, cycle_decay, cycle_limit, k_decay, decay_fn,
        stable_timescale, plateau_mode, step_on_epochs, updates_per_epoch: timm's.

    Returns:
      ``(schedule, num_epochs)``.

    Raises:
      ValueError: where timm raises ValueError, and where it asserts (``step_on_epochs=False``
        without ``updates_per_epoch``, ``'plateau'`` per update), naming the argument.

    >>> s, epochs = create_scheduler_v2(0.1, "cosine", num_epochs=100, warmup_epochs=5)
    >>> type(s).__name__, epochs, s.t_initial
    ('CosineLRScheduler', 100, 100)
    """
    if decay_epochs is None:
        decay_epochs = 0.2 if sched in ("wsd", "rsqrt") else 90
    t_initial: Any = num_epochs
    warmup_t: Any = warmup_epochs
    decay_t: Any = decay_epochs
    cooldown_t: Any = cooldown_epochs
    timescale_t = stable_timescale
    milestones: Any = decay_milestones
    if not step_on_epochs:
        if not updates_per_epoch > 0:
            raise ValueError(
                "updates_per_epoch must be set to number of dataloader batches (> 0) with "
                f"step_on_epochs=False, got {updates_per_epoch!r}"
            )
        t_initial = t_initial * updates_per_epoch
        warmup_t = warmup_t * updates_per_epoch
        decay_t = decay_t * updates_per_epoch
        milestones = [d * updates_per_epoch for d in milestones]
        cooldown_t = cooldown_t * updates_per_epoch
        if timescale_t is not None:
            timescale_t = timescale_t * updates_per_epoch
    warmup_args: dict[str, Any] = dict(
        warmup_lr_init=warmup_lr, warmup_t=warmup_t, warmup_prefix=warmup_prefix
    )
    noise_range: Any
    if noise is not None:
        if isinstance(noise, (list, tuple)):
            noise_range = [n * t_initial for n in noise]
            if len(noise_range) == 1:
                noise_range = noise_range[0]
        else:
            noise_range = noise * t_initial
    else:
        noise_range = None
    noise_args: dict[str, Any] = dict(
        noise_range_t=noise_range, noise_pct=noise_pct, noise_std=noise_std, noise_seed=noise_seed
    )
    cycle_args: dict[str, Any] = dict(
        cycle_mul=cycle_mul, cycle_decay=cycle_decay, cycle_limit=cycle_limit
    )
    schedule: Any = None
    if sched == "cosine":
        schedule = CosineLRScheduler(
            base_lr, t_initial=t_initial, lr_min=min_lr, t_in_epochs=step_on_epochs,
            **cycle_args, **warmup_args, **noise_args, k_decay=k_decay,
        )  # fmt: skip
    elif sched == "tanh":
        schedule = TanhLRScheduler(
            base_lr, t_initial=t_initial, lr_min=min_lr, t_in_epochs=step_on_epochs,
            **cycle_args, **warmup_args, **noise_args,
        )  # fmt: skip
    elif sched in ("step", "constant"):
        step_args: dict[str, Any] = dict(decay_t=decay_t, decay_rate=decay_rate)
        if sched == "constant":
            step_args = dict(decay_t=1, decay_rate=1.0)
        schedule = StepLRScheduler(
            base_lr, **step_args, t_in_epochs=step_on_epochs, **warmup_args, **noise_args
        )
    elif sched == "multistep":
        schedule = MultiStepLRScheduler(
            base_lr, decay_t=milestones, decay_rate=decay_rate, t_in_epochs=step_on_epochs,
            **warmup_args, **noise_args,
        )  # fmt: skip
    elif sched == "plateau":
        if not step_on_epochs:
            raise ValueError("sched='plateau' only supports step per epoch (step_on_epochs=True)")
        warmup_args.pop("warmup_prefix")
        schedule = PlateauLRScheduler(
            base_lr, decay_rate=decay_rate, patience_t=patience_epochs, cooldown_t=0,
            **warmup_args, lr_min=min_lr, mode=plateau_mode, **noise_args,
        )  # fmt: skip
    elif sched == "poly":
        schedule = PolyLRScheduler(
            base_lr, power=decay_rate, t_initial=t_initial, lr_min=min_lr,
            t_in_epochs=step_on_epochs, k_decay=k_decay, **cycle_args, **warmup_args,
            **noise_args,
        )  # fmt: skip
    elif sched in ("wsd", "rsqrt"):
        t_sched = t_initial if warmup_prefix else t_initial - warmup_t
        if 0 < decay_epochs < 1:
            decay_t = decay_epochs * t_sched
        decay_t = round(decay_t)
        if not 0 < decay_t <= t_sched:
            raise ValueError(
                f"{sched} schedule requires 0 < decay_epochs <= epochs"
                f"{'' if warmup_prefix else ' - warmup_epochs'}, got decay {decay_t} and "
                f"stable + decay length {t_sched}."
            )
        schedule = WSDLRScheduler(
            base_lr, t_initial=t_sched, decay_t=decay_t, lr_min=min_lr,
            stable_fn="rsqrt" if sched == "rsqrt" else "constant", stable_timescale=timescale_t,
            decay_fn=decay_fn or ("linear" if sched == "rsqrt" else "1-sqrt"),
            t_in_epochs=step_on_epochs, warmup_t=warmup_t, warmup_lr_init=warmup_lr,
            **noise_args,
        )  # fmt: skip
    elif sched != "none":
        raise ValueError(f"Unknown scheduler '{sched}'.")
    if hasattr(schedule, "get_cycle_length"):
        total = schedule.get_cycle_length() + cooldown_t
        num_epochs = total if step_on_epochs else total // updates_per_epoch
    elif warmup_prefix:
        num_epochs += warmup_epochs
    return schedule, num_epochs
