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
import functools
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
    precondition,
    rule,
)

import lrfun
import lrfun.optax
import lrfun.torch
from lrfun._plateau import host_metric
from parity.strategies import constant

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


def _multiplicative() -> lrfun.torch.Scheduler:
    """A schedule that continues from the lrs torch's SequentialLR restarts it with."""
    return lrfun.torch.Scheduler(_sgd(1), lrfun.MultiplicativeLR(0.1, constant(0.9)))


def _function_state() -> lrfun.torch.Scheduler:
    """An adapter whose schedule holds a Python function (its config: None)."""
    return lrfun.torch.Scheduler(_sgd(), lrfun.LambdaLR(0.1, lambda step: 0.5))


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
    # Issue 22 item 3: a negative restart lr was written (gradient ascent).
    ("restarted_from negative", _multiplicative, _set(restarted_from=[-1.0]), ValueError,
     ["restarted_from'][0]", ">= 0", "-1.0"]),
    ("torch StepLR state", _scheduler, _other_kind(_native_step_lr), ValueError,
     ["'gamma'", "'step_size'", "never writes", "'last_epoch': n"]),
    ("a Python function's state", _scheduler, _other_kind(_function_state), ValueError,
     ["schedule a schedule holding a Python function", "OneCycleLR", "delete"]),
    ("into a Python function's", _function_state, _other_kind(_scheduler), ValueError,
     ["OneCycleLR", "runs a schedule holding a Python function"]),
    ("a torch setting", _scheduler, _set(gamma=0.5), ValueError, ["'gamma'", "never writes"]),
    # Issue 22 item 9: the refusal did not name the entry.
    ("schedule an array", _scheduler, _set(schedule=np.array([1.0, 2.0])), TypeError,
     ["state_dict['schedule']", "config", "array([1., 2.])"]),
    ("schedule holding an array", _scheduler,
     _set(schedule={"name": "OneCycleLR", "max_lr": np.array([0.1, 0.2])}), ValueError,
     ["schedule", "'max_lr': array([0.1, 0.2])", "'max_lr': [0.1, 0.2]"]),
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
    ("plateau an array", _plateau, _set(plateau=np.array([1.0, 2.0])), TypeError,
     ["state_dict['plateau']", "config"]),
    ("plateau a torch setting", _plateau, _set(factor=0.5), ValueError,
     ["'factor'", "never writes"]),
    ("best past float64", _plateau, _set(best=10**400), ValueError,
     ["state_dict['best']", "float64", "(401 characters)"]),
    ("lr past float64", _plateau, _set(lr=[10**400, 0.1]), ValueError,
     ["state_dict['lr'][0]", "float64"]),
    ("scheduler state", _plateau, _other_kind(_scheduler, "schedule"), ValueError,
     ["base_lrs", "Scheduler"]),
    ("torch StepLR state", _plateau, _other_kind(_native_step_lr), ValueError,
     ["base_lrs", "LRScheduler"]),
    ("torch plateau state into plateau", _plateau, _other_kind(_native_plateau), ValueError,
     ["'factor'", "'mode'", "never writes"]),
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
    assert len(message) < 600 and "\n" not in message  # one line; a huge value is cut
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


# -- tensor lrs: values are checked in the dtype they are written in ------------------------


def _tensor_sgd(dtype: torch.dtype, groups: int = 1) -> torch.optim.Optimizer:
    return _sgd_momentum(groups, dtype)


def _tensor_adapter(schedule: Any, dtype: torch.dtype) -> lrfun.torch.Scheduler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a base lr other than the optimizer's
        return lrfun.torch.Scheduler(_tensor_sgd(dtype, schedule.groups or 1), schedule)


def _tensor_plateau(dtype: torch.dtype) -> lrfun.torch.PlateauScheduler:
    return lrfun.torch.PlateauScheduler(_tensor_sgd(dtype), lrfun.ReduceLROnPlateau(0.1))


# (id, scheduler, corruption, words): issue 22 item 4 -- values were checked in float64 and
# written into float32 / float16 tensors (a RuntimeError after the state changed, or inf).
_TENSOR_LOADS: list[tuple[str, Callable[[], Any], Callable[[State], Any], list[str]]] = [
    ("plateau lr 1e39 float32", lambda: _tensor_plateau(torch.float32), _set(lr=1e39),
     ["state_dict['lr'] is 1e+39", "torch.float32", "3.4028234663852886e+38"]),
    ("plateau lr 1e5 float16", lambda: _tensor_plateau(torch.float16), _set(lr=1e5),
     ["state_dict['lr'] is 100000.0", "torch.float16", "65504.0"]),
    ("ExponentialLR step 300 float32",
     lambda: _tensor_adapter(lrfun.ExponentialLR(0.1, 2.0), torch.float32), _set(last_epoch=300),
     ["last_epoch']=300", "2.037", "torch.float32"]),
    ("ExponentialLR step 20 float16",
     lambda: _tensor_adapter(lrfun.ExponentialLR(0.1, 2.0), torch.float16), _set(last_epoch=20),
     ["last_epoch']=20", "104857.6", "torch.float16"]),
    ("restarted_from float16",
     lambda: _tensor_adapter(lrfun.MultiplicativeLR(0.1, constant(0.9)), torch.float16),
     _set(restarted_from=[1e5]), ["restarted_from'][0] is 100000.0", "torch.float16"]),
    ("base_lrs float16", lambda: _tensor_adapter(lrfun.StepLR(0.1, 3), torch.float16),
     _set(base_lrs=[1e19]), ["base_lrs'][0] is 1e+19", "torch.float16"]),
    ("base_lrs float32", lambda: _tensor_adapter(lrfun.StepLR(0.1, 3), torch.float32),
     _set(base_lrs=[1e39]), ["base_lrs'][0] is 1e+39", "torch.float32"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "corrupt", "words"),
    [row[1:] for row in _TENSOR_LOADS],
    ids=[row[0] for row in _TENSOR_LOADS],
)
def test_tensor_lr_loads_check_in_their_dtype(
    build: Callable[[], Any], corrupt: Callable[[State], Any], words: list[str]
) -> None:
    sched = build()
    state = corrupt(copy.deepcopy(sched.state_dict()))
    before = snapshot(sched)
    with pytest.raises(ValueError) as raised:
        sched.load_state_dict(state)
    message = str(raised.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    assert "\n" not in message and "nothing was changed" in message
    assert snapshot(sched) == before
    # A float lr holds every one of these values: the same state loads there.
    groups = len(sched.optimizer.param_groups)
    floats = torch.optim.SGD(_params(groups), lr=0.1, momentum=0.9)
    kind = type(sched)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = kind(
            floats, sched.plateau if kind is lrfun.torch.PlateauScheduler else sched.schedule
        )
    other.load_state_dict(state)


def test_tensor_lr_loads_take_what_the_dtype_holds() -> None:
    """The largest float16, and an lr that underflows to 0 (as torch's float32 recursion
    reaches it), load."""
    plateau = _tensor_plateau(torch.float16)
    state = plateau.state_dict()
    state["lr"] = 65504.0
    plateau.load_state_dict(state)
    assert plateau.optimizer.param_groups[0]["lr"].item() == 65504.0
    sched = _tensor_adapter(lrfun.ExponentialLR(0.1, 0.5), torch.float32)
    state = sched.state_dict()
    state["last_epoch"] = 300  # 0.1 * 0.5**300 = 4.9e-92: 0.0 in float32
    sched.load_state_dict(state)
    assert sched.last_epoch == 300 and sched.optimizer.param_groups[0]["lr"].item() == 0.0


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32])
def test_a_step_the_dtype_cannot_hold_is_refused(dtype: torch.dtype) -> None:
    """Stepping, jumping and a restart by torch's SequentialLR refuse a value past the
    tensor's dtype with nothing changed (float32's fill_ raised after last_epoch moved,
    float16's stored inf)."""
    sched = _tensor_adapter(lrfun.ExponentialLR([0.1, 0.2], 2.0), dtype)
    opt = sched.optimizer
    last = {torch.float16: 18, torch.float32: 130}[dtype]  # group 1's last value it holds
    opt.step()
    sched.step(last)
    before = snapshot(sched)
    with pytest.raises(ValueError, match=rf"lr at step {last + 1} is .*param group 1's lr"):
        opt.step()
        sched.step()
    assert snapshot(sched) == before
    with pytest.raises(ValueError, match=str(dtype)):
        sched.step(last + 50)
    assert snapshot(sched) == before
    sched.step(3)  # and it still steps
    assert sched.last_epoch == 3
    assert opt.param_groups[1]["lr"].item() == torch.tensor(1.6, dtype=dtype).item()


def test_a_construction_the_dtype_cannot_hold_is_refused() -> None:
    """Step 0 is checked before torch's constructor sets initial_lr or writes an lr."""
    for build in (
        lambda opt: lrfun.torch.Scheduler(opt, lrfun.StepLR(1e5, 3)),
        lambda opt: lrfun.torch.PlateauScheduler(opt, lrfun.ReduceLROnPlateau(1e5)),
    ):
        opt = _tensor_sgd(torch.float16)
        before = _groups(opt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError, match=r"100000\.0, more than param group 0's lr"):
                build(opt)
        assert _groups(opt) == before


def test_a_restart_the_dtype_cannot_hold_is_refused() -> None:
    """torch's SequentialLR restarts a MultiplicativeLR from the lr it finds: past float16,
    refused with the child as it was."""
    opt = _tensor_sgd(torch.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        child = lrfun.torch.Scheduler(opt, lrfun.MultiplicativeLR(0.1, constant(2.0)))
    opt.param_groups[0]["lr"].fill_(60000.0)  # 2 * 60000 is past float16
    before = snapshot(child)
    with pytest.raises(ValueError, match=r"torch\.float16"):
        child._update_lr(0)
    assert snapshot(child) == before


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
     ["state[1].last_epoch", "2147483647"]),
    ("num_bad_epochs int32 max",
     lambda: _replace_chain(num_bad_epochs=jnp.array(2**31 - 1, dtype=jnp.int32)), ValueError,
     ["state[1].num_bad_epochs", "2147483646", "2147483647"]),
    ("no plateau state", lambda: optax.sgd(0.1).init(jnp.zeros(2)), ValueError,
     ["no lrfun.PlateauState"]),
    ("inject best nan", lambda: _replace_inject(best=jnp.nan), ValueError,
     ["state.hyperparams_states['learning_rate'].best", "nan"]),
    # Issue 22 item 7: int8 counters wrap under jit (patience 200 is -56 there: a cut at every
    # update), and a float64 lr of 1e39 is inf in JAX's float32.
    ("num_bad_epochs int8", lambda: _replace_chain(num_bad_epochs=jnp.array(0, jnp.int8)),
     TypeError, ["state[1].num_bad_epochs", "int8", "32 bits", "127"]),
    ("cooldown_counter uint16",
     lambda: _replace_chain(cooldown_counter=np.array(0, dtype=np.uint16)), TypeError,
     ["state[1].cooldown_counter", "uint16"]),
    ("lr 1e39 float64", lambda: _replace_chain(lr=np.array([1e39, 0.1])), ValueError,
     ["state[1].lr[0]", "float32", "1e+39"]),
    ("lr 1e39 Python", lambda: _replace_chain(lr=[0.1, 1e39]), ValueError,
     ["state[1].lr[1]", "float32"]),
    ("best past float64", lambda: _replace_chain(best=10**400), ValueError,
     ["state[1].best", "float64"]),
    ("last_epoch Python 2**31", lambda: _replace_chain(last_epoch=2**31), ValueError,
     ["state[1].last_epoch", "2147483647", "2147483648"]),
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

# How the param groups hold their lrs: Python floats, or tensors of float32 or float16 (filled
# in place: a value is checked in the tensor's dtype before anything is written).
_LR_DTYPES: tuple[torch.dtype | None, ...] = (None, torch.float32, torch.float16)


def _lr_groups(groups: int, dtype: torch.dtype | None) -> list[dict[str, Any]]:
    """Param groups, each with its own lr (a tensor lr is not shared: it is set in place)."""
    return [
        dict(group, lr=0.1 if dtype is None else torch.tensor(0.1, dtype=dtype))
        for group in _params(groups)
    ]


def _adam(groups: int, dtype: torch.dtype | None) -> torch.optim.Optimizer:
    return torch.optim.Adam(_lr_groups(groups, dtype))


def _sgd_momentum(groups: int, dtype: torch.dtype | None) -> torch.optim.Optimizer:
    return torch.optim.SGD(_lr_groups(groups, dtype), momentum=0.9)


# (schedule or plateau, param groups, optimizer)
_CASES: list[tuple[Any, int, Callable[[int, torch.dtype | None], torch.optim.Optimizer]]] = [
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
    # Past step 18 (group 1) and 19 (group 0) more than float16 holds; past 131, float32.
    (lrfun.ExponentialLR([0.1, 0.2], gamma=2.0), 2, _sgd_momentum),
    (lrfun.ReduceLROnPlateau([0.1, 0.2], patience=1), 2, _sgd_momentum),
    (lrfun.ReduceLROnPlateau(0.1, patience=0, cooldown=1), 1, _adam),
]


def _corruptions(groups: int) -> list[tuple[str, Callable[[State], Any]]]:
    """Corrupt Scheduler states: refused whatever the lr dtype."""
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
        ("restarted_from negative", _set(restarted_from=[-1.0] * groups)),
        ("plateau key", _set(best=math.nan)),
        (
            "another schedule",
            _set(schedule={"name": "ExponentialLR", "base_lr": 0.1, "gamma": 0.5}),
        ),
        ("schedule an array", _set(schedule=np.array([0.1, 0.2]))),
        ("a torch setting", _set(gamma=0.5)),
        ("no _step_count", _drop("_step_count")),
        ("not a mapping", lambda state: list(state)),
    ]


def _plateau_corruptions(groups: int) -> list[tuple[str, Callable[[State], Any]]]:
    """Corrupt PlateauScheduler states: refused whatever the lr dtype."""
    lr = (lambda value: [value] * groups) if groups > 1 else (lambda value: value)
    return [
        ("best nan", _set(best=math.nan)),
        ("best str", _set(best="1.0")),
        ("best past float64", _set(best=10**400)),
        ("lr nan", _set(lr=lr(math.nan))),
        ("lr -1", _set(lr=lr(-1.0))),
        ("lr inf", _set(lr=lr(math.inf))),
        ("lr length", _set(lr=[0.1] * (groups + 1))),
        ("num_bad_epochs -1", _set(num_bad_epochs=-1)),
        ("cooldown_counter 1.5", _set(cooldown_counter=1.5)),
        ("last_epoch 2**63", _set(last_epoch=2**63)),
        ("_step_count -1", _set(_step_count=-1)),
        ("scheduler key", _set(base_lrs=[0.1] * groups)),
        ("another plateau", _set(plateau=lrfun.ReduceLROnPlateau(0.3).to_config())),
        ("plateau an array", _set(plateau=np.array([0.1]))),
        ("a torch setting", _set(factor=0.5)),
        ("no lr", _drop("lr")),
        ("not a mapping", lambda state: list(state)),
    ]


def _round_trip(state: State) -> State:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _native(build: Callable[[torch.optim.Optimizer], Any]) -> Callable[[int, int], State]:
    """The state_dict of one of torch's own schedulers, stepped ``steps`` times."""

    def state(groups: int, steps: int) -> State:
        opt = _sgd_momentum(groups, None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scheduler = build(opt)
            for _ in range(steps):
                opt.step()
                if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    scheduler.step(1.0)
                else:
                    scheduler.step()
        return _round_trip(scheduler.state_dict())

    return state


_lr = torch.optim.lr_scheduler

# torch's own schedulers: a state of any of them is another kind of scheduler's.
_NATIVE: list[tuple[str, Callable[[int, int], State]]] = [
    ("StepLR", _native(lambda opt: _lr.StepLR(opt, step_size=3))),
    ("OneCycleLR", _native(lambda opt: _lr.OneCycleLR(opt, 0.1, total_steps=50))),
    ("LambdaLR", _native(lambda opt: _lr.LambdaLR(opt, lambda step: 0.9**step))),
    ("CyclicLR", _native(lambda opt: _lr.CyclicLR(opt, 0.01, 0.1, step_size_up=5))),
    ("WarmRestarts", _native(lambda opt: _lr.CosineAnnealingWarmRestarts(opt, T_0=5))),
    ("ExponentialLR", _native(lambda opt: _lr.ExponentialLR(opt, gamma=0.9))),
    ("ReduceLROnPlateau", _native(lambda opt: _lr.ReduceLROnPlateau(opt, patience=0))),
]


def _adapter_state(build: Callable[[torch.optim.Optimizer], Any], steps: int, groups: int) -> State:
    """The state_dict of an adapter built by ``build``, stepped ``steps`` times."""
    opt = _sgd_momentum(groups, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = build(opt)
        for step in range(steps):
            opt.step()
            if isinstance(sched, lrfun.torch.PlateauScheduler):
                sched.step([3.0, 2.0, 2.0, 2.0, 1.0][step % 5])
            else:
                sched.step()
    return _round_trip(sched.state_dict())


def _fits(values: list[float], dtype: torch.dtype | None) -> bool:
    """Whether a group of ``dtype`` holds every value (a Python float holds any)."""
    if dtype is None:
        return True
    top = torch.finfo(dtype).max
    return all(not (math.isfinite(v) and abs(v) > top) for v in values)


def _holds(have: Any, expected: float) -> None:
    """A group's lr is the expected value as its type holds it (a tensor: rounded once)."""
    if isinstance(have, torch.Tensor):
        info = torch.finfo(have.dtype)
        rounded = torch.tensor(expected, dtype=torch.float64).to(have.dtype).item()
        tiny = info.smallest_normal * info.eps  # the least subnormal
        assert have.item() == pytest.approx(rounded, rel=info.eps, abs=tiny)
    else:
        assert type(have) is float
        assert have == pytest.approx(expected, rel=1e-12, abs=0.0)


class AdapterStates(RuleBasedStateMachine):
    """Both adapters, float / float32 / float16 lrs: steps, jumps, saves, loads (into this
    adapter or a fresh one, of any lr dtype), corrupt loads and foreign loads (torch's own
    schedulers' states, an adapter running another schedule or machine, the other adapter's),
    in any order. The model is the step (a Scheduler) or the machine's host state (a
    PlateauScheduler): the groups always hold its values, rounded once to their dtype; a
    value a group's dtype cannot hold is refused, and every refused step or load changes
    nothing (scheduler, optimizer lrs and momenta)."""

    saved = Bundle("saved")

    @initialize(case=st.sampled_from(_CASES), dtype=st.sampled_from(_LR_DTYPES))
    def build(self, case: Any, dtype: torch.dtype | None) -> None:
        self.schedule, self.groups, self.make = case
        self.plateau = isinstance(self.schedule, lrfun.ReduceLROnPlateau)
        self._fresh(dtype)

    def _fresh(self, dtype: torch.dtype | None) -> None:
        self.dtype = dtype
        self.opt = self.make(self.groups, dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a base lr other than the optimizer's
            if self.plateau:
                self.sched: Any = lrfun.torch.PlateauScheduler(self.opt, self.schedule)
                self.model: Any = self.schedule._host(self.schedule.init())
            else:
                self.sched = lrfun.torch.Scheduler(self.opt, self.schedule)
                self.model = 0

    def _values(self, model: Any) -> tuple[list[float], list[float] | None]:
        """The lrs (and momenta) of a model position, one per group."""
        if self.plateau:
            lrs = np.broadcast_to(np.asarray(model.lr, dtype=np.float64), (self.groups,))
            return lrs.tolist(), None
        lrs = np.broadcast_to(self.schedule(model), (self.groups,)).tolist()
        if not self.schedule.cycles_momentum:
            return lrs, None
        return lrs, np.broadcast_to(self.schedule.momentum(model), (self.groups,)).tolist()

    def _past_last_step(self, model: Any) -> bool:
        """Whether torch's scheduler raises at step ``model`` (OneCycleLR past total_steps):
        the adapter refuses such a step as torch does."""
        if self.plateau or self.schedule._leaves() != (self.schedule,):
            return False
        limit = self.schedule._torch_steps()
        return limit is not None and model > limit

    def _refused(self, action: Callable[[], Any]) -> None:
        before = snapshot(self.sched)
        with pytest.raises((TypeError, ValueError)):
            action()
        assert snapshot(self.sched) == before

    def _load(self, state: Any, model: Any) -> None:
        """Loads ``state``, which stands at ``model``: accepted where the groups hold its
        values, else refused with nothing changed."""
        kept = copy.deepcopy(state)
        values = list(self._values(model)[0])
        for entry in ("base_lrs", "restarted_from"):  # lrs of the groups too
            values += state.get(entry) or []
        if not _fits(values, self.dtype):
            self._refused(lambda: self.sched.load_state_dict(state))
            return
        self.sched.load_state_dict(state)
        assert state == kept  # the load did not change its argument
        self.model = model

    @rule(metric=st.sampled_from([3.0, 2.0, 2.0, 1.0, math.nan, math.inf, 10**400]))
    def advance(self, metric: float) -> None:
        self.opt.step()
        if self.plateau:
            model = self.schedule.update(self.model, host_metric(metric))
            step: Callable[[], Any] = lambda: self.sched.step(metric)  # noqa: E731
        else:
            model, step = self.model + 1, self.sched.step
        if _fits(self._values(model)[0], self.dtype) and not self._past_last_step(model):
            step()
            self.model = model
        else:
            self._refused(step)

    @precondition(lambda self: not self.plateau)
    @rule(epoch=st.integers(0, 200))
    def jump(self, epoch: int) -> None:
        self.opt.step()
        if _fits(self._values(epoch)[0], self.dtype) and not self._past_last_step(epoch):
            self.sched.step(epoch)
            self.model = epoch
        else:
            self._refused(lambda: self.sched.step(epoch))

    @rule(target=saved)
    def save(self) -> tuple[Any, State]:
        return self.model, _round_trip(self.sched.state_dict())

    @rule(saved=saved, fresh=st.booleans(), dtype=st.sampled_from(_LR_DTYPES))
    def load(self, saved: tuple[Any, State], fresh: bool, dtype: torch.dtype | None) -> None:
        model, state = saved
        if fresh:  # a restart: a new optimizer (lrs of any dtype) and adapter, then the load
            self._fresh(dtype)
        self._load(state, model)

    @rule(saved=saved, data=st.data())
    def load_corrupt(self, saved: tuple[Any, State], data: st.DataObject) -> None:
        table = _plateau_corruptions if self.plateau else _corruptions
        _, corrupt = data.draw(st.sampled_from(table(self.groups)), label="corruption")
        state = corrupt(copy.deepcopy(saved[1]))
        self._refused(lambda: self.sched.load_state_dict(state))

    @rule(lr=st.sampled_from([1e5, 1e39]), restart=st.booleans())
    def load_large_lr(self, lr: float, restart: bool) -> None:
        """An lr float16 (1e5) or float32 (1e39) cannot hold -- a plateau's lr, a
        Scheduler's ``base_lrs`` or ``restarted_from`` -- is refused there, and taken as it
        is where the groups hold it."""
        state = self.sched.state_dict()
        if self.plateau:
            state["lr"] = [lr] * self.groups if self.groups > 1 else lr
            fields = {name: state[name] for name in self.schedule.state_type._fields}
            saved = self.schedule.state_type(**fields)
            self._load(state, self.schedule._host(self.schedule.check_state(saved)))
            return
        # Neither changes these schedules' values (none restarts from the lrs it found).
        state["restarted_from" if restart else "base_lrs"] = [lr] * self.groups
        if _fits([lr], self.dtype):
            self.sched.load_state_dict(state)
        else:
            self._refused(lambda: self.sched.load_state_dict(state))

    @rule(data=st.data(), steps=st.integers(0, 4))
    def load_foreign(self, data: st.DataObject, steps: int) -> None:
        """Torch's own schedulers' states, the other adapter's, and an adapter's running
        another schedule or machine are refused; with its config entry deleted (the
        documented way), a state of the same adapter running another schedule loads."""
        groups = self.groups
        other: Any = lrfun.ReduceLROnPlateau([0.1] * groups, factor=0.5, patience=0)
        if groups == 1:
            other = lrfun.ReduceLROnPlateau(0.1, factor=0.5, patience=0)
        if self.plateau:
            own = lambda opt: lrfun.torch.PlateauScheduler(opt, other)  # noqa: E731
            kin = lambda opt: lrfun.torch.Scheduler(opt, lrfun.StepLR(0.1, 2))  # noqa: E731
            entry = "plateau"
        else:
            own = lambda opt: lrfun.torch.Scheduler(opt, lrfun.CosineAnnealingLR(0.1, 7))  # noqa: E731
            kin = lambda opt: lrfun.torch.PlateauScheduler(opt, other)  # noqa: E731
            entry = "schedule"
        function = lrfun.LambdaLR(0.1, lambda step: 0.9**step)  # no config: None saved
        foreign = [
            *((name, functools.partial(build, groups, steps)) for name, build in _NATIVE),
            ("the other adapter", lambda: _adapter_state(kin, steps, groups)),
            ("another schedule", lambda: _adapter_state(own, steps, groups)),
            (
                "a Python function",
                lambda: _adapter_state(
                    lambda opt: lrfun.torch.Scheduler(opt, function), steps, groups
                ),
            ),
        ]
        name, build = data.draw(st.sampled_from(foreign), label="foreign state")
        state = build()
        if data.draw(st.booleans(), label="config deleted") and name == "another schedule":
            del state[entry]
            if self.plateau:
                fields = {key: state[key] for key in self.schedule.state_type._fields}
                saved = self.schedule.state_type(**fields)
                model = self.schedule._host(self.schedule.check_state(saved))
            else:
                model = state["last_epoch"]
            self._load(state, model)
            return
        self._refused(lambda: self.sched.load_state_dict(state))

    @invariant()
    def groups_hold_the_model(self) -> None:
        if not hasattr(self, "sched"):
            return
        lrs, momenta = self._values(self.model)
        for group, expected in zip(self.opt.param_groups, lrs, strict=True):
            _holds(group["lr"], expected)
        if self.plateau:
            assert snapshot(self.sched)[0]["state"] == _plain(self.model)
            assert self.sched.last_epoch == int(self.model.last_epoch)
            return
        assert self.sched.last_epoch == self.model
        if momenta is not None:
            for group, expected in zip(self.opt.param_groups, momenta, strict=True):
                have = group["momentum"] if self.make is _sgd_momentum else group["betas"][0]
                _holds(have, expected)


# The profile's example count (ci: 25, thorough: 400); runs of 30 steps.
AdapterStates.TestCase.settings = settings(settings.default, stateful_step_count=30)
TestAdapterStates = AdapterStates.TestCase
