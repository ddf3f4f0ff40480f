"""The lrfun command: plot schedules, print them step by step, render the gallery.

A SPEC is a schedule's constructor call as written in Python, with literal arguments:
"OneCycleLR(max_lr=0.1, total_steps=1000)", "MultiStepLR([0.1, 0.01], [30, 80])",
"SequentialLR([LinearLR(0.1, 0.01, total_iters=5), StepLR(0.1, 30)], milestones=[5])" --
or @config.json, a file holding a schedule.to_config() dict. Specs are checked by a strict
grammar and never evaluated. Schedules that take a Python function cannot be specified
(MultiplicativeLR can, with a number for its lr_lambda: a constant factor). A
metric-driven schedule (ReduceLROnPlateau, hf.GreedyLR) is driven by --metrics:
comma-separated numbers or @file (numbers separated by commas or whitespace), one per update;
it runs at about a microsecond per metric.

--steps N is required, except where every SPEC is metric-driven: it then runs over
its --metrics, which --steps N (if given) cuts to N steps. show --format csv or json writes
the values for programs to read (lrfun show --help describes the columns and keys).

Limits: --steps at most 10,000,000, and --steps times the param groups, summed over the
SPECs, at most 10,000,000 values (a metric-driven one counts its metrics, cut to --steps);
plot --torch at most 1,000,000 steps (torch runs step by step). An @file must be a regular
file of at most 1 MiB (a config) or 16 MiB (metrics); a JSON config repeats no key and holds
integers in the 64-bit range, as a spec does. --dpi is a number in [10, 1000]; --title is
plain text (no math text) of at most 200 characters. Labels and titles made from a spec are
cut to 200 characters; show prints plain columns instead of a table past 10,000 rows.

Exit status: 0 on success; 2 for a bad spec or bad arguments, or a schedule that cannot be
evaluated, plotted or run by torch (one line on stderr, never a traceback); 1 when a file
or the output cannot be written (the file named; a picture is replaced whole or not at
all), a needed package is missing, or (plot --torch) lrfun and torch disagree beyond the
parity tolerance. Output cut short by its reader (show ... | head) ends quietly, with status
1. Messages show control characters escaped and never quote a metrics file's content.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import textwrap
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from lrfun import __version__
from lrfun._check import evaluate
from lrfun._check import rows as evaluated_rows
from lrfun._completion import SHELLS
from lrfun._completion import script as completion_script
from lrfun._progress import progress, reporting_steps
from lrfun._schedule import Configurable, names
from lrfun._spec import SpecError, load, read_file, spec_names
from lrfun._suggest import did_you_mean
from lrfun._validate import PATH_SHOWN, _shown, cut

__all__ = ["build_parser", "main"]

_MAX_STEPS = 10_000_000
# --steps x param groups, summed over the SPECs: about 80 MB of float64 per array.
_MAX_VALUES = 10_000_000
# torch steps its scheduler one Python call at a time (about 0.1-0.3 ms a step).
_MAX_TORCH_STEPS = 1_000_000
_MAX_METRICS_BYTES = 16 << 20
_DPI_RANGE = (10.0, 1000.0)
_MAX_TITLE = 200
# Longer tables print as plain columns, streamed (a rich table holds every cell at once).
_MAX_TABLE_ROWS = 10_000
# An error message longer than this is cut: it is one line on a terminal.
_MAX_MESSAGE = 1000
# Work that runs longer than this (seconds) shows a progress bar, on a terminal's stderr.
_PROGRESS_DELAY = 2.0
# show --digits: a float64 has at most 17 significant digits.
_MAX_DIGITS = 17


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
        args, extras = parser.parse_known_args(argv)
        if extras:
            parser.error(_unrecognized(parser, args, extras))
    except SystemExit as e:  # --help, or argparse's own usage error (already printed)
        return e.code if isinstance(e.code, int) else 2
    try:
        _import_schedules(args.imports)
        # stderr carries one line, the refusal: no numpy or matplotlib warnings beside it
        # (an overflow shows as inf in the output, or is refused by plot).
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return int(args.run(args))
    except (SpecError, _UsageError) as e:
        return _error(str(e), 2)
    except _FailureError as e:
        return _error(str(e), 1)
    except BrokenPipeError:
        # The reader stopped early (show ... | head): end quietly, as other filters do.
        _discard_stdout()
        return 1
    except OSError as e:
        if e.filename:  # the output file (plot and gallery name it)
            return _error(f"cannot write {_shown(e.filename, PATH_SHOWN)}: {e.strerror or e}", 1)
        _discard_stdout()  # what is still buffered would fail again at exit
        return _error(f"cannot write to standard output: {e.strerror or e}", 1)
    except Exception as e:  # a valid spec that still fails to evaluate: never a traceback
        return _error(f"{type(e).__name__}: {e}", 2)


def _import_schedules(modules: Sequence[str]) -> None:
    """Imports a library's schedules: ``--import`` and the ``lrfun.schedules`` entry points."""
    from lrfun.extend import import_schedules

    try:
        import_schedules(modules)
    except ImportError as e:
        raise _UsageError(str(e)) from None


def _discard_stdout() -> None:
    """Points stdout at the null device: the interpreter's last flush of what is still
    buffered would otherwise meet the closed pipe again, and print a traceback."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no file (captured in a test): nothing to flush
        pass


def _error(message: str, status: int) -> int:
    """Prints the message as one line on stderr (whitespace runs as one space, terminal
    control characters escaped, cut to ``_MAX_MESSAGE``); returns ``status``."""
    text = " ".join(message.split())
    print(f"lrfun: error: {cut(_printable(text), _MAX_MESSAGE)}", file=sys.stderr)
    return status


def _printable(text: str) -> str:
    """``text`` with every character a terminal would act on or hide escaped as Python
    writes it (``\\x1b``, ``\\u202e``): an escape sequence in an argument, a file name or a
    schedule name is shown, never run. Every line the command prints about its work goes
    through here."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one ``lrfun: error:`` line (no usage dump), and a
    did-you-mean for a mistyped command or choice."""

    def error(self, message: str) -> Any:  # argparse's hook: must not return
        command = self.prog.partition(" ")[2]
        where = f"{command}: " if command else ""
        _error(f"{where}{message} (see '{self.prog} --help')", 2)
        raise SystemExit(2)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # argparse's own check of a command or a --format (Python 3.14 suggests only when
        # asked to, and older versions never do): the close choices follow its message
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as e:
            suggestion = did_you_mean(value, action.choices or ())
            if not suggestion:
                raise
            raise argparse.ArgumentError(action, f"{e.message}; {suggestion}") from None


def _unrecognized(
    parser: argparse.ArgumentParser, args: argparse.Namespace, extras: list[str]
) -> str:
    """argparse's refusal of arguments no option takes, with the close options of the
    command given (``--stesp`` -> ``--steps``)."""
    options = _options(parser)
    for command in _commands(parser).values():
        if command.get_default("run") is getattr(args, "run", None):
            options += _options(command)
    message = f"unrecognized arguments: {' '.join(extras)}"
    for extra in extras:
        option = extra.partition("=")[0]
        suggestion = did_you_mean(option, options) if option.startswith("-") else ""
        if suggestion:
            return f"{message}; {suggestion}"
    return message


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [option for action in parser._actions for option in action.option_strings]


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands' parsers, by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def build_parser() -> argparse.ArgumentParser:
    """The ``lrfun`` command's argument parser: every command, option and help text (what
    a reference page of the command is generated from).

    Returns:
      A new ``argparse.ArgumentParser``; its ``parse_args`` gives the namespace
      [``main``][lrfun.cli.main] runs.

    >>> sorted(build_parser().parse_args(["show", "StepLR(0.1, 3)", "--steps", "5"]).__dict__)
    ['digits', 'every', 'format', 'imports', 'metrics', 'run', 'spec', 'steps']
    """
    return _parser()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lrfun",
        description="torch's learning-rate schedulers as pure functions: plot and print them.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lrfun {__version__}")
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first: a library's schedules register their names (repeatable; "
        "the current directory is searched too)",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    plot = commands.add_parser(
        "plot",
        help="plot schedules to a PNG, SVG or PDF file",
        description="Plot schedules (lr, and momentum where cycled) to a PNG, SVG or PDF file.",
        usage=_usage("-o FILE [--torch] [--log] [--title TITLE] [--dpi DPI] SPEC [SPEC ...]"),
    )
    plot.add_argument("specs", nargs="+", metavar="SPEC", help="schedule call or @config.json")
    plot.add_argument("-o", "--output", required=True, metavar="FILE", help=".png, .svg or .pdf")
    plot.add_argument("--torch", action="store_true", help="overlay torch's trajectory")
    plot.add_argument("--log", action="store_true", help="log lr axis")
    plot.add_argument(
        "--title", type=_title, help=f"figure title, plain text (at most {_MAX_TITLE} characters)"
    )
    plot.add_argument(
        "--dpi",
        type=_dpi,
        help="raster resolution in [10, 1000] (default: lrfun.plot.DPI, 200)",
    )
    _add_steps(plot)
    plot.set_defaults(run=_plot)

    show = commands.add_parser(
        "show",
        help="print the lr (and momentum) per step: a table, CSV or JSON",
        description="Print the lr (and momentum where cycled) per step: a table, CSV or JSON.",
        epilog=_FORMATS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage=_usage(f"[--every K] [--digits D] [--format {{{','.join(_FORMATS)}}}] SPEC"),
    )
    show.add_argument("spec", metavar="SPEC", help="schedule call or @config.json")
    show.add_argument("--every", type=_positive, default=1, metavar="K", help="every K-th step")
    show.add_argument(
        "--digits",
        type=_digits,
        metavar="D",
        help=(
            f"round every value to D significant digits, D in [1, {_MAX_DIGITS}] (default: "
            "the exact float, every digit it needs)"
        ),
    )
    show.add_argument(
        "--format",
        choices=_FORMATS,
        default="table",
        help="table (the default), csv (a header row, then a row per step) or json (one object)",
    )
    _add_steps(show)
    show.set_defaults(run=_show)

    gallery = commands.add_parser(
        "gallery",
        help="one picture per schedule into a directory",
        description="One picture per schedule, with representative settings, into a directory.",
    )
    gallery.add_argument("-o", "--output", required=True, metavar="DIR", help="the directory")
    gallery.add_argument(
        "--dpi",
        type=_dpi,
        help="raster resolution in [10, 1000] (default: that of the documentation's pictures)",
    )
    gallery.add_argument("--no-torch", action="store_true", help="skip the torch overlay")
    gallery.set_defaults(run=_gallery)

    completion = commands.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh, fish)",
        description=(
            "Print a completion script for the shell: it completes commands, options, their\n"
            "values and, where a SPEC goes, the schedule names (asked of 'lrfun completion\n"
            "--names' as you type: a library's schedules, from --import, are completed too)."
        ),
        epilog=_COMPLETION_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [-h] {bash,zsh,fish}\n       %(prog)s [-h] --names",
    )
    completion.add_argument("shell", nargs="?", choices=SHELLS, help="the shell")
    completion.add_argument(
        "--names",
        action="store_true",
        help="print the names a SPEC may call, one per line, instead (what the scripts ask)",
    )
    completion.set_defaults(run=_completion)
    return parser


_COMPLETION_HELP = """\
Load it:
  bash  add to ~/.bashrc:  source <(lrfun completion bash)
  zsh   add to ~/.zshrc, after compinit:  source <(lrfun completion zsh)
  fish  lrfun completion fish > ~/.config/fish/completions/lrfun.fish
"""


def _completion(args: argparse.Namespace) -> int:
    if args.names == (args.shell is not None):
        raise _UsageError("completion: give a shell (bash, zsh or fish), or --names")
    if args.names:
        sys.stdout.write("".join(f"{name}\n" for name in spec_names()))
    else:
        sys.stdout.write(completion_script(args.shell, _parser()))
    return 0


_FORMATS = ("table", "csv", "json")
_FORMATS_HELP = """\
--format: table (the default) is for reading; csv and json are for programs, on stdout,
every value written as the shortest text that reads back as the same float (--digits D
rounds each to D significant digits first: 0.07893697913739436 is 0.07894 with --digits 4).

csv: a header row, then one row per step shown: step,lr (step,lr[0],lr[1],... with several
param groups), then momentum (momentum[0],...) where the schedule cycles momentum, then
metric for a metric-driven schedule (empty at step 0, which has none).

json: one object, {"config": the schedule's to_config() dict, "step": [0, 1, ...], "lr":
[...], "momentum": [...] where cycled, "metric": [null, ...] for a metric-driven one}.
"lr" and "momentum" hold a number per step, or a list per step (a number per param group)
where the schedule has param groups. It is strict JSON: NaN and infinities are the strings
"NaN", "Infinity" and "-Infinity".

Examples:
  lrfun show "OneCycleLR(0.1, total_steps=100)" --steps 100 --format csv > lr.csv
  lrfun show "StepLR(0.1, 30)" --steps 90 --every 10 --format json
  lrfun show "ReduceLROnPlateau(0.1)" --metrics=-1.0,-1.2,-1.2 --format csv
  (write --metrics=... when the first metric is negative: -1.0 alone reads as an option)
"""


def _usage(options: str) -> str:
    """A usage of two lines: --steps is required, except where the SPECs are all
    ReduceLROnPlateaus, which --metrics drives (argparse has no way to say so itself)."""
    return (
        f"%(prog)s [-h] {options} --steps N\n       %(prog)s [-h] {options} --metrics M [--steps N]"
    )


def _epilog() -> str:
    """The module's notes, with the names a spec may call (from the spec grammar) after the
    first: the list grows as schedules are registered."""
    usable = spec_names()
    listed = f"A SPEC names one of: {', '.join(usable)}."
    unusable = [n for n in names() if n not in usable]
    if unusable:
        listed += f" Not {', '.join(unusable)}: they take a Python function."
    first, rest = __doc__.split("\n\n", 2)[1:]
    wrapped = textwrap.fill(listed, 92, break_on_hyphens=False)
    return f"{first}\n\n{wrapped}\n\n{rest.strip()}"


def _add_steps(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "length",
        "--steps N is required; a metric-driven SPEC runs over --metrics M instead\n(and "
        "--steps N, if given, cuts it)",
    )
    group.add_argument(
        "--steps",
        type=_positive,
        metavar="N",
        help=(
            "steps 0..N-1; N times the param groups, summed over the SPECs, at most "
            f"{_MAX_VALUES:,}"
        ),
    )
    group.add_argument(
        "--metrics",
        metavar="M",
        help=(
            "the metric per update (ReduceLROnPlateau, hf.GreedyLR): '1.0,0.9,...' or "
            "@file (a regular file of at most 16 MiB)"
        ),
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {_shown(text)}"
        ) from None
    if not 1 <= value <= _MAX_STEPS:
        raise argparse.ArgumentTypeError(f"expected an integer in [1, {_MAX_STEPS}], got {value}")
    return value


def _digits(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= _MAX_DIGITS:
        raise argparse.ArgumentTypeError(
            f"expected an integer in [1, {_MAX_DIGITS}], got {_shown(text)}"
        )
    return value


def _dpi(text: str) -> float:
    low, high = _DPI_RANGE
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # nan and inf fail too
        raise argparse.ArgumentTypeError(
            f"expected a number in [{low:g}, {high:g}], got {_shown(text)}"
        )
    return value


def _title(text: str) -> str:
    if len(text) > _MAX_TITLE:
        raise argparse.ArgumentTypeError(
            f"the title is {len(text)} characters long; at most {_MAX_TITLE}"
        )
    return text


# Metrics are read a block of text at a time: 16 MiB of "1,1,..." is 8 million tokens, half
# a gigabyte as one list of strings.
_METRICS_BLOCK = 1 << 20
_SEPARATOR = re.compile(r"[,\s]")
_TOKEN = re.compile(r"[^,\s]+")


def _metrics(text: str | None) -> np.ndarray | None:
    """``--metrics``: numbers separated by commas or whitespace, inline or in an @file.

    A file's content is never echoed in a refusal (``--metrics @/etc/shadow``): the message
    says which token is not a number, where, and what kind of text it is."""
    if text is None:
        return None
    path = None
    if text.startswith("@"):
        path = text[1:]
        text = read_file(path, _MAX_METRICS_BYTES, what="metrics")
    blocks: list[np.ndarray] = []
    start = 0
    while start < len(text):
        found = _SEPARATOR.search(text, min(start + _METRICS_BLOCK, len(text)))
        end = found.start() if found else len(text)
        tokens = text[start:end].replace(",", " ").split()
        try:
            blocks.append(np.fromiter(map(float, tokens), dtype=np.float64, count=len(tokens)))
        except ValueError:
            before = sum(len(block) for block in blocks)
            raise _UsageError(_not_a_number(text, start, end, before, path)) from None
        start = end
    source = "--metrics" if path is None else f"metrics {_shown(path, PATH_SHOWN)}"
    if not blocks or not sum(len(block) for block in blocks):
        raise _UsageError(f"{source} holds no metrics")
    return np.concatenate(blocks)


def _not_a_number(text: str, start: int, end: int, before: int, path: str | None) -> str:
    """The refusal of the first token in ``text[start:end]`` that is not a number (``before``
    numbers came earlier): inline, the token itself; in a file, only where it is and what
    kind of text."""
    index, match = next(
        (i, m)
        for i, m in enumerate(_TOKEN.finditer(text, start, end), before + 1)
        if not _is_number(m.group())
    )
    token = match.group()
    words = "must hold numbers separated by commas or whitespace"
    if path is None:
        return f"--metrics {words}; metric {index} is {_shown(token)}"
    line = text.count("\n", 0, match.start()) + 1
    column = match.start() - text.rfind("\n", 0, match.start())
    if not token.isprintable():
        kind = "binary data"
    elif any(c.isalpha() for c in token):
        kind = "a word"
    else:
        kind = "a malformed number"
    where = f"metric {index} (line {line}, column {column})"
    return (
        f"metrics {_shown(path, PATH_SHOWN)} {words}; {where} is not a number: {kind} of "
        f"{len(token)} characters (not shown: the file's content is never echoed)"
    )


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _schedules(specs: Sequence[str], args: argparse.Namespace) -> tuple[list[Configurable], Any]:
    """The parsed specs and the metrics, checked against each other and ``--steps``."""
    schedules = [load(spec) for spec in specs]
    metrics = _metrics(args.metrics)
    plateaus = [s for s in schedules if s._metric_driven]
    if plateaus and metrics is None:
        raise _UsageError(
            f"{plateaus[0]._name} is driven by a metric: give --metrics '1.0,0.9,...' or @file"
        )
    if metrics is not None and not plateaus:
        raise _UsageError(
            "--metrics applies to metric-driven schedules only (ReduceLROnPlateau, hf.GreedyLR)"
        )
    if args.steps is None and len(plateaus) < len(schedules):
        raise _UsageError("--steps N is required")
    total = 0
    for schedule in schedules:
        rows = evaluated_rows(schedule, args.steps, metrics)
        groups = getattr(schedule, "_groups", None) or 1
        total += rows * groups
        if total > _MAX_VALUES:
            raise _UsageError(
                f"{rows:,} steps x {groups} param group(s) makes {total:,} values (summed "
                f"over the specs); at most {_MAX_VALUES:,} are evaluated: give fewer --steps"
            )
    return schedules, metrics


def _plot(args: argparse.Namespace) -> int:
    schedules, metrics = _schedules(args.specs, args)
    if Path(args.output).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise _UsageError(
            f"-o must name a .png, .svg or .pdf file, got {_shown(args.output, PATH_SHOWN)}"
        )
    plot = _import_plot()
    checks = None
    if args.torch:
        _require("torch", "plot --torch")
        rows = max(evaluated_rows(s, args.steps, metrics) for s in schedules)
        if rows > _MAX_TORCH_STEPS:
            raise _UsageError(
                f"plot --torch runs torch's scheduler one step at a time: at most "
                f"{_MAX_TORCH_STEPS:,} steps, got {rows:,}"
            )
    try:
        # torch steps one Python call at a time (100,000 steps: seconds): a bar on a terminal
        with progress(delay=_PROGRESS_DELAY) as bar:
            if args.torch:
                checks = _against_torch(plot, schedules, args.steps, metrics, bar)
            bar.add_task(f"drawing {_markup_free(args.output)}", total=None)
            plot.plot(
                schedules,
                args.steps,
                metrics=metrics,
                torch=args.torch,
                checks=checks,
                log=args.log,
                title=args.title,
                path=args.output,
                **({} if args.dpi is None else {"dpi": args.dpi}),
            )
    except (ValueError, TypeError, ArithmeticError) as e:
        raise _UsageError(str(e)) from None
    print(f"wrote {_printable(args.output)}")
    status = 0
    for schedule, check in zip(schedules, checks or [], strict=False):
        worst = check.worst_fraction
        verdict = "pass" if check.passed else "FAIL"
        print(
            _printable(
                f"{verdict}: {plot.label(schedule, width=_NO_WRAP)} vs "
                f"{check.reference.reference}, steps "
                f"0..{check.lr.steps}: max error {worst:.3g} x tolerance"
            )
        )
        status = max(status, int(not check.passed))
    return status


def _against_torch(
    plot: Any, schedules: list[Configurable], steps: int | None, metrics: Any, bar: Any
) -> list[Any]:
    """Each schedule's check against torch, the bar told of every block of torch's steps."""
    total = sum(evaluated_rows(s, steps, metrics) - 1 for s in schedules)
    task = bar.add_task("running torch", total=total)
    checks = []
    with reporting_steps(lambda n: bar.update(task, advance=n)):
        for s in schedules:
            checks.append(plot.against_torch(s, steps, metrics=metrics))
    bar.update(task, completed=total)  # OneCycleLR stops at total_steps, before the end
    return checks


def _markup_free(text: str) -> str:
    """``text`` for a progress line: control characters escaped, rich's markup taken as
    written."""
    try:
        from rich.markup import escape
    except ImportError:  # no rich, no bar: the text is never shown
        return _printable(text)
    return escape(_printable(text))


def _show(args: argparse.Namespace) -> int:
    (schedule,), metrics = _schedules([args.spec], args)
    try:
        curve = evaluate(schedule, args.steps, metrics)
    except (ValueError, TypeError, ArithmeticError) as e:
        raise _UsageError(str(e)) from None
    # The arrays as the schedule gives them: (steps,) or (steps, groups).
    lr = curve.lr if schedule.groups else curve.lr[:, 0]
    momentum = curve.momentum
    if momentum is not None and not schedule.groups:
        momentum = momentum[:, 0]
    metrics = curve.metric
    shown = np.arange(0, len(lr), args.every)
    # The arrays as the schedule gives them, at the steps shown: (steps,) or (steps, groups).
    arrays: dict[str, np.ndarray] = {"lr": lr[shown]}
    if momentum is not None:
        arrays["momentum"] = np.asarray(momentum, dtype=np.float64)[shown]
    fed = None
    if metrics is not None:  # the metric of update k is fed at step k: none at step 0
        fed = np.concatenate([[np.nan], np.asarray(metrics, dtype=np.float64)])[shown]
        # None: an object array, blank at step 0 (numpy's stubs take no None here)
        fed = np.where(shown == 0, cast(Any, None), fed)
    if args.digits is not None:
        arrays = {name: _rounded(values, args.digits) for name, values in arrays.items()}
        fed = None if fed is None else _rounded(fed, args.digits)
    if args.format == "json":
        _write_json(schedule, shown, arrays, fed)
        return 0
    columns = [c for name, values in arrays.items() for c in _group_columns(name, values)]
    if fed is not None:
        columns.append(("metric", fed))
    header = ["step", *(name for name, _ in columns)]
    values = [shown, *(column for _, column in columns)]
    if args.format == "csv":
        _write_csv(header, values)
        return 0
    from lrfun.plot import label

    title = label(schedule, width=_NO_WRAP)
    if len(shown) > _MAX_TABLE_ROWS:
        _print_columns(title, header, values)
    else:
        _print_table(title, header, list(_cells(values, 0, len(shown))))
    return 0


# label() wraps at this width: never, on one line of a table title or a verdict.
_NO_WRAP = 10_000
# Rows formatted and written at a time by the streaming writers.
_BLOCK = 10_000


def _rounded(values: np.ndarray, digits: int) -> np.ndarray:
    """The values rounded to ``digits`` significant digits (``--digits``), each then printed
    as the shortest text that reads back as it: ``0.07893697913739436`` to 4 digits is
    ``0.07894``. A missing metric (None, at step 0) stays missing; nan and inf stay."""
    if values.dtype == object:
        items = [None if v is None else float(f"{v:.{digits}g}") for v in values.tolist()]
        return np.array(items, dtype=object)
    flat = [float(f"{v:.{digits}g}") for v in values.ravel().tolist()]
    return np.array(flat, dtype=np.float64).reshape(values.shape)


def _group_columns(name: str, values: np.ndarray) -> list[tuple[str, np.ndarray]]:
    values = values.reshape(len(values), -1)
    names = [name] if values.shape[1] == 1 else [f"{name}[{g}]" for g in range(values.shape[1])]
    return [(n, values[:, g]) for g, n in enumerate(names)]


def _cells(values: list[np.ndarray], start: int, stop: int) -> Iterator[list[str]]:
    """Rows ``start:stop`` of the table as text: the step, then each value (None: blank)."""
    texts = [_texts(column[start:stop]) for column in values]
    return (list(row) for row in zip(*texts, strict=True))


def _texts(values: np.ndarray) -> list[str]:
    """Each value as the shortest text that reads back as exactly it (its repr); None (no
    metric at step 0) as an empty string."""
    if values.dtype == object:  # the metric column: numbers, None at step 0
        missing = np.equal(values, cast(Any, None))
        texts = _texts(np.where(missing, np.nan, values).astype(np.float64))
        for i in np.flatnonzero(missing).tolist():
            texts[i] = ""
        return texts
    items = values.tolist()
    # repr of a list reprs its numbers in C: ten times faster than one repr() call each.
    return repr(items)[1:-1].split(", ") if items else []


def _write_csv(header: list[str], values: list[np.ndarray]) -> None:
    """The columns as CSV on stdout, a block of rows at a time. A cell is a number's repr,
    or empty: nothing in it needs quoting."""
    write = sys.stdout.write
    write(",".join(header) + "\n")
    for start in range(0, len(values[0]), _BLOCK):
        rows = _cells(values, start, start + _BLOCK)
        write("".join(",".join(row) + "\n" for row in rows))


def _write_json(
    schedule: Configurable,
    steps: np.ndarray,
    arrays: dict[str, np.ndarray],
    metric: np.ndarray | None,
) -> None:
    """One strict-JSON object on stdout: the config, then each array on a line of its own,
    written a block of steps at a time (ten million values never sit in one string)."""
    write = sys.stdout.write
    # Constructors refuse non-finite hyperparameters: a config is always strict JSON.
    config = json.dumps(schedule.to_config(), allow_nan=False)
    write(f'{{"config": {config}')
    named = {"step": steps, **arrays}
    if metric is not None:
        named["metric"] = metric
    for name, values in named.items():
        write(f",\n {json.dumps(name)}: [")
        for start in range(0, len(values), _BLOCK):
            block = values[start : start + _BLOCK]
            write(", " if start else "")
            if block.dtype != object and np.isfinite(block).all():
                # a list of finite floats or ints, nested or not, reprs as JSON (in C)
                write(repr(block.tolist())[1:-1])
            else:
                write(", ".join(_json_entry(v) for v in block.tolist()))
        write("]")
    write("}\n")


def _json_entry(value: Any) -> str:
    """A step's value (a number, or a list with one per param group) as JSON."""
    if isinstance(value, list):
        return "[" + ", ".join(_json_number(v) for v in value) + "]"
    return _json_number(value)


def _json_number(value: Any) -> str:
    # repr of a finite float is valid JSON and reads back as the same float; JSON has no
    # NaN or infinity, so they are written as strings, as protobuf's JSON mapping does.
    if value is None:
        return "null"
    number = float(value)
    return repr(number) if math.isfinite(number) else f'"{_non_finite(number)}"'


def _non_finite(number: float) -> str:
    return "NaN" if math.isnan(number) else "Infinity" if number > 0 else "-Infinity"


def _print_columns(title: str, header: list[str], values: list[np.ndarray]) -> None:
    """Plain right-aligned columns, written a block of rows at a time."""
    # a float's repr is at most 24 characters ('-2.2250738585072014e-308')
    widths = [len(str(int(values[0][-1]))), *([24] * (len(header) - 1))]
    widths = [max(w, len(name)) for w, name in zip(widths, header, strict=True)]
    write = sys.stdout.write
    write(title + "\n")
    write("  ".join(name.rjust(w) for name, w in zip(header, widths, strict=True)) + "\n")
    for start in range(0, len(values[0]), _BLOCK):
        stop = min(start + _BLOCK, len(values[0]))
        lines = (
            "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True))
            for row in _cells(values, start, stop)
        )
        write("\n".join(lines) + "\n")


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
    # Unset, the library's own default applies: one definition of the gallery's resolution.
    options = {} if args.dpi is None else {"dpi": args.dpi}
    with progress(delay=_PROGRESS_DELAY) as bar:
        task = bar.add_task("gallery", total=None)

        def written(path: Path, done: int, total: int) -> None:
            print(f"wrote {_printable(str(path))}", flush=True)
            bar.update(task, completed=done, total=total, description=_markup_free(path.name))

        plot.gallery(args.output, torch=torch, written=written, **options)
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
