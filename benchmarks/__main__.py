"""``python -m benchmarks``: run the comparisons, print the table, write the JSON."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import Row

MODULES = (
    "graph",
    "train_step",
    "adapter",
    "trajectory",
    "compiled_loop",
    "parity_speed",
    "sweep",
    "simulation",
)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import jax
    import numpy
    import optax
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "jax": jax.__version__,
        "optax": optax.__version__,
        "torch": torch.__version__,
    }


def _print(rows: list[Row], info: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"lrfun benchmarks ({info['cpus']} CPUs, torch {info['torch']}, jax {info['jax']})"
    )
    for column in ("benchmark", "case", "metric", "value", "target", "met"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for r in rows:
        met = {True: "yes", False: "[red]no[/]", None: ""}[r.met]
        table.add_row(r.benchmark, r.case, r.metric, f"{r.value:.3g}", r.target, met)
    Console().print(table)


def markdown(rows: list[Row], info: dict[str, Any]) -> str:
    """The rows as a Markdown table, with the machine they were measured on."""
    lines = [
        f"Measured on {info['cpus']} CPUs ({info['processor']}, {info['platform']}), Python "
        f"{info['python']}, torch {info['torch']}, jax {info['jax']}, optax {info['optax']}, "
        f"numpy {info['numpy']}:",
        "",
        "| benchmark | case | metric | value | target | met |",
        "| --- | --- | --- | ---: | --- | --- |",
    ]
    for r in rows:
        met = {True: "yes", False: "**no**", None: ""}[r.met]
        lines.append(
            f"| {r.benchmark} | {r.case} | {r.metric} | {r.value:.3g} | {r.target} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", action="append", choices=MODULES, help="only these")
    parser.add_argument("--tiny", action="store_true", help="smoke-test sizes (no timings)")
    parser.add_argument(
        "--markdown", action="store_true", help="also print the table as Markdown on stdout"
    )
    parser.add_argument(
        "--json", type=Path, default=Path("benchmarks/results.json"), help="where to write"
    )
    args = parser.parse_args(argv)
    info = machine()
    rows: list[Row] = []
    started = time.perf_counter()
    for name in args.only or MODULES:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += module.run(tiny=args.tiny)
    info["seconds"] = time.perf_counter() - started
    _print(rows, info)
    if args.markdown:
        print(markdown(rows, info))
    payload = {
        "machine": info,
        "rows": [dataclasses.asdict(r) | {"met": r.met} for r in rows],
    }
    args.json.write_text(json.dumps(payload, indent=1) + "\n")
    failed = [r for r in rows if r.met is False]
    print(
        f"{len(rows)} figures, {len(failed)} targets not met; JSON in {args.json}", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
