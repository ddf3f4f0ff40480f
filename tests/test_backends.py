"""One definition, every backend: jit, vmap, scan, torch.compile, dtypes, devices, shapes."""

from __future__ import annotations

import dataclasses
import functools
import math
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lrfun
from parity import assert_close
from parity.report import representative
from parity.strategies import NAMES, _warmup, any_config, configs, horizon

# LambdaLR with a function of Python ints only cannot be traced; those get their own test.
_traceable = any_config().filter(
    lambda c: not (c["name"] == "LambdaLR" and "_warmup" in repr(c["lr_lambda"]))
)


def _build(config: dict, steps: int) -> lrfun.Schedule:
    if config["name"] == "MultiplicativeLR":
        return lrfun.MultiplicativeLR(config["base_lr"], config["lr_lambda"], horizon=steps)
    return lrfun.from_config(config)


@given(config=_traceable, steps=st.integers(0, 300))
def test_jit_equals_eager(config: dict, steps: int) -> None:
    steps = horizon(config, steps)
    schedule = _build(config, steps)
    ks = jnp.arange(steps + 1)
    eager = schedule(ks)
    assert_close(jax.jit(schedule)(ks), np.asarray(eager, np.float64), dtype="float32")
    if schedule.cycles_momentum:
        assert_close(
            jax.jit(schedule.momentum)(ks),
            np.asarray(schedule.momentum(ks), np.float64),
            dtype="float32",
        )


@given(config=_traceable, steps=st.integers(0, 100))
@settings(max_examples=10)
def test_vmap_and_scan_equal_the_array_evaluation(config: dict, steps: int) -> None:
    steps = horizon(config, steps)
    schedule = _build(config, steps)
    ks = jnp.arange(steps + 1)
    whole = np.asarray(schedule(ks), np.float64)
    assert_close(jax.vmap(schedule)(ks), whole, dtype="float32")

    def body(carry: None, k: jax.Array) -> tuple[None, jax.Array]:
        return carry, schedule(k)

    _, scanned = jax.lax.scan(body, None, ks)
    assert_close(scanned, whole, dtype="float32")


@given(config=any_config(), steps=st.integers(0, 60))
@settings(max_examples=15)
def test_pointwise_equals_array(config: dict, steps: int) -> None:
    """Python ints one at a time give exactly the NumPy trajectory (both float64)."""
    steps = horizon(config, steps)
    schedule = lrfun.from_config(config)
    whole = schedule(np.arange(steps + 1))
    pointwise = np.asarray([schedule(k) for k in range(steps + 1)])
    np.testing.assert_allclose(pointwise, whole, rtol=1e-15, atol=0)


def test_python_int_only_lambda_is_refused_under_jit_with_a_reason() -> None:
    schedule = lrfun.LambdaLR(0.1, functools.partial(_warmup, 10))
    assert schedule(3) == pytest.approx(0.04)  # concrete steps: called per step, as torch does
    with pytest.raises(TypeError, match="must use array operations"):
        jax.jit(schedule)(jnp.asarray(3))


def test_multiplicative_needs_a_horizon_to_trace_a_varying_lambda() -> None:
    fn = functools.partial(_warmup, 10)
    with pytest.raises(TypeError, match="pass horizon=N"):
        jax.jit(lrfun.MultiplicativeLR(1.0, fn))(jnp.asarray(3))
    bounded = lrfun.MultiplicativeLR(1.0, fn, horizon=20)
    traced = np.asarray(jax.jit(bounded)(jnp.arange(25)), np.float64)
    assert_close(traced[:21], bounded(np.arange(21)), dtype="float32")
    assert np.isnan(traced[21:]).all()  # past the table: NaN, never a made-up lr


def _example(name: str) -> lrfun.Schedule:
    """The schedule's own representative (its gallery spec; torch-doc-style lambdas for the
    classes that take a function): every registered class has one, so none is listed here."""
    schedule = lrfun.from_config(representative(name))
    assert isinstance(schedule, lrfun.Schedule)
    return schedule


@pytest.mark.parametrize("name", NAMES)
def test_torch_compile_fullgraph_without_recompiles(name: str) -> None:
    import torch._dynamo.testing

    schedule = _example(name)
    counter = torch._dynamo.testing.CompileCounter()
    torch._dynamo.reset()
    compiled = torch.compile(schedule, fullgraph=True, backend=counter)
    for k in range(20):
        step = torch.tensor(k)
        assert torch.allclose(compiled(step), schedule(step), rtol=1e-6, atol=0)
        if schedule.cycles_momentum:
            torch.compile(schedule.momentum, fullgraph=True, backend=counter)(step)
    frames = 2 if schedule.cycles_momentum else 1
    assert counter.frame_count == frames  # one graph each, no recompiles as the step changes


def test_torch_compile_inductor_in_a_training_step() -> None:
    """The schedule compiles with the default backend inside a real optimizer step."""
    schedule = lrfun.OneCycleLR(0.1, total_steps=50)
    w = torch.zeros(3, requires_grad=True)

    @torch.compile(fullgraph=True)
    def step(w: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        grad = 2.0 * (w - 1.0)  # of the loss (w - 1)**2
        return w - schedule(k) * grad

    torch._dynamo.reset()
    x = w.detach()
    for k in range(5):
        expected = x - schedule(k) * 2.0 * (x - 1.0)
        x = step(x, torch.tensor(k))
        torch.testing.assert_close(x, expected.float())


# Shapes, dtypes and devices.


def test_python_step_gives_a_python_float() -> None:
    assert type(lrfun.StepLR(0.1, 2)(3)) is float
    grouped = lrfun.StepLR([0.1, 0.2], 2)(3)
    assert isinstance(grouped, np.ndarray) and grouped.shape == (2,)


@given(config=any_config(), shape=st.sampled_from([(), (5,), (2, 3)]))
@settings(max_examples=20)
def test_shapes_broadcast_with_a_trailing_group_axis(config: dict, shape: tuple) -> None:
    schedule = lrfun.from_config(config)
    steps = np.arange(math.prod(shape)).reshape(shape)
    groups = () if schedule.groups is None else (schedule.groups,)
    for out in (schedule(steps), schedule(torch.as_tensor(steps)), schedule(jnp.asarray(steps))):
        assert tuple(out.shape) == shape + groups


def test_dtype_policy() -> None:
    s = lrfun.ExponentialLR(0.1, 0.9)
    assert s(np.arange(3)).dtype == np.float64
    assert s(np.arange(3, dtype=np.float32)).dtype == np.float32
    assert s(torch.arange(3)).dtype == torch.get_default_dtype()
    assert s(torch.arange(3, dtype=torch.float64)).dtype == torch.float64
    assert s(torch.arange(3, dtype=torch.float16)).dtype == torch.float32
    assert s(jnp.arange(3)).dtype == jnp.float32
    with jax.enable_x64(True):
        assert s(jnp.arange(3)).dtype == jnp.float64
    assert s(torch.arange(3, dtype=torch.int32)).dtype == torch.float32
    assert s(np.arange(3, dtype=np.uint8)).dtype == np.float64


@pytest.mark.parametrize("name", NAMES)
def test_negative_steps_give_the_step_zero_lr(name: str) -> None:
    schedule = _example(name)
    np.testing.assert_array_equal(schedule(np.array([-1, -100])), schedule(np.array([0, 0])))
    assert np.array_equal(np.asarray(schedule(-5)), np.asarray(schedule(0)))


def test_float_steps_are_floored_and_nan_gives_nan() -> None:
    s = lrfun.StepLR(1.0, 2, gamma=0.5)
    np.testing.assert_array_equal(s(np.array([1.9, 2.0, 3.99])), s(np.array([1, 2, 3])))
    assert math.isnan(s(math.nan))
    assert torch.isnan(s(torch.tensor([float("nan")]))).all()


@pytest.mark.parametrize("bad", [True, "3", None, [1, 2]])
def test_bad_steps_raise_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="step must be"):
        lrfun.StepLR(0.1, 2)(bad)


def test_one_cycle_past_total_steps_holds_the_last_torch_value() -> None:
    s = lrfun.OneCycleLR(0.1, total_steps=30)
    np.testing.assert_array_equal(s(np.array([31, 1000, 2**40])), np.full(3, s(30)))
    np.testing.assert_array_equal(s.momentum(np.array([31, 1000])), np.full(2, s.momentum(30)))


@given(config=configs("OneCycleLR"))
@settings(max_examples=10)
def test_one_cycle_torch_refuses_past_total_steps(config: dict) -> None:
    """The reason for the hold: torch raises one step past total_steps."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    kwargs = {k: v for k, v in config.items() if k != "name"}
    groups = [len(v) for v in kwargs.values() if isinstance(v, list)]
    if groups:
        opt = torch.optim.SGD(
            [{"params": [torch.zeros(1, requires_grad=True)]} for _ in range(groups[0])],
            lr=0.1,
            momentum=0.9,
        )
    native = torch.optim.lr_scheduler.OneCycleLR(opt, **kwargs)
    total = lrfun.from_config(config)._total
    for _ in range(total):
        opt.step()
        native.step()
    opt.step()
    with pytest.raises(ValueError, match="Tried to step"):
        native.step()


# Graph size does not grow with the number of milestones.


def _hlo_ops(schedule: lrfun.Schedule) -> int:
    text = jax.jit(schedule).lower(jnp.arange(8)).as_text()
    return sum(1 for line in text.splitlines() if "=" in line)


def test_multistep_graph_size_does_not_grow_with_milestones() -> None:
    sizes = {
        n: _hlo_ops(lrfun.MultiStepLR(0.1, list(range(0, 3 * n, 3)))) for n in (3, 100, 10_000)
    }
    assert len(set(sizes.values())) == 1, sizes
    fx = {}
    for n in (3, 10_000):
        gm = torch.fx.experimental.proxy_tensor.make_fx(lrfun.MultiStepLR(0.1, list(range(n))))(
            torch.arange(8)
        )
        fx[n] = len(gm.graph.nodes)
    assert fx[3] == fx[10_000], fx


def test_warm_restarts_graph_size_does_not_grow_with_time() -> None:
    assert _hlo_ops(lrfun.CosineAnnealingWarmRestarts(0.1, T_0=1, T_mult=2)) == _hlo_ops(
        lrfun.CosineAnnealingWarmRestarts(0.1, T_0=1000, T_mult=3)
    )


# Immutability and configs.


def test_schedules_are_immutable_and_hashable() -> None:
    s = lrfun.StepLR([0.1, 0.2], 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.gamma = 0.5  # type: ignore[misc]
    assert s == lrfun.StepLR((0.1, 0.2), 3) and hash(s) == hash(lrfun.StepLR([0.1, 0.2], 3))


@given(config=any_config())
@settings(max_examples=30)
def test_config_round_trip_or_a_clear_refusal(config: dict) -> None:
    schedule = lrfun.from_config(config)
    try:
        again = schedule.to_config()
    except TypeError as error:
        assert "callable" in str(error)
        return
    import json

    rebuilt = lrfun.from_config(json.loads(json.dumps(again)))
    assert rebuilt == schedule
    ks = np.arange(50)
    np.testing.assert_array_equal(rebuilt(ks), schedule(ks))


def test_from_config_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="config name must be one of"):
        lrfun.from_config({"name": "Nope"})
    with pytest.raises(ValueError, match="StepLR has no argument 'foo'"):
        lrfun.from_config({"name": "StepLR", "base_lr": 0.1, "step_size": 1, "foo": 2})


def test_import_is_light() -> None:
    code = (
        "import sys, lrfun, parity;"
        "heavy = [m for m in ('torch', 'jax', 'optax', 'matplotlib', 'hypothesis') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
@pytest.mark.parametrize("name", NAMES)
def test_cuda_tensors_stay_on_device_and_compile(name: str) -> None:
    schedule = _example(name)
    torch._dynamo.reset()
    steps = torch.arange(50, device="cuda")
    out = schedule(steps)
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), schedule(steps.cpu()), rtol=1e-5, atol=1e-7)
    compiled = torch.compile(schedule, fullgraph=True)
    torch.testing.assert_close(compiled(steps), out, rtol=1e-5, atol=1e-7)
