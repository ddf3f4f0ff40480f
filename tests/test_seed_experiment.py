"""The seed experiment (examples/seed_experiment.py): three ways, one set of lrs and weights."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from parity import assert_close

_PATH = Path(__file__).resolve().parents[1] / "examples" / "seed_experiment.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("seed_experiment", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


experiment = _load()


@pytest.fixture(scope="module")
def regression() -> tuple[np.ndarray, np.ndarray]:
    return experiment.data(0)


@pytest.mark.parametrize("run", experiment.RUNS)
def test_three_ways_agree(run: str, regression: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = regression
    native = experiment.train(run, "torch", x, y)
    adapter = experiment.train(run, "lrfun.torch", x, y)
    jax_run = experiment.train(run, "lrfun.optax", x, y)
    # The lr every epoch's update used: torch's native scheduler is the reference.
    assert_close(adapter.lrs, native.lrs, dtype="float64")
    assert_close(jax_run.lrs, native.lrs, dtype="float32")
    assert_close([adapter.final_lr], [native.final_lr], dtype="float64", scale=experiment.LR)
    assert_close([jax_run.final_lr], [native.final_lr], dtype="float32", scale=experiment.LR)
    # float32 training: the torch ways share every kernel; JAX sums in another order.
    np.testing.assert_allclose(adapter.weight, native.weight, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(adapter.bias, native.bias, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(jax_run.weight, native.weight, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(jax_run.bias, native.bias, rtol=1e-6, atol=1e-6)
    # The fit itself: the weights are w_true = [0, 2, 4, 6, 8] up to the noise.
    np.testing.assert_allclose(native.weight, [0, 2, 4, 6, 8], atol=0.05)


def test_table_lists_every_run_and_way(regression: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = regression
    result = experiment.train("StepLR", "torch", x, y)
    text = experiment.table(
        {(run, way): result for run in experiment.RUNS for way in experiment.WAYS}
    )
    rows = text.splitlines()[2:]
    assert len(rows) == len(experiment.RUNS) * len(experiment.WAYS)
    assert all(row.count("|") == 7 for row in rows)
