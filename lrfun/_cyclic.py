"""Schedules that cycle the lr and the momentum: CyclicLR and OneCycleLR."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

from lrfun import _validate as check
from lrfun._backend import SCALARS, Ctx
from lrfun._chain import Shared
from lrfun._custom import call_user_function
from lrfun._math import anneal_cos, anneal_linear, power, reaches
from lrfun._reference import TORCH
from lrfun._schedule import Schedule, per_group

__all__ = ["CyclicLR", "OneCycleLR"]

_MODES = ("triangular", "triangular2", "exp_range")


@dataclasses.dataclass(frozen=True)
class CyclicLR(Schedule):
    """Cycles the lr between ``base_lr`` and ``max_lr`` (and the momentum between
    ``max_momentum`` and ``base_momentum``), Smith's cyclical learning rates.

    With ``T = step_size_up + step_size_down``, ``cycle = 1 + t // T``, ``r = t mod T``:
    ``scale = r / step_size_up`` while rising (``r <= step_size_up``), else
    ``(T - r) / step_size_down``; ``lr = base_lr + (max_lr - base_lr) * scale * f`` and
    ``momentum = max_momentum - (max_momentum - base_momentum) * scale * f``, where ``f`` is
    1 (``triangular``), ``0.5 ** (cycle - 1)`` (``triangular2``), ``gamma ** t``
    (``exp_range``) or ``scale_fn`` of the cycle or the step (``scale_mode``). In float64
    the phase is torch's own arithmetic, ``x = 1 + t / T - floor(1 + t / T)``, so the value
    is torch's at every step, where its phase has rounded included; in float32 (which could
    not follow torch's float64 rounding) whole lengths take it in integers, so long runs lose
    no precision.

    Torch behaviour reproduced: constructing the scheduler sets every group's lr to
    ``base_lr`` (the optimizer's own lr is ignored) and its momentum (SGD) or beta1 (Adam)
    to ``max_momentum``; ``mode`` decides ``scale_mode`` unless ``scale_fn`` is given.

    Args:
      base_lr: the lower lr (a sequence: one per param group).
      max_lr: the upper lr (a sequence: one per param group).
      step_size_up: steps rising, a positive integer (or a float, as torch takes it: at
        least 2**-60, below 2**63).
      step_size_down: steps falling, >= 0 (None: ``step_size_up``).
      mode: ``'triangular'``, ``'triangular2'`` or ``'exp_range'`` (with a ``scale_fn``
        torch never reads it: kept as given).
      gamma: ``exp_range``'s decay per step, >= 0; in the other modes, or with a
        ``scale_fn``, torch never reads it, and neither does lrfun (kept as given, static in
        the pytree).
      scale_fn: a function of the cycle or step replacing ``mode``.
      scale_mode: ``'cycle'`` or ``'iterations'``, used with ``scale_fn``; without one
        torch ignores it (the mode sets it) and lrfun keeps it as given.
      cycle_momentum: whether momentum cycles (then ``momentum`` gives it).
      base_momentum: the lower momentum, any finite number, as torch writes it (a sequence:
        one per param group); without ``cycle_momentum`` torch never reads it, and neither
        does lrfun (kept as given, static in the pytree).
      max_momentum: the upper momentum, as ``base_momentum``; ``max_momentum -
        base_momentum`` must be finite (else torch's momentum is NaN from step 0).

    >>> CyclicLR(0.1, 1.0, step_size_up=4)(2), CyclicLR(0.1, 1.0, step_size_up=4).momentum(4)
    (0.55, 0.8)
    """

    _reference = TORCH

    base_lr: float | Sequence[float]
    max_lr: float | Sequence[float]
    step_size_up: int | float = 2000
    step_size_down: int | float | None = None
    mode: str = "triangular"
    gamma: float = 1.0
    scale_fn: Callable[[Any], Any] | None = None
    scale_mode: str = "cycle"
    cycle_momentum: bool = True
    base_momentum: float | Sequence[float] = 0.8
    max_momentum: float | Sequence[float] = 0.9
    _down: int | float = dataclasses.field(init=False, repr=False, compare=False)

    # Every torch step sets the lr (and momentum) outright; constructing it sets the
    # optimizer's lrs to base_lr.
    chain: ClassVar[Literal["factor", "affine", "absolute"]] = "absolute"
    sets_lrs: ClassVar[bool] = True
    _first_step_reads_initial_lr: ClassVar[bool] = True
    _lr_arguments = ("base_lr", "max_lr")
    _gallery = ("CyclicLR(0.001, 0.1, step_size_up=20, mode='triangular2')", 160)
    _hyperparameters = ("base_lr", "max_lr", "gamma", "base_momentum", "max_momentum")

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        max_lr = check.lr_values("max_lr", self.max_lr)
        cycle = check.boolean("cycle_momentum", self.cycle_momentum)
        base_m, max_m = momentum_bounds(cycle, self.base_momentum, self.max_momentum)
        up = _cycle_length("step_size_up", self.step_size_up, positive=True)
        down = (
            up
            if self.step_size_down is None
            else _cycle_length("step_size_down", self.step_size_down, positive=False)
        )
        if self.scale_fn is not None and not callable(self.scale_fn):
            raise TypeError(f"scale_fn must be callable or None, got {check._shown(self.scale_fn)}")
        # torch reads mode and gamma only without a scale_fn (gamma only in exp_range), and
        # scale_mode only with one (the mode sets it otherwise): what it never reads is kept
        # as given, unchecked, and never computed with.
        custom = self.scale_fn is not None
        mode = _as_given(self.mode) if custom else check.choice("mode", self.mode, _MODES)
        self._set(
            base_lr=base_lr,
            max_lr=max_lr,
            base_momentum=base_m,
            max_momentum=max_m,
            step_size_up=up,
            mode=mode,
            gamma=(
                check.real("gamma", self.gamma, low=0.0)
                if not custom and mode == "exp_range"
                else _as_given(self.gamma)
            ),
            scale_mode=(
                check.choice("scale_mode", self.scale_mode, ("cycle", "iterations"))
                if custom
                else _as_given(self.scale_mode)
            ),
            cycle_momentum=cycle,
            _groups=check.group_count(
                base_lr=base_lr, max_lr=max_lr, **_momentum_groups(cycle, base_m, max_m)
            ),
            _down=down,
        )

    @property
    def cycles_momentum(self) -> bool:
        return self.cycle_momentum

    @property
    def _reads_gamma(self) -> bool:
        return self.scale_fn is None and self.mode == "exp_range"

    def _tree_leaves(self) -> tuple[str, ...]:
        # gamma is static data where torch never reads it (it may be anything then).
        leaves = _momentum_leaves(self)
        return leaves if self._reads_gamma else tuple(n for n in leaves if n != "gamma")

    @property
    def _writes_group_keys(self) -> bool:
        return self.cycle_momentum

    def _write(self, shared: Shared) -> None:
        if self.cycle_momentum:
            shared.momenta = self

    _torch_step_error = (
        OverflowError,
        "torch's CyclicLR overflows at step {step} (its triangular2 scale 1 / 2.0 ** (cycle - 1) "
        "past cycle 1024; its last step is {limit})",
    )

    def _torch_steps(self) -> int | None:
        if self.mode != "triangular2" or self.scale_fn is not None:
            return None
        # torch's scale 1 / 2.0 ** (cycle - 1) overflows (OverflowError) from cycle 1025 on,
        # the step 1024 cycles in.
        return math.ceil(1024 * (self.step_size_up + self._down)) - 1

    def _course_changes(self, n: int) -> list[float]:
        up, total = self.step_size_up, self.step_size_up + self._down
        # the lengths may be floats (torch keeps them so): count the cycles as an int.
        return [k * total + d for k in range(int(n // total) + 1) for d in (up, total)]

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        # torch keeps the lengths as floats: a whole number of steps comes back an int.
        up = scheduler.total_size * scheduler.step_ratio
        arguments: dict[str, Any] = {
            "base_lr": per_group(scheduler.base_lrs),
            "max_lr": per_group(scheduler.max_lrs),
            "step_size_up": _whole(up),
            "step_size_down": _whole(scheduler.total_size - up),
            "mode": scheduler.mode,
            "gamma": scheduler.gamma,
            "scale_fn": scheduler._scale_fn_custom,
            "scale_mode": scheduler.scale_mode,
            "cycle_momentum": scheduler.cycle_momentum,
        }
        if scheduler.cycle_momentum:
            arguments["base_momentum"] = per_group(scheduler.base_momentums)
            arguments["max_momentum"] = per_group(scheduler.max_momentums)
        return arguments

    def _shape(self, ctx: Ctx, step: Any) -> Any:
        """The triangle in [0, 1] times the mode's scale: the fraction of the way to the peak."""
        xp = ctx.xp
        up, total = self.step_size_up, _whole(self.step_size_up + self._down)
        # float64 follows torch's float phase: it rounds 1 + t / T to an ulp of t / T, which
        # short cycles' steep slopes multiply (39x the float64 tolerance at step 786,431 with
        # up=1, down=2, off the exact phase). float32 cannot follow that rounding: its
        # integer phase is within 2**-22 of the height of torch's up to 2**31. A whole cycle
        # with a peak between steps (2.5 up, 2.5 down) takes the integer phase too.
        if ctx.dtype == xp.float64 or not isinstance(total, int):
            return self._scaled(ctx, step, *self._float_phase(ctx, step))
        if reaches(ctx, step, total):
            done, r = ctx.quotient(step, total), ctx.remainder(step, total)
            left = ctx.float(total - r)
        else:
            # No step of this width (an int32 count) completes the first cycle; total is no
            # operand for it, so the steps left in the cycle are summed in floats.
            done, r = xp.zeros_like(step), step
            imax = ctx.iinfo(step).max
            left = ctx.float(imax - r) + float(total - imax)
        # A down of 0 is replaced: the falling branch is never selected then.
        triangle = xp.where(
            r <= min(up, ctx.iinfo(step).max),
            ctx.float(r) / float(up),
            left / float(self._down or 1),
        )
        return self._scaled(ctx, step, triangle, done)

    def _float_phase(self, ctx: Ctx, step: Any) -> tuple[Any, Any]:
        """(triangle, cycles done) in floats exactly as torch computes them:
        ``x = 1 + t / T - floor(1 + t / T)``."""
        xp = ctx.xp
        total = float(self.step_size_up + self._down)
        ratio = self.step_size_up / total
        t = ctx.float(step)
        # T as an operand no compiler folds (t * 0 is not 0 for an infinite t): XLA, and
        # torch on CUDA, turn a division by a constant into a product with its reciprocal,
        # which moves the phase by an ulp of t / T, as much as torch's own rounding.
        q = 1.0 + t / (t * 0.0 + total)
        cycle = xp.floor(q)
        x = q - cycle
        # (ratio - 1) is 0 when step_size_down is 0: that branch is never selected then.
        falling = (x - 1.0) / (ratio - 1.0 if ratio != 1.0 else 1.0)
        # Cycles shorter than a step count past the step's integers: bounded (triangular2's
        # scale is 0 long before, and a cast past the range is undefined).
        top = ctx.array(float(2 ** (ctx.iinfo(step).bits - 2)))
        done = xp.astype(xp.minimum(cycle, top), step.dtype) - 1
        return xp.where(x <= ratio, x / ratio, falling), done

    def _scaled(self, ctx: Ctx, step: Any, triangle: Any, done: Any) -> Any:
        """The triangle times the mode's scale (``done``: cycles completed)."""
        if self.scale_fn is not None:
            x = done + 1 if self.scale_mode == "cycle" else step
            return triangle * call_user_function(ctx, self.scale_fn, x, "scale_fn")
        if self.mode == "triangular2":
            # From the cycles done, not cycle - 1: cycle overflows at an int32 count's last
            # step when a cycle is one step long.
            return triangle * power(ctx, 0.5, ctx.float(done))
        if self.mode == "exp_range":
            return triangle * power(ctx, self.gamma, ctx.float(step))
        return triangle

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        base, top = ctx.const(self.base_lr), ctx.const(self.max_lr)
        return base + (top - base) * self._shape(ctx, step)

    def _momentum(self, ctx: Ctx, step: Any) -> Any:
        base, top = ctx.const(self.base_momentum), ctx.const(self.max_momentum)
        return top - (top - base) * self._shape(ctx, step)


# A phase shorter than this is a float rounding of a zero-length one.
_ROUNDING_OF_ZERO = 2.0**-20


@dataclasses.dataclass(frozen=True)
class OneCycleLR(Schedule):
    """The 1cycle policy: the lr rises from ``max_lr / div_factor`` to ``max_lr``, then anneals
    to ``max_lr / div_factor / final_div_factor``, while momentum moves the opposite way.

    Phases end, as in torch, at steps ``pct_start * total_steps - 1`` and
    ``total_steps - 1`` (three-phase: ``pct_start * total_steps - 1``,
    ``2 * pct_start * total_steps - 2``, ``total_steps - 1``); within a phase,
    ``pct = (t - start) / (end - start)`` and the value is annealed by ``anneal_strategy``.
    torch computes step ``total_steps`` too (extrapolating the last phase slightly) and refuses
    to step further: lrfun evaluates steps past ``total_steps`` as ``total_steps``.

    Args:
      max_lr: the peak lr (a sequence: one per param group).
      total_steps: the number of steps, a positive integer; or None with ``epochs`` and
        ``steps_per_epoch``.
      epochs: a positive integer: with ``steps_per_epoch``, ``total_steps`` is their product
        (beside ``total_steps`` torch never reads it: kept as given).
      steps_per_epoch: a positive integer (see ``epochs``).
      pct_start: a float in [0, 1]: the fraction of steps rising. A value that makes a phase
        zero steps long (torch then divides by zero) is rejected.
      anneal_strategy: ``'cos'`` or ``'linear'``.
      cycle_momentum: whether momentum cycles (then ``momentum`` gives it).
      base_momentum: the momentum at the peak lr, any finite number, as torch writes it (a
        sequence: one per group); without ``cycle_momentum`` never read (kept as given).
      max_momentum: the momentum at the lowest lr, as ``base_momentum``; ``max_momentum -
        base_momentum`` must be finite (torch's anneal overflows to inf or NaN otherwise).
      div_factor: initial lr = max_lr / div_factor, > 0.
      final_div_factor: final lr = initial lr / final_div_factor, > 0.
      three_phase: whether to anneal back to the initial lr before the final annealing.

    >>> OneCycleLR(1.0, total_steps=10, anneal_strategy="linear")(2)
    1.0
    """

    _reference = TORCH

    max_lr: float | Sequence[float]
    total_steps: int | None = None
    epochs: int | None = None
    steps_per_epoch: int | None = None
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    cycle_momentum: bool = True
    base_momentum: float | Sequence[float] = 0.85
    max_momentum: float | Sequence[float] = 0.95
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False
    _total: int = dataclasses.field(init=False, repr=False, compare=False)
    _starts: tuple[float, ...] = dataclasses.field(init=False, repr=False, compare=False)
    _ends: tuple[float, ...] = dataclasses.field(init=False, repr=False, compare=False)

    # Every torch step sets the lr (and momentum) from the lr bounds it keeps in the param
    # groups, which it writes at construction (initial_lr among them) and reads as it steps.
    chain: ClassVar[Literal["factor", "affine", "absolute"]] = "absolute"
    sets_lrs: ClassVar[bool] = True
    _reads_group_keys: ClassVar[bool] = True
    _lr_arguments = ("max_lr",)
    _gallery = ("OneCycleLR(0.1, total_steps=200)", 200)
    # pct_start is structure: it places the phase ends, which are taken in integers.
    _hyperparameters = (
        "max_lr",
        "base_momentum",
        "max_momentum",
        "div_factor",
        "final_div_factor",
    )
    _static_floats = ("pct_start",)

    def __post_init__(self) -> None:
        max_lr = check.lr_values("max_lr", self.max_lr)
        cycle = check.boolean("cycle_momentum", self.cycle_momentum)
        base_m, max_m = momentum_bounds(cycle, self.base_momentum, self.max_momentum)
        # Beside total_steps torch never reads epochs and steps_per_epoch: kept as given.
        epochs, per_epoch = _as_given(self.epochs), _as_given(self.steps_per_epoch)
        if self.total_steps is not None:
            total = check.integer("total_steps", self.total_steps)
        elif epochs is not None and per_epoch is not None:
            epochs = check.integer("epochs", epochs)
            per_epoch = check.integer("steps_per_epoch", per_epoch)
            total = check.integer("epochs * steps_per_epoch", epochs * per_epoch)
        else:
            raise ValueError(
                "OneCycleLR needs total_steps, or epochs and steps_per_epoch; got "
                f"total_steps={self.total_steps!r}, epochs={self.epochs!r}, "
                f"steps_per_epoch={self.steps_per_epoch!r}"
            )
        # torch insists on a float here (pct_start=1 is an error there too).
        if not isinstance(self.pct_start, float):
            raise TypeError(
                f"pct_start must be a float in [0.0, 1.0], got {check._shown(self.pct_start)}"
            )
        pct = check.real("pct_start", self.pct_start, low=0.0, high=1.0)
        div = check.real("div_factor", self.div_factor, low=0.0, low_open=True)
        final_div = check.real("final_div_factor", self.final_div_factor, low=0.0, low_open=True)
        three = check.boolean("three_phase", self.three_phase)
        # The lrs the bounds derive must be numbers too (max_lr / 1e-320 is inf). Checked on
        # concrete values only: a traced div_factor (jax.grad through the schedule) or a
        # tensor has no number to check, as check.real keeps it.
        concrete = isinstance(div, float) and isinstance(final_div, float)
        for peak in max_lr if isinstance(max_lr, tuple) else (max_lr,):
            if concrete and isinstance(peak, float):
                initial = peak / div
                if not (math.isfinite(initial) and math.isfinite(peak - initial)):
                    raise ValueError(
                        f"div_factor={div!r} makes the initial lr max_lr / div_factor = "
                        f"{peak!r} / {div!r} overflow ({initial!r})"
                    )
                if not math.isfinite(initial - initial / final_div):
                    raise ValueError(f"final_div_factor={final_div!r} overflows the final lr")
        # Phase ends exactly as torch computes them (floats), so phase choice agrees.
        ends: tuple[float, ...]
        if three:
            ends = (float(pct * total) - 1, float(2 * pct * total) - 2, float(total - 1))
        else:
            ends = (float(pct * total) - 1, float(total - 1))
        starts = (0.0, *ends[:-1])
        for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
            if end == start:
                raise ValueError(
                    f"pct_start={pct!r} with total_steps={total} makes phase {i + 1} of "
                    f"OneCycleLR zero steps long (it would end where it starts, at step {end})"
                )
            if abs(end - start) < _ROUNDING_OF_ZERO:
                raise ValueError(
                    f"pct_start={pct!r} with total_steps={total} makes phase {i + 1} of "
                    f"OneCycleLR {abs(end - start):.3g} steps long, a rounding of zero: torch "
                    "divides by it, and its lr at the last step is noise"
                )
        self._set(
            max_lr=max_lr,
            base_momentum=base_m,
            max_momentum=max_m,
            pct_start=pct,
            anneal_strategy=check.choice(
                "anneal_strategy", self.anneal_strategy, ("cos", "linear")
            ),
            cycle_momentum=cycle,
            div_factor=div,
            final_div_factor=final_div,
            three_phase=three,
            epochs=epochs,
            steps_per_epoch=per_epoch,
            total_steps=None if self.total_steps is None else total,
            _groups=check.group_count(max_lr=max_lr, **_momentum_groups(cycle, base_m, max_m)),
            _total=total,
            _starts=starts,
            _ends=ends,
        )

    @property
    def cycles_momentum(self) -> bool:
        return self.cycle_momentum

    def _tree_leaves(self) -> tuple[str, ...]:
        return _momentum_leaves(self)

    _sets_initial_lr: ClassVar[bool] = True

    @property
    def _initial_lr(self) -> Any:
        # torch's OneCycleLR overwrites initial_lr with max_lr / div_factor.
        peak: Any = self.max_lr  # a float, a tuple per group, or an array (a pytree leaf)
        if isinstance(peak, tuple):
            return tuple(v / self.div_factor for v in peak)
        return peak / self.div_factor

    @property
    def _writes_group_keys(self) -> bool:
        return True

    def _write(self, shared: Shared) -> None:
        shared.bounds = self
        if self.cycle_momentum:
            shared.momenta = self

    def _read(self, shared: Shared) -> OneCycleLR:
        """This OneCycleLR with the bounds the param groups hold (``shared.bounds``: the
        OneCycleLR that wrote ``initial_lr``/``max_lr``/``min_lr`` last; ``shared.momenta``:
        the cycling scheduler that wrote ``max_momentum``/``base_momentum`` last)."""
        changes: dict[str, Any] = {}
        bounds, momenta = shared.bounds, shared.momenta
        if bounds is not None and bounds is not self:
            changes.update(
                max_lr=bounds.max_lr,
                div_factor=bounds.div_factor,
                final_div_factor=bounds.final_div_factor,
            )
        if self.cycle_momentum and momenta is not None and momenta is not self:
            changes.update(base_momentum=momenta.base_momentum, max_momentum=momenta.max_momentum)
        return dataclasses.replace(self, **changes) if changes else self

    def _course_changes(self, n: int) -> list[float]:
        return list(self._ends)

    _torch_step_error = (
        ValueError,
        "Tried to step {step} times. The specified number of total steps is {limit}",
    )

    def _torch_steps(self) -> int | None:
        return self._total  # torch raises when stepped past total_steps

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        groups = scheduler.optimizer.param_groups
        arguments: dict[str, Any] = {
            "max_lr": per_group([g["max_lr"] for g in groups]),
            "total_steps": scheduler.total_steps,
            "pct_start": _pct_start(
                scheduler._schedule_phases[0]["end_step"], scheduler.total_steps
            ),
            "anneal_strategy": scheduler._anneal_func_type,
            "cycle_momentum": scheduler.cycle_momentum,
            "div_factor": float(groups[0]["max_lr"]) / float(groups[0]["initial_lr"]),
            "final_div_factor": float(groups[0]["initial_lr"]) / float(groups[0]["min_lr"]),
            "three_phase": len(scheduler._schedule_phases) == 3,
        }
        if scheduler.cycle_momentum:
            arguments["base_momentum"] = per_group([g["base_momentum"] for g in groups])
            arguments["max_momentum"] = per_group([g["max_momentum"] for g in groups])
        return arguments

    def _phases(self, ctx: Ctx, step: Any, points: Sequence[Any]) -> Any:
        """Anneals through ``points`` (the value at each phase boundary) piecewise."""
        xp = ctx.xp
        anneal = anneal_cos if self.anneal_strategy == "cos" else anneal_linear
        step = ctx.minimum(step, self._total)
        if ctx.xp is SCALARS:  # one Python-int step: only its phase
            ctx = ctx._replace(span=(int(step), int(step)))
        elif ctx.span is not None:  # the steps the phases see
            low, high = ctx.span
            ctx = ctx._replace(span=(min(low, self._total), min(high, self._total)))
        imax = ctx.iinfo(step).max
        out = None
        # The last step of each phase (t <= end, for an integer t).
        lasts = [min(math.floor(end), imax) for end in self._ends]
        # Two or three phases, fixed at construction: the last phase takes every step past
        # the earlier ends, as torch's loop does. Steps into a phase and the phase choice are
        # taken in integers: in float32 a step past 2**24, or a phase end, is rounded by more
        # than a short phase can afford.
        for i in reversed(range(len(self._ends))):
            # A phase none of the (host) steps is in is never selected: not computed. (The
            # phases are selected from the last, so a skipped later one leaves every step
            # at or before this one's end.)
            after = lasts[i] + 1 if i < len(lasts) - 1 else math.inf
            if not ctx.meets(lasts[i - 1] + 1 if i else 0, after):
                continue
            start, end = self._starts[i], self._ends[i]
            whole = max(math.floor(start), 0)  # a start at -1: step + 1 overflows int32
            if reaches(ctx, step, whole):
                since = ctx.float(step - whole) - (start - whole)
            else:  # no step of this width gets to this phase: it is never selected
                since = ctx.float(xp.zeros_like(step))
            value = anneal(ctx, points[i], points[i + 1], since / (end - start))
            out = value if out is None else xp.where(step <= lasts[i], value, out)
        return out

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        peak = ctx.const(self.max_lr)
        initial = peak / self.div_factor
        final = initial / self.final_div_factor
        points = (initial, peak, initial, final) if self.three_phase else (initial, peak, final)
        return self._phases(ctx, step, points)

    def _momentum(self, ctx: Ctx, step: Any) -> Any:
        low, high = ctx.const(self.base_momentum), ctx.const(self.max_momentum)
        points = (high, low, high, high) if self.three_phase else (high, low, high)
        return self._phases(ctx, step, points)


_MOMENTA = ("base_momentum", "max_momentum")


def momentum_bounds(cycle: bool, base: Any, top: Any) -> tuple[Any, Any]:
    """CyclicLR's and OneCycleLR's ``(base_momentum, max_momentum)``.

    Where momentum cycles, torch writes whatever it computes from them into the groups (its
    own tests use bounds 1..5 and 1..22; SGD runs with momentum 1.5, Adam's step divides by
    ``1 - beta1 ** t``): any finite numbers are taken, one or one per group, and only a pair
    whose difference overflows is refused (torch's momentum is then NaN from step 0). Where
    it does not cycle, torch never reads them: they are kept as given (a list as a tuple),
    unchecked.
    """
    if not cycle:
        return _as_given(base), _as_given(top)
    base_m = check.lr_values("base_momentum", base, low=-math.inf)
    max_m = check.lr_values("max_momentum", top, low=-math.inf)
    pairs = (
        zip(base_m, max_m, strict=True)
        if isinstance(base_m, tuple) and isinstance(max_m, tuple) and len(base_m) == len(max_m)
        else [
            (b, m)
            for b in (base_m if isinstance(base_m, tuple) else (base_m,))
            for m in (max_m if isinstance(max_m, tuple) else (max_m,))
        ]
    )
    for b, m in pairs:
        if isinstance(b, float) and isinstance(m, float) and not math.isfinite(m - b):
            raise ValueError(
                f"max_momentum - base_momentum must be finite, got {m!r} - {b!r}: torch's "
                "momentum would be NaN from step 0"
            )
    return base_m, max_m


def _as_given(value: Any) -> Any:
    """An argument torch never reads, kept as given (a list as a tuple, a concrete 0-d
    array as its Python number: hashable, as the static data of a pytree must be)."""
    if isinstance(value, list):
        return tuple(value)
    if check._scalar_array(value) and not check._traced(value):
        return value.item()
    return value


def _momentum_groups(cycle: bool, base: Any, top: Any) -> dict[str, Any]:
    """The momentum bounds that count param groups: none where torch never reads them."""
    return {"base_momentum": base, "max_momentum": top} if cycle else {}


def _momentum_leaves(schedule: Schedule) -> tuple[str, ...]:
    """The pytree leaves of a momentum-cycling schedule: the momentum bounds are static data
    where momentum does not cycle (they may be anything then: torch never reads them)."""
    names = schedule._hyperparameters
    if schedule.cycles_momentum:
        return names
    return tuple(name for name in names if name not in _MOMENTA)


def _pct_start(end_step: float, total: int) -> float:
    """The pct_start whose ``float(pct * total) - 1`` is torch's stored phase end exactly."""
    guess = (end_step + 1) / total
    candidates = [guess]
    for direction in (math.inf, -math.inf):
        value = guess
        for _ in range(4):
            value = math.nextafter(value, direction)
            candidates.append(value)
    for pct in candidates:
        if float(pct * total) - 1 == end_step:
            return pct
    return guess


def _cycle_length(name: str, value: Any, *, positive: bool) -> int | float:
    """A cycle length: a whole number of steps (an int), or a float as torch takes it."""
    if isinstance(value, float):
        length = check.real(name, value, low=0.0, low_open=positive)
        return check.length(name, length, zero=not positive)
    return check.integer(name, value, minimum=1 if positive else 0)


def _whole(value: float) -> int | float:
    """An integral float as an int (the integer phase is exact), any other as is."""
    return int(value) if float(value).is_integer() else float(value)
