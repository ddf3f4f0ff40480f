"""lrfun: every framework's learning-rate schedules as pure functions of the step.

Every scheduler of ``torch.optim.lr_scheduler`` is an immutable [``Schedule``][lrfun.Schedule]
whose ``schedule(step)`` is the lr torch has set after ``step`` calls of ``scheduler.step()``,
on Python numbers, NumPy, JAX (inside ``jit``/``vmap``/``scan``) and torch tensors (inside
``torch.compile``); so is every schedule of transformers, optax, timm, Keras and the LLM
frameworks, each exact to its library. Importing lrfun imports none of torch, jax, optax,
timm, keras or matplotlib.

This module is the whole public API; the implementation modules are private. The user-facing
modules are ``lrfun.torch`` and ``lrfun.optax`` (adapters), the families ``lrfun.hf``
(transformers'), ``lrfun.timm``, ``lrfun.keras``, ``lrfun.megatron`` and ``lrfun.llm``
(OLMo-core, nanotron, torchtitan, big_vision, Hägele et al.), ``lrfun.plot`` and
``lrfun.cli`` (the ``lrfun`` command), and ``lrfun.extend`` (the contract a library's own
schedule classes follow to work with every tool). The families other than torch's and
transformers' are imported when first used (one of their names looked up, their module
imported), so that ``import lrfun`` stays light.

>>> import lrfun
>>> lrfun.StepLR(0.1, step_size=30)(30)
0.010000000000000002
"""

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from lrfun import llm, megatron
    from lrfun._branch import Cooldown, Resume, cooldown_from, resume
    from lrfun._warmup import Warmup, WarmupPlateau, join
    from lrfun._wsd import WarmupStableDecay

# Imported on first use (PEP 562): the compositions below and the families they build on
# cost a tenth of a second to import, which every ``import lrfun`` would pay otherwise.
_LAZY = {
    "Cooldown": "lrfun._branch",
    "Resume": "lrfun._branch",
    "cooldown_from": "lrfun._branch",
    "resume": "lrfun._branch",
    "Warmup": "lrfun._warmup",
    "WarmupPlateau": "lrfun._warmup",
    "join": "lrfun._warmup",
    "WarmupStableDecay": "lrfun._wsd",
    "llm": "lrfun.llm",
    "megatron": "lrfun.megatron",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lrfun' has no attribute {name!r}")
    imported = importlib.import_module(module)
    return imported if module == f"lrfun.{name}" else getattr(imported, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "TOLERANCES",
    "ChainedScheduler",
    "Comparison",
    "Configurable",
    "ConstantLR",
    "Cooldown",
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
    "Resume",
    "Schedule",
    "SequentialLR",
    "SpecError",
    "StepLR",
    "Warmup",
    "WarmupPlateau",
    "WarmupStableDecay",
    "compare",
    "cooldown_from",
    "from_config",
    "from_torch",
    "hf",
    "join",
    "llm",
    "megatron",
    "resume",
    "tolerance",
]

__version__ = "0.1.0"
