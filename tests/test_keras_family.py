"""Keras 3's schedules as lrfun schedules (the ``keras.`` family), proven against Keras'
own schedule objects, run live on its JAX backend; and lrfun schedules inside Keras
(``lrfun.keras.LearningRateSchedule``).

Every class is checked over its whole argument space (its ``_strategy``, edges included)
at integer and float steps: in float64 (NumPy, torch float64) against Keras in float64
(rtol 1e-12, atol 1e-12 x the largest lr), in float32 (JAX under ``jit``, torch float32)
against Keras' float64 and against Keras' own float32 run (rtol 1e-5, atol 1e-6 x the
largest lr, plus Keras' own float32 distance from its float64 run), from the class and
from the live Keras object read back with ``from_keras``.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lrfun
import lrfun.extend
import lrfun.keras
import lrfun.plot
from lrfun._keras_family import _Keras, keras_values
from lrfun._spec import parse, to_spec
from parity.strategies import configs

NAMES = lrfun.extend.names("keras.")

# Integer steps: the first few hundred (every boundary the strategies draw) and far ones.
STEPS = np.concatenate([np.arange(400), [1_000, 4_096, 123_457, 10**6, 2**31 - 1]])


def _examples(fraction: float) -> Any:
    """Settings drawing ``fraction`` of the profile's examples (at least 2)."""
    return settings(max_examples=max(2, round(settings().max_examples * fraction)))


def _real_steps() -> st.SearchStrategy[np.ndarray]:
    """Float steps: whole ones, halves, and any real count (one length: Keras' reference
    runs its operations once per shape)."""
    value = st.one_of(
        st.integers(0, 400).map(float),
        st.integers(0, 400).map(lambda k: k + 0.5),
        # (no subnormals: XLA on CPU flushes them to 0 in Keras' comparisons)
        st.floats(0.0, 420.0, allow_subnormal=False),
        st.floats(0.0, 1e6, allow_subnormal=False),
    )
    return st.lists(value, min_size=24, max_size=24).map(lambda v: np.asarray(v, np.float64))


def _numpy(s: Any, steps: Any) -> Any:
    # a growth (decay_rate > 1) passes float64's range at far steps, as Keras' does
    with np.errstate(over="ignore", invalid="ignore"):
        return s(steps)


def _check(ours: Any, reference: Any, dtype: str, slack: Any = 0.0, scale: float = 0.0) -> float:
    """lrfun's values against the reference under the one tolerance policy; ``scale``: the
    schedule's largest lr (Keras computes with it where the lrs never reach it)."""
    ours, reference = np.asarray(ours, dtype=np.float64), np.asarray(reference)
    if dtype == "float32":
        # past float32's range (a growth late in a run) both float32 runs give inf
        inside = np.abs(reference) < float(np.finfo(np.float32).max)
        ours, reference = ours[inside], reference[inside]
        slack = np.broadcast_to(slack, inside.shape)[inside]
    result = lrfun.compare(ours, reference, dtype=dtype, slack=slack, scale=scale)
    assert result.passed, result
    return float(result.max_fraction)


def _truth(s: Any, steps: np.ndarray) -> tuple[np.ndarray, Any]:
    """Keras' float64 values (at a restart step, Keras' value just past it: see
    ``keras_values``), and the error Keras' own float64 arithmetic carries: its
    CosineDecayRestarts takes the count into a cycle as ``c - floor(c)`` of ``c = step /
    first_decay_steps`` (geometric cycles alike), losing ``ulp(c)`` of a cycle late in a run,
    where lrfun counts in integers -- up to pi/2 x the largest lr x ``ulp(c)``."""
    reference = keras_values(s, steps)
    if s._name != "keras.CosineDecayRestarts":
        return reference, 0.0
    c = np.asarray(steps, dtype=np.float64) / s.first_decay_steps
    return reference, 2.0 * np.pi * s._lr_scale() * np.spacing(np.maximum(c, 1.0))


@pytest.mark.parametrize("name", NAMES)
@_examples(0.24)
@given(data=st.data())
def test_float64_equals_keras(name: str, data: st.DataObject) -> None:
    s = lrfun.from_config(data.draw(configs(name), label="config"))
    truth, drift = _truth(s, STEPS)
    _check(_numpy(s, STEPS), truth, "float64", drift, scale=s._lr_scale())
    ours64 = s(torch.as_tensor(STEPS, dtype=torch.float64)).numpy()
    _check(ours64, truth, "float64", drift, scale=s._lr_scale())
    # float steps are real-valued counts, as Keras computes with them
    real = data.draw(_real_steps(), label="float steps")
    truth_real, drift_real = _truth(s, real)
    _check(_numpy(s, real), truth_real, "float64", drift_real, scale=s._lr_scale())
    _check(s(torch.as_tensor(real)).numpy(), truth_real, "float64", drift_real, scale=s._lr_scale())
    # a Python step is one number
    assert s(7.25) == pytest.approx(float(_truth(s, np.array([7.25]))[0][0]), rel=1e-12, abs=1e-300)


def _against_keras32(ours: Any, theirs: np.ndarray, truth: np.ndarray, scale: float) -> None:
    """lrfun's float32 values against Keras' own float32 run, allowed Keras' distance from
    its float64 one (where Keras' float32 overflows -- 0 * inf of a growth -- it has no
    value to compare)."""
    finite = np.isfinite(theirs)
    ours = np.asarray(ours)[finite]
    _check(ours, theirs[finite], "float32", slack=np.abs(theirs - truth)[finite], scale=scale)


@jax.jit
def _jitted(schedule: Any, step: Any) -> Any:
    return schedule(step)


@pytest.mark.parametrize("name", NAMES)
@_examples(0.16)
@given(data=st.data())
def test_float32_jit_and_torch_equal_keras(name: str, data: st.DataObject) -> None:
    s = lrfun.from_config(data.draw(configs(name), label="config"))
    steps = STEPS.astype(np.int32)
    truth, _ = _truth(s, STEPS)
    ours = _jitted(s, jnp.asarray(steps))
    assert ours.dtype == jnp.float32
    _check(
        ours, truth, "float32", scale=s._lr_scale()
    )  # within float32 tolerance of Keras' float64
    ours_torch = s(torch.as_tensor(steps))
    assert ours_torch.dtype == torch.float32
    _check(ours_torch.numpy(), truth, "float32", scale=s._lr_scale())
    # Keras' own float32 run, allowed its own distance from its float64 one
    theirs = keras_values(s, steps, dtype="float32")
    _against_keras32(ours, theirs, truth, s._lr_scale())
    real = data.draw(_real_steps(), label="float steps").astype(np.float32)
    truth_real, _ = _truth(s, real.astype(np.float64))
    ours_real = _jitted(s, jnp.asarray(real))
    _check(ours_real, truth_real, "float32", scale=s._lr_scale())
    _check(s(torch.as_tensor(real)).numpy(), truth_real, "float32", scale=s._lr_scale())
    theirs_real = keras_values(s, real, dtype="float32")
    _against_keras32(ours_real, theirs_real, truth_real, s._lr_scale())


@pytest.mark.parametrize("name", NAMES)
@_examples(0.12)
@given(data=st.data())
def test_from_the_live_keras_object(name: str, data: st.DataObject) -> None:
    s = lrfun.from_config(data.draw(configs(name), label="config"))
    live = s._keras()  # Keras' own object of the same arguments
    read = lrfun.keras.from_keras(live)
    assert read == s and type(read) is type(s)
    # evaluated, the schedule read back is Keras' object
    steps = np.arange(64)
    _check(_numpy(read, steps), _truth(read, steps)[0], "float64")
    # through Keras' own serialization too
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(live))
    assert lrfun.keras.from_keras(again) == s


@pytest.mark.parametrize("name", NAMES)
@_examples(0.3)
@given(data=st.data())
def test_configs_and_specs_round_trip(name: str, data: st.DataObject) -> None:
    s = lrfun.from_config(data.draw(configs(name), label="config"))
    assert lrfun.from_config(json.loads(json.dumps(s.to_config()))) == s
    assert parse(to_spec(s)) == s
    assert s.to_config()["name"] == name and repr(s).startswith(f"{name}(")


@pytest.mark.parametrize("name", NAMES)
def test_classes_have_keras_names_and_arguments(name: str) -> None:
    cls = lrfun.extend.registered(name)
    assert cls is not None and issubclass(cls, _Keras) and cls._reference.name == "keras"
    assert getattr(lrfun.keras, cls.__name__) is cls and cls.__name__ in lrfun.keras.__all__
    theirs = inspect.signature(getattr(keras.optimizers.schedules, cls.__name__))
    keras_arguments = {p.name: p for p in theirs.parameters.values() if p.name != "name"}
    fields = [f for f in dataclasses.fields(cls) if f.init]
    assert [f.name for f in fields] == list(keras_arguments)  # Keras' order, less name
    for f in fields:
        default = keras_arguments[f.name].default
        if default is not inspect.Parameter.empty:
            assert f.default == default, (name, f.name)
    assert parse(cls._gallery[0]).to_config()["name"] == name


def test_every_class_is_the_family() -> None:
    assert NAMES == tuple(
        sorted(
            f"keras.{n}"
            for n in (
                "CosineDecay",
                "CosineDecayRestarts",
                "ExponentialDecay",
                "InverseTimeDecay",
                "PiecewiseConstantDecay",
                "PolynomialDecay",
            )
        )
    )


# Cases Keras' docstrings and source single out; values from lrfun and Keras, both live.
@pytest.mark.parametrize(
    ("schedule", "steps"),
    [
        # a boundary is passed once the step is beyond it (not at it), for float steps too
        (lrfun.keras.PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1]), [100, 100.5, 101]),
        # a repeated boundary skips the value between
        (lrfun.keras.PiecewiseConstantDecay([5, 5], [1.0, 0.5, 0.1]), [5, 6]),
        # staircase floors the real step / decay_steps
        (lrfun.keras.ExponentialDecay(1.0, 4, 0.5, staircase=True), [3.99, 4.0, 7.5, 8]),
        (lrfun.keras.InverseTimeDecay(1.0, 4, 1.0, staircase=True), [3.99, 4.0, 7.5]),
        # cycle: ceil(step / decay_steps) cycles, 1 at step 0
        (lrfun.keras.PolynomialDecay(1.0, 4, 0.0, cycle=True), [0, 0.5, 4, 4.5, 8, 9]),
        # warmup_steps=0 with a target decays from the target at once
        (lrfun.keras.CosineDecay(0.0, 10, warmup_target=1.0), [0, 5, 10, 20]),
        # warmup_steps without a target does nothing
        (lrfun.keras.CosineDecay(1.0, 10, warmup_steps=5), [0, 5, 10]),
        # the floor is alpha * initial_learning_rate, the peaks shrink by m_mul
        (lrfun.keras.CosineDecayRestarts(1.0, 2, 1.0, 0.5, 0.1), [0, 1, 2, 3, 4, 5.5]),
        (lrfun.keras.CosineDecayRestarts(1.0, 2, 1.5, 0.5, 0.0), [2, 4.99, 5, 5.5, 9.5]),
    ],
    ids=repr,
)
def test_keras_behaviours(schedule: Any, steps: list[float]) -> None:
    at = np.asarray(steps, dtype=np.float64)
    _check(schedule(at), keras_values(schedule, at), "float64")


@pytest.mark.parametrize(
    ("cls", "arguments", "error", "match"),
    [
        ("ExponentialDecay", (0.1, 0, 0.5), ValueError, "decay_steps"),
        ("ExponentialDecay", (0.1, 2.5, 0.5), TypeError, "decay_steps"),
        ("ExponentialDecay", (0.1, 10, -0.5), ValueError, "decay_rate"),
        ("ExponentialDecay", (-0.1, 10, 0.5), ValueError, "initial_learning_rate"),
        ("ExponentialDecay", (0.1, 10, 0.5, "yes"), TypeError, "staircase"),
        ("PiecewiseConstantDecay", ([], [0.1]), ValueError, "boundaries"),
        ("PiecewiseConstantDecay", ([10, 5], [0.1, 0.2, 0.3]), ValueError, "non-decreasing"),
        ("PiecewiseConstantDecay", ([10], [0.1]), ValueError, "one more"),
        ("PiecewiseConstantDecay", ([2.5], [0.1, 0.2]), TypeError, "boundaries"),
        ("PiecewiseConstantDecay", ([10], [0.1, -0.2]), ValueError, r"values\[1\]"),
        ("PiecewiseConstantDecay", ([10], "ab"), TypeError, "values"),
        ("PolynomialDecay", (0.1, 10, 0.0, -1.0), ValueError, "power"),
        ("PolynomialDecay", (0.1, 10, float("nan")), ValueError, "end_learning_rate"),
        ("InverseTimeDecay", (0.1, 10, -1.0), ValueError, "decay_rate"),
        ("CosineDecay", (0.1, 10, -0.1), ValueError, "alpha"),
        ("CosineDecay", (0.1, 10, 0.0, -1.0), ValueError, "warmup_target"),
        ("CosineDecay", (0.1, 10, 0.0, 1.0, -1), ValueError, "warmup_steps"),
        ("CosineDecayRestarts", (0.1, 0), ValueError, "first_decay_steps"),
        ("CosineDecayRestarts", (0.1, 10, 0.5), ValueError, "t_mul"),
        ("CosineDecayRestarts", (0.1, 10, 2.0, -0.5), ValueError, "m_mul"),
        ("CosineDecayRestarts", (0.1, 10, 2.0, 1.0, -0.1), ValueError, "alpha"),
    ],
)
def test_bad_arguments_name_themselves(
    cls: str, arguments: tuple[Any, ...], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        getattr(lrfun.keras, cls)(*arguments)


def _live(cls: str, *arguments: Any, **keywords: Any) -> Any:
    return getattr(keras.optimizers.schedules, cls)(*arguments, **keywords)


def test_what_lrfun_refuses_keras_turns_into_nonsense() -> None:
    # measured live: each refused input gives Keras NaN, negative lrs, sums of values or an
    # error at the first call (docs/keras.md lists them)
    with pytest.raises(ValueError):  # Keras refuses too
        _live("ExponentialDecay", 0.1, 0, 0.5)
    assert np.isnan(float(_live("ExponentialDecay", 0.1, 10, -0.5)(5)))
    assert float(_live("InverseTimeDecay", 0.1, 1, -1.0)(1)) == np.inf
    assert float(_live("InverseTimeDecay", 0.1, 1, -1.0)(2)) < 0
    assert float(_live("CosineDecay", 1.0, 10, alpha=-0.5)(10)) < 0
    assert float(_live("PolynomialDecay", 1.0, 10, 0.0, power=-1.0)(10)) == np.inf
    assert np.isnan(float(_live("CosineDecayRestarts", 1.0, 10, t_mul=0.5)(25)))
    unsorted = _live("PiecewiseConstantDecay", [10, 5], [1.0, 0.5, 0.25])
    assert float(unsorted(7)) == pytest.approx(1.25)  # values[0] + values[2]
    with pytest.raises(IndexError):
        _live("PiecewiseConstantDecay", [], [0.1])(3)
    # Keras extrapolates below step 0; lrfun gives step 0's value
    assert float(_live("ExponentialDecay", 1.0, 1, 0.5)(-1)) == pytest.approx(2.0)
    assert lrfun.keras.ExponentialDecay(1.0, 1, 0.5)(-1) == 1.0


def test_one_trace_for_any_values_and_vmap_sweeps() -> None:
    traces = []

    @jax.jit
    def lr(schedule: Any, step: Any) -> Any:
        traces.append(1)
        return schedule(step)

    for peak in (0.1, 0.2, 0.3):
        s = lrfun.keras.CosineDecayRestarts(peak, 10, 2.0, 0.8, 0.1)
        np.testing.assert_allclose(lr(s, jnp.arange(120)), s(np.arange(120)), rtol=1e-5, atol=1e-7)
    assert len(traces) == 1
    stacked = jax.tree.map(
        lambda *xs: jnp.asarray(xs),
        *[lrfun.keras.PiecewiseConstantDecay([5, 10], [p, p / 2, p / 4]) for p in (0.1, 0.2)],
    )
    swept = jax.vmap(lambda s: s(jnp.arange(20)))(stacked)
    np.testing.assert_allclose(swept[1], 2 * swept[0], rtol=1e-6)


def test_restarts_close_to_one_and_late() -> None:
    # t_mul close to 1: more restarts than the host table holds; later ones use the formula
    s = lrfun.keras.CosineDecayRestarts(0.1, 3, 1.0005, 0.99, 0.1)
    steps = np.array([0, 5, 100, 10_000, 40_000, 123_457, 10**6])
    truth, _ = _truth(s, steps)
    _check(s(steps), truth, "float64")
    s1 = lrfun.keras.CosineDecayRestarts(0.1, 7, 1.0, 0.99)
    truth1, _ = _truth(s1, STEPS)
    _check(_jitted(s1, jnp.asarray(STEPS.astype(np.int32))), truth1, "float32")


def test_keras_misfloors_restarts_lrfun_restarts() -> None:
    s = lrfun.keras.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    raw = keras_values(s, np.arange(200), at_restarts=False)
    # 70 = 10 * (2**3 - 1): Keras stays at the previous cycle's trough there
    assert raw[70] == pytest.approx(0.0, abs=1e-12) and raw[71] > 0.1
    assert s(70) == pytest.approx(0.5**3) == keras_values(s, np.array([70]))[0]
    _check(s(np.arange(200)), keras_values(s, np.arange(200)), "float64")


def test_many_boundaries_are_one_lookup() -> None:
    boundaries = list(range(1, 3_000, 3))
    values = [0.999**i for i in range(len(boundaries) + 1)]
    s = lrfun.keras.PiecewiseConstantDecay(boundaries, values)
    lowered = jax.jit(lambda k: s(k)).lower(jnp.arange(8)).as_text()
    assert len(lowered.splitlines()) < 200  # Keras' sum has terms per boundary


# -- lrfun schedules inside Keras ----------------------------------------------------------


# Keras' own .keras saving reads its Variables through NumPy's old __array__ protocol
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_learning_rate_schedule_in_a_keras_optimizer(tmp_path: Any) -> None:
    from lrfun.keras import LearningRateSchedule

    s = lrfun.OneCycleLR(0.1, total_steps=40)
    wrapped = LearningRateSchedule(s)
    assert isinstance(wrapped, keras.optimizers.schedules.LearningRateSchedule)
    assert lrfun.keras.from_keras(wrapped) is s
    assert wrapped.get_config() == s.to_config()
    variable = keras.Variable(7, dtype="int32", trainable=False)  # a Keras Variable step
    assert float(wrapped(variable)) == pytest.approx(s(7), rel=1e-6)
    assert wrapped(7) == s(7)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=wrapped), loss="mse")
    model.fit(np.ones((12, 3)), np.ones((12, 1)), epochs=2, batch_size=2, verbose=0)
    iterations = int(model.optimizer.iterations.value)
    assert iterations == 12
    assert float(model.optimizer.learning_rate) == pytest.approx(s(iterations), rel=1e-6)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    schedule = loaded.optimizer._learning_rate
    assert isinstance(schedule, LearningRateSchedule) and schedule.schedule == s
    for k in (0, 5, 13, 39):
        assert float(schedule(k)) == float(wrapped(k))
    # a Keras family schedule, and a config, wrap the same way
    assert LearningRateSchedule(s.to_config()).schedule == s
    with pytest.raises(TypeError, match="schedule"):
        LearningRateSchedule(0.1)
    with pytest.raises(ValueError, match="param groups"):
        LearningRateSchedule(lrfun.StepLR([0.1, 0.2], 3))


def test_learning_rate_schedule_on_the_torch_backend() -> None:
    # Keras reads its backend once per process: a fresh one, on torch
    code = textwrap.dedent(
        """
        import numpy as np, keras, torch, lrfun, lrfun.keras
        assert keras.config.backend() == "torch"
        s = lrfun.keras.CosineDecay(0.0, 20, warmup_target=0.1, warmup_steps=5)
        wrapped = lrfun.keras.LearningRateSchedule(s)
        lr = wrapped(keras.Variable(3, dtype="int64", trainable=False))
        assert isinstance(lr, torch.Tensor), type(lr)
        assert abs(float(lr) - s(3)) < 1e-7
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=wrapped), loss="mse")
        model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=2, batch_size=2, verbose=0)
        k = int(model.optimizer.iterations.numpy())
        assert k == 8 and abs(float(model.optimizer.learning_rate) - s(k)) < 1e-7
        print("ok")
        """
    )
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


def test_importing_lrfun_keras_imports_no_keras() -> None:
    code = (
        "import sys, lrfun, lrfun.keras\n"
        "assert 'keras' not in sys.modules and 'jax' not in sys.modules\n"
        "lrfun.keras.CosineDecay(0.1, 10)(5)\n"
        "assert 'keras' not in sys.modules\n"
        "print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_from_keras_refuses_other_objects() -> None:
    class Mine(keras.optimizers.schedules.ExponentialDecay):
        def __call__(self, step: Any) -> Any:
            return 0.0

    with pytest.raises(TypeError, match="from_keras"):
        lrfun.keras.from_keras(Mine(0.1, 10, 0.5))
    with pytest.raises(TypeError, match="from_keras"):
        lrfun.keras.from_keras(lrfun.StepLR(0.1, 3))
    with pytest.raises(ValueError, match="decay_rate"):
        lrfun.keras.from_keras(_live("ExponentialDecay", 0.1, 10, -0.5))


def test_parity_report_names_keras() -> None:
    s = lrfun.keras.CosineDecayRestarts(0.1, 10, 2.0, 0.8, 0.05)
    verdict = lrfun.plot.against_torch(s, steps=120)
    assert verdict.passed and verdict.reference.reference.startswith("keras ")
