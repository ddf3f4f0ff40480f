"""Nothing float64 reaches torch: MPS, which has no float64, emulated on the CPU.

MPS refuses any float64 tensor on the device. Under :class:`Float32Only` every torch call --
a ``torch.*`` function or a tensor method, from lrfun, from torch's optimizers and schedulers,
from the parity harness -- that takes or gives a float64 tensor, or asks for
``dtype=torch.float64``, raises. Under it run: every schedule evaluated on float32 tensors
(the gallery examples and a Hypothesis sample), both torch adapters stepping a float32
optimizer with tensor lrs and with Python float lrs, and the parity harness's float32 branch
(``tensor_lr=True``: float32 parameters and lrs, as on MPS). NumPy's float64 host work is
allowed, as on a Mac.

The check is at torch's API level (a ``TorchFunctionMode``). One layer down, torch turns a
NumPy float64 array passed with ``dtype=torch.float32`` into a float32 tensor by way of a
float64 host tensor; on MPS that conversion runs on the host too (its copy to the device
casts on the source side), so it is no MPS failure and is not flagged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

import lrfun
import lrfun.torch
from lrfun._plateau import Machine
from parity import assert_close, lr_scale, torch_trajectory
from parity.report import TENSOR_LR_STEPS, float32_representable
from parity.strategies import NAMES, configs, horizon, metric_sequences, unit_momenta

_PLATEAU = "ReduceLROnPlateau"


def _float64(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return value.dtype == torch.float64
    return value is torch.float64


class Float32Only(TorchFunctionMode):
    """Raises ``TypeError`` at any torch call that takes or gives a float64 tensor (or is
    asked for float64), naming the call: what MPS refuses."""

    def __torch_function__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        kwargs = kwargs or {}
        if any(_float64(x) for x in tree_flatten((args, kwargs))[0]):
            raise TypeError(f"float64 passed to {func} (MPS has no float64)")
        out = func(*args, **kwargs)
        if any(_float64(x) for x in tree_flatten(out)[0]):
            raise TypeError(f"{func} returned a float64 tensor (MPS has no float64)")
        return out


def test_the_mode_catches_float64() -> None:
    with Float32Only():
        torch.arange(3, dtype=torch.float32) * 2.0  # float32 with a Python float: allowed
        for make in (
            lambda: torch.zeros(2, dtype=torch.float64),
            lambda: torch.zeros(2).double(),
            lambda: torch.asarray(np.zeros(2)),  # a NumPy float64 array kept as float64
        ):
            with pytest.raises(TypeError, match="MPS has no float64"):
                make()
    torch.zeros(2, dtype=torch.float64)  # outside the mode: allowed


def _gallery() -> list[Any]:
    """The adapter tests' examples: every registered class, and composites simulated on the
    host."""
    from tests.test_torch_adapter import _examples

    return _examples()


def _evaluate_float32(schedule: Any, steps: int) -> None:
    """The schedule (and momentum) on int64 and float32 step tensors: float32 results."""
    calls = [schedule] + ([schedule.momentum] if schedule.cycles_momentum else [])
    with Float32Only():
        for call in calls:
            for step in (torch.arange(steps + 1), torch.arange(steps + 1, dtype=torch.float32)):
                assert call(step).dtype == torch.float32


def _optimizer(kind: str, lrs: list[float], tensor_lr: bool) -> torch.optim.Optimizer:
    def lr(value: float) -> Any:
        return torch.tensor(value, dtype=torch.float32) if tensor_lr else value

    groups = []
    for value in lrs:
        param = torch.zeros(2, requires_grad=True)  # float32
        param.grad = torch.ones_like(param)
        groups.append({"params": [param], "lr": lr(value)})
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=lr(lrs[0]), momentum=0.9, foreach=False)
    return torch.optim.Adam(groups, lr=lr(lrs[0]), foreach=False)


def _lrs_of(schedule: Any, groups: int) -> list[float]:
    base = schedule.base_lr if isinstance(schedule, Machine) else None
    if base is None:
        base = schedule._initial_lr
    return list(base) if isinstance(base, tuple) else [base] * groups


def _step_adapters(schedule: Any, steps: int, kinds: tuple[str, ...] = ("sgd", "adam")) -> None:
    """Both adapters step float32 optimizers (SGD and Adam, tensor and float lrs)."""
    groups = schedule.groups or 1
    for kind in kinds:
        for tensor_lr in (False, True):
            opt = _optimizer(kind, _lrs_of(schedule, groups), tensor_lr)
            with Float32Only():
                if isinstance(schedule, Machine):
                    sched: Any = lrfun.torch.PlateauScheduler(opt, schedule)
                    metrics = [1.0, 1.0, torch.tensor(0.5), 0.7, 0.7, 0.7, 0.7] * (steps // 7 + 1)
                    for metric in metrics[:steps]:
                        opt.step()
                        sched.step(metric)
                else:
                    sched = lrfun.torch.Scheduler(opt, schedule)
                    for _ in range(steps):
                        opt.step()
                        sched.step()
                sched.get_last_lr()
                state = sched.state_dict()
                sched.load_state_dict(state)
            lr = opt.param_groups[0]["lr"]
            assert not tensor_lr or lr.dtype == torch.float32


@pytest.mark.parametrize("schedule", _gallery(), ids=lambda s: type(s).__name__)
def test_gallery_in_float32_only(schedule: Any) -> None:
    if not isinstance(schedule, Machine):
        _evaluate_float32(schedule, 60)
    else:
        with Float32Only():
            metrics = torch.tensor([1.0, 1.0, 0.5, 0.7, 0.7, 0.7, 0.7, 0.7])
            assert schedule.trajectory(metrics).dtype == torch.float32
    steps = 20 if schedule._torch_steps() is None else min(20, schedule._torch_steps())
    _step_adapters(schedule, steps)


@given(data=st.data())
def test_drawn_schedules_in_float32_only(data: st.DataObject) -> None:
    """Any drawn config: evaluated on float32 tensors, and through both adapters."""
    name = data.draw(st.sampled_from([*NAMES, _PLATEAU]), label="name")
    config = data.draw(configs(name), label="config")
    schedule = lrfun.from_config(config)
    steps = horizon(config, data.draw(st.integers(0, 60), label="steps"))
    if name != _PLATEAU:
        _evaluate_float32(schedule, steps)
    # Adam's step raises on a beta1 cycled outside [0, 1)
    _step_adapters(schedule, steps, ("sgd", "adam") if unit_momenta(config) else ("sgd",))


@given(data=st.data())
def test_parity_harness_float32_branch_in_float32_only(data: st.DataObject) -> None:
    """The harness's MPS-like branch (tensor lrs: float32 parameters and lrs) runs torch's
    native scheduler and the adapters with nothing float64 in torch; the adapters still
    match torch."""
    name = data.draw(st.sampled_from([*NAMES, _PLATEAU]), label="name")
    config = data.draw(configs(name), label="config")
    metrics = None
    if name == _PLATEAU:
        metrics = data.draw(metric_sequences(max_size=60), label="metrics")
        steps = len(metrics)
        schedule = lrfun.from_config(config)

        def adapter(opt: torch.optim.Optimizer) -> Any:
            return lrfun.torch.PlateauScheduler(opt, schedule)
    else:
        steps = horizon(config, data.draw(st.integers(0, TENSOR_LR_STEPS // 10), label="n"))
        schedule = lrfun.from_config(config)

        def adapter(opt: torch.optim.Optimizer) -> Any:
            return lrfun.torch.Scheduler(opt, schedule)

    # torch cannot run every config on float32 lrs (a 1e-200 factor underflows to 0).
    assume(metrics is not None or float32_representable(config, steps))
    kind = data.draw(st.sampled_from(["sgd", "adam"] if unit_momenta(config) else ["sgd"]))
    with Float32Only():
        native = torch_trajectory(config, steps, optimizer=kind, tensor_lr=True, metrics=metrics)
        ours = torch_trajectory(
            config, steps, optimizer=kind, tensor_lr=True, metrics=metrics, scheduler=adapter
        )
    assert native.dtype == ours.dtype == "float32"
    # Outside the mode, the float64 reference MPS never makes (float64 parameters, CPU): the
    # adapter's float32 lrs are its values rounded once.
    exact = torch_trajectory(config, steps, optimizer=kind, metrics=metrics)
    assert_close(ours.lr, exact.lr, dtype="float32", scale=lr_scale(config))
