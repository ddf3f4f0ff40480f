"""lrfun: torch's learning-rate schedulers as pure functions of the step.

Every scheduler of ``torch.optim.lr_scheduler`` is an immutable [``Schedule``][lrfun.Schedule] whose
``schedule(step)`` is the lr torch has set after ``step`` calls of ``scheduler.step()``,
on Python numbers, NumPy, JAX (inside ``jit``/``vmap``/``scan``) and torch tensors (inside
``torch.compile``). Importing lrfun imports none of torch, jax, optax or matplotlib.

This module is the whole public API; the implementation modules are private. The user-facing
modules are ``lrfun.torch`` and ``lrfun.optax`` (adapters), ``lrfun.hf`` (transformers'
schedules), ``lrfun.plot`` and ``lrfun.cli`` (the ``lrfun`` command), and ``lrfun.extend``
(the contract a library's own schedule classes follow to work with every tool).

>>> import lrfun
>>> lrfun.StepLR(0.1, step_size=30)(30)
0.010000000000000002
"""

from lrfun._compare import TOLERANCES, Comparison, compare, tolerance
from lrfun._compose import ChainedScheduler, SequentialLR
from lrfun._convert import from_torch
from lrfun._cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from lrfun._custom import LambdaLR, MultiplicativeLR
from lrfun._cyclic import CyclicLR, OneCycleLR
from lrfun._decay import (
    ConstantLR,
    ExponentialLR,
    LinearLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from lrfun._plateau import PlateauState, ReduceLROnPlateau
from lrfun._schedule import Configurable, Schedule, from_config
from lrfun._spec import SpecError

# transformers' schedules register themselves (as hf.<Class>) when their module is imported;
# lrfun.hf imports neither transformers nor torch.
from lrfun import hf  # isort: skip

# optax's schedules register themselves (as optax.<Class>) the same way; their module imports
# neither jax nor optax (lrfun.optax, which does, exposes them under optax's names).
from lrfun import _optax_family  # noqa: F401  # isort: skip

__all__ = [
    "TOLERANCES",
    "ChainedScheduler",
    "Comparison",
    "Configurable",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PlateauState",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "Schedule",
    "SequentialLR",
    "SpecError",
    "StepLR",
    "compare",
    "from_config",
    "from_torch",
    "hf",
    "tolerance",
]

__version__ = "0.1.0"
