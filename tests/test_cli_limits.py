"""Hostile input to the command lines: every refusal is one line and exit status 2.

Each case runs ``lrfun`` (or ``python -m parity``) as a subprocess under an address-space
limit and a time limit, so a case that would exhaust memory or block fails here instead of
taking the machine with it. A few checks that need a monkeypatch run in process.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity.strategies import configs, metric_sequences

pytest.importorskip("matplotlib")

# Enough for torch, jax and matplotlib to import (they reserve address space); far below
# what the unbounded cases took (7.6 GB reading /dev/zero, 7.7 GB for 300 groups).
_MEMORY = 3 << 30
_SECONDS = 60
_BIG = str(10**400)
_GROUPS = "[" + ", ".join(["0.1"] * 300) + "]"


# The limit is set by a small launcher that then execs the command: a preexec_fn would fork
# this process, which may hold JAX's threads (JAX warns that a fork can deadlock).
_LAUNCH = (
    "import os, resource, sys; "
    f"resource.setrlimit(resource.RLIMIT_AS, ({_MEMORY}, {_MEMORY})); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def _limited(command: list[str]) -> list[str]:
    return [sys.executable, "-c", _LAUNCH, *command] if os.name == "posix" else command


def _command(module: str) -> list[str]:
    script = Path(sys.executable).with_name(module)
    if module == "lrfun" and script.exists():
        return [str(script)]
    return [sys.executable, "-m", "lrfun.cli" if module == "lrfun" else module]


def _run(module: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _limited([*_command(module), *args]),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=_SECONDS,
        check=False,
    )


def _assert_refused(result: subprocess.CompletedProcess[str], prefix: str, words: list[str]):
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith(prefix), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert len(lines[0]) <= 1100


# Files the cases read, by name; written into the case's directory.
def _files(tmp: Path) -> None:
    (tmp / "dup.json").write_text(
        '{"name": "StepLR", "base_lr": 0.1, "step_size": 3, "step_size": 5}'
    )
    (tmp / "nested-dup.json").write_text(
        '{"name": "SequentialLR", "schedulers": [{"name": "StepLR", "base_lr": 0.1, '
        '"base_lr": 0.2, "step_size": 3}], "milestones": []}'
    )
    (tmp / "cooldown.json").write_text(
        json.dumps({"name": "ReduceLROnPlateau", "base_lr": 0.1, "cooldown": 2**63})
    )
    (tmp / "big.json").write_text(" " * ((1 << 20) + 1) + "{}")
    (tmp / "big-metrics.txt").write_text("1\n" * ((8 << 20) + 1))
    (tmp / "latin1.json").write_bytes(b'{"name": "StepLR\xe9"}')
    (tmp / "a-directory").mkdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp / "fifo")


_LRFUN: list[tuple[str, list[str], list[str]]] = [
    # integers past the float and int64 ranges, in a spec and in a config
    (
        "int past float",
        ["show", f"StepLR(0.1, step_size={_BIG})", "--steps", "3"],
        ["step_size", "64-bit", "(401 digits)"],
    ),
    ("int lr past float", ["show", f"StepLR({_BIG}, 3)", "--steps", "3"], ["base_lr", "64-bit"]),
    (
        "cooldown=2**63",
        ["show", f"ReduceLROnPlateau(0.1, cooldown={2**63})", "--metrics", "1,2"],
        ["cooldown", "64-bit"],
    ),
    (
        "milestone=-2**63-1",
        ["show", f"MultiStepLR(0.1, [3, {-(2**63) - 1}])", "--steps", "3"],
        ["milestones", "64-bit"],
    ),
    (
        "cooldown=2**63 in a config",
        ["show", "@cooldown.json", "--metrics", "1,2"],
        ["cooldown", "64-bit"],
    ),
    # values past float64 in plot, and in torch's own arithmetic
    (
        "lr overflows in plot",
        ["plot", "ExponentialLR(1e300, 1e10)", "--steps", "5", "-o", "x.png"],
        ["lr of ExponentialLR", "step 1", "1e+300"],
    ),
    (
        "plot --torch where torch overflows",
        [
            "plot",
            "CyclicLR(0.01, 0.1, mode='exp_range', gamma=1e300)",
            "--steps",
            "5",
            "--torch",
            "-o",
            "x.png",
        ],
        ["inf", "step 2"],
    ),
    # --dpi
    *(
        (
            f"--dpi {dpi}",
            ["plot", "StepLR(0.1, 3)", "--steps", "3", "--dpi", dpi, "-o", "x.png"],
            ["--dpi", "[10, 1000]"],
        )
        for dpi in ["0", "-1", "nan", "inf", "1e5", "abc"]
    ),
    ("gallery --dpi 1e5", ["gallery", "-o", "pictures", "--dpi", "1e5"], ["[10, 1000]"]),
    (
        "--title too long",
        ["plot", "StepLR(0.1, 3)", "--steps", "3", "--title", "x" * 201, "-o", "x.png"],
        ["at most 200"],
    ),
    # JSON configs
    ("duplicate key", ["show", "@dup.json", "--steps", "3"], ["'step_size' is given twice"]),
    ("nested duplicate key", ["show", "@nested-dup.json", "--steps", "3"], ["'base_lr'"]),
    ("not UTF-8", ["show", "@latin1.json", "--steps", "3"], ["not UTF-8"]),
    # @file: regular files of a bounded size only
    ("config @/dev/zero", ["show", "@/dev/zero", "--steps", "3"], ["character device"]),
    (
        "metrics @/dev/zero",
        ["show", "ReduceLROnPlateau(0.1)", "--metrics", "@/dev/zero"],
        ["character device"],
    ),
    ("config @dir", ["show", "@a-directory", "--steps", "3"], ["directory"]),
    ("config over 1 MiB", ["show", "@big.json", "--steps", "3"], ["at most 1048576"]),
    (
        "metrics over 16 MiB",
        ["show", "ReduceLROnPlateau(0.1)", "--metrics", "@big-metrics.txt"],
        ["at most 16777216"],
    ),
    ("config FIFO", ["show", "@fifo", "--steps", "3"], ["FIFO"]),
    ("metrics FIFO", ["show", "ReduceLROnPlateau(0.1)", "--metrics", "@fifo"], ["FIFO"]),
    # steps x groups, and torch's step-by-step run
    (
        "300 groups x 10**6 steps",
        ["show", f"StepLR({_GROUPS}, 3)", "--steps", "1000000"],
        ["300 param group", "10,000,000"],
    ),
    (
        "plot: the budget sums the specs",
        [
            "plot",
            "StepLR([0.1, 0.1], 3)",
            "ExponentialLR([0.1, 0.1, 0.1, 0.1], 0.9)",
            "--steps",
            "2000000",
            "-o",
            "x.png",
        ],
        ["12,000,000", "10,000,000"],
    ),
    (
        "plot --torch 10**6 + 1 steps",
        ["plot", "StepLR(0.1, 3)", "--steps", "1000001", "--torch", "-o", "x.png"],
        ["1,000,000"],
    ),
    ("--steps past 10**7", ["show", "StepLR(0.1, 3)", "--steps", "10000001"], ["[1, 10000000]"]),
    # show --format: the same refusals, and nothing on stdout before them
    (
        "unknown --format",
        ["show", "StepLR(0.1, 3)", "--steps", "3", "--format", "xml"],
        ["--format", "'xml'", "table", "csv", "json"],
    ),
    *(
        (
            f"--format {fmt}: {name}",
            ["show", *args, "--format", fmt],
            words,
        )
        for fmt in ("csv", "json")
        for name, args, words in [
            ("bad spec", ["StepLR(0.1, 0)", "--steps", "3"], ["step_size"]),
            ("no --steps", ["StepLR(0.1, 3)"], ["--steps N is required"]),
            (
                "300 groups x 10**6 steps",
                [f"StepLR({_GROUPS}, 3)", "--steps", "1000000"],
                ["300 param group", "10,000,000"],
            ),
            ("function", ["LambdaLR(0.1, 1)", "--steps", "3"], ["takes a Python function"]),
        ]
    ),
    ("--version takes no value", ["--version=1"], ["--version"]),
    # argparse's own refusals are one line too
    ("no command", [], ["required"]),
    ("unknown option", ["show", "StepLR(0.1, 3)", "--steps", "3", "--bogus"], ["--bogus"]),
    ("missing value", ["plot", "StepLR(0.1, 3)", "-o"], ["-o"]),
]


# Runs the cases one after another in one child process (one import of lrfun, matplotlib and
# torch for all of them): main() for each, its status, stdout and stderr, and any exception
# that escaped it (which the console script would print as a traceback).
_DRIVER = """
import contextlib, importlib, io, json, sys, traceback
main = importlib.import_module(sys.argv[1]).main
results = []
for args in json.load(sys.stdin):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(args)
        except SystemExit as e:
            status = e.code
        except BaseException:
            status, err = None, io.StringIO(traceback.format_exc())
    results.append([status, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def _batch(module: str, cases: list[list[str]], cwd: Path) -> list[tuple[int, str, str]]:
    root = Path(__file__).resolve().parents[1]
    env_path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run(
        _limited([sys.executable, "-c", _DRIVER, module]),
        input=json.dumps(cases),
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": env_path},
        capture_output=True,
        text=True,
        timeout=_SECONDS * 2,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [tuple(r) for r in json.loads(result.stdout.splitlines()[-1])]


def _check_all(
    module: str, prefix: str, cases: list[tuple[str, list[str], list[str]]], cwd: Path
) -> None:
    results = _batch(module, [args for _, args, _ in cases], cwd)
    failures = []
    for (name, _, words), (status, out, err) in zip(cases, results, strict=True):
        done = subprocess.CompletedProcess([], status, out, err)
        try:
            _assert_refused(done, prefix, words)
            assert out == "", out[-500:]
        except AssertionError as e:
            failures.append(f"{name}: {e}")
    assert not failures, "\n".join(failures)


def test_lrfun_refuses_in_one_line(tmp_path: Path) -> None:
    _files(tmp_path)
    cases = [
        case
        for case in _LRFUN
        if not (any("fifo" in a for a in case[1]) and not hasattr(os, "mkfifo"))
        and not (any("/dev/zero" in a for a in case[1]) and not Path("/dev/zero").exists())
    ]
    _check_all("lrfun.cli", "lrfun: error: ", cases, tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize(
    "args",
    [
        ["show", "@fifo", "--steps", "3"],
        ["show", "ReduceLROnPlateau(0.1)", "--metrics", "@/dev/zero"],
        ["plot", "StepLR(0.1, 3)", "--steps", "3", "--dpi", "1e5", "-o", "x.png"],
    ],
)
def test_the_console_script_exits_2_in_one_line(tmp_path: Path, args: list[str]) -> None:
    _files(tmp_path)
    result = _run("lrfun", args, tmp_path)
    _assert_refused(result, "lrfun: error: ", [])
    assert result.stdout == ""


_PARITY: list[tuple[str, list[str], list[str]]] = [
    ("cpu:junk", ["--device", "cpu:junk"], ["'cpu:junk'", "no such device"]),
    ("cpu:7", ["--device", "cpu:7"], ["'cpu:7'", "one cpu device"]),
    ("cuda:99", ["--device", "cuda:99"], ["'cuda:99'", "not present"]),
    ("empty device", ["--device", ""], ["no such device"]),
    ("steps 0", ["--steps", "0"], ["--steps", "[1, 1,000,000]"]),
    ("steps past 10**6", ["--steps", "1000001"], ["--steps", "[1, 1,000,000]"]),
    ("examples past 1000", ["--examples", "1001"], ["--examples", "[0, 1,000]"]),
    ("unknown schedule", ["--schedule", "NoSuchLR"], ["--schedule", "'NoSuchLR'", "StepLR"]),
]


def test_parity_refuses_in_one_line(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    cases = [(name, ["--schedule", "StepLR", "--json", *args], w) for name, args, w in _PARITY]
    _check_all("parity.__main__", "python -m parity: error: ", cases, tmp_path)
    # and once as the command itself
    result = subprocess.run(
        _limited([sys.executable, "-m", "parity", "--device", "cpu:junk"]),
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=_SECONDS,
        check=False,
    )
    _assert_refused(result, "python -m parity: error: ", ["cpu:junk"])


def test_what_was_a_refusal_now_works(tmp_path: Path) -> None:
    """A math-text title is drawn as text; a config with 100,000 milestones shows a short
    title and plots within the limits."""
    (tmp_path / "milestones.json").write_text(
        json.dumps({"name": "MultiStepLR", "base_lr": 0.1, "milestones": list(range(1, 100_001))})
    )
    result = _run(
        "lrfun",
        ["plot", "StepLR(0.1, 3)", "--steps", "5", "--title", r"$\foo$ 50% off_", "-o", "t.png"],
        tmp_path,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    result = _run("lrfun", ["show", "@milestones.json", "--steps", "3"], tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert len(result.stdout) < 2000 and "..." in result.stdout
    result = _run("lrfun", ["plot", "@milestones.json", "--steps", "3", "-o", "m.png"], tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr


# In process: what a subprocess cannot reach.


def test_torch_failing_is_a_refusal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import lrfun._check
    from lrfun.cli import main

    def overflow(*args: object, **kwargs: object) -> None:
        raise OverflowError("(34, 'Numerical result out of range')")

    monkeypatch.setattr(lrfun._check, "torch_trajectory", overflow)
    args = ["plot", "StepLR(0.1, 3)", "--steps", "5", "--torch", "-o", str(tmp_path / "x.png")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("lrfun: error: torch's StepLR fails on StepLR(0.1, step_size=3)")
    assert "OverflowError" in err and len(err.splitlines()) == 1


def test_an_unexpected_failure_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import lrfun.cli

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(lrfun.cli, "_group_columns", broken)
    assert lrfun.cli.main(["show", "StepLR(0.1, 3)", "--steps", "3"]) == 2
    assert capsys.readouterr().err == "lrfun: error: KeyError: 'surprise'\n"


def test_parity_checks_the_cuda_index(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    import parity.__main__ as report
    import parity.backends

    seen: list[list[str]] = []
    monkeypatch.setattr(parity.backends, "devices", lambda: ["cpu", "cuda"])
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(report, "run", lambda *a, devices, **k: seen.append(devices) or [])
    for asked, used in [("cuda:1", "cuda:1"), ("cuda", "cuda"), ("cpu:0", "cpu")]:
        assert report.main(["--device", asked, "--json"]) == 0
        assert seen.pop() == [used]
    with pytest.raises(SystemExit) as info:
        report.main(["--device", "cuda:2", "--json"])
    assert info.value.code == 2


def test_show_streams_long_tables_as_plain_columns(capsys: pytest.CaptureFixture[str]) -> None:
    import lrfun
    from lrfun.cli import main

    assert main(["show", "OneCycleLR([0.1, 0.2], total_steps=20000)", "--steps", "20001"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "OneCycleLR([0.1, 0.2], total_steps=20000)"
    assert lines[1].split() == ["step", "lr[0]", "lr[1]", "momentum[0]", "momentum[1]"]
    rows = [line.split() for line in lines[2:]]
    assert len(rows) == 20001 and len({len(line) for line in lines[1:]}) == 1
    ks = np.arange(20000)
    schedule = lrfun.OneCycleLR([0.1, 0.2], total_steps=20000)
    shown = np.array([[float(c) for c in r[1:]] for r in rows[:-1]])
    np.testing.assert_array_equal(shown[:, :2], schedule(ks))
    np.testing.assert_array_equal(shown[:, 2:], schedule.momentum(ks))


def test_plot_draws_text_as_text_and_bounds_its_labels() -> None:
    import lrfun
    from lrfun.plot import MAX_LABEL, MAX_LEGEND, label, plot

    many = lrfun.MultiStepLR(0.1, list(range(1, 10_001)))
    assert len(label(many, width=10_000)) == MAX_LABEL and label(many).endswith("...")
    fig = plot(lrfun.StepLR([0.1] * 40, 3), 5, title="$x$")
    assert fig.texts[0].get_text() == "$x$" and not fig.texts[0].get_parse_math()
    texts = fig.axes[0].get_legend().get_texts()
    assert len(texts) == MAX_LEGEND and not any(t.get_parse_math() for t in texts)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda plot, lrfun: plot(lrfun.ExponentialLR(1e300, 1e10), 3), "1e+300"),
        (
            lambda plot, lrfun: plot(lrfun.ReduceLROnPlateau(0.1), metrics=[1.0, 1e308]),
            "metric 2 is 1e+308",
        ),
    ],
)
def test_plot_refuses_what_matplotlib_cannot_scale(call: Callable, message: str) -> None:
    import lrfun
    from lrfun.plot import plot

    with pytest.raises(ValueError, match=re.escape(message)):
        call(plot, lrfun)


# -- metric-driven schedules: a Python-number pass --------------------------------------


@st.composite
def _positioned(draw: st.DrawFn) -> tuple[Any, list[float]]:
    """A metric-driven machine anywhere a stepped one can stand (the keyword fields), and
    metrics for it."""
    import lrfun

    name = draw(st.sampled_from(["ReduceLROnPlateau", "hf.GreedyLR"]))
    config = draw(configs(name))
    metrics = draw(metric_sequences(max_size=60))
    counts = st.one_of(st.none(), st.integers(0, 6))
    position: dict[str, Any] = {
        "best": draw(st.one_of(st.none(), st.sampled_from([0.0, 1.0, -1.0, math.inf]))),
        "num_bad_epochs": draw(counts),
        "cooldown_counter": draw(counts),
    }
    if name == "hf.GreedyLR":
        groups = len(config["base_lr"])
        lrs = st.lists(st.floats(0.0, 3.0), min_size=groups, max_size=groups)
        position |= {
            "current_lr": draw(st.one_of(st.none(), lrs)),
            "num_good_epochs": draw(counts),
            "warmup_counter": draw(counts),
            "reset_countdown": draw(st.one_of(st.none(), st.integers(0, config["reset_start"]))),
        }
        if config["smooth"]:
            values = st.floats(allow_nan=True, allow_infinity=True)
            window = draw(st.lists(values, max_size=min(config["window_size"], 5)))
            position["window_values"] = window or None
            if window and draw(st.booleans()):
                position["window_sum"] = draw(st.floats(-10.0, 10.0))
    machine = lrfun.from_config(config | {k: v for k, v in position.items() if v is not None})
    return machine, metrics


@given(_positioned())
@settings(max_examples=300, deadline=None)
def test_the_host_trajectory_is_the_machines_update(case: tuple[Any, list[float]]) -> None:
    """What ``show`` and plots draw (the Python-number pass) is ``update`` stepped in NumPy,
    bit for bit: the same float64 operations in the same order."""
    machine, metrics = case
    state = machine.init()
    stepped = [np.asarray(state.lr)]
    with np.errstate(all="ignore"):
        for metric in metrics:
            state = machine.update(state, np.float64(metric))
            stepped.append(np.asarray(state.lr))
    host = machine.trajectory(metrics)
    assert host.dtype == np.float64
    np.testing.assert_array_equal(host, np.stack(stepped))


def test_metric_driven_show_costs_about_a_microsecond_a_metric(tmp_path: Path) -> None:
    """A million metrics through the command's evaluation: under a second where stepping
    NumPy's 0-d arrays took 30-120 s (16 MiB of metrics, 8 million, took up to 2 hours)."""
    import time

    import lrfun
    from lrfun._check import evaluate

    metrics = np.random.default_rng(0).normal(1.0, 0.1, 1_000_000)
    for machine in (
        lrfun.ReduceLROnPlateau([0.1, 0.2], patience=3),
        lrfun.hf.GreedyLR([0.1, 0.2], patience=3, smooth=True, window_size=10),
    ):
        start = time.perf_counter()
        curve = evaluate(machine, None, metrics)
        elapsed = time.perf_counter() - start
        assert curve.lr.shape == (1_000_001, 2)
        assert elapsed < 10.0, (machine, elapsed)  # about 0.4 s on one core
