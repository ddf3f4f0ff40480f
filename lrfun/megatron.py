"""Megatron-LM's ``OptimizerParamScheduler`` (megatron-core) as pure functions of the step.

Two schedules of the ``megatron.`` family, both read off one live Megatron object:

* [``OptimizerParamScheduler``][lrfun.megatron.OptimizerParamScheduler]: the learning rate
  Megatron writes into each param group after ``num_steps`` steps -- every
  ``lr_decay_style`` (``constant``, ``linear``, ``cosine``, ``inverse-square-root``,
  ``WSD`` with every ``lr_wsd_decay_style``), ``init_lr``, ``min_lr``, per-group
  ``max_lr``/``min_lr`` overrides;
* [``WeightDecay``][lrfun.megatron.WeightDecay]: the weight decay it writes beside the lr
  (``wd_incr_style`` ``constant``/``linear``/``cosine``, per-group ``start_wd``/``end_wd``
  overrides and ``wd_mult``). lrfun's schedules give learning rates, and the lr adapters
  write what a schedule gives into ``lr``; the weight decay is a schedule of its own, whose
  values the training loop writes into ``weight_decay`` itself.

``lrfun.from_torch(scheduler)`` reads a live ``megatron.core.optimizer_param_scheduler.
OptimizerParamScheduler`` (stepped or not: the schedule describes it from ``num_steps = 0``,
and Megatron is at ``schedule(scheduler.num_steps)``); [``weight_decay_of``][lrfun.megatron.
weight_decay_of] reads its weight decay. This module imports neither megatron nor torch.

The arithmetic is Megatron's, in its order of operations (Python floats there, the
evaluation dtype here): within the parity tolerance in float64 and float32. The live
reference is megatron-core itself: its object built on a torch optimizer and stepped with
``step(1)``, the groups' ``lr`` (and ``weight_decay``) read after each step.

What lrfun refuses that Megatron accepts (``ValueError`` naming the argument; each has a
reproducer on the Megatron page of the documentation):

* ``lr_warmup_steps < 0``, ``wsd_decay_steps < 0``, ``wd_incr_steps < 0`` (Megatron computes
  with them: a negative warmup shifts the decay's origin, a negative ``wsd_decay_steps``
  never anneals);
* ``init_lr < 0`` (Megatron does not check it: the warmup starts from a negative lr);
  where Megatron's own checks (``min_lr <= max_lr``, ``init_lr <= max_lr``) bind only its
  class values, lrfun takes any order, as Megatron computes it for a group whose
  ``max_lr``/``min_lr`` overrides lie below ``init_lr`` or cross;
* ``lr_decay_style="WSD"`` with an ``lr_wsd_decay_style`` Megatron does not know (``None``
  included): Megatron raises ``AssertionError`` only when the anneal begins;
* ``wd_incr_style="constant"`` with ``start_wd != end_wd`` (Megatron asserts at its first
  step), a non-constant style with ``wd_incr_steps=0`` (it divides by zero at
  construction), and per-group weight decays that fall (``end_wd < start_wd``).

Megatron's ``use_checkpoint_opt_param_scheduler`` / ``override_opt_param_scheduler`` say how
a checkpoint's values replace the constructor's: no part of the schedule, so no argument.
A param group's ``lr_mult`` is not read by megatron-core 0.16's scheduler (it writes the
same lr into such a group), and it is not an argument here.

>>> s = OptimizerParamScheduler(3e-4, 1000, "cosine", min_lr=3e-5, lr_warmup_steps=100)
>>> s(0), s(100), s(1000)
(0.0, 0.0003, 3e-05)
"""

# The shapes (Megatron's linear and cosine decays, its WSD cooldowns ``1 - q``,
# ``0.5 * (cos(pi q) + 1)``, ``2 * 0.5 ** q - 1``, ``1 - sqrt(q)``, and its cosine
# weight-decay increment ``0.5 * (cos(pi (1 - r)) + 1)``) are lrfun._shapes' decay and warmup
# fractions: the same curves, computed without cancellation at their small ends, within the
# parity tolerance of Megatron's Python-float arithmetic. The warmup, the
# inverse-square-root and the interpolation ``min_lr + c * (max_lr - min_lr)`` are written
# here in Megatron's order of operations.

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from lrfun import _validate as check
from lrfun._backend import Ctx
from lrfun._math import reaches
from lrfun._reference import FunctionReference
from lrfun._schedule import Configurable, Schedule, per_group
from lrfun._shapes import decay, warmup

__all__ = [
    "DECAY_STYLES",
    "WD_INCR_STYLES",
    "WSD_DECAY_STYLES",
    "OptimizerParamScheduler",
    "WeightDecay",
    "megatron_values",
    "megatron_weight_decays",
    "weight_decay_of",
]

# What megatron-core's get_lr / get_wd compute (any other style raises there).
DECAY_STYLES = ("constant", "linear", "cosine", "inverse-square-root", "WSD")
WSD_DECAY_STYLES = ("linear", "cosine", "exponential", "minus_sqrt")
WD_INCR_STYLES = ("constant", "linear", "cosine")

_LIVE_MODULE = "megatron.core.optimizer_param_scheduler"


# -- the live reference: megatron-core's own object ----------------------------------------


def _megatron_class() -> Any:
    """megatron-core's ``OptimizerParamScheduler`` (imported now; its import warns that
    Transformer Engine and Apex are missing, which says nothing about the scheduler)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import importlib

            module = importlib.import_module(_LIVE_MODULE)
    except ImportError as e:
        raise ImportError(
            "the live reference of the megatron. schedules is megatron-core, which cannot be "
            f"imported here ({e}): pip install megatron-core"
        ) from None
    return module.OptimizerParamScheduler


def _live(groups: Sequence[dict[str, float]], **arguments: Any) -> tuple[Any, Any]:
    """A torch optimizer of one param group per entry of ``groups`` (holding its overrides)
    and megatron-core's scheduler on it, built with ``arguments``."""
    import torch

    cls = _megatron_class()
    params = [
        {"params": [torch.zeros(1, dtype=torch.float64, requires_grad=True)], **extra}
        for extra in groups
    ]
    optimizer = torch.optim.SGD(params, lr=1.0)
    return optimizer, cls(optimizer, **arguments)


def _row(value: Any, groups: int) -> list[float]:
    return [float(v) for v in value] if isinstance(value, tuple) else [float(value)] * groups


def _stepped(scheduler: Any, optimizer: Any, steps: np.ndarray, key: str) -> np.ndarray:
    """The groups' ``key`` after each of ``steps`` (any integers; negative: step 0), stepping
    the live object forward with ``step(1)`` as Megatron's training loop does."""
    wanted = np.maximum(np.asarray(steps, dtype=np.int64).reshape(-1), 0)
    last = int(wanted.max(initial=0))
    rows = np.empty((last + 1, len(optimizer.param_groups)))
    rows[0] = [float(g[key]) for g in optimizer.param_groups]
    for k in range(1, last + 1):
        scheduler.step(1)
        rows[k] = [float(g[key]) for g in optimizer.param_groups]
    return rows[wanted]


def megatron_values(schedule: Any, steps: np.ndarray) -> np.ndarray:
    """megatron-core's lrs for an ``OptimizerParamScheduler`` at ``steps``: its live object
    on a torch optimizer (per-group ``max_lr``/``min_lr`` as group overrides), stepped.

    Returns:
      float64, ``(len(steps), groups)``.
    """
    groups = schedule.groups or 1
    maxes, mins = _row(schedule.max_lr, groups), _row(schedule.min_lr, groups)
    overrides = [{"max_lr": a, "min_lr": b} for a, b in zip(maxes, mins, strict=True)]
    optimizer, scheduler = _live(
        overrides,
        init_lr=schedule.init_lr,
        # the class values pass Megatron's checks; each group's own are its overrides
        max_lr=max(*maxes, float(schedule.init_lr)),
        min_lr=0.0,
        lr_warmup_steps=schedule.lr_warmup_steps,
        lr_decay_steps=schedule.lr_decay_steps,
        lr_decay_style=schedule.lr_decay_style,
        start_wd=schedule.start_wd,
        end_wd=schedule.end_wd,
        wd_incr_steps=schedule.weight_decay.wd_incr_steps,
        wd_incr_style=schedule.wd_incr_style,
        wsd_decay_steps=schedule.wsd_decay_steps,
        lr_wsd_decay_style=schedule.lr_wsd_decay_style,
    )
    return _stepped(scheduler, optimizer, steps, "lr")


def megatron_weight_decays(schedule: Any, steps: np.ndarray) -> np.ndarray:
    """megatron-core's weight decays for a ``WeightDecay`` at ``steps``: its live object (any
    valid lr settings) with per-group ``start_wd``/``end_wd``/``wd_mult``, stepped.

    Returns:
      float64, ``(len(steps), groups)``.
    """
    groups = schedule.groups or 1
    starts, ends = _row(schedule.start_wd, groups), _row(schedule.end_wd, groups)
    mults = _row(schedule.wd_mult, groups)
    overrides = [
        {"start_wd": a, "end_wd": b, "wd_mult": m}
        for a, b, m in zip(starts, ends, mults, strict=True)
    ]
    optimizer, scheduler = _live(
        overrides,
        init_lr=0.0,
        max_lr=1.0,
        min_lr=0.0,
        lr_warmup_steps=0,
        lr_decay_steps=1,
        lr_decay_style="linear",
        start_wd=min(starts),
        end_wd=max(ends),
        wd_incr_steps=schedule.wd_incr_steps,
        wd_incr_style=schedule.wd_incr_style,
    )
    return _stepped(scheduler, optimizer, steps, "weight_decay")


@dataclasses.dataclass(frozen=True)
class _MegatronCore(FunctionReference):
    """megatron-core's object, stepped: a function of the step for the parity harness."""

    # Megatron's next step sets every group's lr outright from its num_steps: the lrs the
    # groups hold now are no state lrfun.from_torch continues from.
    continues_held_lrs: ClassVar[bool] = False


MEGATRON = _MegatronCore("megatron-core", megatron_values, package="megatron-core")
MEGATRON_WD = _MegatronCore("megatron-core", megatron_weight_decays, package="megatron-core")


def _is_live(obj: object) -> bool:
    """Whether ``obj`` is megatron-core's scheduler (its module imported already: reading
    never imports megatron)."""
    import sys

    module = sys.modules.get(_LIVE_MODULE)
    return module is not None and type(obj) is getattr(module, "OptimizerParamScheduler", None)


# -- Megatron's formulas, in its order of operations ----------------------------------------


def _at_least(ctx: Ctx, n: Any, k: int) -> Any:
    """``max(n, k)`` for an integer step array and a host integer ``k`` (as an array of the
    step's dtype and device: compiled torch takes no Python bound)."""
    xp = ctx.xp
    return xp.maximum(n, xp.asarray(k, dtype=n.dtype, device=ctx.device))


def _minus(ctx: Ctx, n: Any, k: int) -> Any:
    """``float(n - k)`` for an integer step array: the difference taken in integers first
    (exact), unless ``k`` is past the step's integer range."""
    if k == 0:
        return ctx.float(n)
    if reaches(ctx, n, abs(k)):
        return ctx.float(n - k)
    return ctx.float(n) - float(k)


# Megatron's WSD anneal styles as lrfun._shapes' decay shapes.
_COOLDOWNS = {
    "linear": "linear",
    "cosine": "cosine",
    "exponential": "exponential-halving",
    "minus_sqrt": "1-sqrt",
}


def _steps(name: str, value: Any, minimum: int = 0) -> int:
    return check.integer(name, value, minimum=minimum, whole=True)


@dataclasses.dataclass(frozen=True)
class _Megatron(Schedule, register=False):
    """A schedule of megatron-core's ``OptimizerParamScheduler``."""

    _namespace = "megatron."
    # Megatron writes every group's value outright at every step.
    sets_lrs = True

    @property
    def _initial_lr(self) -> Any:
        return self(0)

    @classmethod
    def _recognise(cls, obj: object) -> Configurable | None:
        return None


@dataclasses.dataclass(frozen=True)
class OptimizerParamScheduler(_Megatron):
    """Megatron-LM's learning rate: megatron-core's ``OptimizerParamScheduler.get_lr`` after
    ``step`` steps.

    With ``n`` the step, ``w = lr_warmup_steps``, ``D = lr_decay_steps``:

    * ``w > 0`` and ``n <= w``: ``init_lr + (max_lr - init_lr) * n / w``;
    * ``constant``: ``max_lr`` (past ``D`` too);
    * ``n > D``: ``min_lr``;
    * ``inverse-square-root``: ``max(min_lr, max_lr * max(w, 1) ** 0.5 / max(n, 1) ** 0.5)``;
    * else ``min_lr + c * (max_lr - min_lr)`` with ``r = (n - w) / (D - w)`` and ``c``:
      ``1 - r`` (linear), ``0.5 * (cos(pi r) + 1)`` (cosine), or for ``WSD`` 1 until
      ``D - wsd_decay_steps``, then with ``q`` the fraction of ``wsd_decay_steps`` gone:
      ``1 - q`` (linear), ``0.5 * (cos(pi q) + 1)`` (cosine), ``2 * 0.5 ** q - 1``
      (exponential), ``1 - sqrt(q)`` (minus_sqrt).

    Args:
      max_lr: the peak lr (a sequence: one per param group, Megatron's group ``max_lr``
        override).
      lr_decay_steps: ``D``, a positive integer above ``lr_warmup_steps``.
      lr_decay_style: one of ``DECAY_STYLES``.
      min_lr: the floor (per group: Megatron's group ``min_lr`` override), >= 0.
      init_lr: where the warmup starts (Megatron's ``--lr-warmup-init``), >= 0; every
        group warms from it to its own ``max_lr`` (down, where that lies below it).
      lr_warmup_steps: ``w``, an integer in ``[0, D)``.
      wsd_decay_steps: the anneal's length for ``WSD`` (required there), an integer >= 0.
      lr_wsd_decay_style: the anneal's shape for ``WSD``, one of ``WSD_DECAY_STYLES``.
      start_wd: Megatron's weight decay at step 0 (the lr does not depend on the weight
        decay: the ``weight_decay`` property gives that schedule).
      end_wd: its weight decay from ``wd_incr_steps`` on.
      wd_incr_steps: the increment's length (None: ``lr_decay_steps``).
      wd_incr_style: ``"constant"``, ``"linear"`` or ``"cosine"``.

    Returns (called): the lr, per group where ``max_lr`` or ``min_lr`` is a sequence.

    >>> s = OptimizerParamScheduler(1.0, 20, "WSD", min_lr=0.1, lr_warmup_steps=5,
    ...                             wsd_decay_steps=5, lr_wsd_decay_style="linear")
    >>> s(0), s(5), s(15), round(s(18), 12), s(21)
    (0.0, 1.0, 1.0, 0.46, 0.1)
    """

    max_lr: float | Sequence[float]
    lr_decay_steps: int
    lr_decay_style: str = "linear"
    min_lr: float | Sequence[float] = 0.0
    init_lr: float = 0.0
    lr_warmup_steps: int = 0
    wsd_decay_steps: int | None = None
    lr_wsd_decay_style: str = "exponential"
    start_wd: float = 0.01
    end_wd: float = 0.01
    wd_incr_steps: int | None = None
    wd_incr_style: str = "constant"

    _reference = MEGATRON
    _hyperparameters = ("max_lr", "min_lr", "init_lr", "start_wd", "end_wd")
    _lr_arguments = ("max_lr", "min_lr", "init_lr")
    _gallery = (
        "megatron.OptimizerParamScheduler(3e-4, 1000, 'WSD', min_lr=3e-5, "
        "lr_warmup_steps=100, wsd_decay_steps=200, lr_wsd_decay_style='minus_sqrt')",
        1100,
    )

    def __post_init__(self) -> None:
        max_lr = check.lr_values("max_lr", self.max_lr)
        min_lr = check.lr_values("min_lr", self.min_lr)
        init_lr = check.real("init_lr", self.init_lr, low=0.0)
        # the weight decay of every group (WeightDecay takes per-group values)
        start_wd = check.real("start_wd", self.start_wd, low=0.0)
        end_wd = check.real("end_wd", self.end_wd, low=0.0)
        decay = _steps("lr_decay_steps", self.lr_decay_steps, minimum=1)
        warmup = _steps("lr_warmup_steps", self.lr_warmup_steps)
        if warmup >= decay:
            raise ValueError(
                f"lr_warmup_steps must be below lr_decay_steps={decay} (Megatron asserts it), "
                f"got {warmup}"
            )
        style = check.choice("lr_decay_style", self.lr_decay_style, DECAY_STYLES)
        wsd_style = check.choice("lr_wsd_decay_style", self.lr_wsd_decay_style, WSD_DECAY_STYLES)
        wsd = self.wsd_decay_steps
        if wsd is not None:
            wsd = _steps("wsd_decay_steps", wsd)
        elif style == "WSD":
            raise ValueError(
                "wsd_decay_steps must be an integer >= 0 for lr_decay_style='WSD', got None"
            )
        # Megatron asserts min_lr <= max_lr and init_lr <= max_lr of its class values only:
        # a group's max_lr/min_lr overrides are not checked, and it computes warmups that fall
        # and decays that rise there. These are each group's own values, so any order is one
        # Megatron computes.
        groups = check.group_count(max_lr=max_lr, min_lr=min_lr)
        weight = WeightDecay(
            start_wd,
            end_wd,
            decay if self.wd_incr_steps is None else self.wd_incr_steps,
            self.wd_incr_style,
        )
        self._set(
            max_lr=max_lr,
            min_lr=min_lr,
            init_lr=init_lr,
            lr_decay_steps=decay,
            lr_warmup_steps=warmup,
            lr_decay_style=style,
            wsd_decay_steps=wsd,
            lr_wsd_decay_style=wsd_style,
            start_wd=weight.start_wd,
            end_wd=weight.end_wd,
            # None (lr_decay_steps) is kept as given: configs and specs stay short
            wd_incr_steps=None if self.wd_incr_steps is None else weight.wd_incr_steps,
            wd_incr_style=weight.wd_incr_style,
            _groups=groups,
        )

    @property
    def weight_decay(self) -> WeightDecay:
        """The weight decay Megatron writes beside this lr (every group's, where no group
        overrides it): ``WeightDecay(start_wd, end_wd, wd_incr_steps, wd_incr_style)``."""
        steps = self.lr_decay_steps if self.wd_incr_steps is None else self.wd_incr_steps
        return WeightDecay(self.start_wd, self.end_wd, steps, self.wd_incr_style)

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        xp = ctx.xp
        w, d, style = self.lr_warmup_steps, self.lr_decay_steps, self.lr_decay_style
        # Past D every count gives the same lr: counting stops at D + 1, so the differences
        # below stay exact integers.
        n = ctx.minimum(step, d + 1)
        peak, floor = ctx.const(self.max_lr), ctx.const(self.min_lr)
        init = ctx.const(self.init_lr)
        if w > 0 and not reaches(ctx, n, w + 1):  # these steps (int32) never leave the warmup
            return init + (peak - init) * ctx.float(n) / float(w)
        if style == "constant":
            after = peak + ctx.array(0.0) * ctx.float(n)  # shape of the steps
        elif style == "inverse-square-root":
            lr = peak * float(max(w, 1)) ** 0.5 / xp.sqrt(ctx.float(_at_least(ctx, n, 1)))
            after = ctx.where(n > d, floor, xp.maximum(ctx.array(floor), lr))
        else:
            # (the warmup's counts are clipped to w: the coefficient there is never used,
            # and a sqrt of a negative ratio would be NaN)
            ratio = _minus(ctx, _at_least(ctx, n, w), w) / float(d - w)
            if style in ("linear", "cosine"):
                coeff = decay(ctx, style, ctx.where(ratio < 1.0, ratio, 1.0))
            else:  # WSD
                coeff = self._wsd(ctx, n)
            after = ctx.where(n > d, floor, floor + coeff * (peak - floor))
        if w == 0:
            return after
        warm = init + (peak - init) * ctx.float(ctx.minimum(n, w)) / float(w)
        return ctx.where(n <= w, warm, after)

    def _wsd(self, ctx: Ctx, n: Any) -> Any:
        """The WSD coefficient: 1 until the anneal starts at ``D - wsd_decay_steps``."""
        wsd = self.wsd_decay_steps
        assert wsd is not None  # checked in __post_init__
        start = self.lr_decay_steps - wsd
        if wsd == 0:  # no anneal: every count up to D is stable (past it, min_lr)
            return ctx.array(1.0) + ctx.array(0.0) * ctx.float(n)
        # (clamped to [0, 1] where the other branch is taken: the shapes take progress there)
        gone = _minus(ctx, n, start) / float(wsd)
        gone = ctx.where(gone > 0.0, ctx.where(gone < 1.0, gone, 1.0), 0.0)
        shape = _COOLDOWNS[self.lr_wsd_decay_style]
        return ctx.where(n <= start, 1.0, decay(ctx, shape, gone))

    def _course_changes(self, n: int) -> list[float]:
        points = {self.lr_warmup_steps, self.lr_decay_steps}
        if self.lr_decay_style == "WSD" and self.wsd_decay_steps is not None:
            points.add(self.lr_decay_steps - self.wsd_decay_steps)
        return sorted(float(p) for p in points if 0 < p < n)

    # -- a live object ------------------------------------------------------------------

    @classmethod
    def _recognise(cls, obj: object) -> Configurable | None:
        if not _is_live(obj):
            return None
        return cls(**cls._from_torch(obj))

    @classmethod
    def _from_torch(cls, scheduler: Any) -> dict[str, Any]:
        """The arguments of a live megatron-core scheduler, its groups' overrides per group.

        Raises:
          ValueError: a state no schedule of this class describes, named (a negative warmup,
            an unknown decay style, WSD with an unknown anneal shape).
        """
        groups = scheduler.optimizer.param_groups
        maxes = [float(g.get("max_lr", scheduler.max_lr)) for g in groups]
        mins = [float(g.get("min_lr", scheduler.min_lr)) for g in groups]
        style = scheduler.lr_decay_style
        wsd_style = scheduler.lr_wsd_decay_style
        if style != "WSD" and wsd_style not in WSD_DECAY_STYLES:
            wsd_style = "exponential"  # never read outside WSD
        arguments = {
            "max_lr": per_group(maxes),
            "lr_decay_steps": scheduler.lr_decay_steps,
            "lr_decay_style": style,
            "min_lr": per_group(mins),
            "init_lr": scheduler.init_lr,
            "lr_warmup_steps": scheduler.lr_warmup_steps,
            "wsd_decay_steps": scheduler.wsd_decay_steps,
            "lr_wsd_decay_style": wsd_style,
            "start_wd": scheduler.start_wd,
            "end_wd": scheduler.end_wd,
            "wd_incr_steps": scheduler.wd_incr_steps,
            "wd_incr_style": scheduler.wd_incr_style,
        }
        try:
            cls(**arguments)
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"from_torch cannot express megatron-core's OptimizerParamScheduler: {e}"
            ) from None
        return arguments

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        count = st.one_of(st.none(), st.integers(2, 3)) if groups is None else groups

        @st.composite
        def config(draw: st.DrawFn) -> dict[str, Any]:
            width = draw(count)
            d = draw(st.one_of(st.sampled_from([1, 2, 3, 10]), st.integers(1, 400)))
            w = draw(st.one_of(st.sampled_from([0, d - 1]), st.integers(0, d - 1)))
            style = draw(st.sampled_from(DECAY_STYLES))

            lrs = _lr_values
            if width is None:
                peak = draw(lrs())
                floor = draw(st.sampled_from([0.0, 1.0, 0.1, 0.5]).map(lambda f: f * peak))
                max_lr: Any = peak
                min_lr: Any = floor
            else:
                max_lr = draw(st.lists(lrs(), min_size=width, max_size=width))
                # per group Megatron does not order them: a floor above the peak too
                min_lr = draw(st.lists(lrs(), min_size=width, max_size=width))
                peak = max(max_lr)
            init = draw(st.sampled_from([0.0, 1.0, 0.5]).map(lambda f: f * peak))
            wsd = draw(st.one_of(st.sampled_from([0, 1, d - w, d]), st.integers(0, d + 5)))
            out: dict[str, Any] = {
                "name": cls._name,
                "max_lr": max_lr,
                "lr_decay_steps": d,
                "lr_decay_style": style,
                "min_lr": min_lr,
                "init_lr": init,
                "lr_warmup_steps": w,
                "wsd_decay_steps": wsd if style == "WSD" or draw(st.booleans()) else None,
                "lr_wsd_decay_style": draw(st.sampled_from(WSD_DECAY_STYLES)),
            }
            return out

        return config()


def _lr_values() -> Any:
    from hypothesis import strategies as st

    return st.one_of(
        st.sampled_from([0.0, 1.0, 3e-4, 0.1]), st.floats(-6.0, 1.0).map(lambda e: 10.0**e)
    )


@dataclasses.dataclass(frozen=True)
class WeightDecay(_Megatron):
    """Megatron-LM's weight decay: megatron-core's ``get_wd(group) * wd_mult`` after ``step``
    steps (a schedule of weight decays, not of lrs: write its values into the groups'
    ``weight_decay``).

    With ``n`` the step and ``r = n / wd_incr_steps``: ``end_wd`` past ``wd_incr_steps`` and
    for ``constant``; else ``start_wd + c * (end_wd - start_wd)`` with ``c = r`` (linear) or
    ``0.5 * (cos(pi * (1 - r)) + 1)`` (cosine); times ``wd_mult``.

    Args:
      start_wd: the weight decay at step 0 (a sequence: one per param group, Megatron's group
        override), >= 0.
      end_wd: the weight decay from ``wd_incr_steps`` on (per group too), >= ``start_wd``.
      wd_incr_steps: an integer >= 0 (> 0 unless ``constant``).
      wd_incr_style: one of ``WD_INCR_STYLES`` (``constant`` needs ``start_wd == end_wd``).
      wd_mult: each group's multiplier (Megatron's group ``wd_mult``), >= 0.

    >>> wd = WeightDecay(0.0, 0.1, 10, "cosine")
    >>> wd(0), round(wd(5), 12), wd(10)
    (0.0, 0.05, 0.1)
    """

    start_wd: float | Sequence[float]
    end_wd: float | Sequence[float]
    wd_incr_steps: int
    wd_incr_style: str = "constant"
    wd_mult: float | Sequence[float] = 1.0

    _reference = MEGATRON_WD
    _hyperparameters = ("start_wd", "end_wd", "wd_mult")
    _lr_arguments = ("start_wd", "end_wd")
    _gallery = ("megatron.WeightDecay(0.01, 0.1, 800, 'cosine')", 1000)

    def __post_init__(self) -> None:
        start = check.lr_values("start_wd", self.start_wd)
        end = check.lr_values("end_wd", self.end_wd)
        mult = check.lr_values("wd_mult", self.wd_mult)
        style = check.choice("wd_incr_style", self.wd_incr_style, WD_INCR_STYLES)
        steps = _steps("wd_incr_steps", self.wd_incr_steps, minimum=0 if style == "constant" else 1)
        groups = check.group_count(start_wd=start, end_wd=end, wd_mult=mult)
        width = groups or 1
        pairs = zip(_row_any(start, width), _row_any(end, width), strict=True)
        for i, (a, b) in enumerate(pairs):
            if check._traced(a) or check._traced(b):
                continue
            where = "" if groups is None else f"[{i}]"
            if style == "constant" and float(a) != float(b):
                raise ValueError(
                    f"end_wd{where} must equal start_wd{where}={float(a)} for "
                    f"wd_incr_style='constant' (Megatron asserts it), got {float(b)}"
                )
            if float(b) < float(a):
                raise ValueError(
                    f"end_wd{where} must be >= start_wd{where}={float(a)} (the weight decay "
                    f"increases), got {float(b)}"
                )
        self._set(
            start_wd=start,
            end_wd=end,
            wd_mult=mult,
            wd_incr_style=style,
            wd_incr_steps=steps,
            _groups=groups,
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        start, end, mult = ctx.const(self.start_wd), ctx.const(self.end_wd), ctx.const(self.wd_mult)
        t = self.wd_incr_steps
        n = ctx.minimum(step, t + 1)
        if self.wd_incr_style == "constant":
            return (end + ctx.array(0.0) * ctx.float(n)) * mult
        ratio = ctx.float(ctx.minimum(n, t)) / float(t)
        # linear: r; cosine: 0.5 * (cos(pi (1 - r)) + 1), the cosine warmup's fraction
        coeff = warmup(ctx, self.wd_incr_style, ratio)
        return ctx.where(n > t, end, start + coeff * (end - start)) * mult

    def _course_changes(self, n: int) -> list[float]:
        return [float(self.wd_incr_steps)] if 0 < self.wd_incr_steps < n else []

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        from hypothesis import strategies as st

        count = st.one_of(st.none(), st.integers(2, 3)) if groups is None else groups

        @st.composite
        def config(draw: st.DrawFn) -> dict[str, Any]:
            width = draw(count)
            style = draw(st.sampled_from(WD_INCR_STYLES))
            low = 0 if style == "constant" else 1
            steps = draw(st.one_of(st.sampled_from([low, 1, 2]), st.integers(low, 400)))

            def pair() -> Any:
                start = draw(st.one_of(st.sampled_from([0.0, 0.01, 0.1]), st.floats(0.0, 1.0)))
                gap = 0.0 if style == "constant" else draw(st.sampled_from([0.0, 0.1, 1.0]))
                mult = draw(st.sampled_from([1.0, 0.0, 0.5, 2.0]))
                return start, start + gap, mult

            rows = [pair() for _ in range(width or 1)]
            pick = (lambda i: rows[0][i]) if width is None else (lambda i: [r[i] for r in rows])
            return {
                "name": cls._name,
                "start_wd": pick(0),
                "end_wd": pick(1),
                "wd_incr_steps": steps,
                "wd_incr_style": style,
                "wd_mult": pick(2),
            }

        return config()


def _row_any(value: Any, width: int) -> list[Any]:
    return list(value) if isinstance(value, tuple) else [value] * width


def weight_decay_of(scheduler: Any) -> WeightDecay:
    """The weight decay a live megatron-core ``OptimizerParamScheduler`` writes, each
    group's ``start_wd``/``end_wd``/``wd_mult`` overrides included (``lrfun.from_torch`` of
    the same object gives its lr).

    Megatron's ``load_state_dict`` steps to the loaded ``num_steps`` *before* it loads the
    weight-decay settings, so right after a load the groups hold the decay of the old
    settings at that step; from the next step on they hold this schedule's.

    Raises:
      TypeError: ``scheduler`` is not megatron-core's ``OptimizerParamScheduler``.
      ValueError: a state ``WeightDecay`` does not describe, named.
    """
    if not _is_live(scheduler):
        raise TypeError(
            "weight_decay_of reads megatron-core's OptimizerParamScheduler, got "
            f"{type(scheduler).__qualname__}"
        )
    groups = scheduler.optimizer.param_groups
    try:
        return WeightDecay(
            per_group([g.get("start_wd", scheduler.start_wd) for g in groups]),
            per_group([g.get("end_wd", scheduler.end_wd) for g in groups]),
            scheduler.wd_incr_steps,
            scheduler.wd_incr_style,
            per_group([g.get("wd_mult", 1.0) for g in groups]),
        )
    except (TypeError, ValueError) as e:
        raise ValueError(f"weight_decay_of cannot express this scheduler: {e}") from None
