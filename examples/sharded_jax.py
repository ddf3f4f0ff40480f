"""Data-parallel JAX training over 8 devices with an lrfun schedule and the plateau inside the
jitted step: every lr equals the single-device run's.

A linear regression is trained with ``optax.chain(lrfun.optax.inject(optax.sgd, OneCycleLR),
lrfun.optax.reduce_on_plateau(plateau))``: the schedule sets the lr and the momentum from
optax's step count, and the plateau, stepped with the loss, scales the updates. The batch is
sharded over a ``("data",)`` mesh (``jax.sharding.NamedSharding``), the parameters and the
optimizer state are replicated, and the loss the plateau sees is the mean over all devices
(XLA inserts the all-reduce). The same step then runs unsharded on one device.

The 8 devices are CPU devices simulated by ``XLA_FLAGS=--xla_force_host_platform_device_count=8``,
which this script sets before importing jax (on a machine with 8 accelerators, drop the flag
and ``JAX_PLATFORMS``). It prints a JSON record of both runs' lrs, momenta, plateau scales
and losses, and exits with status 1 if any lr differs.

Run: ``python examples/sharded_jax.py [--devices 8] [--steps 60]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

STEPS, DEVICES, BATCH, FEATURES = 60, 8, 64, 16


def configure(devices: int) -> None:
    """Simulates ``devices`` CPU devices; must run before jax is imported."""
    if "jax" in sys.modules:
        raise RuntimeError("configure() must run before jax is imported (XLA reads its flags once)")
    flag = f"--xla_force_host_platform_device_count={devices}"
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def train(steps: int, devices: int | None) -> dict[str, list[float]]:
    """Trains for ``steps`` steps, the batch sharded over ``devices`` devices (None: one device,
    no sharding); returns what each step used and the loss it saw."""
    import jax
    import jax.numpy as jnp
    import optax
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    import lrfun
    import lrfun.optax

    schedule = lrfun.OneCycleLR(0.3, total_steps=steps, pct_start=0.25)
    plateau = lrfun.ReduceLROnPlateau(1.0, patience=3, factor=0.5, threshold=1e-2)
    opt = optax.chain(
        lrfun.optax.inject(optax.sgd, schedule),
        lrfun.optax.reduce_on_plateau(plateau),
    )

    key_x, key_noise = jax.random.split(jax.random.key(0))
    x = jax.random.normal(key_x, (BATCH, FEATURES))
    w_true = jnp.linspace(-1.0, 1.0, FEATURES)
    y = x @ w_true + 0.3 * jax.random.normal(key_noise, (BATCH,))  # a noise floor: a plateau
    params = jnp.zeros(FEATURES)
    state = opt.init(params)

    if devices is None:
        place_batch = place_replicated = jax.devices()[0]
    else:
        mesh = jax.make_mesh((devices,), ("data",), devices=jax.devices()[:devices])
        place_batch = NamedSharding(mesh, P("data"))
        place_replicated = NamedSharding(mesh, P())
    x, y = jax.device_put((x, y), place_batch)
    params, state = jax.device_put((params, state), place_replicated)
    if devices is not None:
        assert len(x.sharding.device_set) == devices, x.sharding

    def loss_fn(w: Any) -> Any:
        return jnp.mean((x @ w - y) ** 2)

    @jax.jit
    def step(params: Any, state: Any) -> tuple[Any, Any, Any]:
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, state = opt.update(grads, state, params, value=loss)
        return optax.apply_updates(params, updates), state, loss

    record: dict[str, list[float]] = {"lr": [], "momentum": [], "plateau": [], "loss": []}
    for _ in range(steps):
        scale = float(state[1].lr)  # the plateau's scale this update uses
        params, state, loss = step(params, state)
        record["lr"].append(float(state[0].hyperparams["learning_rate"]))
        record["momentum"].append(float(state[0].hyperparams["momentum"]))
        record["plateau"].append(scale)
        record["loss"].append(float(loss))
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=DEVICES)
    parser.add_argument("--steps", type=int, default=STEPS)
    args = parser.parse_args(argv)
    configure(args.devices)

    import jax

    sharded = train(args.steps, args.devices)
    single = train(args.steps, None)
    same = all(sharded[k] == single[k] for k in ("lr", "momentum", "plateau"))
    result = {
        "devices": len(jax.devices()),
        "sharded_over": args.devices,
        "lrs_equal": same,
        "sharded": sharded,
        "single": single,
    }
    print(json.dumps(result))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
