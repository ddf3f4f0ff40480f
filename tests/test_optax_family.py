"""optax's schedule factories as lrfun schedules (the ``optax.`` family), proven against
optax's own schedule functions, run live.

Every class is checked over its whole argument space (its ``_strategy``, edges included)
at integer and float steps: in float64 against optax under x64 (rtol 1e-12, atol 1e-12 x
the largest lr), in float32 against optax's own float32 evaluation and against its x64
one (rtol 1e-5, atol 1e-6 x the largest lr), on NumPy, JAX and torch steps.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lrfun
import lrfun.extend
import lrfun.optax
import lrfun.plot
import lrfun.torch
from lrfun._optax_family import _Optax, optax_values
from lrfun._spec import parse, to_spec
from parity.strategies import configs

NAMES = lrfun.extend.names("optax.")

# optax's factory of each class
FACTORIES = {name: lrfun.extend.registered(name)._factory for name in NAMES}  # type: ignore[union-attr]

# Integer steps: the first few hundred (every boundary the strategies draw) and a few far ones.
STEPS = np.concatenate([np.arange(400), [1_000, 4_096, 123_457, 10**6, 2**31 - 1]])

# Classes whose optax float32 evaluation raises float32(decay_rate) to the step's power:
# optax's own error grows with the exponent, which lrfun does not copy (see the module).
_OWN_DRIFT = {"optax.ExponentialDecay", "optax.WarmupExponentialDecaySchedule"}


def _drifts(s: Any) -> bool:
    """Whether optax's float32 evaluation of ``s`` drifts (a join's children included)."""
    return s._name in _OWN_DRIFT or any(_drifts(c) for c in getattr(s, "schedules", ()))


def _optax32(schedule: Any, steps: np.ndarray) -> np.ndarray:
    """optax's schedule, as optax runs it by default: int32 (or float32) counts, float32."""
    fn = schedule._optax()
    values = jax.vmap(fn)(jnp.asarray(steps))
    return np.broadcast_to(np.asarray(values), steps.shape).astype(np.float32)


def _numpy(s: Any, steps: Any) -> Any:
    """The schedule at NumPy (or Python) steps: a growth (decay_rate > 1) passes float64's
    range at far steps, where optax's lr is inf too and NumPy's warning says so."""
    with np.errstate(over="ignore", invalid="ignore"):
        return s(steps)


def _check(ours: Any, reference: Any, dtype: str, slack: Any = 0.0) -> float:
    result = lrfun.compare(np.asarray(ours), np.asarray(reference), dtype=dtype, slack=slack)
    assert result.passed, result
    return float(result.max_fraction)


def _real_steps() -> st.SearchStrategy[np.ndarray]:
    """Float steps: whole ones, halves, and any real count up to a few hundred."""
    value = st.one_of(
        st.integers(0, 400).map(float),
        st.integers(0, 400).map(lambda k: k + 0.5),
        st.floats(0.0, 420.0),
        st.floats(0.0, 1e6),
    )
    # one length: optax's reference compiles its operations once per shape
    return st.lists(value, min_size=24, max_size=24).map(lambda v: np.asarray(v, np.float64))


def _examples(fraction: float) -> Any:
    """Settings drawing ``fraction`` of the profile's examples (at least 2)."""
    return settings(max_examples=max(2, round(settings().max_examples * fraction)))


@pytest.mark.parametrize("name", NAMES)
@_examples(0.3)
@given(data=st.data())
def test_float64_equals_optax_x64(name: str, data: st.DataObject) -> None:
    config = data.draw(configs(name), label="config")
    s = lrfun.from_config(config)
    _check(_numpy(s, STEPS), optax_values(s, STEPS), "float64")
    # float steps are real-valued counts, as optax computes with them
    real = data.draw(_real_steps(), label="float steps")
    _check(_numpy(s, real), optax_values(s, real), "float64")
    # a Python step is one number, optax's too
    assert s(7) == pytest.approx(float(optax_values(s, np.array([7]))[0]), rel=1e-12, abs=1e-300)
    assert s(7.25) == pytest.approx(
        float(optax_values(s, np.array([7.25]))[0]), rel=1e-12, abs=1e-300
    )


@pytest.mark.parametrize("name", NAMES)
@_examples(0.12)
@given(data=st.data())
def test_float32_equals_optax(name: str, data: st.DataObject) -> None:
    config = data.draw(configs(name), label="config")
    s = lrfun.from_config(config)
    steps = STEPS.astype(np.int32)
    ours = s(jnp.asarray(steps))
    assert ours.dtype == jnp.float32
    truth = optax_values(s, STEPS)
    _check(ours, truth, "float32")  # lrfun's float32 is within float32 tolerance of x64
    # optax's own float32 run, short of int32's last count (where optax's `boundary - count`
    # of a negative boundary wraps around)
    theirs = _optax32(s, steps[:-1])
    slack = np.abs(theirs - truth[:-1]) if _drifts(s) else 0.0
    _check(ours[:-1], theirs, "float32", slack=slack)
    real = data.draw(_real_steps(), label="float steps").astype(np.float32)
    ours_real = s(jnp.asarray(real))
    truth_real = optax_values(s, real.astype(np.float64))
    _check(ours_real, truth_real, "float32")
    theirs_real = _optax32(s, real)
    slack = np.abs(theirs_real - truth_real) if _drifts(s) else 0.0
    _check(ours_real, theirs_real, "float32", slack=slack)


@pytest.mark.parametrize("name", NAMES)
@_examples(0.12)
@given(data=st.data())
def test_torch_steps(name: str, data: st.DataObject) -> None:
    config = data.draw(configs(name), label="config")
    s = lrfun.from_config(config)
    truth = optax_values(s, STEPS)
    ours32 = s(torch.as_tensor(STEPS))  # torch's default float dtype: float32
    assert ours32.dtype == torch.float32
    _check(ours32.numpy(), truth, "float32")
    _check(s(torch.as_tensor(STEPS, dtype=torch.float64)).numpy(), truth, "float64")
    real = data.draw(_real_steps(), label="float steps")
    _check(s(torch.as_tensor(real)).numpy(), optax_values(s, real), "float64")


@pytest.mark.parametrize("name", NAMES)
@_examples(0.3)
@given(data=st.data())
def test_configs_and_specs_round_trip(name: str, data: st.DataObject) -> None:
    config = data.draw(configs(name), label="config")
    s = lrfun.from_config(config)
    assert lrfun.from_config(s.to_config()) == s
    assert lrfun.from_config(json.loads(json.dumps(s.to_config()))) == s
    assert parse(to_spec(s)) == s
    assert s.to_config()["name"] == name and repr(s).startswith(f"{name}(")


@pytest.mark.parametrize("name", NAMES)
def test_factories_have_optaxs_names_and_arguments(name: str) -> None:
    factory = FACTORIES[name]
    ours, theirs = getattr(lrfun.optax, factory), getattr(optax, factory)
    assert factory in lrfun.optax.__all__
    assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters)
    for p, q in zip(
        inspect.signature(ours).parameters.values(),
        inspect.signature(theirs).parameters.values(),
        strict=True,
    ):
        assert p.default == q.default, (factory, p.name)
    cls = lrfun.extend.registered(name)
    assert getattr(lrfun.optax, cls.__name__) is cls and cls.__name__ in lrfun.optax.__all__
    # the class's fields are the factory's arguments, in its order
    fields = [f.name for f in dataclasses.fields(cls) if f.init]
    assert fields == list(inspect.signature(theirs).parameters)
    # its gallery example is what the factory returns for the same arguments
    example = parse(cls._gallery[0])
    arguments = example.arguments()
    if "boundaries_and_scales" in arguments:
        arguments["boundaries_and_scales"] = dict(arguments["boundaries_and_scales"])
    assert getattr(lrfun.optax, factory)(**arguments) == example


# Cases optax's docstrings and source single out, with the values optax documents.
@pytest.mark.parametrize(
    ("schedule", "steps", "expected"),
    [
        (lrfun.optax.constant_schedule(5.0), [0, 100], [5.0, 5.0]),
        (
            lrfun.optax.polynomial_schedule(1.0, 0.01, 2, 100, transition_begin=5),
            [0, 5, 6, 104, 105, 110],
            [1.0, 1.0, 0.9803, 0.0101, 0.01, 0.01],
        ),
        (lrfun.optax.linear_schedule(1.0, 0.01, 100), [0, 100], [1.0, 0.01]),
        (
            lrfun.optax.piecewise_constant_schedule(1.0, {100: 0.1, 200: 0.01}),
            [50, 150, 250],
            [1.0, 0.1, 0.001],
        ),
        (
            lrfun.optax.piecewise_interpolate_schedule("linear", 1.0, {4: 0.1, 8: 0.01}),
            [0, 2, 4, 6, 8, 10],
            [1.0, 0.55, 0.1, 0.0505, 0.001, 0.001],
        ),
        # transition_steps <= 0: constant at init_value, with or without a decay
        (lrfun.optax.linear_schedule(1.0, 0.0, 0), [0, 10], [1.0, 1.0]),
        (lrfun.optax.polynomial_schedule(1.0, 0.0, 2, -3), [0, 10], [1.0, 1.0]),
        (lrfun.optax.exponential_decay(1.0, 0, 0.5), [0, 10], [1.0, 1.0]),
        (lrfun.optax.exponential_decay(1.0, 10, 0.0), [0, 10], [1.0, 1.0]),
        # a negative transition_begin counts as 0
        (lrfun.optax.linear_schedule(1.0, 0.0, 4, -10), [0, 2], [1.0, 0.5]),
        # warmup_constant of no warmup stays at init_value
        (lrfun.optax.warmup_constant_schedule(0.1, 1.0, 0), [0, 50], [0.1, 0.1]),
        # end_value bounds a decay from below, a growth from above
        (lrfun.optax.exponential_decay(1.0, 1, 0.5, end_value=0.2), [1, 2, 3], [0.5, 0.25, 0.2]),
        (lrfun.optax.exponential_decay(1.0, 1, 2.0, end_value=3.0), [1, 2], [2.0, 3.0]),
        # onecycle phase ends at int(pct_start * T) and T
        (lrfun.optax.cosine_onecycle_schedule(10, 1.0, 0.25), [2, 10], [1.0, 1e-4 / 25]),
    ],
    ids=repr,
)
def test_documented_values(schedule: lrfun.Schedule, steps: list[int], expected: list[float]):
    np.testing.assert_allclose(schedule(np.asarray(steps)), expected, rtol=1e-4)
    np.testing.assert_allclose(optax_values(schedule, np.asarray(steps)), expected, rtol=1e-4)


@pytest.mark.parametrize(
    ("factory", "arguments", "error", "match"),
    [
        ("cosine_decay_schedule", (1.0, 0), ValueError, "decay_steps"),
        ("cosine_decay_schedule", (1.0, 10, -0.1), ValueError, "alpha"),
        ("cosine_decay_schedule", (1.0, 10, 0.0, -1.0), ValueError, "exponent"),
        ("warmup_cosine_decay_schedule", (0.0, 1.0, 10, 10), ValueError, "decay_steps"),
        ("warmup_cosine_decay_schedule", (0.0, 1.0, -1, 10), ValueError, "warmup_steps"),
        ("linear_schedule", (-1.0, 0.0, 10), ValueError, "init_value"),
        ("linear_schedule", (1.0, 0.0, 2.5), TypeError, "transition_steps"),
        ("polynomial_schedule", (1.0, 0.0, -1.0, 10), ValueError, "power"),
        ("exponential_decay", (1.0, 10, -0.5), ValueError, "decay_rate"),
        ("exponential_decay", (1.0, 10, 0.5, 0, "yes"), TypeError, "staircase"),
        ("piecewise_constant_schedule", (1.0, {10: -0.1}), ValueError, "scale|10"),
        ("piecewise_constant_schedule", (1.0, [[10, 0.1, 3]]), TypeError, "pairs"),
        ("piecewise_constant_schedule", (1.0, "10: 0.1"), TypeError, "boundaries_and_scales"),
        ("piecewise_interpolate_schedule", ("cubic", 1.0), ValueError, "interpolate_type"),
        ("piecewise_interpolate_schedule", ("linear", 1.0, {-1: 0.5}), ValueError, "step"),
        ("cosine_onecycle_schedule", (0, 1.0), ValueError, "transition_steps"),
        ("linear_onecycle_schedule", (10, 1.0, 1.5), ValueError, "pct_start"),
        ("linear_onecycle_schedule", (10, 1.0, 0.3, 0.85, 0.0), ValueError, "div_factor"),
        ("constant_schedule", (float("nan"),), ValueError, "value"),
    ],
)
def test_bad_arguments_name_themselves(
    factory: str, arguments: tuple[Any, ...], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        getattr(lrfun.optax, factory)(*arguments)


def test_optax_rejects_what_lrfun_rejects_for_its_own_reasons() -> None:
    # where optax raises itself, lrfun raises too
    with pytest.raises(ValueError):
        optax.cosine_decay_schedule(1.0, 0)
    with pytest.raises(ValueError):
        optax.piecewise_constant_schedule(1.0, {10: -0.1})
    with pytest.raises(ValueError):
        optax.cosine_onecycle_schedule(0, 1.0)


def test_one_trace_for_any_values_and_vmap_sweeps() -> None:
    traces = []

    @jax.jit
    def lr(schedule: Any, step: Any) -> Any:
        traces.append(1)
        return schedule(step)

    for peak in (0.1, 0.2, 0.3):
        s = lrfun.optax.warmup_cosine_decay_schedule(0.0, peak, 10, 100, end_value=peak / 10)
        np.testing.assert_allclose(lr(s, jnp.arange(120)), s(np.arange(120)), rtol=1e-5, atol=1e-7)
    assert len(traces) == 1
    stacked = jax.tree.map(
        lambda *xs: jnp.asarray(xs),
        *[lrfun.optax.exponential_decay(p, 10, 0.9) for p in (0.1, 0.2)],
    )
    swept = jax.vmap(lambda s: s(jnp.arange(50)))(stacked)
    np.testing.assert_allclose(swept[1], 2 * swept[0], rtol=1e-6)


def test_torch_adapter_drives_an_optimizer() -> None:
    s = lrfun.optax.warmup_cosine_decay_schedule(0.0, 0.1, 5, 40, end_value=0.001)
    param = torch.zeros(3, requires_grad=True)
    opt = torch.optim.SGD([param], lr=123.0)  # the schedule sets the lrs itself
    sched = lrfun.torch.Scheduler(opt, s)
    reference = optax_values(s, np.arange(50))
    assert opt.param_groups[0]["lr"] == pytest.approx(reference[0], abs=1e-15)
    for k in range(1, 50):
        param.grad = torch.ones_like(param)
        opt.step()
        sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(reference[k], rel=1e-12, abs=1e-15)


def test_optax_adapter_and_optax_agree() -> None:
    s = lrfun.optax.piecewise_constant_schedule(0.1, {3: 0.5, 5: 0.1})
    ours = lrfun.optax.inject(optax.sgd, s)
    theirs = optax.inject_hyperparams(optax.sgd)(learning_rate=s._optax())
    params = jnp.zeros(2)
    a, b = ours.init(params), theirs.init(params)
    for _ in range(8):
        _, a = ours.update(jnp.ones(2), a, params)
        _, b = theirs.update(jnp.ones(2), b, params)
        assert float(a.hyperparams["learning_rate"]) == pytest.approx(
            float(b.hyperparams["learning_rate"]), rel=1e-6
        )
    # an lrfun schedule is an optax schedule as it is
    updates, _ = optax.sgd(s).update(jnp.ones(2), optax.sgd(s).init(params))
    np.testing.assert_allclose(updates, -0.1 * jnp.ones(2), rtol=1e-6)


def test_plot_against_the_reference_names_optax() -> None:
    s = lrfun.optax.linear_onecycle_schedule(100, 0.1)
    verdict = lrfun.plot.against_torch(s, steps=120)
    assert verdict.passed and verdict.reference.reference.startswith("optax")


def test_many_boundaries_are_one_lookup() -> None:
    scales = {k: 0.999 for k in range(1, 3_000, 3)}
    s = lrfun.optax.piecewise_constant_schedule(1.0, scales)
    ks = np.arange(3_200)
    _check(s(ks), optax_values(s, ks), "float64")
    lowered = jax.jit(lambda k: s(k)).lower(jnp.arange(8)).as_text()
    assert len(lowered.splitlines()) < 200  # optax's loop gives thousands of lines here
    rising = {k: 1.001 for k in range(0, 999, 7)}
    t = lrfun.optax.piecewise_interpolate_schedule("cosine", 1.0, rising)
    _check(t(ks), optax_values(t, ks), "float64")


def test_every_class_is_the_family() -> None:
    assert len(NAMES) == 13
    for name in NAMES:
        cls = lrfun.extend.registered(name)
        assert cls is not None and issubclass(cls, _Optax) and cls._reference.name == "optax"


# -- joins: optax's join_schedules and sgdr_schedule ---------------------------------------


def _sgdr_kwargs() -> st.SearchStrategy[list[dict[str, Any]]]:
    """sgdr_schedule's cycles: warmup_cosine_decay_schedule's arguments, one to four."""
    cycle = configs("optax.WarmupCosineDecaySchedule").map(
        lambda c: {k: v for k, v in c.items() if k != "name"}
    )
    return st.lists(cycle, min_size=1, max_size=4)


def _optax_live(fn: Any, steps: np.ndarray, x64: bool) -> np.ndarray:
    with jax.enable_x64(x64):
        return np.asarray(jax.vmap(fn)(jnp.asarray(steps)), dtype=np.float64)


@_examples(0.3)
@given(kwargs=_sgdr_kwargs(), real=_real_steps())
def test_sgdr_equals_optax(kwargs: list[dict[str, Any]], real: np.ndarray) -> None:
    s = lrfun.optax.sgdr_schedule(kwargs)
    assert isinstance(s, lrfun.optax.JoinSchedules)
    assert all(type(c) is lrfun.optax.WarmupCosineDecaySchedule for c in s.schedules)
    theirs = optax.sgdr_schedule(kwargs)  # optax's own, not built from lrfun's children
    _check(s(STEPS), _optax_live(theirs, STEPS, True), "float64")
    _check(s(real), _optax_live(theirs, real, True), "float64")
    steps32 = STEPS[:-1].astype(np.int32)
    _check(s(jnp.asarray(steps32)), _optax_live(theirs, steps32, False), "float32")
    real32 = real.astype(np.float32)
    _check(s(jnp.asarray(real32)), _optax_live(theirs, real32, False), "float32")
    assert lrfun.from_config(json.loads(json.dumps(s.to_config()))) == s
    assert parse(to_spec(s)) == s


def test_joins_reach_every_drawn_structure() -> None:
    # the strategy draws 1-4 children of every class but the join, with boundaries below 0,
    # at 0, repeated and out of order (as optax takes them)
    seen: dict[str, set[Any]] = {"n": set(), "names": set(), "low": set(), "order": set()}

    @settings(max_examples=300, database=None)
    @given(configs("optax.JoinSchedules"))
    def draw(config: dict[str, Any]) -> None:
        b = config["boundaries"]
        seen["n"].add(len(config["schedules"]))
        seen["names"].update(c["name"] for c in config["schedules"])
        seen["low"].update(x <= 0 for x in b)
        seen["order"].add(b == sorted(b))

    draw()
    assert seen["n"] == {1, 2, 3, 4}
    assert seen["names"] == set(NAMES) - {"optax.JoinSchedules"}
    assert seen["low"] == {True, False} and seen["order"] == {True, False}


@pytest.mark.parametrize(
    "boundaries", [[5, 12], [0, 7], [-3, 4], [9, 4], [6, 6], [-2, -5], [2**40, 3]]
)
def test_join_boundaries_as_optax_takes_them(boundaries: list[int]) -> None:
    children = [
        lrfun.optax.linear_schedule(1.0, 0.0, 10),
        lrfun.optax.cosine_decay_schedule(0.5, 6, alpha=0.2),
        lrfun.optax.exponential_decay(0.3, 3, 0.5, staircase=True),
    ]
    s = lrfun.optax.join_schedules(children, boundaries)
    steps = np.arange(40)
    with jax.enable_x64(True):
        theirs = optax.join_schedules([c._optax() for c in children], boundaries)
        expected = np.array([float(theirs(k)) for k in steps.tolist()])  # one count at a time
    _check(s(steps), expected, "float64")
    _check(s(jnp.asarray(steps)), expected, "float32")
    _check(s(steps + 0.5), optax_values(s, steps + 0.5), "float64")


def test_join_of_any_schedule_and_joins_of_joins() -> None:
    # torch's schedules (a real-step one among them) and a join as children: optax's
    # join_schedules over the children as JAX functions
    children = [
        lrfun.StepLR(0.1, step_size=3, gamma=0.5),
        lrfun.CosineAnnealingWarmRestarts(0.2, T_0=5),
        lrfun.optax.sgdr_schedule(
            [{"init_value": 0.0, "peak_value": 0.3, "warmup_steps": 2, "decay_steps": 6}] * 2
        ),
    ]
    s = lrfun.optax.join_schedules(children, [7, 20])
    theirs = optax.join_schedules(children, [7, 20])
    steps = np.concatenate([np.arange(60), np.arange(60) + 0.25])
    _check(s(steps), _optax_live(theirs, steps, True), "float64")
    _check(s(jnp.asarray(steps, jnp.float32)), _optax_live(theirs, steps, True), "float32")
    assert lrfun.from_config(json.loads(json.dumps(s.to_config()))) == s
    spec = to_spec(s)
    assert spec.startswith("optax.JoinSchedules([StepLR(0.1, step_size=3, gamma=0.5), ")
    assert parse(spec) == s
    alone = parse("optax.JoinSchedules(schedules=[optax.ConstantSchedule(0.1)], boundaries=[])")
    assert alone(5) == 0.1


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        (([], []), ValueError, "at least one"),
        (([lrfun.optax.constant_schedule(0.1)], [3]), ValueError, "one value fewer"),
        (([lrfun.optax.constant_schedule(0.1)] * 2, [2.5]), TypeError, "boundaries"),
        (([lrfun.optax.constant_schedule(0.1), 0.5], [2]), TypeError, r"schedules\[1\]"),
        (([lrfun.StepLR([0.1, 0.2], 3)], []), ValueError, "param groups"),
        ((lrfun.optax.constant_schedule(0.1), []), TypeError, "list of schedules"),
    ],
)
def test_bad_joins_name_themselves(arguments: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        lrfun.optax.join_schedules(*arguments)


def test_bad_sgdr_and_specs() -> None:
    with pytest.raises(ValueError, match="cosine_kwargs"):
        lrfun.optax.sgdr_schedule([])
    with pytest.raises(TypeError, match="cosine_kwargs"):
        lrfun.optax.sgdr_schedule([0.1])
    with pytest.raises(ValueError, match="decay_steps"):
        lrfun.optax.sgdr_schedule(
            [{"init_value": 0.0, "peak_value": 1.0, "warmup_steps": 4, "decay_steps": 4}]
        )
    with pytest.raises(lrfun.SpecError, match="schedules must be a list of schedule calls"):
        parse("optax.JoinSchedules(0.1, boundaries=[])")
    with pytest.raises(lrfun.SpecError, match=r"optax\.JoinSchedules's schedules"):
        parse("optax.LinearSchedule(optax.ConstantSchedule(0.1), 0.0, 10)")


def test_join_one_trace_per_structure() -> None:
    traces = []

    @jax.jit
    def lr(schedule: Any, step: Any) -> Any:
        traces.append(1)
        return schedule(step)

    def sgdr(peak: float) -> Any:
        return lrfun.optax.sgdr_schedule(
            [{"init_value": 0.0, "peak_value": peak, "warmup_steps": 5, "decay_steps": 30}] * 3
        )

    for peak in (0.1, 0.2, 0.3):
        s = sgdr(peak)
        got = lr(s, jnp.arange(100))
        np.testing.assert_allclose(got, s(np.arange(100)), rtol=1e-5, atol=1e-7)
    assert len(traces) == 1
    lr(lrfun.optax.join_schedules(sgdr(0.1).schedules, [30, 61]), jnp.arange(100))
    assert len(traces) == 2  # other boundaries: another structure
    stacked = jax.tree.map(lambda *xs: jnp.asarray(xs), sgdr(0.1), sgdr(0.2))
    swept = jax.vmap(lambda s: s(jnp.arange(50)))(stacked)
    np.testing.assert_allclose(swept[1], 2 * swept[0], rtol=1e-6, atol=1e-9)


def test_join_adapters() -> None:
    s = lrfun.optax.sgdr_schedule(
        [{"init_value": 0.0, "peak_value": 0.1, "warmup_steps": 2, "decay_steps": 8}] * 3
    )
    theirs = optax.sgdr_schedule(
        [{"init_value": 0.0, "peak_value": 0.1, "warmup_steps": 2, "decay_steps": 8}] * 3
    )
    ours_tx = lrfun.optax.inject(optax.sgd, s)
    theirs_tx = optax.inject_hyperparams(optax.sgd)(learning_rate=theirs)
    params = jnp.zeros(2)
    a, b = ours_tx.init(params), theirs_tx.init(params)
    for _ in range(26):
        _, a = ours_tx.update(jnp.ones(2), a, params)
        _, b = theirs_tx.update(jnp.ones(2), b, params)
        assert float(a.hyperparams["learning_rate"]) == pytest.approx(
            float(b.hyperparams["learning_rate"]), rel=1e-6, abs=1e-9
        )
    param = torch.zeros(3, requires_grad=True)
    opt = torch.optim.SGD([param], lr=123.0)
    sched = lrfun.torch.Scheduler(opt, s)
    reference = optax_values(s, np.arange(30))
    for k in range(1, 30):
        param.grad = torch.ones_like(param)
        opt.step()
        sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(reference[k], rel=1e-12, abs=1e-15)
    verdict = lrfun.plot.against_torch(s, steps=30)
    assert verdict.passed and verdict.reference.reference.startswith("optax")
