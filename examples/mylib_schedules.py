"""A library's own schedule, proven by lrfun's tools without a line of lrfun edited.

The schedule is the inverse square root with a linear warmup (Vaswani et al., 2017; fairseq's
``inverse_sqrt``), which torch does not have. The library already runs it in torch as an
``LRScheduler`` subclass (``WarmupInverseSqrt``): that object is the reference lrfun proves
the pure function (``InverseSqrtLR``) against, reads back with ``lrfun.from_torch``, plots
against and reports on. Importing this module registers ``mylib.InverseSqrtLR``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import torch

from lrfun.extend import Ctx, LiveScheduler, Schedule, check


class WarmupInverseSqrt(torch.optim.lr_scheduler.LRScheduler):
    """The library's torch scheduler: ``lr(t) = base_lr * min((t + 1) / W, sqrt(W / (t + 1)))``
    for W = ``warmup_steps``."""

    def __init__(
        self, optimizer: torch.optim.Optimizer, warmup_steps: int = 100, last_epoch: int = -1
    ) -> None:
        self.warmup_steps = warmup_steps
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        t, w = self.last_epoch + 1, self.warmup_steps
        return [float(base) * min(t / w, math.sqrt(w / t)) for base in self.base_lrs]


@dataclasses.dataclass(frozen=True)
class InverseSqrtLR(Schedule):
    """A linear warmup to ``base_lr`` over ``warmup_steps`` steps, then ``1/sqrt`` decay.

    ``lr(t) = base_lr * min((t + 1) / W, sqrt(W / (t + 1)))``, the two meeting at t = W - 1.

    Args:
      base_lr: the optimizer's lr (a sequence: one per param group).
      warmup_steps: W, an integer >= 1.

    >>> s = InverseSqrtLR(0.1, warmup_steps=4)
    >>> s(0), s(3), s(15)
    (0.025, 0.1, 0.05)
    """

    base_lr: float | Sequence[float]
    warmup_steps: int = 100

    # Where the name lives (configs and specs say "mylib.InverseSqrtLR") and what it is
    # proven against: the library's own torch scheduler, stepped on a real optimizer.
    _namespace = "mylib."
    _reference = LiveScheduler("mylib", WarmupInverseSqrt)
    _hyperparameters = ("base_lr",)  # float arguments: the JAX pytree leaves
    _torch_attributes = ("warmup_steps",)  # read back off a live WarmupInverseSqrt
    _gallery = ("mylib.InverseSqrtLR(0.1, warmup_steps=20)", 200)

    def __post_init__(self) -> None:
        base_lr = check.lr_values("base_lr", self.base_lr)
        self._set(
            base_lr=base_lr,
            warmup_steps=check.integer("warmup_steps", self.warmup_steps, minimum=1),
            _groups=check.group_count(base_lr=base_lr),
        )

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        t = ctx.float(step) + 1.0
        w = float(self.warmup_steps)
        return ctx.const(self.base_lr) * ctx.xp.minimum(t / w, ctx.xp.sqrt(w / t))

    def _course_changes(self, n: int) -> list[float]:
        return [float(self.warmup_steps - 1)] if self.warmup_steps > 1 else []

    @classmethod
    def _strategy(cls, groups: Any = None) -> Any:
        """Configs over the whole valid range: lrs from 1e-8 to 1e3, W from 1, one to three
        param groups (``groups`` as :func:`parity.strategies.configs` passes it)."""
        from hypothesis import strategies as st

        lr = st.floats(-8.0, 3.0).map(lambda e: 10.0**e)
        count = st.sampled_from([None, 2, 3]) if groups is None else groups
        warmup = st.one_of(st.just(1), st.integers(1, 10_000))

        @st.composite
        def config(draw: st.DrawFn) -> dict[str, Any]:
            n = draw(count)
            base = draw(lr) if n is None else [draw(lr) for _ in range(n)]
            return {"name": cls._name, "base_lr": base, "warmup_steps": draw(warmup)}

        return config()
