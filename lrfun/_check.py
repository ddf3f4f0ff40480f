"""One evaluation path for a schedule or a metric-driven machine, and its check against the
reference its class names: what plots draw, what ``lrfun show`` prints and what
``lrfun plot --torch`` judges.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from lrfun._compare import Comparison, compare
from lrfun._reference import Trajectory
from lrfun._schedule import Configurable, Schedule
from lrfun._spec import to_spec
from lrfun._trajectory import torch_trajectory
from lrfun._validate import _shown

__all__ = ["Check", "Curve", "check", "evaluate", "rows"]


@dataclasses.dataclass(frozen=True, eq=False)
class Curve:
    """A schedule's values at steps ``0..n-1`` as float64 ``(n, groups)`` arrays.

    Args:
      steps: the steps ``0..n-1``.
      lr: the lr per step and group.
      momentum: the momentum / beta1 where the schedule cycles it, else None.
      metric: the metrics a machine was fed (update ``k`` took ``metric[k - 1]``), else None.
    """

    steps: np.ndarray
    lr: np.ndarray
    momentum: np.ndarray | None = None
    metric: np.ndarray | None = None


def rows(s: Configurable, steps: int | None, metrics: Any) -> int:
    """How many steps ``evaluate`` gives: ``steps``, or a machine's updates (cut to
    ``steps``)."""
    if s._metric_driven:
        count = len(np.asarray(metrics).reshape(-1)) + 1
        return count if steps is None else min(count, steps)
    if steps is None:
        raise ValueError(f"steps is required to evaluate {s._name}")
    return steps


def evaluate(s: Configurable, steps: int | None, metrics: Any = None) -> Curve:
    """A schedule at steps ``0..steps-1``, or a machine fed ``metrics`` (cut to ``steps``).

    Raises:
      ValueError: steps not a positive integer; a machine without metrics, a schedule
        without steps.
    """
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be a positive integer, got {_shown(steps)}")
    if s._metric_driven:
        if metrics is None:
            raise ValueError(f"a {type(s).__name__} is driven by metrics: pass metrics=[...]")
        metric = np.asarray(metrics, dtype=np.float64).reshape(-1)
        if steps is not None:
            metric = metric[: steps - 1]
        lr = s.trajectory(metric)  # type: ignore[attr-defined]
        n = len(metric) + 1
        return Curve(np.arange(n), _columns(lr, n), metric=metric)
    if steps is None:
        raise ValueError(f"steps is required to evaluate {type(s).__name__}")
    assert isinstance(s, Schedule)
    ks = np.arange(steps)
    with np.errstate(over="ignore", invalid="ignore"):  # callers judge what overflowed
        momentum = _columns(s.momentum(ks), steps) if s.cycles_momentum else None
        lr = _columns(s(ks), steps)
    return Curve(ks, lr, momentum=momentum)


def _columns(values: Any, n: int) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(n, -1)


@dataclasses.dataclass(frozen=True)
class Check:
    """A schedule against its reference, run live: what ``lrfun.plot.plot`` draws with
    ``torch=True`` and what ``lrfun plot --torch`` judges.

    Args:
      reference: the reference's trajectory (cut where it stops stepping: OneCycleLR); its
        ``reference`` names who ran, with the version.
      lr: our lrs against it, under the float64 row of the tolerance policy.
      momentum: our momentum against the reference's, where both cycle it; else None.
    """

    reference: Trajectory
    lr: Comparison
    momentum: Comparison | None

    @property
    def passed(self) -> bool:
        """Whether every step and group is within tolerance (lr and momentum)."""
        return self.lr.passed and (self.momentum is None or self.momentum.passed)

    @property
    def fractions(self) -> np.ndarray:
        """``|ours - reference| / allowed`` per step, the worst over groups, lr and momentum."""
        if self.momentum is None:
            return self.lr.fractions
        worst: np.ndarray = np.maximum(self.lr.fractions, self.momentum.fractions)
        return worst

    @property
    def worst_fraction(self) -> float:
        """The largest of ``fractions`` (``<= 1`` is a pass)."""
        return max(self.lr.max_fraction, self.momentum.max_fraction if self.momentum else 0.0)


def _described(s: Configurable) -> str:
    try:
        return to_spec(s)
    except (TypeError, ValueError):  # a Python callable, or a float no literal spells
        return repr(s)


def check(s: Configurable, curve: Curve) -> Check:
    """``s``'s values (``curve``, from ``evaluate``) against its reference (CPU, float
    lrs).

    Raises:
      ValueError: the reference itself fails on these arguments (torch's own overflow, say).
    """
    try:
        if curve.metric is not None:
            ref = torch_trajectory(s, len(curve.metric), metrics=list(curve.metric))
        else:
            last = len(curve.steps) - 1
            limit = s._torch_steps()
            ref = torch_trajectory(s, last if limit is None else min(last, limit))
    except (ArithmeticError, ValueError, RuntimeError) as e:
        reference = s._reference.name if s._reference is not None else "reference"
        raise ValueError(
            f"{reference}'s {type(s).__name__} fails on {_described(s):.2000}: "
            f"{type(e).__name__}: {e}"
        ) from None
    n = ref.lr.shape[0]
    lr = compare(curve.lr[:n], ref.lr, dtype="float64", scale=s._lr_scale())
    momentum = None
    if ref.momentum is not None and curve.momentum is not None:
        momentum = compare(curve.momentum[:n], ref.momentum, dtype="float64", what="momentum")
    return Check(ref, lr, momentum)
