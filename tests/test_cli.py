"""The ``lrfun`` command: end to end in a subprocess (a few), and in process (the rest)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lrfun
from lrfun.cli import main

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
    assert lines[1].startswith("pass: OneCycleLR(0.1, total_steps=300) vs torch, steps 0..299")
    assert lines[2].startswith("pass: CosineAnnealingLR(0.1, T_max=120) vs torch, steps 0..299")
    height, width = imread(tmp_path / "schedules.png").shape[:2]
    assert (width, height) == (600, 460)  # 6 x 4.6 inches (lr, momentum, error) at 100 dpi


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
    assert len(written) == 13  # ten single schedules (no lambdas), two compositions, a plateau
    assert sorted(result.stdout.splitlines()) == [
        f"wrote {Path('pictures') / p.name}" for p in written
    ]
    for path in written:
        assert path.suffix == ".png"
        assert path.stat().st_size < 100_000
        assert imread(path).shape[1] == 432


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
        (["show", "StepLR(0.1, 3)", "--steps", "3", "--metrics", "1"], "ReduceLROnPlateau only"),
        (["show", "ReduceLROnPlateau(0.1)", "--metrics", "1,x"], "must hold numbers; found 'x'"),
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
