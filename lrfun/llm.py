"""LLM training frameworks' schedules, each reproduced exactly, as lrfun schedules.

Every class is one framework's schedule, registered under that framework's namespace
(configs and specs name it so: ``"olmo.WSD"``), with the framework's configuration as its
fields and its formula pinned to the commit it was read at:

=====================================  ==================================================
class (registered name)                reproduces
=====================================  ==================================================
``WSD`` (``olmo.WSD``)                 OLMo-core ``WSD``
``WSDS`` (``olmo.WSDS``)               OLMo-core ``WSDS``
``CosWithWarmup`` (``olmo.``)          OLMo-core ``CosWithWarmup`` (``alpha_f``)
``InvSqrtWithWarmup`` (``olmo.``)      OLMo-core ``InvSqrtWithWarmup``
``PowerLR`` (``olmo.PowerLR``)         OLMo-core ``PowerLR``
``LrScheduler`` (``nanotron.``)        nanotron ``lr_scheduler_builder``
``LinearWarmupStableDecay``            torchtitan ``linear_warmup_stable_decay``
(``torchtitan.``)
``LearningRateSchedule``               big_vision ``create_learning_rate_schedule``
(``big_vision.``)                      (rsqrt with cooldown, linear, polynomial, cosine)
``WsdSchedule`` (``hagele.``)          Hägele et al. (2024) ``wsd_schedule``
=====================================  ==================================================

lrfun's own family, which they share their curves with, is
[``lrfun.WarmupStableDecay``][lrfun.WarmupStableDecay]; the docs page "LLM schedules"
plots each beside it and measures where the frameworks differ.

>>> from lrfun import llm
>>> llm.WSD(1.0, max_steps=100, warmup=10, decay_fraction=0.2)(90)
0.5
"""

from lrfun._llm_presets import (
    WSD,
    WSDS,
    CosWithWarmup,
    InvSqrtWithWarmup,
    LearningRateSchedule,
    LinearWarmupStableDecay,
    LrScheduler,
    PowerLR,
    WsdSchedule,
)

__all__ = [
    "WSD",
    "WSDS",
    "CosWithWarmup",
    "InvSqrtWithWarmup",
    "LearningRateSchedule",
    "LinearWarmupStableDecay",
    "LrScheduler",
    "PowerLR",
    "WsdSchedule",
]
