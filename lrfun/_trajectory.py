"""The live reference of any schedule or config: its trajectory and its objects.

Configs (``{"name": ..., **arguments}``) are accepted wherever a schedule is, and built with
[``lrfun.from_config``][lrfun.from_config] first; the schedule's class names its reference
(``lrfun._reference``). torch is imported only when a live reference runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from lrfun._reference import Trajectory, build, reference_of, run
from lrfun._schedule import Configurable, from_config

if TYPE_CHECKING:
    import torch

__all__ = ["Trajectory", "lr_scale", "param_groups", "torch_scheduler", "torch_trajectory"]


def _as_schedule(config: Configurable | Mapping[str, Any]) -> Configurable:
    """A schedule object (a config is built with [``lrfun.from_config``][lrfun.from_config])."""
    if isinstance(config, Configurable):
        return config
    if not isinstance(config, Mapping):
        kind = type(config).__name__
        raise TypeError(f"config must be a mapping or an lrfun schedule; got {kind}")
    name = config.get("name")
    if not isinstance(name, str):
        raise ValueError(f"config needs a 'name' (a schedule class name); got {name!r}")
    return from_config(config)


def param_groups(config: Configurable | Mapping[str, Any]) -> int:
    """The number of param groups a schedule (or config) implies: at least 1.

    Example:
      >>> param_groups({"name": "CyclicLR", "base_lr": 0.01, "max_lr": [0.1, 0.2]})
      2
    """
    return _as_schedule(config).groups or 1


def lr_scale(config: Configurable | Mapping[str, Any]) -> float:
    """The schedule's largest lr-valued argument (children included): the magnitude its
    reference computes with, which sets the absolute tolerance. Each class names its
    lr-valued arguments (``_lr_arguments``).

    Example:
      >>> lr_scale({"name": "CosineAnnealingLR", "base_lr": 1e-8, "T_max": 5, "eta_min": 1e-3})
      0.001
    """
    return _as_schedule(config)._lr_scale()


def torch_trajectory(
    config: Configurable | Mapping[str, Any],
    steps: int,
    *,
    optimizer: Literal["sgd", "adam"] = "sgd",
    device: str | torch.device = "cpu",
    tensor_lr: bool = False,
    metrics: Sequence[float] | None = None,
    scheduler: Callable[[torch.optim.Optimizer], Any] | None = None,
) -> Trajectory:
    """Runs a schedule's live reference for ``steps`` steps and records every group's lr.

    For a ``LiveScheduler`` (torch's own schedulers, transformers', a library's): one
    tiny parameter per group gets a fixed gradient once; each step is
    ``optimizer.step(); scheduler.step()``, in the order torch asks for, so torch's
    step-order warnings never fire. Nothing is suppressed: any warning torch emits surfaces.
    A ``FunctionReference`` is evaluated at steps ``0..steps``.

    Args:
      config: an lrfun schedule, or its config ``{"name": ..., **arguments}``.
      steps: scheduler steps to take; the trajectory has ``steps + 1`` rows. A scheduler
        torch cannot step past a limit (OneCycleLR's ``total_steps``) refuses more.
      optimizer: ``"sgd"`` (``momentum=0.9``) or ``"adam"`` (``betas=(0.9, 0.999)``);
        momentum cycling writes SGD's ``momentum`` or Adam's ``betas[0]``.
      device: where the parameters (and tensor lrs) live.
      tensor_lr: give every group ``lr=torch.tensor(lr, dtype=float32, device=device)``, so
        torch computes the lr in float32 on ``device`` (the second reference).
      metrics: metric-driven machines only (ReduceLROnPlateau), and required there: the
        metric passed to the ``k``-th ``scheduler.step`` is ``metrics[k - 1]``; exactly
        ``steps`` values.
      scheduler: builds your own live scheduler on the optimizer instead (the optimizer's
        lrs and groups still come from ``config``).

    Returns:
      The [``Trajectory``][parity.Trajectory].

    Example:
      >>> ref = torch_trajectory({"name": "StepLR", "base_lr": 1.0, "step_size": 2}, 4)
      >>> ref.lr[:, 0].tolist()
      [1.0, 1.0, 0.1, 0.1, 0.010000000000000002]
    """
    schedule = _as_schedule(config)
    if scheduler is not None:
        return run(
            schedule,
            steps,
            optimizer=optimizer,
            device=device,
            tensor_lr=tensor_lr,
            metrics=metrics,
            label="your scheduler",
            custom=scheduler,
        )
    reference = schedule._reference
    if reference is None:
        reference_of(schedule)  # raises, naming the class
    assert reference is not None
    return reference.trajectory(
        schedule, steps, optimizer=optimizer, device=device, tensor_lr=tensor_lr, metrics=metrics
    )


def torch_scheduler(
    config: Configurable | Mapping[str, Any],
    *,
    optimizer: Literal["sgd", "adam"] = "sgd",
    device: str | torch.device = "cpu",
    tensor_lr: bool = False,
) -> tuple[torch.optim.Optimizer, Any]:
    """The optimizer and live scheduler a schedule (or config) describes, freshly
    constructed (what [``torch_trajectory``][parity.torch_trajectory] steps; arguments as there).

    Example:
      >>> opt, sched = torch_scheduler({"name": "StepLR", "base_lr": 1.0, "step_size": 2})
      >>> type(sched).__name__, opt.param_groups[0]["lr"]
      ('StepLR', 1.0)
    """
    opt, live = build(_as_schedule(config), optimizer=optimizer, device=device, tensor_lr=tensor_lr)
    return cast("torch.optim.Optimizer", opt), live
