"""Many devices: the lrs of a sharded or distributed run are the single-device run's.

Both run the examples in fresh processes (XLA reads its device-count flag once, at import;
DDP needs one process per rank): ``examples/sharded_jax.py`` over 8 simulated CPU devices
and ``examples/ddp_gloo.py`` over 2 gloo ranks on CPU, with a rank-0 checkpoint resumed by
both ranks half-way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np

import lrfun
from parity import assert_close

_ROOT = Path(__file__).resolve().parents[1]


def run_example(name: str, *args: str) -> dict[str, Any]:
    """Runs ``examples/<name>`` and returns the JSON record it prints."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    env["JAX_PLATFORMS"] = "cpu"
    done = subprocess.run(
        [sys.executable, str(_ROOT / "examples" / name), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=_ROOT,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_sharded_jax_lrs_equal_single_device() -> None:
    steps = 60
    result = run_example("sharded_jax.py", "--devices", "8", "--steps", str(steps))
    assert result["devices"] == 8 and result["sharded_over"] == 8
    sharded, single = result["sharded"], result["single"]
    for key in ("lr", "momentum", "plateau"):
        assert sharded[key] == single[key], key  # exact
    # The lrs are the schedule's (float32 in the jitted step, float64 here) ...
    schedule = lrfun.OneCycleLR(0.3, total_steps=steps, pct_start=0.25)
    assert_close(sharded["lr"], schedule(np.arange(steps)), dtype="float32")
    assert_close(sharded["momentum"], schedule.momentum(np.arange(steps)), dtype="float32")
    # ... and the plateau took, inside the sharded step, the decisions the machine takes on
    # the same losses (float32, as the state is JAX's default float).
    plateau = lrfun.ReduceLROnPlateau(1.0, patience=3, factor=0.5, threshold=1e-2)
    replay = plateau.trajectory(jnp.asarray(sharded["loss"], dtype=jnp.float32))
    np.testing.assert_array_equal(sharded["plateau"], np.asarray(replay)[:-1])
    assert len(set(sharded["plateau"])) > 2  # it did cut
    # Only the reduction order differs: the losses agree to float32 rounding.
    np.testing.assert_allclose(sharded["loss"], single["loss"], rtol=1e-5)


def test_ddp_ranks_apply_single_process_lrs_and_resume_exactly() -> None:
    steps, resume_at = 40, 17
    result = run_example("ddp_gloo.py", "--steps", str(steps), "--resume-at", str(resume_at))
    single = np.array(result["single"])
    assert single.shape == (steps, 3)
    for rank in result["ranks"]:
        # Exact, before and after the resume from rank 0's checkpoint.
        np.testing.assert_array_equal(np.array(rank), single)
    assert result["lrs_equal"]
    # What the adapters wrote: OneCycleLR's lr and momentum, and the plateau's cuts.
    schedule = lrfun.OneCycleLR(0.2, total_steps=steps)
    assert_close(single[:, 0], schedule(np.arange(steps)), dtype="float64")
    assert_close(single[:, 1], schedule.momentum(np.arange(steps)), dtype="float64")
    assert len(set(single[:, 2])) > 1, "the plateau never cut: the check would be empty"
