"""``python -m parity``: the parity report (see parity/report.py)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from parity.report import TENSOR_LR_STEPS, Row, run

# Beside the twelve single schedules: the composites and the plateau machine.
EXTRA = ("SequentialLR", "ChainedScheduler", "ReduceLROnPlateau")


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


def _at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    """Runs the report; exit status 1 when any row fails (a known miss, documented, does
    not)."""
    from parity.backends import devices as present
    from parity.strategies import NAMES

    parser = argparse.ArgumentParser(prog="python -m parity", description=__doc__)
    parser.add_argument(
        "--steps", type=_at_least(1), default=1000, help="steps per trajectory (1000)"
    )
    parser.add_argument(
        "--examples",
        type=_at_least(0),
        default=3,
        help="Hypothesis-drawn configs per schedule, beside a representative one",
    )
    parser.add_argument("--device", default="all", help="cpu, cuda, mps or all present")
    parser.add_argument("--schedule", action="append", choices=[*NAMES, *EXTRA], help="only these")
    parser.add_argument("--json", action="store_true", help="rows as JSON on stdout")
    args = parser.parse_args(argv)
    found = present()
    if args.device != "all" and args.device.split(":")[0] not in found:
        parser.error(f"device {args.device!r} is not present here (present: {', '.join(found)})")
    devices = found if args.device == "all" else [args.device]
    names = args.schedule or [*NAMES, *EXTRA]

    if args.json:
        rows = run(names, steps=args.steps, examples=args.examples, devices=devices)
        json.dump([r.__dict__ for r in rows], sys.stdout, indent=1)
        print()
    else:
        from rich.progress import Progress

        with Progress(transient=True) as progress:
            total = sum(1 if n == "ReduceLROnPlateau" else args.examples + 1 for n in names)
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
