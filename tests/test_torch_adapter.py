"""lrfun.torch: the adapters set what torch's native schedulers set, and resume exactly.

Both sides run the same optimizer and loop (``parity.torch_trajectory``): once with torch's
native scheduler, once with ``lrfun.torch.Scheduler`` / ``PlateauScheduler`` built from the
same config.
"""

from __future__ import annotations

import copy
import io
import json
import multiprocessing
import pickle
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import lrfun
import lrfun.torch
from lrfun._plateau import Machine
from parity import assert_close, lr_scale, torch_trajectory
from parity.backends import devices
from parity.report import TENSOR_LR_STEPS, float32_representable
from parity.strategies import (
    NAMES,
    compositions,
    configs,
    constant,
    horizon,
    metric_sequences,
    unit_momenta,
)

_GPUS = [d for d in devices() if d != "cpu"]
# Accelerators present run as devices of their own; absent, one case says why it is skipped.
_DEVICES: list[Any] = ["cpu", *_GPUS]
if not _GPUS:
    _DEVICES.append(
        pytest.param(
            "accelerator",
            marks=pytest.mark.skip(reason="no CUDA or MPS device on this machine"),
        )
    )
_PLATEAU = "ReduceLROnPlateau"


def adapter(config: dict[str, Any]) -> Any:
    """config -> (optimizer -> lrfun adapter)."""
    schedule = lrfun.from_config(config)
    if config["name"] == _PLATEAU:
        return lambda opt: lrfun.torch.PlateauScheduler(opt, schedule)
    return lambda opt: lrfun.torch.Scheduler(opt, schedule)


def check_adapter(
    config: dict[str, Any],
    steps: int,
    *,
    optimizer: str,
    device: str,
    tensor_lr: bool,
    metrics: list[float] | None = None,
) -> None:
    """The adapter's lrs (and momentum/beta1) at every step against torch's native run."""
    kwargs: dict[str, Any] = dict(optimizer=optimizer, device=device, metrics=metrics)
    native = torch_trajectory(config, steps, **kwargs)
    ours = torch_trajectory(config, steps, tensor_lr=tensor_lr, scheduler=adapter(config), **kwargs)
    # With tensor lrs the adapter writes the float64 value into a float32 tensor once per
    # step: the float32 rounding of torch's float64 run, not of torch's float32 recursion.
    dtype = "float32" if tensor_lr else "float64"
    assert_close(ours.lr, native.lr, dtype=dtype, scale=lr_scale(config))
    assert (ours.momentum is None) == (native.momentum is None)
    if native.momentum is not None:
        assert_close(ours.momentum, native.momentum, dtype=dtype, what="momentum")
    if tensor_lr:
        floats = torch_trajectory(config, steps, scheduler=adapter(config), **kwargs)
        np.testing.assert_array_equal(ours.lr, floats.lr.astype(np.float32))


_steps = st.one_of(st.integers(0, 60), st.integers(60, 600))
_optimizer = st.sampled_from(["sgd", "adam"])


def _optimizers(config: dict[str, Any]) -> st.SearchStrategy[str]:
    """SGD, and Adam where its beta1 can be the momentum cycled (bounds in [0, 1))."""
    return _optimizer if unit_momenta(config) else st.just("sgd")


@pytest.mark.parametrize("device", _DEVICES)
@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_scheduler_matches_native(name: str, device: str, data: st.DataObject) -> None:
    config = data.draw(configs(name), label="config")
    steps = horizon(config, data.draw(_steps, label="steps"))
    tensor_lr = data.draw(st.booleans(), label="tensor_lr")
    if tensor_lr:
        steps = min(steps, TENSOR_LR_STEPS)
        assume(float32_representable(config, steps))
    optimizer = data.draw(_optimizers(config), label="optimizer")
    check_adapter(config, steps, optimizer=optimizer, device=device, tensor_lr=tensor_lr)


@pytest.mark.parametrize("device", _DEVICES)
@given(data=st.data())
def test_scheduler_matches_native_compositions(device: str, data: st.DataObject) -> None:
    config = data.draw(compositions(), label="config")
    steps = horizon(config, data.draw(st.integers(0, 300), label="steps"))
    optimizer = data.draw(_optimizers(config), label="optimizer")
    check_adapter(config, steps, optimizer=optimizer, device=device, tensor_lr=False)


@pytest.mark.parametrize("device", _DEVICES)
@given(data=st.data())
def test_plateau_scheduler_matches_native(device: str, data: st.DataObject) -> None:
    config = data.draw(configs(_PLATEAU), label="config")
    metrics = data.draw(metric_sequences(), label="metrics")
    tensor_lr = data.draw(st.booleans(), label="tensor_lr")
    optimizer = data.draw(_optimizer, label="optimizer")
    check_adapter(
        config,
        len(metrics),
        optimizer=optimizer,
        device=device,
        tensor_lr=tensor_lr,
        metrics=metrics,
    )


def _run(
    config: dict[str, Any],
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    steps: range,
    metrics: list[float] | None,
) -> list[list[float]]:
    """Steps an adapter over ``steps``, returning the lrs (and momenta) after each step."""
    rows = []
    for k in steps:
        optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[k])
        row = [float(g["lr"]) for g in optimizer.param_groups]
        row += [float(g.get("momentum", g.get("betas", (0.0,))[0])) for g in optimizer.param_groups]
        rows.append(row)
    return rows


def _optimizer_for(config: dict[str, Any], kind: str, tensor_lr: bool) -> torch.optim.Optimizer:
    from lrfun._reference import _make_optimizer, _optimizer_lrs

    lrs = _optimizer_lrs(lrfun.from_config(config))
    return _make_optimizer(torch, kind, lrs, "cpu", tensor_lr)


def _round_trip(state: dict[str, Any]) -> dict[str, Any]:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


_resumable = st.one_of(
    st.sampled_from(NAMES).flatmap(configs),
    compositions(max_depth=2),
    configs(_PLATEAU),
)


@given(data=st.data())
def test_resume_equals_uninterrupted(data: st.DataObject) -> None:
    """Stop after k steps, save scheduler and optimizer with torch.save, load them with
    weights_only=True into fresh objects, continue: every later lr and momentum is the
    uninterrupted run's, bit for bit."""
    config = data.draw(_resumable, label="config")
    steps = horizon(config, data.draw(st.integers(1, 200), label="steps"))
    plateau = config["name"] == _PLATEAU
    metrics = data.draw(metric_sequences(max_size=200), label="metrics") if plateau else None
    if metrics is not None:
        assume(metrics)
        steps = len(metrics)
    k = data.draw(st.integers(0, steps), label="k")
    kind = data.draw(_optimizer, label="optimizer")
    tensor_lr = data.draw(st.booleans(), label="tensor_lr")
    load_optimizer_last = data.draw(st.booleans(), label="load_optimizer_last")

    opt = _optimizer_for(config, kind, tensor_lr)
    whole = _run(config, opt, adapter(config)(opt), range(steps), metrics)

    opt = _optimizer_for(config, kind, tensor_lr)
    sched = adapter(config)(opt)
    first = _run(config, opt, sched, range(k), metrics)
    saved = _round_trip({"scheduler": sched.state_dict(), "optimizer": opt.state_dict()})
    json.dumps(saved["scheduler"])  # plain data: no tensors, no pickled callables

    opt = _optimizer_for(config, kind, tensor_lr)
    sched = adapter(config)(opt)
    if load_optimizer_last:
        sched.load_state_dict(saved["scheduler"])
        opt.load_state_dict(saved["optimizer"])
    else:
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
    assert sched.last_epoch == k
    rest = _run(config, opt, sched, range(k, steps), metrics)
    assert first + rest == whole


def test_state_dict_is_plain_data_even_with_callables() -> None:
    schedule = lrfun.LambdaLR([0.1, 0.2], [constant(0.5), constant(2.0)])
    opt = _sgd(lrs=[0.1, 0.2])
    sched = lrfun.torch.Scheduler(opt, schedule)
    state = sched.state_dict()
    assert state["schedule"] is None
    assert json.loads(json.dumps(state)) == state
    assert _round_trip(state) == state


def test_load_refuses_another_schedule() -> None:
    opt = torch.optim.SGD([torch.zeros(1)], lr=0.1)
    state = lrfun.torch.Scheduler(opt, lrfun.StepLR(0.1, step_size=3)).state_dict()
    other = lrfun.torch.Scheduler(opt, lrfun.StepLR(0.1, step_size=4))
    with pytest.raises(ValueError, match="step_size"):
        other.load_state_dict(state)
    del state["schedule"]
    other.load_state_dict(state)  # the documented way to load it anyway
    plateau_state = lrfun.torch.PlateauScheduler(opt, lrfun.ReduceLROnPlateau(0.1)).state_dict()
    other_plateau = lrfun.torch.PlateauScheduler(opt, lrfun.ReduceLROnPlateau(0.1, patience=3))
    with pytest.raises(ValueError, match="patience"):
        other_plateau.load_state_dict(plateau_state)


def test_tensor_lr_is_updated_in_place() -> None:
    lr = torch.tensor(0.1)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=0.9)
    sched = lrfun.torch.Scheduler(opt, lrfun.OneCycleLR(0.1, total_steps=10))
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr
    assert float(lr) == np.float32(lrfun.OneCycleLR(0.1, total_steps=10)(1))
    last = sched.get_last_lr()[0]
    assert isinstance(last, torch.Tensor) and last is not lr and float(last) == float(lr)


def test_compiled_optimizer_step_does_not_recompile() -> None:
    """A tensor lr written in place keeps a compiled optimizer step's graph (after the first
    step, which creates the momentum buffers), and the compiled step applies the new lrs."""
    from torch._dynamo.testing import CompileCounter

    torch._dynamo.reset()
    schedule = lrfun.CosineAnnealingLR(0.1, T_max=7)
    runs = []
    for compiled in (False, True):
        param = torch.zeros(3, requires_grad=True)
        param.grad = torch.ones(3)
        opt = torch.optim.SGD([param], lr=torch.tensor(0.1), momentum=0.9, foreach=False)
        sched = lrfun.torch.Scheduler(opt, schedule)
        counter = CompileCounter()
        step = torch.compile(opt.step, backend=counter) if compiled else opt.step
        counts = []
        for _ in range(12):
            step()
            sched.step()
            counts.append(counter.frame_count)
        runs.append(param.detach().clone())
    assert counts[1] == counts[-1] > 0
    torch.testing.assert_close(runs[1], runs[0])


def test_plateau_scheduler_is_torch_reduce_lr_on_plateau() -> None:
    """Trainers pass the metric to instances of torch's ReduceLROnPlateau; the attributes they
    read are the state's."""
    opt = torch.optim.SGD([torch.zeros(1)], lr=1.0)
    sched = lrfun.torch.PlateauScheduler(opt, lrfun.ReduceLROnPlateau(1.0, patience=0, cooldown=2))
    assert isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau)
    loss = torch.tensor(5.0, requires_grad=True) * 1.0
    sched.step(loss)  # a 0-d tensor with its graph: torch warns converting it; no warning here
    assert sched.best == 5.0 and sched.num_bad_epochs == 0
    sched.step(6.0)
    assert sched.get_last_lr() == [0.1] and sched.in_cooldown and sched.cooldown_counter == 2


def test_adapters_name_their_schedule() -> None:
    opt = torch.optim.SGD([torch.zeros(1)], lr=0.1)
    sched = lrfun.torch.Scheduler(opt, lrfun.StepLR(0.1, step_size=30))
    assert repr(sched) == "Scheduler(StepLR(base_lr=0.1, step_size=30, gamma=0.1))"
    plateau = lrfun.torch.PlateauScheduler(opt, lrfun.ReduceLROnPlateau(0.1, patience=2))
    assert repr(plateau) == f"PlateauScheduler({lrfun.ReduceLROnPlateau(0.1, patience=2)!r})"
    assert repr(plateau).startswith("PlateauScheduler(ReduceLROnPlateau(base_lr=0.1, ")


def _sgd(groups: int = 1, lrs: list[Any] | None = None, **kwargs: Any) -> torch.optim.Optimizer:
    """SGD on ``groups`` param groups at lr 0.1, or one group per entry of ``lrs``."""
    lrs = [0.1] * groups if lrs is None else lrs
    param_groups = [{"params": [torch.zeros(1)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(param_groups, lr=0.1, **kwargs)


_BAD = [
    (lambda: lrfun.torch.Scheduler(object(), lrfun.StepLR(0.1, 2)), TypeError, "optimizer"),
    (lambda: lrfun.torch.Scheduler(_sgd(), lambda e: 0.1), TypeError, "schedule"),
    (
        lambda: lrfun.torch.Scheduler(_sgd(), lrfun.ReduceLROnPlateau(0.1)),
        TypeError,
        "PlateauScheduler",
    ),
    (
        lambda: lrfun.torch.Scheduler(_sgd(3), lrfun.StepLR([0.1, 0.2], 2)),
        ValueError,
        "2 param groups; the optimizer has 3",
    ),
    (
        lambda: lrfun.torch.Scheduler(
            torch.optim.Adagrad([torch.zeros(1)]), lrfun.OneCycleLR(0.1, total_steps=5)
        ),
        ValueError,
        "Adagrad has neither 'momentum' nor 'betas'",
    ),
    (lambda: lrfun.torch.PlateauScheduler(_sgd(), lrfun.StepLR(0.1, 2)), TypeError, "plateau"),
    (
        lambda: lrfun.torch.PlateauScheduler(_sgd(2), lrfun.ReduceLROnPlateau(0.1, min_lr=[0] * 3)),
        ValueError,
        "3 param groups; the optimizer has 2",
    ),
    (
        lambda: lrfun.torch.Scheduler(_sgd(), lrfun.StepLR(0.1, 2)).load_state_dict({}),
        ValueError,
        "last_epoch",
    ),
    (
        lambda: lrfun.torch.Scheduler(_sgd(), lrfun.StepLR(0.1, 2)).step(1.5),
        TypeError,
        "epoch must be an integer >= 0, got 1.5",
    ),
    (
        lambda: lrfun.torch.Scheduler(_sgd(), lrfun.StepLR(0.1, 2)).step(-2),
        ValueError,
        "epoch must be an integer >= 0, got -2",
    ),
    (
        lambda: lrfun.torch.PlateauScheduler(_sgd(), lrfun.ReduceLROnPlateau(0.1)).step(1.0, 3),
        TypeError,
        "no epoch",
    ),
]


@pytest.mark.parametrize(("make", "error", "words"), _BAD)
def test_bad_arguments(make: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_group_added_after_construction() -> None:
    # torch's StepLR continues an added group from its own lr; so does the adapter
    opt, native = _sgd(lrs=[0.1, 0.2]), _sgd(lrs=[0.1, 0.2])
    sched = lrfun.torch.Scheduler(opt, lrfun.StepLR([0.1, 0.2], 2))
    reference = torch.optim.lr_scheduler.StepLR(native, 2)
    for o in (opt, native):
        o.add_param_group({"params": [torch.zeros(1)], "lr": 0.5})
    for _ in range(5):
        opt.step(), native.step(), sched.step(), reference.step()
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(
            [g["lr"] for g in native.param_groups], rel=1e-12
        )


def test_group_added_to_a_schedule_torch_cannot_continue() -> None:
    opt = _sgd()
    sched = lrfun.torch.Scheduler(opt, lrfun.OneCycleLR(0.1, total_steps=10))
    opt.add_param_group({"params": [torch.zeros(1)]})
    opt.step()
    with pytest.raises(RuntimeError, match="a param group was added"):
        sched.step()
    assert sched.last_epoch == 0


def test_step_epoch_jumps_to_the_closed_form() -> None:
    schedule = lrfun.CosineAnnealingLR(0.1, T_max=10)
    opt = _sgd()
    sched = lrfun.torch.Scheduler(opt, schedule)
    opt.step()
    sched.step(7)
    assert sched.last_epoch == 7 and sched.get_last_lr() == [schedule(7)]


def test_step_order_warning_as_torch() -> None:
    opt = _sgd()
    sched = lrfun.torch.Scheduler(opt, lrfun.StepLR(0.1, 2))
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_user_function_defined_only_over_the_run() -> None:
    """A lambda that indexes a list is evaluated ahead only where it is defined: the run
    works up to the list's end and fails at the step torch's LambdaLR would fail."""
    factors = [1.0, 0.5, 0.25, 0.125]
    schedule = lrfun.LambdaLR(0.1, lambda e: factors[e])
    opt = _sgd()
    native_opt = _sgd()
    sched = lrfun.torch.Scheduler(opt, schedule)
    native = torch.optim.lr_scheduler.LambdaLR(native_opt, lambda e: factors[e])
    for _ in range(3):
        opt.step()
        native_opt.step()
        sched.step()
        native.step()
        assert sched.get_last_lr() == native.get_last_lr()
    opt.step()
    native_opt.step()
    with pytest.raises(IndexError):
        native.step()
    with pytest.raises(IndexError):
        sched.step()


# -- torch's containers around adapters --------------------------------------------------------

_CHAIN = (lrfun.ConstantLR(0.1, factor=0.25, total_iters=5), lrfun.ExponentialLR(0.1, gamma=0.9))


def _lrs(optimizer: torch.optim.Optimizer, scheduler: Any, steps: int) -> list[float]:
    """The first group's lr after construction and after each of ``steps`` steps."""
    lrs = [float(optimizer.param_groups[0]["lr"])]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        lrs.append(float(optimizer.param_groups[0]["lr"]))
    return lrs


def test_torch_chained_scheduler_refuses_adapters() -> None:
    """Inside torch's ChainedScheduler each adapter would overwrite the lr the previous child
    left: the chain would silently run the last adapter alone (0.1, 0.09, 0.081, ... where
    torch chains the same two schedulers as 0.025, 0.0225, 0.02025, ...). Building the
    container is refused, naming lrfun's ChainedScheduler; so is stepping one whose children
    were replaced after it was built."""
    chained = torch.optim.lr_scheduler.ChainedScheduler
    opt = _sgd()
    a, b = (lrfun.torch.Scheduler(opt, s) for s in _CHAIN)
    native = torch.optim.lr_scheduler.StepLR(opt, step_size=2)
    advice = r"lrfun\.torch\.Scheduler\(optimizer, lrfun\.ChainedScheduler\(\[a, b\]\)\)"
    for children, kwargs in [([a, b], {}), ([a, b], {"optimizer": opt}), ([native, b], {})]:
        with pytest.raises(TypeError, match=advice):
            chained(children, **kwargs)
    container = chained([native])
    container._schedulers = [native, a]
    opt.step()
    with pytest.raises(TypeError, match=advice):
        container.step()
    # A PlateauScheduler is a torch ReduceLROnPlateau, which torch's own check refuses.
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        chained([lrfun.torch.PlateauScheduler(opt, lrfun.ReduceLROnPlateau(0.1))])


def test_lrfun_chain_in_one_adapter_gives_torchs_chained_scheduler() -> None:
    """The way to chain: one adapter running lrfun's ChainedScheduler sets what torch's
    ChainedScheduler of the native schedulers sets."""
    native_opt, opt = _sgd(), _sgd()
    native = torch.optim.lr_scheduler.ChainedScheduler(
        [
            torch.optim.lr_scheduler.ConstantLR(native_opt, factor=0.25, total_iters=5),
            torch.optim.lr_scheduler.ExponentialLR(native_opt, gamma=0.9),
        ]
    )
    ours = lrfun.torch.Scheduler(opt, lrfun.ChainedScheduler(list(_CHAIN)))
    expected = _lrs(native_opt, native, 12)
    assert_close(_lrs(opt, ours, 12), expected, dtype="float64")
    assert_close(expected[:3], [0.025, 0.0225, 0.02025], dtype="float64")


def _sequential_of_adapters(config: dict[str, Any]) -> Any:
    """optimizer -> torch's SequentialLR of one adapter per child of a SequentialLR config."""

    def build(optimizer: torch.optim.Optimizer) -> Any:
        children = [
            lrfun.torch.Scheduler(optimizer, lrfun.from_config(child))
            for child in config["schedulers"]
        ]
        return torch.optim.lr_scheduler.SequentialLR(
            optimizer, children, milestones=config["milestones"]
        )

    return build


def _check_sequential(config: dict[str, Any], steps: int, optimizer: str) -> None:
    native = torch_trajectory(config, steps, optimizer=optimizer)
    ours = torch_trajectory(
        config, steps, optimizer=optimizer, scheduler=_sequential_of_adapters(config)
    )
    assert_close(ours.lr, native.lr, dtype="float64", scale=lr_scale(config))
    assert (ours.momentum is None) == (native.momentum is None)
    if native.momentum is not None:
        assert_close(ours.momentum, native.momentum, dtype="float64", what="momentum")


_SEQUENTIAL = {
    "warmup_then_cosine": {
        "name": "SequentialLR",
        "schedulers": [
            {"name": "LinearLR", "base_lr": 0.1, "start_factor": 0.01, "total_iters": 5},
            {"name": "CosineAnnealingLR", "base_lr": 0.1, "T_max": 20, "eta_min": 0.001},
        ],
        "milestones": [5],
    },
    # torch restarts MultiplicativeLR from the lr the previous child left
    "step_then_multiplicative": {
        "name": "SequentialLR",
        "schedulers": [
            {"name": "StepLR", "base_lr": 0.1, "step_size": 2, "gamma": 0.5},
            {"name": "MultiplicativeLR", "base_lr": 0.1, "lr_lambda": constant(0.9)},
        ],
        "milestones": [3],
    },
    # torch restarts ConstantLR(total_iters=0) at its base lr, without the factor
    "exponential_then_constant_0": {
        "name": "SequentialLR",
        "schedulers": [
            {"name": "ExponentialLR", "base_lr": 0.1, "gamma": 0.8},
            {"name": "ConstantLR", "base_lr": 0.1, "factor": 0.5, "total_iters": 0},
            {"name": "PolynomialLR", "base_lr": 0.1, "total_iters": 6, "power": 2.0},
        ],
        "milestones": [4, 9],
    },
    # momentum cycled from the milestone on; a milestone at 0 starts with the second child
    "constant_then_one_cycle": {
        "name": "SequentialLR",
        "schedulers": [
            {"name": "ConstantLR", "base_lr": 0.004, "factor": 0.5, "total_iters": 3},
            {"name": "OneCycleLR", "max_lr": 0.1, "total_steps": 30},
            {"name": "StepLR", "base_lr": 0.004, "step_size": 3},
        ],
        "milestones": [0, 6],
    },
}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("config", _SEQUENTIAL.values(), ids=_SEQUENTIAL.keys())
def test_torch_sequential_lr_of_adapters_matches_native(
    config: dict[str, Any], optimizer: str
) -> None:
    _check_sequential(config, 30, optimizer)


@given(data=st.data())
def test_torch_sequential_lr_of_adapters_matches_native_drawn(data: st.DataObject) -> None:
    """torch's SequentialLR holding one adapter per child sets what it sets holding the native
    schedulers, for any single schedules as children (restarts at milestones included) but a
    OneCycleLR after the first: it overwrites the initial_lr torch's SequentialLR resets the
    groups to (the first child then starts from it), and torch's later children read the
    bounds it wrote into the param groups, which independent adapters cannot share (lrfun's
    SequentialLR in one adapter reproduces both)."""
    config = data.draw(compositions(max_depth=1), label="config")
    assume(config["name"] == "SequentialLR")
    assume(all(child["name"] != "OneCycleLR" for child in config["schedulers"][1:]))
    steps = horizon(config, data.draw(st.integers(0, 120), label="steps"))
    _check_sequential(config, steps, data.draw(_optimizers(config), label="optimizer"))


@pytest.mark.parametrize("k", [0, 2, 3, 7, 12])
def test_torch_sequential_lr_of_adapters_resumes(k: int) -> None:
    """torch's SequentialLR saves its children's states: adapters not yet started (step -1)
    load without writing, a restarted MultiplicativeLR keeps the lr it continues from."""
    step_lr = {"name": "StepLR", "base_lr": 0.1, "step_size": 2, "gamma": 0.5}
    multiplicative = {"name": "MultiplicativeLR", "base_lr": 0.1, "lr_lambda": constant(0.9)}
    config = {"name": "SequentialLR", "schedulers": [step_lr, multiplicative, step_lr]}
    config["milestones"] = [3, 9]
    build = _sequential_of_adapters(config)

    def fresh() -> tuple[torch.optim.Optimizer, Any]:
        opt = _optimizer_for(config, "sgd", False)
        return opt, build(opt)

    opt, sched = fresh()
    whole = _lrs(opt, sched, 15)
    opt, sched = fresh()
    first = _lrs(opt, sched, k)
    saved = _round_trip({"scheduler": sched.state_dict(), "optimizer": opt.state_dict()})
    opt, sched = fresh()
    sched.load_state_dict(saved["scheduler"])
    opt.load_state_dict(saved["optimizer"])
    assert first + _lrs(opt, sched, 15 - k)[1:] == whole


# -- an optimizer whose lrs are not the schedule's ---------------------------------------------


def test_warns_when_the_optimizer_lr_is_not_the_base_lr() -> None:
    """The schedule is the truth: it is written anyway, with a warning naming both values and
    the group (torch's base_lrs keep the optimizer's, as torch's would)."""
    opt = _sgd(lrs=[0.1, 0.5])
    with pytest.warns(UserWarning, match=r"param group 1 has lr=0\.5, .* base lr is 0\.2") as seen:
        sched = lrfun.torch.Scheduler(opt, lrfun.StepLR([0.1, 0.2], step_size=2))
    assert len(seen) == 1 and "group 0" not in str(seen[0].message)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.2] and sched.base_lrs == [0.1, 0.5]
    # A group that already has an initial_lr (a scheduler ran on it) is compared by that.
    opt = _sgd()
    opt.param_groups[0]["initial_lr"] = 0.3
    with pytest.warns(UserWarning, match=r"param group 0 has initial_lr=0\.3"):
        lrfun.torch.Scheduler(opt, lrfun.ExponentialLR(0.1, gamma=0.9))


@pytest.mark.parametrize(
    ("lrs", "schedule"),
    [
        ([0.1], lrfun.StepLR(0.1 * (1 + 1e-14), step_size=2)),  # within 1e-12 relative
        ([torch.tensor(0.1)], lrfun.StepLR(0.1, step_size=2)),  # 0.1 rounded to float32
        ([torch.tensor(0.1, dtype=torch.bfloat16)], lrfun.StepLR(0.1, step_size=2)),
        ([torch.tensor(0.1, dtype=torch.float64)], lrfun.StepLR(0.1, step_size=2)),
        ([1], lrfun.StepLR(1.0, step_size=2)),  # an int lr
        ([5.0], lrfun.CyclicLR(0.1, 1.0, step_size_up=3, cycle_momentum=False)),  # sets lrs
        ([5.0], lrfun.OneCycleLR(1.0, total_steps=10, cycle_momentum=False)),
        (
            [5.0],
            lrfun.SequentialLR(
                [lrfun.OneCycleLR(1.0, total_steps=10, cycle_momentum=False)], milestones=[]
            ),
        ),
        ([0.1, 0.2], lrfun.LambdaLR([0.1, 0.2], [constant(1.0), constant(0.5)])),
    ],
    ids=[
        "rounding",
        "float32_tensor",
        "bfloat16_tensor",
        "float64_tensor",
        "int",
        "cyclic",
        "one_cycle",
        "leading_one_cycle",
        "per_group",
    ],
)
def test_no_warning_where_the_lrs_agree(lrs: list[Any], schedule: lrfun.Schedule) -> None:
    import warnings

    opt = _sgd(lrs=lrs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lrfun.torch.Scheduler(opt, schedule)


# -- the meta device ---------------------------------------------------------------------------


def _decay(epoch: int) -> float:
    return 0.9**epoch


def _examples() -> list[Any]:
    """Every registered class's gallery example (the two that take a Python function built
    here, per group), and composites simulated on the host."""
    from lrfun._schedule import classes
    from lrfun._spec import parse

    found: list[Any] = [
        parse(cls._gallery[0])
        if cls._gallery is not None
        else cls(base_lr=[0.1, 0.2], lr_lambda=_decay)  # type: ignore[call-arg]
        for cls in classes(own=True)
    ]
    found += [
        lrfun.MultiplicativeLR(0.1, _decay),
        lrfun.ChainedScheduler([lrfun.LambdaLR(0.1, _decay), lrfun.StepLR(0.1, 3)]),
        lrfun.SequentialLR(
            [lrfun.ChainedScheduler([lrfun.StepLR(0.1, 3)]), lrfun.StepLR(0.1, 2)], [4]
        ),
        lrfun.ChainedScheduler(
            [lrfun.CyclicLR([0.01, 0.02], [0.1, 0.2], 3), lrfun.ExponentialLR([0.01, 0.02], 0.9)]
        ),
    ]
    return found


@pytest.mark.parametrize("example", _examples(), ids=lambda s: type(s).__name__)
def test_meta_steps_give_meta_results(example: Any) -> None:
    """Steps on the meta device give a meta tensor of the shape and dtype a real device's
    steps give, for closed forms and for schedules evaluated on the host alike (which need
    the steps' values and so answer with shape and dtype alone)."""
    if isinstance(example, Machine):  # ReduceLROnPlateau, hf.GreedyLR
        metrics = torch.zeros(5, device="meta")
        out = example.trajectory(metrics)
        cpu = example.trajectory(torch.zeros(5))
        assert out.device.type == "meta" and out.shape == cpu.shape and out.dtype == cpu.dtype
        return
    calls = [example] + ([example.momentum] if example.cycles_momentum else [])
    for call in calls:
        for dtype in (torch.int64, torch.int32, torch.float32, torch.float64):
            for shape in [(7,), (2, 3), ()]:
                steps = torch.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
                out = call(steps.to("meta"))
                cpu = call(steps)
                assert out.device.type == "meta", (call, dtype, shape)
                assert (out.shape, out.dtype) == (cpu.shape, cpu.dtype), (call, dtype, shape)


# -- the adapters pickle, copy, torch.save and run in a spawn worker ----------------------------


def _adapter_of(example: Any, tensor_lr: bool) -> Any:
    """An adapter of ``example`` on an SGD optimizer holding its base lrs."""
    from lrfun._reference import _make_optimizer, _optimizer_lrs

    opt = _make_optimizer(torch, "sgd", _optimizer_lrs(example), "cpu", tensor_lr)
    if isinstance(example, Machine):
        return lrfun.torch.PlateauScheduler(opt, example)
    return lrfun.torch.Scheduler(opt, example)


def _stepped(sched: Any, n: int) -> list[list[float]]:
    """Steps ``sched`` ``n`` times (metrics for a plateau), the lrs after each."""
    out = []
    for k in range(n):
        sched.optimizer.step()
        if isinstance(sched, lrfun.torch.PlateauScheduler):
            sched.step([3.0, 2.0, 2.0, 2.0, 1.0][k % 5])
        else:
            sched.step()
        out.append([float(group["lr"]) for group in sched.optimizer.param_groups])
    return out


def _torch_saved(sched: Any) -> Any:
    buffer = io.BytesIO()
    torch.save(sched, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)  # a whole object: not weights


@pytest.mark.parametrize("evaluated", [False, True], ids=["new", "evaluated"])
@pytest.mark.parametrize("example", _examples(), ids=lambda s: type(s).__name__)
def test_adapter_copies_continue_as_the_original(example: Any, evaluated: bool) -> None:
    """pickle, deepcopy and torch.save / torch.load(weights_only=False) give an adapter on
    its own optimizer that steps as the original, tensor lrs included; an unstepped copy
    does not warn about the step order (torch's wrapper of optimizer.step is put back)."""
    for tensor_lr in (False, True):
        sched = _adapter_of(example, tensor_lr)
        if evaluated:
            _stepped(sched, 5)
        copies = [
            pickle.loads(pickle.dumps(sched)),
            copy.deepcopy(sched),
            _torch_saved(sched),
        ]
        expected = _stepped(sched, 6)
        for other in copies:
            assert other.optimizer is not sched.optimizer
            assert _stepped(other, 6) == expected
            assert other.state_dict() == sched.state_dict()


def test_a_pickle_leaves_the_evaluated_stretch_out() -> None:
    """The stretch of evaluated steps is derived: a pickle holds the state, not the rows."""
    sched = _adapter_of(lrfun.OneCycleLR([0.1] * 50, total_steps=10**6), tensor_lr=False)
    _stepped(sched, 3)
    assert len(sched._lr_rows) == 1024
    saved = pickle.dumps(sched)
    assert len(saved) < 40_000  # 1,024 rows of 50 lrs and momenta would be about 800 kB
    assert pickle.loads(saved)._lr_rows == []


def _continue_in_worker(sched: Any, n: int) -> list[list[float]]:
    return _stepped(sched, n)


def test_adapters_run_in_a_spawn_worker() -> None:
    """A spawn worker unpickles the adapters (with their optimizers) and steps them as the
    parent does."""
    adapters = [
        _adapter_of(lrfun.OneCycleLR(0.1, total_steps=100), tensor_lr=True),
        _adapter_of(lrfun.ReduceLROnPlateau([0.1, 0.2], patience=0), tensor_lr=False),
        _adapter_of(
            lrfun.SequentialLR(
                [lrfun.ChainedScheduler([lrfun.StepLR(0.1, 3)]), lrfun.StepLR(0.1, 2)], [4]
            ),
            tensor_lr=False,
        ),
    ]
    for sched in adapters:
        _stepped(sched, 3)
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        got = pool.starmap(_continue_in_worker, [(sched, 6) for sched in adapters])
    assert got == [_stepped(sched, 6) for sched in adapters]
