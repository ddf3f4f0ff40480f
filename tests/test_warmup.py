"""A warmup in front of any schedule (``lrfun.Warmup``) or plateau (``lrfun.WarmupPlateau``),
and ``lrfun.join``: checked against the wrapped schedule's own live reference, against
torch's spellings of the same warmup (``SequentialLR`` / ``ChainedScheduler`` of a
``LinearLR``) where they coincide, and against torch's ``ReduceLROnPlateau`` run live.
"""

from __future__ import annotations

import json
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import lrfun
import lrfun.torch
import parity
from lrfun._spec import parse, to_spec
from lrfun._warmup import SHAPES, LiveWarmupPlateau, ramp
from parity.strategies import configs

# The heaviest properties run live references of several frameworks per example: a third of
# the profile's examples (the thorough profile still explores).
FEWER = settings(max_examples=max(4, settings().max_examples // 3))

# torch's schedulers whose step-0 lr is their base lr, and which multiply the lr by a factor
# of their own epoch (torch's ChainedScheduler of such schedulers is a product)
FACTOR = ["StepLR", "MultiStepLR", "ExponentialLR"]
FROM_BASE = [*FACTOR, "CosineAnnealingLR", "PolynomialLR"]


def _ks(n: int) -> np.ndarray:
    return np.arange(n + 1)


@FEWER
@given(configs("lrfun.Warmup"))
def test_warmup_matches_its_reference_on_every_backend(config: dict[str, Any]) -> None:
    s = lrfun.from_config(config)
    n = s.warmup_steps + 40
    ref = parity.torch_trajectory(config, n)
    scale = s._lr_scale()
    ks = _ks(n)
    parity.assert_close(s(ks), ref, dtype="float64", scale=scale)
    jitted = jax.jit(lambda s, k: s(k))(s, jnp.asarray(ks, dtype=jnp.int32))
    parity.assert_close(jitted, ref, dtype="float32", scale=scale)
    parity.assert_close(s(torch.arange(n + 1)), ref, dtype="float32", scale=scale)
    # JSON configs and specs round-trip
    assert lrfun.from_config(json.loads(json.dumps(s.to_config()))) == s
    assert parse(to_spec(s)) == s


def _linear_lr(start: float, w: int) -> dict[str, Any]:
    return {"name": "LinearLR", "start_factor": start, "end_factor": 1.0, "total_iters": w}


@given(
    st.sampled_from(FROM_BASE).flatmap(lambda name: configs(name, groups=1)),
    st.integers(1, 40),
    st.one_of(st.sampled_from([1.0, 0.1, 1e-3]), st.floats(1e-3, 1.0)),
)
def test_prefix_is_torchs_sequential_lr_of_a_linear_lr(
    child: dict[str, Any], w: int, start: float
) -> None:
    """``Warmup(X, w, start_factor=s, mode="prefix")`` is torch's ``SequentialLR([LinearLR(
    opt, s, total_iters=w), X], milestones=[w])``, run live, where X starts at its base lr."""
    base = child["base_lr"]
    assume(lrfun.from_config(child)(0) == base)  # (a milestone at 0 starts below it)
    sequential = {
        "name": "SequentialLR",
        "schedulers": [{**_linear_lr(start, w), "base_lr": base}, child],
        "milestones": [w],
    }
    n = w + 60
    ref = parity.torch_trajectory(sequential, n)
    ours = lrfun.Warmup(lrfun.from_config(child), w, start_factor=start, mode="prefix")
    parity.assert_close(ours(_ks(n)), ref, dtype="float64", scale=base)


@given(
    st.sampled_from(FACTOR).flatmap(lambda name: configs(name, groups=1)),
    st.integers(1, 40),
    st.one_of(st.sampled_from([1.0, 0.1, 1e-3]), st.floats(1e-3, 1.0)),
)
def test_multiply_is_torchs_chained_scheduler_of_a_linear_lr(
    child: dict[str, Any], w: int, start: float
) -> None:
    """``Warmup(X, w, start_factor=s)`` is torch's ``ChainedScheduler([LinearLR(opt, s,
    total_iters=w), X])``, run live, for X that multiply by a factor of their epoch."""
    base = child["base_lr"]
    chained = {
        "name": "ChainedScheduler",
        "schedulers": [{**_linear_lr(start, w), "base_lr": base}, child],
    }
    n = w + 60
    ref = parity.torch_trajectory(chained, n)
    ours = lrfun.Warmup(lrfun.from_config(child), w, start_factor=start)
    parity.assert_close(ours(_ks(n)), ref, dtype="float64", scale=base)


def test_where_torchs_sequential_lr_differs_measured() -> None:
    """torch's SequentialLR warms up to the optimizer's lr and restarts the next scheduler at
    its step 0: where that step-0 lr is not the base lr (a LinearLR that starts at half), the
    prefix warmup (which warms to the schedule's own step-0 lr) differs, by exactly that
    jump; a multiplied warmup differs from it after the warmup by the shift of w steps."""
    w, n = 5, 30
    child = {"name": "LinearLR", "base_lr": 1.0, "start_factor": 0.5, "total_iters": 10}
    sequential = {
        "name": "SequentialLR",
        "schedulers": [{**_linear_lr(0.1, w), "base_lr": 1.0}, child],
        "milestones": [w],
    }
    torch_lrs = parity.torch_trajectory(sequential, n).lr[:, 0]
    prefix = lrfun.Warmup(lrfun.from_config(child), w, start_factor=0.1, mode="prefix")(_ks(n))
    np.testing.assert_allclose(prefix[w:], torch_lrs[w:], rtol=1e-12)  # after: the same
    np.testing.assert_allclose(prefix[:w], 0.5 * torch_lrs[:w], rtol=1e-12)  # up to X(0) = 0.5
    multiply = lrfun.Warmup(lrfun.from_config(child), w, start_factor=0.1)(_ks(n))
    assert not np.allclose(multiply[w:], torch_lrs[w:])


@pytest.mark.parametrize("shape", SHAPES)
def test_ramp_ends_and_shape(shape: str) -> None:
    inner = lrfun.ConstantLR(2.0, factor=1.0, total_iters=0)
    for start in (0.0, 0.25, 1.0):
        s = lrfun.Warmup(inner, 8, shape=shape, start_factor=start)
        values = s(np.arange(12)) / 2.0
        assert values[0] == pytest.approx(start, abs=1e-15)
        assert np.all(values[8:] == 1.0)
        assert np.all(np.diff(values) >= -1e-15)
        expected = [ramp(k / 8, shape, start) for k in range(8)]
        np.testing.assert_allclose(values[:8], expected, rtol=1e-12, atol=1e-15)
        # float32, jitted: no cancellation near the start
        jitted = jax.jit(lambda s, k: s(k))(s, jnp.arange(12)) / 2.0
        np.testing.assert_allclose(jitted[:8], expected, rtol=1e-6, atol=1e-7)
    assert ramp(0.5, "exponential", 0.0) == pytest.approx(math.sqrt(2) - 1)


def test_per_group_schedules_warm_up_each_group() -> None:
    inner = lrfun.StepLR([0.1, 0.4], step_size=10, gamma=0.5)
    s = lrfun.Warmup(inner, 4, shape="cosine", start_factor=0.1)
    assert s.groups == 2
    ks = np.arange(30)
    factor = np.array([ramp(min(k, 4) / 4, "cosine", 0.1) for k in ks])[:, None]
    np.testing.assert_allclose(s(ks), factor * inner(ks), rtol=1e-12)
    prefix = lrfun.Warmup(inner, 4, mode="prefix")
    np.testing.assert_allclose(prefix(ks)[4:], inner(ks[:-4]), rtol=1e-12)


def test_warmup_of_zero_steps_is_the_schedule() -> None:
    inner = lrfun.CosineAnnealingLR(0.1, T_max=50)
    ks = np.arange(60)
    assert np.array_equal(lrfun.Warmup(inner, 0)(ks), inner(ks))
    assert np.array_equal(lrfun.Warmup(inner, 0, mode="prefix")(ks), inner(ks))


def test_jit_vmap_and_far_steps() -> None:
    inner = lrfun.ExponentialLR(1.0, gamma=0.999)
    s = lrfun.Warmup(inner, 100, shape="1-sqrt", start_factor=0.01)
    starts = jnp.asarray([0.0, 0.1, 0.5])

    def at(start: Any) -> Any:
        return lrfun.Warmup(inner, 100, shape="1-sqrt", start_factor=start)(jnp.arange(200))

    swept = jax.vmap(at)(starts)
    for i, start in enumerate([0.0, 0.1, 0.5]):
        one = lrfun.Warmup(inner, 100, shape="1-sqrt", start_factor=start)(np.arange(200))
        np.testing.assert_allclose(swept[i], one, rtol=1e-5, atol=1e-7)
    far = np.array([10**6, 2**31 - 1, 2**40])
    np.testing.assert_allclose(s(far), inner(far), rtol=1e-12)
    prefix = lrfun.Warmup(inner, 100, mode="prefix")
    np.testing.assert_allclose(prefix(far), inner(far - 100), rtol=1e-12)


@pytest.mark.parametrize("mode", ["multiply", "prefix"])
def test_inside_torch_compile(mode: str) -> None:
    s = lrfun.Warmup(lrfun.StepLR([0.1, 0.2], 30), 10, shape="exponential", mode=mode)
    compiled = torch.compile(lambda k: s(k), fullgraph=True)
    ks = torch.arange(200)
    np.testing.assert_allclose(compiled(ks).numpy(), s(np.arange(200)), rtol=1e-6, atol=1e-8)


def test_both_adapters_drive_a_warmup() -> None:
    import optax

    import lrfun.optax

    s = lrfun.Warmup(lrfun.CosineAnnealingLR([0.1, 0.2], T_max=40), 10, shape="cosine")
    params = [torch.zeros(1, requires_grad=True) for _ in range(2)]
    opt = torch.optim.SGD([{"params": [p], "lr": 0.1} for p in params], lr=0.1)
    sched = lrfun.torch.Scheduler(opt, s)
    for k in range(1, 50):
        opt.step()
        sched.step()
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups], s(k), rtol=1e-12)
    one = lrfun.Warmup(lrfun.CosineAnnealingLR(0.1, T_max=40), 10)
    tx = lrfun.optax.inject(optax.sgd, one)
    state = tx.init(jnp.zeros(2))
    grads = jnp.ones(2)
    for _ in range(3):
        _, state = tx.update(grads, state)
    # the lr the third update used: the schedule's at step 2
    assert float(state.hyperparams["learning_rate"]) == pytest.approx(one(2), rel=1e-6)


BAD = [
    (dict(warmup_steps=-1), ValueError, "warmup_steps"),
    (dict(warmup_steps=2.5), TypeError, "warmup_steps"),
    (dict(warmup_steps=5, shape="exp"), ValueError, "shape"),
    (dict(warmup_steps=5, start_factor=1.5), ValueError, "start_factor"),
    (dict(warmup_steps=5, start_factor=float("nan")), ValueError, "start_factor"),
    (dict(warmup_steps=5, mode="append"), ValueError, "mode"),
]


@pytest.mark.parametrize(("arguments", "error", "name"), BAD)
def test_bad_warmups_are_refused_by_name(arguments: dict[str, Any], error: type, name: str) -> None:
    with pytest.raises(error, match=name):
        lrfun.Warmup(lrfun.StepLR(0.1, 10), **arguments)


def test_a_warmup_takes_schedules_only() -> None:
    with pytest.raises(TypeError, match="WarmupPlateau"):
        lrfun.Warmup(lrfun.ReduceLROnPlateau(0.1), 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="schedule must be"):
        lrfun.Warmup(0.1, 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="plateau must be"):
        lrfun.WarmupPlateau(lrfun.StepLR(0.1, 10), 5)  # type: ignore[arg-type]
    stepped = lrfun.ReduceLROnPlateau(0.1, num_bad_epochs=2)
    with pytest.raises(ValueError, match="num_bad_epochs"):
        lrfun.WarmupPlateau(stepped, 5)


# -- in front of ReduceLROnPlateau ---------------------------------------------------------


def _metrics(n: int) -> Any:
    values = st.sampled_from([1.0, 0.5, 2.0, 0.25, 1.5, float("nan")])
    return st.lists(values, min_size=n, max_size=n)


@given(configs("lrfun.WarmupPlateau"), st.data())
def test_warmup_plateau_matches_torch_live(config: dict[str, Any], data: st.DataObject) -> None:
    m = lrfun.from_config(config)
    n = m.warmup_steps + 30
    metrics = data.draw(_metrics(n))
    ref = parity.torch_trajectory(config, n, metrics=metrics)
    ours = m.trajectory(metrics)
    parity.assert_close(ours, ref, dtype="float64", scale=m._lr_scale())
    # after the warmup: torch's own ReduceLROnPlateau, built then, fed the later metrics
    plateau = parity.torch_trajectory(
        m.plateau, n - m.warmup_steps, metrics=metrics[m.warmup_steps :]
    )
    parity.assert_close(ours[m.warmup_steps :], plateau, dtype="float64", scale=m._lr_scale())
    # JAX: one lax.scan, float32 (the strategy's values are float32's own)
    scanned = m.trajectory(jnp.asarray(metrics, dtype=jnp.float32))
    parity.assert_close(scanned, ref, dtype="float32", scale=m._lr_scale())
    # the torch adapter drives it
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = lrfun.torch.PlateauScheduler(opt, m)
    driven = [opt.param_groups[0]["lr"]]
    for metric in metrics:
        opt.step()
        sched.step(metric)
        driven.append(opt.param_groups[0]["lr"])
    parity.assert_close(np.asarray(driven), ref, dtype="float64", scale=m._lr_scale())
    # configs round-trip; from_torch reads the live reference before its first step
    assert lrfun.from_config(json.loads(json.dumps(m.to_config()))) == m
    assert parse(to_spec(m)) == m


@FEWER
@given(configs("lrfun.WarmupPlateau"), st.data())
def test_the_parity_report_checks_a_warmup_plateau(
    config: dict[str, Any], data: st.DataObject
) -> None:
    from parity.report import check_plateau

    metrics = data.draw(_metrics(config["warmup_steps"] + 20))
    for tensor_lr in (False, True):
        rows = check_plateau(config, metrics, tensor_lr=tensor_lr)
        assert rows and all(row.passed for row in rows), [r.detail for r in rows]


def test_plateau_scheduler_state_dict_round_trip() -> None:
    m = lrfun.WarmupPlateau(lrfun.ReduceLROnPlateau(1.0, patience=0), 3, shape="cosine")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = lrfun.torch.PlateauScheduler(opt, m)
    for metric in [3.0, 2.0]:
        opt.step()
        sched.step(metric)
    saved = sched.state_dict()
    opt2 = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    again = lrfun.torch.PlateauScheduler(opt2, m)
    again.load_state_dict(saved)
    for metric in [2.0, 2.0, 2.0, 2.0]:
        opt.step()
        sched.step(metric)
        opt2.step()
        again.step(metric)
        assert opt.param_groups[0]["lr"] == opt2.param_groups[0]["lr"]
    assert sched.mode == "min" and sched.patience == 0
    # three metrics ignored, then 2.0 improves and each later 2.0 is a cut
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)


def test_from_torch_reads_the_live_warmup_plateau() -> None:
    m = lrfun.WarmupPlateau(
        lrfun.ReduceLROnPlateau([0.1, 0.2], factor=0.5, min_lr=[0.0, 0.0]), 4, start_factor=0.1
    )
    opt = torch.optim.SGD(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": v} for v in (0.1, 0.2)]
    )
    live = LiveWarmupPlateau(opt, m.plateau, 4, "linear", 0.1)
    assert lrfun.from_torch(live) == m
    live.step(1.0)
    with pytest.raises(ValueError, match="already stepped"):
        lrfun.from_torch(live)


def test_warmup_plateau_of_zero_steps_is_the_plateau() -> None:
    p = lrfun.ReduceLROnPlateau(0.5, patience=1)
    metrics = [3.0, 3.0, 3.0, 1.0, 1.0, 1.0]
    assert np.array_equal(lrfun.WarmupPlateau(p, 0).trajectory(metrics), p.trajectory(metrics))


def test_optax_adapter_drives_a_warmup_plateau() -> None:
    import lrfun.optax

    m = lrfun.WarmupPlateau(lrfun.ReduceLROnPlateau(1.0, patience=0), 2)
    tx = lrfun.optax.reduce_on_plateau(m)
    state = tx.init(jnp.zeros(1))
    scales = []
    for loss in [5.0, 4.0, 3.0, 3.0, 3.0]:
        updates, state = tx.update(jnp.ones(1), state, value=loss)
        scales.append(float(updates[0]))
    # the updates are scaled by the lr before each metric: the ramp, then the plateau's
    np.testing.assert_allclose(scales, m.trajectory([5.0, 4.0, 3.0, 3.0])[:5], rtol=1e-6)


# -- join -----------------------------------------------------------------------------------


def test_join_is_optaxs_join_schedules() -> None:
    warm = lrfun.LinearLR(1.0, start_factor=0.01, total_iters=10)
    decay = lrfun.CosineAnnealingLR(1.0, T_max=90)
    s = lrfun.join([warm, decay], [10])
    assert type(s) is lrfun.optax.JoinSchedules
    ks = np.arange(120)
    np.testing.assert_array_equal(s(ks), np.where(ks < 10, warm(ks), decay(np.maximum(ks - 10, 0))))
    assert lrfun.from_config(json.loads(json.dumps(s.to_config()))) == s
    with pytest.raises(ValueError, match="boundaries"):
        lrfun.join([warm, decay], [])
