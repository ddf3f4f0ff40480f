"""Traced torch: ``torch.func.vmap`` over steps and ``torch.compile(fullgraph=True)`` of
schedules evaluated on the host -- table-backed composites (SequentialLR, ChainedScheduler
simulated step by step) and user functions (LambdaLR, MultiplicativeLR) -- against the live
torch scheduler, and the ``horizon=`` they need.

With ``horizon=N`` the table is simulated at construction and traced steps only read it (a
constant of the graph), so the values are torch's within the float32 tolerance up to N and
NaN past it. Without it, lrfun's own TypeError names ``horizon=``. torch.compile is slow on
two cores: the compiled cases are few and fixed, the Hypothesis properties run under vmap.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from typing import Any

import pytest
import torch
import torch._dynamo.testing
from hypothesis import given, settings
from hypothesis import strategies as st

import lrfun
from lrfun._backend import is_traced
from lrfun._schedule import registered
from parity import assert_close, lr_scale, torch_trajectory
from parity.strategies import _alternating, _warmup, compositions, configs, horizon

vmap = torch.func.vmap


def _with_horizon(config: dict[str, Any], n: int) -> dict[str, Any]:
    """``config`` with ``horizon=n`` on every node that takes one, as a user tracing it
    passes it (a composite, a user function nested in one)."""
    out = dict(config)
    if "schedulers" in config:
        out["schedulers"] = [_with_horizon(child, n) for child in config["schedulers"]]
    cls = registered(config["name"])
    if cls is not None and "horizon" in {f.name for f in dataclasses.fields(cls)}:
        out["horizon"] = n
    return out


# Examples per property: each runs the live torch scheduler, which dominates their time.
_EXAMPLES = max(10, settings.default.max_examples // 2)


@given(config=compositions(max_depth=2), steps=st.integers(0, 120))
@settings(max_examples=_EXAMPLES)
def test_vmap_over_steps_follows_torch(config: dict[str, Any], steps: int) -> None:
    """Any composition, simulated on the host or a closed form, under vmap with horizons."""
    steps = horizon(config, steps)
    schedule = lrfun.from_config(_with_horizon(config, steps))
    ks = torch.arange(steps + 1)
    ref = torch_trajectory(config, steps)
    scale = lr_scale(config)
    assert_close(vmap(schedule)(ks), ref, dtype="float32", scale=scale)
    if schedule.cycles_momentum:
        assert_close(vmap(schedule.momentum)(ks), ref, dtype="float32", what="momentum")


_user_configs = st.sampled_from(["LambdaLR", "MultiplicativeLR"]).flatmap(configs)


def _refused_untabulated(schedule: Any) -> bool:
    """Whether vmap of the schedule without a horizon is refused: a LambdaLR function of
    Python ints only (it branches on the step), a MultiplicativeLR factor that is not
    constant (its products are simulated on the host)."""
    fns = schedule.lr_lambda if isinstance(schedule.lr_lambda, tuple) else (schedule.lr_lambda,)
    if isinstance(schedule, lrfun.LambdaLR):
        return any("_warmup" in repr(fn) for fn in fns)
    return None in schedule._constants


@given(config=_user_configs, steps=st.integers(0, 100))
@settings(max_examples=_EXAMPLES)
def test_vmap_over_user_functions(config: dict[str, Any], steps: int) -> None:
    """With a horizon: the table of torch's values (NaN past it). Without: an array-friendly
    function gets the batched steps, any other is refused naming horizon=."""
    ks = torch.arange(steps + 1)
    ref = torch_trajectory(config, steps)
    scale = lr_scale(config)
    tabulated = lrfun.from_config({**config, "horizon": steps})
    assert_close(vmap(tabulated)(ks), ref, dtype="float32", scale=scale)
    assert torch.isnan(vmap(tabulated)(torch.arange(steps + 1, steps + 4))).all()
    schedule = lrfun.from_config(config)
    if _refused_untabulated(schedule):
        with pytest.raises(TypeError, match="horizon=N"):
            vmap(schedule)(ks)
        assert_close(schedule(ks), ref, dtype="float32", scale=scale)  # eager: per step
        return
    assert_close(vmap(schedule)(ks), ref, dtype="float32", scale=scale)


def test_batched_steps_have_no_host_values() -> None:
    assert not is_traced(torch.arange(3))
    assert vmap(lambda k: torch.tensor(is_traced(k)))(torch.arange(3)).all()


def _cyclic_then_lambda(n: int | None) -> lrfun.SequentialLR:
    """Simulated on the host (a ChainedScheduler restarted by nothing, then a LambdaLR of
    Python ints), two param groups, momentum cycled by the CyclicLR."""
    base = [0.01, 0.02]
    chained = lrfun.ChainedScheduler(
        [lrfun.CyclicLR(base, [0.1, 0.2], 3), lrfun.CosineAnnealingLR(base, 7, eta_min=0.001)]
    )
    warmup = lrfun.LambdaLR(base, functools.partial(_warmup, 5), horizon=n)
    return lrfun.SequentialLR([chained, warmup], [12], horizon=n)


def _chained_user_factors(n: int | None) -> lrfun.ChainedScheduler:
    """Simulated on the host: a LambdaLR overwrites the lr, a MultiplicativeLR of Python ints
    scales it."""
    return lrfun.ChainedScheduler(
        [
            lrfun.LambdaLR(0.1, functools.partial(_warmup, 4)),
            lrfun.MultiplicativeLR(0.1, functools.partial(_alternating, 0.9)),
        ],
        horizon=n,
    )


_HORIZON = 30


@pytest.mark.parametrize(
    ("build", "backend"), [(_cyclic_then_lambda, "eager"), (_chained_user_factors, "aot_eager")]
)
def test_compile_fullgraph_reads_the_horizon_table(build: Any, backend: str) -> None:
    schedule = build(_HORIZON)
    assert not schedule._closed  # table-backed
    ref = torch_trajectory(schedule, _HORIZON)
    scale = schedule._lr_scale()
    counter = torch._dynamo.testing.CompileCounterWithBackend(backend)
    torch._dynamo.reset()
    compiled = torch.compile(schedule, fullgraph=True, backend=counter)
    for k in (0, 5, 12, _HORIZON):  # one graph as the step's value changes
        assert_close(
            compiled(torch.tensor(k))[None], ref.lr[k : k + 1], dtype="float32", scale=scale
        )
    assert counter.frame_count == 1
    ks = torch.arange(_HORIZON + 4)
    out = compiled(ks)
    assert_close(out[: _HORIZON + 1], ref, dtype="float32", scale=scale)
    assert_close(out[: _HORIZON + 1], schedule(ks[: _HORIZON + 1]), dtype="float32", scale=scale)
    assert torch.isnan(out[_HORIZON + 1 :]).all()  # past the table: never a made-up lr
    if schedule.cycles_momentum:
        momentum = torch.compile(schedule.momentum, fullgraph=True, backend=counter)(ks)
        assert_close(momentum[: _HORIZON + 1], ref, dtype="float32", what="momentum")


def test_compile_of_a_copy_reads_its_rebuilt_table() -> None:
    """A copy carries no tables and rebuilds the horizon's at once: ready inside compile."""
    schedule = copy.deepcopy(_chained_user_factors(_HORIZON))
    torch._dynamo.reset()
    compiled = torch.compile(schedule, fullgraph=True, backend="eager")
    ks = torch.arange(_HORIZON + 1)
    assert_close(compiled(ks), torch_trajectory(schedule, _HORIZON), dtype="float32")


def test_compile_inductor_in_a_training_step() -> None:
    """A table-backed composite inside a compiled SGD step, with the default backend."""
    schedule = _cyclic_then_lambda(_HORIZON)
    w = torch.zeros(2)

    @torch.compile(fullgraph=True)
    def step(w: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        return w - schedule(k) * 2.0 * (w - 1.0)  # the gradient of (w - 1)**2

    torch._dynamo.reset()
    eager = w.clone()
    for k in range(_HORIZON + 1):
        eager = eager - schedule(torch.tensor(k)) * 2.0 * (eager - 1.0)
        w = step(w, torch.tensor(k))
    assert_close(w, eager, dtype="float32")


def _halving_on_odd_steps(e: int) -> float:
    return 0.5 if e % 2 else 1.0


_UNTABULATED = {
    "SequentialLR": lambda: _cyclic_then_lambda(None),
    "ChainedScheduler": lambda: _chained_user_factors(None),
    "MultiplicativeLR": lambda: lrfun.MultiplicativeLR(0.1, _halving_on_odd_steps),
}


@pytest.mark.parametrize("name", sorted(_UNTABULATED))
def test_without_a_horizon_vmap_asks_for_one(name: str) -> None:
    schedule = _UNTABULATED[name]()
    with pytest.raises(TypeError, match=rf"{name}.*pass horizon=N"):
        vmap(schedule)(torch.arange(4))
    assert torch.isfinite(schedule(torch.arange(4))).all()  # concrete steps need none


@pytest.mark.parametrize("name", ["SequentialLR", "MultiplicativeLR"])
def test_without_a_horizon_compile_asks_for_one(name: str) -> None:
    """Default compile: lrfun's own TypeError. fullgraph=True: dynamo reports every exception
    raised while tracing as its own error, whose message carries lrfun's."""
    schedule = _UNTABULATED[name]()
    torch._dynamo.reset()
    with pytest.raises(TypeError, match=rf"{name}.*pass horizon=N"):
        torch.compile(schedule, backend="eager")(torch.arange(4))
    torch._dynamo.reset()
    with pytest.raises(torch._dynamo.exc.Unsupported, match=rf"{name}.*pass horizon=N"):
        torch.compile(schedule, fullgraph=True, backend="eager")(torch.arange(4))
