"""A learning-rate sweep in one compile: N copies of a model, N peak lrs, one vmapped step.

lrfun schedules are JAX pytrees whose float hyperparameters are leaves, so a batch of
schedules is one pytree with stacked leaves (``jax.tree.map(lambda *x: jnp.stack(x), ...)``),
and ``jax.vmap`` runs a training step over the models and their schedules together. Here N
linear regressions train with ``lrfun.optax.inject(optax.sgd, OneCycleLR(peak))``, one peak
each, through a single jitted, vmapped step: one trace and one compile, whatever N is. The
same models are then trained one at a time, one compile per peak, and every step's lr and
loss must agree.

It prints a JSON record (the compile counts, wall times, each model's final loss and the
worst lr difference) and exits with status 1 if the runs disagree.

Run: ``python examples/sweep_jax.py [--models 8] [--steps 100]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

MODELS, STEPS, BATCH, FEATURES = 8, 100, 64, 8


def _problem() -> tuple[Any, Any]:
    import jax
    import jax.numpy as jnp

    key_x, key_noise = jax.random.split(jax.random.key(0))
    x = jax.random.normal(key_x, (BATCH, FEATURES))
    y = x @ jnp.linspace(-1.0, 1.0, FEATURES) + 0.1 * jax.random.normal(key_noise, (BATCH,))
    return x, y


def peaks(models: int) -> list[float]:
    """The peak lrs swept: log-spaced from 0.01 to 1."""
    return [10.0 ** (-2 + 2 * i / max(models - 1, 1)) for i in range(models)]


def _train_step(x: Any, y: Any) -> Any:
    """One SGD step of a linear regression with the schedule's lr (and momentum)."""
    import jax
    import jax.numpy as jnp
    import optax

    import lrfun.optax

    def loss_fn(w: Any) -> Any:
        return jnp.mean((x @ w - y) ** 2)

    def step(schedule: Any, w: Any, state: Any) -> tuple[Any, Any, Any, Any]:
        opt = lrfun.optax.inject(optax.sgd, schedule)
        loss, grads = jax.value_and_grad(loss_fn)(w)
        updates, state = opt.update(grads, state, w)
        return optax.apply_updates(w, updates), state, loss, state.hyperparams["learning_rate"]

    return step


def sweep(models: int, steps: int) -> dict[str, Any]:
    """Trains every model in one vmapped, jitted step; returns lrs and losses per step
    (shape ``(steps, models)``), the trace count and the seconds to the first result."""
    import jax
    import jax.numpy as jnp
    import optax

    import lrfun
    import lrfun.optax

    x, y = _problem()
    schedules = [lrfun.OneCycleLR(peak, total_steps=steps) for peak in peaks(models)]
    batch = jax.tree.map(lambda *leaves: jnp.stack(leaves), *schedules)
    traces = []
    step = _train_step(x, y)

    def counted(*args: Any) -> Any:
        traces.append(1)
        return step(*args)

    run = jax.jit(jax.vmap(counted))
    w = jnp.zeros((models, FEATURES))
    state = jax.vmap(lambda s, w: lrfun.optax.inject(optax.sgd, s).init(w))(batch, w)
    start = time.perf_counter()
    lrs, losses = [], []
    for _ in range(steps):
        w, state, loss, lr = run(batch, w, state)
        lrs.append(lr)
        losses.append(loss)
    jax.block_until_ready(w)
    return {
        "lr": jnp.stack(lrs),
        "loss": jnp.stack(losses),
        "traces": len(traces),
        "seconds": time.perf_counter() - start,
    }


def one_at_a_time(models: int, steps: int) -> dict[str, Any]:
    """The same models trained one after another, each with its own jitted step (one trace
    and one compile per model)."""
    import jax
    import jax.numpy as jnp
    import optax

    import lrfun
    import lrfun.optax

    x, y = _problem()
    step = _train_step(x, y)
    traces = []
    lrs, losses = [], []
    start = time.perf_counter()
    for peak in peaks(models):
        schedule = lrfun.OneCycleLR(peak, total_steps=steps)

        def counted(w: Any, state: Any, schedule: Any = schedule) -> Any:
            traces.append(1)
            return step(schedule, w, state)

        run = jax.jit(counted)
        w = jnp.zeros(FEATURES)
        state = lrfun.optax.inject(optax.sgd, schedule).init(w)
        model_lrs, model_losses = [], []
        for _ in range(steps):
            w, state, loss, lr = run(w, state)
            model_lrs.append(lr)
            model_losses.append(loss)
        lrs.append(jnp.stack(model_lrs))
        losses.append(jnp.stack(model_losses))
    jax.block_until_ready(w)
    return {
        "lr": jnp.stack(lrs, axis=1),
        "loss": jnp.stack(losses, axis=1),
        "traces": len(traces),
        "seconds": time.perf_counter() - start,
    }


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=MODELS)
    parser.add_argument("--steps", type=int, default=STEPS)
    args = parser.parse_args(argv)
    together = sweep(args.models, args.steps)
    apart = one_at_a_time(args.models, args.steps)
    lr_diff = float(np.max(np.abs(np.asarray(together["lr"]) - np.asarray(apart["lr"]))))
    loss_diff = float(np.max(np.abs(np.asarray(together["loss"]) - np.asarray(apart["loss"]))))
    scale = float(np.max(np.abs(np.asarray(apart["loss"]))))
    record = {
        "models": args.models,
        "steps": args.steps,
        "vmapped": {"traces": together["traces"], "seconds": together["seconds"]},
        "one_at_a_time": {"traces": apart["traces"], "seconds": apart["seconds"]},
        "final_loss": np.asarray(together["loss"][-1]).tolist(),
        "max_lr_difference": lr_diff,
        "max_loss_difference": loss_diff,
    }
    print(json.dumps(record, indent=2))
    # float32 everywhere: the lrs are the same computation; the losses may differ by the
    # rounding of a batched matmul.
    agree = lr_diff <= 1e-6 * max(peaks(args.models)) and loss_diff <= 1e-4 * scale
    return 0 if agree and together["traces"] == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
