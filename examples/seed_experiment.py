"""The linear-regression experiment lrfun grew from, run three ways.

n=1000 samples of p=5 features, w_true=[0, 2, 4, 6, 8], Gaussian noise of std 0.2, a
``nn.Linear(5, 1)`` trained by full-batch SGD (lr=0.25) for 100 epochs, with no scheduler,
StepLR(step_size=1, gamma=0.9), CosineAnnealingLR(T_max=100), ExponentialLR(gamma=0.95) and
ReduceLROnPlateau(mode='min', patience=10, factor=0.1) stepped with the loss. Each run goes

* ``torch``: torch's native scheduler, as the original notebook did;
* ``lrfun.torch``: the same loop with ``lrfun.torch.Scheduler`` / ``PlateauScheduler``;
* ``lrfun.optax``: JAX + optax from the same initial weights and data, the lr injected by
  ``lrfun.optax.inject`` (the plateau stepped with ``value=loss``).

Run ``python examples/seed_experiment.py`` for the table (final lr, weights, bias and loss per
run and way). ``tests/test_seed_experiment.py`` checks that the lrs applied at every epoch
agree (1e-12 relative between the torch ways, float32 tolerance for optax) and so do the
final weights.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np

N, P, EPOCHS, LR, NOISE = 1000, 5, 100, 0.25, 0.2
RUNS = ("none", "StepLR", "CosineAnnealingLR", "ExponentialLR", "ReduceLROnPlateau")
WAYS = ("torch", "lrfun.torch", "lrfun.optax")


@dataclass(frozen=True)
class Result:
    """One training run: ``lrs[k]`` is the lr epoch ``k``'s update used."""

    lrs: np.ndarray
    final_lr: float  # the lr after the last scheduler step (torch's get_last_lr()[0])
    weight: np.ndarray
    bias: float
    loss: float  # the loss of the last epoch, before its update (as the notebook prints it)


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The regression data as float32 arrays x (n, p) and y (n, 1)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(N, P, generator=generator)
    w_true = torch.tensor([i / 0.5 for i in range(P)])
    y = x @ w_true + NOISE * torch.randn(N, generator=generator)
    return x.numpy(), y.reshape(-1, 1).numpy()


def _native(run: str, optimizer: Any) -> Any:
    import torch.optim.lr_scheduler as sched

    return {
        "none": None,
        "StepLR": lambda: sched.StepLR(optimizer, step_size=1, gamma=0.9),
        "CosineAnnealingLR": lambda: sched.CosineAnnealingLR(optimizer, T_max=EPOCHS),
        "ExponentialLR": lambda: sched.ExponentialLR(optimizer, gamma=0.95),
        "ReduceLROnPlateau": lambda: sched.ReduceLROnPlateau(
            optimizer, mode="min", patience=10, factor=0.1
        ),
    }[run]


def schedule(run: str) -> Any:
    """The lrfun schedule (or plateau) of a run; None for the run without a scheduler."""
    import lrfun

    return {
        "none": None,
        "StepLR": lrfun.StepLR(LR, step_size=1, gamma=0.9),
        "CosineAnnealingLR": lrfun.CosineAnnealingLR(LR, T_max=EPOCHS),
        "ExponentialLR": lrfun.ExponentialLR(LR, gamma=0.95),
        "ReduceLROnPlateau": lrfun.ReduceLROnPlateau(LR, mode="min", patience=10, factor=0.1),
    }[run]


def train_torch(run: str, way: str, x: np.ndarray, y: np.ndarray) -> Result:
    """The notebook's loop, with torch's scheduler or the lrfun torch adapter."""
    import torch
    from torch import nn

    import lrfun
    import lrfun.torch

    torch.manual_seed(42)
    model = nn.Sequential(nn.Linear(P, 1))
    loss_fn = nn.MSELoss(reduction="mean")
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    if run == "none":
        scheduler = None
    elif way == "torch":
        scheduler = _native(run, optimizer)()
    elif run == "ReduceLROnPlateau":
        scheduler = lrfun.torch.PlateauScheduler(optimizer, schedule(run))
    else:
        scheduler = lrfun.torch.Scheduler(optimizer, schedule(run))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    lrs = []
    for _ in range(EPOCHS):
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        loss = loss_fn(model(xt), yt)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if run == "ReduceLROnPlateau":
            scheduler.step(loss.item())
        elif scheduler is not None:
            scheduler.step()
    layer = model[0]
    final = LR if scheduler is None else float(scheduler.get_last_lr()[0])
    return Result(
        lrs=np.array(lrs),
        final_lr=final,
        weight=layer.weight.detach().numpy()[0].copy(),
        bias=float(layer.bias.detach()[0]),
        loss=float(loss.detach()),
    )


def initial_weights() -> tuple[np.ndarray, np.ndarray]:
    """The nn.Linear(5, 1) weights torch initialises under seed 42: (p, 1) and (1,)."""
    import torch
    from torch import nn

    torch.manual_seed(42)
    layer = nn.Sequential(nn.Linear(P, 1))[0]
    return layer.weight.detach().numpy().T.copy(), layer.bias.detach().numpy().copy()


def train_optax(run: str, x: np.ndarray, y: np.ndarray) -> Result:
    """The same regression in JAX, SGD through optax, the lr from the lrfun optax adapter."""
    import jax
    import jax.numpy as jnp
    import optax

    import lrfun.optax

    w0, b0 = initial_weights()
    params = {"w": jnp.asarray(w0), "b": jnp.asarray(b0)}
    s = schedule(run)
    optimizer = optax.sgd(LR) if s is None else lrfun.optax.inject(optax.sgd, s)
    state = optimizer.init(params)
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def loss_fn(params: dict[str, Any]) -> Any:
        return jnp.mean((xj @ params["w"] + params["b"] - yj) ** 2)

    @jax.jit
    def step(params: dict[str, Any], state: Any) -> tuple[Any, Any, Any]:
        loss, grads = jax.value_and_grad(loss_fn)(params)
        extra = {"value": loss} if run == "ReduceLROnPlateau" else {}
        updates, state = optimizer.update(grads, state, params, **extra)
        return optax.apply_updates(params, updates), state, loss

    lrs = []
    for _ in range(EPOCHS):
        params, state, loss = step(params, state)
        lrs.append(LR if s is None else float(state.hyperparams["learning_rate"]))
    if s is None:
        final = LR
    elif run == "ReduceLROnPlateau":
        final = float(state.hyperparams_states["learning_rate"].lr)
    else:
        final = float(s(EPOCHS))
    return Result(
        lrs=np.array(lrs),
        final_lr=final,
        weight=np.asarray(params["w"])[:, 0],
        bias=float(params["b"][0]),
        loss=float(loss),
    )


def train(run: str, way: str, x: np.ndarray, y: np.ndarray) -> Result:
    """One run of the experiment, one way."""
    if way == "lrfun.optax":
        return train_optax(run, x, y)
    return train_torch(run, way, x, y)


def table(results: dict[tuple[str, str], Result]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| run | way | final lr | weights | bias | loss |",
        "| --- | --- | ---: | --- | ---: | ---: |",
    ]
    for (run, way), r in results.items():
        weights = ", ".join(f"{w:.4f}" for w in r.weight)
        lines.append(
            f"| {run} | {way} | {r.final_lr:.6g} | [{weights}] | {r.bias:.6f} | {r.loss:.6f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="the data seed (default 0)")
    args = parser.parse_args(argv)
    x, y = data(args.seed)
    results = {(run, way): train(run, way, x, y) for run in RUNS for way in WAYS}
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
