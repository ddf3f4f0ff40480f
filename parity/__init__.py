"""parity: prove a learning-rate schedule against the installed torch, live.

``torch_trajectory`` runs torch's native scheduler on a real optimizer and records every
group's lr (and momentum/beta1 where torch cycles it); ``assert_close`` holds your
values to lrfun's one tolerance policy (``TOLERANCES``). To check your own schedule::

    import numpy as np
    from parity import assert_close, torch_trajectory

    ref = torch_trajectory({"name": "StepLR", "base_lr": 0.1, "step_size": 3}, steps=100)
    assert_close(my_fn(np.arange(101)), ref, dtype="float64")

The tolerance policy and the comparison live in lrfun (``lrfun.compare``); parity adds the
live references, the Hypothesis strategies (``parity.strategies``), every backend
(``parity.backends``) and the report (``python -m parity``). It needs torch and
hypothesis (``pip install 'lrfun[parity]'``); importing it imports neither: only calling
[``torch_trajectory``][parity.torch_trajectory] imports torch.
"""

import importlib.util

_MISSING = [name for name in ("torch", "hypothesis") if importlib.util.find_spec(name) is None]
if _MISSING:
    raise ImportError(
        f"parity needs {' and '.join(_MISSING)}, which {'is' if len(_MISSING) == 1 else 'are'} "
        "not installed: pip install 'lrfun[parity]'"
    )

from lrfun._compare import TOLERANCES, Comparison, assert_close, compare, tolerance  # noqa: E402
from lrfun._trajectory import (  # noqa: E402
    Trajectory,
    lr_scale,
    param_groups,
    torch_scheduler,
    torch_trajectory,
)

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
