"""A jitted training step with an lrfun schedule against the same step with optax's own.

A small MLP (32-256-256-10, tanh) on a batch of 128, SGD with momentum 0.9 and Adam, 200
steps per timing. Each lrfun schedule is paired with the optax schedule a port would use;
the pairs agree in value (checked) except OneCycleLR, where optax's
``cosine_onecycle_schedule`` ends its phases one step later than torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks._common import Row, paired

__all__ = ["pairs", "run"]


def pairs() -> dict[str, tuple[Any, Any, bool]]:
    """name -> (lrfun schedule, optax schedule, whether they agree in value)."""
    import optax

    import lrfun

    return {
        "CosineAnnealingLR": (
            lrfun.CosineAnnealingLR(0.1, T_max=1000),
            optax.cosine_decay_schedule(0.1, 1000),
            True,
        ),
        "ExponentialLR": (
            lrfun.ExponentialLR(0.1, 0.999),
            optax.exponential_decay(0.1, 1, 0.999),
            True,
        ),
        "StepLR": (
            lrfun.StepLR(0.1, 100, 0.5),
            optax.exponential_decay(0.1, 100, 0.5, staircase=True),
            True,
        ),
        "MultiStepLR": (
            lrfun.MultiStepLR(0.1, [300, 600, 900], 0.1),
            optax.piecewise_constant_schedule(0.1, {300: 0.1, 600: 0.1, 900: 0.1}),
            True,
        ),
        "LinearLR": (
            lrfun.LinearLR(0.1, 0.25, 1.0, total_iters=100),
            optax.linear_schedule(0.025, 0.1, 100),
            True,
        ),
        "OneCycleLR": (
            lrfun.OneCycleLR(0.1, total_steps=1000, cycle_momentum=False),
            optax.cosine_onecycle_schedule(1000, 0.1),
            False,
        ),
    }


def _op_count(text: str) -> int:
    """Operations in lowered StableHLO text (constants included, as they are ops)."""
    return sum(1 for line in text.splitlines() if "= stablehlo." in line or "= chlo." in line)


def _problem(sizes: tuple[int, ...] = (32, 256, 256, 10)) -> tuple[Any, Any, Any]:
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(jax.random.PRNGKey(0), 6)
    params = [
        (jax.random.normal(k, (a, b)) / np.sqrt(a), jnp.zeros(b))
        for k, a, b in zip(keys, sizes[:-1], sizes[1:], strict=False)
    ]
    x = jax.random.normal(keys[4], (128, sizes[0]))
    y = jax.random.normal(keys[5], (128, sizes[-1]))
    return params, x, y


def _step(optimizer: Any, x: Any, y: Any) -> Any:
    import jax
    import jax.numpy as jnp
    import optax

    def loss(params: Any) -> Any:
        h = x
        for w, b in params[:-1]:
            h = jnp.tanh(h @ w + b)
        w, b = params[-1]
        return jnp.mean((h @ w + b - y) ** 2)

    @jax.jit
    def step(params: Any, state: Any) -> tuple[Any, Any]:
        grads = jax.grad(loss)(params)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return step


def run(tiny: bool = False) -> list[Row]:
    """Op counts and time ratios of the jitted step, per schedule and optimizer."""
    import jax
    import optax

    params, x, y = _problem((4, 8, 8, 2) if tiny else (32, 256, 256, 10))
    steps, repeat = (3, 1) if tiny else (200, 7)
    chosen = pairs()
    if tiny:
        chosen = {"ExponentialLR": chosen["ExponentialLR"]}
    rows = []
    for name, (ours, theirs, _) in chosen.items():
        for kind in ("sgd", "adam"):
            loops, counts = {}, {}
            for who, schedule in (("lrfun", ours), ("optax", theirs)):
                optimizer = (
                    optax.sgd(schedule, momentum=0.9) if kind == "sgd" else optax.adam(schedule)
                )
                state = optimizer.init(params)
                step = _step(optimizer, x, y)
                counts[who] = _op_count(step.lower(params, state).as_text())
                jax.block_until_ready(step(params, state))  # compiled outside the timing

                def loop(step: Any = step, state: Any = state) -> None:
                    p, s = params, state
                    for _ in range(steps):
                        p, s = step(p, s)
                    jax.block_until_ready(p)

                loops[who] = loop
            timings = paired(loops, repeat=repeat)
            case = f"{name}, {'SGD momentum' if kind == 'sgd' else 'Adam'}"
            detail = {"lrfun_ops": counts["lrfun"], "optax_ops": counts["optax"]}
            detail |= timings.detail(unit=1 / steps, suffix="_s_per_step")
            rows.append(
                Row(
                    "train_step",
                    case,
                    "lowered ops, lrfun - optax",
                    counts["lrfun"] - counts["optax"],
                    "<= 0",
                    detail,
                )
            )
            rows.append(
                Row.paired(
                    "train_step",
                    case,
                    "step time, lrfun / optax",
                    timings.ratio("lrfun", "optax"),
                    "<= 1.02",
                    detail,
                )
            )
    return rows
