"""The live torch reference: run a native scheduler and record what it sets.

A *config* is a flat mapping ``{"name": <torch scheduler class name>, **kwargs}`` whose
kwargs are lrfun's constructor arguments: torch's, with the ``optimizer`` argument replaced
by ``base_lr`` (a float, or a sequence of floats, one per param group). CyclicLR and
OneCycleLR take their lrs as torch arguments and have no ``base_lr``. SequentialLR and
ChainedScheduler take ``schedulers``: a list of child configs, built on the one optimizer
in list order, as torch requires. A child's ``base_lr`` only sets that optimizer's lr (the
children must agree on it); each child then takes its base from the optimizer's
``initial_lr``, exactly as in torch, where a leading CyclicLR sets it to its own ``base_lr``.

torch is imported inside :func:`torch_trajectory`, so importing this module stays light.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import operator
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np

from lrfun._compose import _Composite
from lrfun._schedule import Schedule, registered

if TYPE_CHECKING:
    import torch
    from torch.optim import Optimizer

__all__ = ["Trajectory", "lr_scale", "param_groups", "torch_scheduler", "torch_trajectory"]

# Arguments that may be a sequence with one entry per param group; every other sequence
# (milestones, schedulers) is a plain value.
_PER_GROUP = ("base_lr", "max_lr", "base_momentum", "max_momentum", "lr_lambda", "min_lr")
_SGD_MOMENTUM = 0.9
_ADAM_BETAS = (0.9, 0.999)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """What torch set, step by step: row ``k`` is the state after ``k`` scheduler steps.

    Args:
      lr: float64 array of shape ``(steps + 1, groups)``; read-only.
      momentum: SGD's ``momentum`` or Adam's ``betas[0]``, same shape, where the schedule
        cycles it (CyclicLR / OneCycleLR with ``cycle_momentum=True``); else ``None``.
      dtype: the precision torch computed the lr in: ``"float64"`` for float lrs,
        the lr tensor's dtype (``"float32"``) for tensor lrs.
      device: the device the parameters and any lr tensors lived on, e.g. ``"cuda:0"``.

    Example:
      >>> ref = torch_trajectory({"name": "ExponentialLR", "base_lr": 1.0, "gamma": 0.5}, 2)
      >>> ref.lr[:, 0].tolist(), ref.dtype
      ([1.0, 0.5, 0.25], 'float64')
    """

    lr: np.ndarray
    momentum: np.ndarray | None
    dtype: str
    device: str

    @property
    def steps(self) -> int:
        """The number of scheduler steps recorded (rows minus one)."""
        rows: int = self.lr.shape[0]
        return rows - 1


def param_groups(config: Mapping[str, Any]) -> int:
    """The number of param groups a config implies.

    Per-group arguments (``base_lr``, ``max_lr``, ``base_momentum``, ``max_momentum``,
    ``lr_lambda``, ``min_lr``) given as sequences must agree in length; scalars broadcast.

    Args:
      config: ``{"name": ..., **kwargs}`` as described in the module docstring.

    Returns:
      The group count, at least 1.

    Example:
      >>> param_groups({"name": "CyclicLR", "base_lr": 0.01, "max_lr": [0.1, 0.2]})
      2
    """
    name = _name(config)
    counts = {
        key: len(value)
        for key, value in config.items()
        if key in _PER_GROUP and isinstance(value, (list, tuple))
    }
    if _composite(name):
        for index, child in enumerate(_children(config)):
            counts[f"schedulers[{index}]"] = param_groups(child)
    if len(set(counts.values())) > 1:
        raise ValueError(f"{name}: per-group arguments disagree on the group count: {counts}")
    groups = next(iter(counts.values()), 1)
    if groups < 1:
        raise ValueError(f"{name}: per-group arguments must not be empty: {counts}")
    return groups


def torch_trajectory(
    config: Mapping[str, Any],
    steps: int,
    *,
    optimizer: Literal["sgd", "adam"] = "sgd",
    device: str | torch.device = "cpu",
    tensor_lr: bool = False,
    metrics: Sequence[float] | None = None,
    scheduler: Callable[[torch.optim.Optimizer], Any] | None = None,
) -> Trajectory:
    """Runs torch's native scheduler for ``steps`` steps and records every group's lr.

    One tiny parameter per group gets a fixed gradient once; each step is
    ``optimizer.step(); scheduler.step()``, in the order torch asks for, so torch's
    step-order warnings never fire. Nothing is suppressed: any warning torch emits surfaces.

    Args:
      config: ``{"name": <torch scheduler class name>, **lrfun kwargs}``.
      steps: scheduler steps to take; the trajectory has ``steps + 1`` rows. OneCycleLR
        cannot be stepped past ``total_steps`` (torch raises), so larger values are a
        ``ValueError``.
      optimizer: ``"sgd"`` (``momentum=0.9``) or ``"adam"`` (``betas=(0.9, 0.999)``);
        momentum cycling writes SGD's ``momentum`` or Adam's ``betas[0]``.
      device: where the parameters (and tensor lrs) live.
      tensor_lr: give every group ``lr=torch.tensor(lr, dtype=float32, device=device)``, so
        torch computes the lr in float32 on ``device`` (the second reference).
      metrics: ReduceLROnPlateau only, and required there: the metric passed to the
        ``k``-th ``scheduler.step`` is ``metrics[k - 1]``; exactly ``steps`` values.

    Returns:
      The :class:`Trajectory`.

    Example:
      >>> ref = torch_trajectory({"name": "StepLR", "base_lr": 1.0, "step_size": 2}, 4)
      >>> ref.lr[:, 0].tolist()
      [1.0, 1.0, 0.1, 0.1, 0.010000000000000002]
    """
    import torch

    steps = _check_steps(steps)
    step_args = _step_args(_name(config), steps, metrics)
    if scheduler is None:
        opt, sched = torch_scheduler(
            config, optimizer=optimizer, device=device, tensor_lr=tensor_lr
        )
    else:
        lrs = _optimizer_lrs(config, param_groups(config))
        opt = _make_optimizer(torch, optimizer, lrs, device, tensor_lr)
        sched = scheduler(opt)
    total = getattr(sched, "total_steps", None)
    # OneCycleLR's total_steps is an int.
    if isinstance(sched, torch.optim.lr_scheduler.OneCycleLR) and steps > cast(int, total):
        raise ValueError(
            f"OneCycleLR cannot be stepped past total_steps={total} (torch raises); "
            f"got steps={steps}: cap steps at total_steps"
        )
    momentum_of = _momentum_reader(optimizer) if _cycles_momentum(config) else None
    lr, momentum = _record(opt, sched, step_args, momentum_of)
    first_lr = opt.param_groups[0]["lr"]
    dtype = str(first_lr.dtype).removeprefix("torch.") if tensor_lr else "float64"
    return Trajectory(lr, momentum, dtype, str(opt.param_groups[0]["params"][0].device))


_LR_KEYS = ("base_lr", "max_lr", "eta_min", "min_lr")


def lr_scale(config: Mapping[str, Any]) -> float:
    """The schedule's largest lr-valued argument (base_lr, max_lr, eta_min, min_lr; children
    included): the magnitude torch computes with, which sets the absolute tolerance.

    Example:
      >>> lr_scale({"name": "CosineAnnealingLR", "base_lr": 1e-8, "T_max": 5, "eta_min": 1e-3})
      0.001
    """
    values = [
        abs(float(v))
        for key in _LR_KEYS
        if key in config
        for v in (config[key] if isinstance(config[key], (list, tuple)) else [config[key]])
    ]
    values += [lr_scale(child) for child in config.get("schedulers", [])]
    return max(values, default=0.0)


def torch_scheduler(
    config: Mapping[str, Any],
    *,
    optimizer: Literal["sgd", "adam"] = "sgd",
    device: str | torch.device = "cpu",
    tensor_lr: bool = False,
) -> tuple[torch.optim.Optimizer, Any]:
    """The native torch optimizer and scheduler a config describes, freshly constructed
    (what :func:`torch_trajectory` steps; arguments as there).

    Example:
      >>> opt, sched = torch_scheduler({"name": "StepLR", "base_lr": 1.0, "step_size": 2})
      >>> type(sched).__name__, opt.param_groups[0]["lr"]
      ('StepLR', 1.0)
    """
    import torch

    groups = param_groups(config)
    opt = _make_optimizer(torch, optimizer, _optimizer_lrs(config, groups), device, tensor_lr)
    with warnings.catch_warnings():
        # A composite whose first child is itself composite steps that child's children
        # inside torch's own constructor, before any optimizer step can exist; torch then
        # warns about the step order. Only that construction-time warning is silenced.
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)`")
        return opt, _build(torch, opt, config)


def _record(
    opt: torch.optim.Optimizer,
    sched: Any,
    step_args: Sequence[tuple[float, ...]],
    momentum_of: Callable[[dict[str, Any]], Any] | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    # The hot loop: preallocated rows, no per-step branching beyond the momentum check.
    groups = opt.param_groups
    lr = np.empty((len(step_args) + 1, len(groups)))
    momentum = None if momentum_of is None else np.empty_like(lr)
    lr[0] = [float(g["lr"]) for g in groups]
    if momentum is not None:
        assert momentum_of is not None  # momentum is recorded exactly when it is read
        momentum[0] = [float(momentum_of(g)) for g in groups]
    for row, args in enumerate(step_args, start=1):
        opt.step()
        sched.step(*args)
        lr[row] = [float(g["lr"]) for g in groups]
        if momentum is not None:
            assert momentum_of is not None
            momentum[row] = [float(momentum_of(g)) for g in groups]
    lr.flags.writeable = False
    if momentum is not None:
        momentum.flags.writeable = False
    return lr, momentum


def _make_optimizer(
    torch: Any,
    kind: str,
    lrs: Sequence[float],
    device: str | torch.device,
    tensor_lr: bool,
) -> torch.optim.Optimizer:
    if kind not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam'; got {kind!r}")
    device = torch.device(device)
    assert not isinstance(device, str)  # a torch.device now

    def lr_value(value: float) -> float | torch.Tensor:
        # float32 explicitly: a changed global default dtype must not change the reference.
        return torch.tensor(value, dtype=torch.float32, device=device) if tensor_lr else value

    # float64 parameters where the device has them: the update lr * grad of a growing
    # schedule (gamma > 1 over 10,000 steps) passes float32's range long before float64's,
    # and torch refuses to apply it. Tensor lrs run the float32 path they are there to test.
    dtype = torch.float32 if tensor_lr or device.type == "mps" else torch.float64
    groups = []
    for value in lrs:
        param = torch.zeros(2, device=device, dtype=dtype, requires_grad=True)
        # Set once: the optimizers never clear .grad, so no backward pass is needed per step.
        param.grad = torch.ones_like(param)
        groups.append({"params": [param], "lr": lr_value(value)})
    # foreach=False: the single-tensor update is the one path that takes a tensor lr on every
    # device without capturable=True (Adam's foreach path rejects a tensor lr otherwise, and
    # capturable=True is refused on CPU); the update never feeds back into the schedule.
    # (``torch`` is the module, passed in untyped: the casts give its optimizers their type.)
    if kind == "sgd":
        return cast(
            "Optimizer",
            torch.optim.SGD(groups, lr=lr_value(lrs[0]), momentum=_SGD_MOMENTUM, foreach=False),
        )
    return cast(
        "Optimizer", torch.optim.Adam(groups, lr=lr_value(lrs[0]), betas=_ADAM_BETAS, foreach=False)
    )


def _build(torch: Any, opt: torch.optim.Optimizer, config: Mapping[str, Any]) -> Any:
    # Children are built first, in list order, on the one optimizer: torch's composites
    # depend on that order (the first child sets `initial_lr`).
    name = _name(config)
    # lrfun's own keyword options (start_lr, horizon, a plateau's state) are not torch's
    # arguments: a state is set on the object built, start_lr in the groups before.
    own = _keywords(name)
    kwargs = {
        key: value
        for key, value in config.items()
        if key != "name" and key not in own and (key != "base_lr" or _sets_lrs(name))
    }
    if config.get("start_lr") is not None:
        # The group holds another lr than its initial_lr when the scheduler is built (as
        # after another scheduler ran): torch's chainable updates continue from it.
        starts = _broadcast("start_lr", config["start_lr"], len(opt.param_groups))
        for group, start in zip(opt.param_groups, starts, strict=True):
            group.setdefault("initial_lr", _plain(group["lr"]))
            _assign(torch, group, start)
    elif not _composite(name) and not _sets_lrs(name) and not _plateau(name):
        _check_base(torch, opt, config)
    if _composite(name):
        cls = _scheduler_class(torch, name)
        kwargs["schedulers"] = [_build(torch, opt, child) for child in _children(config)]
        # By keyword: ChainedScheduler takes the schedulers first (and, before torch 2.3,
        # no optimizer at all: it reads the children's).
        if "optimizer" not in inspect.signature(cls).parameters:
            return cls(**kwargs)
        return cls(optimizer=opt, **kwargs)
    # The registered class builds its own live object (transformers' for hf.* names).
    ours = registered(name)
    if ours is None:
        scheduler = _scheduler_class(torch, name)(opt, **kwargs)
    else:
        scheduler = ours._torch_object(opt, kwargs)
    if _plateau(name) and ours is not None:  # where a stepped scheduler stood
        ours._set_torch_state(
            scheduler, {key: config[key] for key in sorted(own) if config.get(key) is not None}
        )
    return scheduler


def _keywords(name: str) -> set[str]:
    return {key for key, f in _fields(name).items() if f.kw_only}


def _plain(lr: Any) -> Any:
    return lr.clone() if hasattr(lr, "clone") else lr


def _assign(torch: Any, group: dict[str, Any], lr: float) -> None:
    # A tensor lr is filled in place (it stays the tensor a compiled step reads).
    if isinstance(group["lr"], torch.Tensor):
        group["lr"].fill_(lr)
    else:
        group["lr"] = lr


def _scheduler_class(torch: Any, name: str) -> type:
    module = torch.optim.lr_scheduler
    known = sorted(n for n in module.__all__ if n != "LRScheduler")
    if name not in known:
        raise ValueError(f"unknown scheduler name {name!r}; expected one of {known}")
    cls: type = getattr(module, name)
    return cls


def _optimizer_lrs(config: Mapping[str, Any], groups: int) -> list[float]:
    declared = _declared_lrs(config, groups)
    if declared is not None:
        return declared
    # Only CyclicLR / OneCycleLR leaves: they overwrite the optimizer's lr themselves, so
    # any positive value does; their max lr is always valid.
    leaf = config
    while _composite(_name(leaf)):
        leaf = _children(leaf)[0]
    return _broadcast("max_lr", leaf.get("max_lr", 1.0), groups)


def _declared_lrs(config: Mapping[str, Any], groups: int) -> list[float] | None:
    # The optimizer's lr: the base of the first scheduler built that takes the optimizer's
    # lr (CyclicLR and OneCycleLR set their own); None if every one sets its own.
    if "base_lr" in config and _composite(_name(config)):
        return _broadcast("base_lr", config["base_lr"], groups)
    takes = [leaf for leaf in _leaves(config) if not _sets_lrs(_name(leaf))]
    if not takes:
        return None
    if "base_lr" not in takes[0]:
        raise ValueError(f"{_name(takes[0])} config needs 'base_lr' (the optimizer's lr)")
    return _broadcast("base_lr", takes[0]["base_lr"], groups)


def _leaves(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if _composite(_name(config)):
        return [leaf for child in _children(config) for leaf in _leaves(child)]
    return [config]


def _check_base(torch: Any, opt: Any, config: Mapping[str, Any]) -> None:
    # torch gives a scheduler the group's initial_lr as its base (the optimizer's lr for the
    # first one built): a config can only declare that.
    declared = _broadcast("base_lr", config["base_lr"], len(opt.param_groups))
    held = [g.get("initial_lr", g["lr"]) for g in opt.param_groups]
    given = [float(h) for h in held]
    # a float32 tensor lr holds the declared base rounded
    rel = 1e-6 if any(getattr(h, "dtype", None) == torch.float32 for h in held) else 1e-12
    if not all(math.isclose(d, g, rel_tol=rel) for d, g in zip(declared, given, strict=True)):
        raise ValueError(
            f"{_name(config)}: torch gives it base lrs {given} here (the groups' initial_lr "
            f"once the schedulers before it are built), the config declares {declared}"
        )


def _cycles_momentum(config: Mapping[str, Any]) -> bool:
    name = _name(config)
    if _composite(name):
        return any(_cycles_momentum(child) for child in _children(config))
    fields = _fields(name)
    if "cycle_momentum" not in fields:
        return False
    return bool(config.get("cycle_momentum", fields["cycle_momentum"].default))


# What a config's name is, asked of the lrfun class registered under it (a name lrfun does
# not know is run by torch as a single scheduler).
def _composite(name: str) -> bool:
    cls = registered(name)
    return cls is not None and issubclass(cls, _Composite)


def _sets_lrs(name: str) -> bool:
    cls = registered(name)
    return cls is not None and issubclass(cls, Schedule) and cls.sets_lrs


def _plateau(name: str) -> bool:
    cls = registered(name)
    return cls is not None and not issubclass(cls, Schedule)


def _fields(name: str) -> dict[str, dataclasses.Field[Any]]:
    cls = registered(name)
    return {} if cls is None else {f.name: f for f in dataclasses.fields(cls) if f.init}


def _momentum_reader(optimizer: str) -> Callable[[dict[str, Any]], Any]:
    if optimizer == "adam":
        return lambda group: group["betas"][0]
    return operator.itemgetter("momentum")


def _step_args(
    name: str, steps: int, metrics: Sequence[float] | None
) -> Sequence[tuple[float, ...]]:
    if not _plateau(name):
        if metrics is not None:
            raise ValueError(f"metrics apply to ReduceLROnPlateau only, not {name}")
        return [()] * steps
    if metrics is None or len(metrics) != steps:
        got = "none" if metrics is None else f"{len(metrics)}"
        raise ValueError(f"ReduceLROnPlateau needs exactly steps={steps} metrics; got {got}")
    return [(float(m),) for m in metrics]


def _check_steps(steps: int) -> int:
    if isinstance(steps, bool):
        raise TypeError(f"steps must be an integer; got {steps!r}")
    try:
        steps = operator.index(steps)
    except TypeError:
        raise TypeError(f"steps must be an integer; got {steps!r}") from None
    if steps < 0:
        raise ValueError(f"steps must be >= 0; got {steps}")
    return steps


def _broadcast(key: str, value: Any, groups: int) -> list[float]:
    values = list(value) if isinstance(value, (list, tuple)) else [value] * groups
    if len(values) != groups:
        raise ValueError(f"{key} has {len(values)} values for {groups} param groups")
    return [float(v) for v in values]


def _name(config: Mapping[str, Any]) -> str:
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping; got {type(config).__name__}")
    name = config.get("name")
    if not isinstance(name, str):
        raise ValueError(f"config needs a 'name' (a torch scheduler class name); got {name!r}")
    return name


def _children(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    children = config.get("schedulers")
    if not isinstance(children, (list, tuple)) or not children:
        raise ValueError(
            f"{config['name']} config needs 'schedulers': a non-empty list of child configs"
        )
    return list(children)
