"""Keras 3 adapters: Keras' schedules as lrfun schedules, and lrfun schedules in Keras.

The ``keras.`` family is Keras 3's six schedule classes (``keras.optimizers.schedules``)
under Keras' names and with Keras' arguments (less ``name``, a name scope):
``lrfun.keras.CosineDecay(0.1, decay_steps=1000, warmup_target=1.0, warmup_steps=100)``
is the lrfun schedule equal to Keras' at every step, float steps included, on Python
numbers, NumPy, JAX and torch (configs, specs, plots and every adapter, like every lrfun
schedule). [``from_keras``][lrfun.keras.from_keras] reads a live Keras schedule back.

The other way, ``LearningRateSchedule(schedule)`` makes any lrfun schedule a Keras
``LearningRateSchedule``: a Keras optimizer takes it as its ``learning_rate``, on the JAX
and torch backends, and a model compiled with it saves and loads (``.keras`` files; its
config is the schedule's ``to_config()``, registered with Keras as
``lrfun>LearningRateSchedule``). The class is built, and Keras imported, the first time
it is asked for: ``from lrfun.keras import LearningRateSchedule`` before
``keras.saving.load_model`` registers it.

Importing this module imports no Keras (and ``import lrfun`` imports neither).

>>> import lrfun.keras
>>> s = lrfun.keras.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> round(s(20), 12), round(s(5.0), 12)
(0.025, 0.070710678119)
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from lrfun import _validate as check
from lrfun._keras_family import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
    _Keras,
    import_keras,
    keras_values,
)
from lrfun._schedule import Schedule, from_config, registered

if TYPE_CHECKING:
    # A Keras LearningRateSchedule subclass, built when first asked for (see __getattr__).
    LearningRateSchedule: Any

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "from_keras",
    "keras_values",
]


def from_keras(schedule: Any) -> Schedule:
    """The lrfun schedule of a live Keras schedule: one of Keras' six classes (read from its
    ``get_config()``), or a [``LearningRateSchedule``][lrfun.keras] (the schedule it wraps).

    Args:
      schedule: a ``keras.optimizers.schedules`` object.

    Returns:
      The ``keras.`` family schedule equal to it at every step.

    Raises:
      TypeError: not a Keras schedule, or a subclass of one (its own ``__call__`` may
        compute anything).
      ValueError: an argument lrfun refuses (see the family's documentation), named.

    >>> import os
    >>> _ = os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras' backend, read at import
    >>> import keras
    >>> live = keras.optimizers.schedules.CosineDecay(0.1, 100, alpha=0.1)
    >>> from_keras(live) == CosineDecay(0.1, decay_steps=100, alpha=0.1)
    True
    """
    module = getattr(type(schedule), "__module__", "")
    # (an object of this module's class exists only once the class is built: no import here)
    if module == __name__ and type(schedule) is _wrapper_class():
        wrapped: Schedule = cast("Any", schedule).schedule
        return wrapped
    cls = registered(f"keras.{type(schedule).__name__}")
    own = isinstance(cls, type) and issubclass(cls, _Keras)
    if not own or not module.startswith("keras."):
        raise TypeError(
            "from_keras reads Keras' own schedules (keras.optimizers.schedules."
            "ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, "
            f"CosineDecay, CosineDecayRestarts), got {check._shown(schedule)}"
        )
    assert cls is not None and issubclass(cls, _Keras)
    return cls._from_keras_config(dict(schedule.get_config()))


@functools.cache
def _wrapper_class() -> type:
    """lrfun's Keras ``LearningRateSchedule`` subclass, registered as serializable."""
    keras = import_keras("lrfun.keras.LearningRateSchedule")
    base = keras.optimizers.schedules.LearningRateSchedule

    @keras.saving.register_keras_serializable(package="lrfun", name="LearningRateSchedule")
    class LearningRateSchedule(base):  # type: ignore[misc, valid-type]
        """Any lrfun schedule as a Keras ``LearningRateSchedule``.

        Args:
          schedule: an lrfun schedule of one lr, or its config (``to_config()``).

        The step Keras passes (its optimizer's ``iterations``: a Keras Variable, a JAX array
        traced in a compiled train step, a torch tensor) is read as the backend's tensor;
        the lr comes back in the backend's float dtype. ``get_config()`` is the schedule's
        ``to_config()``, so a ``.keras`` file holds the schedule itself.
        """

        def __init__(self, schedule: Any) -> None:
            super().__init__()
            if isinstance(schedule, Mapping):
                schedule = from_config(dict(schedule))
            schedule = check.instance(
                "schedule", schedule, Schedule, "an lrfun schedule (or its config)"
            )
            if schedule.groups is not None:
                raise ValueError(
                    f"schedule must give one lr (a Keras optimizer has one), got {schedule!r} "
                    f"with {schedule.groups} param groups"
                )
            self.schedule = schedule

        def __call__(self, step: Any) -> Any:
            if isinstance(step, (int, float)) and not isinstance(step, bool):
                return self.schedule(step)
            return self.schedule(keras.ops.convert_to_tensor(step))

        def get_config(self) -> dict[str, Any]:
            config: dict[str, Any] = self.schedule.to_config()
            return config

        @classmethod
        def from_config(cls, config: dict[str, Any]) -> Any:
            return cls(from_config(config))

        def __repr__(self) -> str:
            return f"lrfun.keras.LearningRateSchedule({self.schedule!r})"

    LearningRateSchedule.__module__ = __name__
    LearningRateSchedule.__qualname__ = "LearningRateSchedule"
    return LearningRateSchedule


def __getattr__(name: str) -> Any:
    # The Keras subclass exists once Keras is imported: built on first access.
    if name == "LearningRateSchedule":
        return _wrapper_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
