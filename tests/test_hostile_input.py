"""Inputs at and past the edges: steps past every integer range, counters past int32,
derived values that overflow, NumPy scalars as arguments, names that are not names."""

from __future__ import annotations

import io
import json

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
