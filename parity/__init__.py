"""parity: prove a learning-rate schedule against the installed torch, live.

:func:`torch_trajectory` runs torch's native scheduler on a real optimizer and records every
group's lr (and momentum/beta1 where torch cycles it); :func:`assert_close` holds your
values to the one tolerance policy (:data:`TOLERANCES`). To check your own schedule::

    import numpy as np
    from parity import assert_close, torch_trajectory

    ref = torch_trajectory({"name": "StepLR", "base_lr": 0.1, "step_size": 3}, steps=100)
    assert_close(my_fn(np.arange(101)), ref, dtype="float64")

Importing parity imports no torch: only calling :func:`torch_trajectory` does.
"""

from parity._compare import TOLERANCES, Comparison, assert_close, compare, tolerance
from parity._reference import (
    Trajectory,
    lr_scale,
    param_groups,
    torch_scheduler,
    torch_trajectory,
)

# Hypothesis strategies live in parity.strategies, imported on demand: importing parity
# needs neither torch nor hypothesis. parity.backends and parity.report likewise.

__all__ = [
    "TOLERANCES",
    "Comparison",
    "Trajectory",
    "assert_close",
    "compare",
    "lr_scale",
    "param_groups",
    "tolerance",
    "torch_scheduler",
    "torch_trajectory",
]
