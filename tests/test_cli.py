"""The ``lrfun`` command: end to end in a subprocess (a few), and in process (the rest)."""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.metadata
import io
import json
import math
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrfun
import lrfun.plot
from lrfun._schedule import classes, names
from lrfun._spec import spec_names
from lrfun.cli import main
from lrfun.plot import gallery_name
from parity.strategies import (
    HF_NAMES,
    NAMES,
    compositions,
    configs,
    horizon,
    metric_sequences,
)

pytest.importorskip("matplotlib")
from matplotlib.image import imread


def _command() -> list[str]:
    """The installed console script, or the module where the script is not on disk."""
    script = Path(sys.executable).with_name("lrfun")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lrfun.cli"]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_command(), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_plot_end_to_end(tmp_path: Path) -> None:
    result = _run(
        "plot",
        "OneCycleLR(max_lr=0.1, total_steps=300)",
        "CosineAnnealingLR(0.1, T_max=120)",
        "--steps",
        "300",
        "--torch",
        "-o",
        "schedules.png",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "wrote schedules.png"
    # the verdict names the reference that ran, with its version
    torch_ = f"torch {importlib.metadata.version('torch')}"
    assert lines[1].startswith(f"pass: OneCycleLR(0.1, total_steps=300) vs {torch_}, steps 0..299")
    assert lines[2].startswith(f"pass: CosineAnnealingLR(0.1, T_max=120) vs {torch_}, steps 0..299")
    height, width = imread(tmp_path / "schedules.png").shape[:2]
    assert width == round(lrfun.plot.WIDTH * lrfun.plot.DPI)  # at the library's default dpi
    assert height > width / 2  # three panels: lr, momentum, error


@pytest.mark.parametrize(
    "spec",
    [
        "StepLR(0.1, step_size=__import__('os').system('touch pwned'))",
        "NoSuchLR(0.1)",
    ],
)
def test_a_bad_spec_is_one_line_and_status_2(tmp_path: Path, spec: str) -> None:
    result = _run("show", spec, "--steps", "3", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("lrfun: error: ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "pwned").exists()


def test_gallery_end_to_end(tmp_path: Path) -> None:
    # the torch overlay is plot --torch, tested above: skipped here to save torch's import
    result = _run("gallery", "-o", "pictures", "--no-torch", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = sorted((tmp_path / "pictures").iterdir())
    # one per class that names a gallery example (no overlay without torch)
    pictured = [gallery_name(cls) for cls in classes(own=True) if cls._gallery is not None]
    assert sorted(p.stem for p in written) == sorted(pictured)
    assert sorted(result.stdout.splitlines()) == [
        f"wrote {Path('pictures') / p.name}" for p in written
    ]
    for path in written:
        assert path.suffix == ".png"
        assert imread(path).shape[1] == round(lrfun.plot.WIDTH * lrfun.plot.GALLERY_DPI)


def _table(out: str) -> list[list[str]]:
    """The data rows of a rich table: the cells of every line with a digit in its first cell."""
    rows = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().split("│")]
        if len(cells) > 2 and cells[1].isdigit():
            rows.append(cells[1:-1])
    return rows


def test_show_prints_every_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "OneCycleLR([0.1, 0.2], total_steps=10)", "--steps", "10"]) == 0
    schedule = lrfun.OneCycleLR([0.1, 0.2], total_steps=10)
    out = capsys.readouterr().out
    assert "OneCycleLR([0.1, 0.2], total_steps=10)" in out
    assert "lr[0]" in out and "momentum[1]" in out
    rows = _table(out)
    assert [int(r[0]) for r in rows] == list(range(10))
    ks = np.arange(10)
    shown = np.array([[float(c) for c in r[1:]] for r in rows])
    np.testing.assert_array_equal(shown[:, :2], schedule(ks))
    np.testing.assert_array_equal(shown[:, 2:], schedule.momentum(ks))


def test_show_every_kth_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "StepLR(0.1, 3)", "--steps", "10", "--every", "4"]) == 0
    rows = _table(capsys.readouterr().out)
    assert [r[0] for r in rows] == ["0", "4", "8"]
    # NumPy's vectorised power may differ from Python's by an ulp on some CPUs: the values
    # are the schedule's own, within the float64 tolerance.
    expected = [lrfun.StepLR(0.1, 3)(k) for k in (0, 4, 8)]
    np.testing.assert_allclose([float(r[1]) for r in rows], expected, rtol=1e-12, atol=0)


def test_show_a_plateau_with_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "losses.txt"
    path.write_text("1.0, 0.9\n0.9 0.9\nnan\n")
    assert main(["show", "ReduceLROnPlateau(1.0, patience=1)", "--metrics", f"@{path}"]) == 0
    rows = _table(capsys.readouterr().out)
    expected = lrfun.ReduceLROnPlateau(1.0, patience=1).trajectory([1.0, 0.9, 0.9, 0.9, np.nan])
    assert [float(r[1]) for r in rows] == expected.tolist()
    assert [r[2] for r in rows] == ["", "1.0", "0.9", "0.9", "0.9", "nan"]
    assert main(["show", "ReduceLROnPlateau(1.0)", "--metrics", "3,2,1", "--steps", "2"]) == 0
    assert len(_table(capsys.readouterr().out)) == 2


def test_show_a_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schedule = lrfun.SequentialLR(
        [lrfun.LinearLR(0.1, 0.5, total_iters=2), lrfun.ExponentialLR(0.1, 0.5)], [2]
    )
    path = tmp_path / "warmup.json"
    path.write_text(json.dumps(schedule.to_config()))
    assert main(["show", f"@{path}", "--steps", "5"]) == 0
    rows = _table(capsys.readouterr().out)
    assert [float(r[1]) for r in rows] == schedule(np.arange(5)).tolist()


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_plot_writes_each_format(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"out.{fmt}"
    args = ["plot", "StepLR(0.1, 3)", "ReduceLROnPlateau(0.1, patience=0)", "--steps", "8"]
    assert main([*args, "--metrics", "1,1,1", "--log", "-o", str(path)]) == 0
    assert path.stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "StepLR(0.1, 3"], "not a Python expression"),
        (["show", "StepLR(0.1, 0)", "--steps", "3"], "step_size must be a positive integer"),
        (["show", "LambdaLR(0.1, 1)", "--steps", "3"], "takes a Python function"),
        (["show", "StepLR(0.1, 3)"], "--steps N is required"),
        (["show", "ReduceLROnPlateau(0.1)"], "give --metrics"),
        (["show", "StepLR(0.1, 3)", "--steps", "3", "--metrics", "1"], "schedules only"),
        (["show", "ReduceLROnPlateau(0.1)", "--metrics", "1,x"], "whitespace; metric 2 is 'x'"),
        (["show", "ReduceLROnPlateau(0.1)", "--metrics", ","], "holds no metrics"),
        (["show", "ReduceLROnPlateau(0.1)", "--metrics", "@/no/such/file"], "cannot read"),
        (["show", "@/no/such/config.json", "--steps", "3"], "cannot read"),
        (["plot", "StepLR(0.1, 3)", "--steps", "3", "-o", "x.gif"], "-o must name a .png"),
    ],
)
def test_errors_are_one_line_with_status_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("lrfun: error: ")
    assert message in err
    assert len(err.splitlines()) == 1


def test_failures_outside_the_input_are_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "x.png"
    assert main(["plot", "StepLR(0.1, 3)", "--steps", "3", "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lrfun: error: cannot write") and len(err.splitlines()) == 1


def test_usage_errors_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "StepLR(0.1, 3)", "--steps", "0"]) == 2
    assert "expected an integer in [1," in capsys.readouterr().err
    assert main([]) == 2
    capsys.readouterr()
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "plot" in out and "show" in out and "gallery" in out and "SPEC" in out


def test_the_parity_report_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    from parity.__main__ import main as parity_main

    args = ["--schedule", "OneCycleLR", "--examples", "0", "--steps", "50", "--device", "cpu"]
    assert parity_main([*args, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r["backend"], r["reference"]) for r in rows} >= {
        ("numpy", "float lr"),
        ("torch-cpu", "tensor lr"),
    }
    for row in rows:
        assert row["schedule"] == "OneCycleLR" and row["device"] == "cpu"
        assert row["passed"] and 0 <= row["max_fraction"] <= 1
        assert row["steps"] == 50 and row["examples"] == 1


def test_the_parity_report_fails_loudly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import parity.__main__ as report
    from parity.report import Row

    bad = Row("StepLR", "numpy", "float lr", "cpu", 1, 11, 2.5, False, "[at step 3]", 10)
    monkeypatch.setattr(report, "run", lambda *a, **k: [bad])
    assert report.main(["--schedule", "StepLR", "--examples", "0"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "StepLR on numpy (float lr): [at step 3]" in out
    assert "0..10" in out and "2.5" in out
    with pytest.raises(SystemExit) as info:
        report.main(["--device", "nosuchdevice"])
    assert info.value.code == 2
    assert "is not present here" in capsys.readouterr().err


# --- show --format csv / json --------------------------------------------------------------


def _spec_configs() -> st.SearchStrategy[dict[str, Any]]:
    """A config of any schedule a spec can name: the single ones (torch's and transformers')
    and the compositions."""
    singles = [name for name in (*NAMES, *HF_NAMES) if name in spec_names()]
    single = st.sampled_from(singles).flatmap(configs)
    return (single | compositions(max_depth=2)).filter(_specifiable)


def _specifiable(config: dict[str, Any]) -> bool:
    """Whether a spec or JSON can hold the config: no Python function in it."""
    values = [w for v in config.values() for w in (v if isinstance(v, list) else [v])]
    own = config["name"] in spec_names() and not any(callable(v) for v in values)
    return own and all(_specifiable(c) for c in config.get("schedulers", []))


def _show(*args: str) -> str:
    """stdout of ``lrfun show`` run in process (Hypothesis cannot share capsys)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()) as err:
        status = main(["show", *args])
    assert status == 0, err.getvalue()
    return out.getvalue()


def _run_config(config: dict[str, Any], *args: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config))
        return _show(f"@{path}", *args)


def _expected(schedule: Any, steps: int, every: int) -> dict[str, np.ndarray]:
    """The schedule's own arrays at the steps shown, evaluated as the command does (the whole
    range at once, so NumPy takes the same path and the values are the same floats)."""
    ks = np.arange(steps)
    arrays = {"lr": np.asarray(schedule(ks), dtype=np.float64)[::every]}
    if schedule.cycles_momentum:
        arrays["momentum"] = np.asarray(schedule.momentum(ks), dtype=np.float64)[::every]
    return arrays


def _csv_columns(out: str) -> dict[str, list[str]]:
    header, *rows = list(csv.reader(io.StringIO(out)))
    assert rows and all(len(row) == len(header) for row in rows)
    return {name: [row[i] for row in rows] for i, name in enumerate(header)}


def _column_names(name: str, values: np.ndarray) -> list[str]:
    if values.ndim == 1 or values.shape[1] == 1:
        return [name]
    return [f"{name}[{g}]" for g in range(values.shape[1])]


@given(config=_spec_configs(), steps=st.integers(1, 60), every=st.integers(1, 7))
def test_show_csv_holds_the_schedules_own_values(
    config: dict[str, Any], steps: int, every: int
) -> None:
    steps = max(1, horizon(config, steps))  # OneCycleLR ends at total_steps
    schedule = lrfun.from_config(config)
    args = ["--steps", str(steps), "--every", str(every), "--format", "csv"]
    columns = _csv_columns(_run_config(config, *args))
    expected = _expected(schedule, steps, every)
    names = ["step"]
    for name, values in expected.items():
        names += _column_names(name, values)
    assert list(columns) == names
    assert columns["step"] == [str(k) for k in range(0, steps, every)]
    for name, values in expected.items():
        table = values.reshape(len(values), -1)
        for g, column in enumerate(_column_names(name, values)):
            shown = np.array([float(cell) for cell in columns[column]])
            np.testing.assert_array_equal(shown, table[:, g])  # repr reads back exactly


def _strict_json(out: str) -> Any:
    """The document, refusing the non-standard NaN and Infinity tokens; their strings are
    turned back into floats."""

    def refuse(token: str) -> Any:
        raise AssertionError(f"{token} is not JSON")

    named = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

    def number(value: Any) -> Any:
        if isinstance(value, list):
            return [number(v) for v in value]
        return named.get(value, value) if isinstance(value, str) else value

    document = json.loads(out, parse_constant=refuse)
    return {k: v if k == "config" else number(v) for k, v in document.items()}


@given(config=_spec_configs(), steps=st.integers(1, 60), every=st.integers(1, 7))
def test_show_json_holds_the_config_and_the_schedules_own_values(
    config: dict[str, Any], steps: int, every: int
) -> None:
    steps = max(1, horizon(config, steps))
    schedule = lrfun.from_config(config)
    args = ["--steps", str(steps), "--every", str(every), "--format", "json"]
    document = _strict_json(_run_config(config, *args))
    expected = _expected(schedule, steps, every)
    assert list(document) == ["config", "step", *expected]
    assert document["config"] == schedule.to_config()
    assert lrfun.from_config(document["config"]) == schedule
    assert document["step"] == list(range(0, steps, every))
    for name, values in expected.items():
        # the schedule's own shape: a number per step, or a list per step with param groups
        np.testing.assert_array_equal(np.array(document[name], dtype=np.float64), values)


@given(
    config=configs("ReduceLROnPlateau"),
    metrics=metric_sequences().filter(bool),
    cut=st.none() | st.integers(1, 90),
)
def test_show_csv_and_json_of_a_plateau(
    config: dict[str, Any], metrics: list[float], cut: int | None
) -> None:
    plateau = lrfun.from_config(config)
    args = ["--metrics=" + ",".join(repr(m) for m in metrics)]  # "=": it may start with "-"
    if cut is not None:
        args += ["--steps", str(cut)]
    fed = metrics if cut is None else metrics[: cut - 1]
    lr = np.asarray(plateau.trajectory(np.asarray(fed, dtype=np.float64)), dtype=np.float64)

    columns = _csv_columns(_run_config(config, *args, "--format", "csv"))
    assert list(columns) == ["step", *_column_names("lr", lr), "metric"]
    assert columns["metric"][0] == ""  # no metric is fed at step 0
    np.testing.assert_array_equal([float(m) for m in columns["metric"][1:]], fed)
    for g, column in enumerate(_column_names("lr", lr)):
        shown = [float(cell) for cell in columns[column]]
        np.testing.assert_array_equal(shown, lr.reshape(len(lr), -1)[:, g])

    document = _strict_json(_run_config(config, *args, "--format", "json"))
    assert list(document) == ["config", "step", "lr", "metric"]
    assert document["config"] == plateau.to_config()
    assert document["step"] == list(range(len(lr)))
    np.testing.assert_array_equal(np.array(document["lr"], dtype=np.float64), lr)
    assert document["metric"][0] is None
    np.testing.assert_array_equal(document["metric"][1:], fed)


def test_show_json_writes_overflow_as_strict_json() -> None:
    out = _show("ExponentialLR([1e300, 1.0], 1e10)", "--steps", "3", "--format", "json")
    assert '"Infinity"' in out and "NaN" not in out
    document = _strict_json(out)
    with np.errstate(over="ignore"):  # the overflow is the point
        expected = lrfun.ExponentialLR([1e300, 1.0], 1e10)(np.arange(3))
    assert [lrs[0] for lrs in document["lr"][1:]] == [math.inf, math.inf]
    np.testing.assert_array_equal(np.array(document["lr"]), expected)


def test_show_csv_and_json_carry_no_markup() -> None:
    for fmt in ("csv", "json"):
        out = _show("OneCycleLR([0.1, 0.2], total_steps=10)", "--steps", "10", "--format", fmt)
        assert not {"│", "━", "\x1b", "[/"} & set(out) and "[/" not in out
        assert not out.startswith("OneCycleLR")  # no title line


def test_show_csv_streams_past_the_table_limit() -> None:
    out = _show("StepLR([0.1, 0.3], 7)", "--steps", "25000", "--format", "csv")
    columns = _csv_columns(out)
    assert list(columns) == ["step", "lr[0]", "lr[1]"] and len(columns["step"]) == 25000
    expected = lrfun.StepLR([0.1, 0.3], 7)(np.arange(25000))
    np.testing.assert_array_equal([float(v) for v in columns["lr[1]"]], expected[:, 1])


def test_show_stops_quietly_when_the_reader_does(tmp_path: Path) -> None:
    """show ... | head: the pipe closes early; no traceback, no error line, status 1."""
    for fmt in ("csv", "json", "table"):
        process = subprocess.Popen(
            [*_command(), "show", "StepLR(0.1, 3)", "--steps", "2000000", "--format", fmt],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stderr is not None
        with process:  # closes the pipes
            first = process.stdout.readline()
            process.stdout.close()
            err = process.stderr.read()
            assert process.wait(timeout=300) == 1
        assert first and err == b""


# --- version, usage and help ---------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"lrfun {lrfun.__version__}\n"


_MARKUP = re.compile(r"``|:(class|func|mod|meth|data|attr|exc|obj):`")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    from lrfun.cli import _parser

    action = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _help(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main([*args, "--help"]) == 0
    out = capsys.readouterr().out
    assert out and not _MARKUP.search(out), _MARKUP.search(out)
    return out


def test_every_help_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    _help([], capsys)
    commands = _subcommands()
    assert {"plot", "show", "gallery"} <= set(commands)
    for command, parser in commands.items():
        out = _help([command], capsys)
        usage = out.split("\n\n", 1)[0]
        # every option the command takes is in its usage (the usage is written out by hand
        # where --steps is required)
        for action in parser._actions:
            if action.option_strings and "-h" not in action.option_strings:
                assert any(o in usage for o in action.option_strings), (command, action)
    from parity.__main__ import main as parity_main

    with pytest.raises(SystemExit) as info:
        parity_main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert not _MARKUP.search(out) and "--schedule NAME" in out


@pytest.mark.parametrize("command", ["show", "plot"])
def test_the_usage_shows_steps_as_required(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    usage = _help([command], capsys).split("\n\n", 1)[0]
    first, second = usage.splitlines()[:2]
    assert first.startswith(f"usage: lrfun {command} ") and first.endswith(" --steps N")
    assert second.strip().startswith(f"lrfun {command} ") and second.endswith(
        " --metrics M [--steps N]"
    )
    assert "[--steps N]" not in first


def test_an_unknown_name_lists_the_names_a_spec_can_use(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["show", "NoSuchLR(0.1)", "--steps", "3"]) == 2
    err = capsys.readouterr().err.strip()
    listed = err.split("a spec names one of ", 1)[1].split("; or a family's", 1)[0].split(", ")
    assert listed == [name for name in spec_names() if "." not in name]
    for family in {name.split(".")[0] for name in spec_names() if "." in name}:
        assert f"{family}.* (" in err
    # every name in the help, from the same grammar
    epilog = " ".join(_help([], capsys).split())
    in_help = epilog.split("A SPEC names one of: ", 1)[1].split(". Not ", 1)[0].split(", ")
    assert in_help == list(spec_names())
    listed = in_help
    # each name listed gets past the name check (then wants its arguments) ...
    for name in listed:
        assert main(["show", f"{name}()", "--steps", "3"]) in (0, 2)
        err = capsys.readouterr().err
        assert "unknown schedule" not in err and "takes a Python function" not in err, err
    # ... and every registered name left out takes a Python function
    left_out = [name for name in names() if name not in listed]
    assert left_out
    for name in left_out:
        assert main(["show", f"{name}(0.1, 1)", "--steps", "3"]) == 2
        assert "takes a Python function" in capsys.readouterr().err


def _without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import rich`` (and any ``rich.x``) fails, as where rich is not installed: a loaded
    submodule is found before its package, so each is blocked."""
    for name in [n for n in sys.modules if n == "rich" or n.startswith("rich.")] + ["rich"]:
        monkeypatch.setitem(sys.modules, name, None)


def test_show_prints_plain_columns_without_rich(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_rich(monkeypatch)
    assert main(["show", "StepLR([0.1, 0.2], 3)", "--steps", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "StepLR([0.1, 0.2], step_size=3)"
    assert lines[1].split() == ["step", "lr[0]", "lr[1]"]
    shown = np.array([[float(c) for c in line.split()[1:]] for line in lines[2:]])
    np.testing.assert_array_equal(shown, lrfun.StepLR([0.1, 0.2], 3)(np.arange(5)))


# --- what the command echoes --------------------------------------------------------------


def test_a_metrics_file_is_never_echoed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--metrics @/etc/shadow, @/proc/self/environ: the refusal says where the first token
    that is not a number is, and what kind of text, never the text."""
    secret = "root:$6$s3cr3t:19000:0:99999:7:::"
    cases = {
        "shadow": (f"1.0, 2.0\n0.5 {secret}\n".encode(), "metric 4 (line 2, column 5)", "word"),
        "environ": (b"HOME=/root\x00TOKEN=s3cr3t\x00", "metric 1 (line 1, column 1)", "binary"),
        "number": (b"1.0\n2..0\n", "metric 2 (line 2, column 1)", "malformed number"),
    }
    for name, (content, where, kind) in cases.items():
        (tmp_path / name).write_bytes(content)
        args = ["show", "ReduceLROnPlateau(0.1)", "--metrics", f"@{tmp_path / name}"]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and where in err and kind in err, err
        assert "s3cr3t" not in err and "HOME" not in err and "2..0" not in err, err


def test_control_characters_are_escaped_in_every_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Terminal escape sequences from arguments, file names and module names are printed
    escaped (\\x1b), on stderr and on the lines the command writes about its work."""
    clear = "\x1b[2J\x1b]0;owned\x07"
    out_file = tmp_path / f"lr{clear}\u202e.png"
    runs = [
        (["--import", f"mod{clear}", "show", "StepLR(0.1, 3)", "--steps", "3"], 2),
        (["show", "StepLR(0.1, 3)", "--steps", clear], 2),
        (["show", "ReduceLROnPlateau(0.1)", "--metrics", f"1,{clear}"], 2),
        (["show", f"@{tmp_path / clear}", "--steps", "3"], 2),
        (["plot", "StepLR(0.1, 3)", "--steps", "3", "-o", str(tmp_path / clear / "x.png")], 1),
        (["plot", "StepLR(0.1, 3)", "--steps", "3", "-o", str(out_file)], 0),
    ]
    for args, status in runs:
        assert main(args) == status, args
        captured = capsys.readouterr()
        printed = captured.err + (captured.out if args[0] == "plot" else "")
        assert printed and "\x1b" not in printed and "\x07" not in printed, printed
        assert "\u202e" not in printed and "\\x1b[2J" in printed, printed
    assert out_file.exists()


def test_output_to_a_full_disk_is_one_line(tmp_path: Path) -> None:
    """python -m parity > /dev/full (table and JSON), lrfun show > /dev/full: one error
    line, status 1, no traceback."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    args = ["--schedule", "StepLR", "--examples", "0", "--steps", "5", "--device", "cpu"]
    for extra in ([], ["--json"]):
        with open("/dev/full", "w") as full:
            result = subprocess.run(
                [sys.executable, "-m", "parity", *args, *extra],
                cwd=Path(__file__).resolve().parents[1],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                timeout=300,
                check=False,
            )
        assert result.returncode == 1, result.stderr[-2000:]
        assert result.stderr.splitlines() == [
            "python -m parity: error: cannot write to standard output: No space left on device"
        ], result.stderr[-2000:]
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [*_command(), "show", "StepLR(0.1, 3)", "--steps", "50000", "--format", "csv"],
            cwd=tmp_path,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "lrfun: error: cannot write to standard output: No space left on device"
    ]


# --- did you mean, --digits, progress ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "meant"),
    [
        (["show", "OneCyclLR(0.1, total_steps=10)", "--steps", "3"], "'OneCycleLR'"),
        (["show", "onecyclelr(0.1, total_steps=10)", "--steps", "3"], "'OneCycleLR'"),
        (["show", "OneCycleLR(0.1, total_step=10)", "--steps", "3"], "'total_steps'"),
        (["show", "StepLR(0.1, 3, lr=0.1)", "--steps", "3"], "'base_lr'"),
        (["show", "hf.get_schedular('cosine', 0.1, 1, 9)", "--steps", "3"], "'hf.get_scheduler'"),
        (["show", "hf.get_scheduler('cosin', 0.1, 1, 9)", "--steps", "3"], "'cosine'"),
        (["show", "CyclicLR(0.1, 1.0, mode='triangle')", "--steps", "3"], "'triangular'"),
        (["shwo", "StepLR(0.1, 3)", "--steps", "3"], "'show'"),
        (["show", "StepLR(0.1, 3)", "--stesp", "3"], "'--steps'"),
        (["show", "StepLR(0.1, 3)", "--steps", "3", "--format", "tabel"], "'table'"),
        (["plot", "StepLR(0.1, 3)", "--steps", "3", "-o", "x.png", "--tourch"], "'--torch'"),
    ],
)
def test_a_mistyped_name_suggests_the_close_one(
    args: list[str], meant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert f"did you mean {meant}" in err
    # the name meant, not every name a spec can call
    assert "hf.get_wsd_schedule" not in err


def test_a_name_close_to_none_lists_them_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "StepLR(0.1, 3, bogus=1)", "--steps", "3"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" not in err
    assert "it takes base_lr, step_size, gamma, start_lr" in err


def test_the_library_suggests_too() -> None:
    from lrfun._spec import parse

    with pytest.raises(ValueError, match=r"did you mean 'OneCycleLR'\?"):
        lrfun.from_config({"name": "OneCyclLR", "max_lr": 0.1, "total_steps": 10})
    with pytest.raises(ValueError, match=r"StepLR has no argument 'gama' \(did you mean 'gamma'"):
        lrfun.from_config({"name": "StepLR", "base_lr": 0.1, "step_size": 3, "gama": 0.5})
    with pytest.raises(ValueError, match=r"did you mean 'total_steps'\?"):
        parse("OneCycleLR(0.1, total_step=10)")
    with pytest.raises(ValueError, match=r"did you mean 'cosine'\?"):
        lrfun.hf.get_scheduler("cosin", 0.1, num_warmup_steps=1, num_training_steps=9)
    with pytest.raises(ValueError, match=r"got 'triangle' \(did you mean 'triangular'"):
        lrfun.CyclicLR(0.1, 1.0, mode="triangle")


def test_show_rounds_to_digits(capsys: pytest.CaptureFixture[str]) -> None:
    spec = "OneCycleLR(0.1, total_steps=100)"
    schedule = lrfun.OneCycleLR(0.1, total_steps=100)
    assert main(["show", spec, "--steps", "100", "--every", "20", "--digits", "4"]) == 0
    rows = _table(capsys.readouterr().out)
    ks = np.arange(0, 100, 20)
    assert [r[1] for r in rows] == [repr(float(f"{v:.4g}")) for v in schedule(ks).tolist()]
    assert rows[1][1] == "0.07894"  # 0.07893697913739436
    assert main(["show", spec, "--steps", "100", "--digits", "3", "--format", "csv"]) == 0
    columns = _csv_columns(capsys.readouterr().out)
    assert columns["momentum"][20] == "0.872"
    assert main(["show", spec, "--steps", "3", "--digits", "2", "--format", "json"]) == 0
    expected = [float(f"{v:.2g}") for v in schedule(np.arange(3)).tolist()]
    assert _strict_json(capsys.readouterr().out)["lr"] == expected
    plateau = ["show", "ReduceLROnPlateau(0.1)", "--metrics", "1.23456,1", "--digits", "2"]
    assert main([*plateau, "--format", "csv"]) == 0
    assert _csv_columns(capsys.readouterr().out)["metric"] == ["", "1.2", "1.0"]
    for bad in ("0", "18", "x"):
        assert main(["show", spec, "--steps", "3", "--digits", bad]) == 2
        assert "--digits: expected an integer in [1, 17]" in capsys.readouterr().err


def _terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """stderr as a terminal, for the progress bar, and no delay before it shows."""
    from rich.console import Console

    import lrfun._progress
    import lrfun.cli

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    monkeypatch.setattr(lrfun._progress, "_console", lambda: console)
    monkeypatch.setattr(lrfun.cli, "_PROGRESS_DELAY", 0.0)
    return screen


def test_progress_shows_on_a_terminal_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("rich")
    args = ["plot", "StepLR(0.1, 3)", "--steps", "3000", "--torch", "-o", str(tmp_path / "a.png")]
    assert main(args) == 0
    assert capsys.readouterr().err == ""  # captured: no terminal, no bar
    screen = _terminal(monkeypatch)
    assert main(args) == 0
    assert "running torch" in screen.getvalue() and "drawing" in screen.getvalue()
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("wrote ")  # stdout holds the output alone
    gallery = tmp_path / "gallery"
    assert main(["gallery", "-o", str(gallery), "--no-torch", "--dpi", "20"]) == 0
    assert "GreedyLR.png" in screen.getvalue()  # each picture named as it is drawn


def test_torch_steps_are_reported_in_blocks() -> None:
    from lrfun._progress import STEP_BLOCK, reporting_steps
    from lrfun._trajectory import torch_trajectory

    reported: list[int] = []
    with reporting_steps(reported.append):
        torch_trajectory(lrfun.StepLR(0.1, 3), 2 * STEP_BLOCK + 5)
    assert reported == [STEP_BLOCK, STEP_BLOCK, 5]
    torch_trajectory(lrfun.StepLR(0.1, 3), 10)  # outside the block: nobody is told
    assert reported == [STEP_BLOCK, STEP_BLOCK, 5]


def test_a_short_task_shows_no_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rich")
    import time

    from lrfun._progress import progress

    screen = _terminal(monkeypatch)
    with progress(delay=60.0) as bar:  # over before the delay: nothing drawn
        bar.update(bar.add_task("quick", total=1), advance=1)
    assert "quick" not in screen.getvalue()
    with progress(delay=0.05) as bar:
        task = bar.add_task("slow", total=2)
        time.sleep(0.3)
        bar.update(task, advance=2)
    assert "slow" in screen.getvalue()


# --- shell completion --------------------------------------------------------------------

_SHELLS = ("bash", "zsh", "fish")

_LIBRARY = (
    "import dataclasses\n"
    "from lrfun.extend import FunctionReference, Schedule, check\n"
    "@dataclasses.dataclass(frozen=True)\n"
    "class HalvingLR(Schedule):\n"
    "    _namespace = 'other.'\n"
    "    _reference = FunctionReference('formula', lambda s, k: s.base_lr * 0.5 ** k)\n"
    "    _hyperparameters = ('base_lr',)\n"
    "    base_lr: float\n"
    "    def __post_init__(self):\n"
    "        self._set(base_lr=check.real('base_lr', self.base_lr, low=0.0), _groups=None)\n"
    "    def _lr(self, ctx, step):\n"
    "        return ctx.const(self.base_lr) * 0.5 ** ctx.float(step)\n"
)


def _completion_script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


@pytest.mark.parametrize("shell", _SHELLS)
def test_completion_scripts_are_printed(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    script = _completion_script(shell, capsys)
    # every command and option, read off the parser; the names asked for as the user types
    for word in ["plot", "show", "gallery", "completion", "--format", "--metrics", "--import"]:
        if shell == "fish" and word.startswith("--"):  # fish's complete -l format
            word = f"-l {word[2:]}"
        assert word in script, word
    assert "completion --names" in script
    assert "StepLR" not in script  # not embedded: the registry is asked at completion time


@pytest.mark.parametrize("shell", _SHELLS)
def test_completion_scripts_are_valid(
    shell: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    path = tmp_path / f"lrfun.{shell}"
    path.write_text(_completion_script(shell, capsys))
    result = subprocess.run(
        [shell, "-n", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_completion_names_are_the_registered_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "--names"]) == 0
    assert capsys.readouterr().out.splitlines() == list(spec_names())


@pytest.mark.parametrize("args", [["completion"], ["completion", "bash", "--names"]])
def test_completion_takes_a_shell_or_names(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert "give a shell (bash, zsh or fish), or --names" in capsys.readouterr().err


def test_bash_completes_commands_options_and_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bash script's function, called as bash calls it: with the line in COMP_WORDS.
    Schedule names come from the registry at completion time, a library's (--import)
    included."""
    import shutil

    script = Path(sys.executable).with_name("lrfun")
    if shutil.which("bash") is None or not script.exists():
        pytest.skip("needs bash and the installed lrfun script")
    (tmp_path / "lrfun.bash").write_text(_completion_script("bash", capsys))
    (tmp_path / "halving.py").write_text(_LIBRARY)
    (tmp_path / "warmup.json").write_text("{}")
    lines = {
        "": [script, ""],
        "command": [script, "sh"],
        "name": [script, "show", "Cosine"],
        "quoted": [script, "show", '"OneCyc'],
        "library": [script, "--import", "halving", "plot", "other."],
        "option": [script, "show", "StepLR(0.1, 3)", "--fo"],
        "choice": [script, "show", "StepLR(0.1, 3)", "--format", ""],
        "config": [script, "show", "@warm"],
        "shell": [script, "completion", ""],
    }
    calls = "".join(
        "COMP_WORDS=(" + " ".join(shlex.quote(str(w)) for w in words) + ")\n"
        f"COMP_CWORD={len(words) - 1}; COMPREPLY=(); _lrfun\n"
        f'echo "{key}=${{COMPREPLY[*]}}"\n'
        for key, words in lines.items()
    )
    result = subprocess.run(
        ["bash", "-c", f"source lrfun.bash\n{calls}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    got = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert got == {
        "": "plot show gallery completion",
        "command": "show",
        "name": "CosineAnnealingLR CosineAnnealingWarmRestarts",
        "quoted": "OneCycleLR",
        "library": "other.HalvingLR",
        "option": "--format",
        "choice": "table csv json",
        "config": "@warmup.json",
        "shell": "bash zsh fish",
    }
