"""Pictures of schedules: lr (and momentum) per step, milestones, torch's trajectory laid over.

Needs matplotlib (``pip install lrfun[plot]``); the torch overlay also needs torch. Figures
are built as :class:`matplotlib.figure.Figure` objects, never through pyplot, so plotting
touches no global state and needs no display.

Every curve carries a ``gid`` so its data can be read back (``line.get_gid()``):

=========================  ==============================================================
``lr/{i}/{g}``             schedule ``i``'s lr, param group ``g``
``momentum/{i}/{g}``       its momentum / beta1 (schedules that cycle it)
``torch/lr/{i}/{g}``       torch's lr (``torch=True``); ``torch/momentum/{i}/{g}`` likewise
``error/{i}``              ``|ours - torch| / tolerance``, the worst over groups, lr and momentum
``tolerance``              the line at 1.0 in the error panel
``metric``                 the metric fed to ReduceLROnPlateau, at updates 1..n
``milestone/{i}``          a vertical line where schedule ``i`` switches, decays or restarts
=========================  ==============================================================

Text is drawn as written: titles and legend labels are plain text, never math text (a ``$``
is a dollar sign). Labels are cut to :data:`MAX_LABEL` characters, the legend lists at most
:data:`MAX_LEGEND` curves, and values must be finite and at most ``1e300`` in magnitude
(matplotlib's axes cannot scale past that).
"""

from __future__ import annotations

import dataclasses
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lrfun._compare import Comparison, compare
from lrfun._plateau import ReduceLROnPlateau
from lrfun._reference import Trajectory, lr_scale, torch_trajectory
from lrfun._schedule import Configurable, Schedule, classes, from_config
from lrfun._spec import load, to_spec

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["MAX_LABEL", "MAX_LEGEND", "TorchCheck", "against_torch", "gallery", "label", "plot"]

_FORMATS = ("png", "svg", "pdf")
_GROUP_STYLES = ("-", "--", ":", "-.")
# More vertical lines than this say nothing (StepLR(step_size=1)): none are drawn then.
_MAX_MILESTONES = 60
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


def plot(
    schedules: Plottable | Sequence[Plottable],
    steps: int | None = None,
    *,
    metrics: Sequence[float] | np.ndarray | None = None,
    torch: bool = False,
    checks: Sequence[TorchCheck] | None = None,
    log: bool = False,
    labels: Sequence[str] | None = None,
    milestones: bool = True,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: float = 100,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Plots schedules over steps ``0 .. steps - 1``: one curve per schedule and param group.

    Panels, top to bottom: the lr; momentum / beta1 when a schedule cycles it; the metric when
    a ReduceLROnPlateau is plotted; with ``torch=True``, the error against torch as a fraction
    of the parity tolerance (1.0 is the tolerance: ``|ours - torch| / (atol + rtol * |torch|)``,
    float64 row of :data:`parity.TOLERANCES`).

    Args:
      schedules: a schedule, a ReduceLROnPlateau, a spec string (see ``lrfun show --help``),
        a config dict, or a sequence of them.
      steps: the number of steps plotted. Required unless every schedule is a plateau, which
        is plotted over its ``len(metrics) + 1`` updates (cut to ``steps`` when given).
      metrics: the metric fed to every ReduceLROnPlateau, one value per update.
      torch: lay torch's native trajectory (run live on CPU) over each schedule and add the
        error panel. OneCycleLR cannot be stepped by torch past ``total_steps``: torch's
        curve stops there.
      checks: with ``torch=True``, the :func:`against_torch` results of the schedules, one
        each, when the caller has them already (the ``lrfun`` command prints their verdict).
      log: a log lr axis.
      labels: one legend label per schedule (default: each schedule's spec).
      milestones: mark where schedules decay, switch phase or restart, and where a plateau
        cuts the lr.
      title: the figure title, plain text (default: the label, when one schedule is
        plotted).
      figsize: inches (default: 6 wide, taller per panel).
      dpi: dots per inch of the saved raster file.
      path: when given, the figure is also saved there; the format (png, svg or pdf) comes
        from the suffix.

    Returns:
      The :class:`matplotlib.figure.Figure`.

    Raises:
      ValueError: missing ``steps`` or ``metrics``, a bad ``path`` suffix, labels of the wrong
        length, a value matplotlib cannot draw (not finite, or beyond ``1e300``), torch
        failing on the arguments (``torch=True``); TypeError: something that is not a
        schedule.

    >>> from lrfun import StepLR
    >>> fig = plot(StepLR(0.1, step_size=3), steps=8)
    >>> line = next(line for line in fig.axes[0].lines if line.get_gid() == "lr/0/0")
    >>> float(line.get_ydata()[3])
    0.010000000000000002
    """
    from matplotlib.figure import Figure

    items = _as_list(schedules)
    fmt = _format_of(path) if path is not None else None
    if labels is not None and len(labels) != len(items):
        raise ValueError(f"labels must have one entry per schedule ({len(items)}), got {labels!r}")
    names = list(labels) if labels is not None else [label(s) for s in items]
    curves = [_curve(s, steps, metrics) for s in items]
    refs = None
    if torch:
        if checks is None:
            checks = [_check(s, c) for s, c in zip(items, curves, strict=True)]
        if len(checks) != len(items):
            raise ValueError(f"checks must have one entry per schedule ({len(items)})")
        refs = list(checks)

    has_momentum = any(c.momentum is not None for c in curves)
    has_metric = any(c.metric is not None for c in curves)
    panels = ["lr", *(["momentum"] * has_momentum), *(["metric"] * has_metric)]
    panels += ["error"] * bool(torch)
    if figsize is None:
        figsize = (6.0, 2.4 + 1.1 * (len(panels) - 1))
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ratios = [2.6] + [1.0] * (len(panels) - 1)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False, height_ratios=ratios)[:, 0]
    ax = dict(zip(panels, axes, strict=True))
    colors = [f"C{i % 10}" for i in range(len(items))]
    several = len(items) > 1

    legend = 0
    for i, (curve, name, color) in enumerate(zip(curves, names, colors, strict=True)):
        groups = curve.lr.shape[1]
        for g in range(groups):
            text = _legend(name if several else "", g if groups > 1 else None)
            if text is not None:
                legend += 1
                text = text if legend <= MAX_LEGEND else None
            style = _GROUP_STYLES[g % len(_GROUP_STYLES)]
            ax["lr"].plot(
                curve.steps,
                curve.lr[:, g],
                style,
                color=color,
                lw=1.4,
                label=text,
                gid=f"lr/{i}/{g}",
            )
            if curve.momentum is not None:
                ax["momentum"].plot(
                    curve.steps,
                    curve.momentum[:, g],
                    style,
                    color=color,
                    lw=1.2,
                    gid=f"momentum/{i}/{g}",
                )
        if curve.metric is not None and not any(
            line.get_gid() == "metric" for line in ax["metric"].lines
        ):
            ax["metric"].plot(
                np.arange(1, len(curve.metric) + 1),
                curve.metric,
                ".-",
                color="0.3",
                lw=0.8,
                ms=2,
                gid="metric",
            )
        if milestones:
            for x in _milestones(items[i], curve):
                ax["lr"].axvline(
                    x, color=color, lw=0.7, ls=(0, (2, 2)), alpha=0.5, gid=f"milestone/{i}"
                )
        if refs is not None:
            _draw_torch(ax, i, refs[i], curve, color)

    _finish(ax, log=log, torch=torch, several=several)
    heading = title if title is not None else ("" if several else names[0])
    if heading:
        fig.suptitle(heading, fontsize=9, parse_math=False, usetex=False)
    if path is not None:
        fig.savefig(path, format=fmt, dpi=dpi)
    return fig


def gallery(
    directory: str | os.PathLike[str], *, dpi: float = 72, torch: bool | None = None
) -> list[Path]:
    """One PNG per schedule with representative settings (the twelve single schedules,
    a SequentialLR, a ChainedScheduler, a ReduceLROnPlateau on a synthetic loss) and an
    overlay of OneCycleLR on torch's trajectory (``overlay.png``).

    Args:
      directory: created if missing; files are named after the schedules.
      dpi: dots per inch (72 keeps each picture small).
      torch: draw the overlay (default: when torch is importable).

    Returns:
      The paths written.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for cls in classes():
        if cls._gallery is None:
            continue
        name = cls.__name__
        spec, steps = cls._gallery
        schedule = load(spec)
        metrics = _synthetic_loss(steps) if isinstance(schedule, ReduceLROnPlateau) else None
        path = out / f"{name}.png"
        plot(schedule, steps, metrics=metrics, dpi=dpi, path=path)
        written.append(path)
    if torch is None:
        import importlib.util

        torch = importlib.util.find_spec("torch") is not None
    if torch:
        path = out / "overlay.png"
        spec, steps = _OVERLAY
        plot(load(spec), steps, torch=True, dpi=dpi, path=path, title=f"{spec} vs torch")
        written.append(path)
    return written


_OVERLAY = ("OneCycleLR(0.1, total_steps=300, three_phase=True)", 300)


def _synthetic_loss(n: int) -> np.ndarray:
    """A validation loss that falls, then flattens with noise (deterministic)."""
    k = np.arange(n)
    noise = np.random.default_rng(0).normal(0.0, 0.01, n)
    return 0.3 + 0.7 * np.exp(-k / 20) + noise


class _Curve:
    """A schedule's values over the plotted steps, as float64 ``(n, groups)`` arrays."""

    def __init__(
        self,
        steps: np.ndarray,
        lr: np.ndarray,
        momentum: np.ndarray | None = None,
        metric: np.ndarray | None = None,
    ) -> None:
        self.steps, self.lr, self.momentum, self.metric = steps, lr, momentum, metric


def _as_list(schedules: Any) -> list[Configurable]:
    if isinstance(schedules, (Configurable, str, Mapping)):
        schedules = [schedules]
    if not isinstance(schedules, Sequence) or not schedules:
        raise TypeError(f"schedules must be a schedule or a non-empty sequence, got {schedules!r}")
    out = []
    for i, s in enumerate(schedules):
        if isinstance(s, str):
            s = load(s)
        elif isinstance(s, Mapping):
            s = from_config(s)
        if not isinstance(s, (Schedule, ReduceLROnPlateau)):
            raise TypeError(f"schedules[{i}] must be an lrfun schedule, got {s!r}")
        out.append(s)
    return out


def _format_of(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in _FORMATS:
        raise ValueError(f"path must end in .png, .svg or .pdf, got {os.fspath(path)!r}")
    return suffix


def _columns(values: Any, rows: int) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(rows, -1)


def _curve(s: Configurable, steps: int | None, metrics: Any) -> _Curve:
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if isinstance(s, ReduceLROnPlateau):
        if metrics is None:
            raise ValueError("a ReduceLROnPlateau is plotted from metrics: pass metrics=[...]")
        metric = np.asarray(metrics, dtype=np.float64).reshape(-1)
        if steps is not None:
            metric = metric[: steps - 1]
        with np.errstate(invalid="ignore"):
            huge = np.isfinite(metric) & (np.abs(metric) > _MAX_MAGNITUDE)
        if huge.any():  # nan and inf are gaps in the metric's curve; huge numbers break it
            k = int(np.argmax(huge))
            raise ValueError(
                f"metric {k + 1} is {float(metric[k])!r}: a plot draws metrics up to "
                f"{_MAX_MAGNITUDE:g} in magnitude"
            )
        lr = s.trajectory(metric)
        return _Curve(np.arange(len(metric) + 1), _columns(lr, len(metric) + 1), metric=metric)
    if steps is None:
        raise ValueError(f"steps is required to plot {type(s).__name__}")
    assert isinstance(s, Schedule)
    ks = np.arange(steps)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
        momentum = _columns(s.momentum(ks), steps) if s.cycles_momentum else None
        lr = _drawable(s, "lr", _columns(s(ks), steps))
    if momentum is not None:
        momentum = _drawable(s, "momentum", momentum)
    return _Curve(ks, lr, momentum=momentum)


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


def _milestones(s: Configurable, curve: _Curve) -> list[float]:
    """Steps where the schedule visibly changes course, within the plotted range."""
    n = len(curve.steps)
    if isinstance(s, ReduceLROnPlateau):
        cuts = np.flatnonzero(np.any(curve.lr[1:] < curve.lr[:-1], axis=1)) + 1
        return [float(k) for k in cuts]
    assert isinstance(s, Schedule)
    found = sorted({float(x) for x in s._course_changes(n) if 0 < x < n})
    return found if len(found) <= _MAX_MILESTONES else []


@dataclasses.dataclass(frozen=True)
class TorchCheck:
    """A schedule against torch's own scheduler, run live: what :func:`plot` draws with
    ``torch=True`` and what ``lrfun plot --torch`` judges.

    Args:
      reference: torch's trajectory (cut where torch stops stepping: OneCycleLR).
      lr: our lrs against it, under the float64 row of the tolerance policy.
      momentum: our momentum against torch's, where both cycle it; else None.
    """

    reference: Trajectory
    lr: Comparison
    momentum: Comparison | None

    @property
    def passed(self) -> bool:
        """Whether every step and group is within tolerance (lr and momentum)."""
        return self.lr.passed and (self.momentum is None or self.momentum.passed)

    @property
    def fractions(self) -> np.ndarray:
        """``|ours - torch| / allowed`` per step, the worst over groups, lr and momentum."""
        if self.momentum is None:
            return self.lr.fractions
        return np.maximum(self.lr.fractions, self.momentum.fractions)

    @property
    def worst_fraction(self) -> float:
        """The largest of :attr:`fractions` (``<= 1`` is a pass)."""
        return max(self.lr.max_fraction, self.momentum.max_fraction if self.momentum else 0.0)


def against_torch(
    schedule: Plottable, steps: int | None = None, *, metrics: Any = None
) -> TorchCheck:
    """Runs torch's native scheduler for a schedule (CPU, float lrs) and compares.

    Args:
      schedule: as one entry of :func:`plot`'s ``schedules``.
      steps: steps ``0 .. steps - 1``, capped where torch stops stepping.
      metrics: the metrics of a ReduceLROnPlateau, one per update.

    Returns:
      The :class:`TorchCheck`.

    >>> from lrfun import StepLR
    >>> against_torch(StepLR(0.1, step_size=3), steps=8).passed
    True
    """
    (s,) = _as_list(schedule)
    return _check(s, _curve(s, steps, metrics))


def _check(s: Configurable, curve: _Curve) -> TorchCheck:
    """:func:`against_torch` for a curve already evaluated."""
    config = _torch_config(s)
    try:
        if curve.metric is not None:
            ref = torch_trajectory(config, len(curve.metric), metrics=list(curve.metric))
        else:
            assert isinstance(s, Schedule)
            last = len(curve.steps) - 1
            limit = s._torch_steps()
            ref = torch_trajectory(config, last if limit is None else min(last, limit))
    except (ArithmeticError, ValueError, RuntimeError) as e:  # torch's own overflow, say
        raise ValueError(
            f"torch's {type(s).__name__} fails on {label(s, width=10_000)}: {type(e).__name__}: {e}"
        ) from None
    rows = ref.lr.shape[0]
    lr = compare(curve.lr[:rows], ref.lr, dtype="float64", scale=lr_scale(config))
    momentum = None
    if ref.momentum is not None and curve.momentum is not None:
        momentum = compare(curve.momentum[:rows], ref.momentum, dtype="float64", what="momentum")
    return TorchCheck(ref, lr, momentum)


def _torch_config(s: Configurable) -> dict[str, Any]:
    """The config torch is built from (callables included; lrfun-only arguments dropped)."""
    config: dict[str, Any] = {"name": type(s).__name__}
    for key, value in s.arguments().items():
        if key == "horizon":
            continue
        if key == "schedulers":
            value = [_torch_config(child) for child in value]
        config[key] = list(value) if isinstance(value, tuple) else value
    return config


def _draw_torch(ax: dict[str, Axes], i: int, check: TorchCheck, curve: _Curve, color: str) -> None:
    ref = check.reference
    x = curve.steps[: ref.lr.shape[0]]
    for g in range(ref.lr.shape[1]):
        ax["lr"].plot(
            x,
            ref.lr[:, g],
            ls=(0, (1, 2)),
            color="black",
            lw=1.0,
            gid=f"torch/lr/{i}/{g}",
            label="torch" if i == 0 and g == 0 else None,
        )
        if ref.momentum is not None and "momentum" in ax:
            ax["momentum"].plot(
                x,
                ref.momentum[:, g],
                ls=(0, (1, 2)),
                color="black",
                lw=0.9,
                gid=f"torch/momentum/{i}/{g}",
            )
    ax["error"].plot(x, check.fractions, color=color, lw=1.0, gid=f"error/{i}")


def _legend(name: str, group: int | None) -> str | None:
    if group is None:
        return name or None
    return f"{name}, group {group}" if name else f"group {group}"


def _finish(ax: dict[str, Axes], *, log: bool, torch: bool, several: bool) -> None:
    if log:
        ax["lr"].set_yscale("log")
    ax["lr"].set_ylabel("lr", fontsize=8)
    if "momentum" in ax:
        ax["momentum"].set_ylabel("momentum", fontsize=8)
    if "metric" in ax:
        ax["metric"].set_ylabel("metric", fontsize=8)
    if torch:
        err = ax["error"]
        err.axhline(1.0, color="red", lw=0.8, ls="--", gid="tolerance")
        # symlog: exact agreement (0) stays visible below the tolerance line.
        err.set_yscale("symlog", linthresh=1e-5)
        worst = [np.max(line.get_ydata(), initial=0.0) for line in err.lines]
        top = max([1.0, *(float(w) for w in worst if np.isfinite(w))])
        err.set_ylim(0.0, 3 * top)
        err.set_yticks([0.0, 1e-4, 1e-2, 1.0, *([top] if top > 10 else [])])
        err.text(
            1.0,
            1.0,
            "tolerance ",
            transform=err.get_yaxis_transform(),
            ha="right",
            va="bottom",
            color="red",
            fontsize=6,
        )
        err.set_ylabel("error / tol", fontsize=8)
    for a in ax.values():
        a.tick_params(labelsize=7)
        a.grid(True, lw=0.3, alpha=0.5)
    axes = list(ax.values())
    axes[-1].set_xlabel("step", fontsize=8)
    if not any(
        line.get_label() and not line.get_label().startswith("_") for line in ax["lr"].lines
    ):
        return
    if several:  # long labels: above the panels, clear of the curves
        legend = ax["lr"].figure.legend(loc="outside upper center", fontsize=7, frameon=False)
    else:
        legend = ax["lr"].legend(fontsize=7, loc="best", frameon=False)
    for text in legend.get_texts():  # labels are specs and names, never math text
        text.set_parse_math(False)
        text.set_usetex(False)
