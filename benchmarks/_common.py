"""What every benchmark shares: the row it reports and paired, interleaved timing.

Contenders are timed in rounds: in every round each contender runs once (``number`` calls),
one right after the other, the order rotating from round to round (A, B; B, A; A, B ...), so
a burst of load falls on neighbours in time. A figure is the median over the rounds of the
ratio within each round (a paired ratio), with the interquartile range of those ratios as
its spread: a ratio of two independent minima, or of one sample against many, moves with the
machine's load.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Ratio", "Row", "Timings", "meets", "paired", "rounds", "set_rounds"]

# ``python -m benchmarks --rounds N``: every benchmark's rounds (None: each its own default).
_ROUNDS: int | None = None


def set_rounds(count: int | None) -> None:
    """Runs every benchmark with ``count`` rounds (None: each benchmark's default)."""
    global _ROUNDS
    _ROUNDS = count


def rounds(default: int) -> int:
    """The rounds a benchmark runs: ``default``, unless ``--rounds`` said otherwise."""
    return default if _ROUNDS is None else _ROUNDS


@dataclass(frozen=True)
class Ratio:
    """The median of paired ratios, their quartiles (the interquartile range is the spread)
    and how many rounds they come from."""

    median: float
    q1: float
    q3: float
    rounds: int

    @classmethod
    def of(cls, ratios: Sequence[float]) -> Ratio:
        """The summary of per-round ratios."""
        values = sorted(ratios)
        if len(values) == 1:
            return cls(values[0], values[0], values[0], 1)
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return cls(statistics.median(values), q1, q3, len(values))


@dataclass(frozen=True)
class Timings:
    """Seconds per call of each contender, one entry per round (entry ``i`` of every
    contender was measured in the same round)."""

    seconds: Mapping[str, list[float]]

    def median(self, name: str) -> float:
        """The contender's median seconds per call."""
        return statistics.median(self.seconds[name])

    def ratio(self, numerator: str, denominator: str, scale: float = 1.0) -> Ratio:
        """``scale * numerator / denominator``, paired round by round."""
        pairs = zip(self.seconds[numerator], self.seconds[denominator], strict=True)
        return Ratio.of([scale * a / b for a, b in pairs])

    def detail(self, unit: float = 1.0, suffix: str = "_s") -> dict[str, Any]:
        """Each contender's median (times ``unit``) and every round's figure, for a row."""
        out: dict[str, Any] = {f"{n}{suffix}": self.median(n) * unit for n in self.seconds}
        out["rounds" + suffix] = {n: [t * unit for t in v] for n, v in self.seconds.items()}
        return out


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
    # The interquartile range of the paired ratios ``value`` is the median of, and how many
    # rounds they come from (None: a count, or a single measurement).
    spread: tuple[float, float] | None = None
    rounds: int | None = None

    @classmethod
    def paired(
        cls,
        benchmark: str,
        case: str,
        metric: str,
        ratio: Ratio,
        target: str = "",
        detail: Mapping[str, Any] | None = None,
    ) -> Row:
        """A row whose figure is a paired ratio: its median, with its spread."""
        return cls(
            benchmark,
            case,
            metric,
            ratio.median,
            target,
            dict(detail or {}),
            (ratio.q1, ratio.q3),
            ratio.rounds,
        )

    @property
    def met(self) -> bool | None:
        """Whether ``value`` meets ``target`` (None without a target)."""
        return meets(self.value, self.target) if self.target else None


def meets(value: float, target: str) -> bool:
    """``value`` against a target such as ``">= 20"``, ``"<= 1.05"`` or ``"== 54"``."""
    op, _, bound = target.partition(" ")
    limit = float(bound)
    return {">=": value >= limit, "<=": value <= limit, "==": value == limit}[op]


def paired(
    fns: Mapping[str, Callable[[], Any]],
    *,
    number: int | Mapping[str, int] = 1,
    repeat: int,
) -> Timings:
    """Seconds per call of each function in each of ``repeat`` rounds (``rounds(repeat)``
    with ``--rounds``): in every round each function runs ``number`` times (a count per
    function where they differ), the functions taking turns in an order that rotates from
    round to round."""
    names = list(fns)
    counts = {n: number if isinstance(number, int) else number[n] for n in names}
    seconds: dict[str, list[float]] = {n: [] for n in names}
    for i in range(rounds(repeat)):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            fn = fns[name]
            gc.collect()
            start = time.perf_counter()
            for _ in range(counts[name]):
                fn()
            seconds[name].append((time.perf_counter() - start) / counts[name])
    return Timings(seconds)
