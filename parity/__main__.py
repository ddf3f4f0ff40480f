"""python -m parity: the parity report, lrfun against torch (and every other family's
library: transformers, optax, timm, Keras, megatron-core, the LLM frameworks' pinned
formulas) run live.

One row per schedule x backend x reference (torch's float lrs; tensor lrs, which torch
computes in float32; another library with its version) x device: the steps, the configs and
values compared, the worst error as a fraction of the parity tolerance, and the verdict (pass,
a documented known miss, or FAIL).
With rich installed the table and the progress bar are rich's; without it, plain columns on
stdout and plain progress lines on stderr. --json writes the rows as JSON instead.

Limits: --steps in [1, 1,000,000] and --examples in [0, 1,000] (torch steps every reference
one Python call at a time). --device is all, cpu (or cpu:0), cuda or cuda:N with N below
torch's CUDA device count, mps (or mps:0), when present. A refused argument is one line on
stderr and exit status 2; a failing row makes the exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from lrfun._progress import progress
from lrfun._schedule import names, registered
from lrfun._suggest import did_you_mean
from lrfun._validate import cut
from lrfun.cli import _discard_stdout, _printable
from lrfun.extend import import_schedules
from parity.report import TENSOR_LR_STEPS, Row, run

PROG = "python -m parity"
MAX_STEPS = 1_000_000
MAX_EXAMPLES = 1_000

# Beside torch's single schedules (parity.strategies.NAMES): the composites and the plateau
# machine.
# "hf": transformers' get_scheduler types (lrfun.hf) against transformers itself, when
# it is installed.
EXTRA = ("SequentialLR", "ChainedScheduler", "ReduceLROnPlateau", "hf")


def families() -> list[str]:
    """lrfun's other families (optax's, timm's, Keras', Megatron's, the LLM frameworks', its
    own compositions), each class against its own library: in the default report too."""
    return [
        name
        for name in names(own=True)
        if "." in name
        and not name.startswith("hf.")
        and getattr(registered(name), "_strategy", None) is not None
    ]


_COLUMNS = (
    "schedule",
    "backend",
    "torch reference",
    "device",
    "steps",
    "examples",
    "values",
    "max error / tol",
    "pass",
)
_RIGHT = ("steps", "examples", "values")


def _cells(row: Row) -> list[str]:
    return [
        row.schedule,
        row.backend,
        row.reference,
        row.device,
        f"0..{row.steps}",
        str(row.examples),
        str(row.values),
        f"{row.max_fraction:.3g}",
        _verdict(row),
    ]


def _verdict(row: Row) -> str:
    return "pass" if row.passed else "known" if row.ok else "FAIL"


def _notes(rows: list[Row]) -> list[tuple[str, str]]:
    """(verdict, text) below the table: each known miss with why, then each failure."""

    def where(r: Row) -> str:
        return f"{r.schedule} on {r.backend} ({r.reference})"

    known = [("known miss", f"{where(r)}: {r.known_miss}") for r in rows if r.ok and not r.passed]
    return known + [("FAIL", f"{where(r)}: {r.detail}") for r in rows if not r.ok]


def _title(steps: int) -> str:
    return f"lrfun vs torch, steps 0..{steps} (tensor lr: 0..{min(steps, TENSOR_LR_STEPS)})"


def _table(rows: list[Row], steps: int) -> None:
    """The report as a rich table, or as plain columns where rich is not installed."""
    try:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table
    except ImportError:
        _plain_table(rows, steps)
        return
    table = Table(title=_title(steps))
    for column in _COLUMNS:
        table.add_column(column, justify="right" if column in _RIGHT else "left")
    colours = {"pass": "green", "known": "yellow", "FAIL": "red"}
    for r in rows:
        *cells, verdict = (escape(cell) for cell in _cells(r))
        table.add_row(*cells, f"[{colours[verdict]}]{verdict}[/]")
    console = Console(width=max(Console().width, 120))
    console.print(table)
    for verdict, text in _notes(rows):
        colour = "red" if verdict == "FAIL" else "yellow"
        console.print(f"[{colour}]{verdict}[/] {escape(text)}")


def _plain_table(rows: list[Row], steps: int) -> None:
    lines = [list(_COLUMNS), *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(_COLUMNS))]
    print(_title(steps))
    for line in lines:
        cells = (
            cell.rjust(w) if name in _RIGHT else cell.ljust(w)
            for cell, w, name in zip(line, widths, _COLUMNS, strict=True)
        )
        print("  ".join(cells).rstrip())
    for verdict, text in _notes(rows):
        print(f"{verdict} {text}")


def _between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected an integer in [{low}, {high:,}], got {text[:40]!r}"
            )
        return value

    return parse


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one line on stderr (no usage dump), status 2."""

    def error(self, message: str) -> Any:  # argparse's hook: must not return
        _error(f"{message} (see '{self.prog} --help')")
        raise SystemExit(2)


def _error(message: str) -> None:
    """One line on stderr, as lrfun's own command writes it: control characters escaped,
    cut to 1,000 characters."""
    text = cut(_printable(" ".join(message.split())), 1000)
    print(f"{PROG}: error: {text}", file=sys.stderr)


def _device(text: str, present: list[str]) -> str:
    """A device the report can run on, as torch names it (``cpu:0`` is ``cpu``).

    Raises:
      ValueError: torch does not parse it, it is not present here, or its index is out of
        range (torch has one CPU device; CUDA devices are counted; MPS has one).
    """
    import torch

    shown = repr(text[:60])
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError) as e:
        reason = " ".join(str(e).split())[:120]
        raise ValueError(
            f"device {shown} is not present here: torch names no such device ({reason})"
        ) from None
    if device.type not in present:
        raise ValueError(f"device {shown} is not present here (present: {', '.join(present)})")
    index = device.index
    if device.type == "cuda":
        count = torch.cuda.device_count()
        if index is not None and index >= count:
            raise ValueError(
                f"device {shown} is not present here: {count} CUDA device(s), cuda:0.."
                f"cuda:{count - 1}"
            )
        return str(device)
    if index not in (None, 0):  # torch parses cpu:7 and mps:3, but there is one of each
        raise ValueError(
            f"device {shown} is not present here: torch has one {device.type} device, "
            f"{device.type} or {device.type}:0"
        )
    return device.type


def main(argv: list[str] | None = None) -> int:
    """Runs the report; exit status 1 when any row fails (a known miss, documented, does
    not)."""
    from parity.backends import devices as present
    from parity.strategies import NAMES

    parser = _Parser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--steps",
        type=_between(1, MAX_STEPS),
        default=1000,
        metavar="N",
        help=f"steps per trajectory, at most {MAX_STEPS:,} (1000)",
    )
    parser.add_argument(
        "--examples",
        type=_between(0, MAX_EXAMPLES),
        default=3,
        metavar="K",
        help=(
            f"Hypothesis-drawn configs per schedule, beside a representative one, at most "
            f"{MAX_EXAMPLES:,} (3)"
        ),
    )
    parser.add_argument(
        "--device", default="all", help="cpu, cuda, cuda:N, mps or all present (all)"
    )
    choices = [*NAMES, *EXTRA]
    parser.add_argument(
        "--schedule",
        action="append",
        metavar="NAME",
        help=(
            f"only this one (repeat for more): {', '.join(choices)} (hf: transformers' "
            "schedules, against the installed transformers), or a library's registered "
            "schedule with a _strategy (see --import)"
        ),
    )
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first: a library's schedules register themselves (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="rows as JSON on stdout")
    args = parser.parse_args(argv)
    try:
        import_schedules(args.imports)
    except ImportError as e:
        parser.error(str(e))
    for name in args.schedule or []:
        if name not in choices and getattr(registered(name), "_strategy", None) is None:
            suggestion = did_you_mean(name, choices)
            parser.error(
                f"argument --schedule: invalid choice: {name!r} "
                + (f"({suggestion}) " if suggestion else "")
                + f"(choose from {', '.join(choices)}, or a registered schedule with a "
                "_strategy)"
            )
    found = present()
    if args.device == "all":
        devices = found
    else:
        try:
            devices = [_device(args.device, found)]
        except ValueError as e:
            parser.error(f"argument --device: {e}")
    chosen = args.schedule or [*NAMES, *EXTRA, *families()]

    if args.json:
        rows = run(chosen, steps=args.steps, examples=args.examples, devices=devices)
    else:
        # plain lines on stderr where rich is missing: the report runs for minutes
        with progress(plain=True) as bar:
            total = sum(
                1 if n in ("ReduceLROnPlateau", "hf") else args.examples + 1 for n in chosen
            )
            total += "LambdaLR" in chosen and "cpu" in devices  # the traced-lambda rows
            task = bar.add_task("parity", total=total)
            rows = run(
                chosen,
                steps=args.steps,
                examples=args.examples,
                devices=devices,
                advance=lambda name: bar.update(task, advance=1, description=name),
            )
    try:
        if args.json:
            json.dump([r.__dict__ for r in rows], sys.stdout, indent=1)
            print()
        else:
            _table(rows, args.steps)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped early (| head): end quietly
        _discard_stdout()
        return 1
    except OSError as e:  # a full disk, /dev/full: one line, never a traceback
        _discard_stdout()  # what is still buffered would fail again at exit
        _error(f"cannot write to standard output: {e.strerror or e}")
        return 1
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
