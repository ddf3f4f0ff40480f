"""ReduceLROnPlateau as a pure state machine: ``init``, ``update(state, metric)``, ``lr``.

The metric-driven machines (this one, and transformers' GreedyLR in ``lrfun._greedy``)
share ``Machine``: how a metric enters an update, the trajectory over a metric
sequence, and the one check of a state restored from a checkpoint, which both adapters
(``lrfun.torch.PlateauScheduler``, ``lrfun.optax``) call.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar

import numpy as np

from lrfun import _validate as check
from lrfun._backend import SCALARS, Ctx, device_of, is_numpy, namespace, numpy_namespace
from lrfun._reference import TORCH
from lrfun._schedule import Configurable, per_group
from lrfun._validate import BEST, COUNT, COUNTER_MAX, LR, MAX_STEP, FieldSpec, LrValue

__all__ = ["Machine", "MachineState", "PlateauState", "ReduceLROnPlateau", "host_metric"]


_HOST = Ctx(SCALARS, float, None)


class PlateauState(NamedTuple):
    """The state of a ``ReduceLROnPlateau`` machine (a pytree of arrays)."""

    lr: Any  # the lr now: shape () or (groups,)
    best: Any  # the best metric seen (+inf in min mode, -inf in max mode before any)
    num_bad_epochs: Any  # updates since the last improvement
    cooldown_counter: Any  # updates of cooldown left
    last_epoch: Any  # updates so far


class MachineState(Protocol):
    """What every machine's state is: a NamedTuple of arrays whose ``lr`` field is the lr
    now (shape () or (groups,), an array of the state's namespace)."""

    @property
    def lr(self) -> Any:
        """The lr the state holds."""


# The state type of a machine: ReduceLROnPlateau's PlateauState, GreedyLR's GreedyState.
StateT = TypeVar("StateT", bound=MachineState)


def _state_ctx(like: Any) -> tuple[Ctx, Any]:
    """The (namespace, float dtype, device) of a state built like ``like``, and its integer
    dtype: NumPy float64 by default."""
    xp = numpy_namespace() if like is None else namespace(like)
    device = None if like is None else device_of(like)
    info = xp.__array_namespace_info__().default_dtypes(device=device)
    dtype = info["real floating"]
    if like is not None and xp.isdtype(like.dtype, "real floating"):
        dtype = like.dtype
    return Ctx(xp, dtype, device), info["integral"]


def host_metric(metric: Any) -> float:
    """A metric as a Python float; an integer past float's range is the infinity of its sign
    (as ``best=`` takes it), where ``float`` raises OverflowError."""
    try:
        return float(metric)
    except OverflowError:
        return math.inf if metric > 0 else -math.inf


def _host_number(value: Any) -> Any:
    """A concrete torch tensor hyperparameter as its number (per group: each), else the value.

    A machine's state lives where ``init(like=...)`` puts it, so its hyperparameters must
    combine with any namespace: a tensor ``eps`` met a NumPy state as NotImplementedError,
    and a JAX one as TypeError. Traced values (jit, vmap, torch.compile) stay as they are.
    """
    if isinstance(value, tuple):
        return tuple(_host_number(v) for v in value)
    if check._is_tensor(value) and not check._traced(value):
        return float(value)
    return value


def _min_lrs(scheduler: Any) -> Any:
    """The lr floor of a live ReduceLROnPlateau, one per group it now has.

    Groups added after construction (``optimizer.add_param_group``) get its scalar
    ``min_lr`` at the next cut, where torch extends ``min_lrs``; a list ``min_lr`` cannot be
    extended, and torch raises there.
    """
    groups = len(scheduler.optimizer.param_groups)
    if len(scheduler.min_lrs) == groups:
        return per_group(scheduler.min_lrs)
    default = getattr(scheduler, "default_min_lr", None)
    if default is None:
        raise ValueError(
            f"the optimizer has {groups} param groups, but the ReduceLROnPlateau was built "
            f"with min_lr for {len(scheduler.min_lrs)} (a group was added after construction, "
            "and a list min_lr cannot be extended: torch raises at its next cut)"
        )
    return per_group([float(default)] * groups)


def _per_group_lr(machine: Machine[Any], value: Any) -> Any:
    """An lr-valued argument as the state's lr: one value, or one per param group."""
    if machine.groups is not None and not isinstance(value, tuple):
        return [value] * machine.groups  # one value per group, as torch broadcasts min_lr
    return list(value) if isinstance(value, tuple) else value


@dataclasses.dataclass(frozen=True)
class Machine(Configurable, Generic[StateT], register=False):
    """A metric-driven lr state machine: ``init()``, ``update(state, metric)``, ``lr(state)``.

    Generic in its state: a ``Machine[PlateauState]`` (ReduceLROnPlateau) takes and gives
    ``PlateauState`` values, so a checker follows the state through ``update`` and knows its
    fields. The lr a state holds is typed ``Any``: an array of the state's namespace (NumPy,
    JAX, torch: ``init(like=...)``'s), or a Python float on the host.

    The state is a NamedTuple of arrays (``state_type``), a JAX pytree; ``update`` is pure
    and free of Python branches on values (``where``-selection), so it runs under ``jit``,
    ``lax.scan`` and ``torch.compile``. Subclasses define ``_initial`` (the state after
    construction), ``_update`` (one step) and ``_state_spec`` (what a valid state holds).
    The state's namespace is ``init(like=...)``'s, so hyperparameters given as concrete
    torch tensors are taken as their numbers (traced ones are kept).
    """

    # The NamedTuple type of the machine's state.
    state_type: ClassVar[type[Any]]
    _metric_driven = True

    if TYPE_CHECKING:
        # Fields of every machine (the adapters read them), declared for type checkers only:
        # declared here as fields, they would come first in every machine's signature.

        @property
        def base_lr(self) -> LrValue:
            """The lr the state starts from (one per param group, or one for all)."""

        @property
        def min_lr(self) -> LrValue:
            """The lr floor (one per param group, or one for all)."""

    def _set(self, **values: Any) -> None:
        # The state lives where init(like=...) puts it, so a hyperparameter must combine with
        # any namespace: a concrete torch tensor is taken as its number (see _host_number).
        numbers = {*self._hyperparameters, *self._lr_arguments}
        super()._set(**{k: _host_number(v) if k in numbers else v for k, v in values.items()})

    def _live(self, optimizer: Any) -> Any:
        # A stepped machine's live object is put where the keyword options say it stood.
        scheduler = self._torch_object(optimizer)
        options = [f.name for f in dataclasses.fields(self) if f.kw_only]
        state = {key: getattr(self, key) for key in sorted(options)}
        self._set_torch_state(scheduler, {k: v for k, v in state.items() if v is not None})
        return scheduler

    def init(self, like: Any = None) -> StateT:
        """The state right after construction (or where the keyword arguments say it stands).

        Args:
          like: an array whose namespace, device and floating dtype the state takes (a JAX
            array, a torch tensor); default NumPy float64.
        """
        ctx, integral = _state_ctx(like)
        # A count the state's integers cannot hold (JAX without x64 has int32 only) is
        # refused naming it, not met as OverflowError inside _initial.
        holds = int(ctx.xp.iinfo(integral).max)
        for name, field in self._state_spec().items():
            count = getattr(self, name, None) if field.kind == COUNT else None
            if isinstance(count, int) and count > holds:
                raise ValueError(
                    f"{name}={count} does not fit this state's {integral} counts (at most "
                    f"{holds}): build the state with 64-bit integers (jax_enable_x64, NumPy, "
                    "torch)"
                )
        return self._initial(ctx, integral)

    def _initial(self, ctx: Ctx, integral: Any) -> StateT:
        raise NotImplementedError

    def update(self, state: StateT, metric: Any) -> StateT:
        """One ``scheduler.step(metric)``: the state after seeing ``metric``.

        Args:
          state: the state so far.
          metric: one number: a Python number or a one-element array (a 0-d loss on a
            device, under jit too). NaN is a bad epoch, as in torch.

        Raises:
          ValueError: ``metric`` holds more than one value (torch's ``float(metric)`` refuses
            it too; broadcast, it would make per-element decisions and reshape the state).
        """
        if isinstance(state.lr, float):  # one group's state as Python numbers (the host)
            return self._host_update(state, host_metric(metric))
        if type(metric) is int:  # past float's range: its infinity, not OverflowError
            metric = host_metric(metric)
        xp = namespace(state.lr)
        device = device_of(state.lr)
        ctx = Ctx(xp, state.lr.dtype, device)
        current = xp.asarray(metric, dtype=ctx.dtype, device=device)
        if current.ndim:
            if math.prod(current.shape) != 1:
                raise ValueError(
                    f"metric must be one number, got an array of shape {tuple(current.shape)}"
                )
            current = xp.reshape(current, ())
        if is_numpy(xp):
            # NaN from inf * 0 (threshold 1, rel) or inf - inf is torch's answer too: no
            # NumPy warning.
            with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
                return self._update(ctx, state, current)
        return self._update(ctx, state, current)

    def _update(self, ctx: Ctx, state: StateT, current: Any) -> StateT:
        raise NotImplementedError

    def _host_update(self, state: StateT, current: float) -> StateT:
        """``update`` of one group's state held as Python numbers."""
        return self._update(_HOST, state, current)

    def lr(self, state: StateT) -> Any:
        """The lr the state holds (shape () or (groups,)): an array of the state's namespace
        (a Python float for a host state of one group)."""
        return state.lr

    def trajectory(self, metrics: Any) -> Any:
        """The lr after 0, 1, ..., n updates with ``metrics`` (n values): shape (n + 1[, groups]).

        A JAX array runs as one ``lax.scan``; NumPy arrays and sequences of numbers run on the
        host in float64, as Python numbers (about a microsecond per metric: ``lrfun show``
        and plots of millions of metrics); a torch tensor runs on its device.
        """
        jax = sys.modules.get("jax")
        if jax is not None and isinstance(metrics, jax.Array):
            state = self.init(like=metrics)

            def body(state: StateT, metric: Any) -> tuple[StateT, Any]:
                state = self.update(state, metric)
                return state, state.lr

            _, lrs = jax.lax.scan(body, state, metrics)
            return jax.numpy.concatenate([state.lr[None], lrs])
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(metrics, torch.Tensor):
            state = self.init(like=metrics if metrics.is_floating_point() else metrics.float())
            out = [state.lr]
            for metric in metrics:
                state = self.update(state, metric)
                out.append(state.lr)
            return torch.stack(out)
        try:
            values = np.asarray(metrics, dtype=np.float64)
        except OverflowError:  # an integer past float's range: its infinity, as update takes it
            values = np.asarray([host_metric(m) for m in np.asarray(metrics, dtype=object).flat])
        return self._host_trajectory(values.reshape(-1))

    def _host_trajectory(self, metrics: np.ndarray) -> np.ndarray:
        """``trajectory`` on the host, float64: ``(n + 1[, groups])``.

        Here ``update`` runs on the state ``_host`` gives (Python numbers where the machine
        has that path); each machine of lrfun's own replaces it by its update rule written
        on Python numbers, which costs a microsecond per metric where NumPy's 0-d
        operations cost 30-120 (tests/test_cli_limits.py holds them to ``update``).
        """
        state = self._host(self.init())
        out = [np.asarray(state.lr, dtype=np.float64)]
        for metric in metrics.tolist():
            state = self.update(state, metric)
            out.append(np.asarray(state.lr, dtype=np.float64))
        return np.stack(out)

    def _floats(self, value: Any) -> list[float]:
        """An lr-valued argument as one Python float per group (a tensor as its number)."""
        if isinstance(value, tuple):
            return [float(v) for v in value]
        return [float(value)] * (self.groups or 1)

    @staticmethod
    def _changes(
        n: int, steps: list[int], lrs: list[list[float]], groups: int | None
    ) -> np.ndarray:
        """A host trajectory from where its lr changed: ``lrs[i]`` holds from ``steps[i]``
        (``steps[0] == 0``) until the next change; ``n`` rows in all."""
        ends = np.diff(np.asarray([*steps, n]))
        rows: np.ndarray = np.repeat(np.asarray(lrs, dtype=np.float64), ends, axis=0)
        return rows if groups is not None else rows[:, 0]

    # -- a state restored from a checkpoint ----------------------------------------------

    def _state_spec(self) -> dict[str, FieldSpec]:
        """Each state field's kind, shape and bound (in ``state_type``'s order)."""
        raise NotImplementedError

    def check_state(
        self,
        state: Any,
        *,
        label: str = "state.{}",
        runs_in: Callable[[np.dtype], np.dtype] | None = None,
    ) -> StateT:
        """Checks a state restored from a checkpoint, field by field, before it is used.

        ``update`` runs traced, where a corrupt value cannot be refused (a NaN ``best`` is
        never improved on again, a negative count delays the next decision), so a state
        that comes from disk goes through this check once, on the host. Both adapters call
        it: ``lrfun.torch.PlateauScheduler.load_state_dict`` and ``lrfun.optax.check_state``.

        Args:
          state: a ``state_type`` whose fields are concrete values: NumPy or JAX arrays,
            Python numbers, or (a torch ``state_dict``'s form) lists of numbers. An array
            must be floating where the field is an lr or a metric and integral where it is
            a count; a Python int counts as a number anywhere a float goes.
          label: how messages name a field: a format string with one ``{}`` for the field
            name (``"state_dict[{!r}]"`` names ``state_dict['lr']``).
          runs_in: the dtype a field's values run in, given theirs (Python numbers: float64,
            int64), where that is not their own: ``jax.dtypes.canonicalize_dtype`` for a
            state optax runs (float32 and int32 without x64). Values are checked there.

        Returns:
          The state as NumPy arrays (float64 lrs and metrics, int64 counts).

        Raises:
          TypeError: ``state`` is not a ``state_type``; a field is traced, of the wrong kind
            (a string, an integer array for an lr, a float for a count), or a count of a
            dtype narrower than its bound (int8, int16: the counts would wrap).
          ValueError: a field has the wrong shape (``lr`` not one value, or one per param
            group, as ``init()`` has) or is out of range (an lr negative or not finite, a
            NaN ``best``, a finite value past what its dtype holds, a count past its bound
            or its dtype's), naming the field and the value.
        """
        if not isinstance(state, self.state_type):
            raise TypeError(
                f"state must be a {self.state_type.__name__}, got {type(state).__name__}"
            )
        spec = self._state_spec()
        out = {
            name: check.state_field(label.format(name), getattr(state, name), field, runs_in)
            for name, field in spec.items()
        }
        checked: StateT = self.state_type(**out)
        return checked

    def _host(self, state: StateT) -> StateT:
        """A checked state as the torch adapter steps it on the host (NumPy float64)."""
        return state


@dataclasses.dataclass(frozen=True)
class ReduceLROnPlateau(Machine[PlateauState]):
    """Cuts the lr by ``factor`` when a metric has stopped improving, torch's decision exactly.

    Each ``update(state, metric)`` is one ``scheduler.step(metric)``: the metric improves on
    the best so far when ``metric < best * (1 - threshold)`` (min, rel), ``metric < best -
    threshold`` (min, abs), ``metric > best * (1 + threshold)`` (max, rel) or ``metric > best +
    threshold`` (max, abs); otherwise it is a bad epoch. During cooldown bad epochs are not
    counted. When more than ``patience`` bad epochs have accumulated, every group's lr becomes
    ``max(lr * factor, min_lr)`` -- unless that changes it by no more than ``eps`` -- and
    cooldown starts. All of it is ``where``-selection: jittable, no Python branch on values.

    Torch behaviours reproduced: a NaN metric never improves (a bad epoch); +inf never improves
    in min mode; relative thresholds scale negative bests the way torch's formula does (toward
    zero); the cut applies from the step after the metric that triggered it.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      mode: ``'min'`` or ``'max'``.
      factor: the cut, in [0, 1).
      patience: bad epochs tolerated, an integer in [0, 2**31 - 2] (the counters are int32 on
        JAX).
      threshold: the least improvement that counts, a finite number >= 0.
      threshold_mode: ``'rel'`` or ``'abs'``.
      cooldown: updates to wait after a cut, an integer in [0, 2**31 - 2].
      min_lr: the floor (a sequence: one per param group), >= 0.
      eps: cuts of at most this much are skipped, >= 0.
      best: (keyword) the best metric a stepped torch scheduler has seen, for ``init``
        to start there (``from_torch`` reads it and the three below); by default a fresh
        scheduler's.
      num_bad_epochs: (keyword) its bad epochs since the last improvement.
      cooldown_counter: (keyword) its updates of cooldown left.
      last_epoch: (keyword) its updates so far, at most 2**31 - 2 like the other counts
        (JAX's int32 state holds it).

    >>> p = ReduceLROnPlateau(1.0, patience=1)
    >>> s = p.init()
    >>> for metric in [3.0, 3.0, 3.0]:
    ...     s = p.update(s, metric)
    >>> float(p.lr(s))
    0.1
    """

    _reference = TORCH

    base_lr: float | Sequence[float]
    mode: str = "min"
    factor: float = 0.1
    patience: int = 10
    threshold: float = 1e-4
    threshold_mode: str = "rel"
    cooldown: int = 0
    min_lr: float | Sequence[float] = 0.0
    eps: float = 1e-8
    # Where a stepped torch scheduler left off (from_torch reads them): init() starts there.
    best: float | None = dataclasses.field(default=None, kw_only=True)
    num_bad_epochs: int | None = dataclasses.field(default=None, kw_only=True)
    cooldown_counter: int | None = dataclasses.field(default=None, kw_only=True)
    last_epoch: int | None = dataclasses.field(default=None, kw_only=True)

    state_type = PlateauState
    _lr_arguments = ("base_lr", "min_lr")
    _gallery = ("ReduceLROnPlateau(0.1, factor=0.5, patience=5)", 150)
    _hyperparameters = ("base_lr", "factor", "threshold", "min_lr", "eps")

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        min_lr = check.lr_values("min_lr", self.min_lr)
        self._set(
            base_lr=base_lr,
            min_lr=min_lr,
            mode=check.choice("mode", self.mode, ("min", "max")),
            factor=check.factor("factor", self.factor, zero=True),
            patience=check.integer("patience", self.patience, minimum=0, maximum=COUNTER_MAX),
            threshold=check.real("threshold", self.threshold, low=0.0),
            threshold_mode=check.choice("threshold_mode", self.threshold_mode, ("rel", "abs")),
            cooldown=check.integer("cooldown", self.cooldown, minimum=0, maximum=COUNTER_MAX),
            eps=check.real("eps", self.eps, low=0.0),
            _groups=check.group_count(base_lr=base_lr, min_lr=min_lr),
        )
        if self.best is not None:
            # +-inf is torch's best before any metric (or after an infinite one); NaN never is.
            self._set(best=check.metric("best", self.best, nan=False))
        # Every count within what every backend's default integers hold (int32 on JAX
        # without x64), so init() gives the same state on each: the position is a counter
        # of the state like the others.
        counts = dict(
            num_bad_epochs=COUNTER_MAX, cooldown_counter=COUNTER_MAX, last_epoch=COUNTER_MAX
        )
        self._set(**check.counts(self, **counts))

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        return {
            "base_lr": per_group([g["lr"] for g in scheduler.optimizer.param_groups]),
            "mode": scheduler.mode,
            "factor": scheduler.factor,
            "patience": scheduler.patience,
            "threshold": scheduler.threshold,
            "threshold_mode": scheduler.threshold_mode,
            "cooldown": scheduler.cooldown,
            "min_lr": _min_lrs(scheduler),
            "eps": scheduler.eps,
            # where it stands: its next step continues from here
            "best": None if scheduler.best == scheduler.mode_worse else float(scheduler.best),
            "num_bad_epochs": scheduler.num_bad_epochs or None,
            "cooldown_counter": scheduler.cooldown_counter or None,
            "last_epoch": scheduler.last_epoch or None,
        }

    def _initial(self, ctx: Ctx, integral: Any) -> PlateauState:
        xp, device = ctx.xp, ctx.device
        best = (math.inf if self.mode == "min" else -math.inf) if self.best is None else self.best

        def count(value: int | None) -> Any:
            # Separate arrays: aliased fields would make torch.compile guard on the aliasing.
            return xp.asarray(value or 0, dtype=integral, device=device)

        return PlateauState(
            lr=xp.asarray(_per_group_lr(self, self.base_lr), dtype=ctx.dtype, device=device),
            best=xp.asarray(best, dtype=ctx.dtype, device=device),
            num_bad_epochs=count(self.num_bad_epochs),
            cooldown_counter=count(self.cooldown_counter),
            last_epoch=count(self.last_epoch),
        )

    def _update(self, ctx: Ctx, state: PlateauState, current: Any) -> PlateauState:
        xp, device = ctx.xp, ctx.device
        best = state.best
        if self.threshold_mode == "rel":
            bound = best * (
                (1.0 - self.threshold) if self.mode == "min" else (1.0 + self.threshold)
            )
        else:
            bound = best - self.threshold if self.mode == "min" else best + self.threshold
        better = current < bound if self.mode == "min" else current > bound
        best = xp.where(better, current, best)
        bad = xp.where(better, xp.zeros_like(state.num_bad_epochs), state.num_bad_epochs + 1)
        cooling = state.cooldown_counter > 0
        counter = xp.where(cooling, state.cooldown_counter - 1, state.cooldown_counter)
        bad = xp.where(cooling, xp.zeros_like(bad), bad)
        cut = bad > self.patience
        floor = ctx.const(self.min_lr)
        new_lr = xp.maximum(
            state.lr * self.factor, xp.asarray(floor, dtype=ctx.dtype, device=device)
        )
        lr = xp.where(cut & (state.lr - new_lr > self.eps), new_lr, state.lr)
        counter = xp.where(cut, xp.full_like(counter, self.cooldown), counter)
        bad = xp.where(cut, xp.zeros_like(bad), bad)
        return PlateauState(lr, best, bad, counter, state.last_epoch + 1)

    def _host_trajectory(self, metrics: np.ndarray) -> np.ndarray:
        """``_update`` on Python numbers, the same float64 operations in the same order
        (torch's own ``step`` is this loop). The decisions do not depend on the lrs, so the
        groups' lrs are touched only at a cut, and kept only where they change."""
        lrs, floors = self._floats(self.base_lr), self._floats(self.min_lr)
        minimize = self.mode == "min"
        best = (math.inf if minimize else -math.inf) if self.best is None else self.best
        bad, counter = self.num_bad_epochs or 0, self.cooldown_counter or 0
        factor, eps = float(self.factor), float(self.eps)
        steps, values = [0], [lrs]
        decide = self._decide
        for k, current in enumerate(metrics.tolist(), 1):
            best, bad, counter, cuts = decide(best, bad, counter, current)
            if cuts:
                cut = [max(lr * factor, floor) for lr, floor in zip(lrs, floors, strict=True)]
                cut = [new if lr - new > eps else lr for lr, new in zip(lrs, cut, strict=True)]
                if cut != lrs:
                    steps.append(k)
                    values.append(cut)
                    lrs = cut
        return self._changes(len(metrics) + 1, steps, values, self.groups)

    def _decide(self, best: float, bad: int, counter: int, current: float) -> tuple[Any, ...]:
        """One step's decision on Python numbers, the float64 operations of ``_update`` in
        its order (torch's own ``step``): the new (best, num_bad_epochs, cooldown_counter)
        and whether the lrs are cut (the counters already reset for it)."""
        minimize = self.mode == "min"
        threshold = float(self.threshold)
        if self.threshold_mode == "rel":
            bound = best * ((1.0 - threshold) if minimize else (1.0 + threshold))
        else:
            bound = best - threshold if minimize else best + threshold
        if current < bound if minimize else current > bound:  # NaN: never better
            best, bad = current, 0
        else:
            bad += 1
        if counter > 0:
            counter, bad = counter - 1, 0
        if bad > self.patience:
            return best, 0, self.cooldown, True
        return best, bad, counter, False

    def _host_update(self, state: PlateauState, current: float) -> PlateauState:
        best, bad, counter, cuts = self._decide(
            state.best, state.num_bad_epochs, state.cooldown_counter, current
        )
        lr = state.lr
        if cuts:
            (floor,) = self._floats(self.min_lr)  # one group's
            new = max(lr * float(self.factor), floor)
            lr = new if lr - new > float(self.eps) else lr
        return PlateauState(lr, best, bad, counter, state.last_epoch + 1)

    def _state_spec(self) -> dict[str, FieldSpec]:
        shape = () if self.groups is None else (self.groups,)
        return {
            "lr": FieldSpec(LR, shape),
            "best": FieldSpec(BEST, ()),
            "num_bad_epochs": FieldSpec(COUNT, (), COUNTER_MAX),
            "cooldown_counter": FieldSpec(COUNT, (), COUNTER_MAX),
            "last_epoch": FieldSpec(COUNT, (), MAX_STEP),
        }

    def _host(self, state: PlateauState) -> PlateauState:
        """One group's state as Python numbers (stepped at Python speed); several groups'
        stay NumPy arrays."""
        if np.ndim(state.lr):
            return state
        return PlateauState(
            lr=float(state.lr),
            best=float(state.best),
            num_bad_epochs=int(state.num_bad_epochs),
            cooldown_counter=int(state.cooldown_counter),
            last_epoch=int(state.last_epoch),
        )
