"""Bad arguments: one table, each case raising at construction with the argument and value."""

from __future__ import annotations

import math

import pytest

import lrfun
from parity.strategies import NAMES

# (schedule, arguments, error, words the message must hold)
BAD = [
    # base_lr, shared by every schedule that takes it
    (
        "StepLR",
        dict(base_lr=-0.1, step_size=1),
        ValueError,
        "base_lr must be a finite number >= 0.0, got -0.1",
    ),
    (
        "StepLR",
        dict(base_lr=math.nan, step_size=1),
        ValueError,
        "base_lr must be a finite number >= 0.0, got nan",
    ),
    (
        "StepLR",
        dict(base_lr=math.inf, step_size=1),
        ValueError,
        "base_lr must be a finite number >= 0.0, got inf",
    ),
    (
        "StepLR",
        dict(base_lr="0.1", step_size=1),
        TypeError,
        "base_lr must be a number or a sequence",
    ),
    ("StepLR", dict(base_lr=[], step_size=1), ValueError, "base_lr must not be empty"),
    (
        "StepLR",
        dict(base_lr=[0.1, -1.0], step_size=1),
        ValueError,
        "base_lr[1] must be a finite number >= 0.0, got -1.0",
    ),
    (
        "StepLR",
        dict(base_lr=True, step_size=1),
        TypeError,
        "base_lr must be a finite number >= 0.0, got True",
    ),
    # StepLR
    (
        "StepLR",
        dict(base_lr=0.1, step_size=0),
        ValueError,
        "step_size must be a positive integer, got 0",
    ),
    (
        "StepLR",
        dict(base_lr=0.1, step_size=1.5),
        TypeError,
        "step_size must be a positive integer, got 1.5",
    ),
    (
        "StepLR",
        dict(base_lr=0.1, step_size=-3),
        ValueError,
        "step_size must be a positive integer, got -3",
    ),
    (
        "StepLR",
        dict(base_lr=0.1, step_size=True),
        TypeError,
        "step_size must be a positive integer, got True",
    ),
    (
        "StepLR",
        dict(base_lr=0.1, step_size=2, gamma=math.nan),
        ValueError,
        "gamma must be a finite number >= 0.0, got nan",
    ),
    (
        "StepLR",
        dict(base_lr=0.1, step_size=2, gamma=-0.5),
        ValueError,
        "gamma must be a finite number >= 0.0, got -0.5",
    ),
    # MultiStepLR
    (
        "MultiStepLR",
        dict(base_lr=0.1, milestones=[3, -1]),
        ValueError,
        "milestones must hold integers >= 0, got -1",
    ),
    (
        "MultiStepLR",
        dict(base_lr=0.1, milestones=[3, 4.5]),
        TypeError,
        "milestones must hold integers, got 4.5",
    ),
    (
        "MultiStepLR",
        dict(base_lr=0.1, milestones=5),
        TypeError,
        "milestones must be a sequence of integers, got 5",
    ),
    (
        "MultiStepLR",
        dict(base_lr=0.1, milestones=[2], gamma=math.inf),
        ValueError,
        "gamma must be a finite number >= 0.0, got inf",
    ),
    # ConstantLR
    (
        "ConstantLR",
        dict(base_lr=0.1, factor=0.0),
        ValueError,
        "factor must be a finite number in [2.2250738585072014e-308, 1.0], got 0.0",
    ),
    (
        "ConstantLR",
        dict(base_lr=0.1, factor=1.5),
        ValueError,
        "factor must be a finite number in [2.2250738585072014e-308, 1.0], got 1.5",
    ),
    (
        "ConstantLR",
        dict(base_lr=0.1, total_iters=-1),
        ValueError,
        "total_iters must be an integer >= 0, got -1",
    ),
    (
        "ConstantLR",
        dict(base_lr=0.1, total_iters=2.5),
        ValueError,
        "total_iters must be a whole number for ConstantLR, got 2.5",
    ),
    # LinearLR
    (
        "LinearLR",
        dict(base_lr=0.1, start_factor=0.0),
        ValueError,
        "start_factor must be a finite number in [2.2250738585072014e-308, 1.0], got 0.0",
    ),
    (
        "LinearLR",
        dict(base_lr=0.1, start_factor=1.1),
        ValueError,
        "start_factor must be a finite number in [2.2250738585072014e-308, 1.0], got 1.1",
    ),
    (
        "LinearLR",
        dict(base_lr=0.1, end_factor=-0.1),
        ValueError,
        "end_factor must be a finite number in [0.0, 1.0], got -0.1",
    ),
    (
        "LinearLR",
        dict(base_lr=0.1, total_iters=0),
        ValueError,
        "total_iters must be a positive integer, got 0",
    ),
    # ExponentialLR
    (
        "ExponentialLR",
        dict(base_lr=0.1, gamma=math.nan),
        ValueError,
        "gamma must be a finite number >= 0.0, got nan",
    ),
    (
        "ExponentialLR",
        dict(base_lr=0.1, gamma=None),
        TypeError,
        "gamma must be a finite number >= 0.0, got None",
    ),
    # PolynomialLR
    (
        "PolynomialLR",
        dict(base_lr=0.1, total_iters=0),
        ValueError,
        "total_iters must be a positive integer, got 0",
    ),
    (
        "PolynomialLR",
        dict(base_lr=0.1, power=-1.0),
        ValueError,
        "power must be a finite number >= 0.0, got -1.0",
    ),
    (
        "PolynomialLR",
        dict(base_lr=0.1, power=math.nan),
        ValueError,
        "power must be a finite number >= 0.0, got nan",
    ),
    # CosineAnnealingLR
    (
        "CosineAnnealingLR",
        dict(base_lr=0.1, T_max=0),
        ValueError,
        "T_max must be a positive integer, got 0",
    ),
    (
        "CosineAnnealingLR",
        dict(base_lr=0.1, T_max=-2.5),
        ValueError,
        "T_max must be a finite number > 0.0, got -2.5",
    ),
    (
        "CosineAnnealingLR",
        dict(base_lr=0.1, T_max=10, eta_min=-math.inf),
        ValueError,
        "eta_min must be a finite number, got -inf",
    ),
    (
        "CosineAnnealingLR",
        dict(base_lr=0.1, T_max=10, eta_min=math.nan),
        ValueError,
        "eta_min must be a finite number, got nan",
    ),
    # CosineAnnealingWarmRestarts
    (
        "CosineAnnealingWarmRestarts",
        dict(base_lr=0.1, T_0=0),
        ValueError,
        "T_0 must be a positive integer, got 0",
    ),
    (
        "CosineAnnealingWarmRestarts",
        dict(base_lr=0.1, T_0=5, T_mult=0),
        ValueError,
        "T_mult must be a positive integer, got 0",
    ),
    (
        "CosineAnnealingWarmRestarts",
        dict(base_lr=0.1, T_0=5, T_mult=1.5),
        TypeError,
        "T_mult must be a positive integer, got 1.5",
    ),
    (
        "CosineAnnealingWarmRestarts",
        dict(base_lr=0.1, T_0=5, eta_min="0"),
        TypeError,
        "eta_min must be a finite number, got '0'",
    ),
    # CyclicLR
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=1.0, step_size_up=0),
        ValueError,
        "step_size_up must be a positive integer, got 0",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=1.0, step_size_up=0.0),
        ValueError,
        "step_size_up must be a finite number > 0.0, got 0.0",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=1.0, step_size_up=math.inf),
        ValueError,
        "step_size_up must be a finite number > 0.0, got inf",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=1.0, step_size_up="2"),
        TypeError,
        "step_size_up must be a positive integer, got '2'",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=1.0, step_size_down=-0.5),
        ValueError,
        "step_size_down must be a finite number >= 0.0, got -0.5",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=1.0, step_size_down=-1),
        ValueError,
        "step_size_down must be an integer >= 0, got -1",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=1.0, mode="cosine"),
        ValueError,
        "mode must be one of 'triangular', 'triangular2', 'exp_range'; got 'cosine'",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=1.0, scale_fn=abs, scale_mode="epoch"),
        ValueError,
        "scale_mode must be one of 'cycle', 'iterations'; got 'epoch'",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=1.0, scale_fn=3),
        TypeError,
        "scale_fn must be callable or None, got 3",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=math.nan),
        ValueError,
        "max_lr must be a finite number >= 0.0, got nan",
    ),
    (
        "CyclicLR",
        dict(base_lr=[0.1, 0.2], max_lr=[1.0, 2.0, 3.0]),
        ValueError,
        "max_lr has 3 values but base_lr has 2",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=1.0, max_momentum=math.inf),
        ValueError,
        "max_momentum must be a finite number, got inf",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=1.0, cycle_momentum="yes"),
        TypeError,
        "cycle_momentum must be True or False, got 'yes'",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.1, max_lr=1.0, mode="exp_range", gamma=math.nan),
        ValueError,
        "gamma must be a finite number >= 0.0, got nan",
    ),
    # OneCycleLR
    (
        "OneCycleLR",
        dict(max_lr=0.1),
        ValueError,
        "OneCycleLR needs total_steps, or epochs and steps_per_epoch",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, epochs=3),
        ValueError,
        "OneCycleLR needs total_steps, or epochs and steps_per_epoch",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=0),
        ValueError,
        "total_steps must be a positive integer, got 0",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=10.0),
        TypeError,
        "total_steps must be a positive integer, got 10.0",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, epochs=0, steps_per_epoch=5),
        ValueError,
        "epochs must be a positive integer, got 0",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, epochs=2, steps_per_epoch=-5),
        ValueError,
        "steps_per_epoch must be a positive integer, got -5",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=10, pct_start=1),
        TypeError,
        "pct_start must be a float in [0.0, 1.0], got 1",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=10, pct_start=1.5),
        ValueError,
        "pct_start must be a finite number in [0.0, 1.0], got 1.5",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=10, pct_start=0.1),
        ValueError,
        "pct_start=0.1 with total_steps=10 makes phase 1 of OneCycleLR zero steps long",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=10, pct_start=1.0),
        ValueError,
        "makes phase 2 of OneCycleLR zero steps long",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=10, pct_start=0.55, three_phase=True),
        ValueError,
        "makes phase 3 of OneCycleLR zero steps long",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=10, anneal_strategy="cosine"),
        ValueError,
        "anneal_strategy must be one of 'cos', 'linear'; got 'cosine'",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=10, div_factor=0.0),
        ValueError,
        "div_factor must be a finite number > 0.0, got 0.0",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=10, final_div_factor=math.inf),
        ValueError,
        "final_div_factor must be a finite number > 0.0, got inf",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=10, three_phase=1),
        TypeError,
        "three_phase must be True or False, got 1",
    ),
    # LambdaLR / MultiplicativeLR
    (
        "LambdaLR",
        dict(base_lr=0.1, lr_lambda=0.95),
        TypeError,
        "lr_lambda must be callable or a list of callables, got 0.95",
    ),
    (
        "LambdaLR",
        dict(base_lr=0.1, lr_lambda=[abs, 3]),
        TypeError,
        "lr_lambda[1] must be callable, got 3",
    ),
    (
        "LambdaLR",
        dict(base_lr=[0.1, 0.2], lr_lambda=[abs, abs, abs]),
        ValueError,
        "lr_lambda has 3 values but base_lr has 2",
    ),
    (
        "MultiplicativeLR",
        dict(base_lr=0.1, lr_lambda=None),
        TypeError,
        "lr_lambda must be callable or a number (a constant factor), got None",
    ),
    (
        "MultiplicativeLR",
        dict(base_lr=0.1, lr_lambda=abs, horizon=-1),
        ValueError,
        "horizon must be an integer >= 0, got -1",
    ),
]


# Past the ranges every backend holds, and derived values that overflow.
BAD += [
    (
        "StepLR",
        dict(base_lr=0.1, step_size=2**63),
        ValueError,
        "step_size must be a positive integer no larger than 9223372036854775807",
    ),
    (
        "PolynomialLR",
        dict(base_lr=0.1, total_iters=2**127),
        ValueError,
        "total_iters must be a positive integer no larger than 9223372036854775807",
    ),
    (
        "PolynomialLR",
        dict(base_lr=0.1, total_iters=1e30),
        ValueError,
        "total_iters must be below 2**63 steps (no int64 step reaches a longer one), got 1e+30",
    ),
    (
        "MultiStepLR",
        dict(base_lr=0.1, milestones=[2**64]),
        ValueError,
        "milestones must hold integers no larger than 9223372036854775807",
    ),
    (
        "MultiStepLR",
        dict(base_lr=0.1, milestones="12"),
        TypeError,
        "milestones must be a sequence of integers, got '12'",
    ),
    (
        "MultiStepLR",
        dict(base_lr=0.1, milestones={1: 2}),
        TypeError,
        "milestones must be a sequence of integers, got {1: 2}",
    ),
    (
        "StepLR",
        dict(base_lr=10**400, step_size=2),
        ValueError,
        "base_lr must be a finite number >= 0.0, got 1000000000",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=10, div_factor=1e-320),
        ValueError,
        "div_factor=1e-320 makes the initial lr max_lr / div_factor",
    ),
    (
        "OneCycleLR",
        dict(max_lr=1e300, total_steps=10, final_div_factor=1e-300),
        ValueError,
        "final_div_factor=1e-300 overflows the final lr",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, epochs="junk", steps_per_epoch=4),
        TypeError,
        "epochs must be a positive integer, got 'junk'",
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.1, epochs=3, steps_per_epoch=0),
        ValueError,
        "steps_per_epoch must be a positive integer, got 0",
    ),
]

# Float lengths whose phase overflows (NaN at every step; torch raises at its first), or
# that no int64 step reaches (a whole float past 2**63 would become an integer no config
# holds), and host tables past lrfun's budget.
BAD += [
    (
        "CosineAnnealingLR",
        dict(base_lr=0.1, T_max=5e-324),
        ValueError,
        "T_max must be at least 2**-60 steps (a shorter one overflows the phase",
    ),
    (
        "CosineAnnealingLR",
        dict(base_lr=0.1, T_max=2.0**63),
        ValueError,
        "T_max must be below 2**63 steps (no int64 step reaches a longer one), "
        "got 9.223372036854776e+18",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.01, max_lr=0.1, step_size_up=5e-324),
        ValueError,
        "step_size_up must be at least 2**-60 steps",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.01, max_lr=0.1, step_size_up=1.0, step_size_down=1e-30),
        ValueError,
        "step_size_down must be 0 or at least 2**-60 steps",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.01, max_lr=0.1, step_size_up=2.0**63),
        ValueError,
        "step_size_up must be below 2**63 steps",
    ),
    (
        "CyclicLR",
        dict(base_lr=0.01, max_lr=0.1, step_size_up=1.0, step_size_down=1e300),
        ValueError,
        "step_size_down must be below 2**63 steps (no int64 step reaches a longer one), got 1e+300",
    ),
    (
        "LambdaLR",
        dict(base_lr=0.1, lr_lambda=abs, horizon=2**31 - 1),
        ValueError,
        "horizon=2147483647 needs a table of 16384 MiB, past half of lrfun's 64 MiB budget",
    ),
    (
        "MultiplicativeLR",
        dict(base_lr=0.1, lr_lambda=abs, horizon=2**31 - 1),
        ValueError,
        "pass horizon <= 4194303",
    ),
]


@pytest.mark.parametrize(
    ("name", "arguments", "error", "message"),
    BAD,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(BAD)],
)
def test_bad_argument(name: str, arguments: dict, error: type, message: str) -> None:
    with pytest.raises(error) as raised:
        getattr(lrfun, name)(**arguments)
    assert message in str(raised.value)


def test_every_schedule_has_bad_cases() -> None:
    # the composites and the plateau have their tables in test_compose and test_plateau
    assert {case[0] for case in BAD} == set(NAMES)


def test_huge_values_are_cut_in_messages() -> None:
    with pytest.raises(ValueError) as raised:
        lrfun.StepLR(10**100_000, 2)
    assert len(str(raised.value)) < 200
    assert "bits" in str(raised.value)
    with pytest.raises(TypeError) as raised:
        lrfun.StepLR(0.1, "x" * 10_000)
    assert len(str(raised.value)) < 200
    assert "characters)" in str(raised.value)


# torch rejects these too: parity of rejection, checked live.
TORCH_REJECTS = [
    ("ConstantLR", dict(factor=1.5)),
    ("LinearLR", dict(start_factor=0.0)),
    ("LinearLR", dict(end_factor=1.5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=0)),
    ("OneCycleLR", dict(total_steps=0)),
    ("OneCycleLR", dict(total_steps=10, pct_start=1)),
    ("OneCycleLR", dict(total_steps=10, anneal_strategy="cosine")),
    ("CyclicLR", dict(max_lr=1.0, mode="cosine")),
    # epochs and steps_per_epoch are read where total_steps is not given
    ("OneCycleLR", dict(epochs="junk", steps_per_epoch=4)),
    ("OneCycleLR", dict(epochs=3, steps_per_epoch=0)),
]


@pytest.mark.parametrize(("name", "arguments"), TORCH_REJECTS)
def test_rejected_where_torch_rejects(name: str, arguments: dict) -> None:
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    native = dict(arguments)
    ours = dict(arguments)
    if name == "CyclicLR":
        native["base_lr"] = ours["base_lr"] = 0.1
    elif name == "OneCycleLR":
        native["max_lr"] = ours["max_lr"] = 0.1
    else:
        ours["base_lr"] = 0.1
    with pytest.raises((ValueError, TypeError)):
        getattr(torch.optim.lr_scheduler, name)(opt, **native)
    with pytest.raises((ValueError, TypeError)):
        getattr(lrfun, name)(**ours)
