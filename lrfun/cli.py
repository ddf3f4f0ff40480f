"""The ``lrfun`` command: plot schedules, print them step by step, render the gallery.

A SPEC is a schedule's constructor call as written in Python, with literal arguments:
``"OneCycleLR(max_lr=0.1, total_steps=1000)"``, ``"MultiStepLR([0.1, 0.01], [30, 80])"``,
``"SequentialLR([LinearLR(0.1, 0.01, total_iters=5), StepLR(0.1, 30)], milestones=[5])"`` --
or ``@config.json``, a file holding a ``schedule.to_config()`` dict. Specs are checked by a
strict grammar and never evaluated. LambdaLR and MultiplicativeLR take Python functions and
cannot be specified. A ReduceLROnPlateau is driven by ``--metrics``: comma-separated numbers
or ``@file`` (numbers separated by commas or whitespace), one per update.

Exit status: 0 on success; 2 for a bad spec or bad arguments (one line on stderr); 1 when
a file cannot be written, a needed package is missing, or (``plot --torch``) lrfun and torch
disagree beyond the parity tolerance.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lrfun._plateau import ReduceLROnPlateau
from lrfun._schedule import Configurable
from lrfun._spec import SpecError, load

__all__ = ["main"]

_MAX_STEPS = 10_000_000


class _FailureError(Exception):
    """A failure that is not the user's input: exit status 1."""


class _UsageError(Exception):
    """Bad input: exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status.

    Args:
      argv: the arguments after the program name (default ``sys.argv[1:]``).
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or argparse's own usage error (already printed)
        return e.code if isinstance(e.code, int) else 2
    try:
        return int(args.run(args))
    except (SpecError, _UsageError) as e:
        return _error(str(e), 2)
    except _FailureError as e:
        return _error(str(e), 1)
    except OSError as e:
        where = f" {e.filename!r}" if e.filename else ""
        return _error(f"cannot write{where}: {e.strerror or e}", 1)


def _error(message: str, status: int) -> int:
    print(f"lrfun: error: {' '.join(message.split())}", file=sys.stderr)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lrfun",
        description="torch's learning-rate schedulers as pure functions: plot and print them.",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    plot = commands.add_parser("plot", help="plot schedules to a PNG, SVG or PDF file")
    plot.add_argument("specs", nargs="+", metavar="SPEC", help="schedule call or @config.json")
    _add_steps(plot)
    plot.add_argument("-o", "--output", required=True, metavar="FILE", help=".png, .svg or .pdf")
    plot.add_argument("--torch", action="store_true", help="overlay torch's trajectory")
    plot.add_argument("--log", action="store_true", help="log lr axis")
    plot.add_argument("--title", help="figure title")
    plot.add_argument("--dpi", type=float, default=100.0, help="raster resolution (100)")
    plot.set_defaults(run=_plot)

    show = commands.add_parser("show", help="print the lr (and momentum) per step")
    show.add_argument("spec", metavar="SPEC", help="schedule call or @config.json")
    _add_steps(show)
    show.add_argument("--every", type=_positive, default=1, metavar="K", help="every K-th step")
    show.set_defaults(run=_show)

    gallery = commands.add_parser("gallery", help="one picture per schedule into a directory")
    gallery.add_argument("-o", "--output", required=True, metavar="DIR")
    gallery.add_argument("--dpi", type=float, default=72.0, help="raster resolution (72)")
    gallery.add_argument("--no-torch", action="store_true", help="skip the torch overlay")
    gallery.set_defaults(run=_gallery)
    return parser


def _add_steps(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--steps",
        type=_positive,
        metavar="N",
        help="steps 0..N-1 (a ReduceLROnPlateau runs over its metrics, cut to N)",
    )
    parser.add_argument(
        "--metrics",
        metavar="M",
        help="ReduceLROnPlateau's metric per update: '1.0,0.9,...' or @file",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if not 1 <= value <= _MAX_STEPS:
        raise argparse.ArgumentTypeError(f"expected an integer in [1, {_MAX_STEPS}], got {value}")
    return value


def _metrics(text: str | None) -> np.ndarray | None:
    if text is None:
        return None
    source = "--metrics"
    if text.startswith("@"):
        source = repr(text[1:])
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            reason = getattr(e, "strerror", None) or e
            raise _UsageError(f"cannot read metrics {source}: {reason}") from None
    tokens = text.replace(",", " ").split()
    values = []
    for token in tokens:
        try:
            values.append(float(token))
        except ValueError:
            raise _UsageError(f"{source} must hold numbers; found {token[:40]!r}") from None
    if not values:
        raise _UsageError(f"{source} holds no metrics")
    return np.asarray(values)


def _schedules(specs: Sequence[str], args: argparse.Namespace) -> tuple[list[Configurable], Any]:
    """The parsed specs and the metrics, checked against each other and ``--steps``."""
    schedules = [load(spec) for spec in specs]
    metrics = _metrics(args.metrics)
    plateaus = [s for s in schedules if isinstance(s, ReduceLROnPlateau)]
    if plateaus and metrics is None:
        raise _UsageError(
            "ReduceLROnPlateau is driven by a metric: give --metrics '1.0,0.9,...' or @file"
        )
    if metrics is not None and not plateaus:
        raise _UsageError("--metrics applies to ReduceLROnPlateau only")
    if args.steps is None and len(plateaus) < len(schedules):
        raise _UsageError("--steps N is required")
    return schedules, metrics


def _plot(args: argparse.Namespace) -> int:
    schedules, metrics = _schedules(args.specs, args)
    if Path(args.output).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise _UsageError(f"-o must name a .png, .svg or .pdf file, got {args.output!r}")
    plot = _import_plot()
    checks = None
    if args.torch:
        _require("torch", "plot --torch")
    try:
        if args.torch:
            checks = [plot.against_torch(s, args.steps, metrics=metrics) for s in schedules]
        plot.plot(
            schedules,
            args.steps,
            metrics=metrics,
            torch=args.torch,
            checks=checks,
            log=args.log,
            title=args.title,
            dpi=args.dpi,
            path=args.output,
        )
    except (ValueError, TypeError) as e:
        raise _UsageError(str(e)) from None
    print(f"wrote {args.output}")
    status = 0
    for schedule, check in zip(schedules, checks or [], strict=False):
        worst = check.worst_fraction
        verdict = "pass" if check.passed else "FAIL"
        print(
            f"{verdict}: {plot.label(schedule, width=10_000)} vs torch, steps "
            f"0..{check.lr.steps}: max error {worst:.3g} x tolerance"
        )
        status = max(status, int(not check.passed))
    return status


def _show(args: argparse.Namespace) -> int:
    (schedule,), metrics = _schedules([args.spec], args)
    from lrfun.plot import label

    try:
        if isinstance(schedule, ReduceLROnPlateau):
            if args.steps is not None:
                metrics = metrics[: args.steps - 1]
            lr = np.asarray(schedule.trajectory(metrics), dtype=np.float64)
            momentum = None
        else:
            ks = np.arange(args.steps)
            lr = np.asarray(schedule(ks), dtype=np.float64)
            momentum = schedule.momentum(ks) if schedule.cycles_momentum else None
    except (ValueError, TypeError) as e:
        raise _UsageError(str(e)) from None
    lr = lr.reshape(len(lr), -1)
    columns = _group_columns("lr", lr)
    if momentum is not None:
        columns += _group_columns("momentum", np.asarray(momentum).reshape(len(lr), -1))
    if metrics is not None:  # the metric of update k is fed at step k: none at step 0
        columns.append(("metric", ["", *(_number(m) for m in metrics)]))
    rows = [[str(k), *(cells[k] for _, cells in columns)] for k in range(0, len(lr), args.every)]
    _print_table(label(schedule, width=10_000), ["step", *(name for name, _ in columns)], rows)
    return 0


def _group_columns(name: str, values: np.ndarray) -> list[tuple[str, list[str]]]:
    names = [name] if values.shape[1] == 1 else [f"{name}[{g}]" for g in range(values.shape[1])]
    return [(n, [_number(v) for v in values[:, g]]) for g, n in enumerate(names)]


def _number(value: float) -> str:
    # repr: the shortest text that reads back as exactly this float
    return repr(float(value))


def _print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    try:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table
    except ImportError:  # rich is optional: plain columns
        print(title)
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
        return
    table = Table(title=escape(title))
    for name in header:
        table.add_column(escape(name), justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    # Never squeeze a number: widen past a narrow terminal (or a pipe's default 80 columns).
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    console = Console()
    console.width = max(console.width, sum(widths) + 3 * len(widths) + 1)
    console.print(table)


def _gallery(args: argparse.Namespace) -> int:
    plot = _import_plot()
    torch = not args.no_torch and _available("torch")
    if not args.no_torch and not torch:
        print("torch is not installed: no overlay picture", file=sys.stderr)
    for path in plot.gallery(args.output, dpi=args.dpi, torch=torch):
        print(f"wrote {path}")
    return 0


def _import_plot() -> Any:
    _require("matplotlib", "plotting")
    import lrfun.plot

    return lrfun.plot


def _available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _require(module: str, what: str) -> None:
    if not _available(module):
        extra = "plot" if module == "matplotlib" else module
        raise _FailureError(f"{what} needs {module}: pip install 'lrfun[{extra}]'")


if __name__ == "__main__":
    sys.exit(main())
