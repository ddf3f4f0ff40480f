"""What every benchmark shares: the row it reports and interleaved best-of timing."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Row", "interleaved", "meets"]


@dataclass(frozen=True)
class Row:
    """One measured figure.

    Args:
      benchmark: the comparison it belongs to (``"graph"``, ``"adapter"``, ...).
      case: what was measured, e.g. ``"MultiStepLR, 1,000 milestones"``.
      metric: what ``value`` is, e.g. ``"compile speed-up vs optax (x)"``.
      value: the figure.
      target: the issue's target as text (``">= 20"``, ``"<= 1.05"``, ``"== 54"``), or ``""``.
      detail: the raw measurements behind the figure (seconds, counts, bytes).
    """

    benchmark: str
    case: str
    metric: str
    value: float
    target: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        """Whether ``value`` meets ``target`` (None without a target)."""
        return meets(self.value, self.target) if self.target else None


def meets(value: float, target: str) -> bool:
    """``value`` against a target such as ``">= 20"``, ``"<= 1.05"`` or ``"== 54"``."""
    op, _, bound = target.partition(" ")
    limit = float(bound)
    return {">=": value >= limit, "<=": value <= limit, "==": value == limit}[op]


def interleaved(
    fns: Mapping[str, Callable[[], Any]], *, number: int, repeat: int
) -> dict[str, float]:
    """Seconds per call of each function: the best of ``repeat`` rounds of ``number`` calls,
    the functions taking turns within every round so machine noise falls on all of them."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / number)
    return best
