"""from_torch: a constructed torch scheduler becomes the lrfun object with torch's trajectory."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lrfun
from parity import assert_close, lr_scale, torch_scheduler, torch_trajectory
from parity.strategies import any_config, configs, horizon, metric_sequences


@given(config=any_config(), steps=st.integers(0, 300), tensor_lr=st.booleans())
def test_from_torch_follows_torch(config: dict, steps: int, tensor_lr: bool) -> None:
    steps = horizon(config, steps)
    _, native = torch_scheduler(config, tensor_lr=tensor_lr)
    schedule = lrfun.from_torch(native)
    ref = torch_trajectory(config, steps)
    ks = np.arange(steps + 1)
    # float32 base lrs read from tensor-lr groups carry float32 rounding
    dtype = "float32" if tensor_lr else "float64"
    assert_close(schedule(ks), ref, dtype=dtype, scale=lr_scale(config))
    if ref.momentum is not None:
        assert_close(schedule.momentum(ks), ref.momentum, dtype=dtype, what="momentum")


@given(config=configs("ReduceLROnPlateau"), metrics=metric_sequences(max_size=40))
@settings(max_examples=15)
def test_from_torch_plateau(config: dict, metrics: list[float]) -> None:
    _, native = torch_scheduler(config)
    plateau = lrfun.from_torch(native)
    assert isinstance(plateau, lrfun.ReduceLROnPlateau)
    ref = torch_trajectory(config, len(metrics), metrics=metrics)
    assert_close(plateau.trajectory(metrics), ref, dtype="float64")


def test_from_torch_keeps_the_users_function() -> None:
    def fn(e: int) -> float:
        return 0.9**e

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    schedule = lrfun.from_torch(torch.optim.lr_scheduler.LambdaLR(opt, fn))
    assert schedule.lr_lambda is fn


def test_from_torch_refuses_what_it_cannot_express() -> None:
    class Mine(torch.optim.lr_scheduler.StepLR):
        pass

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match=r"cannot express .*Mine"):
        lrfun.from_torch(Mine(opt, 3))
    with pytest.raises(TypeError, match=r"cannot express builtins\.str"):
        lrfun.from_torch("StepLR")


@given(
    up=st.floats(0.25, 40.0),
    # below 2**-60 a phase overflows: refused (the quirks page says so)
    down=st.one_of(st.none(), st.just(0.0), st.floats(2.0**-60, 40.0)),
    mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
    steps=st.integers(0, 300),
)
def test_cyclic_lr_cycle_lengths_in_floats_follow_torch(
    up: float, down: float | None, mode: str, steps: int
) -> None:
    """torch takes the cycle lengths as floats (step_size_up=2.5: 0, .4, .8, .8, .4, 0, ...):
    so does lrfun, computing the phase in floats as torch does; converted from torch too."""
    config = {
        "name": "CyclicLR",
        "base_lr": 0.01,
        "max_lr": 0.1,
        "step_size_up": up,
        "step_size_down": down,
        "mode": mode,
        "gamma": 0.999,
    }
    ref = torch_trajectory(config, steps)
    schedule = lrfun.from_config(config)
    assert_close(schedule(np.arange(steps + 1)), ref, dtype="float64")
    assert_close(schedule.momentum(np.arange(steps + 1)), ref, dtype="float64", what="momentum")
    # float32 holds the phase 1 + t / T of step t to its rounding, (1 + t / T) * 6e-8 of a
    # cycle (the length itself is rounded), which the triangle's slope 1 / min(ratio,
    # 1 - ratio) scales: that is what float32 can promise here, on top of the policy.
    total = up + (up if down is None else down)
    ratio = up / total
    slope = 1.0 / min(ratio, 1.0 - ratio) if ratio < 1.0 else 1.0 / ratio
    eps = float(np.finfo(np.float32).eps)
    phase = 4 * eps * (1.0 + np.arange(steps + 1) / total) * slope
    slack = (0.1 - 0.01) * phase  # max_lr - base_lr: the height the triangle scales
    if down != 0.0:  # a sawtooth jumps at each cycle end, where float32 may round either way
        assert_close(schedule(jnp.arange(steps + 1)), ref, dtype="float32", slack=slack)
    _, native = torch_scheduler(config)
    converted = lrfun.from_torch(native)
    assert_close(converted(np.arange(steps + 1)), ref, dtype="float64")


def test_cyclic_lr_whole_float_lengths_are_integers() -> None:
    assert lrfun.CyclicLR(0.0, 1.0, step_size_up=4.0).step_size_up == 4
    assert type(lrfun.CyclicLR(0.0, 1.0, step_size_up=4.0, step_size_down=2.0)._down) is int
