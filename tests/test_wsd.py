"""The canonical LLM schedule, ``lrfun.WarmupStableDecay``: its closed form held to its
definition (the textbook formulas, step by step: ``_formula``) over the whole argument
space on NumPy, JAX (jit) and torch, and cross-checked against other code where the
shapes coincide -- transformers' live ``get_wsd_schedule``, and the transcriptions of
Hägele et al.'s ``wsd_schedule`` and OLMo-core's ``WSD`` (``tests/test_llm_presets.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st

import lrfun
import lrfun.llm
from lrfun._shapes import DECAYS, STABLES, WARMUPS
from lrfun._spec import parse, to_spec
from lrfun._wsd import _formula
from tests.test_llm_presets import hagele_wsd, olmo_wsd

STEPS = np.arange(321)


def _check(ours: Any, truth: np.ndarray, dtype: str, scale: float) -> None:
    rtol, atol = (1e-12, 1e-12) if dtype == "float64" else (1e-5, 1e-6)
    ours = np.asarray(ours, dtype=np.float64)
    assert np.all(np.abs(ours - truth) <= rtol * np.abs(truth) + atol * scale), (
        dtype,
        np.max(np.abs(ours - truth)),
    )


def _scale(s: lrfun.WarmupStableDecay) -> float:
    return max(s._lr_scale(), 1e-300)


@settings(deadline=None)
@given(data=st.data())
def test_every_step_is_the_definition(data: st.DataObject) -> None:
    groups = data.draw(st.sampled_from([None, st.integers(1, 3)]), label="groups")
    config = data.draw(lrfun.WarmupStableDecay._strategy(groups), label="config")
    s = lrfun.from_config(config)
    assert isinstance(s, lrfun.WarmupStableDecay)
    truth = _formula(s, STEPS)
    _check(s(STEPS), truth, "float64", _scale(s))
    _check(jax.jit(lambda sch, k: sch(k))(s, jnp.asarray(STEPS)), truth, "float32", _scale(s))
    _check(s(torch.as_tensor(STEPS)), truth, "float32", _scale(s))
    # it ends at the final lr and holds it
    total = s.total_steps
    np.testing.assert_allclose(
        s(np.arange(total, total + 5)),
        np.broadcast_to(np.asarray(s.final_lr), (5, *np.shape(s.final_lr))),
        rtol=0,
        atol=0,
    )
    assert lrfun.from_config(json.loads(json.dumps(s.to_config()))) == s
    assert parse(to_spec(s)) == s


@pytest.mark.parametrize("warmup_type", ["linear", "cosine", "1-sqrt"])
@pytest.mark.parametrize("decay_type", ["linear", "cosine", "1-sqrt"])
@pytest.mark.parametrize(("w", "s", "d", "m"), [(10, 50, 40, 0.1), (0, 7, 13, 0.0), (5, 0, 1, 0.5)])
def test_is_transformers_wsd_where_the_shapes_coincide(
    warmup_type: str, decay_type: str, w: int, s: int, d: int, m: float
) -> None:
    """transformers' WSD warms up from and decays to ``min_lr_ratio * base_lr``: the family
    with ``init_lr = final_lr = m * base_lr``."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    live = transformers.get_wsd_schedule(
        opt,
        w,
        d,
        num_stable_steps=s,
        warmup_type=warmup_type,
        decay_type=decay_type,
        min_lr_ratio=m,
    )
    truth = []
    for _ in range(w + s + d + 20):
        truth.append(opt.param_groups[0]["lr"])
        opt.step()
        live.step()
    ours = lrfun.WarmupStableDecay(
        0.3,
        total_steps=w + s + d,
        warmup=w,
        decay=d,
        init_lr=0.3 * m,
        final_lr=0.3 * m,
        warmup_shape=warmup_type,
        decay_shape=decay_type,
    )
    _check(ours(np.arange(len(truth))), np.asarray(truth), "float64", 0.3)


_HAGELE = {
    "linear": "linear",
    "exp": "exponential",
    "cosine": "cosine",
    "miror_cosine": "mirror-cosine",
    "square": "square",
    "sqrt": "1-sqrt",
}


@settings(deadline=None)
@given(
    n=st.integers(1, 300),
    warmup=st.integers(0, 300),
    fract=st.floats(0, 1),
    f=st.one_of(st.just(0.0), st.floats(1e-3, 1.0)),
    div=st.floats(1.0, 1e3),
    decay_type=st.sampled_from(sorted(_HAGELE)),
)
def test_is_hageles_wsd_where_the_phases_fit(
    n: int, warmup: int, fract: float, f: float, div: float, decay_type: str
) -> None:
    a = int(fract * n)
    warmup = min(warmup, n - a)  # Hägele et al.'s warmup may overlap the cooldown: ours not
    ref = lrfun.llm.WsdSchedule(
        0.5,
        n,
        final_lr_factor=f,
        n_warmup=warmup,
        init_div_factor=div,
        fract_decay=fract,
        decay_type=decay_type,
    )
    ours = lrfun.WarmupStableDecay(
        0.5,
        n,
        warmup=warmup,
        decay=a,
        init_lr=0.5 / div,
        final_lr=0.5 * f,
        decay_shape=_HAGELE[decay_type],
    )
    _check(ours(STEPS), hagele_wsd(ref, STEPS), "float64", 0.5)


@settings(deadline=None)
@given(t=st.integers(2, 300), data=st.data())
def test_is_olmo_cores_wsd_where_the_phases_fit(t: int, data: st.DataObject) -> None:
    # (with no decay OLMo-core divides by zero at max_steps: ours ends at final_lr there)
    w = data.draw(st.integers(1, t - 1))
    d = data.draw(st.integers(1, t - w))
    ref = lrfun.llm.WSD(
        0.2,
        max_steps=t,
        warmup=w,
        decay=d,
        decay_fraction=None,
        warmup_min_lr=0.01,
        decay_min_lr=0.001,
    )
    ours = lrfun.WarmupStableDecay(0.2, t, warmup=w, decay=d, init_lr=0.01, final_lr=0.001)
    ks = np.arange(t + 1)
    _check(ours(ks), olmo_wsd(ref, ks), "float64", 0.2)


def test_phases_given_as_fractions_round_as_olmo_core_does() -> None:
    s = lrfun.WarmupStableDecay(1.0, 1000, warmup=0.0125, decay=0.2)
    assert (s._warmup, s._decay) == (12, 200)  # round(12.5) is 12: Python's rounding
    assert lrfun.WarmupStableDecay(1.0, 1000, warmup=12, decay=200) != s
    np.testing.assert_array_equal(
        s(STEPS), lrfun.WarmupStableDecay(1.0, 1000, warmup=12, decay=200)(STEPS)
    )


def test_every_shape_is_reachable_and_named() -> None:
    for w in WARMUPS:
        for st_ in STABLES:
            for d in DECAYS:
                s = lrfun.WarmupStableDecay(
                    1.0,
                    50,
                    warmup=5,
                    decay=10,
                    warmup_shape=w,
                    stable_shape=st_,
                    decay_shape=d,
                    final_lr=0.01,
                )
                values = s(np.arange(60))
                assert np.all(np.isfinite(values)) and values[-1] == 0.01


def test_jit_traces_once_per_structure_and_vmap_sweeps() -> None:
    traces = []

    @jax.jit
    def run(s: Any) -> Any:
        traces.append(1)
        return s(jnp.arange(100))

    a = lrfun.WarmupStableDecay(1.0, 100, warmup=10, stable_shape="power", exponent=-0.5)
    b = lrfun.WarmupStableDecay(0.5, 100, warmup=10, stable_shape="power", exponent=-1.0)
    run(a), run(b)
    assert len(traces) == 1
    stacked = jax.tree.map(lambda *x: jnp.stack(x), a, b)
    out = jax.vmap(lambda s: s(jnp.arange(100)))(stacked)
    np.testing.assert_allclose(out[1], b(np.arange(100)), rtol=1e-5)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: lrfun.WarmupStableDecay(1.0, 10, warmup=8, decay=3), ValueError, "must fit"),
        (lambda: lrfun.WarmupStableDecay(1.0, 10, warmup=1.5), ValueError, "warmup"),
        (lambda: lrfun.WarmupStableDecay(1.0, 10, warmup=-1), ValueError, "warmup"),
        (lambda: lrfun.WarmupStableDecay(1.0, 10, decay="0.2"), TypeError, "decay"),
        (lambda: lrfun.WarmupStableDecay(1.0, 10, warmup=True), TypeError, "warmup"),
        (lambda: lrfun.WarmupStableDecay(1.0, -1), ValueError, "total_steps"),
        (lambda: lrfun.WarmupStableDecay(-1.0, 10), ValueError, "base_lr"),
        (lambda: lrfun.WarmupStableDecay(1.0, 10, final_lr=float("nan")), ValueError, "final_lr"),
        (lambda: lrfun.WarmupStableDecay(1.0, 10, decay_shape="exp"), ValueError, "decay_shape"),
        (lambda: lrfun.WarmupStableDecay(1.0, 10, warmup_shape="cos"), ValueError, "warmup_shape"),
        (lambda: lrfun.WarmupStableDecay(1.0, 10, stable_shape="rsq"), ValueError, "stable_shape"),
        (lambda: lrfun.WarmupStableDecay(1.0, 10, exponent=0.5), ValueError, "exponent"),
        (lambda: lrfun.WarmupStableDecay(1.0, 10, timescale=0), ValueError, "timescale"),
        (lambda: lrfun.WarmupStableDecay([1.0, 2.0], 10, final_lr=[0.1]), ValueError, "final_lr"),
    ],
)
def test_bad_arguments_name_themselves(build: Callable[[], Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()
