"""A ``torch.compile``d training loop of 200 steps, four ways of scheduling the lr.

* native scheduler, float lr: torch's CosineAnnealingLR writing a Python float into the group;
* native scheduler, tensor lr: the same with ``lr=torch.tensor(...)``, updated in place;
* ``lrfun.torch.Scheduler``, tensor lr;
* one step compiled with ``fullgraph=True`` that computes the lr inside the graph from a step
  tensor (``schedule(step)``), SGD with momentum written functionally.

The first three compile the optimizer step (``torch.compile(opt.step)``, forward and backward
eager); the fourth compiles forward, backward (``torch.func``) and update together. Reported:
graphs compiled (a recompile is any after the first one per compiled function; the first
optimizer step also compiles once more, as it creates the momentum buffers) and the loop's
wall time (compiles included: they are what a changing lr costs) against the native
float-lr loop: the four ways run in turn, in a rotating order, over several rounds, each from
a reset compiler, and a ratio is the median of the rounds' ratios.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from benchmarks._common import Ratio, Row, rounds

__all__ = ["run"]

STEPS = 200
T_MAX = 50


class _Counting:
    """A torch.compile backend that counts the graphs it is given."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.graphs = 0

    def __call__(self, gm: Any, example_inputs: Any) -> Any:
        self.graphs += 1
        if self.backend == "eager":
            return gm.forward
        from torch._inductor.compile_fx import compile_fx

        return compile_fx(gm, example_inputs)


def _data() -> tuple[Any, Any, Any]:
    import torch

    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 32, generator=generator)
    y = torch.randn(64, 1, generator=generator)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.Tanh(), torch.nn.Linear(64, 1))
    return model, x, y


def _optimizer_loop(way: str, steps: int, backend: str) -> tuple[int, float, list[float]]:
    import torch

    import lrfun
    import lrfun.torch

    model, x, y = _data()
    lr: Any = 0.1 if way == "native, float lr" else torch.tensor(0.1)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    if way.startswith("native"):
        scheduler: Any = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T_MAX)
    else:
        scheduler = lrfun.torch.Scheduler(opt, lrfun.CosineAnnealingLR(0.1, T_max=T_MAX))
    counter = _Counting(backend)
    step = torch.compile(opt.step, backend=counter)
    lrs = []
    start = time.perf_counter()
    for _ in range(steps):
        lrs.append(float(opt.param_groups[0]["lr"]))
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        step()
        opt.zero_grad()
        scheduler.step()
    return counter.graphs, time.perf_counter() - start, lrs


def _fullgraph_loop(steps: int, backend: str) -> tuple[int, float, list[float]]:
    import torch

    import lrfun

    model, x, y = _data()
    schedule = lrfun.CosineAnnealingLR(0.1, T_max=T_MAX)
    params = {name: p.detach().clone() for name, p in model.named_parameters()}
    buffers = {name: torch.zeros_like(p) for name, p in params.items()}

    def loss_fn(params: dict[str, Any]) -> Any:
        out = torch.func.functional_call(model, params, (x,))
        return torch.nn.functional.mse_loss(out, y)

    counter = _Counting(backend)

    @torch.compile(fullgraph=True, backend=counter)
    def train_step(params: Any, buffers: Any, step: Any) -> tuple[Any, Any, Any]:
        lr = schedule(step)
        grads = torch.func.grad(loss_fn)(params)
        # torch's SGD: the first step's buffer is the gradient itself.
        first = step == 0
        buffers = {k: torch.where(first, grads[k], 0.9 * buffers[k] + grads[k]) for k in params}
        params = {k: params[k] - lr * buffers[k] for k in params}
        return params, buffers, lr

    lrs = []
    step = torch.zeros((), dtype=torch.int64)
    start = time.perf_counter()
    for _ in range(steps):
        params, buffers, lr = train_step(params, buffers, step)
        lrs.append(float(lr))
        step += 1
    return counter.graphs, time.perf_counter() - start, lrs


WAYS = ("native, float lr", "native, tensor lr", "lrfun.torch.Scheduler", "lrfun fullgraph step")


def run(tiny: bool = False) -> list[Row]:
    """Graphs compiled and wall-time ratios per way."""
    import torch

    steps, backend = (6, "eager") if tiny else (STEPS, "inductor")
    results: dict[str, list[tuple[int, float, list[float]]]] = {way: [] for way in WAYS}
    if backend == "inductor":
        import torch._inductor.config as inductor_config

        # Every way compiles from scratch: with the on-disk graph cache, a way would reuse
        # the graphs an earlier way compiled and look cheaper for its place in the order.
        cache = inductor_config.fx_graph_cache
        inductor_config.fx_graph_cache = False
        torch.compile(lambda t: t + 1)(torch.zeros(1))  # inductor's one-time start-up
    try:
        for i in range(rounds(1 if tiny else 3)):
            shift = i % len(WAYS)
            for way in WAYS[shift:] + WAYS[:shift]:
                torch._dynamo.reset()
                if way == "lrfun fullgraph step":
                    results[way].append(_fullgraph_loop(steps, backend))
                else:
                    results[way].append(_optimizer_loop(way, steps, backend))
    finally:
        if backend == "inductor":
            inductor_config.fx_graph_cache = cache
    base = [seconds for _, seconds, _ in results["native, float lr"]]
    rows = []
    for way, runs in results.items():
        graphs, _, lrs = runs[0]
        seconds = [s for _, s, _ in runs]
        detail = {
            "graphs": graphs,
            "graphs_per_round": [g for g, _, _ in runs],
            "seconds": statistics.median(seconds),
            "rounds_s": seconds,
            "steps": steps,
            "lrs": lrs,
        }
        # The optimizer-step ways compile twice by construction (momentum buffers created on
        # the first step); the fullgraph step compiles once.
        expected = 1 if way == "lrfun fullgraph step" else 2
        target = f"== {expected}" if way.startswith("lrfun") else ""
        rows.append(Row("compiled_loop", way, "graphs compiled", graphs, target, detail))
        ratio = Ratio.of([s / b for s, b in zip(seconds, base, strict=True)])
        rows.append(
            Row.paired("compiled_loop", way, "wall time / native float lr", ratio, "", detail)
        )
    return rows
