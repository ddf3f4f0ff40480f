"""The public API as users call it, with the types a checker must infer.

Checked, not run: ``mypy --strict`` (tests/test_typing.py) reads every ``assert_type`` here,
so a change that makes users' types worse (``Any``, or a union they must narrow) fails CI.
The values these types describe are checked at runtime in tests/test_typing.py.
"""

from __future__ import annotations

from typing import Any, assert_type

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
import optax
import torch
from matplotlib.figure import Figure

import lrfun
import lrfun.optax
import lrfun.plot
import lrfun.torch

# What NumPy steps give (float64; float32 for float32 steps).
Values = npt.NDArray[np.floating[Any]]


def every_schedule() -> list[lrfun.Schedule]:
    """Each of torch's step-driven schedulers, as users build them."""
    step = lrfun.StepLR(0.1, step_size=30)
    assert_type(step, lrfun.StepLR)
    return [
        step,
        lrfun.LambdaLR(0.1, lambda epoch: 0.95**epoch),
        lrfun.MultiplicativeLR(0.1, lambda epoch: 0.95),
        lrfun.MultiStepLR(0.1, milestones=[30, 80], gamma=0.1),
        lrfun.ConstantLR(0.1, factor=0.5, total_iters=4),
        lrfun.LinearLR(0.1, start_factor=0.25, total_iters=10),
        lrfun.ExponentialLR(0.1, gamma=0.99),
        lrfun.PolynomialLR(0.1, total_iters=100, power=2.0),
        lrfun.CosineAnnealingLR(0.1, T_max=100, eta_min=1e-4),
        lrfun.CosineAnnealingWarmRestarts(0.1, T_0=10, T_mult=2),
        lrfun.CyclicLR(0.01, 0.1, step_size_up=20, mode="triangular2"),
        lrfun.OneCycleLR(0.1, total_steps=100, pct_start=0.3),
        lrfun.SequentialLR(
            [lrfun.LinearLR(0.1, 0.1, total_iters=5), lrfun.CosineAnnealingLR(0.1, T_max=95)],
            milestones=[5],
        ),
        lrfun.ChainedScheduler([lrfun.ConstantLR(0.1), lrfun.ExponentialLR(0.1, gamma=0.9)]),
        # Several param groups: one lr each.
        lrfun.StepLR([0.1, 0.01], step_size=30),
    ]


def calls(schedule: lrfun.Schedule) -> None:
    # A Python step: a Python float (a NumPy array of one lr per group where the schedule
    # has several; see Schedule.__call__).
    assert_type(schedule(3), float)
    assert_type(schedule(3.0), float)
    # NumPy steps: arrays of lrs, 0-d for a NumPy scalar.
    assert_type(schedule(np.arange(3)), Values)
    assert_type(schedule(np.int64(3)), Values)
    assert_type(schedule(np.arange(3, dtype=np.float32)), Values)
    # JAX and torch steps: arrays of their own kind, traced or not.
    assert_type(schedule(jnp.arange(3)), jax.Array)
    assert_type(schedule(torch.arange(3)), torch.Tensor)
    # A trajectory as users take it.
    lrs: list[float] = [schedule(k) for k in range(10)]
    total: float = sum(lrs) + schedule(10)
    del total


def momentum() -> None:
    schedule = lrfun.OneCycleLR(0.1, total_steps=100)
    assert_type(schedule.cycles_momentum, bool)
    assert_type(schedule.momentum(3), float)
    assert_type(schedule.momentum(np.arange(3)), Values)
    assert_type(schedule.momentum(jnp.arange(3)), jax.Array)
    assert_type(schedule.momentum(torch.arange(3)), torch.Tensor)


def configs(schedule: lrfun.Schedule) -> None:
    config = schedule.to_config()
    assert_type(config, dict[str, Any])
    rebuilt = lrfun.from_config(config)
    # A config may describe a plateau machine: a schedule is told apart by isinstance.
    assert_type(rebuilt, lrfun.Configurable)
    if isinstance(rebuilt, lrfun.Schedule):
        assert_type(rebuilt(3), float)
    assert_type(schedule.groups, int | None)


def from_torch() -> None:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    native = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
    schedule = lrfun.from_torch(native)
    assert_type(schedule, lrfun.Schedule)
    assert_type(schedule(3), float)
    plateau = lrfun.from_torch(torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer))
    assert_type(plateau, lrfun.ReduceLROnPlateau)


def from_anything(scheduler: object) -> None:
    # Not known to be a torch scheduler (from_torch refuses what it cannot express).
    assert_type(lrfun.from_torch(scheduler), lrfun.Configurable)


def torch_adapter() -> None:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    scheduler = lrfun.torch.Scheduler(optimizer, lrfun.OneCycleLR(0.1, total_steps=100))
    assert_type(scheduler, lrfun.torch.Scheduler)
    assert isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler)
    optimizer.step()
    scheduler.step()
    assert_type(scheduler.state_dict(), dict[str, Any])
    plateau = lrfun.torch.PlateauScheduler(optimizer, lrfun.ReduceLROnPlateau(0.1))
    assert_type(plateau, lrfun.torch.PlateauScheduler)


def optax_adapter() -> None:
    schedule = lrfun.CosineAnnealingLR(0.1, T_max=100)
    optimizer = lrfun.optax.inject(optax.sgd, schedule, momentum=0.9)
    assert_type(optimizer, optax.GradientTransformationExtraArgs)
    state = optimizer.init({"w": jnp.zeros(3)})
    del state


def plots() -> None:
    figure = lrfun.plot.plot([lrfun.StepLR(0.1, 30), "CosineAnnealingLR(0.1, T_max=100)"], 200)
    assert_type(figure, Figure)


def transformers_types() -> None:
    # The type name says what get_scheduler gives: a schedule, or a metric-driven machine.
    cosine = lrfun.hf.get_scheduler("cosine", 0.1, num_warmup_steps=10, num_training_steps=100)
    assert_type(cosine, lrfun.Schedule)
    assert_type(cosine(3), float)
    plateau = lrfun.hf.get_scheduler("reduce_lr_on_plateau", 0.1)
    assert_type(plateau, lrfun.ReduceLROnPlateau)
    assert_type(lrfun.hf.get_scheduler("greedy", 0.1), lrfun.hf.GreedyLR)


def plateau_machines() -> None:
    # A machine is generic in its state: the state a checker follows through update is the
    # machine's own, and a state of another machine is refused.
    plateau = lrfun.ReduceLROnPlateau(0.1, patience=5)
    state = plateau.init()
    assert_type(state, lrfun.PlateauState)
    for metric in [3.0, 2.0, 2.0]:
        state = plateau.update(state, metric)
    assert_type(state, lrfun.PlateauState)
    on_device = plateau.init(like=jnp.zeros(()))
    assert_type(on_device, lrfun.PlateauState)
    assert_type(plateau.update(on_device, jnp.asarray(0.5)), lrfun.PlateauState)
    assert_type(plateau.check_state(state), lrfun.PlateauState)
    # The lr is an array of the state's namespace (NumPy, JAX, torch): untyped.
    lr = plateau.lr(state)
    del lr
    greedy = lrfun.hf.GreedyLR(0.1, patience=1)
    progress = greedy.update(greedy.init(), 1.0)
    assert_type(progress, lrfun.hf.GreedyState)
    plateau.update(progress, 1.0)  # type: ignore[arg-type]
