"""timm's schedulers as lrfun schedules (the ``timm.`` family), proven against timm's own
scheduler classes, run live on a torch optimizer.

Every class is drawn over its whole argument space (its ``_strategy``: warmup with and
without prefix, cycles, k-decay, per-group lrs and ``lr_scale``, noise of every kind) and
compared step by step with timm's ``step(t)`` / ``step_update(t)``: NumPy, JAX under
``jit`` (x64) and torch tensors in float64 (rtol 1e-12, atol 1e-12 x the largest lr), JAX in
float32 (rtol 1e-5, atol 1e-6 x the largest lr), and the schedule ``from_torch`` reads off
the live object.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lrfun
import lrfun.extend
import lrfun.timm
import parity
from lrfun._spec import load
from lrfun._timm_family import TIMM
from parity.strategies import configs

SCHEDULES = [n for n in lrfun.extend.names("timm.") if n != "timm.PlateauLRScheduler"]
STEPS = 150


def _optimizer(lrs: list[float]) -> torch.optim.Optimizer:
    params = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(params, lr=lrs[0])


def _live(schedule: Any) -> tuple[torch.optim.Optimizer, Any]:
    lrs = [float(v) for v in np.broadcast_to(schedule.base_lr, (schedule.groups or 1,))]
    opt = _optimizer(lrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # timm deprecates PlateauLRScheduler
        return opt, schedule._live(opt)


def _check(ours: Any, reference: Any, dtype: str) -> float:
    result = lrfun.compare(np.asarray(ours), reference, dtype=dtype)
    assert result.passed, result
    return float(result.max_fraction)


def test_float32_staircase_of_a_real_decay_t() -> None:
    """A real decay_t in float32: timm's 12 // 2.4 is 5 (the double 2.4 is a little below
    2.4), where float32's 2.4, a little above, would give 4; lrfun decides each step exactly."""
    s = lrfun.timm.StepLRScheduler(1.0, decay_t=2.4, decay_rate=0.9999)
    steps = np.concatenate([np.arange(400), 12 * np.arange(1, 20_000, 97), [2**24 - 1]])
    # timm's expression; one step of the staircase apart is 1e-4 off, 10x the tolerance
    expected = np.array([0.9999 ** (int(t) // 2.4) for t in steps])
    _check(s(torch.asarray(steps)), expected.astype(np.float32), "float32")
    _check(jax.jit(s)(jnp.asarray(steps)), expected.astype(np.float32), "float32")
    ref = parity.torch_trajectory(lrfun.timm.StepLRScheduler(1.0, 2.4, 0.5), 20)
    assert float(lrfun.timm.StepLRScheduler(1.0, 2.4, 0.5)(torch.arange(13))[12]) == ref.lr[12, 0]


def _traceable(config: dict[str, Any]) -> dict[str, Any]:
    """The config with a horizon where its noise has no end (traced steps read a table)."""
    if isinstance(config.get("noise_range_t"), (int, float)):
        return {**config, "horizon": STEPS}
    return config


@pytest.mark.parametrize("name", SCHEDULES)
def test_every_class_matches_timm(name: str) -> None:
    # each example compiles two JAX programs: a few per class keep the file within a minute
    @settings(deadline=None, max_examples=min(settings().max_examples, 8))
    @given(configs(name))
    def check(config: dict[str, Any]) -> None:
        schedule = lrfun.from_config(_traceable(config))
        ref = parity.torch_trajectory(schedule, STEPS)
        assert ref.reference == f"timm {TIMM.version()}"
        steps = np.arange(STEPS + 1)
        _check(schedule(steps), ref, "float64")
        _check(schedule(torch.arange(STEPS + 1, dtype=torch.float64)), ref, "float64")
        _check(schedule(torch.arange(STEPS + 1)), ref, "float32")
        with jax.enable_x64(True):
            _check(jax.jit(lambda s, k: s(k))(schedule, jnp.arange(STEPS + 1)), ref, "float64")
        _check(jax.jit(lambda s, k: s(k))(schedule, jnp.arange(STEPS + 1)), ref, "float32")
        # from the live object, where it stands after its steps
        _, live = _live(schedule)
        for t in range(7):
            (live.step if schedule.t_in_epochs else live.step_update)(t)
        read = lrfun.from_torch(live)
        assert read == dataclasses.replace(schedule, horizon=None)
        _check(read(steps), ref, "float64")

    check()


def test_noise_is_torchs_generator() -> None:
    """torch_noise against torch's generator, seed by seed: normal (rejection included:
    a small noise_pct resamples many times, past the first 624 outputs) and uniform."""
    seeds = [*range(-5, 400), 2**32 - 1, 2**32 + 3, 2**63 - 1, 2**64 - 1, -(2**63)]
    for kind, pct, std in [("normal", 0.67, 1.0), ("normal", 0.01, 1.0), ("uniform", 0.3, 1.0),
                           ("normal", 1.5, 2.0)]:  # fmt: skip
        ours = lrfun.timm.torch_noise(seeds, kind, pct, std)
        for seed, value in zip(seeds, ours.tolist(), strict=True):
            g = torch.Generator()
            g.manual_seed(seed)
            if kind == "normal":
                while True:
                    noise = torch.randn(1, generator=g).item() * std
                    if abs(noise) < pct:
                        break
            else:
                noise = 2 * (torch.rand(1, generator=g).item() - 0.5) * pct
            assert value == noise, (kind, seed)


def test_traced_noise_without_end_needs_horizon() -> None:
    s = lrfun.timm.CosineLRScheduler(0.1, 50, noise_range_t=10)
    with pytest.raises(TypeError, match="horizon"):
        jax.jit(s)(jnp.asarray(3))
    bounded = lrfun.timm.CosineLRScheduler(0.1, 50, noise_range_t=[10, 20])
    with jax.enable_x64(True):
        traced = np.asarray(jax.jit(bounded)(jnp.arange(40)))
    assert np.allclose(traced, bounded(np.arange(40)), rtol=1e-12, atol=0)
    far = lrfun.timm.CosineLRScheduler(0.1, 50, noise_range_t=10, horizon=30)
    assert np.isnan(np.asarray(jax.jit(far)(jnp.asarray(31))))


def test_cycle_mul_below_one_past_timms_domain() -> None:
    """cycle_mul < 1: timm's log has no value from t / t_initial >= 1 / (1 - cycle_mul) on
    (it raises); lrfun gives lr_min there, and timm's values before."""
    s = lrfun.timm.CosineLRScheduler(0.1, 10, cycle_mul=0.5, cycle_limit=100, lr_min=0.001)
    ref = parity.torch_trajectory(s, 19)
    _check(s(np.arange(20)), ref, "float64")
    _, live = _live(s)
    with pytest.raises(ValueError, match="math domain"):
        live.step(20)
    assert s(20) == 0.001


def test_cycle_boundaries_follow_timms_rounding() -> None:
    """timm's floor(log(...)) puts some cycle starts a step late: lrfun's boundaries are
    timm's (cycle_mul=3: 1 + 2 * 121 / 1 = 243, log(243, 3) = 4.999...)."""
    s = lrfun.timm.CosineLRScheduler(1.0, 1, cycle_mul=3.0, cycle_limit=8, warmup_t=0)
    ref = parity.torch_trajectory(s, 400)
    _check(s(np.arange(401)), ref, "float64")
    with jax.enable_x64(True):
        _check(jax.jit(s)(jnp.arange(401)), ref, "float64")


# -- create_scheduler_v2 --------------------------------------------------------------------


@st.composite
def _factory(draw: Any) -> dict[str, Any]:
    sched = draw(st.sampled_from(
        ["cosine", "tanh", "step", "multistep", "poly", "wsd", "rsqrt", "constant", "none"]
    ))  # fmt: skip
    kwargs: dict[str, Any] = {"sched": sched, "num_epochs": draw(st.integers(4, 40))}
    kwargs["warmup_epochs"] = draw(st.integers(0, 3))
    kwargs["warmup_prefix"] = draw(st.booleans())
    kwargs["cooldown_epochs"] = draw(st.integers(0, 3))
    kwargs["decay_epochs"] = draw(st.sampled_from([None, 0.3, 2, 2.4]))
    kwargs["decay_milestones"] = sorted(draw(st.lists(st.integers(1, 30), max_size=3)))
    kwargs["decay_rate"] = draw(st.sampled_from([0.1, 0.5, 0.97]))
    kwargs["min_lr"] = draw(st.sampled_from([0.0, 1e-5]))
    kwargs["cycle_mul"] = draw(st.sampled_from([1.0, 2.0]))
    kwargs["cycle_limit"] = draw(st.integers(1, 3))
    kwargs["cycle_decay"] = draw(st.sampled_from([0.1, 0.5]))
    kwargs["k_decay"] = draw(st.sampled_from([1.0, 0.5]))
    kwargs["noise"] = draw(st.sampled_from([None, 0.5, [0.2, 0.6], [0.4]]))
    kwargs["noise_seed"] = draw(st.integers(0, 100))
    kwargs["step_on_epochs"] = draw(st.booleans())
    kwargs["updates_per_epoch"] = draw(st.integers(1, 4))
    if sched == "wsd" and draw(st.booleans()):
        kwargs["decay_fn"] = draw(st.sampled_from(["linear", "cosine"]))
    return kwargs


@settings(deadline=None)
@given(_factory())
def test_create_scheduler_v2_matches_timm(kwargs: dict[str, Any]) -> None:
    timm_scheduler = lrfun.timm.timm_scheduler()
    opt = _optimizer([0.1])
    try:
        live, epochs = timm_scheduler.create_scheduler_v2(opt, **kwargs)
    except ValueError as e:
        with pytest.raises(ValueError, match=str(e)[:30].replace("(", r"\(")):
            lrfun.timm.create_scheduler_v2(0.1, **kwargs)
        return
    schedule, ours = lrfun.timm.create_scheduler_v2(0.1, **kwargs)
    assert ours == epochs
    if live is None:
        assert schedule is None
        return
    assert lrfun.from_torch(live) == schedule
    ref = parity.torch_trajectory(dataclasses.replace(schedule, horizon=None), 80)
    _check(schedule(np.arange(81)), ref, "float64")


def test_create_scheduler_v2_plateau() -> None:
    opt = _optimizer([0.1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        live, epochs = lrfun.timm.timm_scheduler().create_scheduler_v2(
            opt, "plateau", num_epochs=20, warmup_epochs=2, plateau_mode="min", noise=0.5
        )
    plateau, ours = lrfun.timm.create_scheduler_v2(
        0.1, "plateau", num_epochs=20, warmup_epochs=2, plateau_mode="min", noise=0.5
    )
    assert (ours, type(plateau).__name__) == (epochs, "PlateauLRScheduler")
    assert lrfun.from_torch(live) == plateau
    with pytest.raises(ValueError, match="step per epoch"):
        lrfun.timm.create_scheduler_v2(0.1, "plateau", step_on_epochs=False, updates_per_epoch=3)
    with pytest.raises(ValueError, match="updates_per_epoch"):
        lrfun.timm.create_scheduler_v2(0.1, "cosine", step_on_epochs=False)


# -- PlateauLRScheduler: the machine ------------------------------------------------------


@settings(deadline=None, max_examples=min(settings().max_examples, 6))
@given(configs("timm.PlateauLRScheduler"), st.integers(0, 2**32 - 1))
def test_plateau_matches_timm(config: dict[str, Any], seed: int) -> None:
    plateau = lrfun.from_config(_traceable(config))
    metrics = np.random.default_rng(seed).choice([1.0, 0.9, 0.5, 0.95], size=40).tolist()
    ref = parity.torch_trajectory(plateau, len(metrics), metrics=metrics)
    _check(plateau.trajectory(metrics), ref, "float64")
    _check(plateau.trajectory(torch.tensor(metrics, dtype=torch.float64)), ref, "float64")
    with jax.enable_x64(True):
        _check(jax.jit(plateau.trajectory)(jnp.asarray(metrics)), ref, "float64")
    # from the live object mid-run: the machine continues where it stands
    opt, live = _live(plateau)
    for epoch, metric in enumerate(metrics[:20], 1):
        live.step(epoch, metric)
    read = lrfun.from_torch(live)
    state = read.init()
    assert np.allclose(read.lr(state), [g["lr"] for g in opt.param_groups], rtol=1e-12)
    for epoch, metric in enumerate(metrics[20:], 21):
        live.step(epoch, metric)
        state = read.update(state, metric)
        held = [g["lr"] for g in opt.param_groups]
        assert np.allclose(np.reshape(read.lr(state), -1), held, rtol=1e-12, atol=1e-15)


# -- the arguments --------------------------------------------------------------------------

BAD = [
    (lrfun.timm.CosineLRScheduler, dict(base_lr=0.1, t_initial=0), ValueError, "t_initial"),
    (lrfun.timm.CosineLRScheduler, dict(base_lr=0.1, t_initial=10, lr_min=-1.0), ValueError,
     "lr_min"),
    (lrfun.timm.CosineLRScheduler, dict(base_lr=0.1, t_initial=10, cycle_mul=0.0), ValueError,
     "cycle_mul"),
    (lrfun.timm.CosineLRScheduler, dict(base_lr=0.1, t_initial=10, cycle_limit=-1), ValueError,
     "cycle_limit"),
    (lrfun.timm.CosineLRScheduler, dict(base_lr=0.1, t_initial=10, noise_range_t=[1]),
     ValueError, "noise_range_t"),
    (lrfun.timm.CosineLRScheduler, dict(base_lr=0.1, t_initial=10, noise_range_t=0,
     noise_pct=0.0), ValueError, "noise_pct"),
    (lrfun.timm.CosineLRScheduler, dict(base_lr=0.1, t_initial=10, noise_seed=2**64),
     ValueError, "noise_seed"),
    (lrfun.timm.TanhLRScheduler, dict(base_lr=0.1, t_initial=10, lb=3.0, ub=3.0), ValueError,
     "lb"),
    (lrfun.timm.StepLRScheduler, dict(base_lr=0.1, decay_t=0), ValueError, "decay_t"),
    (lrfun.timm.StepLRScheduler, dict(base_lr=0.1, decay_t=2, decay_rate=-0.5), ValueError,
     "decay_rate"),
    (lrfun.timm.MultiStepLRScheduler, dict(base_lr=0.1, decay_t=[5, 3]), ValueError, "decay_t"),
    (lrfun.timm.WSDLRScheduler, dict(base_lr=0.1, t_initial=10, decay_t=11), ValueError,
     "decay_t"),
    (lrfun.timm.WSDLRScheduler, dict(base_lr=0.1, t_initial=10, decay_t=2, stable_fn="rsqrt"),
     ValueError, "stable_timescale"),
    (lrfun.timm.WSDLRScheduler, dict(base_lr=0.1, t_initial=10, decay_t=2, decay_fn=abs),
     TypeError, "decay_fn"),
    (lrfun.timm.WSDLRScheduler, dict(base_lr=0.1, t_initial=10, decay_t=2, decay_ratio=1.0),
     ValueError, "decay_ratio"),
    (lrfun.timm.PlateauLRScheduler, dict(base_lr=0.1, mode="up"), ValueError, "mode"),
    (lrfun.timm.PlateauLRScheduler, dict(base_lr=0.1, noise_type="pink"), ValueError,
     "noise_type"),
    (lrfun.timm.PlateauLRScheduler, dict(base_lr=0.1, decay_rate=1.0), ValueError, "decay_rate"),
]  # fmt: skip


@pytest.mark.parametrize(("cls", "kwargs", "error", "word"), BAD)
def test_bad_arguments_are_named(cls: type, kwargs: dict[str, Any], error: type, word: str) -> None:
    with pytest.raises(error, match=word):
        cls(**kwargs)


def test_configs_round_trip_and_import_is_light() -> None:
    for name in lrfun.extend.names("timm."):
        spec, _ = lrfun.extend.registered(name)._gallery or (None, 0)  # type: ignore[union-attr]
        if spec is None:
            continue
        s = load(spec)
        assert lrfun.from_config(s.to_config()) == s
    s = lrfun.timm.CosineLRScheduler(0.1, 10, noise_range_t=[2, 5], lr_scale=[0.5, 1.0])
    assert lrfun.from_config(s.to_config()) == s
    assert math.isclose(s(3)[0] * 2, s(3)[1])


def _plateau(**kwargs: Any) -> tuple[Any, Any]:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return opt, lrfun.timm.timm_scheduler().PlateauLRScheduler(opt, **kwargs)


def test_from_torch_refuses_what_timm_keeps_no_record_of() -> None:
    """States no lrfun schedule describes are refused, named (never a guessed epoch)."""
    timm = lrfun.timm.timm_scheduler()
    # an lr written before the first metric: the plateau continues from it, as torch's
    opt, live = _plateau(patience_t=0)
    opt.param_groups[0]["lr"] = 0.05
    machine = lrfun.from_torch(live)
    state = machine.init()
    for epoch in (1, 2):
        live.step(epoch, 1.0)
        state = machine.update(state, 1.0)
        assert math.isclose(float(machine.lr(state)), opt.param_groups[0]["lr"], rel_tol=1e-12)
    # an lr written by hand mid-warmup, or a flat warmup: no one epoch
    opt, live = _plateau(warmup_t=3, warmup_lr_init=0.01)
    live.step(1)
    opt.param_groups[0]["lr"] = 0.05
    with pytest.raises(ValueError, match="no warmup epoch gives"):
        lrfun.from_torch(live)
    opt, live = _plateau(warmup_t=3, warmup_lr_init=0.1)
    live.step(1)
    with pytest.raises(ValueError, match=r"warmup epochs \[0, 1, 2, 3\] all give"):
        lrfun.from_torch(live)
    # a noised lr after a state load (timm saves no lr from before the noise)
    opt, live = _plateau(noise_range_t=0, noise_pct=0.5, noise_seed=1, patience_t=0)
    for epoch in range(1, 5):
        live.step(epoch, 1.0)
    opt2, loaded = _plateau(noise_range_t=0, noise_pct=0.5, noise_seed=1, patience_t=0)
    opt2.load_state_dict(opt.state_dict())
    loaded.load_state_dict(live.state_dict())
    with pytest.raises(ValueError, match="noised lr"):
        lrfun.from_torch(loaded)
    assert math.isclose(float(lrfun.from_torch(live).lr(lrfun.from_torch(live).init())),
                        opt.param_groups[0]["lr"], rel_tol=1e-12)
    # a group added after construction (timm never writes it); base values changed since
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    cosine = timm.CosineLRScheduler(opt, t_initial=10, warmup_t=2)
    opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5})
    with pytest.raises(ValueError, match="2 param groups: it was built with 1"):
        lrfun.from_torch(cosine)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    cosine = timm.CosineLRScheduler(opt, t_initial=10, warmup_t=2)
    cosine.base_values = [0.2]
    with pytest.raises(ValueError, match="changed after construction"):
        lrfun.from_torch(cosine)
