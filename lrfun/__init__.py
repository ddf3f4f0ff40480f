"""lrfun: torch's learning-rate schedulers as pure functions of the step.

Every scheduler of ``torch.optim.lr_scheduler`` is an immutable :class:`Schedule` whose
``schedule(step)`` is the lr torch has set after ``step`` calls of ``scheduler.step()``,
on Python numbers, NumPy, JAX (inside ``jit``/``vmap``/``scan``) and torch tensors (inside
``torch.compile``). Importing lrfun imports none of torch, jax, optax or matplotlib.

>>> import lrfun
>>> lrfun.StepLR(0.1, step_size=30)(30)
0.010000000000000002
"""

from lrfun.compose import ChainedScheduler, SequentialLR
from lrfun.convert import from_torch
from lrfun.cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from lrfun.custom import LambdaLR, MultiplicativeLR
from lrfun.cyclic import CyclicLR, OneCycleLR
from lrfun.decay import (
    ConstantLR,
    ExponentialLR,
    LinearLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from lrfun.plateau import PlateauState, ReduceLROnPlateau
from lrfun.schedule import Schedule, from_config

__all__ = [
    "ChainedScheduler",
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
    "StepLR",
    "from_config",
    "from_torch",
]

__version__ = "0.1.0"
