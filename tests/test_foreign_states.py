"""Foreign states: an adapter loads only its own kind's state_dict.

torch's own schedulers save their settings beside the step ("gamma", "T_0", "lr_lambdas",
...), so their states used to load into an adapter running any schedule (issue 22, item 3).
Every registered class's live reference -- torch's schedulers and containers, transformers'
LambdaLRs and GreedyLR, torch's ReduceLROnPlateau -- gives a state here that both adapters
refuse with one line naming the entries found, changing nothing; the refusal's advice (load
the step alone) carries a torch run over to the adapter at the lrs torch holds.
"""

from __future__ import annotations

import io
import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch

import lrfun
import lrfun.torch
from lrfun._plateau import Machine
from lrfun._trajectory import torch_scheduler
from tests.test_state_loads import snapshot
from tests.test_torch_adapter import _adapter_of, _examples


def _checkpointed(example: Any) -> bool:
    """Whether the live reference is an object with a state_dict a checkpoint holds: a
    scheduler on a torch optimizer (optax's schedules are references of a step, with no
    torch object; a warmup ramp in front of torch's plateau is no object of its own)."""
    if example._reference is not None and not example._reference.on_optimizer:
        return False
    return hasattr(torch_scheduler(example)[1], "state_dict")


_EXAMPLES = [e for e in _examples() if _checkpointed(e)]


def _by_epoch(example: Any) -> bool:
    """Whether the live object steps as timm's do: ``step(epoch[, metric])``, the lrs set
    outright from the epoch (torch's step count does not apply)."""
    return not getattr(example._reference, "continues_held_lrs", True)


def _live_state(example: Any, steps: int = 3) -> tuple[Any, dict[str, Any]]:
    """The live reference of ``example``, stepped, and its state_dict as a checkpoint holds
    it (``torch.load(weights_only=True)``)."""
    opt, live = torch_scheduler(example)
    for epoch in range(1, steps + 1):
        opt.step()
        if _by_epoch(example):
            live.step(epoch, 1.0) if isinstance(example, Machine) else live.step(epoch)
        elif isinstance(example, Machine):
            live.step(1.0)
        else:
            live.step()
    buffer = io.BytesIO()
    torch.save(live.state_dict(), buffer)
    buffer.seek(0)
    return live, torch.load(buffer, weights_only=True)


def _adapters(example: Any) -> list[Any]:
    """An adapter running ``example`` and two running something else, one of each kind."""
    groups = example.groups or 1
    base = 0.1 if groups == 1 else [0.1] * groups
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CyclicLR, OneCycleLR: a base lr of their own
        own = _adapter_of(example, tensor_lr=False)
        opt = torch.optim.SGD(_groups(groups), lr=0.1)
        scheduler = lrfun.torch.Scheduler(opt, lrfun.StepLR(base, 2))
        opt = torch.optim.SGD(_groups(groups), lr=0.1)
        plateau = lrfun.torch.PlateauScheduler(opt, lrfun.ReduceLROnPlateau(base))
    return [own, scheduler, plateau]


def _groups(groups: int) -> list[dict[str, Any]]:
    return [{"params": [torch.zeros(1, requires_grad=True)]} for _ in range(groups)]


@pytest.mark.parametrize("example", _EXAMPLES, ids=lambda s: type(s).__name__)
def test_live_states_are_refused_by_both_adapters(example: Any) -> None:
    _, state = _live_state(example)
    for sched in _adapters(example):
        before = snapshot(sched)
        with pytest.raises(ValueError) as raised:
            sched.load_state_dict(state)
        message = str(raised.value)
        assert "\n" not in message and len(message) < 600
        # Named: the entries the adapter never writes, or the other adapter's entries.
        assert "never writes" in message or "written by" in message, message
        assert snapshot(sched) == before


@pytest.mark.parametrize(
    "example",
    [e for e in _EXAMPLES if not isinstance(e, Machine) and not _by_epoch(e)],
    ids=lambda s: type(s).__name__,
)
def test_the_step_alone_carries_a_torch_run_over(example: Any) -> None:
    """The refusal's advice: ``{'last_epoch': n, '_step_count': n + 1}`` loads into an
    adapter running the same schedule, which then writes the lrs torch holds."""
    live, state = _live_state(example, steps=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = _adapter_of(example, tensor_lr=False)
    with pytest.raises(ValueError, match=r"'last_epoch': n, '_step_count': n \+ 1"):
        sched.load_state_dict(state)
    sched.load_state_dict({"last_epoch": 5, "_step_count": 6})
    held = [float(group["lr"]) for group in live.optimizer.param_groups]
    ours = [float(group["lr"]) for group in sched.optimizer.param_groups]
    np.testing.assert_allclose(ours, held, rtol=1e-12, atol=1e-15)


def test_the_state_of_a_schedule_with_a_function_is_another_schedules() -> None:
    """A config is None exactly when the schedule holds a Python function: None against a
    config is another schedule, in either direction."""
    opt = torch.optim.SGD(_groups(1), lr=0.1)
    function = lrfun.torch.Scheduler(opt, lrfun.LambdaLR(0.1, lambda step: 0.5**step))
    configured = lrfun.torch.Scheduler(torch.optim.SGD(_groups(1), lr=0.1), lrfun.StepLR(0.1, 2))
    with pytest.raises(ValueError, match="written for schedule a schedule holding a Python"):
        configured.load_state_dict(function.state_dict())
    with pytest.raises(ValueError, match="runs a schedule holding a Python function"):
        function.load_state_dict(configured.state_dict())
    state = configured.state_dict()
    del state["schedule"]  # the documented way to load it anyway
    function.load_state_dict(state)
    assert function.last_epoch == 0 and math.isclose(opt.param_groups[0]["lr"], 0.1)
