"""The types lrfun promises users: checked statically and held to what the runtime returns.

``tests/typing/usage.py`` uses the public API as users do, with ``assert_type`` on every
result; mypy checks it in strict mode here. The property tests below check that the values
behind those types are what the types say, for every schedule the parity strategies draw:
a Python step gives a Python float (a NumPy array of one lr per group where the schedule has
several param groups: the one case the step's type cannot tell), NumPy steps give floating
NumPy arrays, JAX and torch steps give arrays of their own kind.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lrfun
from parity.strategies import any_config, compositions, horizon

ROOT = Path(__file__).resolve().parents[1]
USAGE = ROOT / "tests" / "typing" / "usage.py"


_needs_mypy = pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None,
    reason="mypy is not installed (pip install 'lrfun[test]')",
)


def _mypy_strict(*args: str) -> None:
    """Runs mypy in strict mode with the project's config (from the repository root) and
    asserts that it passes."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


@_needs_mypy
def test_usage_passes_mypy_strict() -> None:
    # --follow-imports=silent: lrfun's own modules are read for their types, but only the
    # usage file's errors count, as for users (a checker is silent about installed packages).
    _mypy_strict("--follow-imports=silent", str(USAGE.relative_to(ROOT)))


@_needs_mypy
def test_package_passes_mypy_strict() -> None:
    # lrfun's own code, every module: its annotations hold together (what the usage file
    # relies on), with no error left to a checker's silence.
    _mypy_strict("--package", "lrfun")


def test_py_typed_is_shipped() -> None:
    assert (Path(lrfun.__file__).parent / "py.typed").is_file()
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["lrfun"]


_configs = st.one_of(any_config(), compositions(max_depth=2))


def _evaluations(schedule: lrfun.Schedule) -> list[Any]:
    """``schedule`` and, where it cycles momentum, ``schedule.momentum``: what the types
    describe."""
    functions: list[Any] = [schedule]
    if schedule.cycles_momentum:
        functions.append(schedule.momentum)
    return functions


def _schedule(config: dict[str, Any]) -> lrfun.Schedule:
    schedule = lrfun.from_config(config)
    assert isinstance(schedule, lrfun.Schedule)
    return schedule


@given(config=_configs, step=st.integers(0, 40))
@settings(max_examples=15)
def test_python_steps_give_python_floats(config: dict[str, Any], step: int) -> None:
    schedule, step = _schedule(config), horizon(config, step)
    for evaluate in _evaluations(schedule):
        for value in (evaluate(step), evaluate(float(step)), evaluate(np.float64(step))):
            if schedule.groups is None:
                assert type(value) is float
            else:
                # Several param groups: typed float, but one lr per group.
                assert isinstance(value, np.ndarray)
                assert value.shape == (schedule.groups,)
                assert value.dtype == np.float64


@given(
    config=_configs,
    step=st.integers(0, 40),
    dtype=st.sampled_from([np.int64, np.int32, np.uint8, np.float64, np.float32]),
)
@settings(max_examples=15)
def test_numpy_steps_give_floating_arrays(
    config: dict[str, Any], step: int, dtype: type[np.generic]
) -> None:
    schedule, step = _schedule(config), horizon(config, step)
    groups = () if schedule.groups is None else (schedule.groups,)
    for evaluate in _evaluations(schedule):
        cases = [(evaluate(np.arange(step + 1, dtype=dtype)), (step + 1, *groups))]
        scalar = dtype(step)
        if not isinstance(scalar, float):  # np.float64 is a Python float: typed as one
            cases.append((evaluate(scalar), groups))
        for value, shape in cases:
            assert isinstance(value, np.ndarray)
            assert np.issubdtype(value.dtype, np.floating)
            assert value.shape == shape


@given(config=_configs, steps=st.integers(0, 20))
@settings(max_examples=10)
def test_jax_and_torch_steps_give_their_own_arrays(config: dict[str, Any], steps: int) -> None:
    schedule, steps = _schedule(config), horizon(config, steps)
    for evaluate in _evaluations(schedule):
        assert isinstance(evaluate(jnp.arange(steps + 1)), jax.Array)
        assert isinstance(evaluate(torch.arange(steps + 1)), torch.Tensor)


@pytest.mark.parametrize(
    ("machine", "state_type"),
    [
        (lrfun.ReduceLROnPlateau(0.1, patience=1), lrfun.PlateauState),
        (lrfun.hf.GreedyLR(0.1, patience=1), lrfun.hf.GreedyState),
    ],
    ids=["ReduceLROnPlateau", "GreedyLR"],
)
def test_machines_give_their_own_state_type(machine: Any, state_type: type) -> None:
    # What Machine[StateT] promises: init, update and check_state give the machine's state.
    for like in (None, jnp.zeros(()), torch.zeros(())):
        state = machine.init(like=like)
        assert type(state) is state_type
        for metric in (3.0, 2.0, 2.0):
            state = machine.update(state, metric)
        assert type(state) is state_type
    assert type(machine.check_state(machine.init())) is state_type
