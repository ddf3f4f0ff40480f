"""The benchmarks at smoke-test size: they run, and what they compare is equivalent.

Timings are never asserted here (machines are shared and noisy); ``python -m benchmarks``
measures them as ratios.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("optax")

from benchmarks import (
    adapter,
    compiled_loop,
    graph,
    parity_speed,
    simulation,
    sweep,
    train_step,
    trajectory,
)


def _finite(rows: list) -> None:
    assert rows
    assert all(math.isfinite(r.value) for r in rows), rows


def test_graph() -> None:
    rows = graph.run(tiny=True)
    _finite(rows)
    assert all(r.met for r in rows if r.metric == "lrfun lowered lines")
    for count in graph.TINY_COUNTS:
        assert graph.same_values(*graph.multistep_pair(count), steps=10 * count + 50)
    assert graph.same_values(*graph.sequential_pair(6), steps=80)


def test_train_step() -> None:
    _finite(train_step.run(tiny=True))
    for name, (ours, theirs, equivalent) in train_step.pairs().items():
        if equivalent:
            assert graph.same_values(ours, theirs, steps=1001), name


@pytest.mark.parametrize("name", list(adapter.CONFIGS))
def test_adapter_pairs_agree(name: str) -> None:
    assert adapter.agree(name, steps=50)


def test_adapter() -> None:
    _finite(adapter.run(tiny=True))


def test_trajectory() -> None:
    rows = trajectory.run(tiny=True)
    _finite(rows)
    assert all(r.value > 0 for r in rows)


def test_compiled_loop() -> None:
    import lrfun

    rows = compiled_loop.run(tiny=True)
    _finite(rows)
    expected = lrfun.CosineAnnealingLR(0.1, T_max=compiled_loop.T_MAX)(np.arange(6))
    for row in rows:
        np.testing.assert_allclose(row.detail["lrs"], expected, rtol=1e-6, err_msg=row.case)
    assert all(r.met for r in rows if r.target)


def test_parity_speed() -> None:
    rows = parity_speed.run(tiny=True)
    _finite(rows)
    assert all(r.detail["examples"] == 1 for r in rows)


def test_sweep() -> None:
    rows = sweep.run(tiny=True)
    _finite(rows)
    assert all(r.met for r in rows if r.target)


def test_simulation() -> None:
    _finite(simulation.run(tiny=True))
