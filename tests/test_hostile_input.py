"""Inputs at and past the edges: steps past every integer range, counters past int32,
derived values that overflow, NumPy scalars as arguments, names that are not names."""

from __future__ import annotations

import io
import json
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import lrfun
import lrfun.torch
from lrfun._schedule import classes
from lrfun._spec import parse

GALLERY = [parse(c._gallery[0]) for c in classes(own=True) if c._gallery is not None]
SCHEDULES = [s for s in GALLERY if isinstance(s, lrfun.Schedule)]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: type(s).__name__)
def test_steps_past_every_integer_range(schedule: lrfun.Schedule) -> None:
    """A step no integer dtype holds has no lr (NaN); a negative one is step 0's."""
    for step in (2**63, 2**64, 2**70, 10**30):
        assert np.isnan(schedule(step)).all(), step
    for step in (-1, -(2**63), -(2**70)):
        np.testing.assert_array_equal(schedule(step), schedule(0))
    assert np.isnan(schedule(np.array([1e30]))).all()


def test_plateau_counters_fit_int32() -> None:
    with pytest.raises(ValueError, match="cooldown must be an integer >= 0 no larger than"):
        lrfun.ReduceLROnPlateau(0.1, cooldown=2**31)
    with pytest.raises(ValueError, match="patience must be an integer >= 0 no larger than"):
        lrfun.ReduceLROnPlateau(0.1, patience=2**63)
    # at the limit every backend decides alike: one cut, then the longest cooldown
    plateau = lrfun.ReduceLROnPlateau(0.1, patience=0, cooldown=2**31 - 2)
    metrics = [1.0, 2.0, 3.0, 4.0, 5.0]
    host = plateau.trajectory(metrics)
    state = plateau.init(jnp.zeros(()))
    on_jax = [float(plateau.lr(state))]
    for metric in metrics:
        state = jax.jit(plateau.update)(state, metric)
        on_jax.append(float(plateau.lr(state)))
    np.testing.assert_allclose(on_jax, np.ravel(host), rtol=1e-6)
    assert np.count_nonzero(np.diff(np.ravel(host))) == 1


def test_a_config_name_must_be_a_name() -> None:
    with pytest.raises(ValueError, match=r"config name must be one of .*got \['StepLR'\]"):
        lrfun.from_config({"name": ["StepLR"]})
    with pytest.raises(ValueError, match="StepLR has no argument '1'"):
        lrfun.from_config({"name": "StepLR", 1: 2})


def test_numpy_scalars_become_plain_data() -> None:
    """NumPy integers and floats as arguments: configs stay JSON, states load weights-only."""
    schedule = lrfun.CosineAnnealingWarmRestarts(
        np.float64(0.1), T_0=np.int64(7), T_mult=np.int32(2)
    )
    config = schedule.to_config()
    assert json.loads(json.dumps(config)) == config
    assert all(type(v) in (str, int, float) for v in config.values())
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    adapter = lrfun.torch.Scheduler(opt, schedule)
    buffer = io.BytesIO()
    torch.save(adapter.state_dict(), buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True) == adapter.state_dict()
    one_cycle = lrfun.OneCycleLR(0.1, epochs=np.int64(3), steps_per_epoch=np.int64(4))
    assert json.loads(json.dumps(one_cycle.to_config())) == one_cycle.to_config()


def test_a_config_nested_past_the_limit_is_refused_by_name() -> None:
    """Nesting that would exhaust Python's stack (about 400 levels) is a ValueError naming
    the limit, a config nested in itself too; the deepest config a spec writes reads back."""
    from lrfun._schedule import MAX_CONFIG_DEPTH

    config: dict = {"name": "StepLR", "base_lr": 0.1, "step_size": 1}
    for _ in range(400):
        config = {"name": "ChainedScheduler", "schedulers": [config]}
    message = f"config nests dicts and lists more than {MAX_CONFIG_DEPTH} deep"
    with pytest.raises(ValueError, match=message):
        lrfun.from_config(config)
    itself: dict = {"name": "ChainedScheduler", "schedulers": []}
    itself["schedulers"].append(itself)
    with pytest.raises(ValueError, match=message):
        lrfun.from_config(itself)
    milestones: list = [3]
    for _ in range(31):
        milestones = [milestones]
    spec = "MultiStepLR(0.1, [])"
    for _ in range(32):
        spec = f"ChainedScheduler([{spec}])"
    deepest = parse(spec.replace("[]", repr([3])))
    assert lrfun.from_config(deepest.to_config()) == deepest
    with pytest.raises(TypeError, match="milestones must hold integers, got"):
        lrfun.from_config({"name": "MultiStepLR", "base_lr": 0.1, "milestones": milestones})


def test_refusals_name_the_argument() -> None:
    """A 0-d array of milestones and transformers' min_lr of the wrong type are refused by
    name, as every other argument."""
    from lrfun import hf

    words = "milestones must be a sequence of integers, got array(3)"
    with pytest.raises(TypeError, match=re.escape(words)):
        lrfun.MultiStepLR(0.1, milestones=np.array(3))
    words = "min_lr must be a finite number >= 0.0, got"
    with pytest.raises(TypeError, match=re.escape(f"{words} 'x'")):
        hf.get_scheduler(
            "cosine_with_min_lr", 0.1, 10, 100, scheduler_specific_kwargs={"min_lr": "x"}
        )
    with pytest.raises(ValueError, match=re.escape(f"{words} -1.0")):
        hf.get_cosine_with_min_lr_schedule_with_warmup(0.1, 10, 100, min_lr=-1.0)


class _Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_values_in_messages_are_cut() -> None:
    """A million-character value is cut in the message (its start and its length), and a
    value that cannot be printed is named by its type: the error is still the one that
    names the argument."""
    from lrfun._spec import load

    big = "x" * 1_000_000
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    calls = [
        (lambda: lrfun.from_config({"name": big}), ValueError, "(1000002 characters)"),
        (lambda: lrfun.from_config({"name": "StepLR", big: 1}), ValueError, "StepLR has no"),
        (lambda: lrfun.StepLR(0.1, step_size=big), TypeError, "step_size must be"),
        (lambda: lrfun.StepLR(0.1, step_size=_Unprintable()), TypeError, "its repr fails"),
        (lambda: lrfun.StepLR(0.1, step_size=deep), TypeError, "nested too deeply to print"),
        (lambda: load(f"{big[:50_000]}(1)"), ValueError, "unknown schedule 'xxx"),
        (lambda: load(f"@{big}"), ValueError, "cannot read config 'xxx"),
    ]
    for call, error, words in calls:
        with pytest.raises(error) as raised:
            call()
        message = str(raised.value)
        assert words in message and len(message) < 1100, message[:300]
