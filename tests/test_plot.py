"""Pictures: the plotted data is the schedule's values, torch's overlay is torch's, files
decode at the size asked for."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrfun
from parity import compare, lr_scale, torch_trajectory
from parity.strategies import any_config

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.image import imread  # noqa: E402

from lrfun.plot import label, plot  # noqa: E402


def _lines(fig, prefix: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """gid -> (x, y) of every line whose gid starts with ``prefix``."""
    return {
        line.get_gid(): (np.asarray(line.get_xdata()), np.asarray(line.get_ydata()))
        for axes in fig.axes
        for line in axes.lines
        if (line.get_gid() or "").startswith(prefix)
    }


def _marks(fig, i: int = 0) -> list[float]:
    return sorted(
        float(line.get_xdata()[0])
        for line in fig.axes[0].lines
        if line.get_gid() == f"milestone/{i}"
    )


@given(any_config(), st.integers(1, 300))
def test_plotted_data_is_the_schedule(config: dict, steps: int) -> None:
    schedule = lrfun.from_config(config)
    fig = plot(schedule, steps)
    ks = np.arange(steps)
    lr = np.asarray(schedule(ks), dtype=np.float64).reshape(steps, -1)
    lines = _lines(fig, "lr/")
    assert sorted(lines) == [f"lr/0/{g}" for g in range(lr.shape[1])]
    for g in range(lr.shape[1]):
        x, y = lines[f"lr/0/{g}"]
        np.testing.assert_array_equal(x, ks)
        np.testing.assert_array_equal(y, lr[:, g])
    momentum = _lines(fig, "momentum/")
    assert bool(momentum) == schedule.cycles_momentum
    if schedule.cycles_momentum:
        expected = np.asarray(schedule.momentum(ks)).reshape(steps, -1)
        for g in range(expected.shape[1]):
            np.testing.assert_array_equal(momentum[f"momentum/0/{g}"][1], expected[:, g])
    assert len(fig.axes) == 1 + schedule.cycles_momentum


def test_several_schedules_share_the_axes_with_a_legend() -> None:
    one = lrfun.StepLR([0.1, 0.05], step_size=30)
    two = lrfun.OneCycleLR(0.1, total_steps=100)
    fig = plot([one, "CosineAnnealingLR(0.1, T_max=40)", two], 120, log=True)
    lines = _lines(fig, "lr/")
    assert sorted(lines) == ["lr/0/0", "lr/0/1", "lr/1/0", "lr/2/0"]
    np.testing.assert_array_equal(
        lines["lr/1/0"][1], lrfun.CosineAnnealingLR(0.1, T_max=40)(np.arange(120))
    )
    assert fig.axes[0].get_yscale() == "log"
    assert sorted(_lines(fig, "momentum/")) == ["momentum/2/0"]
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert texts == [
        "StepLR([0.1, 0.05], step_size=30), group 0",
        "StepLR([0.1, 0.05], step_size=30), group 1",
        "CosineAnnealingLR(0.1, T_max=40)",
        "OneCycleLR(0.1, total_steps=100)",
    ]


@pytest.mark.parametrize(
    ("spec", "steps", "marks"),
    [
        ("StepLR(0.1, step_size=30)", 100, [30, 60, 90]),
        ("MultiStepLR(0.1, [80, 10, 10, 500])", 100, [10, 80]),
        ("LinearLR(0.1, total_iters=7)", 20, [7]),
        ("CosineAnnealingWarmRestarts(0.1, T_0=5, T_mult=2)", 40, [5, 15, 35]),
        ("CyclicLR(0.1, 1.0, step_size_up=3, step_size_down=2)", 12, [3, 5, 8, 10]),
        ("OneCycleLR(0.1, total_steps=100, three_phase=True)", 120, [29, 58, 99]),
        (
            "SequentialLR([ConstantLR(0.1, 0.5, 4), StepLR(0.1, 10)], milestones=[6])",
            30,
            [4, 6, 16, 26],
        ),
        ("ExponentialLR(0.1, 0.9)", 50, []),
        ("StepLR(0.1, step_size=1)", 100, []),  # a line per step says nothing: none
    ],
)
def test_milestones_are_marked(spec: str, steps: int, marks: list[float]) -> None:
    assert _marks(plot(spec, steps)) == marks
    assert _marks(plot(spec, steps, milestones=False)) == []


def test_a_plateau_is_plotted_from_its_metrics() -> None:
    plateau = lrfun.ReduceLROnPlateau([0.1, 0.2], patience=1, factor=0.5)
    metrics = [1.0, 0.9, 0.9, 0.9, float("nan"), 0.5, 0.5, 0.5]
    fig = plot(plateau, metrics=metrics)
    expected = plateau.trajectory(metrics)
    lines = _lines(fig, "lr/")
    for g in range(2):
        np.testing.assert_array_equal(lines[f"lr/0/{g}"][0], np.arange(9))
        np.testing.assert_array_equal(lines[f"lr/0/{g}"][1], expected[:, g])
    x, y = _lines(fig, "metric")["metric"]
    np.testing.assert_array_equal(x, np.arange(1, 9))
    np.testing.assert_array_equal(y, metrics)
    assert _marks(fig) == [4.0, 8.0]  # where the lr was cut
    # cut to `steps` points, beside an ordinary schedule
    fig = plot([plateau, lrfun.StepLR(0.1, 2)], 5, metrics=metrics)
    assert len(_lines(fig, "lr/0/0")["lr/0/0"][1]) == 5
    assert len(_lines(fig, "lr/1/0")["lr/1/0"][1]) == 5


@pytest.mark.parametrize(
    ("config", "steps"),
    [
        ({"name": "OneCycleLR", "max_lr": [0.1, 0.05], "total_steps": 50}, 80),
        ({"name": "CosineAnnealingLR", "base_lr": 0.1, "T_max": 30, "eta_min": 0.2}, 100),
        (
            {
                "name": "SequentialLR",
                "schedulers": [
                    {"name": "LinearLR", "base_lr": 0.1, "start_factor": 0.1, "total_iters": 5},
                    {"name": "OneCycleLR", "max_lr": 2.5, "total_steps": 20},
                ],
                "milestones": [5],
            },
            40,
        ),
    ],
)
def test_the_torch_overlay_is_torchs_trajectory(config: dict, steps: int) -> None:
    schedule = lrfun.from_config(config)
    fig = plot(schedule, steps, torch=True)
    # torch cannot step OneCycleLR past total_steps: its curve stops there
    rows = {"OneCycleLR": 51, "CosineAnnealingLR": 100, "SequentialLR": 20}[config["name"]]
    ref = torch_trajectory(config, rows - 1)
    ours = np.asarray(schedule(np.arange(rows))).reshape(rows, -1)
    for g in range(ref.lr.shape[1]):
        x, y = _lines(fig, f"torch/lr/0/{g}")[f"torch/lr/0/{g}"]
        np.testing.assert_array_equal(x, np.arange(rows))
        np.testing.assert_array_equal(y, ref.lr[:, g])
    x, error = _lines(fig, "error/0")["error/0"]
    assert len(error) == rows
    # the panel's worst point is the parity harness's own verdict
    worst = compare(ours, ref, dtype="float64", scale=lr_scale(config)).max_fraction
    if ref.momentum is not None:
        m = compare(
            np.asarray(schedule.momentum(np.arange(rows))), ref, dtype="float64", what="momentum"
        )
        worst = max(worst, m.max_fraction)
    assert error.max() == pytest.approx(worst, rel=1e-12)
    assert error.max() < 1.0
    tolerance = _lines(fig, "tolerance")["tolerance"]
    assert list(tolerance[1]) == [1.0, 1.0]


def test_the_torch_overlay_of_a_plateau() -> None:
    plateau = lrfun.ReduceLROnPlateau(0.1, patience=0)
    metrics = [3.0, 2.0, 2.0, 1.0, 1.0]
    fig = plot(plateau, metrics=metrics, torch=True)
    ref = torch_trajectory(plateau.to_config(), 5, metrics=metrics)
    np.testing.assert_array_equal(_lines(fig, "torch/lr/0/0")["torch/lr/0/0"][1], ref.lr[:, 0])
    assert _lines(fig, "error/0")["error/0"][1].max() <= 1.0


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_saved_files_decode(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"picture.{fmt}"
    fig = plot("CyclicLR(0.01, 0.1, step_size_up=10)", 60, figsize=(4.0, 3.0), dpi=50, path=path)
    assert fig.get_size_inches().tolist() == [4.0, 3.0]
    data = path.read_bytes()
    if fmt == "png":
        assert imread(path).shape[:2] == (150, 200)
    elif fmt == "svg":
        assert ET.fromstring(data).tag.endswith("svg")
    else:
        assert data.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"schedules": "StepLR(0.1, 3)", "path": "x.jpg"}, ValueError, "must end in .png"),
        ({"schedules": "StepLR(0.1, 3)", "steps": None}, ValueError, "steps is required"),
        ({"schedules": "StepLR(0.1, 3)", "steps": 0}, ValueError, "steps must be a positive"),
        ({"schedules": "ReduceLROnPlateau(0.1)"}, ValueError, "pass metrics"),
        ({"schedules": [], "steps": 3}, TypeError, "non-empty"),
        ({"schedules": [3], "steps": 3}, TypeError, r"schedules\[0\] must be an lrfun schedule"),
        ({"schedules": "StepLR(0.1, 3)", "labels": ["a", "b"]}, ValueError, "one entry per"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    kwargs = {"steps": 10, **kwargs}
    with pytest.raises(error, match=message):
        plot(**kwargs)


def test_labels_are_specs() -> None:
    assert label(lrfun.OneCycleLR(0.1, total_steps=9)) == "OneCycleLR(0.1, total_steps=9)"
    assert label(lrfun.LambdaLR(0.1, lambda e: 1.0)) == "LambdaLR"
    fig = plot(lrfun.StepLR(0.1, 3), 10)
    assert fig.texts[0].get_text() == "StepLR(0.1, step_size=3)"
    fig = plot(lrfun.StepLR(0.1, 3), 10, title="mine")
    assert fig.texts[0].get_text() == "mine"
