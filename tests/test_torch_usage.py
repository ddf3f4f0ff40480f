"""How torch training code uses schedulers, against the installed torch run live.

Param groups added mid-run (a fine-tuning callback unfreezing a backbone), two schedulers
stepped on one optimizer, real-valued epochs of CosineAnnealingWarmRestarts, stepping past
OneCycleLR's end, ``step(epoch)``'s deprecation warning, ``from_torch`` of a scheduler whose
lrs were changed behind its back, and torch's SequentialLR over a OneCycleLR adapter. Every
reference value comes from torch's native scheduler stepped in the test.
"""

from __future__ import annotations

import contextlib
import copy
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from torch.optim import lr_scheduler as sched
from torch.optim.lr_scheduler import EPOCH_DEPRECATION_WARNING

import lrfun
import lrfun.hf
import lrfun.torch
from parity import assert_close, torch_scheduler
from parity.strategies import NAMES, arguments, configs, horizon, metric_sequences

DECAYS = ("StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR")
# Schedules whose torch scheduler cannot continue a param group added after construction.
NOT_CONTINUING = tuple(name for name in NAMES if name not in DECAYS)


# -- helpers ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """torch's own warnings (its PolynomialLR divides by zero past total_iters, step(epoch)
    is deprecated): not what these tests check where this is used."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _param() -> list[torch.Tensor]:
    return [torch.zeros(1, requires_grad=True)]


def _sgd(lrs: list[float], *, tensor: bool = False) -> torch.optim.SGD:
    """SGD with momentum, one param group per lr (a float32 tensor lr with ``tensor``)."""
    groups = [
        {"params": _param(), "lr": torch.tensor(lr, dtype=torch.float32) if tensor else lr}
        for lr in lrs
    ]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def _lrs(opt: torch.optim.Optimizer) -> list[float]:
    return [float(group["lr"]) for group in opt.param_groups]


def _bases(config: dict[str, Any]) -> list[float]:
    base = config["base_lr"]
    return list(base) if isinstance(base, list) else [base]


def _fresh(config: dict[str, Any], like: torch.optim.Optimizer) -> torch.optim.SGD:
    """A fresh optimizer with the config's base lrs, one group per group of ``like``."""
    base = config.get("base_lr", 1.0)
    groups = len(like.param_groups)
    return _sgd(list(base) if isinstance(base, list) else [base] * groups)


def _native(config: dict[str, Any], opt: torch.optim.Optimizer) -> Any:
    """torch's scheduler of a single-schedule config whose base lr the optimizer holds."""
    kwargs = {k: v for k, v in arguments(config).items() if k != "base_lr"}
    return getattr(sched, config["name"])(opt, **kwargs)


def _step(opt: torch.optim.Optimizer, *schedulers: Any) -> None:
    """One training iteration: the optimizer's step, then each scheduler's."""
    with _quiet():
        opt.step()
        for scheduler in schedulers:
            scheduler.step()


def _close(ours: Any, ref: Any, *, float32: bool = False, scale: float = 0.0) -> None:
    assert_close(
        np.asarray(ours, dtype=np.float64),
        np.asarray(ref, dtype=np.float64),
        dtype="float32" if float32 else "float64",
        scale=scale,
    )


def _unfreeze(opt: torch.optim.Optimizer, lr: float, *, tensor: bool = False) -> None:
    """A fine-tuning callback's unfreeze: a new param group with its own lr."""
    value: Any = torch.tensor(lr, dtype=torch.float32) if tensor else lr
    opt.add_param_group({"params": _param(), "lr": value})


_ratios = st.one_of(st.sampled_from([0.1, 1.0, 0.01]), st.floats(1e-3, 10.0))


# -- 1. param groups added mid-run -----------------------------------------------------------


@given(
    name=st.sampled_from(DECAYS),
    data=st.data(),
    before=st.integers(0, 25),
    after=st.integers(1, 25),
    ratio=_ratios,
    tensor=st.booleans(),
)
def test_added_group_continues_from_its_own_lr_as_torch_decays(
    name: str, data: st.DataObject, before: int, after: int, ratio: float, tensor: bool
) -> None:
    config = data.draw(configs(name))
    schedule = lrfun.from_config(config)
    bases = _bases(config) if schedule.groups else _bases(config) * data.draw(st.integers(1, 2))
    theirs, ours = _sgd(bases, tensor=tensor), _sgd(bases, tensor=tensor)
    native, adapter = _native(config, theirs), lrfun.torch.Scheduler(ours, schedule)
    ref, got = [], []
    for _ in range(before):
        _step(theirs, native)
        _step(ours, adapter)
    added = _lrs(theirs)[0] * ratio  # the unfreeze callback's lr: a fraction of the current
    _unfreeze(theirs, added, tensor=tensor)
    _unfreeze(ours, added, tensor=tensor)
    for _ in range(after):
        _step(theirs, native)
        _step(ours, adapter)
        ref.append(_lrs(theirs))
        got.append(_lrs(ours))
    assert len(ours.param_groups) == len(bases) + 1
    scale = max(schedule._lr_scale(), added)
    _close(got, ref, float32=tensor, scale=scale)


@given(data=st.data(), before=st.integers(0, 20), after=st.integers(1, 20), ratio=_ratios)
def test_added_group_continues_through_a_chain_of_decays_as_torch(
    data: st.DataObject, before: int, after: int, ratio: float
) -> None:
    count = data.draw(st.integers(1, 2))
    base = data.draw(configs("StepLR", groups=count))["base_lr"]
    names = data.draw(st.lists(st.sampled_from(DECAYS), min_size=2, max_size=3))
    children = [{**data.draw(configs(n, groups=count)), "base_lr": base} for n in names]
    bases = base if isinstance(base, list) else [base]
    theirs, ours = _sgd(bases), _sgd(bases)
    with _quiet():
        native = sched.ChainedScheduler([_native(child, theirs) for child in children])
    chain = lrfun.ChainedScheduler([lrfun.from_config(child) for child in children])
    adapter = lrfun.torch.Scheduler(ours, chain)
    _close(_lrs(ours), _lrs(theirs), scale=chain._lr_scale())
    for _ in range(before):
        _step(theirs, native)
        _step(ours, adapter)
    added = _lrs(theirs)[-1] * ratio
    _unfreeze(theirs, added)
    _unfreeze(ours, added)
    ref, got = [], []
    for _ in range(after):
        _step(theirs, native)
        _step(ours, adapter)
        ref.append(_lrs(theirs))
        got.append(_lrs(ours))
    _close(got, ref, scale=max(chain._lr_scale(), added))


def _raises_within(steps: int, opt: torch.optim.Optimizer, scheduler: Any) -> bool:
    for _ in range(steps):
        try:
            _step(opt, scheduler)
        except (ValueError, KeyError, RuntimeError, IndexError):
            return True
    return False


@given(name=st.sampled_from(NOT_CONTINUING), data=st.data(), before=st.integers(0, 10))
def test_added_group_the_schedule_cannot_continue_is_refused_as_torch_refuses(
    name: str, data: st.DataObject, before: int
) -> None:
    config = data.draw(configs(name, groups=1))
    # A T_max that is not whole never meets torch's trough branch (the one that zips the
    # groups), so torch continues an added group there: a whole one is asked for.
    assume(isinstance(config.get("T_max", 1), int))
    before = min(before, horizon(config, before + 1) - 1)
    theirs, native = torch_scheduler(config)
    schedule = lrfun.from_config(config)
    ours = _fresh(config, theirs)
    with _quiet():
        adapter = lrfun.torch.Scheduler(ours, schedule)
    for _ in range(before):
        _step(theirs, native)
        _step(ours, adapter)
    _unfreeze(theirs, 1e-3)
    _unfreeze(ours, 1e-3)
    held, epoch = _lrs(ours), adapter.last_epoch
    with pytest.raises(RuntimeError, match="param group was added"):
        _step(ours, adapter)
    assert _lrs(ours) == held and adapter.last_epoch == epoch  # a refused step changes nothing
    # torch raises too: at once, or (CosineAnnealingLR) when its recursion reaches the trough
    reach = 2 * config["T_max"] + 2 if name == "CosineAnnealingLR" else 1
    assert _raises_within(min(reach, horizon(config, before + reach) - before), theirs, native)


def test_added_group_inside_an_lrfun_sequential_lr_is_refused_as_torch_refuses() -> None:
    theirs, ours = _sgd([0.1]), _sgd([0.1])
    native = sched.SequentialLR(
        theirs, [sched.StepLR(theirs, 2), sched.ExponentialLR(theirs, 0.9)], [3]
    )
    sequential = lrfun.SequentialLR([lrfun.StepLR(0.1, 2), lrfun.ExponentialLR(0.1, 0.9)], [3])
    adapter = lrfun.torch.Scheduler(ours, sequential)
    _step(theirs, native)
    _step(ours, adapter)
    _unfreeze(theirs, 0.01)
    _unfreeze(ours, 0.01)
    with pytest.raises(RuntimeError, match="SequentialLR"):
        _step(ours, adapter)
    assert _raises_within(3, theirs, native)


def test_finetuning_unfreeze_then_checkpoint_resume_follows_torch() -> None:
    """BaseFinetuning's pattern: at epoch 3 the backbone joins with a tenth of the head's
    current lr; a checkpoint at epoch 6 resumes into a fresh optimizer holding both groups."""
    backbone, head = torch.nn.Linear(3, 2), torch.nn.Linear(2, 1)
    decay = lrfun.MultiStepLR(0.1, milestones=[2, 5, 8], gamma=0.5)

    def run(opt: torch.optim.Optimizer, scheduler: Any, epochs: range) -> list[list[float]]:
        seen = []
        for epoch in epochs:
            if epoch == 3:
                lr = float(opt.param_groups[0]["lr"]) / 10
                opt.add_param_group({"params": list(backbone.parameters()), "lr": lr})
            _step(opt, scheduler)
            seen.append(_lrs(opt))
        return seen

    theirs = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
    ours = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
    native = sched.MultiStepLR(theirs, milestones=[2, 5, 8], gamma=0.5)
    adapter = lrfun.torch.Scheduler(ours, decay)
    ref, got = run(theirs, native, range(6)), run(ours, adapter, range(6))
    _close(got[3:], ref[3:], scale=0.1)
    _close([g[0] for g in got], [r[0] for r in ref], scale=0.1)
    state, optimizer_state = adapter.state_dict(), copy.deepcopy(ours.state_dict())
    assert state["schedule_groups"] == 1
    ref_rest = run(theirs, native, range(6, 12))
    # the fresh run: both groups exist before the checkpoint loads (Lightning re-adds them)
    fresh = torch.optim.SGD(
        [{"params": list(head.parameters())}, {"params": list(backbone.parameters())}],
        lr=0.1,
        momentum=0.9,
    )
    with _quiet():  # group 1's lr is not the schedule's base until the checkpoint loads
        resumed = lrfun.torch.Scheduler(fresh, decay)
    fresh.load_state_dict(optimizer_state)
    resumed.load_state_dict(state)
    assert _lrs(fresh) == _lrs(ours)
    _close(run(fresh, resumed, range(6, 12)), ref_rest, scale=0.1)
    assert resumed.state_dict()["schedule_groups"] == 1 and resumed.last_epoch == 12


@given(data=st.data(), metrics=metric_sequences(40), at=st.integers(0, 40), ratio=_ratios)
def test_added_group_continues_under_reduce_on_plateau_as_torch(
    data: st.DataObject, metrics: list[float], at: int, ratio: float
) -> None:
    config = data.draw(configs("ReduceLROnPlateau", groups=data.draw(st.sampled_from([1, 2]))))
    config["min_lr"] = data.draw(st.sampled_from([0.0, 1e-6, 1e-3]))  # scalar: torch extends it
    bases = _bases(config)
    kwargs = {k: v for k, v in arguments(config).items() if k != "base_lr"}
    theirs, ours = _sgd(bases), _sgd(bases)
    native = sched.ReduceLROnPlateau(theirs, **kwargs)
    adapter = lrfun.torch.PlateauScheduler(ours, lrfun.from_config(config))
    metrics = [*metrics, 1.0]  # at least one step after the group is added
    at = min(at, len(metrics) - 1)
    ref, got = [], []
    for i, metric in enumerate(metrics):
        if i == at:
            added = _lrs(theirs)[0] * ratio
            _unfreeze(theirs, added)
            _unfreeze(ours, added)
        native.step(metric)
        adapter.step(metric)
        ref.append(_lrs(theirs) + [math.nan] * (len(bases) + 1 - len(theirs.param_groups)))
        got.append(_lrs(ours) + [math.nan] * (len(bases) + 1 - len(ours.param_groups)))
    scale = max(max(bases), *(r[-1] for r in ref if not math.isnan(r[-1])), 0.0)
    _close(np.nan_to_num(got, nan=-1.0), np.nan_to_num(ref, nan=-1.0), scale=scale)
    if len(theirs.param_groups) == len(bases) + 1:
        # from_torch reads torch's extended state: the machine continues as torch does
        machine = lrfun.from_torch(native)
        state = machine.init()
        tail = [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0]
        cont_ref, cont = [], []
        for metric in tail:
            native.step(metric)
            state = machine.update(state, metric)
            cont_ref.append(_lrs(theirs))
            cont.append(np.broadcast_to(np.asarray(machine.lr(state)), (len(bases) + 1,)))
        _close(cont, cont_ref, scale=scale)


def test_added_group_with_min_lr_per_group_or_greedy_lr_is_refused() -> None:
    theirs, ours = _sgd([1.0, 0.5]), _sgd([1.0, 0.5])
    native = sched.ReduceLROnPlateau(theirs, patience=0, min_lr=[0.0, 0.0])
    adapter = lrfun.torch.PlateauScheduler(
        ours, lrfun.ReduceLROnPlateau([1.0, 0.5], patience=0, min_lr=[0.0, 0.0])
    )
    for opt in (theirs, ours):
        _unfreeze(opt, 0.1)
    with pytest.raises(RuntimeError, match="min_lr"):
        adapter.step(1.0)
    assert _lrs(ours) == [1.0, 0.5, 0.1] and adapter.last_epoch == 0
    native.step(1.0)
    with pytest.raises(RuntimeError):  # torch at its first cut: it cannot extend min_lrs
        native.step(2.0)

    greedy_opt = _sgd([0.1])
    greedy = lrfun.torch.PlateauScheduler(greedy_opt, lrfun.hf.GreedyLR(0.1))
    _unfreeze(greedy_opt, 0.01)
    with pytest.raises(RuntimeError, match="param groups"):
        greedy.step(1.0)
    assert _lrs(greedy_opt) == [0.1, 0.01]


def test_from_torch_of_a_scheduler_whose_optimizer_gained_a_group_names_the_groups() -> None:
    opt = _sgd([0.1])
    native = sched.ExponentialLR(opt, 0.9)
    _step(opt, native)
    _unfreeze(opt, 0.01)
    with pytest.raises(ValueError, match="2 param groups"):
        lrfun.from_torch(native)


# -- 2. two adapters on one optimizer --------------------------------------------------------


@given(
    first=st.sampled_from(DECAYS),
    second=st.sampled_from(DECAYS),
    data=st.data(),
    steps=st.integers(0, 8),
)
def test_two_adapters_stepped_together_are_refused_and_a_chain_gives_torchs_values(
    first: str, second: str, data: st.DataObject, steps: int
) -> None:
    base = data.draw(configs("StepLR", groups=1))["base_lr"]
    a_config = {**data.draw(configs(first, groups=1)), "base_lr": base}
    b_config = {**data.draw(configs(second, groups=1)), "base_lr": base}
    a_schedule, b_schedule = lrfun.from_config(a_config), lrfun.from_config(b_config)
    opt = _sgd([base])
    a = lrfun.torch.Scheduler(opt, a_schedule)
    b = lrfun.torch.Scheduler(opt, b_schedule)
    _step(opt, a)
    held, epoch, last = _lrs(opt), b.last_epoch, b.get_last_lr()
    with pytest.raises(RuntimeError, match=r"lrfun\.ChainedScheduler"):
        _step(opt, b)
    assert _lrs(opt) == held and b.last_epoch == epoch and b.get_last_lr() == last
    # the remedy the error names: the chain gives torch's values of stepping both
    theirs, ours = _sgd([base]), _sgd([base])
    native = [_native(a_config, theirs), _native(b_config, theirs)]
    chained = lrfun.torch.Scheduler(ours, lrfun.ChainedScheduler([a_schedule, b_schedule]))
    ref, got = [_lrs(theirs)], [_lrs(ours)]
    for _ in range(steps):
        _step(theirs, *native)
        _step(ours, chained)
        ref.append(_lrs(theirs))
        got.append(_lrs(ours))
    _close(got, ref, scale=base)


def test_two_adapters_built_on_one_optimizer_are_refused_at_their_first_steps() -> None:
    # Built together, as torch's SequentialLR children are, neither can know yet whether a
    # container will step them; stepped together, the second step names the alternative.
    ours = _sgd([0.1])
    warmup = lrfun.torch.Scheduler(ours, lrfun.LinearLR(0.1, 0.1, 1.0, 5))
    decay = lrfun.torch.Scheduler(ours, lrfun.ExponentialLR(0.1, 0.9))
    ours.step()
    warmup.step()
    before = _lrs(ours)
    with pytest.raises(RuntimeError, match=r"lrfun\.ChainedScheduler"):
        decay.step()
    assert _lrs(ours) == before and decay.last_epoch == 0


def test_a_second_adapter_after_the_first_stopped_takes_over_as_torch() -> None:
    theirs, ours = _sgd([0.1]), _sgd([0.1])
    warmup = sched.LinearLR(theirs, 0.1, 1.0, 5)
    adapter = lrfun.torch.Scheduler(ours, lrfun.LinearLR(0.1, 0.1, 1.0, 5))
    for _ in range(5):
        _step(theirs, warmup)
        _step(ours, adapter)
    decay = sched.ExponentialLR(theirs, 0.9)  # stage 2: a new scheduler, the old one left
    second = lrfun.torch.Scheduler(ours, lrfun.ExponentialLR(0.1, 0.9))
    ref, got = [_lrs(theirs)], [_lrs(ours)]
    for _ in range(10):
        _step(theirs, decay)
        _step(ours, second)
        ref.append(_lrs(theirs))
        got.append(_lrs(ours))
    _close(got, ref, scale=0.1)
    with pytest.raises(RuntimeError, match="two lrfun adapters"):
        _step(ours, adapter)  # the first one, back after the second took over


@given(data=st.data(), milestone=st.integers(0, 12), steps=st.integers(1, 25))
def test_torch_sequential_lr_of_adapters_steps_as_torchs_sequential_lr(
    data: st.DataObject, milestone: int, steps: int
) -> None:
    base = data.draw(configs("StepLR", groups=1))["base_lr"]
    names = data.draw(st.lists(st.sampled_from(DECAYS), min_size=2, max_size=2))
    children = [{**data.draw(configs(n, groups=1)), "base_lr": base} for n in names]
    theirs, ours = _sgd([base]), _sgd([base])
    with _quiet():
        native = sched.SequentialLR(theirs, [_native(c, theirs) for c in children], [milestone])
        adapters = [lrfun.torch.Scheduler(ours, lrfun.from_config(c)) for c in children]
        sequential = sched.SequentialLR(ours, adapters, [milestone])
    ref, got = [_lrs(theirs)], [_lrs(ours)]
    for _ in range(steps):
        _step(theirs, native)
        _step(ours, sequential)
        ref.append(_lrs(theirs))
        got.append(_lrs(ours))
    _close(got, ref, scale=base)


# -- 3. real-valued epochs of CosineAnnealingWarmRestarts ------------------------------------

_real_epochs = st.one_of(
    st.floats(0.0, 300.0),
    st.integers(0, 300).map(float),
    st.tuples(st.integers(0, 300), st.sampled_from([0.25, 0.5, 0.3, 0.999])).map(sum),
)


@given(data=st.data(), epochs=st.lists(_real_epochs, min_size=1, max_size=6))
def test_warm_restarts_at_a_real_epoch_is_torchs_lr_after_step_epoch(
    data: st.DataObject, epochs: list[float]
) -> None:
    config = data.draw(configs("CosineAnnealingWarmRestarts"))
    schedule = lrfun.from_config(config)
    opt, native = torch_scheduler(config)
    scale = schedule._lr_scale()
    groups = len(opt.param_groups)
    for epoch in epochs:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            native.step(epoch)
        assert not [w for w in caught if str(w.message) == EPOCH_DEPRECATION_WARNING]
        ref = _lrs(opt)
        for value in (
            schedule(epoch),
            schedule(np.array([epoch]))[0],
            schedule(np.float64(epoch)),
            schedule(torch.tensor(epoch, dtype=torch.float64)),
        ):
            _close(
                np.broadcast_to(np.asarray(value, dtype=np.float64), (groups,)), ref, scale=scale
            )
        single = schedule(torch.tensor(epoch, dtype=torch.float32))
        assert single.dtype == torch.float32
        # float32 holds the epoch itself only to its rounding: compare at that epoch
        at = float(torch.tensor(epoch, dtype=torch.float32))
        _close(
            np.broadcast_to(single.numpy(), (groups,)),
            schedule(at) if schedule.groups else [schedule(at)] * groups,
            float32=True,
            scale=scale,
        )


@given(
    data=st.data(),
    epochs=st.integers(1, 5),
    iters=st.integers(1, 7),
    plain=st.integers(0, 4),
    resume=st.integers(0, 30),
)
def test_warm_restarts_adapter_stepped_at_real_epochs_follows_torch_and_resumes(
    data: st.DataObject, epochs: int, iters: int, plain: int, resume: int
) -> None:
    config = data.draw(configs("CosineAnnealingWarmRestarts"))
    schedule = lrfun.from_config(config)
    theirs, native = torch_scheduler(config)
    ours = _fresh(config, theirs)
    adapter = lrfun.torch.Scheduler(ours, schedule)
    scale = schedule._lr_scale()
    plan: list[float | None] = [e + i / iters for e in range(epochs) for i in range(iters)]
    plan += [None] * plain  # step() after a real epoch: one epoch further, as torch
    resume = min(resume, len(plan))
    ref, got, saved = [], [], None
    for index, epoch in enumerate(plan):
        if index == resume:
            saved = copy.deepcopy(adapter.state_dict())
        for opt, scheduler in ((theirs, native), (ours, adapter)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                opt.step()
                scheduler.step() if epoch is None else scheduler.step(epoch)
            assert not caught  # torch's own step at a real epoch does not warn: neither here
        ref.append(_lrs(theirs))
        got.append(_lrs(ours))
        assert adapter.last_epoch == native.last_epoch
    _close(got, ref, scale=scale)
    if saved is None or saved["last_epoch"] < 0:
        return
    if resume > 0 and plan[resume - 1] is not None and not float(plan[resume - 1]).is_integer():
        assert saved["real_epoch"] == plan[resume - 1]
    fresh_opt = _fresh(config, theirs)
    fresh = lrfun.torch.Scheduler(fresh_opt, schedule)
    fresh.load_state_dict(saved)
    replay = []
    for epoch in plan[resume:]:
        fresh_opt.step()
        fresh.step() if epoch is None else fresh.step(epoch)
        replay.append(_lrs(fresh_opt))
    assert replay == got[resume:]  # the same adapter arithmetic: identical


def test_warm_restarts_state_dict_keeps_the_real_epoch_and_step_goes_one_epoch_further() -> None:
    theirs, ours = _sgd([0.1]), _sgd([0.1])
    native = sched.CosineAnnealingWarmRestarts(theirs, T_0=3, T_mult=2, eta_min=1e-3)
    adapter = lrfun.torch.Scheduler(ours, lrfun.CosineAnnealingWarmRestarts(0.1, 3, 2, 1e-3))
    for scheduler, opt in ((native, theirs), (adapter, ours)):
        opt.step()
        scheduler.step(2.3)
        opt.step()
        scheduler.step()
    assert native.T_cur == pytest.approx(0.3)  # 3.3: 0.3 into the second period
    assert adapter.state_dict()["real_epoch"] == pytest.approx(3.3)
    _close(_lrs(ours), _lrs(theirs), scale=0.1)
    _close(_lrs(ours), [lrfun.CosineAnnealingWarmRestarts(0.1, 3, 2, 1e-3)(3.3)], scale=0.1)


@given(
    data=st.data(),
    epoch=_real_epochs.filter(lambda e: not e.is_integer()),
    plain=st.integers(1, 6),
)
def test_from_torch_of_warm_restarts_at_a_real_epoch_warns_naming_it(
    data: st.DataObject, epoch: float, plain: int
) -> None:
    config = data.draw(configs("CosineAnnealingWarmRestarts"))
    opt, native = torch_scheduler(config)
    native.step(epoch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schedule = lrfun.from_torch(native)
    real = [w for w in caught if "real epoch" in str(w.message)]
    # torch's lr now, then after each plain step() (one epoch further each time)
    ref = [_lrs(opt)]
    for _ in range(plain):
        _step(opt, native)
        ref.append(_lrs(opt))
    # with the warning the schedule runs at the real epochs it names; without it (an epoch
    # that is whole to within rounding), at the whole ones
    at = epoch if real else float(round(epoch))
    if real:
        assert len(real) == 1 and issubclass(real[0].category, UserWarning)
        assert repr(epoch) in str(real[0].message)
    groups = len(opt.param_groups)
    got = [np.broadcast_to(schedule(at + k), (groups,)) for k in range(plain + 1)]
    _close(got, ref, scale=schedule._lr_scale())


def test_from_torch_of_warm_restarts_just_past_a_whole_epoch_follows_torch() -> None:
    # 50.00000004 is 4e-8 past epoch 50; the cosine's slope there is pi / 200 per epoch
    opt = _sgd([1.0])
    native = sched.CosineAnnealingWarmRestarts(opt, T_0=100)
    native.step(50.00000004)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schedule = lrfun.from_torch(native)
    at = 50.00000004 if caught else 50
    _close([schedule(at)], _lrs(opt), scale=1.0)


def test_from_torch_of_warm_restarts_just_before_a_whole_epoch_reads_the_real_epoch() -> None:
    opt = _sgd([1.0])
    native = sched.CosineAnnealingWarmRestarts(opt, T_0=100)
    native.step(2.9999999999)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schedule = lrfun.from_torch(native)
    _close([schedule(2.9999999999)], _lrs(opt), scale=1.0)


@given(data=st.data(), stepped=st.integers(0, 40), rebuilt_at=st.integers(0, 60))
def test_from_torch_of_warm_restarts_rebuilt_with_last_epoch_refuses_or_continues(
    data: st.DataObject, stepped: int, rebuilt_at: int
) -> None:
    config = data.draw(configs("CosineAnnealingWarmRestarts", groups=1))
    opt, native = torch_scheduler(config)
    for _ in range(stepped):
        _step(opt, native)
    saved = copy.deepcopy(opt.state_dict())
    fresh = _sgd(_lrs(opt))
    fresh.load_state_dict(saved)
    kwargs = {k: v for k, v in arguments(config).items() if k != "base_lr"}
    rebuilt = sched.CosineAnnealingWarmRestarts(fresh, **kwargs, last_epoch=rebuilt_at)
    try:
        schedule = lrfun.from_torch(rebuilt)
    except ValueError as error:
        assert "T_cur" in str(error)
        return
    ref, got = [], []
    for k in range(1, 8):
        _step(fresh, rebuilt)
        ref.append(_lrs(fresh))
        got.append([float(schedule(rebuilt.last_epoch))])
        assert rebuilt.last_epoch == rebuilt_at + 1 + k
    _close(got, ref, scale=schedule._lr_scale())


def test_from_torch_of_warm_restarts_with_an_unreachable_t_cur_names_it() -> None:
    opt = _sgd([0.1])
    opt.param_groups[0]["initial_lr"] = 0.1
    rebuilt = sched.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, last_epoch=7)
    assert (rebuilt.T_cur, rebuilt.T_i) == (2, 6)  # epoch 8 is 5 into the period from 3
    with pytest.raises(ValueError, match="T_cur"):
        lrfun.from_torch(rebuilt)


@given(
    name=st.sampled_from([n for n in NAMES if n != "CosineAnnealingWarmRestarts"]),
    data=st.data(),
    epoch=_real_epochs.filter(lambda e: not e.is_integer()),
)
def test_other_adapters_refuse_a_fractional_epoch(
    name: str, data: st.DataObject, epoch: float
) -> None:
    config = data.draw(configs(name, groups=1))
    opt = _sgd([1.0])
    with _quiet():
        adapter = lrfun.torch.Scheduler(opt, lrfun.from_config(config))
    held = _lrs(opt)
    for value in (epoch, np.float64(epoch), torch.tensor(epoch)):
        with pytest.raises((TypeError, ValueError), match="epoch"):
            adapter.step(value)
    assert _lrs(opt) == held and adapter.last_epoch == 0


# -- 4. stepping past OneCycleLR's last step -------------------------------------------------


@given(data=st.data(), extra=st.integers(1, 3))
def test_one_cycle_past_total_steps_raises_as_torch_and_changes_nothing(
    data: st.DataObject, extra: int
) -> None:
    config = data.draw(configs("OneCycleLR"))
    schedule = lrfun.from_config(config)
    limit = schedule._torch_steps()
    assert limit is not None
    theirs, native = torch_scheduler(config)
    ours = _fresh(config, theirs)
    adapter = lrfun.torch.Scheduler(ours, schedule)
    for _ in range(limit):
        _step(theirs, native)
        _step(ours, adapter)
    _close(_lrs(ours), _lrs(theirs), scale=schedule._lr_scale())
    held = [dict(group) for group in ours.param_groups]
    with pytest.raises(ValueError, match="Tried to step") as torch_error:
        _step(theirs, native)
    for _ in range(extra):
        with pytest.raises(ValueError, match="Tried to step") as ours_error:
            _step(ours, adapter)
        assert str(ours_error.value).startswith(str(torch_error.value))  # torch's message
        assert adapter.last_epoch == limit
        assert [dict(group) for group in ours.param_groups] == held
    # the pure schedule holds its last value past the end
    values = np.asarray(schedule(np.arange(limit, limit + 4)), dtype=np.float64)
    _close(values, np.broadcast_to(values[:1], values.shape), scale=schedule._lr_scale())


# -- 5. step(epoch) warns with torch's deprecation warning -----------------------------------


def _epoch_warnings(opt: torch.optim.Optimizer, scheduler: Any, epoch: int) -> list[Any]:
    opt.step()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler.step(epoch)
    return [
        (w.category, str(w.message)) for w in caught if str(w.message) == EPOCH_DEPRECATION_WARNING
    ]


@given(name=st.sampled_from(NAMES), data=st.data(), epoch=st.integers(0, 50))
def test_step_with_an_epoch_warns_as_torchs_scheduler_warns(
    name: str, data: st.DataObject, epoch: int
) -> None:
    config = data.draw(configs(name, groups=1))
    epoch = min(epoch, horizon(config, epoch))
    theirs, native = torch_scheduler(config)
    ours = _fresh(config, theirs)
    with _quiet():
        adapter = lrfun.torch.Scheduler(ours, lrfun.from_config(config))
    expected = _epoch_warnings(theirs, native, epoch)
    assert _epoch_warnings(ours, adapter, epoch) == expected
    assert bool(expected) == (name != "CosineAnnealingWarmRestarts")
    assert adapter.last_epoch == native.last_epoch == epoch


# -- 6. from_torch continues from the lrs the groups hold ------------------------------------


def _manipulate(
    kind: str, opt: torch.optim.Optimizer, native: Any, snapshots: list[Any], value: float
) -> None:
    if kind == "hand":
        for group in opt.param_groups:
            group["lr"] = value * (1.0 if value < 0 else float(group["lr"]) or 1.0)
    elif kind == "optimizer":
        opt.load_state_dict(copy.deepcopy(snapshots[0][0]))
    else:  # scheduler only: the groups keep what the last step wrote
        native.load_state_dict(copy.deepcopy(snapshots[0][1]))


@given(
    name=st.sampled_from(NAMES),
    data=st.data(),
    steps=st.integers(0, 40),
    kind=st.sampled_from(["hand", "optimizer", "scheduler"]),
    value=st.one_of(_ratios, st.sampled_from([0.0, -0.5])),
    later=st.integers(1, 12),
)
def test_from_torch_after_a_manipulation_continues_as_torch_or_refuses(
    name: str, data: st.DataObject, steps: int, kind: str, value: float, later: int
) -> None:
    config = data.draw(configs(name))
    total = horizon(config, steps + later)
    steps, later = min(steps, total), max(0, total - steps)
    opt, native = torch_scheduler(config)
    at = data.draw(st.integers(0, steps))
    snapshots = []
    for index in range(steps + 1):
        if index == at:
            snapshots.append((copy.deepcopy(opt.state_dict()), copy.deepcopy(native.state_dict())))
        if index < steps:
            _step(opt, native)
    _manipulate(kind, opt, native, snapshots, value)
    try:
        schedule = lrfun.from_torch(native)
    except ValueError as error:
        assert "from_torch cannot express" in str(error)
        return
    epoch = native.last_epoch
    ref, got = [], []
    for k in range(1, later + 1):
        _step(opt, native)
        ref.append(_lrs(opt))
        got.append(np.broadcast_to(schedule(epoch + k), (len(opt.param_groups),)))
    scale = max([schedule._lr_scale(), *(abs(v) for row in ref for v in row), abs(value)])
    if ref:
        _close(got, ref, scale=scale)


def test_from_torch_of_closed_forms_ignores_a_hand_write_as_torch() -> None:
    for build, step in (
        (lambda o: sched.LambdaLR(o, lambda e: 0.9**e), 3),
        (lambda o: sched.CyclicLR(o, 0.01, 0.1, step_size_up=3), 4),
        (lambda o: sched.OneCycleLR(o, 1.0, total_steps=20), 5),
    ):
        opt = _sgd([0.1])
        native = build(opt)
        for _ in range(step):
            _step(opt, native)
        opt.param_groups[0]["lr"] = 123.0
        schedule = lrfun.from_torch(native)
        _step(opt, native)
        _close([float(schedule(step + 1))], _lrs(opt), scale=1.0)
        assert _lrs(opt)[0] != 123.0


def test_from_torch_refuses_a_hand_write_no_start_lr_reaches_naming_the_state() -> None:
    cases = (
        (lambda o: sched.CosineAnnealingLR(o, 4), 6, 0.033),  # past the first trough
        (lambda o: sched.PolynomialLR(o, 4, 2.0), 6, 0.05),  # past total_iters
        (lambda o: sched.ExponentialLR(o, 0.9), 3, -0.01),  # negative
    )
    for build, steps, lr in cases:
        opt = _sgd([0.1])
        native = build(opt)
        for _ in range(steps):
            _step(opt, native)
        opt.param_groups[0]["lr"] = lr
        with pytest.raises(ValueError, match=rf"at step {steps} with the groups' lrs"):
            lrfun.from_torch(native)


def test_from_torch_refuses_composites_whose_children_were_stepped_before_wrapping() -> None:
    opt = _sgd([0.1])
    first = sched.StepLR(opt, 2)
    _step(opt, first)
    second = sched.ExponentialLR(opt, 0.9)
    chained = sched.ChainedScheduler([first, second])
    assert first.last_epoch != second.last_epoch
    with pytest.raises(ValueError):
        lrfun.from_torch(chained)

    opt = _sgd([0.1])
    warm = sched.LinearLR(opt, 0.1, 1.0, 4)
    _step(opt, warm)
    decay = sched.ExponentialLR(opt, 0.9)
    with _quiet():
        sequential = sched.SequentialLR(opt, [warm, decay], [4])
    with pytest.raises(ValueError):
        lrfun.from_torch(sequential)


@given(
    names=st.tuples(st.sampled_from(DECAYS), st.sampled_from(DECAYS)),
    data=st.data(),
    pre=st.tuples(st.integers(0, 4), st.integers(0, 4)),
    sequential=st.booleans(),
    after=st.integers(0, 12),
)
def test_from_torch_of_pre_stepped_children_refuses_or_continues_as_torch(
    names: tuple[str, str], data: st.DataObject, pre: tuple[int, int], sequential: bool, after: int
) -> None:
    """Children stepped before their container was built: from_torch either refuses, naming
    it, or continues exactly as torch does -- never a plausible lr of another state."""
    opt = _sgd([0.1])
    children = []
    for name, steps in zip(names, pre, strict=True):
        config = data.draw(configs(name, groups=1))
        kwargs = {k: v for k, v in arguments(config).items() if k not in ("base_lr", "start_lr")}
        child = getattr(sched, name)(opt, **kwargs)
        for _ in range(steps):
            _step(opt, child)
        children.append(child)
    with _quiet():
        container: Any = (
            sched.SequentialLR(opt, children, [3]) if sequential
            else sched.ChainedScheduler(children)
        )
    for _ in range(after):
        _step(opt, container)
    try:
        schedule = lrfun.from_torch(container)
    except ValueError as error:
        assert "stepped before" in str(error)
        return
    at = _epoch_of(container)
    ref, got = [], []
    for k in range(1, 8):
        _step(opt, container)
        ref.append(_lrs(opt))
        got.append(np.broadcast_to(schedule(at + k), (1,)))
    _close(got, ref, scale=schedule._lr_scale())


def _epoch_of(container: Any) -> int:
    """Steps a torch container took (a ChainedScheduler keeps none: its first child's)."""
    if hasattr(container, "_milestones"):
        return int(container.last_epoch)
    return int(container._schedulers[0].last_epoch)


# -- 7. torch's SequentialLR over a OneCycleLR adapter ---------------------------------------


@given(
    name=st.sampled_from((*DECAYS, "CosineAnnealingLR", "LambdaLR")),
    data=st.data(),
    milestone=st.integers(1, 12),
    steps=st.integers(1, 30),
)
def test_torch_sequential_lr_before_a_one_cycle_adapter_refuses_or_matches_torch(
    name: str, data: st.DataObject, milestone: int, steps: int
) -> None:
    first = data.draw(configs(name, groups=1))
    cycle = data.draw(configs("OneCycleLR", groups=1))
    cycle_schedule = lrfun.from_config(cycle)
    steps = min(steps, milestone + cycle_schedule._torch_steps())
    base = first["base_lr"]
    theirs = _sgd([base])
    with _quiet():
        native = sched.SequentialLR(
            theirs, [_native(first, theirs), _native(cycle, theirs)], [milestone]
        )
    ref = [_lrs(theirs)]
    for _ in range(steps):
        _step(theirs, native)
        ref.append(_lrs(theirs))
    composite = lrfun.SequentialLR([lrfun.from_config(first), cycle_schedule], [milestone])
    scale = composite._lr_scale()
    ours = _sgd([base])
    adapter = lrfun.torch.Scheduler(ours, composite)
    got = [_lrs(ours)]
    for _ in range(steps):
        _step(ours, adapter)
        got.append(_lrs(ours))
    _close(got, ref, scale=scale)

    # torch's SequentialLR over the two adapters: refused where the first child's lrs depend
    # on the initial_lr OneCycleLR rewrote, else torch's values
    opt = _sgd([base])
    with _quiet():
        children = [
            lrfun.torch.Scheduler(opt, lrfun.from_config(first)),
            lrfun.torch.Scheduler(opt, cycle_schedule),
        ]
    try:
        with _quiet():
            sequential = sched.SequentialLR(opt, children, [milestone])
    except TypeError as error:
        assert "lrfun.SequentialLR" in str(error)
        assert name != "LambdaLR"
        return
    got = [_lrs(opt)]
    for _ in range(steps):
        _step(opt, sequential)
        got.append(_lrs(opt))
    _close(got, ref, scale=scale)


def test_torch_sequential_lr_of_warmup_then_one_cycle_adapters_names_the_remedy() -> None:
    opt = _sgd([0.1])
    warmup = lrfun.torch.Scheduler(opt, lrfun.LinearLR(0.1, 0.1, 1.0, 4))
    with _quiet():
        cycle = lrfun.torch.Scheduler(opt, lrfun.OneCycleLR(1.0, total_steps=10))
    with pytest.raises(TypeError, match=r"lrfun\.SequentialLR"):
        sched.SequentialLR(opt, [warmup, cycle], milestones=[4])
    # and a group's lr is left as the adapters wrote it
    assert _lrs(opt) == [lrfun.OneCycleLR(1.0, total_steps=10)(0)]


# -- resumes and rivals ----------------------------------------------------------------------


@pytest.mark.parametrize("optimizer_first", [True, False])
def test_added_group_resumes_in_either_load_order(optimizer_first: bool) -> None:
    theirs = _sgd([0.1])
    native = sched.ExponentialLR(theirs, 0.5)
    ours = _sgd([0.1])
    adapter = lrfun.torch.Scheduler(ours, lrfun.ExponentialLR(0.1, 0.5))
    _step(theirs, native)
    _step(ours, adapter)
    for o in (theirs, ours):
        o.add_param_group({"params": _param(), "lr": 1.0})
    for _ in range(2):
        _step(theirs, native)
        _step(ours, adapter)
    saved_opt, saved = copy.deepcopy(ours.state_dict()), copy.deepcopy(adapter.state_dict())
    fresh = _sgd([0.1])
    fresh.add_param_group({"params": _param(), "lr": 1.0})
    with _quiet():
        if optimizer_first:
            fresh.load_state_dict(saved_opt)
            resumed = lrfun.torch.Scheduler(fresh, lrfun.ExponentialLR(0.1, 0.5))
            resumed.load_state_dict(saved)
        else:
            resumed = lrfun.torch.Scheduler(fresh, lrfun.ExponentialLR(0.1, 0.5))
            resumed.load_state_dict(saved)
            fresh.load_state_dict(saved_opt)
    ref, got = [], []
    for _ in range(4):
        _step(theirs, native)
        _step(fresh, resumed)
        ref.append(_lrs(theirs))
        got.append(_lrs(fresh))
    _close(got, ref, scale=1.0)


def test_torchs_sequential_lr_of_adapters_beside_another_adapter_is_refused() -> None:
    opt = _sgd([0.1])
    with _quiet():
        first = lrfun.torch.Scheduler(opt, lrfun.ConstantLR(0.1, 0.5, 2))
        second = lrfun.torch.Scheduler(opt, lrfun.ExponentialLR(0.1, 0.9))
        sequential = sched.SequentialLR(opt, [first, second], [2])
    other = lrfun.torch.Scheduler(opt, lrfun.StepLR(0.1, 1, 0.5))
    _step(opt, sequential)
    with pytest.raises(RuntimeError, match=r"lrfun\.ChainedScheduler"):
        _step(opt, other)


def test_a_rival_that_is_gone_does_not_refuse_a_step() -> None:
    opt = _sgd([0.1])
    first = lrfun.torch.Scheduler(opt, lrfun.StepLR(0.1, 2))
    second = lrfun.torch.Scheduler(opt, lrfun.ExponentialLR(0.1, 0.9))
    _step(opt, first)
    del first
    import gc

    gc.collect()
    _step(opt, second)
    assert second.last_epoch == 1


def test_warm_restarts_epoch_torchs_log_misses_is_refused() -> None:
    # T_0=1, T_mult=3: the restart at epoch 121 is where torch's int(math.log(243, 3)) is 4
    theirs = _sgd([0.1])
    native = sched.CosineAnnealingWarmRestarts(theirs, T_0=1, T_mult=3)
    native.step(121)
    schedule = lrfun.CosineAnnealingWarmRestarts(0.1, T_0=1, T_mult=3)
    assert not math.isclose(_lrs(theirs)[0], schedule(121), rel_tol=1e-6)  # torch's quirk
    ours = _sgd([0.1])
    adapter = lrfun.torch.Scheduler(ours, schedule)
    before = _lrs(ours)
    with pytest.raises(ValueError, match="misses"):
        adapter.step(121)
    assert _lrs(ours) == before and adapter.last_epoch == 0


def test_a_grown_plateau_resumes_into_a_fresh_adapter() -> None:
    opt = _sgd([0.1])
    plateau = lrfun.ReduceLROnPlateau(0.1, patience=0)
    adapter = lrfun.torch.PlateauScheduler(opt, plateau)
    theirs = _sgd([0.1])
    native = sched.ReduceLROnPlateau(theirs, patience=0)
    for o in (opt, theirs):
        o.add_param_group({"params": _param(), "lr": 0.5})
    for metric in (1.0, 1.0, 1.0):
        opt.step(), adapter.step(metric), theirs.step(), native.step(metric)
    saved_opt, saved = copy.deepcopy(opt.state_dict()), copy.deepcopy(adapter.state_dict())
    fresh = _sgd([0.1])
    fresh.add_param_group({"params": _param(), "lr": 0.5})
    fresh.load_state_dict(saved_opt)
    resumed = lrfun.torch.PlateauScheduler(fresh, plateau)
    resumed.load_state_dict(saved)
    for metric in (1.0, 0.5, 0.5, 0.5):
        fresh.step(), resumed.step(metric), theirs.step(), native.step(metric)
        _close([_lrs(fresh)], [_lrs(theirs)], scale=0.5)


def test_from_torch_reads_a_long_cosine_run_despite_torchs_rounding() -> None:
    opt = _sgd([0.1])
    native = sched.CosineAnnealingLR(opt, T_max=100)
    for _ in range(12_000):
        opt.step()
        native.step()
    schedule = lrfun.from_torch(native)  # was refused: torch's lr is 3.6e-12 off, relative
    _step(opt, native)
    # against torch's own closed form (its recursion's drift is torch's: the parity harness
    # allows it for this class), and within that drift of the recursion
    stepped = _lrs(opt)[0]
    closed = float(native._get_closed_form_lr()[0])
    _close([schedule(12_001)], [closed], scale=0.1)
    assert abs(schedule(12_001) - stepped) <= 1e-12 * 0.1 + 2 * abs(stepped - closed)
