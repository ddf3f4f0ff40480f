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
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == [
        "StepLR([0.1, 0.05], step_size=30), group 0",
        "StepLR([0.1, 0.05], step_size=30), group 1",
        "CosineAnnealingLR(0.1, T_max=40)",
        "OneCycleLR(0.1, total_steps=100)",
        "milestones",  # the faint dashed lines, named once
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


# Schedules for the layout tests: two param groups, tiny and huge lrs (tick labels with an
# exponent), momentum panels (OneCycleLR, CyclicLR), a metric panel (the machines), a
# torch curve that stops early (OneCycleLR) and a label long enough to wrap (SequentialLR).
_POOL = (
    "StepLR(0.1, step_size=30)",
    "MultiStepLR([0.1, 0.05], milestones=[20, 50])",
    "CosineAnnealingLR(1e-6, T_max=40)",
    "OneCycleLR(0.1, total_steps=80)",
    "CyclicLR(0.001, 0.1, step_size_up=10)",
    "ExponentialLR(1000.0, gamma=0.9)",
    "LinearLR(0.05, start_factor=0.1, total_iters=30)",
    "CosineAnnealingWarmRestarts(0.1, T_0=10, T_mult=2, eta_min=0.001)",
    "SequentialLR([ConstantLR(0.1, factor=0.5, total_iters=10), "
    "ExponentialLR(0.1, gamma=0.95)], milestones=[10])",
    "ReduceLROnPlateau(0.1, patience=2)",
    "hf.GreedyLR(0.1, patience=3, min_lr=0.005, max_lr=0.2)",
)
_METRICS = list(0.3 + 0.7 * np.exp(-np.arange(100) / 20))
# printable ASCII: every character has a glyph in matplotlib's default font
_TITLES = st.one_of(
    st.none(),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
    st.text(st.sampled_from("W m.,"), min_size=150, max_size=200),
)


def _overlap(a, b) -> bool:
    """Whether two boxes share an area (touching edges do not count, nor rounding noise)."""
    eps = 1e-6  # pixels
    return min(a.x1, b.x1) - max(a.x0, b.x0) > eps and min(a.y1, b.y1) - max(a.y0, b.y0) > eps


def _layout(fig) -> dict:
    """The drawn extents (pixels) of the title, legend, panels and each panel's text."""
    fig.draw_without_rendering()  # the final layout, as saved
    renderer = fig.canvas.get_renderer()

    def shown(texts) -> list:
        return [t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text()]

    def drawn(axis, coordinate: int) -> list:
        """The tick labels drawn: those of ticks inside the panel (the others are not)."""
        panel = axis.axes.get_window_extent(renderer)
        low, high = (panel.x0, panel.x1) if coordinate == 0 else (panel.y0, panel.y1)
        labels = axis.get_ticklabels(which="both")
        at = [axis.axes.transData.transform(t.get_position())[coordinate] for t in labels]
        return [t for t, x in zip(labels, at, strict=True) if low - 0.5 <= x <= high + 0.5]

    texts = {}
    for k, axes in enumerate(fig.axes):
        labels = [*drawn(axes.xaxis, 0), *drawn(axes.yaxis, 1)]
        labels += [axes.xaxis.label, axes.yaxis.label]
        texts[k] = shown(labels)
        # an offset text ("1e-5" above the panel) would sit where the legend is: none
        assert not shown([axes.xaxis.get_offset_text(), axes.yaxis.get_offset_text()])
    legend = fig.axes[0].get_legend()
    return {
        "figure": fig.bbox,
        "title": shown(fig.texts),
        "legend": [legend.get_window_extent(renderer)] if legend is not None else [],
        "panels": [axes.get_window_extent(renderer) for axes in fig.axes],
        "texts": texts,
        "inner": {k: shown(axes.texts) for k, axes in enumerate(fig.axes)},
    }


def _assert_nothing_overlaps(fig) -> None:
    box = _layout(fig)
    outside = [*box["title"], *box["legend"]]
    for k, panel in enumerate(box["panels"]):
        outside += box["texts"][k]
        for inner in box["inner"][k]:  # the tolerance label stays inside its panel
            assert panel.x0 <= inner.x0 and inner.x1 <= panel.x1, (inner, panel)
            assert panel.y0 <= inner.y0 and inner.y1 <= panel.y1, (inner, panel)
    figure = box["figure"]
    for b in outside:  # nothing is cut off at the figure's edge
        assert figure.x0 <= b.x0 and b.x1 <= figure.x1 and figure.y0 <= b.y0, (b, figure)
        assert b.y1 <= figure.y1, (b, figure)
    for title in box["title"]:
        for other in [*box["legend"], *box["panels"], *outside[1:]]:
            assert other is title or not _overlap(title, other), (title, other)
    for legend in box["legend"]:
        others = [*box["panels"], *(b for k in box["texts"] for b in box["texts"][k])]
        assert not any(_overlap(legend, b) for b in others), legend
    for k, texts in box["texts"].items():  # a panel's labels stay clear of the other panels
        others = [p for j, p in enumerate(box["panels"]) if j != k]
        others += [b for j in box["texts"] if j != k for b in box["texts"][j]]
        assert not any(_overlap(t, b) for t in texts for b in others), k


@given(
    st.lists(st.sampled_from(_POOL), min_size=1, max_size=15),
    st.booleans(),
    _TITLES,
    st.integers(1, 90),
    st.booleans(),
)
def test_title_legend_and_panels_never_overlap(
    specs: list[str], torch: bool, title: str | None, steps: int, log: bool
) -> None:
    fig = plot(specs, steps, metrics=_METRICS, torch=torch, title=title, log=log, dpi=72)
    _assert_nothing_overlaps(fig)


@pytest.mark.parametrize("count", [1, 15])
@pytest.mark.parametrize("torch", [False, True])
@pytest.mark.parametrize("title", ["W" * 200, "word " * 40])
def test_the_longest_titles_and_legends_fit(count: int, torch: bool, title: str) -> None:
    specs = [_POOL[(3 + k) % len(_POOL)] for k in range(count)]  # OneCycleLR first: momentum
    fig = plot(specs, 80, metrics=_METRICS, torch=torch, title=title, dpi=72)
    _assert_nothing_overlaps(fig)
    assert fig.texts[0].get_text().replace("\n", "").replace(" ", "") == title.replace(" ", "")
    if torch:
        assert [t.get_text() for t in fig.axes[-1].texts] == ["tolerance"]


def test_long_labels_wrap_inside_the_figure() -> None:
    fig = plot(["StepLR(0.1, 3)", "StepLR(0.2, 3)"], 10, labels=["x" * 300, "y " * 150], dpi=72)
    _assert_nothing_overlaps(fig)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    # cut to MAX_LABEL characters (ending in ...), then wrapped: the characters are kept
    cut = ["x" * 197 + "...", ("y " * 150)[:197] + "..."]
    assert texts[-1] == "milestones"
    assert [t.replace("\n", "").replace(" ", "") for t in texts[:-1]] == [
        c.replace(" ", "") for c in cut
    ]
    assert all(len(t.splitlines()) > 1 for t in texts[:-1])


def test_default_size_and_resolution(tmp_path: Path) -> None:
    from lrfun.plot import DPI, WIDTH

    path = tmp_path / "picture.png"
    one = plot("StepLR(0.1, 30)", 100, path=path)
    assert one.get_dpi() == DPI
    assert imread(path).shape[1] == round(WIDTH * DPI)
    # each panel and each legend row adds height; the width stays that of a paper's text
    momentum = plot("OneCycleLR(0.1, total_steps=100)", 100)
    many = plot(list(_POOL[:9]), 100)
    for fig in (momentum, many):
        assert fig.get_size_inches()[0] == WIDTH
        assert fig.get_size_inches()[1] > one.get_size_inches()[1] + 1.0


@pytest.mark.parametrize("count", [1, 2, 3, 4, 8])
def test_milestones_mark_only_a_few_curves(count: int) -> None:
    specs = [f"StepLR({0.1 * (k + 1)}, step_size={10 + k})" for k in range(count)]
    fig = plot(specs, 60)
    marked = {i for i in range(count) if _marks(fig, i)}
    assert marked == (set(range(count)) if count <= lrfun.plot.MAX_MARKED else set())
    forced = plot(specs, 60, milestones=True)
    assert all(_marks(forced, i) == list(range(10 + i, 60, 10 + i)) for i in range(count))
    assert not any(_marks(plot(specs, 60, milestones=False), i) for i in range(count))
    # faint and behind the curves: a guide that never hides the data
    lines = forced.axes[0].lines
    curves = [line for line in lines if line.get_gid().startswith("lr/")]
    marks = [line for line in lines if line.get_gid().startswith("milestone/")]
    assert all(m.get_alpha() <= 0.5 and m.get_linewidth() < 1.0 for m in marks)
    assert max(m.get_zorder() for m in marks) < min(c.get_zorder() for c in curves)


@pytest.mark.parametrize("count", [lrfun.plot.MAX_MILESTONES, lrfun.plot.MAX_MILESTONES + 1])
def test_a_crowd_of_milestones_is_left_out(count: int) -> None:
    milestones = list(range(5, 5 * count + 1, 5))
    marks = _marks(plot(lrfun.MultiStepLR(0.1, milestones), 5 * count + 10))
    assert marks == (milestones if count <= lrfun.plot.MAX_MILESTONES else [])
    # a machine's marks are where its lr changes, under the same bound: here a cut at every
    # update after the first (patience 0, the metric never improves)
    plateau = lrfun.ReduceLROnPlateau(0.1, factor=0.9, patience=0)
    metrics = [1.0] * (count + 1)
    changes = [float(k) for k in range(2, count + 2)]
    np.testing.assert_array_less(np.diff(plateau.trajectory(metrics))[1:], 0.0)
    marks = _marks(plot(plateau, metrics=metrics))
    assert marks == (changes if len(changes) <= lrfun.plot.MAX_MILESTONES else [])


@given(st.floats(-8.0, 3.0), st.floats(0.5, 0.99), st.integers(2, 300))
def test_tick_labels_read_back_as_the_ticks(exponent: float, gamma: float, steps: int) -> None:
    lr = 10.0**exponent
    fig = plot(lrfun.ExponentialLR(lr, gamma), steps, dpi=72)
    fig.draw_without_rendering()
    axis = fig.axes[0].yaxis
    ticks = [t for t in axis.get_majorticklabels() if t.get_text()]
    values = [float(t.get_text()) for t in ticks]
    spacing = np.min(np.diff(axis.get_majorticklocs()))
    assert len(set(values)) == len(values)  # no two ticks print alike
    for t, value in zip(ticks, values, strict=True):
        assert abs(value - t.get_position()[1]) <= 1e-3 * spacing
    assert not axis.get_offset_text().get_text()


def test_a_failed_save_keeps_the_file_that_was_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A save that fails half-way (a full disk) leaves the old picture whole and no partial
    file beside it, and the error names the file: plot(path=...), gallery and the command."""
    import errno
    import os
    import stat

    from matplotlib.figure import Figure

    from lrfun.cli import main
    from lrfun.plot import gallery

    good = tmp_path / "lr.png"
    plot(lrfun.StepLR(0.1, 3), 10, path=good)
    good.chmod(0o640)
    before = good.read_bytes()
    savefig = Figure.savefig

    def full_disk(self: Figure, file: object, **kwargs: object) -> None:
        savefig(self, file, **kwargs)  # the bytes are written, then the disk fills
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    with pytest.raises(OSError, match="No space left on device") as raised:
        plot(lrfun.StepLR(0.2, 3), 10, path=good)
    assert raised.value.filename == str(good)
    assert main(["plot", "StepLR(0.2, 3)", "--steps", "10", "-o", str(good)]) == 1
    err = capsys.readouterr().err
    assert err == f"lrfun: error: cannot write {str(good)!r}: No space left on device\n"
    with pytest.raises(OSError) as raised:
        gallery(tmp_path, torch=False)
    assert raised.value.filename.endswith(".png")
    assert good.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lr.png"]  # no partial file left
    monkeypatch.setattr(Figure, "savefig", savefig)
    plot(lrfun.StepLR(0.2, 3), 10, path=good)  # a save that succeeds replaces it whole
    assert good.read_bytes() != before and imread(good).ndim == 3
    assert stat.S_IMODE(os.stat(good).st_mode) == 0o640  # with the permissions it had


# --- stairs, a caller's Axes, the user's style, the error panel ----------------------------


def _line(fig_or_ax, gid: str):
    axes = fig_or_ax.axes if hasattr(fig_or_ax, "subplots") else [fig_or_ax]
    return next(line for a in axes for line in a.lines if line.get_gid() == gid)


@pytest.mark.parametrize("spec", ["StepLR(0.1, 10)", "OneCycleLR(0.1, total_steps=40)"])
def test_a_few_steps_are_drawn_as_stairs(spec: str) -> None:
    # the lr set at step k holds until step k + 1: a ramp between them never happens
    fig = plot(spec, 40, torch=True)
    assert _line(fig, "lr/0/0").get_drawstyle() == "steps-post"
    assert _line(fig, "torch/lr/0/0").get_drawstyle() == "steps-post"
    assert _line(fig, "error/0").get_drawstyle() == "steps-post"
    if spec.startswith("OneCycleLR"):
        assert _line(fig, "momentum/0/0").get_drawstyle() == "steps-post"


def test_many_steps_are_drawn_as_lines_unless_asked() -> None:
    steps = lrfun.plot.MAX_STEPPED + 1  # a step under a pixel: stairs and lines look alike
    assert _line(plot("StepLR(0.1, 100)", steps), "lr/0/0").get_drawstyle() == "default"
    stairs = plot("StepLR(0.1, 100)", steps, stepped=True)
    assert _line(stairs, "lr/0/0").get_drawstyle() == "steps-post"
    lines = plot("StepLR(0.1, 100)", 10, stepped=False)
    assert _line(lines, "lr/0/0").get_drawstyle() == "default"


def test_plot_draws_into_the_axes_given() -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    mine, other = fig.subplots(1, 2)
    other.plot([0, 1], [0, 1], gid="theirs")
    schedule = lrfun.OneCycleLR(0.1, total_steps=30)
    returned = plot([schedule, "StepLR(0.1, 10)"], 30, ax=mine, torch=True, title="mine")
    assert returned is mine
    assert len(fig.axes) == 2  # no panel added: momentum and error need axes of their own
    np.testing.assert_array_equal(_line(mine, "lr/0/0").get_ydata(), schedule(np.arange(30)))
    assert _line(mine, "torch/lr/1/0").get_drawstyle() == "steps-post"
    assert [line.get_gid() for line in other.lines] == ["theirs"]
    texts = [t.get_text() for t in mine.get_legend().get_texts()]
    assert texts[:2] == ["OneCycleLR(0.1, total_steps=30)", "StepLR(0.1, step_size=10)"]
    assert mine.get_title() == "mine"
    # one schedule in a caller's Axes is named too: the Axes may hold other curves
    alone = Figure().subplots()
    plot("StepLR(0.1, 10)", 30, ax=alone, milestones=False)
    assert [t.get_text() for t in alone.get_legend().get_texts()] == ["StepLR(0.1, step_size=10)"]
    with pytest.raises(ValueError, match="size and save your figure yourself"):
        plot("StepLR(0.1, 10)", 30, ax=Figure().subplots(), path="x.png")


def test_the_users_font_sizes_are_kept() -> None:
    style = {
        "font.size": 13.0,
        "axes.labelsize": 17.0,
        "xtick.labelsize": 11.0,
        "ytick.labelsize": 12.0,
        "legend.fontsize": 9.0,
        "figure.titlesize": 19.0,
    }
    with matplotlib.rc_context(style):
        fig = plot(["StepLR(0.1, 10)", "OneCycleLR(0.1, total_steps=40)"], 40, title="mine")
        fig.draw_without_rendering()  # tick labels are made as the figure is drawn
        lr = fig.axes[0]
        assert lr.yaxis.label.get_fontsize() == 17.0
        assert fig.axes[-1].xaxis.label.get_fontsize() == 17.0
        assert {t.get_fontsize() for t in lr.get_yticklabels()} == {12.0}
        assert {t.get_fontsize() for t in fig.axes[-1].get_xticklabels()} == {11.0}
        assert {t.get_fontsize() for t in lr.get_legend().get_texts()} == {9.0}
        assert fig._suptitle.get_fontsize() == 19.0
    _assert_nothing_overlaps(fig)  # the layout measured the user's sizes


@pytest.mark.parametrize(
    ("spec", "named"),
    [("StepLR(0.1, 10)", True), ("ExponentialLR(0.1, 0.9)", False)],
)
def test_milestone_lines_have_a_legend_entry(spec: str, named: bool) -> None:
    texts = [t.get_text() for t in plot(spec, 40).axes[0].get_legend().get_texts()] if named else []
    assert texts == (["milestones"] if named else [])
    if not named:  # no marks, no legend at all for one schedule
        assert plot(spec, 40).axes[0].get_legend() is None
    unmarked = plot([spec, "StepLR(0.2, 5)"], 40, milestones=False)
    assert "milestones" not in [t.get_text() for t in unmarked.axes[0].get_legend().get_texts()]


def test_the_error_panel_draws_the_worst_error_per_stretch() -> None:
    from lrfun.plot import against_torch

    steps = 5000
    schedule = lrfun.CosineAnnealingLR(0.1, T_max=700)
    fig = plot(schedule, steps, torch=True)
    x, y = _lines(fig, "error/0")["error/0"]
    assert len(y) <= 201 and x[0] == 0 and x[-1] == steps - 1
    # the worst error survives the stretches: the panel's top is the verdict's
    assert y.max() == against_torch(schedule, steps).worst_fraction
    err = fig.axes[-1]
    assert err.get_yscale() == "symlog"
    assert err.get_ylim()[0] == 0.0 and err.get_ylim()[1] > 1.0  # the tolerance line in sight
    assert any(c.get_gid() == "error/0" for c in err.collections)  # filled below the line
    assert not [t for t in err.texts if t.get_gid() == "exact"]


def test_an_exact_match_says_so() -> None:
    fig = plot("ConstantLR(0.1, 0.5, 4)", 20, torch=True)
    err = fig.axes[-1]
    assert _lines(fig, "error/0")["error/0"][1].max() == 0.0
    assert [t.get_text() for t in err.texts if t.get_gid() == "exact"] == ["exactly equal"]


def test_a_machines_marks_are_named_lr_changes() -> None:
    fig = plot(lrfun.ReduceLROnPlateau(0.1, patience=0), metrics=[3.0, 2.0, 2.0, 2.0])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["lr changes"]
