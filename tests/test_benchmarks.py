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
    scalar,
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


@pytest.mark.parametrize("name", list(scalar.CASES))
def test_scalar_pairs_agree(name: str) -> None:
    assert scalar.agree(name)


def test_scalar() -> None:
    _finite(scalar.run(tiny=True))


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


def test_paired_rounds_take_turns_in_a_rotating_order() -> None:
    from benchmarks._common import paired

    calls: list[str] = []
    timings = paired(
        {name: (lambda name=name: calls.append(name)) for name in "abc"},
        number={"a": 1, "b": 2, "c": 1},
        repeat=4,
    )
    assert calls == list("abbc" + "bbca" + "cabb" + "abbc")
    assert all(len(v) == 4 for v in timings.seconds.values())


def test_paired_ratio_is_the_median_of_the_rounds_ratios() -> None:
    from benchmarks._common import Ratio, Row, Timings

    timings = Timings({"torch": [4.0, 9.0, 2.0, 8.0, 6.0], "lrfun": [1.0, 1.0, 1.0, 2.0, 3.0]})
    ratio = timings.ratio("torch", "lrfun", scale=10.0)
    assert ratio == Ratio(median=40.0, q1=20.0, q3=40.0, rounds=5)
    row = Row.paired("b", "c", "m", ratio, ">= 30")
    assert (row.value, row.spread, row.rounds, row.met) == (40.0, (20.0, 40.0), 5, True)
    assert Ratio.of([3.0]) == Ratio(3.0, 3.0, 3.0, 1)


def test_timed_rows_carry_their_spread() -> None:
    rows = adapter.run(tiny=True)
    assert all(r.spread is not None and r.rounds == 1 for r in rows)


def test_the_docs_table_is_generated_from_the_results() -> None:
    import json
    from pathlib import Path

    from benchmarks.__main__ import DOCS, markdown, with_table

    payload = json.loads(Path("benchmarks/results.json").read_text())
    page = DOCS.read_text()
    assert with_table(page, payload) == page, "run python -m benchmarks --table"
    assert "2-core CPU machine" in markdown(payload | {"machine": payload["machine"] | {"cpus": 2}})
