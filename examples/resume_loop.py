"""A training loop that survives SIGKILL: restarted, it continues with exactly the lrs of a run
that was never interrupted.

Each step trains a small regression, appends the lrs it used to ``DIR/lrs.log`` and then
replaces ``DIR/checkpoint`` atomically (write a temporary file, then ``os.replace``): a kill
at any instant leaves the previous checkpoint or the new one, never half of one. Started again
with the same ``DIR`` it resumes from the checkpoint. A step killed after its log line and
before its checkpoint is done again and logs the same values again (the log is keyed by step).

Two ways, both with a schedule that cycles momentum and a plateau stepped with the loss:

* ``torch``: ``lrfun.torch.Scheduler`` (CyclicLR, triangular2) on the weight's SGD and
  ``lrfun.torch.PlateauScheduler`` on the bias's SGD; the checkpoint holds the model, both
  optimizers and both schedulers' ``state_dict()`` (plain data: ``weights_only=True`` loads it).
* ``optax``: ``optax.chain(lrfun.optax.inject(optax.sgd, CyclicLR),
  lrfun.optax.reduce_on_plateau(plateau))``; the checkpoint is the parameters and the whole
  optimizer state -- counts, recorded hyperparameters and the plateau state -- pickled as
  NumPy arrays.

Run ``python examples/resume_loop.py torch --dir /tmp/run``, kill it (``kill -9``), run it
again, and compare ``/tmp/run/lrs.log`` with an uninterrupted run's.
``tests/test_resume_faults.py`` does exactly that at a random step.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

STEPS = 40
N, P = 32, 4


def data() -> tuple[np.ndarray, np.ndarray]:
    """A fixed regression with a noise floor (so the loss plateaus and the plateau cuts)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, P))
    y = x @ np.arange(1.0, P + 1) + 0.5 + 0.3 * rng.standard_normal(N)
    return x, y


def schedule() -> Any:
    import lrfun

    return lrfun.CyclicLR(0.02, 0.2, step_size_up=3, step_size_down=5, mode="triangular2")


def plateau(base_lr: float) -> Any:
    import lrfun

    return lrfun.ReduceLROnPlateau(base_lr, patience=2, factor=0.5, threshold=1e-3)


def save(path: Path, checkpoint: Any, write: Any) -> None:
    """Replaces ``path`` atomically: readers (and a restart after a kill) see the old file or
    the new one, whole."""
    tmp = path.with_name(path.name + ".tmp")
    write(checkpoint, tmp)
    os.replace(tmp, path)


def log(path: Path, step: int, values: list[float]) -> None:
    """Appends one line in one write(2) on an O_APPEND descriptor: a kill cannot leave half a
    line (repr round-trips every float exactly)."""
    line = " ".join([str(step), *(repr(float(v)) for v in values)]) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def run_torch(directory: Path, steps: int, delay: float, out: TextIO) -> None:
    import torch

    import lrfun.torch

    torch.set_num_threads(1)
    x, y = (torch.from_numpy(a) for a in data())
    model = torch.nn.Linear(P, 1).double()
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    weight_opt = torch.optim.SGD([model.weight], lr=0.02, momentum=0.9)
    bias_opt = torch.optim.SGD([model.bias], lr=0.1)
    sched = lrfun.torch.Scheduler(weight_opt, schedule())
    plat = lrfun.torch.PlateauScheduler(bias_opt, plateau(0.1))
    path, start = directory / "checkpoint", 0
    if path.exists():
        ckpt = torch.load(path, weights_only=True)
        model.load_state_dict(ckpt["model"])
        weight_opt.load_state_dict(ckpt["weight_opt"])
        bias_opt.load_state_dict(ckpt["bias_opt"])
        sched.load_state_dict(ckpt["sched"])
        plat.load_state_dict(ckpt["plateau"])
        start = ckpt["step"]
    print(f"start {start}", file=out, flush=True)
    for k in range(start, steps):
        group = weight_opt.param_groups[0]
        used = [group["lr"], group["momentum"], bias_opt.param_groups[0]["lr"]]
        loss = torch.nn.functional.mse_loss(model(x)[:, 0], y)
        weight_opt.zero_grad()
        bias_opt.zero_grad()
        loss.backward()
        weight_opt.step()
        bias_opt.step()
        sched.step()
        plat.step(loss)
        log(directory / "lrs.log", k, used)
        checkpoint = {
            "step": k + 1,
            "model": model.state_dict(),
            "weight_opt": weight_opt.state_dict(),
            "bias_opt": bias_opt.state_dict(),
            "sched": sched.state_dict(),
            "plateau": plat.state_dict(),
        }
        save(path, checkpoint, torch.save)
        print(f"step {k}", file=out, flush=True)
        time.sleep(delay)


def run_optax(directory: Path, steps: int, delay: float, out: TextIO) -> None:
    import jax
    import jax.numpy as jnp
    import optax

    import lrfun.optax

    x, y = (jnp.asarray(a, dtype=jnp.float32) for a in data())
    opt = optax.chain(
        lrfun.optax.inject(optax.sgd, schedule()),
        lrfun.optax.reduce_on_plateau(plateau(1.0)),
    )

    def loss_fn(params: dict[str, Any]) -> Any:
        return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)

    @jax.jit
    def train_step(params: Any, state: Any) -> tuple[Any, Any, Any]:
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, state = opt.update(grads, state, params, value=loss)
        return optax.apply_updates(params, updates), state, loss

    path, start = directory / "checkpoint", 0
    params: Any = {"w": jnp.zeros(P), "b": jnp.zeros(())}
    state = opt.init(params)
    if path.exists():
        with open(path, "rb") as f:
            ckpt = pickle.load(f)
        params, state = jax.tree.map(jnp.asarray, (ckpt["params"], ckpt["state"]))
        start = ckpt["step"]
    print(f"start {start}", file=out, flush=True)
    for k in range(start, steps):
        scale = state[1].lr  # the plateau's factor this update uses
        params, state, _ = train_step(params, state)
        hyper = state[0].hyperparams  # what this update used
        log(directory / "lrs.log", k, [hyper["learning_rate"], hyper["momentum"], scale])
        checkpoint = {"step": k + 1, "params": params, "state": state}
        save(path, jax.device_get(checkpoint), _pickle)
        print(f"step {k}", file=out, flush=True)
        time.sleep(delay)


def _pickle(obj: Any, path: Path) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def run(
    framework: str,
    directory: Path,
    steps: int = STEPS,
    delay: float = 0.0,
    out: TextIO = sys.stdout,
) -> None:
    """Runs (or resumes) the loop in ``directory`` up to ``steps`` steps."""
    directory.mkdir(parents=True, exist_ok=True)
    {"torch": run_torch, "optax": run_optax}[framework](directory, steps, delay, out)


def read_log(path: Path) -> dict[int, list[float]]:
    """The log as {step: values}; a step logged twice must have logged the same values."""
    entries: dict[int, list[float]] = {}
    for line in path.read_text().splitlines():
        step, *values = line.split()
        row = [float(v) for v in values]
        if entries.setdefault(int(step), row) != row:
            raise AssertionError(f"step {step} logged {entries[int(step)]} and then {row}")
    return entries


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=["torch", "optax"])
    parser.add_argument("--dir", type=Path, required=True, help="checkpoint and log directory")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to sleep per step")
    args = parser.parse_args(argv)
    run(args.framework, args.dir, args.steps, args.delay)


if __name__ == "__main__":
    main()
