"""lrfun.optax: an optax optimizer driven through the adapters applies torch's lrs.

Two checks per run, both against torch's native scheduler stepped live on the same
optimizer kind: the hyperparameters optax records (lr, momentum / b1) and the update optax
actually applies, against the update torch's optimizer applies (gradient 1 at every step).
"""

from __future__ import annotations

import pickle
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
import lrfun.optax
from parity import assert_close, lr_scale, param_groups, torch_scheduler
from parity.strategies import (
    NAMES,
    compositions,
    configs,
    horizon,
    metric_sequences,
    unit_momenta,
)

_PLATEAU = "ReduceLROnPlateau"
_OPTAX = {"sgd": optax.sgd, "adam": optax.adam}
_CONSTANT = {"sgd": {"momentum": 0.9}, "adam": {"b1": 0.9, "b2": 0.999}}


def torch_run(
    config: dict[str, Any], steps: int, kind: str, metrics: list[float] | None = None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """torch's native run: (lr, momentum or None, update), each of shape (steps + 1, groups);
    row k is what optimizer step k used / applied (gradient 1, float64 parameters)."""
    opt, sched = torch_scheduler(config, optimizer=kind)
    params = [group["params"][0] for group in opt.param_groups]
    for p in params:
        # float64 parameters, reset to 0 before each step: the change is the applied update,
        # with no rounding against an accumulated value.
        p.data = p.data.double()
        p.grad = torch.ones_like(p)
    cycles = lrfun.from_config(config).cycles_momentum if config["name"] != _PLATEAU else False
    lrs, momenta, updates = [], [], []
    for k in range(steps + 1):
        lrs.append([float(g["lr"]) for g in opt.param_groups])
        if cycles:
            momenta.append(
                [float(g["betas"][0] if "betas" in g else g["momentum"]) for g in opt.param_groups]
            )
        with torch.no_grad():
            for p in params:
                p.zero_()
        opt.step()
        updates.append([float(p.detach()[0]) for p in params])
        if k < steps and metrics is None:
            sched.step()
        elif k < steps:
            sched.step(metrics[k])
    return np.array(lrs), np.array(momenta) if cycles else None, np.array(updates)


def optax_run(
    opt: optax.GradientTransformationExtraArgs,
    steps: int,
    metrics: list[float] | None,
    eager: bool,
) -> tuple[list[dict[str, float]], np.ndarray]:
    """The hyperparameters recorded after each of steps + 1 updates and the updates."""
    params = jnp.zeros(2)
    grads = jnp.ones(2)
    state = opt.init(params)
    update = opt.update if eager else jax.jit(opt.update)
    hyper, out = [], []
    for k in range(steps + 1):
        extra = {} if metrics is None else {"value": metrics[k] if k < steps else 0.0}
        updates, state = update(grads, state, params, **extra)
        out.append(float(updates[0]))
        if hasattr(state, "hyperparams"):  # inject's state; a chain's has none
            hyper.append({name: float(v) for name, v in state.hyperparams.items()})
    return hyper, np.array(out)


# Examples per property: a compile per drawn schedule makes these the slowest properties,
# so they run a sixth of the profile's examples (4 in CI, 66 in the thorough profile).
_EXAMPLES = max(4, settings.default.max_examples // 6)


def _schedule(config: dict[str, Any], steps: int) -> Any:
    if config["name"] in ("SequentialLR", "ChainedScheduler", "MultiplicativeLR"):
        # Simulated on the host: tabulated up front for tracing, as a user passes horizon=.
        return lrfun.from_config({**config, "horizon": steps + 1})
    return lrfun.from_config(config)


def _traceable(schedule: Any) -> bool:
    """Whether the schedule traces (a user lambda that branches on the step does not: it
    runs eagerly, as it would for a user)."""
    try:
        jax.eval_shape(schedule, jnp.int32(0))
    except Exception:
        return False
    return True


def _update_scale(config: dict[str, Any], lr: np.ndarray, applied: np.ndarray) -> float:
    """The magnitude an update's rounding is relative to: the update is the lr times a factor
    of size ~1 to 1/(1 - momentum), and torch rounds the lr relative to the schedule's largest
    lr-valued argument (an eta_min far above base_lr), so the update's scale is that times
    the factor."""
    top = float(np.abs(lr).max())
    return lr_scale(config) * float(np.abs(applied).max()) / top if top > 0 else 0.0


def _base(plateau: Any, index: int | None) -> float:
    return plateau.base_lr[index] if isinstance(plateau.base_lr, tuple) else plateau.base_lr


_steps = st.one_of(st.integers(0, 40), st.integers(40, 300))


def _check(data: st.DataObject, config: dict[str, Any], steps: int) -> None:
    # Momentum bounds outside [0, 1): torch's Adam raises on such a beta1, and SGD's updates
    # grow without bound (optax's float32 ones overflow first): lrs and momenta are compared.
    unit = unit_momenta(config)
    kind = data.draw(st.sampled_from(["sgd", "adam"] if unit else ["sgd"]), label="optimizer")
    x64 = data.draw(st.booleans(), label="x64")
    if config["name"] == "LambdaLR":
        steps = min(steps, 60)  # may run eagerly, an update at a time
    groups = param_groups(config)
    group = data.draw(st.integers(0, groups - 1), label="group")
    lr, momentum, applied = torch_run(config, steps, kind)
    # Adam divides by 1 - b1**t: a b1 that float32 rounds to 1 (0.9999999999999998) makes
    # optax's update 0/0 in float32, where torch's float64 update is finite. The lr and b1
    # themselves are still compared; only such updates are not comparable.
    comparable = x64 or kind != "adam" or momentum is None or np.float32(momentum.max()) < 1
    comparable = comparable and unit
    # torch's SGD keeps no momentum buffer while the momentum is 0 and starts it at the first
    # non-zero one (buf = grad), where optax's trace has run all along: updates after a
    # cycled momentum of exactly 0 differ by design of the two optimizers, not the schedule.
    if kind == "sgd" and momentum is not None and np.any(momentum[:, group] == 0):
        comparable = False
    with jax.enable_x64(x64):
        schedule = _schedule(config, steps)
        hyperparams = {
            k: v
            for k, v in _CONSTANT[kind].items()
            if not (schedule.cycles_momentum and k in ("momentum", "b1"))
        }
        opt = lrfun.optax.inject(
            _OPTAX[kind],
            schedule,
            group=None if schedule.groups is None else group,
            **hyperparams,
        )
        hyper, updates = optax_run(opt, steps, None, eager=not _traceable(schedule))
    dtype = "float64" if x64 else "float32"
    scale = lr_scale(config)
    assert_close([h["learning_rate"] for h in hyper], lr[:, group], dtype=dtype, scale=scale)
    if momentum is not None:
        name = "momentum" if kind == "sgd" else "b1"
        assert_close([h[name] for h in hyper], momentum[:, group], dtype=dtype, what="momentum")
    if comparable:
        scale = _update_scale(config, lr, applied)
        assert_close(updates, applied[:, group], dtype=dtype, scale=scale)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
@settings(max_examples=_EXAMPLES)
def test_inject_matches_torch(name: str, data: st.DataObject) -> None:
    config = data.draw(configs(name), label="config")
    _check(data, config, horizon(config, data.draw(_steps, label="steps")))


@given(data=st.data())
@settings(max_examples=2 * _EXAMPLES)
def test_inject_matches_torch_compositions(data: st.DataObject) -> None:
    config = data.draw(compositions(max_depth=2), label="config")
    _check(data, config, horizon(config, data.draw(st.integers(0, 200), label="steps")))


def _plateau_case(data: st.DataObject) -> tuple[dict[str, Any], list[float], int, str, bool]:
    # float32 decisions equal torch's float64 ones on float32-exact metrics and settings; in
    # float64 (x64) any values do.
    x64 = data.draw(st.booleans(), label="x64")
    config = data.draw(configs(_PLATEAU, exact32=not x64), label="config")
    metrics = data.draw(metric_sequences(exact32=not x64), label="metrics")
    group = data.draw(st.integers(0, param_groups(config) - 1), label="group")
    kind = data.draw(st.sampled_from(["sgd", "adam"]), label="optimizer")
    return config, metrics, group, kind, x64


@given(data=st.data())
@settings(max_examples=2 * _EXAMPLES)
def test_inject_plateau_matches_torch(data: st.DataObject) -> None:
    config, metrics, group, kind, x64 = _plateau_case(data)
    lr, _, applied = torch_run(config, len(metrics), kind, metrics)
    with jax.enable_x64(x64):
        plateau = lrfun.from_config(config)
        index = None if plateau.groups is None else group
        opt = lrfun.optax.inject(_OPTAX[kind], plateau, group=index, **_CONSTANT[kind])
        hyper, updates = optax_run(opt, len(metrics), metrics, eager=False)
    dtype = "float64" if x64 else "float32"
    assert_close([h["learning_rate"] for h in hyper], lr[:, group], dtype=dtype)
    assert_close(updates, applied[:, group], dtype=dtype, scale=_update_scale(config, lr, applied))


@given(data=st.data())
@settings(max_examples=2 * _EXAMPLES)
def test_reduce_on_plateau_matches_torch(data: st.DataObject) -> None:
    config, metrics, group, kind, x64 = _plateau_case(data)
    lr, _, applied = torch_run(config, len(metrics), kind, metrics)
    with jax.enable_x64(x64):
        plateau = lrfun.from_config(config)
        index = None if plateau.groups is None else group
        opt = optax.chain(
            _OPTAX[kind](_base(plateau, index), **_CONSTANT[kind]),
            lrfun.optax.reduce_on_plateau(plateau, group=index),
        )
        _, updates = optax_run(opt, len(metrics), metrics, eager=False)
    scale = _update_scale(config, lr, applied)
    assert_close(updates, applied[:, group], dtype="float64" if x64 else "float32", scale=scale)


@given(
    config=configs(_PLATEAU, exact32=True),
    metrics=metric_sequences(exact32=True).filter(bool),
    data=st.data(),
)
@settings(max_examples=2 * _EXAMPLES)
def test_plateau_state_round_trips(
    config: dict[str, Any], metrics: list[float], data: st.DataObject
) -> None:
    """Stop after k updates, save the optimizer state (plateau state included) as NumPy,
    restore it: the rest of the run is the uninterrupted one's, bit for bit."""
    k = data.draw(st.integers(0, len(metrics)), label="k")
    plateau = lrfun.from_config(config)
    index = None if plateau.groups is None else 0
    opt = optax.chain(
        optax.sgd(_base(plateau, index)), lrfun.optax.reduce_on_plateau(plateau, group=index)
    )
    update = jax.jit(opt.update)
    params, grads = jnp.zeros(2), jnp.ones(2)

    def run(state: Any, values: list[float]) -> tuple[Any, list[float]]:
        out = []
        for value in values:
            updates, state = update(grads, state, params, value=value)
            out.append(float(updates[0]))
        return state, out

    _, whole = run(opt.init(params), metrics)
    state, first = run(opt.init(params), metrics[:k])
    saved = pickle.dumps(jax.tree.map(np.asarray, state))
    restored = jax.tree.map(jnp.asarray, pickle.loads(saved))
    _, rest = run(restored, metrics[k:])
    assert first + rest == whole


def test_schedule_is_an_optax_schedule() -> None:
    """A bare lrfun schedule as optax's learning_rate: optax's int32 count, traced."""
    schedule = lrfun.OneCycleLR(0.1, total_steps=50)
    opt = optax.sgd(learning_rate=schedule)
    state = opt.init(jnp.zeros(1))
    update = jax.jit(opt.update)
    applied = []
    for _ in range(51):
        updates, state = update(jnp.ones(1), state)
        assert state[-1].count.dtype == jnp.int32
        applied.append(-float(updates[0]))
    assert_close(applied, schedule(np.arange(51)), dtype="float32")


def test_inject_shows_momentum_in_state() -> None:
    schedule = lrfun.CyclicLR(0.01, 0.1, step_size_up=4)
    opt = lrfun.optax.inject(optax.adam, schedule, b2=0.99)
    state = opt.init(jnp.zeros(1))
    for k in range(10):
        _, state = opt.update(jnp.ones(1), state)
        np.testing.assert_allclose(float(state.hyperparams["b1"]), schedule.momentum(k), 1e-6)
        assert float(state.hyperparams["b2"]) == pytest.approx(0.99)


def _adagrad_onecycle() -> Any:
    return lrfun.optax.inject(optax.adagrad, lrfun.OneCycleLR(0.1, total_steps=9))


_BAD = [
    (lambda: lrfun.optax.inject(optax.sgd, lambda c: 0.1), TypeError, "lrfun schedule"),
    (lambda: lrfun.optax.inject(optax.scale, lrfun.StepLR(0.1, 2)), TypeError, "learning_rate"),
    (_adagrad_onecycle, ValueError, "neither a momentum nor a b1"),
    (
        lambda: lrfun.optax.inject(optax.sgd, lrfun.OneCycleLR(0.1, 9), momentum=0.9),
        ValueError,
        "momentum=0.9 given",
    ),
    (lambda: lrfun.optax.inject(optax.sgd, lrfun.StepLR([0.1, 0.2], 2)), ValueError, "group="),
    (
        lambda: lrfun.optax.inject(optax.sgd, lrfun.StepLR([0.1, 0.2], 2), group=2),
        ValueError,
        r"group must be an integer in \[0, 2\), got 2",
    ),
    (
        lambda: lrfun.optax.inject(optax.sgd, lrfun.StepLR([0.1, 0.2], 2), group=True),
        TypeError,
        r"group must be an integer in \[0, 2\), got True",
    ),
    (lambda: lrfun.optax.inject(optax.sgd, lrfun.StepLR(0.1, 2), group=0), ValueError, "group=0"),
    (lambda: lrfun.optax.reduce_on_plateau(lrfun.StepLR(0.1, 2)), TypeError, "plateau"),
    (
        lambda: lrfun.optax.reduce_on_plateau(lrfun.ReduceLROnPlateau([0.1, 0.2])),
        ValueError,
        "group=",
    ),
]


@pytest.mark.parametrize(("make", "error", "words"), _BAD)
def test_bad_arguments(make: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        make()


def test_plateau_needs_the_metric() -> None:
    opt = lrfun.optax.inject(optax.sgd, lrfun.ReduceLROnPlateau(0.1))
    state = opt.init(jnp.zeros(1))
    with pytest.raises(TypeError, match="value=metric"):
        opt.update(jnp.ones(1), state)
    chained = lrfun.optax.reduce_on_plateau(lrfun.ReduceLROnPlateau(0.1))
    with pytest.raises(TypeError, match="value"):
        chained.update(jnp.ones(1), chained.init(jnp.zeros(1)))


def test_param_groups_through_multi_transform() -> None:
    """One value per group: each group's optimizer follows its own column."""
    schedule = lrfun.OneCycleLR([0.1, 0.01], total_steps=20)
    opt = optax.multi_transform(
        {g: lrfun.optax.inject(optax.sgd, schedule, group=i) for i, g in enumerate("ab")},
        {"a": "a", "b": "b"},
    )
    params = {"a": jnp.zeros(1), "b": jnp.zeros(1)}
    grads = {"a": jnp.ones(1), "b": jnp.ones(1)}
    state = opt.init(params)
    update = jax.jit(opt.update)
    for k in range(20):
        updates, state = update(grads, state, params)
        expected = schedule(k)
        for i, g in enumerate("ab"):
            lr = float(state.inner_states[g].inner_state.hyperparams["learning_rate"])
            assert lr == pytest.approx(expected[i], rel=1e-5)
    assert float(updates["a"][0]) != float(updates["b"][0])
