"""Hypothesis profiles: ``ci`` (the default: enough examples to catch a regression, the whole
suite in a few minutes on 2 cores, derandomized so that a run on a fresh clone draws what the
last local run drew) and ``thorough`` (``HYPOTHESIS_PROFILE=thorough``: random, many more
examples, the profile that explores)."""

from __future__ import annotations

import os

# Keras 3 reads its backend once, at its first import: lrfun.keras is tested on JAX.
os.environ.setdefault("KERAS_BACKEND", "jax")

from hypothesis import HealthCheck, settings

_common = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("ci", max_examples=25, derandomize=True, **_common)
settings.register_profile("thorough", max_examples=400, **_common)
settings.register_profile("dev", max_examples=8, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
