"""Tests of the parity harness itself: the live torch reference, the tolerance policy, and the
report's plain output where rich is not installed.

Expected values are closed forms computed here from the arguments, never copied torch output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lrfun
import parity
from parity import (
    TOLERANCES,
    Comparison,
    Trajectory,
    assert_close,
    compare,
    param_groups,
    tolerance,
    torch_trajectory,
)

REPO = Path(__file__).resolve().parents[1]
STEP_LR = {"name": "StepLR", "base_lr": 0.1, "step_size": 3, "gamma": 0.5}


def step_lr_closed_form(base_lr: float, step_size: int, gamma: float, steps: int) -> np.ndarray:
    k = np.arange(steps + 1)
    return base_lr * gamma ** (k // step_size)


# --- the torch reference ----------------------------------------------------------------


def test_step_lr_matches_the_textbook_closed_form() -> None:
    ref = torch_trajectory(STEP_LR, steps=50)
    assert ref.lr.shape == (51, 1)
    assert ref.lr.dtype == np.float64
    assert (ref.dtype, ref.device, ref.momentum, ref.steps) == ("float64", "cpu", None, 50)
    result = assert_close(step_lr_closed_form(0.1, 3, 0.5, 50), ref, dtype="float64")
    assert result.passed and result.steps == 50 and result.dtype == "float64"


def test_per_group_lists_give_one_column_per_group() -> None:
    config = {**STEP_LR, "base_lr": [0.1, 0.02, 3.0]}
    assert param_groups(config) == 3
    ref = torch_trajectory(config, steps=20, optimizer="adam")
    assert ref.lr.shape == (21, 3)
    expected = np.stack([step_lr_closed_form(b, 3, 0.5, 20) for b in (0.1, 0.02, 3.0)], axis=1)
    assert_close(expected, ref, dtype="float64")


def test_lambda_lr_takes_python_callables_per_group() -> None:
    config = {
        "name": "LambdaLR",
        "base_lr": 0.2,
        "lr_lambda": [lambda k: 1.0 / (k + 1), lambda k: 0.9**k],
    }
    ref = torch_trajectory(config, steps=30)
    k = np.arange(31)
    assert_close(np.stack([0.2 / (k + 1), 0.2 * 0.9**k], axis=1), ref, dtype="float64")


def test_tensor_lr_is_a_float32_reference() -> None:
    config = {"name": "CosineAnnealingLR", "base_lr": [0.1, 1.0], "T_max": 40, "eta_min": 0.001}
    exact = torch_trajectory(config, steps=100)
    ref = torch_trajectory(config, steps=100, tensor_lr=True)
    assert ref.dtype == "float32" and ref.lr.dtype == np.float64 and ref.lr.shape == (101, 2)
    # Every recorded value is a float32 value, widened exactly.
    assert np.array_equal(ref.lr.astype(np.float32).astype(np.float64), ref.lr)
    # Our float64 values meet a float32 reference with the float32 row: the looser decides.
    result = assert_close(exact.lr, ref, dtype="float64")
    assert result.dtype == "float32"
    # A bare array carries no record of that precision: the float64 row then rejects it.
    assert not compare(exact.lr, ref.lr, dtype="float64").passed


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_tensor_lr_works_with_both_optimizers(optimizer: str) -> None:
    ref = torch_trajectory(STEP_LR, steps=12, optimizer=optimizer, tensor_lr=True)  # type: ignore[arg-type]
    assert_close(step_lr_closed_form(0.1, 3, 0.5, 12), ref, dtype="float32")


def test_adam_one_cycle_records_beta1_from_max_momentum() -> None:
    config = {
        "name": "OneCycleLR",
        "max_lr": 2.0,
        "total_steps": 40,
        "base_momentum": 0.8,
        "max_momentum": 0.93,
        "div_factor": 20.0,
    }
    ref = torch_trajectory(config, steps=40, optimizer="adam")
    assert ref.momentum is not None and ref.momentum.shape == (41, 1)
    assert ref.momentum[0, 0] == 0.93
    assert ref.lr[0, 0] == pytest.approx(2.0 / 20.0, rel=1e-12)  # cosine at pct 0, to ulps
    # Momentum is cycled inversely to the lr: lowest exactly where the lr peaks.
    assert np.argmin(ref.momentum[:, 0]) == np.argmax(ref.lr[:, 0])
    assert ref.momentum.min() == pytest.approx(0.8)
    assert_close(ref.momentum, ref, dtype="float64", what="momentum")


def test_sgd_cyclic_lr_records_momentum_and_needs_no_base_lr_of_ours() -> None:
    config = {"name": "CyclicLR", "base_lr": 0.01, "max_lr": [0.1, 0.2], "step_size_up": 4}
    assert param_groups(config) == 2
    ref = torch_trajectory(config, steps=16)
    k = np.arange(17)
    triangle = 1.0 - np.abs(k % 8 - 4) / 4.0  # textbook triangular policy
    expected = 0.01 + np.outer(triangle, [0.1 - 0.01, 0.2 - 0.01])
    assert_close(expected, ref, dtype="float64")
    assert ref.momentum is not None
    assert_close(0.9 - (0.9 - 0.8) * triangle, ref.momentum[:, :1], dtype="float64")


def test_no_momentum_when_not_cycled() -> None:
    config = {"name": "OneCycleLR", "max_lr": 1.0, "total_steps": 10, "cycle_momentum": False}
    assert torch_trajectory(config, steps=10).momentum is None
    ref = torch_trajectory(STEP_LR, steps=3)
    with pytest.raises(ValueError, match="no momentum"):
        compare(ref.lr, ref, dtype="float64", what="momentum")


def test_one_cycle_cannot_step_past_total_steps() -> None:
    config = {"name": "OneCycleLR", "max_lr": 1.0, "total_steps": 10}
    assert torch_trajectory(config, steps=10).lr.shape == (11, 1)
    with pytest.raises(ValueError, match="total_steps=10"):
        torch_trajectory(config, steps=11)


def test_sequential_lr_restarts_the_next_child_at_the_milestone() -> None:
    children = [
        {"name": "ConstantLR", "base_lr": 0.1, "factor": 0.5, "total_iters": 2},
        {"name": "ExponentialLR", "base_lr": 0.1, "gamma": 0.9},
    ]
    ref = torch_trajectory({"name": "SequentialLR", "schedulers": children, "milestones": [3]}, 12)
    k = np.arange(13)
    expected = np.where(k < 2, 0.05, np.where(k < 3, 0.1, 0.1 * 0.9 ** (k - 3)))
    assert_close(expected, ref, dtype="float64")


def test_chained_scheduler_multiplies_its_children() -> None:
    children = [
        {"name": "ConstantLR", "base_lr": 0.1, "factor": 0.5, "total_iters": 2},
        {"name": "ExponentialLR", "base_lr": 0.1, "gamma": 0.9},
    ]
    ref = torch_trajectory({"name": "ChainedScheduler", "schedulers": children}, 10)
    k = np.arange(11)
    assert_close(0.1 * np.where(k < 2, 0.5, 1.0) * 0.9**k, ref, dtype="float64")


def test_composite_children_hold_the_base_lrs_torch_gives_them() -> None:
    """A child's base is the groups' initial_lr when torch builds it: a config that declares
    another cannot be run by torch, and says which it would be."""
    children = [
        {"name": "ConstantLR", "base_lr": 0.1},
        {"name": "ExponentialLR", "base_lr": 0.2, "gamma": 0.9},
    ]
    with pytest.raises(ValueError, match=r"torch gives it base lrs \[0.1\] here"):
        torch_trajectory({"name": "ChainedScheduler", "schedulers": children}, 3)
    # after a OneCycleLR (initial_lr = max_lr / div_factor) a decay's base is that
    children[1]["base_lr"] = 0.04
    children.insert(1, {"name": "OneCycleLR", "max_lr": 1.0, "total_steps": 10})
    ref = torch_trajectory({"name": "ChainedScheduler", "schedulers": children}, 3)
    ours = lrfun.from_config({"name": "ChainedScheduler", "schedulers": children})
    assert_close(ours(np.arange(4)), ref, dtype="float64")


def test_reduce_on_plateau_takes_one_metric_per_step() -> None:
    config = {"name": "ReduceLROnPlateau", "base_lr": 0.1, "patience": 2, "factor": 0.5}
    ref = torch_trajectory(config, steps=12, metrics=[1.0] * 12)
    # A flat metric: the first step sets the best, then every `patience + 1` bad steps cut.
    k = np.arange(13)
    assert_close(0.1 * 0.5 ** (np.maximum(k - 1, 0) // 3), ref, dtype="float64")
    with pytest.raises(ValueError, match="exactly steps=12 metrics"):
        torch_trajectory(config, steps=12)
    with pytest.raises(ValueError, match="metric-driven machines only"):
        torch_trajectory(STEP_LR, steps=2, metrics=[1.0, 1.0])


def test_no_warnings_even_without_warnings_as_errors() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch_trajectory({"name": "OneCycleLR", "max_lr": 1.0, "total_steps": 20}, 20)
        torch_trajectory(STEP_LR, 5, optimizer="adam", tensor_lr=True)
    assert [str(w.message) for w in caught] == []


def test_trajectory_is_immutable() -> None:
    ref = torch_trajectory(STEP_LR, steps=3)
    with pytest.raises(ValueError, match="read-only"):
        ref.lr[0, 0] = 1.0
    with pytest.raises(AttributeError):
        ref.dtype = "float32"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("config", "groups"),
    [
        ({"name": "StepLR", "base_lr": 0.1, "step_size": 2}, 1),
        ({"name": "StepLR", "base_lr": (0.1, 0.2), "step_size": 2}, 2),
        ({"name": "LambdaLR", "base_lr": 0.1, "lr_lambda": [abs, abs, abs]}, 3),
        ({"name": "OneCycleLR", "max_lr": 1.0, "base_momentum": [0.8, 0.7], "total_steps": 5}, 2),
        ({"name": "ReduceLROnPlateau", "base_lr": 0.1, "min_lr": [0.0, 0.0]}, 2),
        ({"name": "MultiStepLR", "base_lr": 0.1, "milestones": [1, 2, 3, 4]}, 1),
        (
            {
                "name": "SequentialLR",
                "schedulers": [{"name": "ConstantLR", "base_lr": [0.1, 0.2]}],
                "milestones": [],
            },
            2,
        ),
    ],
)
def test_param_groups(config: dict[str, Any], groups: int) -> None:
    assert param_groups(config) == groups


@pytest.mark.parametrize(
    ("config", "steps", "kwargs", "error", "match"),
    [
        ({"base_lr": 0.1}, 3, {}, ValueError, "needs a 'name'"),
        ({"name": "NoSuchLR", "base_lr": 0.1}, 3, {}, ValueError, "name must be one of"),
        ({"name": "StepLR", "step_size": 2}, 3, {}, TypeError, "argument: 'base_lr'"),
        ({"name": "StepLR", "base_lr": 0.1, "min_lr": 0.0}, 3, {}, ValueError, "no argument"),
        (
            {"name": "CyclicLR", "base_lr": [0.1, 0.2], "max_lr": [1.0]},
            3,
            {},
            ValueError,
            "one value per param group",
        ),
        ({"name": "StepLR", "base_lr": [], "step_size": 2}, 3, {}, ValueError, "not be empty"),
        (STEP_LR, -1, {}, ValueError, "steps must be >= 0"),
        (STEP_LR, 2.0, {}, TypeError, "steps must be an integer"),
        (STEP_LR, 3, {"optimizer": "rmsprop"}, ValueError, "'sgd' or 'adam'"),
        ({"name": "SequentialLR", "milestones": []}, 3, {}, TypeError, "'schedulers'"),
        ([("name", "StepLR")], 3, {}, TypeError, "mapping"),
    ],
)
def test_bad_arguments(
    config: Any, steps: Any, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        torch_trajectory(config, steps, **kwargs)


# --- the tolerance policy ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "row"),
    [
        ("float64", "float64"),
        ("float32", "float32"),
        (np.float64, "float64"),
        (np.dtype("float32"), "float32"),
        (float, "float64"),
        (torch.float64, "float64"),
        (torch.float32, "float32"),
    ],
)
def test_tolerance_rows(dtype: object, row: str) -> None:
    assert tolerance(dtype) == TOLERANCES[row]


@pytest.mark.parametrize(
    ("dtype", "match"),
    [
        ("float16", "not supported"),
        ("bfloat16", "not supported"),
        (np.float16, "not supported"),
        (torch.float16, "not supported"),
        (torch.bfloat16, "not supported"),
        ("int64", "floating dtype"),
        (torch.int32, "floating dtype"),
        ("complex128", "floating dtype"),
    ],
)
def test_tolerance_rejects(dtype: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        tolerance(dtype)


def test_tolerance_takes_jax_dtypes() -> None:
    jnp = pytest.importorskip("jax.numpy")
    assert tolerance(jnp.float32) == TOLERANCES["float32"]
    with pytest.raises(ValueError, match="not supported"):
        tolerance(jnp.bfloat16)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_compare_boundary_is_inclusive(dtype: str) -> None:
    # At a zero reference value only atol applies, and atol_frac * max|ref| = atol_frac
    # exactly when max|ref| is 1: the boundary is exact in floating point.
    _, atol_frac = TOLERANCES[dtype]
    reference = np.array([0.0, 1.0, 0.5])
    at_boundary = np.array([atol_frac, 1.0, 0.5])
    result = compare(at_boundary, reference, dtype=dtype)
    assert result.passed and result.max_fraction == 1.0 and result.worst_step == 0
    past = np.array([np.nextafter(atol_frac, 1.0), 1.0, 0.5])
    result = compare(past, reference, dtype=dtype)
    assert not result.passed and result.max_fraction > 1.0
    assert result.max_error == np.nextafter(atol_frac, 1.0)


def test_compare_reports_the_worst_step_and_group() -> None:
    reference = np.full((10, 3), 0.5)
    ours = reference.copy()
    ours[7, 2] += 1e-3
    ours[2, 1] += 1e-4
    result = compare(ours, reference, dtype="float32")
    assert (result.passed, result.worst_step, result.worst_group, result.steps) == (
        False,
        7,
        2,
        9,
    )
    assert result.max_error == pytest.approx(1e-3)
    with pytest.raises(AssertionError) as info:
        assert_close(ours, reference, dtype="float32")
    message = str(info.value)
    for part in ("lr differs", "float32", "step 7", "group 2", "2 of 30", "ours=", "torch="):
        assert part in message


@pytest.mark.parametrize(
    ("ours", "reference", "passed"),
    [
        ([np.nan, 1.0], [np.nan, 1.0], True),
        ([np.nan, 1.0], [0.5, 1.0], False),
        ([0.5, 1.0], [np.nan, 1.0], False),
        ([np.inf, 1.0], [np.inf, 1.0], True),
        ([-np.inf, 1.0], [-np.inf, 1.0], True),
        ([np.inf, 1.0], [-np.inf, 1.0], False),
        ([1e300, 1.0], [np.inf, 1.0], False),
        ([np.inf, 1.0], [1e300, 1.0], False),
        ([1e308, 1.0], [-1e308, 1.0], False),
    ],
)
def test_compare_non_finite(ours: list[float], reference: list[float], passed: bool) -> None:
    result = compare(ours, reference, dtype="float64")
    assert result.passed is passed
    if not passed:
        assert result.max_fraction == np.inf and result.worst_step == 0


def test_compare_zero_allowed() -> None:
    assert compare([0.0, 0.0], [0.0, 0.0], dtype="float64").max_fraction == 0.0
    # below the smallest normal float64 a difference is not representable: it passes
    assert compare([0.0, 1e-310], [0.0, 0.0], dtype="float64").passed
    result = compare([0.0, 1e-300], [0.0, 0.0], dtype="float64")
    assert not result.passed and result.max_fraction > 1e7 and result.worst_step == 1


def test_compare_slack_widens_what_is_allowed() -> None:
    ref = np.array([1.0, 1.0])
    assert not compare([1.0, 1.001], ref, dtype="float32").passed
    assert compare([1.0, 1.001], ref, dtype="float32", slack=[0.0, 0.001]).passed


def test_compare_broadcasts_one_group_only() -> None:
    ref = np.linspace(1.0, 0.0, 5)
    assert compare(ref, ref[:, None], dtype="float64").passed
    assert compare(ref[:, None], ref, dtype="float64").passed
    with pytest.raises(ValueError, match="shape"):
        compare(ref, np.stack([ref, ref], axis=1), dtype="float64")
    with pytest.raises(ValueError, match="shape"):
        compare(ref[:4], ref, dtype="float64")
    with pytest.raises(ValueError, match="shape"):
        compare(ref[:, None, None], ref, dtype="float64")
    with pytest.raises(ValueError, match="'lr' or 'momentum'"):
        compare(ref, ref, dtype="float64", what="loss")  # type: ignore[arg-type]


def test_compare_takes_torch_tensors() -> None:
    ref = torch_trajectory(STEP_LR, steps=9)
    ours = torch.tensor(step_lr_closed_form(0.1, 3, 0.5, 9), dtype=torch.float64)
    assert compare(ours.requires_grad_(), ref, dtype=ours.dtype).passed
    # A float32 tensor reference counts as float32, whatever dtype we claim.
    as_float32 = torch.tensor(ref.lr, dtype=torch.float32)
    result = compare(ref.lr, as_float32, dtype="float64")
    assert result.passed and result.dtype == "float32"


def test_compare_takes_jax_arrays() -> None:
    jnp = pytest.importorskip("jax.numpy")
    ref = torch_trajectory(STEP_LR, steps=9)
    ours = jnp.asarray(step_lr_closed_form(0.1, 3, 0.5, 9), dtype=jnp.float32)
    result = assert_close(ours, ref, dtype=ours.dtype)
    assert result.dtype == "float32"


@given(
    reference=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20),
    within=st.floats(-0.5, 0.5),
    beyond=st.floats(2.0, 10.0),
    dtype=st.sampled_from(["float64", "float32"]),
    data=st.data(),
)
def test_compare_scales_with_the_reference(
    reference: list[float], within: float, beyond: float, dtype: str, data: st.DataObject
) -> None:
    ref = np.array(reference)
    rtol, atol_frac = TOLERANCES[dtype]
    floor = max(atol_frac * np.abs(ref).max(), np.finfo(dtype).tiny)
    allowed = floor + rtol * np.abs(ref)
    assert compare(ref + within * allowed, ref, dtype=dtype).passed
    index = data.draw(st.integers(0, len(ref) - 1))
    ours = ref.copy()
    ours[index] += beyond * allowed[index] if allowed[index] > 0 else 1.0
    result = compare(ours, ref, dtype=dtype)
    assert not result.passed and result.worst_step == index


# --- the report without rich ---------------------------------------------------------------

# Runs `python -m parity` with `import rich` failing, as where rich is not installed.
_WITHOUT_RICH = (
    "import runpy, sys; sys.modules['rich'] = None; sys.argv[0] = 'parity'; "
    "runpy.run_module('parity', run_name='__main__', alter_sys=True)"
)


def test_the_parity_report_runs_without_rich() -> None:
    args = ["--schedule", "StepLR", "--schedule", "ConstantLR", "--examples", "0"]
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_RICH, *args, "--steps", "12", "--device", "cpu"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "lrfun vs torch, steps 0..12 (tensor lr: 0..12)"
    assert lines[1].split() == [
        "schedule", "backend", "torch", "reference", "device", "steps", "examples", "values",
        "max", "error", "/", "tol", "pass",
    ]  # fmt: skip
    rows = [line.split() for line in lines[2:]]
    assert {(r[0], r[1]) for r in rows} >= {("StepLR", "numpy"), ("ConstantLR", "python")}
    assert all(r[-1] == "pass" and r[5] == "0..12" for r in rows), rows
    assert len({len(line) for line in lines[1:]}) == 1  # aligned columns
    assert not {"│", "━", "\x1b"} & set(result.stdout)
    # one progress line per schedule's config, plain, on stderr
    assert result.stderr.splitlines() == ["[1/2] StepLR", "[2/2] ConstantLR"]


def test_the_plain_report_names_failures_and_known_misses(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import parity.__main__ as report
    from parity.report import Row

    bad = Row("StepLR", "numpy", "float lr", "cpu", 1, 11, 2.5, False, "[at step 3]", 10)
    known = Row("LambdaLR", "jax", "float lr", "cpu", 1, 11, 19.1, False, "", 10, "documented")
    monkeypatch.setattr(report, "run", lambda *a, **k: [bad, known])
    _without_rich(monkeypatch)
    assert report.main(["--schedule", "StepLR", "--examples", "0", "--device", "cpu"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[2].split()[-1] == "FAIL" and out[3].split()[-1] == "known"
    assert out[4:] == [
        "known miss LambdaLR on jax (float lr): documented",
        "FAIL StepLR on numpy (float lr): [at step 3]",
    ]


def _without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import rich`` (and any ``rich.x``) fails, as where rich is not installed: a loaded
    submodule is found before its package, so each is blocked."""
    for name in [n for n in sys.modules if n == "rich" or n.startswith("rich.")] + ["rich"]:
        monkeypatch.setitem(sys.modules, name, None)


# --- import hygiene and devices ---------------------------------------------------------


def test_importing_parity_imports_no_torch() -> None:
    code = (
        "import sys, parity\n"
        "heavy = sorted({'torch', 'jax', 'optax', 'matplotlib'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True)


def test_public_names() -> None:
    assert set(parity.__all__) == {
        "Comparison",
        "TOLERANCES",
        "Trajectory",
        "assert_close",
        "compare",
        "lr_scale",
        "param_groups",
        "tolerance",
        "torch_scheduler",
        "torch_trajectory",
    }
    assert isinstance(compare([1.0], [1.0], dtype="float64"), Comparison)
    assert isinstance(torch_trajectory(STEP_LR, 0), Trajectory)


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


@pytest.mark.parametrize(
    "device",
    [
        pytest.param(
            "cuda",
            marks=[
                pytest.mark.cuda,
                pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available"),
            ],
        ),
        pytest.param(
            "mps", marks=pytest.mark.skipif(not _mps_available(), reason="MPS not available")
        ),
    ],
)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_accelerator_reference(device: str, optimizer: str) -> None:
    one_cycle = {"name": "OneCycleLR", "max_lr": [1.0, 0.5], "total_steps": 30}
    for config in (STEP_LR, one_cycle):
        cpu = torch_trajectory(config, 30, optimizer=optimizer)  # type: ignore[arg-type]
        ref = torch_trajectory(config, 30, optimizer=optimizer, device=device, tensor_lr=True)  # type: ignore[arg-type]
        assert ref.device.startswith(device) and ref.dtype == "float32"
        assert assert_close(cpu.lr, ref, dtype="float64").dtype == "float32"
        if cpu.momentum is not None:
            assert_close(cpu.momentum, ref, dtype="float64", what="momentum")
        floats = torch_trajectory(config, 30, optimizer=optimizer, device=device)  # type: ignore[arg-type]
        assert floats.dtype == "float64"
        assert_close(cpu.lr, floats, dtype="float64")
