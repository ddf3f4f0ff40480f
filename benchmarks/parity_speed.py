"""The parity suite's own cost: Hypothesis-drawn examples checked per second.

Each example is what ``tests/test_parity.py`` does for one drawn config: torch's native run
and every backend's trajectory compared with it (``parity.report.check``), over the same
mixture of horizons.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks._common import Row

__all__ = ["run"]


def _timings(name: str, examples: int, steps: Any) -> list[float]:
    """Seconds per drawn example of ``name``."""
    from hypothesis import given, settings

    from parity.report import check
    from parity.strategies import configs, horizon

    timings: list[float] = []

    @settings(max_examples=examples, database=None, deadline=None)
    @given(config=configs(name), n=steps)
    def measure(config: dict[str, Any], n: int) -> None:
        start = time.perf_counter()
        rows = check(config, horizon(config, n))
        timings.append(time.perf_counter() - start)
        assert all(r.passed for r in rows), rows

    measure()
    return timings


def run(tiny: bool = False) -> list[Row]:
    """Examples per second, per schedule."""
    from hypothesis import strategies as st

    from parity.strategies import NAMES

    examples = 1 if tiny else 10
    names = NAMES[2:3] if tiny else NAMES
    if tiny:
        steps = st.integers(0, 20)
    else:  # the mixture tests/test_parity.py draws
        steps = st.one_of(st.integers(0, 80), st.integers(80, 600), st.integers(600, 3000))
    rows = []
    for name in names:
        timings = _timings(name, examples, steps)
        detail = {"examples": len(timings), "seconds": sum(timings)}
        rows.append(
            Row(
                "parity_speed", name, "examples per second", len(timings) / sum(timings), "", detail
            )
        )
    return rows
