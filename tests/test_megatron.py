"""Megatron-LM's ``OptimizerParamScheduler`` (the ``megatron.`` family), proven against
megatron-core run live: its object on a torch optimizer, stepped with ``step(1)``.

Every configuration the strategies draw (every decay style, every WSD shape, per-group
``max_lr``/``min_lr``, warmups from ``init_lr``, edges) is compared at every step in float64
(NumPy, Python numbers, JAX x64, torch float64: rtol 1e-12, atol 1e-12 x the largest lr) and
float32 (JAX under jit, torch float32: rtol 1e-5, atol 1e-6 x the largest lr); live objects,
stepped or not, are read back with ``lrfun.from_torch`` and followed step by step.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lrfun
import lrfun.megatron as mg
import lrfun.torch
import parity
from lrfun._spec import parse, to_spec
from parity.strategies import configs

with warnings.catch_warnings():
    # megatron-core warns at import that Transformer Engine and Apex are missing
    warnings.simplefilter("ignore")
    from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler as Live

LR = "megatron.OptimizerParamScheduler"
WD = "megatron.WeightDecay"


def _optimizer(overrides: list[dict[str, Any]]) -> torch.optim.Optimizer:
    groups = [{"params": [torch.zeros(1, requires_grad=True)], **o} for o in overrides]
    return torch.optim.SGD(groups, lr=1.0)


def _live_from(s: mg.OptimizerParamScheduler, overrides: list[dict[str, Any]]) -> Any:
    """megatron-core's object with ``s``'s class values, built here (not by the reference)."""
    return Live(
        _optimizer(overrides),
        init_lr=s.init_lr,
        max_lr=s.max_lr,
        min_lr=s.min_lr,
        lr_warmup_steps=s.lr_warmup_steps,
        lr_decay_steps=s.lr_decay_steps,
        lr_decay_style=s.lr_decay_style,
        start_wd=s.start_wd,
        end_wd=s.end_wd,
        wd_incr_steps=s.weight_decay.wd_incr_steps,
        wd_incr_style=s.wd_incr_style,
        wsd_decay_steps=s.wsd_decay_steps,
        lr_wsd_decay_style=s.lr_wsd_decay_style,
    )


def _lrs(live: Any) -> list[float]:
    return [float(g["lr"]) for g in live.optimizer.param_groups]


@given(configs(LR))
def test_lr_matches_megatron_core_at_every_step(config: dict[str, Any]) -> None:
    s = lrfun.from_config(config)
    n = s.lr_decay_steps + 5  # the warmup, the decay, its end and past it
    ref = parity.torch_trajectory(config, n)
    assert ref.reference.startswith("megatron-core ")
    ks = np.arange(n + 1)
    scale = s._lr_scale()
    parity.assert_close(s(ks), ref, dtype="float64", scale=scale)
    parity.assert_close(np.array([s(int(k)) for k in ks]), ref, dtype="float64", scale=scale)
    with jax.enable_x64(True):
        parity.assert_close(jax.jit(lambda s, k: s(k))(s, jnp.asarray(ks)), ref, dtype="float64")
    jitted = jax.jit(lambda s, k: s(k))(s, jnp.asarray(ks, dtype=jnp.int32))
    assert jitted.dtype == jnp.float32
    parity.assert_close(jitted, ref, dtype="float32", scale=scale)
    parity.assert_close(s(torch.arange(n + 1)), ref, dtype="float32", scale=scale)
    steps64 = torch.arange(n + 1, dtype=torch.float64)
    parity.assert_close(s(steps64), ref, dtype="float64", scale=scale)


@given(configs(WD))
def test_weight_decay_matches_megatron_core_at_every_step(config: dict[str, Any]) -> None:
    wd = lrfun.from_config(config)
    n = wd.wd_incr_steps + 5
    ref = parity.torch_trajectory(config, n)
    ks = np.arange(n + 1)
    parity.assert_close(wd(ks), ref, dtype="float64", scale=wd._lr_scale())
    jitted = jax.jit(lambda s, k: s(k))(wd, jnp.asarray(ks, dtype=jnp.int32))
    parity.assert_close(jitted, ref, dtype="float32", scale=wd._lr_scale())


@given(
    configs(LR),
    st.integers(0, 450),
    st.lists(
        st.sampled_from([{}, {"lr_mult": 0.5}, {"max_lr": 0.05, "min_lr": 0.01}]),
        min_size=1,
        max_size=3,
    ),
)
def test_from_torch_reads_a_live_object_wherever_it_stands(
    config: dict[str, Any], stepped: int, overrides: list[dict[str, Any]]
) -> None:
    drawn = lrfun.from_config(config)
    if drawn.groups is not None:  # class values: the first group's (the rest: overrides)
        drawn = lrfun.from_config(
            {
                **config,
                "max_lr": max(config["max_lr"]),
                "min_lr": min(min(config["min_lr"]), max(config["max_lr"])),
            }
        )
    live = _live_from(drawn, overrides)
    live.step(stepped)
    s = lrfun.from_torch(live)
    assert isinstance(s, mg.OptimizerParamScheduler)
    assert (s.groups or 1) == len(overrides)
    # Megatron is at schedule(num_steps) and continues along it
    for k in range(stepped, stepped + 30):
        expected = np.broadcast_to(s(k), (len(overrides),))
        parity.assert_close(expected[None], np.array([_lrs(live)]), dtype="float64")
        live.step(1)
    # a far jump: Megatron's step(increment)
    live.step(10**9)
    far = np.broadcast_to(s(stepped + 30 + 10**9), (len(overrides),))
    parity.assert_close(far[None], np.array([_lrs(live)]), dtype="float64")


def test_lr_mult_does_not_change_megatrons_lr() -> None:
    # megatron-core 0.16's scheduler never reads a group's lr_mult: measured, not assumed
    live = Live(
        _optimizer([{}, {"lr_mult": 0.1}]), 0.0, 1.0, 0.0, 2, 10, "cosine", 0.0, 0.0, 10, "constant"
    )
    live.step(5)
    assert _lrs(live)[0] == _lrs(live)[1]
    assert lrfun.from_torch(live).groups == 2


def test_weight_decay_of_a_live_object() -> None:
    live = Live(
        _optimizer([{}, {"wd_mult": 0.5}, {"start_wd": 0.2, "end_wd": 0.4}]),
        0.0,
        1.0,
        0.0,
        0,
        10,
        "linear",
        0.01,
        0.1,
        20,
        "cosine",
    )
    wd = mg.weight_decay_of(live)
    assert wd.groups == 3
    for k in range(25):
        got = [float(g["weight_decay"]) for g in live.optimizer.param_groups]
        parity.assert_close(np.asarray(wd(k))[None], np.array([got]), dtype="float64")
        live.step(1)
    with pytest.raises(TypeError, match="megatron-core's OptimizerParamScheduler"):
        mg.weight_decay_of(object())


def test_the_weight_decay_property_is_every_groups() -> None:
    s = mg.OptimizerParamScheduler(1.0, 100, start_wd=0.0, end_wd=0.1, wd_incr_style="linear")
    assert s.wd_incr_steps is None  # lr_decay_steps, as Megatron's training sets it
    assert s.weight_decay == mg.WeightDecay(0.0, 0.1, 100, "linear")
    assert s.weight_decay(50) == 0.05


@pytest.mark.parametrize("style", mg.DECAY_STYLES)
@pytest.mark.parametrize("decay_steps", [10**6, 2**40])
def test_long_runs_at_sampled_steps(style: str, decay_steps: int) -> None:
    """Megatron's ``step(increment)`` jumps to far steps: the same ``get_lr``."""
    d = decay_steps
    for wsd_style in mg.WSD_DECAY_STYLES if style == "WSD" else ("exponential",):
        s = mg.OptimizerParamScheduler(
            3e-4,
            d,
            style,
            min_lr=3e-5,
            init_lr=1e-7,
            lr_warmup_steps=d // 100,
            wsd_decay_steps=d // 5,
            lr_wsd_decay_style=wsd_style,
        )
        ks = np.unique(
            np.concatenate(
                [
                    np.linspace(0, d + 10, 200).astype(np.int64),
                    [d // 100, d // 100 + 1, d - d // 5, d - d // 5 + 1, d - 1, d, d + 1],
                ]
            )
        )
        live = _live_from(s, [{}])
        ref, previous = [], 0
        for k in ks.tolist():
            live.step(k - previous)
            previous = k
            ref.append(_lrs(live)[0])
        parity.assert_close(s(ks), np.asarray(ref), dtype="float64", scale=3e-4)
        parity.assert_close(s(torch.as_tensor(ks)), np.asarray(ref), dtype="float32", scale=3e-4)
        if d < 2**31:
            jitted = jax.jit(lambda s, k: s(k))(s, jnp.asarray(ks, dtype=jnp.int32))
            parity.assert_close(jitted, np.asarray(ref), dtype="float32", scale=3e-4)


# -- what lrfun refuses, named (Megatron's behaviour measured beside it) --------------------

BAD = [
    (dict(max_lr=-1.0, lr_decay_steps=10), ValueError, "max_lr"),
    (dict(max_lr=1.0, lr_decay_steps=0), ValueError, "lr_decay_steps"),
    (dict(max_lr=1.0, lr_decay_steps=1.5), TypeError, "lr_decay_steps"),
    (dict(max_lr=1.0, lr_decay_steps=10, lr_warmup_steps=10), ValueError, "lr_warmup_steps"),
    (dict(max_lr=1.0, lr_decay_steps=10, lr_warmup_steps=-1), ValueError, "lr_warmup_steps"),
    (dict(max_lr=1.0, lr_decay_steps=10, lr_decay_style="poly"), ValueError, "lr_decay_style"),
    (dict(max_lr=1.0, lr_decay_steps=10, lr_decay_style="WSD"), ValueError, "wsd_decay_steps"),
    (dict(max_lr=1.0, lr_decay_steps=10, wsd_decay_steps=-1), ValueError, "wsd_decay_steps"),
    (
        dict(max_lr=1.0, lr_decay_steps=10, lr_wsd_decay_style=None),
        ValueError,
        "lr_wsd_decay_style",
    ),
    (dict(max_lr=1.0, lr_decay_steps=10, min_lr=-2.0), ValueError, "min_lr"),
    (dict(max_lr=1.0, lr_decay_steps=10, init_lr=-0.1), ValueError, "init_lr"),
    (dict(max_lr=[1.0, 2.0], lr_decay_steps=10, min_lr=[0.0, 0.0, 0.0]), ValueError, "min_lr"),
    (dict(max_lr=1.0, lr_decay_steps=10, start_wd=0.1, end_wd=0.2), ValueError, "end_wd"),
    (dict(max_lr=1.0, lr_decay_steps=10, wd_incr_style="exp"), ValueError, "wd_incr_style"),
    (
        dict(max_lr=1.0, lr_decay_steps=10, wd_incr_style="linear", wd_incr_steps=0),
        ValueError,
        "wd_incr_steps",
    ),
    (
        dict(max_lr=1.0, lr_decay_steps=10, start_wd=0.2, end_wd=0.1, wd_incr_style="linear"),
        ValueError,
        "end_wd",
    ),
    (dict(max_lr="1", lr_decay_steps=10), TypeError, "max_lr"),
]


@pytest.mark.parametrize(("arguments", "error", "name"), BAD)
def test_bad_arguments_are_refused_by_name(
    arguments: dict[str, Any], error: type, name: str
) -> None:
    with pytest.raises(error, match=name):
        mg.OptimizerParamScheduler(**arguments)


def test_megatron_accepts_what_lrfun_refuses() -> None:
    """The refusals documented in docs/megatron.md, measured on megatron-core."""
    # a negative warmup: Megatron computes with it (the decay's origin moves before step 0)
    live = Live(_optimizer([{}]), 0.0, 1.0, 0.0, -5, 10, "linear", 0.0, 0.0, 10, "constant")
    assert _lrs(live) == [1.0 - 5 / 15]
    with pytest.raises(ValueError, match="lr_warmup_steps"):
        lrfun.from_torch(live)
    # WSD without a known anneal shape: accepted until the anneal starts, then it asserts
    live = Live(
        _optimizer([{}]),
        0.0,
        1.0,
        0.0,
        0,
        10,
        "WSD",
        0.0,
        0.0,
        10,
        "constant",
        wsd_decay_steps=2,
        lr_wsd_decay_style=None,
    )
    live.step(8)
    with pytest.raises(AssertionError):
        live.step(1)
    with pytest.raises(ValueError, match="lr_wsd_decay_style"):
        lrfun.from_torch(live)
    # a negative init_lr: no check in Megatron, the warmup starts below zero
    live = Live(_optimizer([{}]), -0.5, 1.0, 0.0, 2, 10, "linear", 0.0, 0.0, 10, "constant")
    assert _lrs(live) == [-0.5]
    with pytest.raises(ValueError, match="init_lr"):
        lrfun.from_torch(live)
    # an unknown style written on a live object
    live = Live(_optimizer([{}]), 0.0, 1.0, 0.0, 0, 10, "linear", 0.0, 0.0, 10, "constant")
    live.lr_decay_style = "poly"
    with pytest.raises(ValueError, match="lr_decay_style"):
        lrfun.from_torch(live)


def test_weight_decay_bad_arguments() -> None:
    with pytest.raises(ValueError, match="wd_mult"):
        mg.WeightDecay(0.0, 0.0, 10, wd_mult=-1.0)
    with pytest.raises(ValueError, match=r"end_wd\[1\]"):
        mg.WeightDecay([0.1, 0.2], [0.1, 0.3], 10)
    with pytest.raises(ValueError, match="has 3 values"):
        mg.WeightDecay([0.1, 0.2], [0.1, 0.2, 0.3], 10)


# -- every tool ------------------------------------------------------------------------------


@given(configs(LR))
def test_configs_specs_and_pytrees(config: dict[str, Any]) -> None:
    s = lrfun.from_config(config)
    assert lrfun.from_config(json.loads(json.dumps(s.to_config()))) == s
    assert parse(to_spec(s)) == s
    leaves, tree = jax.tree_util.tree_flatten(s)
    assert jax.tree_util.tree_unflatten(tree, leaves) == s


def test_vmap_over_peak_lrs_is_a_sweep() -> None:
    s = mg.OptimizerParamScheduler(1.0, 100, "cosine", lr_warmup_steps=10)
    peaks = jnp.asarray([0.1, 0.2, 0.4])
    stacked = jax.vmap(
        lambda p: lrfun.megatron.OptimizerParamScheduler(p, 100, "cosine", lr_warmup_steps=10)(
            jnp.arange(120)
        )
    )(peaks)
    for i, p in enumerate([0.1, 0.2, 0.4]):
        np.testing.assert_allclose(stacked[i], p * s(np.arange(120)), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("style", ["WSD", "inverse-square-root"])
def test_inside_torch_compile(style: str) -> None:
    s = mg.OptimizerParamScheduler(
        [3e-4, 1e-4],
        1000,
        style,
        min_lr=3e-5,
        lr_warmup_steps=100,
        wsd_decay_steps=200,
        lr_wsd_decay_style="minus_sqrt",
    )
    compiled = torch.compile(lambda k: s(k), fullgraph=True)
    ks = torch.arange(1100)
    ref = parity.torch_trajectory(s, 1099)
    parity.assert_close(compiled(ks), ref, dtype="float32", scale=3e-4)


def test_both_adapters_drive_it() -> None:
    import optax

    import lrfun.optax

    s = mg.OptimizerParamScheduler(
        3e-4,
        50,
        "WSD",
        min_lr=3e-5,
        lr_warmup_steps=5,
        wsd_decay_steps=10,
        lr_wsd_decay_style="minus_sqrt",
    )
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = lrfun.torch.Scheduler(opt, s)
    for k in range(1, 60):
        opt.step()
        sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(s(k), rel=1e-12)
    tx = lrfun.optax.inject(optax.sgd, s)
    state = tx.init(jnp.zeros(2))
    assert float(state.hyperparams["learning_rate"]) == pytest.approx(s(0), abs=1e-12)


def test_megatron_is_not_imported_by_lrfun() -> None:
    import subprocess
    import sys

    code = (
        "import sys, lrfun, lrfun.megatron as m; "
        "s = m.OptimizerParamScheduler(1.0, 10); s(3); "
        "print(sorted(k for k in ('megatron', 'torch') if k in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
