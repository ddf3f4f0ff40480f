"""The Schedule base: an immutable description whose ``__call__`` is a pure function of the step."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from lrfun._backend import Ctx, evaluate

__all__ = ["Configurable", "Schedule", "from_config"]

_REGISTRY: dict[str, type[Configurable]] = {}


class Configurable:
    """An immutable object described by its constructor arguments (a frozen dataclass whose
    init fields are the arguments): ``to_config()`` / :func:`from_config` round-trip it."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_") and cls.__name__ != "Schedule":
            _REGISTRY[cls.__name__] = cls

    def arguments(self) -> dict[str, Any]:
        """The constructor arguments, as given (callables included)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}  # type: ignore[arg-type]

    def to_config(self) -> dict[str, Any]:
        """A JSON-safe dict that :func:`from_config` turns back into an equal object.

        Raises:
          TypeError: an argument is a Python callable (LambdaLR, MultiplicativeLR, a CyclicLR
            scale_fn), which a config cannot hold.
        """
        config: dict[str, Any] = {"name": type(self).__name__}
        for name, value in self.arguments().items():
            if callable(value) or (isinstance(value, tuple) and any(callable(v) for v in value)):
                raise TypeError(
                    f"{type(self).__name__}.{name} is a Python callable, which a config cannot hold"
                )
            config[name] = list(value) if isinstance(value, tuple) else value
        return config

    def _set(self, **derived: Any) -> None:
        # Normalised arguments and derived, private state of a frozen dataclass (private
        # names are not fields: eq and repr ignore them).
        for name, value in derived.items():
            object.__setattr__(self, name, value)


class Schedule(Configurable):
    """A learning-rate schedule: ``schedule(step)`` is the lr torch has set after ``step`` calls
    of ``scheduler.step()`` (step 0 is the lr right after construction).

    Subclasses are frozen dataclasses whose fields are torch's constructor arguments (with the
    optimizer replaced by ``base_lr``), checked in ``__post_init__``; they implement ``_lr``
    (and ``_momentum`` when torch cycles momentum) once, against the array API.

    Calling a schedule:
      * a Python int gives a Python float (float64 math);
      * a NumPy, JAX or torch array of steps gives an array of lrs in that namespace, on the
        step's device, broadcast over the steps: ``schedule(np.arange(n))`` is the trajectory;
      * when lr-valued arguments are sequences (one per param group) results gain a trailing
        group axis.
    Negative steps give the step-0 value; float steps are floored; a NaN step gives NaN.
    """

    cycles_momentum: ClassVar[bool] = False
    _groups: int | None

    def __call__(self, step: Any) -> Any:
        """The lr after ``step`` scheduler steps (see the class docstring for types)."""
        return evaluate(self._lr, step, self._groups)

    def momentum(self, step: Any) -> Any:
        """The momentum (SGD) or beta1 (Adam) torch writes after ``step`` scheduler steps.

        Raises:
          TypeError: the schedule does not cycle momentum.
        """
        if not self.cycles_momentum:
            raise TypeError(f"{self!r} does not cycle momentum")
        return evaluate(self._momentum, step, self._groups)

    @property
    def groups(self) -> int | None:
        """The number of param groups (None when every lr-valued argument is a scalar)."""
        return self._groups

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        raise NotImplementedError

    def _momentum(self, ctx: Ctx, step: Any) -> Any:
        raise NotImplementedError


def from_config(config: Mapping[str, Any]) -> Configurable:
    """Builds the schedule (or plateau machine) a config describes (the inverse of
    ``to_config``).

    Args:
      config: ``{"name": <schedule class name>, **constructor arguments}``. In-memory configs
        may hold callables (they cannot be JSON, but they construct).

    Returns:
      The schedule.

    Raises:
      ValueError: unknown name; TypeError/ValueError: a bad argument (naming it).

    >>> from_config({"name": "StepLR", "base_lr": 0.1, "step_size": 10})(10)
    0.010000000000000002
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping, got {type(config).__name__}")
    kwargs = dict(config)
    name = kwargs.pop("name", None)
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise ValueError(f"config name must be one of {known}; got {name!r}")
    cls = _REGISTRY[name]
    names = {f.name for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(kwargs) - names)
    if unknown:
        raise ValueError(f"{name} has no argument {unknown[0]!r} (it takes {sorted(names)})")
    return cls(**kwargs)
