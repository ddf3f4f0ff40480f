"""timm's schedulers (``timm.scheduler``) as lrfun schedules.

The same classes, arguments and defaults as timm 1.0, minus the optimizer: its lr becomes
``base_lr`` (a sequence: one per param group), and the groups' ``lr_scale`` (timm's
per-group factor) is the keyword ``lr_scale``. ``schedule(t)`` is the lr timm's scheduler
writes for ``t`` (``step(t)`` per epoch, ``step_update(t)`` per update): a closed form on
Python numbers, NumPy, JAX (``jit``, ``vmap``) and torch, noise included -- torch's
generator is reproduced without torch. ``PlateauLRScheduler`` is a machine (``init``,
``update(state, metric)``, ``lr``). This module imports neither timm nor torch;
``timm_scheduler()`` imports timm's scheduler modules for the live reference, without
timm's package ``__init__`` where that fails.

>>> from lrfun import timm
>>> s, epochs = timm.create_scheduler_v2(0.1, "cosine", num_epochs=10, warmup_epochs=2,
...                                      warmup_prefix=True)
>>> epochs, s(0), s(2), s(12)
(12, 1e-05, 0.1, 0.0)
"""

from __future__ import annotations

from lrfun._timm_family import (
    TIMM,
    CosineLRScheduler,
    MultiStepLRScheduler,
    PlateauLRScheduler,
    PlateauState,
    PolyLRScheduler,
    StepLRScheduler,
    TanhLRScheduler,
    WSDLRScheduler,
    create_scheduler_v2,
    timm_scheduler,
    torch_noise,
)

__all__ = [
    "TIMM",
    "CosineLRScheduler",
    "MultiStepLRScheduler",
    "PlateauLRScheduler",
    "PlateauState",
    "PolyLRScheduler",
    "StepLRScheduler",
    "TanhLRScheduler",
    "WSDLRScheduler",
    "create_scheduler_v2",
    "timm_scheduler",
    "torch_noise",
]
