"""Bad values at run time: each has one documented behaviour, never a silent wrong lr.

Metrics: NaN is a bad epoch and +-inf are compared as torch compares them (so the plateau may
cut), on every implementation of the plateau; a 0-d tensor or array -- on a device, with a
graph -- is its value; a metric of more than one value is refused.
Steps: any integer dtype gives the lr of the same step as int64; floats are floored; negative
steps are step 0; NaN, +inf and steps past the namespace's integers give NaN.
torch's ``Scheduler.step(epoch)`` takes Python and NumPy integers only: a float, a bool, a
tensor or an array is refused.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lrfun
import lrfun.optax
import lrfun.torch
from parity import assert_close, torch_trajectory
from parity.backends import devices

nan, inf = math.nan, math.inf
_PLATEAU = "ReduceLROnPlateau"

# Dyadic arguments: float32 and float64 take the same decisions as torch, so every
# implementation must give torch's lrs exactly.
_SPECIAL_METRICS = {
    "nan_is_a_bad_epoch": [1.0, nan, nan, nan, 0.5, nan, nan],
    "nan_from_the_start": [nan, nan, nan, 1.0, 1.0],
    "plus_inf_never_improves_in_min_mode": [inf, inf, inf, 2.0, inf, inf],
    "minus_inf_is_best_then_nothing_improves": [2.0, -inf, -inf, 1.0, -5.0, -inf],
    "plus_inf_is_best_in_max_mode": [1.0, inf, 2.0, inf, inf, 3.0],
    "mixed": [0.5, nan, inf, -inf, nan, 0.25, inf, nan],
}
_CONFIGS = [
    {"mode": "min", "patience": 1, "threshold_mode": "rel"},
    {"mode": "max", "patience": 0, "threshold_mode": "rel"},
    {"mode": "min", "patience": 0, "threshold_mode": "abs", "cooldown": 1},
    # rel with threshold 1: best * 0 is NaN once best is infinite, as in torch.
    {"mode": "min", "patience": 0, "threshold": 1.0, "threshold_mode": "rel"},
]


def plateau_config(extra: dict[str, Any]) -> dict[str, Any]:
    base = {"name": _PLATEAU, "base_lr": 0.5, "factor": 0.5, "threshold": 2.0**-10}
    return {**base, "min_lr": 2.0**-12, "eps": 0.0, **extra}


def optax_plateau_lrs(plateau: lrfun.ReduceLROnPlateau, metrics: list[float]) -> np.ndarray:
    """The lr of ``lrfun.optax.reduce_on_plateau`` after each of the metrics (jitted)."""
    opt = optax.chain(optax.sgd(plateau.base_lr), lrfun.optax.reduce_on_plateau(plateau))
    params = jnp.zeros(1)
    state = opt.init(params)
    update = jax.jit(opt.update)
    lrs = [state[1].lr]
    for metric in metrics:
        _, state = update(jnp.ones(1), state, params, value=metric)
        lrs.append(state[1].lr)
    return np.asarray(jnp.stack(lrs))


@pytest.mark.parametrize("extra", _CONFIGS, ids=lambda c: "-".join(map(str, c.values())))
@pytest.mark.parametrize("metrics", _SPECIAL_METRICS.values(), ids=_SPECIAL_METRICS.keys())
def test_special_metrics_take_torchs_decision_everywhere(
    metrics: list[float], extra: dict[str, Any]
) -> None:
    config = plateau_config(extra)
    native = torch_trajectory(config, len(metrics), metrics=metrics)
    plateau = lrfun.from_config(config)
    adapter = torch_trajectory(
        config,
        len(metrics),
        metrics=metrics,
        scheduler=lambda opt: lrfun.torch.PlateauScheduler(opt, plateau),
    )
    for ours, dtype in [
        (plateau.trajectory(metrics), "float64"),
        (plateau.trajectory(jnp.asarray(metrics)), "float32"),
        (plateau.trajectory(torch.tensor(metrics, dtype=torch.float64)), "float64"),
        (adapter.lr, "float64"),
        (optax_plateau_lrs(plateau, metrics), "float32"),
    ]:
        # Exact: dyadic arguments leave no rounding to disagree on.
        np.testing.assert_array_equal(np.reshape(np.asarray(ours), -1), native.lr[:, 0])
        assert_close(ours, native, dtype=dtype)


def test_nan_metrics_cut_after_patience() -> None:
    """The documented consequence: a run whose loss went NaN has its lr cut, as in torch."""
    plateau = lrfun.ReduceLROnPlateau(0.1, patience=2, factor=0.5)
    lrs = plateau.trajectory([1.0, nan, nan, nan, nan])
    np.testing.assert_array_equal(lrs, [0.1, 0.1, 0.1, 0.1, 0.05, 0.05])


_ACCELERATORS = [d for d in devices() if d != "cpu"]
_METRIC_DEVICES: list[Any] = ["cpu", *_ACCELERATORS]
if not _ACCELERATORS:
    _METRIC_DEVICES.append(
        pytest.param("accelerator", marks=pytest.mark.skip(reason="no CUDA or MPS device here"))
    )


def _tensor_metrics(device: str) -> dict[str, Any]:
    """Ways a metric arrives, each holding 0.75."""
    weight = torch.tensor(0.5, device=device, requires_grad=True)
    return {
        "float": 0.75,
        "loss_with_graph": weight * 1.5,
        "tensor_float64": torch.tensor(0.75, dtype=torch.float64, device=device),
        "tensor_float16": torch.tensor(0.75, dtype=torch.float16, device=device),
        "tensor_one_element": torch.tensor([0.75], device=device),
        "numpy_0d": np.asarray(0.75),
        "jax_0d": jnp.asarray(0.75),
    }


@pytest.mark.parametrize("device", _METRIC_DEVICES)
def test_tensor_metric_is_its_value(device: str) -> None:
    metrics = _tensor_metrics(device)
    runs = {}
    for label, metric in metrics.items():
        opt = torch.optim.SGD([torch.zeros(1, device=device, requires_grad=True)], lr=0.5)
        sched = lrfun.torch.PlateauScheduler(opt, lrfun.ReduceLROnPlateau(0.5, patience=1))
        lrs = []
        for _ in range(6):
            opt.step()
            sched.step(metric)
            lrs.append(sched.get_last_lr()[0])
        runs[label] = (lrs, sched.best)
    assert all(run == runs["float"] for run in runs.values()), runs
    assert runs["float"][1] == 0.75


def test_a_metric_of_several_values_is_refused() -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    sched = lrfun.torch.PlateauScheduler(opt, lrfun.ReduceLROnPlateau(0.5))
    # torch's own ReduceLROnPlateau takes float(metrics): the same error, before any change.
    with pytest.raises(ValueError, match="one element"):
        sched.step(torch.tensor([0.5, 0.25]))
    assert sched.last_epoch == 0
    plateau = lrfun.ReduceLROnPlateau(0.5)
    pairs = [
        (None, np.array([0.5, 0.25])),
        (jnp.zeros(()), jnp.array([0.5, 0.25])),
        (torch.zeros(()), torch.tensor([0.5, 0.25])),
    ]
    for like, several in pairs:
        with pytest.raises(ValueError, match=r"metric must be one number, got .* shape \(2,\)"):
            plateau.update(plateau.init(like=like), several)


def test_jax_metric_on_a_device_inside_jit() -> None:
    plateau = lrfun.ReduceLROnPlateau(0.5, patience=0, factor=0.5)
    device = jax.devices()[0]
    metrics = [1.0, 1.0, 0.5, 0.5]
    update = jax.jit(plateau.update)
    states = {
        label: plateau.init(like=jnp.zeros(()))
        for label in ("float", "0d_on_device", "one_element")
    }
    for metric in metrics:
        states["float"] = update(states["float"], metric)
        value = jax.device_put(jnp.asarray(metric), device)
        states["0d_on_device"] = update(states["0d_on_device"], value)
        states["one_element"] = update(states["one_element"], jnp.asarray([metric]))
    lrs = {label: float(state.lr) for label, state in states.items()}
    assert lrs == {label: 0.125 for label in lrs}
    assert all(state.best.shape == () for state in states.values())


# Steps of unusual dtypes ------------------------------------------------------------------

# Distinct values over a period of 10: a wrong step shows as a wrong lr.
_SCHEDULE = lrfun.CosineAnnealingLR(1.0, T_max=5, eta_min=0.1)
_NUMPY = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
_NUMPY += ["float16", "float32", "float64"]
_TORCH = [*_NUMPY, "bfloat16"]
_JAX = ["int8", "int16", "int32", "uint8", "uint16", "uint32", "float16", "bfloat16", "float32"]


def _values(dtype: str) -> st.SearchStrategy[list[float]]:
    """Step values a ``dtype`` array can hold, edges and specials included."""
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        edges = st.sampled_from([int(info.min), int(info.max), 0, 1, 2**31 - 1, 2**31])
        value: st.SearchStrategy[Any] = st.one_of(
            edges.filter(lambda v: info.min <= v <= info.max),
            st.integers(int(info.min), int(info.max)),
        )
    else:
        specials = [nan, inf, -inf, -0.5, 2.0**31, 2.0**31 - 128, 2.0**63, 1e300]
        value = st.one_of(st.sampled_from(specials), st.floats(-1e3, 1e10))
    return st.lists(value, min_size=6, max_size=6)  # one shape: JAX compiles once


def reference(held: list[Any], bits: int) -> np.ndarray:
    """The lrs the documented behaviour gives for the step values an array holds (Python
    ints or floats), in float64 through Python int steps; ``bits`` is the width of the
    namespace's integers."""
    out = np.full(len(held), np.nan)
    for i, v in enumerate(held):
        if math.isnan(v) or v >= 2 ** (bits - 1):
            continue  # no integer step (NaN, +inf, past the namespace's integers): NaN
        out[i] = _SCHEDULE(0 if v < 0 else math.floor(v))  # negative, -inf included: step 0
    return out


def check_steps(ours: Any, held: list[Any], bits: int, result_dtype: str) -> None:
    ref = reference(held, bits)
    got = np.asarray(ours.double() if isinstance(ours, torch.Tensor) else ours, dtype=np.float64)
    assert np.array_equal(np.isnan(got), np.isnan(ref)), (held, got, ref)
    ok = ~np.isnan(ref)
    if ok.any():
        assert_close(got[ok], ref[ok], dtype=result_dtype, scale=1.0)


def check_same_as_default_int(ours: Any, held: list[Any], bits: int, evaluate: Any) -> None:
    """An integer step array gives bit for bit what the same values give as the namespace's
    default integer (int64; int32 for JAX without x64), wherever that can hold them."""
    fits = np.array([v < 2 ** (bits - 1) for v in held])
    same = evaluate([v if ok else 0 for v, ok in zip(held, fits, strict=True)])
    got = np.asarray(ours.double() if isinstance(ours, torch.Tensor) else ours, dtype=np.float64)
    np.testing.assert_array_equal(got[fits], np.asarray(same, dtype=np.float64)[fits])


def _held(array: Any) -> list[Any]:
    """The values an array holds, as Python ints or floats."""
    if isinstance(array, torch.Tensor):
        array = array.double() if array.is_floating_point() else array
        return array.cpu().tolist()
    host = np.asarray(array)
    if np.issubdtype(host.dtype, np.integer):
        return [int(v) for v in host.tolist()]
    return [float(v) for v in host.astype(np.float64).tolist()]


@pytest.mark.parametrize("dtype", _NUMPY)
@given(data=st.data())
def test_numpy_step_dtypes(dtype: str, data: st.DataObject) -> None:
    values = data.draw(_values(dtype), label="values")
    with np.errstate(over="ignore"):  # float16 holds big values as inf
        array = np.asarray(values, dtype=np.float64 if "float" in dtype else dtype).astype(dtype)
    ours = _SCHEDULE(array)
    assert ours.dtype == (np.float32 if dtype in ("float16", "float32") else np.float64)
    check_steps(ours, _held(array), 64, str(ours.dtype))
    if "int" in dtype:
        check_same_as_default_int(
            ours, _held(array), 64, lambda v: _SCHEDULE(np.asarray(v, dtype=np.int64))
        )


@pytest.mark.parametrize("dtype", _TORCH)
@given(data=st.data())
def test_torch_step_dtypes(dtype: str, data: st.DataObject) -> None:
    values = data.draw(_values("float32" if dtype == "bfloat16" else dtype), label="values")
    if "float" in dtype:
        array = torch.tensor(values, dtype=torch.float64).to(getattr(torch, dtype))
    else:
        array = torch.tensor(values, dtype=getattr(torch, dtype))
    ours = _SCHEDULE(array)
    assert ours.dtype == (torch.float64 if dtype == "float64" else torch.get_default_dtype())
    check_steps(ours, _held(array), 64, str(ours.dtype))
    if "int" in dtype:
        check_same_as_default_int(
            ours, _held(array), 64, lambda v: _SCHEDULE(torch.tensor(v, dtype=torch.int64))
        )


@pytest.mark.parametrize("dtype", _JAX)
@given(data=st.data())
def test_jax_step_dtypes(dtype: str, data: st.DataObject) -> None:
    values = data.draw(_values("float32" if dtype == "bfloat16" else dtype), label="values")
    if "float" in dtype:
        with np.errstate(over="ignore"):  # 1e300 is inf in float32
            host = np.asarray(values, dtype=np.float64).astype(np.float32)
        array = jnp.asarray(host).astype(getattr(jnp, dtype))
    else:
        array = jnp.asarray(np.asarray(values, dtype=dtype))
    ours = _SCHEDULE(array)
    assert ours.dtype == jnp.float32
    check_steps(ours, _held(array), 32, "float32")
    if "int" in dtype:
        check_same_as_default_int(
            ours, _held(array), 32, lambda v: _SCHEDULE(jnp.asarray(v, dtype=jnp.int32))
        )


def test_python_steps() -> None:
    s = _SCHEDULE
    assert s(2.7) == s(2)
    assert s(-3) == s(-0.5) == s(-inf) == s(0)
    for bad in (nan, inf, 1e300, 2.0**63):
        assert math.isnan(s(bad))
    assert s(2**63 - 1) == s((2**63 - 1) % 10)


def test_jax_uint32_past_int32_is_nan_not_wrapped() -> None:
    """Without x64 JAX's integers are int32: a uint32 count of 3e9 would wrap to a negative
    step (the step-0 lr, silently); it gives NaN. With x64 it is exact."""
    steps = np.array([5, 2**31 - 1, 2**31, 3_000_000_000], dtype=np.uint32)
    out = np.asarray(_SCHEDULE(jnp.asarray(steps)))
    assert np.isnan(out[2:]).all()
    assert_close(out[:2], _SCHEDULE(steps[:2].astype(np.int64)), dtype="float32")
    with jax.enable_x64(True):
        out = np.asarray(_SCHEDULE(jnp.asarray(steps)))
    assert_close(out, _SCHEDULE(steps.astype(np.int64)), dtype="float64")


@pytest.mark.parametrize(
    "epoch",
    [5, np.int8(5), np.uint32(5), np.int64(5)],
    ids=["int", "np_int8", "np_uint32", "np_int64"],
)
def test_scheduler_step_epoch_takes_any_integer(epoch: Any) -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0, momentum=0.9)
    sched = lrfun.torch.Scheduler(opt, lrfun.CyclicLR(0.1, 1.0, step_size_up=4))
    opt.step()
    sched.step(epoch)
    assert sched.last_epoch == 5 and type(sched.last_epoch) is int
    assert sched.get_last_lr() == [lrfun.CyclicLR(0.1, 1.0, step_size_up=4)(5)]


@pytest.mark.parametrize(
    ("epoch", "error"),
    [
        (5.0, TypeError),
        (np.float32(5), TypeError),
        (True, TypeError),
        # A tensor or array epoch is refused, not synchronised from its device behind the
        # caller's back: int(epoch) says where that happens.
        (torch.tensor(5), TypeError),
        (jnp.asarray(5), TypeError),
        (-1, ValueError),
        (np.int8(-1), ValueError),
    ],
    ids=["float", "np_float32", "bool", "torch_tensor", "jax_array", "negative", "np_negative"],
)
def test_scheduler_step_epoch_refuses_non_integers(epoch: Any, error: type) -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = lrfun.torch.Scheduler(opt, lrfun.StepLR(1.0, step_size=2))
    opt.step()
    with pytest.raises(error, match="epoch must be an integer >= 0"):
        sched.step(epoch)
    assert sched.last_epoch == 0
