"""Pictures of schedules: lr (and momentum) per step, milestones, torch's trajectory laid over.

Needs matplotlib (``pip install lrfun[plot]``); the torch overlay also needs torch. Figures
are built as ``matplotlib.figure.Figure`` objects, never through pyplot, so plotting
touches no global state and needs no display.

Every curve carries a ``gid`` so its data can be read back (``line.get_gid()``):

=========================  ==============================================================
``lr/{i}/{g}``             schedule ``i``'s lr, param group ``g``
``momentum/{i}/{g}``       its momentum / beta1 (schedules that cycle it)
``torch/lr/{i}/{g}``       torch's lr (``torch=True``); ``torch/momentum/{i}/{g}`` likewise
``error/{i}``              ``|ours - torch| / tolerance``, the worst over groups, lr and momentum
                           (past 200 steps, the worst of each of 200 stretches, at their
                           first steps); the filled area below it carries the same gid
``tolerance``              the line at 1.0 in the error panel, and its label (a text)
``exact``                  the text "exactly equal" in the error panel, when every error is 0
``metric``                 the metric fed to the metric-driven machines, at updates 1..n
``milestone/{i}``          a vertical line where schedule ``i`` switches, decays or restarts
=========================  ==============================================================

Layout, top to bottom: the title, the legend (centred, in up to three columns), then the
panels; each is measured before the figure is sized, so none overlaps another, whatever the
number of schedules or the length of the title (wrapped to the figure's width). Tick labels
carry their own exponent (``2.5e-8``), never a shared offset text above the panel.

Up to ``MAX_STEPPED`` steps curves are stairs (``drawstyle="steps-post"``): the lr of
step ``k`` holds until step ``k + 1``, so a drop is drawn where it happens, never as a ramp;
past that, lines (a step is under a pixel). Font sizes are never set: they come from
matplotlib's rcParams, so a style sheet or ``plt.style.context`` applies.

Text is drawn as written: titles and legend labels are plain text, never math text (a ``$``
is a dollar sign). Labels are cut to ``MAX_LABEL`` characters, the legend lists at most
``MAX_LEGEND`` curves, and values must be finite and at most ``1e300`` in magnitude
(matplotlib's axes cannot scale past that).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import os
import secrets
import stat
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from lrfun._check import Check, Curve, check, evaluate
from lrfun._schedule import Configurable, Schedule, classes, from_config
from lrfun._spec import load, to_spec
from lrfun._validate import PATH_SHOWN, _shown

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "GALLERY_DPI",
    "MAX_LABEL",
    "MAX_LEGEND",
    "MAX_MARKED",
    "MAX_MILESTONES",
    "MAX_STEPPED",
    "WIDTH",
    "TorchCheck",
    "against_torch",
    "gallery",
    "gallery_name",
    "label",
    "plot",
]

_FORMATS = ("png", "svg", "pdf")
_GROUP_STYLES = ("-", "--", ":", "-.")
# More vertical lines than this crowd the panel and say nothing the curve does not (a GreedyLR's
# staircase, StepLR(step_size=1)): none are drawn then.
MAX_MILESTONES = 20
# Milestone lines are drawn (by default) only while this many schedules at most share the
# axes: past three, the lines of different schedules interleave and read as noise.
MAX_MARKED = 3
# 6.4 in is a paper's text width (6.5 in for a one-column article, a two-column figure*), so
# the figure goes in at its natural size and its 8-10 pt text matches the caption's. The lr
# panel gets the height of a readable curve; each further panel (momentum, metric, error) is a
# strip; the title and legend add their own measured height on top.
WIDTH = 6.4
_LR_HEIGHT = 2.8
_PANEL_HEIGHT = 1.2
# 200 dpi: 1280 px wide, sharp on a high-density screen at README widths and fine for print
# (a paper takes the .pdf or .svg, which are vector).
DPI = 200
# The gallery page shows each picture at the documentation's full text width (about 750 px):
# 200 dpi (1280 px) stays sharp there on a high-density screen.
GALLERY_DPI = 200
# Font sizes are never set: titles, labels, ticks and legends take the user's rcParams (a
# style sheet, plt.style.context, rc_context), matplotlib's defaults otherwise.
# Up to this many steps, curves are drawn as stairs (drawstyle "steps-post"): the lr set at
# step k holds until step k + 1, and a line between them would draw a ramp no optimizer
# ever saw (StepLR's drop as a diagonal). Past it a step is under a pixel wide at the
# default size and stairs and lines look alike: plain lines, half the vertices.
MAX_STEPPED = 1000
# Past this many steps, the error panel draws the worst error of each of this many stretches
# of steps: per step, a million points of rounding noise is a barcode.
_ERROR_BINS = 200
# The error panel's scale is linear up to this fraction of the tolerance, logarithmic above:
# a rounding error of 1e-4 of the tolerance and exact agreement both sit at the bottom.
_ERROR_LINEAR = 1e-3
# At most this many legend columns: more would make each column too narrow for a spec.
_LEGEND_COLUMNS = 3
# The gap between the lr panel and the legend above it, in legend font sizes: more than half a
# tick label's height, so the panel's top tick label never reaches the legend.
_LEGEND_GAP = 0.9
# A label longer than this is cut (a config with a million milestones has a spec of megabytes).
MAX_LABEL = 200
# Legend entries beyond this many are left out: the legend would crowd out the panels.
MAX_LEGEND = 24
# matplotlib's tick locators overflow past about 1e306; a drawable value is within this.
_MAX_MAGNITUDE = 1e300

Plottable = Configurable | str | Mapping[str, Any]


def label(schedule: Configurable, width: int = 60, limit: int = MAX_LABEL) -> str:
    """A short description of a schedule: its spec (arguments differing from the defaults),
    cut to ``limit`` characters (ending in ``...``) and wrapped to ``width`` columns; the
    class name where the spec cannot be written (Python callables).

    >>> from lrfun import StepLR
    >>> label(StepLR(0.1, step_size=30))
    'StepLR(0.1, step_size=30)'
    """
    try:
        text = to_spec(schedule)
    except (TypeError, ValueError):
        text = type(schedule).__name__
    if len(text) > limit:
        text = text[: max(limit - 3, 0)] + "..."
    return textwrap.fill(text, width, break_long_words=False, subsequent_indent="  ")


@overload
def plot(
    schedules: Plottable | Sequence[Plottable],
    steps: int | None = None,
    *,
    metrics: Sequence[float] | np.ndarray | None = None,
    torch: bool = False,
    checks: Sequence[TorchCheck] | None = None,
    log: bool = False,
    labels: Sequence[str] | None = None,
    milestones: bool | None = None,
    stepped: bool | None = None,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    path: str | os.PathLike[str] | None = None,
    ax: None = None,
) -> Figure: ...


@overload
def plot(
    schedules: Plottable | Sequence[Plottable],
    steps: int | None = None,
    *,
    metrics: Sequence[float] | np.ndarray | None = None,
    torch: bool = False,
    checks: Sequence[TorchCheck] | None = None,
    log: bool = False,
    labels: Sequence[str] | None = None,
    milestones: bool | None = None,
    stepped: bool | None = None,
    title: str | None = None,
    figsize: None = None,
    dpi: float = DPI,
    path: None = None,
    ax: Axes,
) -> Axes: ...


def plot(
    schedules: Plottable | Sequence[Plottable],
    steps: int | None = None,
    *,
    metrics: Sequence[float] | np.ndarray | None = None,
    torch: bool = False,
    checks: Sequence[TorchCheck] | None = None,
    log: bool = False,
    labels: Sequence[str] | None = None,
    milestones: bool | None = None,
    stepped: bool | None = None,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = DPI,
    path: str | os.PathLike[str] | None = None,
    ax: Axes | None = None,
) -> Figure | Axes:
    """Plots schedules over steps ``0 .. steps - 1``: one curve per schedule and param group.

    Panels, top to bottom: the lr; momentum / beta1 when a schedule cycles it; the metric when
    a metric-driven machine (ReduceLROnPlateau, hf.GreedyLR) is plotted; with ``torch=True``,
    the error against torch as a fraction of the parity tolerance (1.0 is the tolerance:
    ``|ours - torch| / (atol + rtol * |torch|)``, float64 row of ``parity.TOLERANCES``).

    With ``ax``, only the lr panel is drawn, into that ``matplotlib.axes.Axes`` of the
    caller's own figure (beside their other plots), and the Axes is returned.

    Text takes its size from matplotlib's rcParams: a style sheet or ``plt.style.context``
    applies (draw or save the figure within the same context, as matplotlib reads tick label
    sizes when it draws).

    Args:
      schedules: a schedule, a metric-driven machine (ReduceLROnPlateau, hf.GreedyLR), a
        spec string (see ``lrfun show --help``), a config dict, or a sequence of them.
      steps: the number of steps plotted. Required unless every schedule is a machine, which
        is plotted over its ``len(metrics) + 1`` updates (cut to ``steps`` when given).
      metrics: the metric fed to every machine, one value per update.
      torch: lay torch's native trajectory (run live on CPU) over each schedule and add the
        error panel. OneCycleLR cannot be stepped by torch past ``total_steps``: torch's
        curve stops there. The legend ends with "torch"; one schedule's curve is "lrfun".
      checks: with ``torch=True``, the ``against_torch`` results of the schedules, one
        each, when the caller has them already (the ``lrfun`` command prints their verdict).
      log: a log lr axis.
      labels: one legend label per schedule (default: each schedule's spec).
      milestones: mark where schedules decay, switch phase or restart, and where a machine
        changes the lr: faint dashed lines in the schedule's colour, behind the curves. The
        default (None) marks them while at most ``MAX_MARKED`` schedules are plotted
        (param groups of one schedule share its marks): with more, the lines of different
        schedules interleave and hide the curves. True marks them for any number, False
        never. A schedule with more than ``MAX_MILESTONES`` marks in range gets none
        (a line every few steps says nothing the curve does not). The legend names them
        "milestones" ("lr changes" where only machines are marked).
      stepped: draw the lr and momentum as stairs (``drawstyle="steps-post"``: the value
        set at step ``k`` holds until ``k + 1``), as torch's optimizer sees them. The
        default (None) draws stairs up to ``MAX_STEPPED`` steps and plain lines past
        it, where a step is under a pixel wide and both look alike.
      title: the figure title, plain text (default: the label, when one schedule is
        plotted), wrapped to the figure's width.
      figsize: inches (default: ``WIDTH`` wide; 2.8 in for the lr panel, 1.2 in per
        further panel, plus the height of the title and legend).
      dpi: dots per inch of the figure and of the saved raster file (default ``DPI``).
      path: when given, the figure is also saved there; the format (png, svg or pdf) comes
        from the suffix. The file is replaced whole or not at all: written beside it and
        renamed over it once complete.
      ax: draw the lr panel into this Axes instead of a new figure (every curve is labelled
        in its legend; the momentum, metric and error panels are left out). ``figsize`` and
        ``path`` do not apply: the figure is the caller's to size and save.

    Returns:
      The ``matplotlib.figure.Figure``; with ``ax``, that Axes.

    Raises:
      ValueError: missing ``steps`` or ``metrics``, a bad ``path`` suffix, labels of the wrong
        length, a value matplotlib cannot draw (not finite, or beyond ``1e300``), torch
        failing on the arguments (``torch=True``), ``figsize`` or ``path`` with ``ax``;
        TypeError: something that is not a schedule; OSError: ``path`` cannot be written
        (naming it; what was there is kept).

    >>> from lrfun import StepLR
    >>> fig = plot(StepLR(0.1, step_size=3), steps=8)
    >>> line = next(line for line in fig.axes[0].lines if line.get_gid() == "lr/0/0")
    >>> float(line.get_ydata()[3])
    0.010000000000000002
    >>> line.get_drawstyle()  # a few steps: stairs, as the optimizer sees the lr
    'steps-post'
    >>> from matplotlib.figure import Figure
    >>> mine = Figure().subplots()
    >>> plot(StepLR(0.1, step_size=3), steps=8, ax=mine) is mine
    True
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ModuleNotFoundError as error:  # the hint, where a bare "No module named" would be
        if error.name != "matplotlib":
            raise
        raise ModuleNotFoundError(
            "lrfun.plot needs matplotlib to draw, which is not installed: "
            "pip install 'lrfun[plot]'",
            name=error.name,
        ) from error

    items = _as_list(schedules)
    fmt = _format_of(path) if path is not None else None
    if labels is not None and len(labels) != len(items):
        raise ValueError(
            f"labels must have one entry per schedule ({len(items)}), got {_shown(labels)}"
        )
    names = list(labels) if labels is not None else [label(s) for s in items]
    names = [_cut(name) for name in names]
    curves = [_curve(s, steps, metrics) for s in items]
    refs = None
    if torch:
        if checks is None:
            checks = [check(s, c) for s, c in zip(items, curves, strict=True)]
        if len(checks) != len(items):
            raise ValueError(f"checks must have one entry per schedule ({len(items)})")
        refs = list(checks)

    if ax is not None and (figsize is not None or path is not None):
        raise ValueError(
            "figsize and path apply to plot's own figure: with ax=, size and save your "
            "figure yourself (fig.savefig)"
        )
    has_momentum = any(c.momentum is not None for c in curves)
    has_metric = any(c.metric is not None for c in curves)
    panels = ["lr", *(["momentum"] * has_momentum), *(["metric"] * has_metric)]
    panels += ["error"] * bool(torch)
    panels_height = _LR_HEIGHT + _PANEL_HEIGHT * (len(panels) - 1)
    if ax is None:
        fig = Figure(figsize=figsize or (WIDTH, panels_height), dpi=dpi, layout="constrained")
        canvas = FigureCanvasAgg(fig)  # a renderer to measure the title and legend with
        ratios = [_LR_HEIGHT / _PANEL_HEIGHT] + [1.0] * (len(panels) - 1)
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False, height_ratios=ratios)
        panel = dict(zip(panels, axes[:, 0], strict=True))
    else:  # the caller's Axes holds the lr panel; the other panels are left out
        panel = {"lr": ax}
    colors = [f"C{i % 10}" for i in range(len(items))]
    several = len(items) > 1 or ax is not None  # in a caller's Axes, every curve is named
    marked = milestones if milestones is not None else len(items) <= MAX_MARKED
    n = max(len(c.steps) for c in curves)
    drawstyle = "steps-post" if (stepped if stepped is not None else n <= MAX_STEPPED) else None

    entries: list[tuple[Any, str]] = []
    torch_line = None
    milestone_line = None
    machines_only = True  # every mark drawn is where a machine changed the lr
    for i, (curve, name, color) in enumerate(zip(curves, names, colors, strict=True)):
        groups = curve.lr.shape[1]
        for g in range(groups):
            style = _GROUP_STYLES[g % len(_GROUP_STYLES)]
            (line,) = panel["lr"].plot(
                curve.steps,
                curve.lr[:, g],
                style,
                color=color,
                lw=1.4,
                drawstyle=drawstyle,
                gid=f"lr/{i}/{g}",
            )
            # one schedule is named by the title; beside torch's curve it is "lrfun"
            own = name if several else ("lrfun" if torch else "")
            text = _legend(own, g if groups > 1 else None)
            if text is not None:
                entries.append((line, text))
            if curve.momentum is not None and "momentum" in panel:
                panel["momentum"].plot(
                    curve.steps,
                    curve.momentum[:, g],
                    style,
                    color=color,
                    lw=1.2,
                    drawstyle=drawstyle,
                    gid=f"momentum/{i}/{g}",
                )
        if (
            curve.metric is not None
            and "metric" in panel
            and not any(line.get_gid() == "metric" for line in panel["metric"].lines)
        ):
            panel["metric"].plot(
                np.arange(1, len(curve.metric) + 1),
                curve.metric,
                ".-",
                color="0.3",
                lw=0.8,
                ms=2,
                gid="metric",
            )
        if marked:
            for x in _milestones(items[i], curve):
                # behind the curves (zorder 1 < 2) and faint: a guide, not data
                mark = panel["lr"].axvline(
                    x,
                    color=color,
                    lw=0.7,
                    ls=(0, (3, 3)),
                    alpha=0.45,
                    zorder=1,
                    gid=f"milestone/{i}",
                )
                milestone_line = milestone_line or mark
                machines_only = machines_only and items[i]._metric_driven
        if refs is not None:
            torch_line = _draw_torch(panel, i, refs[i], curve, color, drawstyle) or torch_line

    _finish(panel, log=log, torch=torch, own=ax is None)
    tail: list[tuple[Any, str]] = []  # after the schedules: theirs keep the colour order
    if torch_line is not None:
        # whose scheduler ran: torch's, transformers', a library's
        references = sorted({c.reference.reference for c in refs or []})
        tail.append((torch_line, " / ".join(references)))
    if milestone_line is not None:  # the faint dashed lines, named once (in grey: any colour)
        tail.append((_milestone_handle(), "lr changes" if machines_only else "milestones"))
    entries = entries[: MAX_LEGEND - len(tail)] + tail
    if ax is not None:
        if entries:
            legend = ax.legend(*zip(*entries, strict=True))
            _plain_texts(legend.get_texts())
        if title is not None:
            ax.set_title(title, parse_math=False, usetex=False)
        return ax
    renderer = _renderer(canvas)
    room = 0.96 * fig.bbox.width  # pixels a line of title or legend may span
    extra = 0.0  # pixels of title and legend above the panels
    point = fig.dpi / 72  # pixels
    if entries:
        legend = _place_legend(panel["lr"], entries, renderer, room)
        size = legend.get_texts()[0].get_fontsize()  # points, from the user's rcParams
        extra += legend.get_window_extent(renderer).height + 2 * _LEGEND_GAP * size * point
    if title is not None:
        heading = title
    elif several:
        heading = ""
    else:  # the spec on as few lines as the width allows (a label is wrapped for a legend)
        heading = names[0] if labels is not None else label(items[0], width=10_000)
    if heading:
        suptitle = fig.suptitle(heading, parse_math=False, usetex=False)
        _fit_text(suptitle, renderer, room)
        gap = float(suptitle.get_fontsize()) * point  # a line's worth, in its own size
        extra += suptitle.get_window_extent(renderer).height + gap
    if figsize is None:
        fig.set_size_inches(WIDTH, panels_height + extra / fig.dpi)
    if torch:
        _label_tolerance(panel["error"], canvas)
    if path is not None:
        _save(fig, path, fmt, dpi)
    return fig


def _save(fig: Figure, path: str | os.PathLike[str], fmt: str | None, dpi: float) -> None:
    """Saves the figure to ``path`` atomically: into a new file beside it, renamed over it
    once complete, so a failure (a full disk, an interrupt) leaves what was there and no
    partial file. A path that names a FIFO or a device is written in place (a rename would
    replace it); a link is followed, as an ordinary write would.

    Raises:
      OSError: naming ``path``, whatever step failed.
    """
    shown = os.fspath(path)
    target = os.path.realpath(shown)
    directory, name = os.path.split(target)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as e:
        raise OSError(e.errno, e.strerror, shown) from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        try:
            fig.savefig(target, format=fmt, dpi=dpi)
        except OSError as e:
            raise OSError(e.errno, e.strerror, shown) from None
        return
    temporary = ""
    try:
        for _ in range(100):  # a name nobody holds; 0o666 lets the umask set the mode
            temporary = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            try:
                fd = os.open(temporary, flags, 0o666)
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(errno.EEXIST, "no free temporary name beside it")
        with os.fdopen(fd, "wb") as file:
            fig.savefig(file, format=fmt, dpi=dpi)
            file.flush()
            os.fsync(file.fileno())
        if info is not None:  # the replaced file's permissions, as a write in place keeps
            os.chmod(temporary, stat.S_IMODE(info.st_mode))
        os.replace(temporary, target)
        temporary = ""
    except OSError as e:
        raise OSError(e.errno, e.strerror, shown) from None
    finally:
        if temporary:
            with contextlib.suppress(OSError):
                os.remove(temporary)


def gallery_name(cls: type) -> str:
    """The file name (without ``.png``) of a class's gallery picture: torch's and
    transformers' by the class name (``StepLR``, ``CosineWithWarmup``), every other
    family's by its registered name (``keras.ExponentialDecay``, ``optax.ExponentialDecay``:
    names the families share stay apart)."""
    namespace = getattr(cls, "_namespace", "")
    return cls.__name__ if namespace in ("", "hf.") else f"{namespace}{cls.__name__}"


def gallery(
    directory: str | os.PathLike[str],
    *,
    dpi: float = GALLERY_DPI,
    torch: bool | None = None,
    written: Callable[[Path, int, int], None] | None = None,
) -> list[Path]:
    """One PNG per schedule class that names representative settings (every registered class
    but those that take a Python function: torch's single schedules, a SequentialLR, a
    ChainedScheduler, transformers' schedules, and the metric-driven machines fed a synthetic
    loss) and an overlay of OneCycleLR on torch's trajectory (``overlay.png``), each at the
    default figure size.

    Args:
      directory: created if missing; files are named after the schedules.
      dpi: dots per inch (default ``GALLERY_DPI``).
      torch: draw the overlay (default: when torch is importable).
      written: called after each file with its path, the number of files written so far
        and the number the gallery writes (a progress bar's calls).

    Returns:
      The paths written.

    Raises:
      OSError: a file cannot be written, naming it (each file is replaced whole or not at
        all, as [``plot``][lrfun.plot.plot] writes it).
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    if torch is None:
        import importlib.util

        torch = importlib.util.find_spec("torch") is not None
    pictured = [cls for cls in classes() if cls._gallery is not None]
    total = len(pictured) + bool(torch)
    paths: list[Path] = []

    def done(path: Path) -> None:
        paths.append(path)
        if written is not None:
            written(path, len(paths), total)

    for cls in pictured:
        assert cls._gallery is not None
        spec, steps = cls._gallery
        schedule = load(spec)
        metrics = _synthetic_loss(steps) if schedule._metric_driven else None
        path = out / f"{gallery_name(cls)}.png"
        plot(schedule, steps, metrics=metrics, dpi=dpi, path=path)
        done(path)
    if torch:
        path = out / "overlay.png"
        spec, steps = _OVERLAY
        plot(load(spec), steps, torch=True, dpi=dpi, path=path, title=f"{spec} vs torch")
        done(path)
    return paths


_OVERLAY = ("OneCycleLR(0.1, total_steps=300, three_phase=True)", 300)


def _synthetic_loss(n: int) -> np.ndarray:
    """A validation loss that falls, then flattens with noise (deterministic)."""
    k = np.arange(n)
    noise = np.random.default_rng(0).normal(0.0, 0.01, n)
    return 0.3 + 0.7 * np.exp(-k / 20) + noise


def _as_list(schedules: Any) -> list[Configurable]:
    if isinstance(schedules, (Configurable, str, Mapping)):
        schedules = [schedules]
    if not isinstance(schedules, Sequence) or not schedules:
        raise TypeError(
            f"schedules must be a schedule or a non-empty sequence, got {_shown(schedules)}"
        )
    out: list[Configurable] = []
    for i, s in enumerate(schedules):
        if isinstance(s, str):
            s = load(s)
        elif isinstance(s, Mapping):
            s = from_config(s)
        if not isinstance(s, Configurable):
            raise TypeError(f"schedules[{i}] must be an lrfun schedule, got {_shown(s)}")
        out.append(s)
    return out


def _format_of(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in _FORMATS:
        raise ValueError(
            f"path must end in .png, .svg or .pdf, got {_shown(os.fspath(path), PATH_SHOWN)}"
        )
    return suffix


def _curve(s: Configurable, steps: int | None, metrics: Any) -> Curve:
    if s._metric_driven and metrics is not None:
        metric = np.asarray(metrics, dtype=np.float64).reshape(-1)
        with np.errstate(invalid="ignore"):
            huge = np.isfinite(metric) & (np.abs(metric) > _MAX_MAGNITUDE)
        if huge.any():  # nan and inf are gaps in the metric's curve; huge numbers break it
            k = int(np.argmax(huge))
            if steps is None or k + 1 < steps:
                raise ValueError(
                    f"metric {k + 1} is {float(metric[k])!r}: a plot draws metrics up to "
                    f"{_MAX_MAGNITUDE:g} in magnitude"
                )
    curve = evaluate(s, steps, metrics)
    lr = _drawable(s, "lr", curve.lr)
    momentum = None if curve.momentum is None else _drawable(s, "momentum", curve.momentum)
    return dataclasses.replace(curve, lr=lr, momentum=momentum)


def _drawable(s: Configurable, what: str, values: np.ndarray) -> np.ndarray:
    """The values, when matplotlib can draw them: finite and at most 1e300 in magnitude."""
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(values) <= _MAX_MAGNITUDE)
    if bad.any():
        step, group = (int(i) for i in np.argwhere(bad)[0])
        where = f"step {step}" + (f", group {group}" if values.shape[1] > 1 else "")
        raise ValueError(
            f"the {what} of {label(s, width=10_000)} is {float(values[step, group])!r} at {where}: "
            f"a plot draws finite values up to {_MAX_MAGNITUDE:g} in magnitude"
        )
    return values


def _milestones(s: Configurable, curve: Curve) -> list[float]:
    """Steps where the schedule visibly changes course, within the plotted range."""
    n = len(curve.steps)
    if s._metric_driven:  # where the lr was cut (or, by a GreedyLR, raised)
        changes = np.flatnonzero(np.any(curve.lr[1:] != curve.lr[:-1], axis=1)) + 1
        found = [float(k) for k in changes]
    else:
        assert isinstance(s, Schedule)
        found = sorted({float(x) for x in s._course_changes(n) if 0 < x < n})
    return found if len(found) <= MAX_MILESTONES else []


# The check against the reference, as this module has named it.
TorchCheck = Check


def against_torch(
    schedule: Plottable, steps: int | None = None, *, metrics: Any = None
) -> TorchCheck:
    """Runs torch's native scheduler for a schedule (CPU, float lrs) and compares.

    Args:
      schedule: as one entry of [``plot``][lrfun.plot.plot]'s ``schedules``.
      steps: steps ``0 .. steps - 1``, capped where torch stops stepping.
      metrics: the metrics of a machine (ReduceLROnPlateau, hf.GreedyLR), one per update.

    Returns:
      The [``TorchCheck``][lrfun.plot.Check].

    >>> from lrfun import StepLR
    >>> against_torch(StepLR(0.1, step_size=3), steps=8).passed
    True
    """
    (s,) = _as_list(schedule)
    return check(s, _curve(s, steps, metrics))


def _draw_torch(
    panel: dict[str, Axes],
    i: int,
    check: TorchCheck,
    curve: Curve,
    color: str,
    drawstyle: str | None,
) -> Any:
    """Draws torch's trajectory over schedule ``i`` and its error; returns its first lr line
    (the legend's "torch" entry)."""
    ref = check.reference
    x = curve.steps[: ref.lr.shape[0]]
    first = None
    for g in range(ref.lr.shape[1]):
        (line,) = panel["lr"].plot(
            x,
            ref.lr[:, g],
            ls=(0, (1, 2)),
            color="black",
            lw=1.0,
            drawstyle=drawstyle,
            gid=f"torch/lr/{i}/{g}",
        )
        first = first or line
        if ref.momentum is not None and "momentum" in panel:
            panel["momentum"].plot(
                x,
                ref.momentum[:, g],
                ls=(0, (1, 2)),
                color="black",
                lw=0.9,
                drawstyle=drawstyle,
                gid=f"torch/momentum/{i}/{g}",
            )
    if "error" in panel:
        # a filled staircase: the error of step k holds until k + 1, as the lr does
        ex, ey = _worst_per_stretch(x, np.asarray(check.fractions, dtype=np.float64))
        err = panel["error"]
        err.fill_between(ex, ey, step="post", color=color, alpha=0.3, lw=0, gid=f"error/{i}")
        err.plot(ex, ey, color=color, lw=0.8, drawstyle="steps-post", gid=f"error/{i}")
    return first


def _worst_per_stretch(x: np.ndarray, fractions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The error per step, or past ``_ERROR_BINS`` steps the worst of each of that many
    stretches of steps, at each stretch's first step (the last step closes the staircase):
    the worst error is kept, the rounding noise between steps is not drawn as a barcode."""
    if len(fractions) <= _ERROR_BINS:
        return x, fractions
    starts = np.unique(np.linspace(0, len(fractions), _ERROR_BINS, endpoint=False).astype(int))
    worst = np.maximum.reduceat(fractions, starts)
    return np.append(x[starts], x[-1]), np.append(worst, worst[-1])


def _milestone_handle() -> Any:
    """The legend's sample of a milestone line: faint, dashed, grey (each schedule's own are
    in its colour)."""
    from matplotlib.lines import Line2D

    return Line2D([], [], color="0.4", lw=0.7, ls=(0, (3, 3)), alpha=0.7)


def _plain_texts(texts: Any) -> None:
    """Labels are specs and names, never math text."""
    for text in texts:
        text.set_parse_math(False)
        text.set_usetex(False)


def _legend(name: str, group: int | None) -> str | None:
    if group is None:
        return name or None
    return f"{name}, group {group}" if name else f"group {group}"


def _finish(panel: dict[str, Axes], *, log: bool, torch: bool, own: bool) -> None:
    """Scales, labels and ticks of the panels (``own``: plot's own figure, not a caller's
    Axes, whose grid and layout are the caller's)."""
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    if log:
        panel["lr"].set_yscale("log")
    panel["lr"].set_ylabel("lr")
    if "momentum" in panel:
        panel["momentum"].set_ylabel("momentum")
    if "metric" in panel:
        panel["metric"].set_ylabel("metric")
    for a in panel.values():
        if a.get_yscale() == "linear":
            # each tick label carries its own exponent: matplotlib's shared "1e-5" offset
            # text sits above the panel, where the legend is
            a.yaxis.set_major_formatter(_tick_formatter())
        if own:
            a.grid(True, lw=0.3, alpha=0.5)
    if torch and "error" in panel:
        _finish_error(panel["error"])
    axes = list(panel.values())
    # steps are whole numbers: integer ticks, with thousands separators instead of an offset
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    axes[-1].xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes[-1].set_xlabel("step")
    if own:
        # one column of panel names, left of the widest tick labels: a name left of narrow
        # tick labels would reach under the wider ones of the panel above
        fig = axes[0].get_figure(root=True)
        assert fig is not None
        fig.align_ylabels(axes)


def _finish_error(err: Axes) -> None:
    """The error panel's scale: linear up to ``_ERROR_LINEAR`` of the tolerance (exact
    agreement sits on the axis), logarithmic above, up to the tolerance line at 1 (or the
    worst error, when above it); "exactly equal" written across it when every error is 0."""
    worst = [float(np.max(line.get_ydata(), initial=0.0)) for line in err.lines]
    err.axhline(1.0, color="red", lw=0.8, ls="--", gid="tolerance")
    top = max([1.0, *(w for w in worst if np.isfinite(w))])
    err.set_yscale("symlog", linthresh=_ERROR_LINEAR)
    err.set_ylim(0.0, 3 * top)
    # three labels: a strip panel has no room for a label per decade at a large font size
    err.set_yticks([0.0, 1e-2, 1.0, *([top] if top > 10 else [])])
    if worst and max(worst) == 0.0:
        err.text(
            0.5,
            0.5,
            "exactly equal",
            transform=err.transAxes,
            ha="center",
            va="center",
            color="0.3",
            gid="exact",
        )
    err.set_ylabel("error / tol")


def _label_tolerance(err: Axes, canvas: FigureCanvasAgg) -> None:
    """Names the tolerance line, just above it at the right, inside the error panel: the
    panel's top is raised until the label fits below it (the layout is final here)."""
    from matplotlib.transforms import offset_copy

    fig = err.get_figure(root=True)
    assert fig is not None
    text = err.text(
        0.99,
        1.0,
        "tolerance",
        transform=offset_copy(err.get_yaxis_transform(), fig=fig, y=1.0, units="points"),
        ha="right",
        va="bottom",
        color="red",
        fontsize="small",  # beside the rcParams' text size, not in place of it
        gid="tolerance",
    )
    fig.draw_without_rendering()  # lays the panels out: their heights are final
    renderer = _renderer(canvas)
    height = err.get_window_extent(renderer).height
    # the label's height plus a point of gap below and two above, as a fraction of the panel
    need = (text.get_window_extent(renderer).height + 3.0 * fig.dpi / 72) / max(height, 1.0)
    need = min(need, 0.8)  # a panel too small for the label: keep the line in sight
    scale = err.yaxis.get_transform()
    bottom, line = (float(v) for v in scale.transform(np.array([0.0, 1.0])))
    top = float(scale.inverted().transform(np.array([bottom + (line - bottom) / (1 - need)]))[0])
    low, high = err.get_ylim()
    err.set_ylim(low, max(high, top))


def _renderer(canvas: FigureCanvasAgg) -> Any:
    return canvas.get_renderer()  # type: ignore[no-untyped-call]  # matplotlib: unannotated


def _place_legend(lr: Axes, entries: list[tuple[Any, str]], renderer: Any, room: float) -> Any:
    """The legend, centred above the lr panel (clear of the curves and of the title above it):
    as many columns (up to three) as fit in ``room`` pixels, labels rewrapped narrower when
    one column does not fit."""
    handles = [handle for handle, _ in entries]
    texts = [text for _, text in entries]

    def build(labels: list[str], columns: int) -> Any:
        legend = lr.legend(
            handles,
            labels,
            ncols=columns,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            borderaxespad=_LEGEND_GAP,
            frameon=False,
        )
        _plain_texts(legend.get_texts())
        return legend

    for columns in range(min(len(handles), _LEGEND_COLUMNS), 0, -1):
        legend = build(texts, columns)
        if legend.get_window_extent(renderer).width <= room:
            return legend
    width = max(len(text) for text in texts)
    while width > 1 and legend.get_window_extent(renderer).width > room:
        width = max(1, int(width * 0.8))
        legend = build([_rewrap(text, width) for text in texts], 1)
    return legend


def _fit_text(text: Any, renderer: Any, room: float) -> None:
    """Rewraps a text artist until it is at most ``room`` pixels wide."""
    raw = text.get_text()
    width = max(len(line) for line in raw.splitlines()) if raw else 0
    while width > 1 and text.get_window_extent(renderer).width > room:
        width = max(1, int(width * 0.8))
        text.set_text(_rewrap(raw, width))


def _rewrap(text: str, width: int) -> str:
    """``text`` refilled to ``width`` columns, breaking words longer than a line."""
    return textwrap.fill(" ".join(text.split()), width, break_long_words=True)


def _cut(text: str) -> str:
    """A label cut to ``MAX_LABEL`` characters, ending in ``...`` when cut."""
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 3] + "..."


def _tick_digits(values: np.ndarray, style: str) -> int:
    """The fewest digits (after the point, of the mantissa in the ``e`` style) that tell the
    ticks apart: each printed tick reads back within a thousandth of their spacing."""
    distinct = np.unique(values)
    spacing = float(np.min(np.diff(distinct))) if distinct.size > 1 else abs(float(distinct[0]))
    for digits in range(17):
        back = np.array([float(f"{v:.{digits}{style}}") for v in distinct])
        if np.all(np.abs(back - distinct) <= 1e-3 * spacing):
            return digits
    return 17


def _tick_text(values: np.ndarray) -> tuple[str, int]:
    """The format of a linear axis' tick labels: positional (``0.025``) for magnitudes in
    ``[1e-4, 1e5)``, else scientific (``2.5e-08``), with the digits the spacing needs."""
    values = values[np.isfinite(values)]
    big = float(np.max(np.abs(values), initial=0.0))
    if big == 0.0:
        return "f", 0
    style = "f" if 1e-4 <= big < 1e5 else "e"
    return style, _tick_digits(values, style)


@functools.cache
def _formatter_class() -> type:
    from matplotlib.ticker import Formatter

    class _Ticks(Formatter):
        """Tick labels with their own exponent and no offset text (see ``_tick_text``)."""

        style, digits = "f", 0

        def set_locs(self, locs: Any) -> None:
            super().set_locs(locs)
            self.style, self.digits = _tick_text(np.asarray(locs, dtype=np.float64))

        def __call__(self, x: float, pos: int | None = None) -> str:
            if x == 0:  # never "-0.00" nor "0.00e+00"
                return "0"
            text = f"{x:.{self.digits}{self.style}}"
            if self.style == "f":
                return text
            mantissa, exponent = text.split("e")
            return f"{mantissa}e{int(exponent)}"  # 2.5e-8, not 2.5e-08

    return _Ticks


def _tick_formatter() -> Any:
    return _formatter_class()()
