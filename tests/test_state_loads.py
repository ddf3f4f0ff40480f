"""State loads are checked whole before anything changes.

``Scheduler.load_state_dict``, ``PlateauScheduler.load_state_dict`` and
``lrfun.optax.check_state`` refuse a corrupt state (wrong type, out of range, not one value per
param group, not finite, written by the other kind of scheduler) with an error naming the
entry and the value; a refused load leaves the scheduler, and the optimizer's lrs and momenta,
exactly as they were. A Hypothesis state machine interleaves steps, saves
(``torch.save`` / ``torch.load(weights_only=True)``), good loads and corrupt loads.
"""

from __future__ import annotations

import copy
import io
import math
import pickle
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

import lrfun
import lrfun.optax
import lrfun.torch

State = dict[str, Any]

# -- snapshots: everything a load could change ----------------------------------------------


def _plain(value: Any) -> Any:
    """A comparable copy: arrays and tensors become (dtype, values); floats keep NaN equal."""
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), value.detach().cpu().tolist())
    if isinstance(value, (np.ndarray, np.generic)):
        return ("array", str(value.dtype), value.tolist())
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_plain(v) for v in value])
    return value


def _groups(opt: torch.optim.Optimizer) -> Any:
    keys = ("lr", "initial_lr", "momentum", "betas")
    return [{k: _plain(g[k]) for k in keys if k in g} for g in opt.param_groups]


def snapshot(sched: Any) -> Any:
    """The scheduler's attributes (the schedule object by identity) and every group's
    lr / initial_lr / momentum / betas."""
    attributes = {
        key: id(value) if key in ("schedule", "plateau", "_optimizer", "optimizer") else value
        for key, value in vars(sched).items()
    }
    return _plain(attributes), _groups(sched.optimizer)


def _params(groups: int) -> list[dict[str, Any]]:
    return [{"params": [torch.zeros(1, requires_grad=True)]} for _ in range(groups)]


# -- the table -------------------------------------------------------------------------------


def _sgd(groups: int = 2, lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD(_params(groups), lr=lr, momentum=0.9)


def _scheduler(steps: int = 5) -> lrfun.torch.Scheduler:
    """Two groups, momentum cycled: every kind of entry a Scheduler state has."""
    opt = _sgd()
    sched = lrfun.torch.Scheduler(opt, lrfun.OneCycleLR([0.1, 0.2], total_steps=50))
    for _ in range(steps):
        opt.step()
        sched.step()
    return sched


def _nan_after_5() -> lrfun.torch.Scheduler:
    """A user function that is NaN past step 5: a state at step 7 would write NaN."""
    opt = _sgd(1)
    return lrfun.torch.Scheduler(
        opt, lrfun.LambdaLR(0.1, lambda step: 1.0 if step <= 5 else math.nan)
    )


def _plateau(steps: int = 3) -> lrfun.torch.PlateauScheduler:
    opt = _sgd()
    sched = lrfun.torch.PlateauScheduler(opt, lrfun.ReduceLROnPlateau([0.1, 0.2], patience=1))
    for metric in [3.0, 2.0, 2.0, 2.0, 1.0][:steps]:
        opt.step()
        sched.step(metric)
    return sched


def _set(**entries: Any) -> Callable[[State], Any]:
    def change(state: State) -> State:
        state.update(entries)
        return state

    return change


def _drop(*keys: str) -> Callable[[State], Any]:
    def change(state: State) -> State:
        for key in keys:
            del state[key]
        return state

    return change


def _other_kind(build: Callable[[], Any], *drop: str) -> Callable[[State], Any]:
    """The state of another scheduler, its config entry deleted (as the docs say to do to
    load across configs)."""

    def change(state: State) -> State:
        del state
        other = build().state_dict()
        for key in drop:
            other.pop(key, None)
        return other

    return change


def _native_step_lr() -> Any:
    opt = _sgd()
    return torch.optim.lr_scheduler.StepLR(opt, step_size=2)


def _native_plateau() -> Any:
    return torch.optim.lr_scheduler.ReduceLROnPlateau(_sgd())


_NAN, _INF = math.nan, math.inf

# (id, scheduler, corruption, exception, words the message contains)
_BAD_STATES: list[tuple[str, Callable[[], Any], Callable[[State], Any], type, list[str]]] = [
    # Scheduler: the cases found, then their neighbours.
    ("last_epoch 2**63", _scheduler, _set(last_epoch=2**63), ValueError,
     ["last_epoch", "9223372036854775808", "9007199254740992"]),
    ("last_epoch 2**70", _scheduler, _set(last_epoch=2**70), ValueError,
     ["last_epoch", "9007199254740992"]),
    ("last_epoch 2**53 + 1", _scheduler, _set(last_epoch=2**53 + 1), ValueError,
     ["last_epoch", str(2**53 + 1)]),
    ("last_epoch -2", _scheduler, _set(last_epoch=-2), ValueError, ["last_epoch", "-2"]),
    ("last_epoch bool", _scheduler, _set(last_epoch=True), TypeError, ["last_epoch", "True"]),
    ("last_epoch float", _scheduler, _set(last_epoch=3.0), TypeError, ["last_epoch", "3.0"]),
    ("last_epoch str", _scheduler, _set(last_epoch="3"), TypeError, ["last_epoch", "'3'"]),
    ("base_lrs int", _scheduler, _set(base_lrs=5), TypeError, ["base_lrs", "5"]),
    ("base_lrs str", _scheduler, _set(base_lrs="abc"), TypeError, ["base_lrs", "'abc'"]),
    ("base_lrs length", _scheduler, _set(base_lrs=[0.1]), ValueError,
     ["base_lrs", "2 finite numbers", "[0.1]"]),
    ("base_lrs nan", _scheduler, _set(base_lrs=[0.1, _NAN]), ValueError,
     ["base_lrs'][1]", "nan"]),
    ("base_lrs negative", _scheduler, _set(base_lrs=[-1.0, 0.1]), ValueError,
     ["base_lrs'][0]", "-1.0"]),
    ("base_lrs strings", _scheduler, _set(base_lrs=["0.1", "0.1"]), TypeError,
     ["base_lrs'][0]", "'0.1'"]),
    ("base_lrs huge", _scheduler, _set(base_lrs=[0.1] * 10**6), ValueError,
     ["base_lrs", "1000000 values", "..."]),
    ("_step_count -1", _scheduler, _set(_step_count=-1), ValueError, ["_step_count", "-1"]),
    ("_step_count None", _scheduler, _set(_step_count=None), TypeError,
     ["_step_count", "None"]),
    ("_last_lr inf", _scheduler, _set(_last_lr=[_INF, 0.1]), ValueError,
     ["_last_lr'][0]", "inf"]),
    ("_last_lr str", _scheduler, _set(_last_lr="ab"), TypeError, ["_last_lr", "'ab'"]),
    ("restarted_from length", _scheduler, _set(restarted_from=[0.1, 0.1, 0.1]), ValueError,
     ["restarted_from", "3 values"]),
    ("restarted_from nan", _scheduler, _set(restarted_from=[_NAN, 0.1]), ValueError,
     ["restarted_from'][0]", "nan"]),
    ("another schedule", _scheduler,
     _set(schedule={"name": "ExponentialLR", "base_lr": 0.1, "gamma": 0.5}), ValueError,
     ["ExponentialLR", "delete state_dict['schedule']"]),
    ("plateau state", _scheduler, _other_kind(_plateau, "plateau"), ValueError,
     ["best", "PlateauScheduler"]),
    ("torch plateau state", _scheduler, _other_kind(_native_plateau), ValueError,
     ["best", "ReduceLROnPlateau"]),
    ("no last_epoch", _scheduler, _drop("last_epoch"), ValueError, ["lacks", "last_epoch"]),
    ("not a mapping", _scheduler, lambda state: list(state.items()), TypeError,
     ["mapping", "list"]),
    ("schedule gives nan", _nan_after_5, _set(last_epoch=7), ValueError,
     ["last_epoch", "7", "nan", "refusing"]),
    # PlateauScheduler.
    ("best nan", _plateau, _set(best=_NAN), ValueError, ["best", "nan"]),
    ("best str", _plateau, _set(best="1.0"), TypeError, ["best", "'1.0'"]),
    ("lr nan", _plateau, _set(lr=[_NAN, 0.1]), ValueError, ["lr'][0]", "nan"]),
    ("lr inf", _plateau, _set(lr=[0.1, _INF]), ValueError, ["lr'][1]", "inf"]),
    ("lr -1", _plateau, _set(lr=[-1.0, 0.1]), ValueError, ["lr'][0]", "-1.0", ">= 0"]),
    ("lr str", _plateau, _set(lr="abc"), TypeError, ["lr", "'abc'"]),
    ("lr strings", _plateau, _set(lr=["0.1", "0.2"]), TypeError, ["lr'][0]", "'0.1'"]),
    ("lr bools", _plateau, _set(lr=[True, False]), TypeError, ["lr'][0]", "True"]),
    ("lr length", _plateau, _set(lr=[0.1]), ValueError, ["lr", "2 finite numbers"]),
    ("num_bad_epochs -1", _plateau, _set(num_bad_epochs=-1), ValueError,
     ["num_bad_epochs", "-1"]),
    ("num_bad_epochs 2**31", _plateau, _set(num_bad_epochs=2**31), ValueError,
     ["num_bad_epochs", "2147483646", "2147483648"]),
    ("cooldown_counter float", _plateau, _set(cooldown_counter=1.5), TypeError,
     ["cooldown_counter", "1.5"]),
    ("plateau last_epoch 2**63", _plateau, _set(last_epoch=2**63), ValueError,
     ["last_epoch", "9007199254740992"]),
    ("plateau _step_count -1", _plateau, _set(_step_count=-1), ValueError,
     ["_step_count", "-1"]),
    ("plateau _last_lr nan", _plateau, _set(_last_lr=[_NAN, 0.1]), ValueError,
     ["_last_lr'][0]", "nan"]),
    ("min_lrs other", _plateau, _set(min_lrs=[0.5, 0.5]), ValueError, ["min_lrs", "0.5"]),
    ("min_lrs nan", _plateau, _set(min_lrs=[_NAN, 0.0]), ValueError, ["min_lrs'][0]", "nan"]),
    ("another plateau", _plateau, _set(plateau=lrfun.ReduceLROnPlateau(0.1).to_config()),
     ValueError, ["patience", "delete state_dict['plateau']"]),
    ("scheduler state", _plateau, _other_kind(_scheduler, "schedule"), ValueError,
     ["base_lrs", "Scheduler"]),
    ("torch StepLR state", _plateau, _other_kind(_native_step_lr), ValueError,
     ["base_lrs", "LRScheduler"]),
    ("torch plateau state into plateau", _plateau, _other_kind(_native_plateau), ValueError,
     ["lacks", "'lr'"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "corrupt", "error", "words"),
    [row[1:] for row in _BAD_STATES],
    ids=[row[0] for row in _BAD_STATES],
)
def test_bad_state_is_refused_and_changes_nothing(
    build: Callable[[], Any], corrupt: Callable[[State], Any], error: type, words: list[str]
) -> None:
    sched = build()
    state = corrupt(copy.deepcopy(sched.state_dict()))
    before = snapshot(sched)
    with pytest.raises(error) as raised:
        sched.load_state_dict(state)
    message = str(raised.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    assert len(message) < 600  # a huge value is shown cut
    assert snapshot(sched) == before
    # Every later step still runs (a half-done load used to break them).
    opt = sched.optimizer
    opt.step()
    if isinstance(sched, lrfun.torch.PlateauScheduler):
        sched.step(1.0)
    else:
        sched.step()
        expected = np.broadcast_to(sched.schedule(sched.last_epoch), (len(opt.param_groups),))
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(expected.tolist(), rel=1e-12)


def _good(build: Callable[[], Any], **entries: Any) -> tuple[Any, State]:
    sched = build()
    state = sched.state_dict()
    state.update(entries)
    return sched, state


@pytest.mark.parametrize(
    ("build", "entries"),
    [
        (_scheduler, {"last_epoch": 2**53}),
        (_scheduler, {"last_epoch": -1}),
        (_scheduler, {"last_epoch": np.int64(7), "_step_count": np.int32(8)}),
        (_scheduler, {"base_lrs": (0.1, 0.2), "_last_lr": np.array([0.1, 0.2])}),
        (_scheduler, {"_last_lr": [torch.tensor(0.1), torch.tensor(0.2)]}),
        (_plateau, {"best": math.inf}),
        (_plateau, {"best": -math.inf}),
        (_plateau, {"lr": [0.0, 1], "num_bad_epochs": np.int64(1), "last_epoch": 2**53}),
        (_plateau, {"min_lrs": [0.0, 0.0]}),
    ],
    ids=[
        "step 2**53",
        "step -1",
        "NumPy integers",
        "tuple and array lrs",
        "tensor last lrs",
        "best +inf",
        "best -inf",
        "int lr, largest step",
        "torch's min_lrs",
    ],
)
def test_edge_states_load(build: Callable[[], Any], entries: State) -> None:
    sched, state = _good(build, **entries)
    sched.load_state_dict(state)
    assert sched.last_epoch == int(state["last_epoch"])
    for group in sched.optimizer.param_groups:
        assert math.isfinite(group["lr"])


@pytest.mark.parametrize(
    "schedule",
    [
        lrfun.StepLR(0.1, step_size=3),
        lrfun.ExponentialLR(0.1, gamma=0.9),
        lrfun.CosineAnnealingLR(0.1, T_max=10),
        lrfun.CosineAnnealingWarmRestarts(0.1, T_0=3, T_mult=2),
        lrfun.CyclicLR(0.01, 0.1, step_size_up=7),
        lrfun.OneCycleLR(0.1, total_steps=100),
        lrfun.PolynomialLR(0.1, total_iters=10),
        lrfun.LinearLR(0.1, total_iters=10),
    ],
    ids=lambda s: type(s).__name__,
)
def test_largest_step_is_finite(schedule: Any) -> None:
    """A closed form at the largest step a state may hold writes finite values."""
    opt = torch.optim.SGD(_params(1), lr=0.1, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CyclicLR's base differs from the optimizer's lr
        sched = lrfun.torch.Scheduler(opt, schedule)
    state = sched.state_dict()
    state["last_epoch"] = 2**53
    sched.load_state_dict(state)
    assert math.isfinite(opt.param_groups[0]["lr"])
    assert math.isfinite(opt.param_groups[0]["momentum"])


def test_jump_past_largest_step_is_refused() -> None:
    sched = _scheduler()
    before = snapshot(sched)
    with pytest.raises(
        ValueError, match="epoch must be an integer >= 0 no larger than 9007199254740992"
    ):
        sched.step(2**63)
    assert snapshot(sched) == before


def test_load_does_not_change_the_state_dict() -> None:
    sched = _scheduler()
    state = _scheduler(9).state_dict()
    kept = copy.deepcopy(state)
    sched.load_state_dict(state)
    assert state == kept


# -- optax: check_state --------------------------------------------------------------------

_OPTAX_PLATEAU = lrfun.ReduceLROnPlateau([0.1, 0.2], patience=1)


def _chain_state() -> Any:
    opt = optax.chain(optax.sgd(0.1), lrfun.optax.reduce_on_plateau(_OPTAX_PLATEAU, group=0))
    params = jnp.zeros(2)
    state = opt.init(params)
    for metric in [3.0, 2.0, 2.0]:
        _, state = opt.update(jnp.ones(2), state, params, value=metric)
    return state


def _inject_state() -> Any:
    return lrfun.optax.inject(optax.sgd, _OPTAX_PLATEAU, group=1).init(jnp.zeros(2))


def _replace_chain(**fields: Any) -> Any:
    state = _chain_state()
    return (state[0], state[1]._replace(**fields))


def _replace_inject(**fields: Any) -> Any:
    state = _inject_state()
    plateau = state.hyperparams_states["learning_rate"]._replace(**fields)
    return state._replace(hyperparams_states={"learning_rate": plateau})


_BAD_OPTAX: list[tuple[str, Callable[[], Any], type, list[str]]] = [
    ("best nan", lambda: _replace_chain(best=jnp.nan), ValueError, ["state[1].best", "nan"]),
    ("lr nan", lambda: _replace_chain(lr=jnp.array([jnp.nan, 0.1])), ValueError,
     ["state[1].lr", "nan"]),
    ("lr inf", lambda: _replace_chain(lr=jnp.array([0.1, jnp.inf])), ValueError,
     ["state[1].lr", "inf"]),
    ("lr -1", lambda: _replace_chain(lr=jnp.array([-1.0, 0.1])), ValueError,
     ["state[1].lr", "-1.0"]),
    ("lr shape", lambda: _replace_chain(lr=jnp.array(0.1)), ValueError,
     ["state[1].lr", "shape (2,)"]),
    ("lr ints", lambda: _replace_chain(lr=jnp.array([1, 1])), TypeError,
     ["state[1].lr", "floating"]),
    ("lr str", lambda: _replace_chain(lr="abc"), TypeError, ["state[1].lr", "'abc'"]),
    ("num_bad_epochs -1", lambda: _replace_chain(num_bad_epochs=jnp.array(-1)), ValueError,
     ["state[1].num_bad_epochs", "-1"]),
    ("cooldown_counter float", lambda: _replace_chain(cooldown_counter=jnp.array(1.0)),
     TypeError, ["state[1].cooldown_counter", "integer"]),
    ("last_epoch 2**63 - 1",
     lambda: _replace_chain(last_epoch=np.array(2**63 - 1, dtype=np.int64)), ValueError,
     ["state[1].last_epoch", "9007199254740992"]),
    ("num_bad_epochs int32 max",
     lambda: _replace_chain(num_bad_epochs=jnp.array(2**31 - 1, dtype=jnp.int32)), ValueError,
     ["state[1].num_bad_epochs", "2147483646", "2147483647"]),
    ("no plateau state", lambda: optax.sgd(0.1).init(jnp.zeros(2)), ValueError,
     ["no lrfun.PlateauState"]),
    ("inject best nan", lambda: _replace_inject(best=jnp.nan), ValueError,
     ["state.hyperparams_states['learning_rate'].best", "nan"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "error", "words"), [row[1:] for row in _BAD_OPTAX], ids=[row[0] for row in _BAD_OPTAX]
)
def test_optax_check_state_refuses(build: Callable[[], Any], error: type, words: list[str]) -> None:
    state = build()
    with pytest.raises(error) as raised:
        lrfun.optax.check_state(_OPTAX_PLATEAU, state)
    for word in words:
        assert word in str(raised.value), f"{word!r} not in {str(raised.value)!r}"


@pytest.mark.parametrize(
    "build",
    [
        _chain_state,
        _inject_state,
        lambda: pickle.loads(pickle.dumps(jax.device_get(_chain_state()))),
        lambda: _replace_chain(best=jnp.inf),
        lambda: _replace_chain(best=-jnp.inf),
        lambda: _OPTAX_PLATEAU.init(),  # a NumPy float64 state
    ],
    ids=["chain", "inject", "pickled", "best +inf", "best -inf", "numpy"],
)
def test_optax_check_state_passes_good_states(build: Callable[[], Any]) -> None:
    state = build()
    assert lrfun.optax.check_state(_OPTAX_PLATEAU, state) is state


def test_optax_check_state_needs_concrete_values() -> None:
    with pytest.raises(TypeError, match="traced"):
        jax.jit(lambda s: lrfun.optax.check_state(_OPTAX_PLATEAU, s))(_chain_state())


# -- the state machine -------------------------------------------------------------------------


def _lr_groups(groups: int, tensor_lr: bool) -> list[dict[str, Any]]:
    """Param groups, each with its own lr (a tensor lr is not shared: it is set in place)."""
    return [dict(group, lr=torch.tensor(0.1) if tensor_lr else 0.1) for group in _params(groups)]


def _adam(groups: int, tensor_lr: bool) -> torch.optim.Optimizer:
    return torch.optim.Adam(_lr_groups(groups, tensor_lr))


def _sgd_momentum(groups: int, tensor_lr: bool) -> torch.optim.Optimizer:
    return torch.optim.SGD(_lr_groups(groups, tensor_lr), momentum=0.9)


# (schedule, param groups, optimizer)
_CASES: list[tuple[Any, int, Callable[[int, bool], torch.optim.Optimizer]]] = [
    (lrfun.StepLR(0.1, step_size=3, gamma=0.5), 1, _sgd_momentum),
    (lrfun.CosineAnnealingLR([0.1, 0.05], T_max=10), 2, _sgd_momentum),
    (lrfun.OneCycleLR(0.1, total_steps=40), 1, _sgd_momentum),
    (lrfun.OneCycleLR([0.1, 0.2], total_steps=40), 2, _adam),
    (
        lrfun.SequentialLR(
            [lrfun.LinearLR(0.1, start_factor=0.1, total_iters=5), lrfun.ExponentialLR(0.1, 0.9)],
            milestones=[5],
        ),
        1,
        _sgd_momentum,
    ),
]


def _corruptions(groups: int) -> list[tuple[str, Callable[[State], Any]]]:
    return [
        ("last_epoch 2**63", _set(last_epoch=2**63)),
        ("last_epoch 2**70", _set(last_epoch=2**70)),
        ("last_epoch -2", _set(last_epoch=-2)),
        ("last_epoch float", _set(last_epoch=1.0)),
        ("last_epoch bool", _set(last_epoch=True)),
        ("base_lrs int", _set(base_lrs=5)),
        ("base_lrs str", _set(base_lrs="abc")),
        ("base_lrs nan", _set(base_lrs=[math.nan] * groups)),
        ("base_lrs length", _set(base_lrs=[0.1] * (groups + 1))),
        ("_step_count -1", _set(_step_count=-1)),
        ("_last_lr inf", _set(_last_lr=[math.inf] * groups)),
        ("restarted_from length", _set(restarted_from=[0.1] * (groups + 1))),
        ("plateau key", _set(best=math.nan)),
        (
            "another schedule",
            _set(schedule={"name": "ExponentialLR", "base_lr": 0.1, "gamma": 0.5}),
        ),
        ("no _step_count", _drop("_step_count")),
        ("not a mapping", lambda state: list(state)),
    ]


def _round_trip(state: State) -> State:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


class SchedulerStates(RuleBasedStateMachine):
    """Steps, jumps, saves, good loads (into this scheduler or a fresh one) and corrupt loads,
    in any order: the groups always hold ``schedule(last_epoch)``, and a refused load changes
    nothing."""

    saved = Bundle("saved")

    @initialize(case=st.sampled_from(_CASES), tensor_lr=st.booleans())
    def build(self, case: Any, tensor_lr: bool) -> None:
        self.schedule, self.groups, self.make = case
        self.tensor_lr = tensor_lr
        self.at_count = 0
        self._fresh()

    def _fresh(self) -> None:
        self.opt = self.make(self.groups, self.tensor_lr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a base lr other than the optimizer's
            self.sched = lrfun.torch.Scheduler(self.opt, self.schedule)
        self.at = 0

    @rule()
    def advance(self) -> None:
        self.opt.step()
        self.sched.step()
        self.at += 1

    @rule(epoch=st.integers(0, 100))
    def jump(self, epoch: int) -> None:
        self.opt.step()
        self.sched.step(epoch)
        self.at = epoch

    @rule(target=saved)
    def save(self) -> tuple[int, State]:
        return self.at, _round_trip(self.sched.state_dict())

    @rule(saved=saved, fresh=st.booleans())
    def load(self, saved: tuple[int, State], fresh: bool) -> None:
        step, state = saved
        kept = copy.deepcopy(state)
        if fresh:  # a restart: a new optimizer and scheduler, then the checkpoint
            self._fresh()
        self.sched.load_state_dict(state)
        assert state == kept  # the load did not change its argument
        self.at = step

    @rule(saved=saved, data=st.data())
    def load_corrupt(self, saved: tuple[int, State], data: st.DataObject) -> None:
        name, corrupt = data.draw(st.sampled_from(_corruptions(self.groups)), label="corruption")
        state = corrupt(copy.deepcopy(saved[1]))
        before = snapshot(self.sched)
        with pytest.raises((TypeError, ValueError)):
            self.sched.load_state_dict(state)
        assert snapshot(self.sched) == before, name

    @invariant()
    def lrs_are_the_schedules(self) -> None:
        if not hasattr(self, "sched"):
            return
        assert self.sched.last_epoch == self.at
        lrs = np.broadcast_to(self.schedule(self.at), (self.groups,))
        dtype = "float32" if self.tensor_lr else "float64"
        rel = 1e-12 if dtype == "float64" else float(np.finfo(np.float32).eps)
        for group, expected in zip(self.opt.param_groups, lrs, strict=True):
            assert float(group["lr"]) == pytest.approx(float(expected), rel=rel, abs=0.0)
        if self.schedule.cycles_momentum:
            momenta = np.broadcast_to(self.schedule.momentum(self.at), (self.groups,))
            for group, expected in zip(self.opt.param_groups, momenta, strict=True):
                have = group["momentum"] if self.make is _sgd_momentum else group["betas"][0]
                assert float(have) == pytest.approx(float(expected), rel=1e-12, abs=0.0)


# The profile's example count (ci: 25, thorough: 400); runs of 30 steps.
SchedulerStates.TestCase.settings = settings(settings.default, stateful_step_count=30)
TestSchedulerStates = SchedulerStates.TestCase
