"""``python -m parity``: the parity report (see parity/report.py).

Limits: ``--steps`` in [1, 1,000,000] and ``--examples`` in [0, 1,000] (torch steps every
reference one Python call at a time). ``--device`` is ``all``, ``cpu`` (or ``cpu:0``),
``cuda`` or ``cuda:N`` with N below torch's CUDA device count, ``mps`` (or ``mps:0``), when
present. A refused argument is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from parity.report import TENSOR_LR_STEPS, Row, run

PROG = "python -m parity"
MAX_STEPS = 1_000_000
MAX_EXAMPLES = 1_000

# Beside the twelve single schedules: the composites and the plateau machine.
# "hf": transformers' get_scheduler types (lrfun.hf) against transformers itself, when
# it is installed.
EXTRA = ("SequentialLR", "ChainedScheduler", "ReduceLROnPlateau", "hf")


def _table(rows: list[Row], steps: int) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title=f"lrfun vs torch, steps 0..{steps} (tensor lr: 0..{min(steps, TENSOR_LR_STEPS)})"
    )
    for column in (
        "schedule",
        "backend",
        "torch reference",
        "device",
        "steps",
        "examples",
        "values",
        "max error / tol",
        "pass",
    ):
        table.add_column(
            column, justify="right" if column in ("steps", "examples", "values") else "left"
        )
    for r in rows:
        table.add_row(
            r.schedule,
            r.backend,
            r.reference,
            r.device,
            f"0..{r.steps}",
            str(r.examples),
            str(r.values),
            f"{r.max_fraction:.3g}",
            "[green]pass[/]" if r.passed else "[yellow]known[/]" if r.ok else "[red]FAIL[/]",
        )
    console = Console(width=max(Console().width, 120))
    console.print(table)
    for r in rows:
        if not r.passed and r.ok:
            console.print(
                f"[yellow]known miss[/] {r.schedule} on {r.backend} ({r.reference}): "
                f"{escape(r.known_miss)}"
            )
    for r in rows:
        if not r.ok:
            console.print(
                f"[red]FAIL[/] {r.schedule} on {r.backend} ({r.reference}): {escape(r.detail)}"
            )


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
        text = " ".join(message.split())
        print(f"{self.prog}: error: {text} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(2)


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
        help=f"steps per trajectory, at most {MAX_STEPS:,} (1000)",
    )
    parser.add_argument(
        "--examples",
        type=_between(0, MAX_EXAMPLES),
        default=3,
        help=(
            f"Hypothesis-drawn configs per schedule, beside a representative one, at most "
            f"{MAX_EXAMPLES:,} (3)"
        ),
    )
    parser.add_argument(
        "--device", default="all", help="cpu, cuda, cuda:N, mps or all present (all)"
    )
    parser.add_argument("--schedule", action="append", choices=[*NAMES, *EXTRA], help="only these")
    parser.add_argument("--json", action="store_true", help="rows as JSON on stdout")
    args = parser.parse_args(argv)
    found = present()
    if args.device == "all":
        devices = found
    else:
        try:
            devices = [_device(args.device, found)]
        except ValueError as e:
            parser.error(f"argument --device: {e}")
    names = args.schedule or [*NAMES, *EXTRA]

    if args.json:
        rows = run(names, steps=args.steps, examples=args.examples, devices=devices)
        json.dump([r.__dict__ for r in rows], sys.stdout, indent=1)
        print()
    else:
        from rich.progress import Progress

        with Progress(transient=True) as progress:
            total = sum(1 if n in ("ReduceLROnPlateau", "hf") else args.examples + 1 for n in names)
            total += "LambdaLR" in names and "cpu" in devices  # the traced-lambda rows
            task = progress.add_task("parity", total=total)
            rows = run(
                names,
                steps=args.steps,
                examples=args.examples,
                devices=devices,
                advance=lambda name: progress.update(task, advance=1, description=name),
            )
        _table(rows, args.steps)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
