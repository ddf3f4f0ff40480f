"""torch DistributedDataParallel over 2 local CPU processes (gloo) with lrfun's torch adapters:
every rank applies the single-process run's lrs, and a checkpoint saved on rank 0 resumes
both ranks exactly.

A small MLP is trained on a fixed regression: its hidden layer by SGD with momentum under
``lrfun.torch.Scheduler(OneCycleLR)`` (lr and momentum cycled), its output layer by SGD under
``lrfun.torch.PlateauScheduler``, stepped with the validation loss. Each rank trains on its
half of every batch; DDP averages the gradients. After ``--resume-at`` steps rank 0 saves the
model, both optimizers and both schedulers (their ``state_dict()`` is plain data), every rank
builds everything afresh, loads that file and trains on. Rank 0 then runs the same training
in one process, uninterrupted (its gradient is the two half-batch gradients averaged, as DDP
computes it, so the weights -- and the validation losses the plateau sees -- are the same).

Every rank must see the same metric: here the validation loss is computed from the
replicated weights on the same data; a per-rank training loss would have to be all-reduced
first, or the ranks' plateaus would take different decisions.

The script starts its ranks itself (no torchrun): ``python examples/ddp_gloo.py [--steps 40]
[--resume-at 17]``. The ranks meet through a file store in a temporary directory. It prints a
JSON record of the lrs each rank applied and the single-process ones, and exits with status 1
if any differ.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

STEPS, RESUME_AT, WORLD = 40, 17, 2
N, FEATURES, HIDDEN, BATCH = 96, 6, 8, 16


def data() -> tuple[Any, Any, Any, Any]:
    """Training and validation sets (float64), the same in every process."""
    import torch

    g = torch.Generator().manual_seed(0)
    x = torch.randn(N + 32, FEATURES, generator=g, dtype=torch.float64)
    y = torch.sin(x @ torch.linspace(-1, 1, FEATURES, dtype=torch.float64)) + 0.2 * torch.randn(
        N + 32, generator=g, dtype=torch.float64
    )
    return x[:N], y[:N], x[N:], y[N:]


def build(seed: int) -> tuple[Any, Any, Any, Any, Any]:
    """(model, hidden optimizer, output optimizer, scheduler, plateau), initialised by seed."""
    import torch

    import lrfun
    import lrfun.torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, 1)
    ).double()
    hidden = torch.optim.SGD(model[0].parameters(), lr=0.1, momentum=0.9)
    output = torch.optim.SGD(model[2].parameters(), lr=0.1)
    sched = lrfun.torch.Scheduler(hidden, lrfun.OneCycleLR(0.2, total_steps=STEPS))
    plateau = lrfun.torch.PlateauScheduler(
        output, lrfun.ReduceLROnPlateau(0.1, patience=1, factor=0.5, threshold=1e-2)
    )
    return model, hidden, output, sched, plateau


def batch(step: int, part: int, parts: int) -> tuple[Any, Any]:
    """Rows of step ``step``'s batch for part ``part`` of ``parts`` (a rank's share)."""
    x, y, _, _ = data()
    start = (step * BATCH) % N
    rows = range(start + part * BATCH // parts, start + (part + 1) * BATCH // parts)
    return x[list(rows)], y[list(rows)]


def validation_loss(model: Any) -> float:
    import torch

    _, _, xv, yv = data()
    with torch.no_grad():
        return float(torch.nn.functional.mse_loss(model(xv)[:, 0], yv))


def used(hidden: Any, output: Any) -> list[float]:
    """What this step's updates use: hidden lr and momentum, output lr."""
    group = hidden.param_groups[0]
    return [group["lr"], group["momentum"], output.param_groups[0]["lr"]]


def step_all(hidden: Any, output: Any, sched: Any, plateau: Any, model: Any) -> None:
    """The optimizers' and schedulers' step, in torch's order."""
    hidden.step()
    output.step()
    sched.step()
    plateau.step(validation_loss(model))


def rank_main(rank: int, world: int, store: str, out: Path, steps: int, resume_at: int) -> None:
    """One rank: train to ``resume_at``, checkpoint on rank 0, rebuild, resume, train on."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    torch.set_num_threads(1)
    # A short collective timeout: a rank that died surfaces in a minute, not gloo's 30.
    dist.init_process_group(
        "gloo",
        init_method=f"file://{store}",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=60),
    )
    try:
        checkpoint = out / "checkpoint.pt"
        lrs: list[list[float]] = []
        model, hidden, output, sched, plateau = build(seed=0)
        ddp = DistributedDataParallel(model)
        for k in range(steps):
            if k == resume_at:
                if rank == 0:
                    state = {
                        "model": model.state_dict(),
                        "hidden": hidden.state_dict(),
                        "output": output.state_dict(),
                        "sched": sched.state_dict(),
                        "plateau": plateau.state_dict(),
                    }
                    torch.save(state, out / "checkpoint.tmp")
                    os.replace(out / "checkpoint.tmp", checkpoint)
                dist.barrier()
                # Everything afresh, from a different seed: only the file carries the run.
                model, hidden, output, sched, plateau = build(seed=rank + 1)
                state = torch.load(checkpoint, weights_only=True)
                model.load_state_dict(state["model"])
                hidden.load_state_dict(state["hidden"])
                output.load_state_dict(state["output"])
                sched.load_state_dict(state["sched"])
                plateau.load_state_dict(state["plateau"])
                ddp = DistributedDataParallel(model)
            lrs.append(used(hidden, output))
            x, y = batch(k, rank, world)
            hidden.zero_grad()
            output.zero_grad()
            torch.nn.functional.mse_loss(ddp(x)[:, 0], y).backward()
            step_all(hidden, output, sched, plateau, model)
        (out / f"rank{rank}.json").write_text(json.dumps(lrs))
    finally:
        dist.destroy_process_group()
    if rank == 0:
        (out / "single.json").write_text(json.dumps(single_process(steps, world)))


def single_process(steps: int, parts: int) -> list[list[float]]:
    """The same training in one process, uninterrupted: the gradient of each part of the
    batch, summed and divided by the number of parts (what DDP's all-reduce computes)."""
    import torch

    torch.set_num_threads(1)
    model, hidden, output, sched, plateau = build(seed=0)
    lrs = []
    for k in range(steps):
        lrs.append(used(hidden, output))
        hidden.zero_grad()
        output.zero_grad()
        for part in range(parts):
            x, y = batch(k, part, parts)
            torch.nn.functional.mse_loss(model(x)[:, 0], y).backward()
        with torch.no_grad():
            for p in model.parameters():
                p.grad /= parts
        step_all(hidden, output, sched, plateau, model)
    return lrs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--resume-at", type=int, default=RESUME_AT)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for the ranks")
    parser.add_argument("--rank", type=int, help=argparse.SUPPRESS)  # set for the ranks
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rank is not None:
        rank_main(args.rank, WORLD, args.store, args.out, args.steps, args.resume_at)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        common = ["--steps", str(args.steps), "--resume-at", str(args.resume_at)]
        common += ["--store", str(out / "store"), "--out", str(out)]
        ranks = [
            subprocess.Popen([sys.executable, __file__, "--rank", str(r), *common])
            for r in range(WORLD)
        ]
        try:
            codes = [rank.wait(timeout=args.timeout) for rank in ranks]
        finally:
            for rank in ranks:  # a rank left waiting for a dead peer
                if rank.poll() is None:
                    rank.kill()
                    rank.wait()
        if any(codes):
            print(json.dumps({"error": f"rank exit codes {codes}"}))
            return 1
        per_rank = [json.loads((out / f"rank{r}.json").read_text()) for r in range(WORLD)]
        single = json.loads((out / "single.json").read_text())
    same = all(lrs == single for lrs in per_rank)
    print(json.dumps({"lrs_equal": same, "ranks": per_rank, "single": single}))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
