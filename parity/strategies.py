"""Hypothesis strategies for valid scheduler configurations, edges included.

A config is ``{"name": <torch scheduler name>, **arguments}`` with lrfun's arguments (torch's,
``optimizer`` replaced by ``base_lr``); ``parity.torch_trajectory`` runs it in torch and
``lrfun.from_config`` builds it in lrfun. The strategies cover the whole valid range of every
argument -- gamma=1, factor=1, step_size=1, T_max=1, tiny and huge lrs, one to three param
groups -- so a library author can point them at their own implementation::

    from hypothesis import given
    from parity import assert_close, torch_trajectory
    from parity.strategies import configs

    @given(configs("StepLR"))
    def test_my_step_lr(config):
        ref = torch_trajectory(config, steps=200)
        assert_close(my_step_lr(config)(np.arange(201)), ref, dtype="float64")
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

import lrfun
from lrfun._compose import _Composite
from lrfun._schedule import classes, registered
from lrfun._schedule import names as lrfun_names

__all__ = [
    "HF_NAMES",
    "NAMES",
    "any_config",
    "arguments",
    "compositions",
    "configs",
    "constant",
    "geometric",
    "hf_calls",
    "hf_default_lr",
    "hf_schedule",
    "horizon",
    "lr_lambdas",
    "metric_sequences",
    "multiplicative_lambdas",
    "start_lrs",
    "unit_momenta",
]


Config = dict[str, Any]

# lrs from 1e-8 to 1e3, sampled on a log scale, with the round values users write.
_lr = st.one_of(
    st.sampled_from([1e-8, 1e-3, 0.01, 0.1, 1.0, 1e3]),
    st.floats(-8.0, 3.0).map(lambda e: 10.0**e),
)
# (0, 1] down to 1e-200: with lrs >= 1e-8 the lr times the factor stays a normal float (torch's
# recursions lose precision once an lr goes subnormal).
_unit_open = st.floats(1e-200, 1.0)
_unit = st.floats(0.0, 1.0)
_gamma = st.one_of(st.sampled_from([0.0, 0.1, 0.5, 1.0]), st.floats(0.0, 1.0), st.floats(1.0, 1.05))


# Torch-style lambdas: module-level functions bound with partial, so they have a readable repr
# and pickle. "array" ones work on step arrays (and under jit); "int" ones only on Python ints,
# as many torch recipes write them.
def _constant(c: float, e: Any) -> float:
    return c


def _geometric(c: float, e: Any) -> Any:
    return c**e


def _inverse(c: float, e: Any) -> Any:
    return 1.0 / (1.0 + c * e)


def _staircase(k: int, g: float, e: Any) -> Any:
    return g ** (e // k)


def _warmup(w: int, e: int) -> float:
    return min(1.0, (e + 1) / w)


def _alternating(a: float, e: int) -> float:
    return a if e % 2 else 1.0


def _scale_half(x: Any) -> Any:
    return 0.5**x


def _scale_inverse(x: Any) -> Any:
    return 1.0 / (1.0 + x)


def constant(c: float) -> Callable[[Any], Any]:
    """``lambda e: c`` with a readable repr."""
    return functools.partial(_constant, c)


def geometric(c: float) -> Callable[[Any], Any]:
    """``lambda e: c ** e`` with a readable repr."""
    return functools.partial(_geometric, c)


def lr_lambdas() -> st.SearchStrategy[Callable[[Any], Any]]:
    """Functions of the step as torch's LambdaLR takes them (array-friendly and int-only)."""
    return st.one_of(
        _unit_open.map(lambda c: functools.partial(_constant, c)),
        st.floats(0.5, 1.0).map(lambda c: functools.partial(_geometric, c)),
        st.floats(0.0, 1.0).map(lambda c: functools.partial(_inverse, c)),
        st.tuples(st.integers(1, 20), _unit_open).map(lambda a: functools.partial(_staircase, *a)),
        st.integers(1, 30).map(lambda w: functools.partial(_warmup, w)),
    )


def multiplicative_lambdas() -> st.SearchStrategy[Callable[[Any], Any]]:
    """Per-step factors as torch's MultiplicativeLR takes them."""
    return st.one_of(
        # Growth up to 1.002 per step: 10,000 steps of it stay within float32 range.
        st.one_of(st.just(1.0), st.floats(0.5, 1.002)).map(
            lambda c: functools.partial(_constant, c)
        ),
        st.floats(0.0, 1.0).map(lambda c: functools.partial(_inverse, c * 0.01)),
        st.floats(0.5, 1.0).map(lambda a: functools.partial(_alternating, a)),
    )


def _whole_floats(draw: st.DrawFn, values: Any) -> Any:
    """Integer counts (one, or a list) as torch takes them: sometimes as whole floats
    (``2.0``, ``[3.0, 5.0]``: a computed ``total / 2``), which it runs as their integers."""
    if draw(st.integers(0, 3)) > 0:
        return values
    return [float(v) for v in values] if isinstance(values, list) else float(values)


@st.composite
def _per_group(draw: st.DrawFn, groups: int | None, values: st.SearchStrategy[float]) -> Any:
    """A scalar, or (when the config has groups) sometimes one value per group."""
    if groups is None or draw(st.booleans()):
        return draw(values)
    return [draw(values) for _ in range(groups)]


@st.composite
def _groups(draw: st.DrawFn) -> int | None:
    return draw(st.sampled_from([None, None, 1, 2, 3]))


@st.composite
def _base_lr(draw: st.DrawFn, groups: int | None) -> Any:
    if groups is None:
        return draw(_lr)
    return [draw(_lr) for _ in range(groups)]


@st.composite
def _lambda_lr(
    draw: st.DrawFn, multiplicative: bool, groups: st.SearchStrategy[int | None] | None = None
) -> Config:
    groups = draw(_groups() if groups is None else groups)
    fns = multiplicative_lambdas() if multiplicative else lr_lambdas()
    lr_lambda: Any = draw(fns)
    if groups is not None and draw(st.booleans()):
        lr_lambda = [draw(fns) for _ in range(groups)]
    name = "MultiplicativeLR" if multiplicative else "LambdaLR"
    return {"name": name, "base_lr": draw(_base_lr(groups)), "lr_lambda": lr_lambda}


@st.composite
def _step_lr(draw: st.DrawFn, groups: st.SearchStrategy[int | None] | None = None) -> Config:
    return {
        "name": "StepLR",
        "base_lr": draw(_base_lr(draw(_groups() if groups is None else groups))),
        "step_size": _whole_floats(draw, draw(st.one_of(st.just(1), st.integers(1, 60)))),
        "gamma": draw(_gamma),
    }


@st.composite
def _multi_step_lr(draw: st.DrawFn, groups: st.SearchStrategy[int | None] | None = None) -> Config:
    milestones = draw(st.lists(st.integers(0, 400), max_size=25))
    if milestones and draw(st.booleans()):
        milestones += draw(st.lists(st.sampled_from(milestones), max_size=5))  # duplicates
    return {
        "name": "MultiStepLR",
        "base_lr": draw(_base_lr(draw(_groups() if groups is None else groups))),
        "milestones": _whole_floats(draw, draw(st.permutations(milestones))),
        "gamma": draw(_gamma),
    }


@st.composite
def _constant_lr(draw: st.DrawFn, groups: st.SearchStrategy[int | None] | None = None) -> Config:
    return {
        "name": "ConstantLR",
        "base_lr": draw(_base_lr(draw(_groups() if groups is None else groups))),
        "factor": draw(st.one_of(st.just(1.0), st.just(1.0 / 3), _unit_open)),
        "total_iters": draw(st.one_of(st.just(0), st.integers(0, 60))),
    }


@st.composite
def _linear_lr(draw: st.DrawFn, groups: st.SearchStrategy[int | None] | None = None) -> Config:
    return {
        "name": "LinearLR",
        "base_lr": draw(_base_lr(draw(_groups() if groups is None else groups))),
        "start_factor": draw(st.one_of(st.just(1.0), _unit_open)),
        "end_factor": draw(st.one_of(st.sampled_from([0.0, 1.0]), _unit)),
        "total_iters": draw(st.integers(1, 120)),
    }


@st.composite
def _exponential_lr(draw: st.DrawFn, groups: st.SearchStrategy[int | None] | None = None) -> Config:
    gamma = st.one_of(st.sampled_from([0.0, 0.5, 0.99, 1.0]), st.floats(0.9, 1.0), _unit)
    return {
        "name": "ExponentialLR",
        "base_lr": draw(_base_lr(draw(_groups() if groups is None else groups))),
        "gamma": draw(st.one_of(gamma, st.floats(1.0, 1.002))),
    }


@st.composite
def _polynomial_lr(draw: st.DrawFn, groups: st.SearchStrategy[int | None] | None = None) -> Config:
    return {
        "name": "PolynomialLR",
        "base_lr": draw(_base_lr(draw(_groups() if groups is None else groups))),
        "total_iters": draw(st.integers(1, 120)),
        "power": draw(st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.floats(0.0, 6.0))),
    }


def _cosine_runs(T: float) -> bool:
    """Whether torch's CosineAnnealingLR runs with this ``T_max`` (lrfun refuses, naming the
    step, one whose recursion divides by zero there: docs/torch-quirks.md)."""
    try:
        lrfun.CosineAnnealingLR(1.0, T)
    except ValueError:
        return False
    return True


def _float_periods() -> st.SearchStrategy[float]:
    """A ``T_max`` that is not a whole number, as torch takes it (``total / 2`` for an odd
    total, ``3.1``): the float of ``p / q`` for small ``q``; with ``q`` odd, only those whose
    troughs torch's recursion steps over."""
    return (
        st.tuples(st.integers(1, 300), st.sampled_from([2, 4, 5, 8, 10, 3, 20, 25]))
        .filter(lambda pq: pq[0] % pq[1] != 0)
        .map(lambda pq: pq[0] / pq[1])
        .filter(_cosine_runs)
    )


def _eta_min() -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), _lr)


@st.composite
def _cosine_annealing_lr(
    draw: st.DrawFn, groups: st.SearchStrategy[int | None] | None = None
) -> Config:
    return {
        "name": "CosineAnnealingLR",
        "base_lr": draw(_base_lr(draw(_groups() if groups is None else groups))),
        "T_max": draw(st.one_of(st.just(1), st.integers(1, 150), _float_periods())),
        "eta_min": draw(_eta_min()),
    }


@st.composite
def _cosine_annealing_warm_restarts(
    draw: st.DrawFn, groups: st.SearchStrategy[int | None] | None = None
) -> Config:
    return {
        "name": "CosineAnnealingWarmRestarts",
        "base_lr": draw(_base_lr(draw(_groups() if groups is None else groups))),
        "T_0": draw(st.integers(1, 60)),
        "T_mult": draw(st.integers(1, 4)),
        "eta_min": draw(_eta_min()),
    }


def _momenta(wide: bool = False) -> st.SearchStrategy[float]:
    """Momentum bounds: in [0, 1) mostly; ``wide``, any finite ones up to 25 on either side,
    as torch writes them into SGD's groups (its own tests use 1..5 and 1..22)."""
    if wide:
        return st.one_of(
            st.sampled_from([1.0, 1.5, 5.0, 22.0, 25.0, -0.5, -25.0]), st.floats(-25.0, 25.0)
        )
    # Below 1: Adam's bias correction divides by 1 - beta1 ** t.
    return st.one_of(
        st.sampled_from([0.0, 0.8, 0.85, 0.9, 0.95]), st.floats(0.0, 1.0, exclude_max=True)
    )


def unit_momenta(config: Config) -> bool:
    """Whether every momentum bound a config (or any schedule in a composite) cycles lies in
    [0, 1). The strategies draw bounds outside it too, which torch's SGD takes as given;
    Adam's step raises on them (its bias correction divides by ``1 - beta1 ** t``: zero at
    beta1 = 1, past float's range for a large one), and an optimizer's updates grow without
    bound: run such configs on SGD, and compare lrs and momenta, not updates."""
    if "schedulers" in config:
        return all(unit_momenta(child) for child in config["schedulers"])
    if not config.get("cycle_momentum", False):
        return True
    bounds = [config.get(name, 0.0) for name in ("base_momentum", "max_momentum")]
    values = [v for b in bounds for v in (b if isinstance(b, list) else [b])]
    return all(0.0 <= v < 1.0 for v in values)


@st.composite
def _cycle_lengths(draw: st.DrawFn) -> tuple[int | float, int | float | None]:
    """(step_size_up, step_size_down): whole numbers of steps mostly; sometimes floats, as
    torch takes them, that make a whole cycle with its peak between two steps (2.5 up and
    2.5 down; 0.25 up and 0.75 down: every step a new cycle). Lengths whose cycle is not a
    whole number of steps are tested on their own (tests/test_convert.py): float32 holds
    their phase only to its rounding (docs/torch-quirks.md)."""
    if draw(st.integers(0, 3)) > 0:
        up = draw(st.integers(1, 60))
        return up, draw(st.one_of(st.none(), st.just(0), st.integers(0, 60)))
    total = draw(st.one_of(st.just(1), st.integers(1, 120)))
    quarters = draw(st.integers(1, 4 * total - 1).filter(lambda q: q % 4))
    up = quarters / 4  # exact, as is total - up
    if quarters % 2 == 0 and 2 * up == total and draw(st.booleans()):
        return up, None  # step_size_down defaults to step_size_up
    return up, total - up


@st.composite
def _cyclic_lr(draw: st.DrawFn, groups: st.SearchStrategy[int | None] | None = None) -> Config:
    groups = draw(_groups() if groups is None else groups)
    up, down = draw(_cycle_lengths())
    wide = draw(st.integers(0, 3)) == 0  # momentum bounds outside [0, 1)
    config: Config = {
        "name": "CyclicLR",
        "base_lr": draw(_per_group(groups, _lr)),
        "max_lr": draw(_per_group(groups, _lr)),
        "step_size_up": up,
        "step_size_down": down,
        "mode": draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
        "gamma": draw(st.one_of(st.just(1.0), st.floats(0.9, 1.0))),
        "cycle_momentum": draw(st.booleans()),
        "base_momentum": draw(_per_group(groups, _momenta(wide))),
        "max_momentum": draw(_per_group(groups, _momenta(wide))),
    }
    if draw(st.integers(0, 3)) == 0:
        config["scale_fn"] = draw(st.sampled_from([_scale_half, _scale_inverse]))
        config["scale_mode"] = draw(st.sampled_from(["cycle", "iterations"]))
    return config


def _phases_ok(pct_start: float, total: int, three_phase: bool) -> bool:
    # torch divides by each phase's length; a zero-length phase is an invalid config.
    ends = (
        [float(pct_start * total) - 1, float(2 * pct_start * total) - 2, float(total - 1)]
        if three_phase
        else [float(pct_start * total) - 1, float(total - 1)]
    )
    # A length that is a float rounding of zero is refused too (torch divides by it).
    return all(
        abs(end - start) >= 2.0**-20 for start, end in zip([0.0, *ends[:-1]], ends, strict=True)
    )


@st.composite
def _one_cycle_lr(draw: st.DrawFn, groups: st.SearchStrategy[int | None] | None = None) -> Config:
    groups = draw(_groups() if groups is None else groups)
    config: Config = {"name": "OneCycleLR", "max_lr": draw(_per_group(groups, _lr))}
    if draw(st.booleans()):
        total = draw(st.integers(1, 400))
        config["total_steps"] = total
    else:
        config["epochs"] = draw(st.integers(1, 20))
        config["steps_per_epoch"] = draw(st.integers(1, 30))
        total = config["epochs"] * config["steps_per_epoch"]
    three_phase = draw(st.booleans())
    wide = draw(st.integers(0, 3)) == 0  # momentum bounds outside [0, 1)
    pct = draw(
        st.one_of(st.sampled_from([0.0, 0.25, 0.3, 0.5, 1.0]), st.floats(0.0, 1.0)).filter(
            lambda p: _phases_ok(p, total, three_phase)
        )
    )
    config.update(
        pct_start=pct,
        anneal_strategy=draw(st.sampled_from(["cos", "linear"])),
        cycle_momentum=draw(st.booleans()),
        base_momentum=draw(_per_group(groups, _momenta(wide))),
        max_momentum=draw(_per_group(groups, _momenta(wide))),
        div_factor=draw(st.one_of(st.just(25.0), st.floats(1.0, 1e3))),
        final_div_factor=draw(st.one_of(st.just(1e4), st.floats(1.0, 1e5))),
        three_phase=three_phase,
    )
    return config


@st.composite
def _reduce_lr_on_plateau(
    draw: st.DrawFn, exact32: bool = False, groups: st.SearchStrategy[int | None] | None = None
) -> Config:
    groups = draw(_groups() if groups is None else groups)
    if exact32:
        # Dyadic values: every comparison and product is exact in float32 as in float64, so
        # a float32 evaluation takes torch's decisions (ties are not rounded differently).
        lr: st.SearchStrategy[float] = st.sampled_from([2.0**-k for k in range(0, 12)])
        factor = st.sampled_from([0.0, 0.5, 0.25, 0.125])
        threshold = st.sampled_from([0.0, 2.0**-10, 0.25, 0.5])
        eps = st.sampled_from([0.0, 2.0**-30, 2.0**-6])
        floor = st.sampled_from([0.0, 2.0**-14, 2.0**-8])
    else:
        lr = _lr
        # 0 or normal: a subnormal factor is refused (XLA flushes it to 0)
        factor = st.one_of(
            st.sampled_from([0.0, 0.1, 0.5]),
            st.floats(0.0, 1.0, exclude_max=True).filter(lambda f: f == 0 or f >= 2.0**-1022),
        )
        threshold = st.one_of(st.sampled_from([0.0, 1e-4, 1.0]), st.floats(0.0, 2.0))
        eps = st.one_of(st.sampled_from([0.0, 1e-8]), st.floats(0.0, 1e-2))
        floor = st.one_of(st.just(0.0), _lr.map(lambda v: v * 1e-3))
    config: Config = {
        "name": "ReduceLROnPlateau",
        "base_lr": draw(_per_group(groups, lr)) if groups else draw(lr),
        "mode": draw(st.sampled_from(["min", "max"])),
        "factor": draw(factor),
        "patience": draw(st.integers(0, 6)),
        "threshold": draw(threshold),
        "threshold_mode": draw(st.sampled_from(["rel", "abs"])),
        "cooldown": draw(st.integers(0, 4)),
        "min_lr": draw(_per_group(groups, floor)) if groups else draw(floor),
        "eps": draw(eps),
    }
    return config


def metric_sequences(max_size: int = 80, exact32: bool = False) -> st.SearchStrategy[list[float]]:
    """Metric sequences for ReduceLROnPlateau: plateaus, improvements, noise, NaN, +-inf and
    negative values (with ``exact32``, dyadic values float32 holds exactly)."""
    specials = [math.nan, math.inf, -math.inf]
    if exact32:
        value = st.one_of(st.integers(-256, 256).map(lambda k: k / 64.0), st.sampled_from(specials))
    else:
        value = st.one_of(
            st.floats(-1e3, 1e3),
            st.sampled_from([0.0, 1.0, -1.0, *specials]),
            st.floats(allow_nan=True, allow_infinity=True),
        )
    # Runs of one value make plateaus; descending and ascending runs make improvements.
    run = st.tuples(value, st.integers(1, 12), st.sampled_from([0.0, -0.25, 0.25])).map(
        lambda r: [r[0] + i * r[2] if math.isfinite(r[0]) else r[0] for i in range(r[1])]
    )
    return st.lists(run, max_size=max_size // 6 + 1).map(
        lambda runs: [m for r in runs for m in r][:max_size]
    )


_STRATEGIES: dict[str, Callable[..., st.SearchStrategy[Config]]] = {
    "LambdaLR": functools.partial(_lambda_lr, False),
    "MultiplicativeLR": functools.partial(_lambda_lr, True),
    "StepLR": _step_lr,
    "MultiStepLR": _multi_step_lr,
    "ConstantLR": _constant_lr,
    "LinearLR": _linear_lr,
    "ExponentialLR": _exponential_lr,
    "PolynomialLR": _polynomial_lr,
    "CosineAnnealingLR": _cosine_annealing_lr,
    "CosineAnnealingWarmRestarts": _cosine_annealing_warm_restarts,
    "CyclicLR": _cyclic_lr,
    "OneCycleLR": _one_cycle_lr,
    "ReduceLROnPlateau": _reduce_lr_on_plateau,
}

# The single schedules, in torch's documentation order.
NAMES = tuple(name for name in _STRATEGIES if name != "ReduceLROnPlateau")


# -- transformers' schedules ----------------------------------------------------------------

_hf_lrs = st.floats(1e-6, 1.0)
_fractions = st.sampled_from([0.0, 0.1, 0.5, 1.0]) | st.floats(0.0, 1.0)
_cycles = st.sampled_from([0.5, 1.0, 2.0, 0.25, 1.5, 3.0]) | st.floats(0.0, 4.0)
_warmups = st.sampled_from([0, 1, 2]) | st.integers(0, 40)
_totals = st.sampled_from([0, 1, 2]) | st.integers(0, 100)


@st.composite
def _hf_base(
    draw: st.DrawFn, count: st.SearchStrategy[int | None] | None = None
) -> tuple[Any, float | None]:
    """(base_lr, default_lr): one lr, or one per param group; ``default_lr`` (the optimizer's
    default lr) given when the groups differ, sometimes also when they agree."""
    fixed = None if count is None else draw(count)
    if (count is None and draw(st.booleans())) or (count is not None and fixed is None):
        base = draw(_hf_lrs)
        return base, (base if draw(st.booleans()) else None)
    size = (1, 3) if fixed is None else (fixed, fixed)
    groups = draw(st.lists(_hf_lrs, min_size=size[0], max_size=size[1]))
    if draw(st.booleans()):
        groups = [groups[0]] * len(groups)
        return groups, None
    return groups, draw(_hf_lrs | st.sampled_from(groups))


def hf_default_lr(call: Config) -> float:
    """The optimizer's default lr of an ``hf_calls`` call (what transformers reads)."""
    base = call["base_lr"]
    if call["default_lr"] is not None:
        return float(call["default_lr"])
    return float(base[0] if isinstance(base, list) else base)


def _maybe(draw: st.DrawFn, kwargs: Config, name: str, values: st.SearchStrategy[Any]) -> None:
    """Passes ``name`` sometimes (otherwise transformers' default applies)."""
    if draw(st.booleans()):
        kwargs[name] = draw(values)


@st.composite
def hf_calls(
    draw: st.DrawFn, name: str, groups: st.SearchStrategy[int | None] | None = None
) -> Config:
    """A ``get_scheduler`` call of the transformers type ``name``: ``{"name", "base_lr",
    "default_lr", "num_warmup_steps", "num_training_steps", "kwargs" (the
    scheduler_specific_kwargs), "steps" (a horizon past every phase)}`` with the edges: no
    warmup, warmup = total, warmup past the total, every type-specific argument or its
    default, one to three param groups. ``hf_schedule`` builds it in lrfun.
    """
    base, default = draw(_hf_base(groups))
    config: Config = {"name": name, "base_lr": base, "default_lr": default}
    w = draw(_warmups)
    t = draw(st.just(w) | _totals)
    kwargs: Config = {}
    end = max(w, t)
    if name == "constant":
        w, t, end = None, None, 0
    elif name == "constant_with_warmup":
        t = None
    elif name in ("cosine", "cosine_with_restarts"):
        cycles = st.integers(0, 5) | _cycles if name == "cosine_with_restarts" else _cycles
        _maybe(draw, kwargs, "num_cycles", cycles)
    elif name == "polynomial":
        lr_init = hf_default_lr(config)
        _maybe(draw, kwargs, "lr_end", st.just(0.0) | _fractions.map(lambda f: 0.999 * f * lr_init))
        if lr_init <= kwargs.get("lr_end", 1e-7):
            kwargs["lr_end"] = 0.0
        _maybe(draw, kwargs, "power", st.sampled_from([0.0, 0.5, 1.0, 2.0]) | st.floats(2**-126, 4))
    elif name == "inverse_sqrt":
        t, end = None, w
        _maybe(draw, kwargs, "timescale", st.none() | st.integers(1, 300))
    elif name in ("cosine_with_min_lr", "cosine_warmup_with_min_lr"):
        if draw(st.booleans()):
            kwargs["min_lr"] = draw(_fractions) * hf_default_lr(config)
        else:
            kwargs["min_lr_rate"] = draw(_fractions)
        _maybe(draw, kwargs, "num_cycles", _cycles)
        if name == "cosine_warmup_with_min_lr":
            _maybe(draw, kwargs, "warmup_lr_rate", st.none() | _fractions)
    elif name == "warmup_stable_decay":
        kwargs["num_decay_steps"] = d = draw(st.sampled_from([0, 1]) | st.integers(0, 40))
        if draw(st.booleans()):  # stable steps from the total (negative when it is short)
            end = max(w, t, w + d)
        else:
            t = None
            kwargs["num_stable_steps"] = s = draw(st.sampled_from([0, 1]) | st.integers(0, 40))
            end = w + s + d
        _maybe(draw, kwargs, "warmup_type", st.sampled_from(["linear", "cosine", "1-sqrt"]))
        _maybe(draw, kwargs, "decay_type", st.sampled_from(["linear", "cosine", "1-sqrt"]))
        _maybe(draw, kwargs, "min_lr_ratio", _fractions)
        _maybe(draw, kwargs, "num_cycles", _cycles)
    elif name not in lrfun.hf.TYPES:
        raise ValueError(f"name must be one of {', '.join(lrfun.hf.TYPES)}; got {name!r}")
    if draw(st.integers(0, 3)) == 0:  # whole floats, as transformers computes with them
        w, t = (None if v is None else float(v) for v in (w, t))
    config.update(num_warmup_steps=w, num_training_steps=t, kwargs=kwargs)
    config["steps"] = end + draw(st.sampled_from([0, 1, 30]) | st.integers(0, 40))
    return config


def hf_schedule(call: Config) -> Any:
    """lrfun's schedule for an ``hf_calls`` call (``lrfun.hf.get_scheduler``)."""
    return lrfun.hf.get_scheduler(
        call["name"],
        call["base_lr"],
        call["num_warmup_steps"],
        call["num_training_steps"],
        dict(call["kwargs"]),
        default_lr=call["default_lr"],
    )


def _transformers_runs(config: Config) -> bool:
    # transformers' polynomial divides by zero at step W when W == T (docs/torch-quirks.md):
    # its trajectory has no value there to compare with.
    return not (
        config["name"] == "hf.PolynomialDecayWithWarmup"
        and config["num_warmup_steps"] == config["num_training_steps"]
    )


def _hf_configs(
    cls: Any, groups: st.SearchStrategy[int | None] | None = None
) -> st.SearchStrategy[Config]:
    """Configs of one of transformers' schedule classes (``hf.<Class>``): the classes of the
    ``hf_calls`` of the types that build it."""
    return (
        st.sampled_from(cls._types)
        .flatmap(lambda name: hf_calls(name, groups))
        .map(lambda call: hf_schedule(call).to_config())
        .filter(_transformers_runs)
    )


def _dyadic(low: int, high: int, scale: int) -> st.SearchStrategy[float]:
    return st.integers(low, high).map(lambda k: k / scale)


@st.composite
def _greedy_lr(
    draw: st.DrawFn, exact32: bool = False, count: st.SearchStrategy[int | None] | None = None
) -> Config:
    """Valid hf.GreedyLR configs (``{"name", "base_lr": [one per group], **kwargs}``;
    scalars where ``count`` draws None) over the whole parameter space and its edges: 1-3
    param groups with per-group floors and ceilings (lrs below the floor and above the
    ceiling included), both modes and threshold modes, patience 0, cooldown and warmup,
    factors near 0 and near 1, eps 0 and large, smoothing windows of 1 and longer than any
    run, a reset countdown short enough to reset.

    With ``exact32`` every value is one float32 holds exactly and stays so under the
    machine's arithmetic (dyadic lrs, power-of-two factors, floors above 0, short smoothing
    windows without a threshold), so float32 decisions are float64's.
    """
    fixed = draw(count) if count is not None else draw(st.integers(1, 3))
    groups = fixed or 1
    if exact32:
        lr = _dyadic(1, 64, 64)
        factor = st.sampled_from([0.5, 0.25])
        floor = _dyadic(1, 16, 256)
        ceiling = _dyadic(16, 128, 64)
        eps = st.sampled_from([0.0, 2.0**-12, 0.25])
        threshold = _dyadic(0, 16, 64)
        window = st.sampled_from([1, 2, 3, 8])
    else:
        lr = st.one_of(st.sampled_from([0.1, 1e-4, 2.0]), st.floats(1e-6, 10.0))
        factor = st.one_of(
            st.sampled_from([0.95, 0.5, 1e-300, 1.0 - 2.0**-52]), st.floats(1e-6, 0.999999)
        )
        floor = st.one_of(st.sampled_from([0.0, 1e-3]), st.floats(0.0, 0.5))
        ceiling = st.one_of(st.sampled_from([1.0, 0.05]), st.floats(0.0, 20.0))
        eps = st.one_of(st.sampled_from([0.0, 1e-8, 1.0]), st.floats(0.0, 0.1))
        threshold = st.one_of(st.sampled_from([0.0, 1e-6, 1.0]), st.floats(0.0, 2.0))
        window = st.one_of(st.sampled_from([1, 2, 1000]), st.integers(1, 20))

    def per_group(values: st.SearchStrategy[float]) -> Any:
        if fixed is None:
            return values
        return st.one_of(values, st.lists(values, min_size=groups, max_size=groups))

    smooth = draw(st.booleans())
    base = st.lists(lr, min_size=groups, max_size=groups) if fixed is not None else lr
    config: Config = {
        "name": "hf.GreedyLR",
        "base_lr": draw(base),
        "mode": draw(st.sampled_from(["min", "max"])),
        "factor": draw(factor),
        "patience": draw(st.integers(0, 4)),
        "threshold": 0.0 if exact32 and smooth else draw(threshold),
        "threshold_mode": draw(st.sampled_from(["rel", "abs"])),
        "cooldown": draw(st.integers(0, 3)),
        "warmup": draw(st.integers(0, 3)),
        "min_lr": draw(per_group(floor)),
        "max_lr": draw(per_group(ceiling)),
        "eps": draw(eps),
        "smooth": smooth,
        "window_size": draw(window),
        "reset_start": draw(st.one_of(st.integers(0, 3), st.just(500))),
    }
    return config


# transformers' schedules (closed forms), by registered name (hf.<Class>); "hf.GreedyLR" is
# its metric-driven machine.
HF_NAMES = tuple(n for n in lrfun_names("hf.") if issubclass(registered(n), lrfun.Schedule))


def configs(
    name: str, *, groups: int | None = None, exact32: bool = False
) -> st.SearchStrategy[Config]:
    """Valid configs of the torch scheduler ``name`` (one of ``NAMES``, or
    ``"ReduceLROnPlateau"``), or of one of transformers' schedules (``HF_NAMES``,
    ``"hf.CosineWithWarmup"``, ...; and ``"hf.GreedyLR"``, its metric-driven machine).

    Args:
      name: the registered name.
      groups: None draws one to three param groups (values per group or shared); 1 gives
        single-group configs whose values are scalars, ready for ``my_schedule(**arguments(
        config))``; ``k > 1`` gives ``k`` groups.
      exact32: (ReduceLROnPlateau, hf.GreedyLR) values float32 holds exactly, so float32
        decisions are float64's.

    >>> configs("StepLR", groups=1).example()  # doctest: +SKIP
    {'name': 'StepLR', 'base_lr': 0.1, 'step_size': 3, 'gamma': 0.5}
    """
    if groups is not None and (isinstance(groups, bool) or not isinstance(groups, int)):
        raise TypeError(f"groups must be None or a positive int, got {groups!r}")
    if groups is not None and groups < 1:
        raise ValueError(f"groups must be None or a positive int, got {groups!r}")
    count = None if groups is None else st.just(None if groups == 1 else groups)
    if name in HF_NAMES:
        return _hf_configs(registered(name), count)
    if name == "hf.GreedyLR":
        return _greedy_lr(exact32, count)
    if name not in _STRATEGIES:
        # A library's own class gives its strategy (the extension contract).
        own = getattr(registered(name), "_strategy", None)
        if own is not None:
            strategy: st.SearchStrategy[Config] = own(groups=count)
            return strategy
        known = (*_STRATEGIES, *HF_NAMES, "hf.GreedyLR")
        raise ValueError(
            f"name must be one of {', '.join(known)}, or a registered class with a "
            f"_strategy; got {name!r}"
        )
    if name == "ReduceLROnPlateau":
        return _reduce_lr_on_plateau(exact32, count)
    return _STRATEGIES[name](groups=count)


def arguments(config: Config) -> Config:
    """A config's constructor arguments: everything but its ``"name"``.

    >>> arguments({"name": "StepLR", "base_lr": 0.1, "step_size": 3})
    {'base_lr': 0.1, 'step_size': 3}
    """
    return {key: value for key, value in config.items() if key != "name"}


def start_lrs(config: Config) -> st.SearchStrategy[Any]:
    """Group lrs other than a config's base lr (per group where it has several): what another
    scheduler, a hand-set lr or a loaded optimizer state left in the groups when torch built
    the scheduler -- ``{**config, "start_lr": drawn}`` for the schedules that take one."""
    base = config["base_lr"]
    ratio = st.one_of(st.sampled_from([0.1, 0.5, 2.0]), st.floats(1e-3, 10.0))
    if isinstance(base, list):
        return st.lists(ratio, min_size=len(base), max_size=len(base)).map(
            lambda rs: [b * r for b, r in zip(base, rs, strict=True)]
        )
    return ratio.map(lambda r: base * r)


def any_config() -> st.SearchStrategy[Config]:
    """A valid config of any of torch's single schedulers (``NAMES``)."""
    return st.sampled_from(NAMES).flatmap(configs)


def horizon(config: Config, steps: int) -> int:
    """``steps``, capped where torch stops: OneCycleLR refuses to step past total_steps (in a
    composite, whose nested children can run a step ahead, one step earlier)."""
    limit = lrfun.from_config(config)._torch_steps()
    return steps if limit is None else min(steps, limit)


# The composite schedules, as lrfun's classes say.
_COMPOSITES = tuple(c.__name__ for c in classes() if issubclass(c, _Composite))
_PER_GROUP = ("max_lr", "base_momentum", "max_momentum", "lr_lambda")


def _rebase(config: Config, base: Any) -> Config:
    """A leaf config moved onto the composite's base lr (torch runs all children on one
    optimizer): per-group arguments other than the base become scalars."""
    config = {
        k: (v[0] if k in _PER_GROUP and isinstance(v, list) else v) for k, v in config.items()
    }
    if config["name"] == "OneCycleLR":  # its initial lr, max_lr / div_factor, is the base
        div = config["div_factor"]
        config["max_lr"] = [b * div for b in base] if isinstance(base, list) else base * div
    else:
        config["base_lr"] = base
    return config


def _own_lrs(config: Config, base: Any) -> Config:
    """A leaf that sets the lrs itself (CyclicLR, OneCycleLR) with its own lr values, one
    per group of the composite (``base``)."""
    own = _rebase(config, base)  # per-group arguments other than the base become scalars
    first = config["base_lr" if "base_lr" in config else "max_lr"]
    value = first[0] if isinstance(first, list) else first
    key = "base_lr" if "base_lr" in config else "max_lr"
    own[key] = [value] * len(base) if isinstance(base, list) else value
    return own


def _leaf(draw: st.DrawFn, base: Any) -> Config:
    config = draw(any_config())
    if lrfun.from_config(config).sets_lrs and draw(st.booleans()):
        return _own_lrs(config, base)
    return _rebase(config, base)


def _as_torch_builds(config: Config, base: Any) -> Config:
    """The leaves' base lrs as torch gives them when it builds them in order on one optimizer
    of lr ``base``: the group's ``initial_lr``, which the first one built sets (a CyclicLR:
    its own base_lr) and every OneCycleLR overwrites (max_lr / div_factor)."""
    initial: Any = None

    def walk(node: Config) -> Config:
        nonlocal initial
        if "schedulers" in node:
            return {**node, "schedulers": [walk(child) for child in node["schedulers"]]}
        leaf = lrfun.from_config(node)
        if leaf._sets_initial_lr or (initial is None and leaf.sets_lrs):
            own = leaf._initial_lr
            initial = list(own) if isinstance(own, tuple) else own
            return node
        if leaf.sets_lrs:
            return node
        if initial is None:
            initial = base
        return {**node, "base_lr": initial}

    return walk(config)


@st.composite
def _composite(draw: st.DrawFn, depth: int, base: Any, root: bool) -> Config:
    if not root and (depth == 0 or draw(st.integers(0, 2)) > 0):
        return _leaf(draw, base)
    name = draw(st.sampled_from(_COMPOSITES))
    count = draw(st.integers(1, 4))
    children = [draw(_composite(depth - 1, base, False)) for _ in range(count)]
    if name == "ChainedScheduler":
        return {"name": name, "schedulers": children}
    # milestones: 0, equal ones and ones past any horizon all occur
    points = st.one_of(st.just(0), st.integers(0, 40), st.integers(40, 400))
    milestones = sorted(draw(st.lists(points, min_size=count - 1, max_size=count - 1)))
    milestones = _whole_floats(draw, milestones)
    # torch cannot restart a composite at a milestone: only the first active child may be one
    first = sum(m <= 0 for m in milestones)
    for i in range(first + 1, count):
        if "schedulers" in children[i]:
            children[i] = _leaf(draw, base)
    return {"name": name, "schedulers": children, "milestones": milestones}


def compositions(max_depth: int = 3) -> st.SearchStrategy[Config]:
    """SequentialLR / ChainedScheduler configs nested up to ``max_depth`` levels, up to four
    children per node, any of torch's single schedulers as leaves, one to three param
    groups, milestones at 0, equal and beyond the horizon; CyclicLR and OneCycleLR leaves
    with their own lrs, and the other leaves' bases as torch then gives them."""
    return (
        st.tuples(_groups(), st.data())
        .map(lambda g: g)
        .flatmap(
            lambda g: _base_lr(g[0]).flatmap(
                lambda base: _composite(max_depth, base, True).map(
                    lambda config: _as_torch_builds(config, base)
                )
            )
        )
    )
