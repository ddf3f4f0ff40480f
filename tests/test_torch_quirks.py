"""torch behaviours lrfun reproduces or refuses, shown live against the installed torch.

Each test pairs torch's behaviour with lrfun's; docs/torch-quirks.md lists them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import lrfun
from parity import assert_close, torch_trajectory


def _sgd(lr: float = 0.1) -> torch.optim.SGD:
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=0.9)


def _run(sched: torch.optim.lr_scheduler.LRScheduler, opt: torch.optim.Optimizer, n: int) -> list:
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(n):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def test_constant_lr_with_zero_total_iters_keeps_the_factor_forever() -> None:
    ref = torch_trajectory(
        {"name": "ConstantLR", "base_lr": 0.3, "factor": 0.5, "total_iters": 0}, 10
    )
    assert np.all(ref.lr == ref.lr[0]) and ref.lr[0, 0] == pytest.approx(0.15)
    assert_close(lrfun.ConstantLR(0.3, 0.5, 0)(np.arange(11)), ref, dtype="float64")


def test_cosine_annealing_goes_back_up_after_t_max() -> None:
    ref = torch_trajectory({"name": "CosineAnnealingLR", "base_lr": 0.1, "T_max": 10}, 20)
    assert ref.lr[20, 0] == pytest.approx(0.1) and ref.lr[10, 0] == pytest.approx(0.0, abs=1e-15)
    assert_close(lrfun.CosineAnnealingLR(0.1, 10)(np.arange(21)), ref, dtype="float64")


def test_duplicate_and_zero_milestones_each_decay() -> None:
    config = {"name": "MultiStepLR", "base_lr": 1.0, "milestones": [0, 3, 3], "gamma": 0.5}
    ref = torch_trajectory(config, 5)
    assert ref.lr[0, 0] == 0.5 and ref.lr[3, 0] == 0.125
    assert_close(lrfun.from_config(config)(np.arange(6)), ref, dtype="float64")


def test_cyclic_lr_ignores_the_optimizer_lr_and_sets_momentum() -> None:
    opt = _sgd(lr=123.0)
    torch.optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4)
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["momentum"] == 0.9
    s = lrfun.CyclicLR(0.01, 0.1, step_size_up=4)
    assert s(0) == 0.01 and s.momentum(0) == 0.9


def test_one_cycle_phase_ends_one_step_before_pct_start_times_total() -> None:
    ref = torch_trajectory({"name": "OneCycleLR", "max_lr": 1.0, "total_steps": 100}, 100)
    assert int(np.argmax(ref.lr[:, 0])) == 29  # pct_start * total_steps - 1
    assert_close(lrfun.OneCycleLR(1.0, total_steps=100)(np.arange(101)), ref, dtype="float64")


def test_torch_cosine_recursion_drifts_from_its_own_closed_form() -> None:
    """Why long periodic runs are compared over a bounded number of periods: torch's recursive
    form drifts ~2e-15 relative per period; lrfun follows torch's closed form."""
    opt = _sgd(lr=1e-8)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3)
    recursive = np.asarray(_run(sched, opt, 10_000))
    # torch's closed form, with the phase reduced to one period first (cos of a large argument
    # would add its own error)
    closed = np.asarray([1e-8 * (1 + math.cos(math.pi * (k % 6) / 3)) / 2 for k in range(10_001)])
    ours = lrfun.CosineAnnealingLR(1e-8, 3)(np.arange(10_001))
    drift = np.max(np.abs(recursive - closed)) / 1e-8
    assert drift > 1e-12  # torch's recursion, not lrfun, leaves the 1e-12 band
    assert np.max(np.abs(ours - closed)) / 1e-8 < 1e-14


# torch accepts these, then fails or misbehaves while stepping; lrfun refuses them up front.


@pytest.mark.parametrize(
    ("name", "arguments", "steps"),
    [
        ("CosineAnnealingLR", dict(T_max=0), 1),
        ("StepLR", dict(step_size=0), 1),
        ("ConstantLR", dict(factor=0.0, total_iters=2), 2),
        ("PolynomialLR", dict(total_iters=2, power=-1.0), 2),
    ],
)
def test_torch_fails_while_stepping_where_lrfun_refuses(
    name: str, arguments: dict, steps: int
) -> None:
    opt = _sgd()
    sched = getattr(torch.optim.lr_scheduler, name)(opt, **arguments)
    with pytest.raises(ZeroDivisionError):
        _run(sched, opt, steps)
    with pytest.raises(ValueError):
        getattr(lrfun, name)(0.1, **arguments)


def test_one_cycle_zero_length_phase_divides_by_zero_in_torch() -> None:
    opt = _sgd()
    with pytest.raises(ZeroDivisionError):
        torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=0.1)
    with pytest.raises(ValueError, match="zero steps long"):
        lrfun.OneCycleLR(0.1, total_steps=10, pct_start=0.1)


def test_linear_lr_with_zero_total_iters_never_leaves_start_factor_in_torch() -> None:
    opt = _sgd(lr=1.0)
    sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=0)
    assert set(_run(sched, opt, 5)) == {0.5}  # end_factor is never reached
    with pytest.raises(ValueError, match="total_iters must be a positive integer, got 0"):
        lrfun.LinearLR(1.0, start_factor=0.5, total_iters=0)


def test_step_size_fraction_decays_at_odd_steps_in_torch() -> None:
    opt = _sgd(lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1.5, gamma=0.5)
    lrs = _run(sched, opt, 6)
    assert lrs[3] == 0.5 and lrs[6] == 0.25  # decays at 3 and 6 only: not every 1.5 steps
    with pytest.raises(TypeError, match=r"step_size must be a positive integer, got 1\.5"):
        lrfun.StepLR(1.0, step_size=1.5)


def test_subnormal_start_factor_gives_nan_in_torch() -> None:
    opt = _sgd(lr=1e-8)
    sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=5e-324, total_iters=1)
    assert math.isnan(_run(sched, opt, 1)[1])  # 0 * (1 + 1 / 5e-324) = 0 * inf
    with pytest.raises(ValueError, match="start_factor must be a finite number in"):
        lrfun.LinearLR(1e-8, start_factor=5e-324, total_iters=1)
