"""Values and arguments as torch and transformers take them, measured live: momentum bounds
outside [0, 1], constant factors of MultiplicativeLR, float ``T_max``, whole-float integers,
transformers' restarts past 2**24 steps in float32, GreedyLR's raise under JAX x64 and
OneCycleLR's traceable divisors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lrfun
from parity import assert_close, torch_trajectory
from parity.strategies import configs

jax = pytest.importorskip("jax")
jnp = jax.numpy
transformers = pytest.importorskip("transformers")


def _sgd(lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=0.9)


def _run(scheduler: Any, optimizer: torch.optim.Optimizer, n: int) -> list[float]:
    """The lr after 0..n steps of a live scheduler."""
    out = [float(optimizer.param_groups[0]["lr"])]
    for _ in range(n):
        optimizer.step()
        scheduler.step()
        out.append(float(optimizer.param_groups[0]["lr"]))
    return out


# -- momentum bounds: what torch writes ------------------------------------------------------

# Out of [0, 1] on both sides (torch's own tests use 1..5 and 1..22), and the usual ones.
_bounds = st.one_of(
    st.sampled_from([0.0, 0.85, 0.95, 1.0, 1.5, 5.0, 22.0, -0.5]), st.floats(-30.0, 30.0)
)


@given(configs("CyclicLR") | configs("OneCycleLR"), st.data())
def test_momentum_bounds_outside_unit_interval_match_torch(
    config: dict[str, Any], data: Any
) -> None:
    groups = lrfun.from_config(config).groups
    for name in ("base_momentum", "max_momentum"):
        config[name] = data.draw(
            _bounds if groups is None else st.lists(_bounds, min_size=groups, max_size=groups)
        )
    config["cycle_momentum"] = True
    schedule = lrfun.from_config(config)
    steps = min(60, schedule._torch_steps() or 60)
    reference = torch_trajectory(config, steps)
    t = np.arange(steps + 1)
    assert_close(schedule(t), reference, dtype="float64")
    assert_close(schedule.momentum(t), reference, dtype="float64", what="momentum")


@pytest.mark.parametrize("cls", [lrfun.CyclicLR, lrfun.OneCycleLR])
@pytest.mark.parametrize("bound", ["high", [0.1, 0.2, 0.3], math.nan, -7.0])
def test_momentum_bounds_torch_never_reads_are_never_checked(cls: Any, bound: Any) -> None:
    # torch's cycle_momentum=False never reads them: any value, any length.
    args: dict[str, Any] = {"cycle_momentum": False, "base_momentum": bound, "max_momentum": bound}
    if cls is lrfun.CyclicLR:
        schedule, live = cls(0.01, 0.1, 4, **args), torch.optim.lr_scheduler.CyclicLR
        theirs = lambda opt: live(opt, 0.01, 0.1, 4, **args)  # noqa: E731
    else:
        schedule, live = cls(0.1, total_steps=20, **args), torch.optim.lr_scheduler.OneCycleLR
        theirs = lambda opt: live(opt, 0.1, total_steps=20, **args)  # noqa: E731
    opt = _sgd()
    reference = _run(theirs(opt), opt, 20)
    assert_close(schedule(np.arange(21)), np.asarray(reference), dtype="float64")
    # static in the pytree (torch never reads them): jit takes the schedule as it is
    assert float(jax.jit(lambda s: s(3))(schedule)) == pytest.approx(reference[3], rel=1e-5)


# -- other arguments torch never reads in the configuration given ------------------------------

_anything = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10, 10),
    st.text(max_size=5),
    st.none(),
    st.lists(st.floats(-2.0, 2.0), max_size=3),
)


def _never_read(config: dict[str, Any]) -> list[str]:
    """The arguments torch's constructor keeps and its steps never read, for ``config``."""
    if config["name"] == "OneCycleLR":
        return ["epochs", "steps_per_epoch"]  # beside total_steps
    if config.get("scale_fn") is not None:
        return ["mode", "gamma"]  # the scale_fn replaces the mode
    # the mode sets scale_mode; gamma scales exp_range only
    return ["scale_mode"] if config["mode"] == "exp_range" else ["scale_mode", "gamma"]


@given(configs("CyclicLR") | configs("OneCycleLR"), _anything, st.data())
def test_arguments_torch_never_reads_are_kept_and_never_read(
    config: dict[str, Any], value: Any, data: Any
) -> None:
    if config["name"] == "OneCycleLR" and "total_steps" not in config:
        config["total_steps"] = config.pop("epochs") * config.pop("steps_per_epoch")
    name = data.draw(st.sampled_from(_never_read(config)), label="argument")
    before = lrfun.from_config(config)
    config[name] = value
    schedule = lrfun.from_config(config)
    kept = getattr(schedule, name)
    assert kept is value or kept == (tuple(value) if isinstance(value, list) else value)
    steps = min(40, schedule._torch_steps() or 40)
    t = np.arange(steps + 1)
    reference = torch_trajectory(config, steps)  # torch's constructor takes the value as given
    assert_close(schedule(t), reference, dtype="float64")
    np.testing.assert_array_equal(schedule(t), before(t))
    if schedule.cycles_momentum:
        assert_close(schedule.momentum(t), reference, dtype="float64", what="momentum")
    # static in the pytree: jit takes the schedule as it is, and computes as before
    traced = jax.jit(lambda s: s(jnp.asarray(t)))(schedule)
    assert_close(np.asarray(traced), reference, dtype="float32")
    if config.get("scale_fn") is None:
        assert lrfun.from_config(schedule.to_config()) == schedule


def test_momentum_bounds_whose_difference_overflows_are_refused() -> None:
    # torch's momentum is NaN from step 0 ((max - base) * scale overflows to inf).
    opt = _sgd()
    torch.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, 4, base_momentum=-1e308, max_momentum=1e308)
    assert math.isnan(opt.param_groups[0]["momentum"])
    with pytest.raises(ValueError, match="max_momentum - base_momentum must be finite"):
        lrfun.CyclicLR(0.01, 0.1, 4, base_momentum=-1e308, max_momentum=1e308)
    with pytest.raises(ValueError, match="base_momentum must be a finite number"):
        lrfun.OneCycleLR(0.1, total_steps=10, base_momentum=math.inf)


# -- MultiplicativeLR: a function is called only as torch calls it -----------------------------


def test_multiplicative_function_that_agrees_on_probes_is_not_taken_for_constant() -> None:
    def fn(e: Any) -> float:
        return 0.5 if np.isin(e, [30, 60]).any() else 1.0

    opt = _sgd()
    reference = _run(torch.optim.lr_scheduler.MultiplicativeLR(opt, fn), opt, 70)
    assert reference[30] == pytest.approx(0.05)
    ours = lrfun.MultiplicativeLR(0.1, fn)(np.arange(71))
    assert_close(ours, np.asarray(reference), dtype="float64")


def test_multiplicative_functions_get_python_ints_only() -> None:
    seen: list[type] = []

    def fn(e: Any) -> float:
        seen.append(type(e))
        return 0.9

    lrfun.MultiplicativeLR(0.1, fn)(np.arange(5))
    assert set(seen) == {int}


@given(st.one_of(st.just(1.0), st.floats(0.5, 1.002), st.floats(-1.0, -0.5)), st.integers(0, 300))
def test_multiplicative_constant_given_as_number_matches_torch(factor: float, steps: int) -> None:
    schedule = lrfun.MultiplicativeLR(0.1, factor)
    opt = _sgd()
    reference = _run(torch.optim.lr_scheduler.MultiplicativeLR(opt, lambda e: factor), opt, steps)
    assert_close(schedule(np.arange(steps + 1)), np.asarray(reference), dtype="float64")
    assert_close(torch_trajectory(schedule, steps).lr, np.asarray(reference), dtype="float64")
    assert lrfun.from_config(schedule.to_config()) == schedule
    # the closed form: under jit without a horizon
    traced = jax.jit(lambda t: schedule(t))(jnp.arange(steps + 1))
    assert_close(traced, np.asarray(reference), dtype="float32")


def test_multiplicative_constant_body_is_read_from_code_and_closures_are_not() -> None:
    gamma = 0.9
    assert lrfun.MultiplicativeLR(0.1, lambda e: 0.9)._constants == (0.9,)
    assert lrfun.MultiplicativeLR(0.1, lambda e: gamma)._constants == (None,)
    assert lrfun.MultiplicativeLR(0.1, [0.5, lambda e: e])._constants == (0.5, None)
    with pytest.raises(TypeError, match="lr_lambda must be callable or a number"):
        lrfun.MultiplicativeLR(0.1, "0.9")
    with pytest.raises(ValueError, match="lr_lambda must be a finite number"):
        lrfun.MultiplicativeLR(0.1, math.nan)


# -- CosineAnnealingLR with a float T_max ------------------------------------------------------

# T_max = p / q with small q: decimals (3.1, 1.2, 12.6), halves, thirds, quarters.
_fractions = st.tuples(st.integers(1, 400), st.sampled_from([2, 3, 4, 5, 8, 10, 20, 25])).filter(
    lambda pq: pq[0] % pq[1] != 0
)


@given(_fractions)
def test_float_t_max_refused_exactly_where_torch_divides_by_zero(pq: tuple[int, int]) -> None:
    T = pq[0] / pq[1]
    try:
        schedule = lrfun.CosineAnnealingLR(0.1, T)
    except ValueError as error:
        step = int(str(error).rsplit("step ", 1)[1])
        opt = _sgd()
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T)
        _run(scheduler, opt, step - 1)  # runs up to the step before
        with pytest.raises(ZeroDivisionError):
            _run(scheduler, opt, 1)
        return
    steps = min(int(8 * T) + 20, 2000)
    reference = torch_trajectory(schedule, steps)  # torch runs (no ZeroDivisionError)
    assert_close(schedule(np.arange(steps + 1)), reference, dtype="float64")


@pytest.mark.parametrize("T", [3.1, 2.7, 0.7, 5.25, 1000.3, 12.5])
def test_float_t_max_float32_keeps_tolerance_over_long_runs(T: float) -> None:
    schedule = lrfun.CosineAnnealingLR(0.1, T, eta_min=0.001)
    n = 20_000
    reference = torch_trajectory(schedule, n)
    ours = schedule(jnp.arange(n + 1, dtype=jnp.int32))
    assert ours.dtype == jnp.float32
    assert_close(np.asarray(ours), reference, dtype="float32")
    late = np.arange(2**31 - 2000, 2**31 - 1)
    exact = 0.001 + 0.099 * (1 + np.cos(np.pi * (late % (2 * T)) / T)) / 2
    assert_close(np.asarray(schedule(jnp.asarray(late, dtype=jnp.int32))), exact, dtype="float32")


# -- transformers' cosine_with_restarts in float32 past 2**24 steps ----------------------------


@pytest.mark.parametrize(("total", "cycles"), [(30_000_000, 1), (2**31 - 1, 1), (30_000_000, 3)])
def test_cosine_with_restarts_float32_past_2_24(total: int, cycles: int) -> None:
    fn = transformers.optimization._get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda
    schedule = lrfun.hf.get_scheduler(
        "cosine_with_restarts", 0.1, 0, total, {"num_cycles": cycles}
    )
    steps = np.concatenate([np.arange(200), np.arange(total - 200, total)])
    keywords = dict(num_warmup_steps=0, num_training_steps=total, num_cycles=cycles)
    reference = np.array([0.1 * fn(int(k), **keywords) for k in steps])
    ours = np.asarray(jax.jit(schedule)(jnp.asarray(steps, dtype=jnp.int32)))
    assert_close(ours, reference, dtype="float32")


# -- GreedyLR's raise under JAX x64 -------------------------------------------------------------


@given(st.floats(1e-4, 0.5), st.floats(0.5, 0.99))
def test_greedy_raise_is_transformers_lr_over_factor_under_jit_x64(lr: float, f: float) -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    live = transformers.optimization.GreedyLR(opt, factor=f, patience=0, max_lr=10.0)
    greedy = lrfun.hf.GreedyLR(lr, factor=f, patience=0, max_lr=10.0)
    with jax.enable_x64(True):
        state = greedy.init(jnp.zeros((), dtype=jnp.float64))
        update = jax.jit(greedy.update)
        for metric in (3.0, 2.0, 1.0):
            live.step(metric)
            state = update(state, jnp.asarray(metric))
            # bit for bit: a one-ulp raise can flip a later decision (a reset: 525x the lr)
            assert float(greedy.lr(state)) == opt.param_groups[0]["lr"]


# -- OneCycleLR's divisors are traceable leaves -------------------------------------------------


def test_one_cycle_divisors_trace_under_grad_jit_and_vmap() -> None:
    def lr(div: Any, final: Any) -> Any:
        return lrfun.OneCycleLR(0.1, total_steps=100, div_factor=div, final_div_factor=final)(99)

    grad = jax.grad(lr)(25.0, 1e4)
    assert float(grad) < 0  # a larger div_factor lowers the last lr
    swept = jax.jit(jax.vmap(lr))(jnp.asarray([10.0, 25.0]), jnp.asarray([1e3, 1e4]))
    for got, (div, final) in zip(np.asarray(swept), [(10.0, 1e3), (25.0, 1e4)], strict=True):
        opt = _sgd()
        live = torch.optim.lr_scheduler.OneCycleLR(
            opt, 0.1, total_steps=100, div_factor=div, final_div_factor=final
        )
        assert_close(np.asarray([got]), np.asarray(_run(live, opt, 99)[-1:]), dtype="float32")


# -- whole floats are their integers ------------------------------------------------------------

_whole = st.integers(1, 30).map(float)


@given(_whole, st.lists(st.integers(0, 40).map(float), max_size=5), st.data())
def test_whole_float_counts_run_as_their_integers(
    step: float, marks: list[float], data: Any
) -> None:
    for live, ours in [
        (
            lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=step, gamma=0.5),
            lrfun.StepLR(0.1, step_size=step, gamma=0.5),
        ),
        (
            lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=marks, gamma=0.5),
            lrfun.MultiStepLR(0.1, milestones=marks, gamma=0.5),
        ),
    ]:
        opt = _sgd()
        scheduler = live(opt)
        reference = _run(scheduler, opt, 50)
        assert_close(ours(np.arange(51)), np.asarray(reference), dtype="float64")
        assert lrfun.from_config(ours.to_config()) == ours
        assert lrfun.from_torch(scheduler) == ours
    milestone = data.draw(_whole)
    opt = _sgd()
    a = torch.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
    b = torch.optim.lr_scheduler.ExponentialLR(opt, 0.9)
    sequential = torch.optim.lr_scheduler.SequentialLR(opt, [a, b], milestones=[milestone])
    ours_seq = lrfun.SequentialLR(
        [lrfun.StepLR(0.1, 2, gamma=0.5), lrfun.ExponentialLR(0.1, 0.9)], milestones=[milestone]
    )
    assert lrfun.from_torch(sequential) == ours_seq
    assert_close(ours_seq(np.arange(41)), np.asarray(_run(sequential, opt, 40)), dtype="float64")
    assert lrfun.from_config(ours_seq.to_config()) == ours_seq


@given(st.integers(0, 20).map(float), st.integers(0, 60).map(float))
def test_transformers_whole_float_step_counts(warmup: float, total: float) -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    live = transformers.get_scheduler(
        "linear", opt, num_warmup_steps=warmup, num_training_steps=total
    )
    ours = lrfun.hf.get_scheduler("linear", 0.1, warmup, total)
    assert ours.num_warmup_steps == int(warmup) and type(ours.num_warmup_steps) is int
    reference = _run(live, opt, int(total) + 5)
    assert_close(ours(np.arange(int(total) + 6)), np.asarray(reference), dtype="float64")
    assert lrfun.from_torch(live) == ours
    assert lrfun.from_config(ours.to_config()) == ours


def test_fractional_floats_stay_refused() -> None:
    with pytest.raises(TypeError, match=r"step_size must be a positive integer, got 1\.5"):
        lrfun.StepLR(0.1, 1.5)
    with pytest.raises(TypeError, match=r"milestones must hold integers, got 4\.5"):
        lrfun.MultiStepLR(0.1, [3, 4.5])
