"""Live references: what a schedule is proven against, and the trajectory it records.

Every schedule class names its reference (``_reference``): a ``LiveScheduler`` -- an
object built on a real torch optimizer and stepped as its library steps it (torch's own
schedulers, transformers', a library author's ``LRScheduler`` subclass) -- or a
``FunctionReference``, a plain function of the step (another framework's schedule
function, a formula from a paper). The reference is built from the schedule object itself:
each node builds its own live object (``Configurable._live``), composites their children
first, in torch's order. Configs (``{"name": ..., **arguments}``) are accepted wherever a
schedule is, and built with [``lrfun.from_config``][lrfun.from_config] first.

torch is imported only when a live reference runs, so importing this module stays light.
"""

from __future__ import annotations

import functools
import importlib
import math
import operator
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

import numpy as np

from lrfun._progress import STEP_BLOCK, step_reporter
from lrfun._validate import _shown

if TYPE_CHECKING:
    import torch
    from torch.optim import Optimizer

    from lrfun._schedule import Configurable

__all__ = [
    "TORCH",
    "FunctionReference",
    "LiveScheduler",
    "Reference",
    "Trajectory",
    "assign_lr",
    "broadcast",
    "build",
    "check_base",
    "label_of",
    "reference_of",
    "run",
    "start_groups",
]

_SGD_MOMENTUM = 0.9
_ADAM_BETAS = (0.9, 0.999)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """What the reference set, step by step: row ``k`` is the state after ``k`` steps.

    Args:
      lr: float64 array of shape ``(steps + 1, groups)``; read-only.
      momentum: SGD's ``momentum`` or Adam's ``betas[0]``, same shape, where the schedule
        cycles it (CyclicLR / OneCycleLR with ``cycle_momentum=True``); else ``None``.
      dtype: the precision the reference computed the lr in: ``"float64"`` for float lrs,
        the lr tensor's dtype (``"float32"``) for tensor lrs.
      device: the device the parameters and any lr tensors lived on, e.g. ``"cuda:0"``.
      reference: who computed it, with its version (``"torch 2.13.0"``).

    Example:
      >>> from lrfun import ExponentialLR
      >>> ref = TORCH.trajectory(ExponentialLR(1.0, gamma=0.5), 2)
      >>> ref.lr[:, 0].tolist(), ref.dtype
      ([1.0, 0.5, 0.25], 'float64')
    """

    lr: np.ndarray
    momentum: np.ndarray | None
    dtype: str
    device: str
    reference: str = "torch"

    @property
    def steps(self) -> int:
        """The number of scheduler steps recorded (rows minus one)."""
        rows: int = self.lr.shape[0]
        return rows - 1


class Reference:
    """What a schedule class is proven against: its ``_reference``.

    Subclasses say how to record a trajectory (``trajectory``) and whether a live object
    is one of theirs (``holds``, which ``lrfun.from_torch`` asks).
    """

    # Declared by each subclass (a dataclass field there).
    name: str
    package: str | None
    # Whether it runs on a torch optimizer (a torch composite can hold it; tensor lrs apply).
    on_optimizer: ClassVar[bool] = False

    def _distribution(self) -> str:
        return self.package or self.name

    def version(self) -> str | None:
        """The installed version of the reference's distribution (``package``, else one named
        like the reference), or None where none is installed. Nothing is imported."""
        import importlib.metadata  # here: it costs a tenth of ``import lrfun``

        try:
            return importlib.metadata.version(self._distribution())
        except (importlib.metadata.PackageNotFoundError, ValueError):
            return None

    def label(self) -> str:
        """The reference and its version: ``"torch 2.13.0"``."""
        version = self.version()
        return self.name if version is None else f"{self.name} {version}"

    def holds(self, obj: object, cls: type) -> bool:
        """Whether ``obj`` is a live object of this reference for the schedule class ``cls``."""
        return False

    def trajectory(
        self,
        schedule: Configurable,
        steps: int,
        *,
        optimizer: Literal["sgd", "adam"] = "sgd",
        device: Any = "cpu",
        tensor_lr: bool = False,
        metrics: Sequence[float] | None = None,
    ) -> Trajectory:
        """The reference's lrs (and momenta) at steps ``0..steps``."""
        raise NotImplementedError


@dataclass(frozen=True)
class LiveScheduler(Reference):
    """A reference that is a live scheduler object on a torch optimizer, stepped as torch
    steps one: ``optimizer.step(); scheduler.step()`` (``scheduler.step(metric)`` for a
    metric-driven machine).

    Args:
      name: who the reference is, as verdicts name it (``"torch"``, ``"transformers"``,
        your library's name).
      target: the scheduler class (or a function ``target(optimizer, **arguments)``), or its
        dotted path, imported when first needed; None: the class of the schedule class's own
        name in ``module``.
      module: with ``target=None``, the module whose same-named classes the family mirrors
        (``"torch.optim.lr_scheduler"``).
      package: the distribution whose version the report gives (default: ``name``).

    The object is built as ``target(optimizer, **schedule._live_arguments())``: the
    schedule's constructor arguments less its base lr (the optimizer holds it) and lrfun's
    own keyword options. A class whose live object takes other arguments overrides
    ``_torch_object``.

    >>> ref = LiveScheduler("torch", "torch.optim.lr_scheduler.StepLR")
    >>> ref.label().startswith("torch ")
    True
    """

    name: str
    target: str | Callable[..., Any] | None = None
    module: str | None = None
    package: str | None = None

    on_optimizer: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {_shown(self.name)}")
        if self.target is None and not isinstance(self.module, str):
            raise TypeError("LiveScheduler needs a target, or the module of same-named classes")
        if self.target is not None and not (isinstance(self.target, str) or callable(self.target)):
            raise TypeError(
                f"target must be a class, a function or a dotted path, got {_shown(self.target)}"
            )
        if isinstance(self.target, str) and "." not in self.target.strip("."):
            raise ValueError(
                f"target must be a dotted path ('package.module.Class'), got {_shown(self.target)}"
            )

    def path(self, cls: type) -> str:
        """The dotted path of the live class for the schedule class ``cls``."""
        if self.target is None:
            return f"{self.module}.{cls.__name__}"
        if isinstance(self.target, str):
            return self.target
        return f"{getattr(self.target, '__module__', '?')}.{_qualname(self.target)}"

    def _distribution(self) -> str:
        # Unless named, the distribution that ships the live class's top-level package.
        if self.package is not None:
            return self.package
        top = self.path(type(None)).split(".")[0] if self.target is not None else self.module
        found = _distributions().get(str(top).split(".")[0], [])
        return found[0] if found else self.name

    def resolve(self, cls: type) -> Callable[..., Any]:
        """The live class (or factory) for the schedule class ``cls``, imported now."""
        if self.target is not None and not isinstance(self.target, str):
            return self.target
        module, _, attribute = self.path(cls).rpartition(".")
        try:
            found: Callable[..., Any] = getattr(importlib.import_module(module), attribute)
        except ImportError as e:
            raise ImportError(
                f"the live reference of {getattr(cls, '_name', cls.__name__)} is {self.name}, "
                f"which cannot be imported here: {e}"
            ) from None
        except AttributeError:
            raise ValueError(
                f"{module} has no {attribute}: {self.name} cannot be the live reference of "
                f"{getattr(cls, '_name', cls.__name__)}"
            ) from None
        return found

    def build(self, schedule: Configurable, optimizer: Any) -> Any:
        """The live object for ``schedule`` on ``optimizer``."""
        return self.resolve(type(schedule))(optimizer, **schedule._live_arguments())

    def holds(self, obj: object, cls: type) -> bool:
        # Exactly the live class (a subclass may step differently); a factory function
        # builds objects of no class of its own, so nothing is read back through it.
        kind = type(obj)
        if self.target is not None and not isinstance(self.target, str):
            return kind is self.target
        path = self.path(cls)
        if f"{kind.__module__}.{kind.__qualname__}" == path:
            return True
        # A re-export ("pkg.Sched" for pkg._impl.Sched): the class the path names, where its
        # module is imported already (reading never imports).
        module, _, attribute = path.rpartition(".")
        return getattr(sys.modules.get(module), attribute, None) is kind

    def trajectory(
        self,
        schedule: Configurable,
        steps: int,
        *,
        optimizer: Literal["sgd", "adam"] = "sgd",
        device: Any = "cpu",
        tensor_lr: bool = False,
        metrics: Sequence[float] | None = None,
    ) -> Trajectory:
        if schedule._reference is not self:
            raise ValueError(
                f"{schedule._name} is proven against {_named(schedule._reference)}, "
                f"not {self.name}"
            )
        return run(
            schedule,
            steps,
            optimizer=optimizer,
            device=device,
            tensor_lr=tensor_lr,
            metrics=metrics,
            label=label_of(schedule),
        )


@dataclass(frozen=True)
class FunctionReference(Reference):
    """A reference that is a plain function of the step: ``function(schedule, steps)``
    returns the lrs at ``steps`` (a NumPy integer array), shape ``(len(steps),)`` or
    ``(len(steps), groups)``.

    Args:
      name: who the reference is, as verdicts name it.
      function: ``(schedule, steps) -> lrs``, computed the reference's way.
      momentum: ``(schedule, steps) -> momenta`` where the schedule cycles momentum.
      package: the distribution whose version the report gives (default: ``name``).

    It has no torch optimizer, so tensor lrs and torch's composites do not apply to it.

    >>> ref = FunctionReference("formula", lambda s, k: 0.1 * 0.5 ** k)
    >>> ref.name
    'formula'
    """

    name: str
    function: Callable[[Any, np.ndarray], Any]
    momentum: Callable[[Any, np.ndarray], Any] | None = None
    package: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {_shown(self.name)}")
        if not callable(self.function):
            raise TypeError(f"function must be callable, got {_shown(self.function)}")

    def trajectory(
        self,
        schedule: Configurable,
        steps: int,
        *,
        optimizer: Literal["sgd", "adam"] = "sgd",
        device: Any = "cpu",
        tensor_lr: bool = False,
        metrics: Sequence[float] | None = None,
    ) -> Trajectory:
        steps = _check_steps(steps)
        if tensor_lr:
            raise ValueError(
                f"the reference of {schedule._name} is {self.name}, a function of the step: "
                "it has no tensor-lr form"
            )
        if schedule._metric_driven or metrics is not None:
            raise ValueError(
                f"{self.name} is a function of the step: it cannot be fed metrics "
                f"({schedule._name} is {'' if schedule._metric_driven else 'not '}metric-driven)"
            )
        if schedule.cycles_momentum and self.momentum is None:
            raise ValueError(
                f"{schedule._name} cycles momentum, but its reference {self.name} gives none "
                "(FunctionReference(momentum=...))"
            )
        ks = np.arange(steps + 1)
        groups = schedule.groups or 1
        lr = self._rows(self.function(schedule, ks), steps + 1, groups, "lr")
        momentum = None
        if self.momentum is not None and schedule.cycles_momentum:
            momentum = self._rows(self.momentum(schedule, ks), steps + 1, groups, "momentum")
        return Trajectory(lr, momentum, "float64", "cpu", self.label())

    def _rows(self, values: Any, rows: int, groups: int, what: str) -> np.ndarray:
        array = np.array(values, dtype=np.float64)
        if array.shape not in ((rows,), (rows, groups)):
            raise ValueError(
                f"the {what} of reference {self.name} has shape {array.shape}; expected "
                f"({rows},) or ({rows}, {groups}): one row per step 0..{rows - 1}"
            )
        array = array.reshape(rows, -1)
        array.flags.writeable = False
        return array


# torch's own schedulers: each lrfun class of the torch family is proven against the class of
# its own name in torch.optim.lr_scheduler.
TORCH = LiveScheduler("torch", module="torch.optim.lr_scheduler")


def _named(reference: Reference | None) -> str:
    return "nothing" if reference is None else reference.name


def label_of(schedule: Configurable) -> str:
    """Who computes a schedule's live reference, with versions: a composite's leaves may
    run several (torch's composite of transformers' and a library's schedulers)."""
    labels = {
        leaf._reference.label() for leaf in (schedule, *schedule._leaves())
        if leaf._reference is not None
    }
    return " + ".join(sorted(labels))


def _qualname(target: Any) -> str:
    return str(getattr(target, "__qualname__", type(target).__qualname__))


def reference_of(schedule: Configurable) -> Reference:
    reference = schedule._reference
    if reference is None:
        raise ValueError(f"{schedule._name} names no live reference (its class sets no _reference)")
    if not reference.on_optimizer:
        raise ValueError(
            f"the reference of {schedule._name} is {reference.name}, a function of the step: "
            "it has no scheduler to build on a torch optimizer"
        )
    return reference


def build(
    schedule: Configurable,
    *,
    optimizer: Literal["sgd", "adam"] = "sgd",
    device: Any = "cpu",
    tensor_lr: bool = False,
) -> tuple[Any, Any]:
    """The optimizer and the live scheduler of ``schedule``, freshly constructed."""
    import torch

    reference_of(schedule)
    opt = _make_optimizer(torch, optimizer, _optimizer_lrs(schedule), device, tensor_lr)
    with warnings.catch_warnings():
        # A composite whose first child is itself composite steps that child's children
        # inside torch's own constructor, before any optimizer step can exist; torch then
        # warns about the step order. Only that construction-time warning is silenced.
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)`")
        return opt, schedule._live(opt)


def run(
    schedule: Configurable,
    steps: int,
    *,
    optimizer: Literal["sgd", "adam"],
    device: Any,
    tensor_lr: bool,
    metrics: Sequence[float] | None,
    label: str,
    custom: Callable[[Any], Any] | None = None,
) -> Trajectory:
    import torch

    steps = _check_steps(steps)
    step_args = _step_args(schedule, steps, metrics)
    if custom is None:
        opt, sched = build(schedule, optimizer=optimizer, device=device, tensor_lr=tensor_lr)
        limit = schedule._torch_steps()
        if limit is not None and steps > limit and schedule._leaves() == (schedule,):
            raise ValueError(
                f"{schedule._name} cannot be stepped past total_steps={limit} (its last step: "
                f"torch raises); got steps={steps}: cap steps there"
            )
    else:
        opt = _make_optimizer(torch, optimizer, _optimizer_lrs(schedule), device, tensor_lr)
        sched = custom(opt)
    momentum_of = _momentum_reader(optimizer) if schedule.cycles_momentum else None
    lr, momentum = _record(opt, sched, step_args, momentum_of)
    first_lr = opt.param_groups[0]["lr"]
    dtype = str(first_lr.dtype).removeprefix("torch.") if tensor_lr else "float64"
    device_name = str(opt.param_groups[0]["params"][0].device)
    return Trajectory(lr, momentum, dtype, device_name, label)


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
    # a command's progress bar, when one listens (lrfun._progress): told every block of steps
    report = step_reporter()
    for row, args in enumerate(step_args, start=1):
        opt.step()
        sched.step(*args)
        lr[row] = [float(g["lr"]) for g in groups]
        if momentum is not None:
            assert momentum_of is not None
            momentum[row] = [float(momentum_of(g)) for g in groups]
        if report is not None and not row % STEP_BLOCK:
            report(STEP_BLOCK)
    if report is not None and len(step_args) % STEP_BLOCK:
        report(len(step_args) % STEP_BLOCK)
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
        raise ValueError(f"optimizer must be 'sgd' or 'adam'; got {_shown(kind)}")
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


def _optimizer_lrs(schedule: Configurable) -> list[float]:
    # The optimizer's lr: the base of the first scheduler built that takes the optimizer's
    # lr; where every one sets its own (CyclicLR, OneCycleLR) any positive value does, and
    # the first one's peak is always valid.
    groups = schedule.groups or 1
    leaves = schedule._leaves()
    takes = [leaf for leaf in leaves if not leaf.sets_lrs]
    first = takes[0]._initial_lr if takes else getattr(leaves[0], "max_lr", 1.0)
    return broadcast("base_lr", first, groups)


def start_groups(optimizer: Any, starts: Sequence[float]) -> None:
    """Puts ``starts`` in the groups' lrs, as a hand write, a load or an earlier scheduler
    leaves them, keeping each group's ``initial_lr``."""
    for group, start in zip(optimizer.param_groups, starts, strict=True):
        lr = group["lr"]
        group.setdefault("initial_lr", lr.clone() if hasattr(lr, "clone") else lr)
        assign_lr(group, start)


def assign_lr(group: dict[str, Any], lr: float) -> None:
    """Sets a param group's lr: a tensor lr in place (it stays the tensor a compiled step
    reads)."""
    if hasattr(group["lr"], "fill_"):
        group["lr"].fill_(lr)
    else:
        group["lr"] = lr


def check_base(schedule: Configurable, optimizer: Any) -> None:
    """Refuses a schedule whose base lrs are not those torch gives it on ``optimizer``
    (the groups' ``initial_lr``, the optimizer's lr for the first scheduler built)."""
    declared = broadcast("base_lr", schedule._initial_lr, len(optimizer.param_groups))
    held = [g.get("initial_lr", g["lr"]) for g in optimizer.param_groups]
    given = [float(h) for h in held]
    # a float32 tensor lr holds the declared base rounded
    rel = 1e-6 if any(str(getattr(h, "dtype", "")) == "torch.float32" for h in held) else 1e-12
    if not all(math.isclose(d, g, rel_tol=rel) for d, g in zip(declared, given, strict=True)):
        raise ValueError(
            f"{schedule._name}: torch gives it base lrs {given} here (the groups' initial_lr "
            f"once the schedulers before it are built), the config declares {declared}"
        )


def _momentum_reader(optimizer: str) -> Callable[[dict[str, Any]], Any]:
    if optimizer == "adam":
        return lambda group: group["betas"][0]
    return operator.itemgetter("momentum")


def _step_args(
    schedule: Configurable, steps: int, metrics: Sequence[float] | None
) -> Sequence[tuple[float, ...]]:
    if not schedule._metric_driven:
        if metrics is not None:
            raise ValueError(
                f"metrics apply to metric-driven machines only (ReduceLROnPlateau), "
                f"not {schedule._name}"
            )
        return [()] * steps
    if metrics is None or len(metrics) != steps:
        got = "none" if metrics is None else f"{len(metrics)}"
        raise ValueError(f"{schedule._name} needs exactly steps={steps} metrics; got {got}")
    return [(float(m),) for m in metrics]


def _check_steps(steps: int) -> int:
    if isinstance(steps, bool):
        raise TypeError(f"steps must be an integer; got {_shown(steps)}")
    try:
        steps = operator.index(steps)
    except TypeError:
        raise TypeError(f"steps must be an integer; got {_shown(steps)}") from None
    if steps < 0:
        raise ValueError(f"steps must be >= 0; got {steps}")
    return steps


def broadcast(key: str, value: Any, groups: int) -> list[float]:
    """One float per param group (a scalar is every group's)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * groups
    if len(values) != groups:
        raise ValueError(f"{key} has {len(values)} values for {groups} param groups")
    return [float(v) for v in values]


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    """The installed distributions of each top-level package: a walk of every installed
    distribution's files (seconds), so it is done once."""
    import importlib.metadata

    return importlib.metadata.packages_distributions()
