"""Schedules as JAX pytrees: float hyperparameters are leaves, the rest is static; one trace
for any values; vmap over stacked schedules; schedules built from traced and 0-d values."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import lrfun
from lrfun._plateau import Machine
from lrfun._schedule import Configurable, Schedule, names, registered
from lrfun._spec import parse
from parity import assert_close
from parity.strategies import NAMES, configs


def _example(name: str) -> Configurable:
    cls = registered(name)
    assert cls is not None
    if cls._gallery is not None:
        return parse(cls._gallery[0])
    fn = _constant if cls.chain == "factor" else _geometric  # MultiplicativeLR, LambdaLR
    return cls(base_lr=[0.1, 0.2], lr_lambda=fn)  # type: ignore[call-arg]


def _constant(epoch: Any) -> float:
    return 0.95


def _geometric(epoch: Any) -> Any:
    return 0.9**epoch


def _float_fields(s: Configurable) -> list[str]:
    """The fields that hold floats (or tuples of them): the hyperparameters, by type."""
    out = []
    for f in dataclasses.fields(s):
        value = getattr(s, f.name)
        values = value if isinstance(value, tuple) else (value,)
        if f.init and values and all(type(v) is float for v in values):
            out.append(f.name)
    return out


@pytest.mark.parametrize("name", names(own=True))
def test_float_hyperparameters_are_the_leaves(name: str) -> None:
    s = _example(name)
    leaves, tree = jax.tree_util.tree_flatten(s)
    assert all(isinstance(leaf, float) for leaf in leaves)
    assert jax.tree_util.tree_unflatten(tree, leaves) == s
    if not isinstance(s, lrfun.SequentialLR | lrfun.ChainedScheduler):
        # an unset option (start_lr=None) is an empty subtree; a float that places phase
        # boundaries (OneCycleLR's pct_start) is declared structure (_static_floats)
        held = {n for n in s._hyperparameters if getattr(s, n) is not None}
        assert held <= set(_float_fields(s)), name
        assert set(_float_fields(s)) - held <= set(s._static_floats), name
        assert not held & set(s._static_floats), name
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(s)[0]]
    assert all(p.startswith(".") for p in paths)
    # equal structure, equal treedef; the static part compares and hashes
    assert jax.tree_util.tree_structure(_example(name)) == tree
    hash(tree)


@pytest.mark.parametrize("name", names(own=True))
def test_one_trace_for_any_values(name: str) -> None:
    s = _example(name)
    if isinstance(s, Machine):  # ReduceLROnPlateau, hf.GreedyLR
        traces = []

        @jax.jit
        def cut(p: Any, metric: Any) -> Any:
            traces.append(1)
            state = p.init(like=jnp.zeros(()))
            for _ in range(7):
                state = p.update(state, metric)
            return p.lr(state)

        for scale in (1.0, 0.5, 0.25):
            plateau = jax.tree.map(lambda x, scale=scale: x * scale, s)
            expected = plateau.trajectory(np.full(7, 3.0))[-1]
            np.testing.assert_allclose(cut(plateau, 3.0), expected, rtol=1e-6)
        assert len(traces) == 1
        return
    assert isinstance(s, Schedule)
    traces = []

    @jax.jit
    def lr(schedule: Any, step: Any) -> Any:
        traces.append(1)
        return schedule(step), (schedule.momentum(step) if schedule.cycles_momentum else 0.0)

    steps = jnp.arange(60)
    for scale in (1.0, 0.5, 0.25):
        scaled = _scaled(s, scale)
        got, momentum = lr(scaled, steps)
        assert_close(got, scaled(np.arange(60)), dtype="float32")
        if scaled.cycles_momentum:
            assert_close(momentum, scaled.momentum(np.arange(60)), dtype="float32")
    assert len(traces) == 1, f"{name} traced {len(traces)} times for 3 values"


def _scaled(s: Schedule, scale: float) -> Schedule:
    """The schedule with every lr-valued leaf scaled (a new value, the same structure)."""
    return jax.tree.map(lambda x: x * scale, s) if jax.tree.leaves(s) else s


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
@settings(max_examples=5)
def test_vmap_over_stacked_schedules(name: str, data: st.DataObject) -> None:
    """A batch of schedules of one structure (drawn: the same integers, other floats) is one
    pytree with stacked leaves: vmap gives every member's lr and momentum."""
    config = data.draw(configs(name), label="config")
    first = lrfun.from_config(config)
    assert isinstance(first, Schedule)
    members = [first, *(_scaled(first, f) for f in (0.5, 0.125))]
    # Stacked leaves are float32 arrays: a value float32 cannot hold (a power of 1e-102
    # flushes to 0) is not the value swept.
    tiny = float(np.finfo(np.float32).tiny)
    assume(all(x == 0 or tiny <= abs(x) < 3e38 for x in jax.tree.leaves(members)))
    batch = jax.tree.map(lambda *x: jnp.stack(x), *members)
    steps = jnp.arange(40)
    if not jax.tree.leaves(first):
        return  # nothing to sweep: every argument is structure or a function
    lrs = jax.vmap(lambda s: s(steps))(batch)
    for member, got in zip(members, lrs, strict=True):
        assert_close(got, member(np.arange(40)), dtype="float32")
    if first.cycles_momentum:
        momenta = jax.vmap(lambda s: s.momentum(steps))(batch)
        for member, got in zip(members, momenta, strict=True):
            assert_close(got, member.momentum(np.arange(40)), dtype="float32", what="momentum")


def test_schedules_built_from_traced_values() -> None:
    """Inside jit and vmap a schedule is built from tracers: checks that need a number are
    skipped (as equinox does) and the formula runs on the tracers."""

    def lr(peak: Any, gamma: Any) -> Any:
        warmup = lrfun.OneCycleLR(peak, total_steps=100)
        decay = lrfun.ExponentialLR(peak, gamma=gamma)
        return warmup(jnp.arange(10)), decay(7)

    got = jax.jit(lr)(0.3, 0.9)
    assert_close(got[0], lrfun.OneCycleLR(0.3, total_steps=100)(np.arange(10)), dtype="float32")
    np.testing.assert_allclose(got[1], 0.3 * 0.9**7, rtol=1e-5)
    swept = jax.vmap(lr)(jnp.array([0.1, 0.2]), jnp.array([0.5, 0.9]))
    np.testing.assert_allclose(swept[1], [0.1 * 0.5**7, 0.2 * 0.9**7], rtol=1e-5)

    # composites of schedules built from traced values
    def warmup(peak: Any) -> Any:
        children = [lrfun.LinearLR(peak, 0.1, total_iters=5), lrfun.CosineAnnealingLR(peak, 20)]
        return lrfun.SequentialLR(children, [5])(jnp.arange(30))

    expected = warmup(0.2)  # concrete: checked, and the reference
    assert_close(jax.jit(warmup)(0.2), expected, dtype="float32")
    assert_close(jax.vmap(warmup)(jnp.array([0.2, 0.4]))[1], 2 * expected, dtype="float32")
    # per-group values from traced ones
    groups = jax.jit(lambda a, b: lrfun.StepLR([a, b], 2)(jnp.arange(3)))(0.1, 0.2)
    np.testing.assert_allclose(groups, [[0.1, 0.2], [0.1, 0.2], [0.01, 0.02]], rtol=1e-6)


_SCALARS = [np.float64, np.float32, np.asarray, jnp.float32, jnp.asarray]


@pytest.mark.parametrize("make", _SCALARS, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_zero_d_scalars_are_floats(make: Any) -> None:
    a = lrfun.StepLR(make(0.1), 3, gamma=make(0.5))
    assert a == lrfun.StepLR(float(make(0.1)), 3, gamma=0.5)
    assert type(a.base_lr) is float and a.to_config()["gamma"] == 0.5
    b = lrfun.ExponentialLR(0.1, gamma=make(0.9))
    assert b(3) == lrfun.ExponentialLR(0.1, gamma=float(make(0.9)))(3)
    with pytest.raises(ValueError, match=r"^gamma must be a finite number >= 0\.0, got -0\.5"):
        lrfun.ExponentialLR(0.1, gamma=make(-0.5))
    with pytest.raises(ValueError, match=r"^max_lr must be a finite number >= 0\.0"):
        lrfun.OneCycleLR(make(np.nan), total_steps=10)


def test_zero_d_arrays_of_the_wrong_kind_name_the_argument() -> None:
    with pytest.raises(TypeError, match=r"^gamma must be a finite number"):
        lrfun.ExponentialLR(0.1, gamma=np.asarray(True))
    with pytest.raises(TypeError, match=r"^base_lr must be a finite number"):
        lrfun.StepLR(np.asarray("0.1"), 3)


def test_torch_tensor_hyperparameters_compute_on_their_device() -> None:
    peak = torch.tensor(0.1, dtype=torch.float64)
    s = lrfun.ExponentialLR(peak, gamma=0.5)
    assert s.base_lr is peak  # kept, checked
    out = s(torch.arange(4))
    assert isinstance(out, torch.Tensor) and out.device == peak.device
    assert_close(out, lrfun.ExponentialLR(0.1, gamma=0.5)(np.arange(4)), dtype="float32")
    assert isinstance(s(2), torch.Tensor)  # a Python step follows the tensor
    with pytest.raises(ValueError, match=r"^base_lr must be a finite number >= 0\.0"):
        lrfun.ExponentialLR(torch.tensor(-1.0), gamma=0.5)


def test_x64_traced_values_meet_the_float64_tolerance() -> None:
    with jax.enable_x64(True):
        s = lrfun.CosineAnnealingLR(0.1, T_max=50, eta_min=1e-3)
        got = jax.jit(lambda s, t: s(t))(s, jnp.arange(200))
        assert got.dtype == jnp.float64
        assert_close(got, s(np.arange(200)), dtype="float64")


@pytest.mark.parametrize("first", ["jax", "lrfun"])
def test_registration_in_either_import_order(first: str) -> None:
    """lrfun imports no jax; whichever comes first, schedules are pytrees once both are in."""
    second = "lrfun" if first == "jax" else "jax"
    code = f"""
import sys
import {first}
import {second}
import lrfun
assert ("jax" in sys.modules) == True
import jax
s = lrfun.OneCycleLR(0.1, total_steps=10)
leaves = jax.tree_util.tree_leaves(s)
assert leaves == [0.1, 0.85, 0.95, 25.0, 1e4], leaves
out = jax.jit(lambda s, t: s(t))(s, 3)
assert abs(float(out) - s(3)) <= 1e-6 * 0.1, (out, s(3))

import dataclasses
@dataclasses.dataclass(frozen=True)
class Later(lrfun.Schedule, register=False):
    pass
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_import_lrfun_imports_no_jax() -> None:
    code = "import sys, lrfun; import lrfun.plot; assert 'jax' not in sys.modules; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_the_sweep_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, "examples")
    try:
        import sweep_jax
    finally:
        sys.path.remove("examples")
    assert sweep_jax.main(["--models", "3", "--steps", "12"]) == 0
    assert '"traces": 1' in capsys.readouterr().out
