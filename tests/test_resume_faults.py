"""Resume under faults: a training loop killed with SIGKILL at a random step and restarted
from its last checkpoint logs exactly the lrs of an uninterrupted run.

The loop is ``examples/resume_loop.py`` (torch: ``Scheduler`` + ``PlateauScheduler`` and their
``state_dict``; optax: ``inject`` + ``reduce_on_plateau`` with the whole optimizer state
pickled). The interrupted run is a child process killed after a seeded-random number of
steps, at a random instant within a step; the restart and the uninterrupted run go in this
process (fresh objects: the restart has only the files on disk).
"""

from __future__ import annotations

import importlib.util
import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

_PATH = Path(__file__).resolve().parents[1] / "examples" / "resume_loop.py"
_ROOT = _PATH.parents[1]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("resume_loop", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


loop = _load()


def _child(framework: str, directory: Path) -> list[str]:
    return [
        sys.executable,
        str(_PATH),
        framework,
        "--dir",
        str(directory),
        "--steps",
        str(loop.STEPS),
        "--delay",
        "0.01",  # the kill lands mid-run, not after the last step
    ]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    env["JAX_PLATFORMS"] = "cpu"
    return env


@pytest.mark.parametrize("framework", ["torch", "optax"])
def test_sigkill_at_a_random_step_then_resume(framework: str, tmp_path: Path) -> None:
    reference = tmp_path / "uninterrupted"
    loop.run(framework, reference, out=io.StringIO())
    expected = loop.read_log(reference / "lrs.log")
    assert sorted(expected) == list(range(loop.STEPS))

    rng = random.Random(f"resume-{framework}")
    kill_after = rng.randint(2, loop.STEPS - 12)  # completed steps before the kill
    interrupted = tmp_path / "interrupted"
    child = subprocess.Popen(
        _child(framework, interrupted),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=_ROOT,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "start 0\n"
        for _ in range(kill_after):
            assert child.stdout.readline().startswith("step ")
        time.sleep(rng.uniform(0.0, 0.012))  # anywhere in the next step or two
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()  # type: ignore[union-attr]
        child.stderr.close()  # type: ignore[union-attr]
    assert child.returncode == -signal.SIGKILL, "the child finished before the kill landed"

    # The restart: fresh objects, everything from the checkpoint on disk.
    out = io.StringIO()
    loop.run(framework, interrupted, out=out)
    resumed_at = int(out.getvalue().splitlines()[0].removeprefix("start "))
    assert kill_after <= resumed_at < loop.STEPS  # it resumed, and from the last checkpoint
    logged = loop.read_log(interrupted / "lrs.log")  # a step logged twice logged equal values
    assert logged == expected  # exact: every float round-trips through repr


def test_a_checkpoint_is_never_half_written(tmp_path: Path) -> None:
    """What the atomic save guarantees: the file is the old checkpoint or the new one."""
    path = tmp_path / "checkpoint"

    def write(obj: bytes, target: Path) -> None:
        target.write_bytes(obj[:3])  # a writer killed half-way
        raise KeyboardInterrupt

    loop.save(path, b"old", lambda obj, target: target.write_bytes(obj))
    with pytest.raises(KeyboardInterrupt):
        loop.save(path, b"new checkpoint", write)
    assert path.read_bytes() == b"old"
