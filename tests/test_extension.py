"""The extension contract: a schedule defined outside the package works with every tool.

The schedule is the guide's (docs/adding-a-schedule.md): ``examples/mylib_schedules.py``,
imported from outside ``lrfun/``, with its own torch ``LRScheduler`` subclass as the live
reference. Nothing here edits lrfun or names the class to lrfun except through the class.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import io
import sys
from pathlib import Path
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
import lrfun.plot
import lrfun.torch
import parity
from lrfun._schedule import _REGISTRY
from lrfun._spec import load
from lrfun.cli import main
from lrfun.extend import Ctx, FunctionReference, LiveScheduler, Schedule, check
from parity.report import check as report_check
from parity.report import run as report_run
from parity.strategies import configs

_EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load() -> Any:
    spec = importlib.util.spec_from_file_location(
        "mylib_schedules", _EXAMPLES / "mylib_schedules.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mylib_schedules"] = module
    spec.loader.exec_module(module)
    return module


mylib = sys.modules.get("mylib_schedules") or _load()
NAME = "mylib.InverseSqrtLR"


def test_the_class_lives_outside_the_package() -> None:
    cls = lrfun.extend.registered(NAME)
    assert cls is mylib.InverseSqrtLR
    assert not Path(mylib.__file__).resolve().is_relative_to(Path(lrfun.__file__).parent)


def test_configs_and_specs() -> None:
    s = load(f"{NAME}(0.1, warmup_steps=10)")
    assert s == mylib.InverseSqrtLR(0.1, warmup_steps=10)
    assert lrfun.from_config(s.to_config()) == s
    assert s.to_config()["name"] == NAME
    assert "mylib.InverseSqrtLR(" in repr(s)
    with pytest.raises(ValueError, match="warmup_steps"):
        mylib.InverseSqrtLR(0.1, warmup_steps=0)


@settings(max_examples=10, deadline=None)
@given(configs(NAME))
def test_parity_against_its_own_reference(config: dict[str, Any]) -> None:
    schedule = lrfun.from_config(config)
    steps = parity.strategies.horizon(config, 300)
    ref = parity.torch_trajectory(config, steps)
    assert ref.reference == "mylib"
    parity.assert_close(schedule(np.arange(steps + 1)), ref, dtype="float64")


def test_parity_report_rows() -> None:
    rows = report_check({"name": NAME, "base_lr": [0.1, 0.2], "warmup_steps": 7}, 60)
    assert {r.backend for r in rows} >= {"python", "numpy"}
    assert all(r.passed for r in rows), [r for r in rows if not r.passed]
    tensor = report_check({"name": NAME, "base_lr": 0.1, "warmup_steps": 7}, 60, tensor_lr=True)
    assert tensor and all(r.passed for r in tensor)
    report = report_run([NAME], steps=40, examples=2, devices=["cpu"])
    assert report and all(r.ok for r in report) and {r.schedule for r in report} == {NAME}


def test_torch_adapter_follows_the_reference() -> None:
    s = mylib.InverseSqrtLR((0.1, 0.05), warmup_steps=5)
    ours = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]} for _ in "ab"], 0.1)
    for group, lr in zip(ours.param_groups, (0.1, 0.05), strict=True):
        group["lr"] = lr
    theirs = torch.optim.SGD(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.05)]
    )
    adapter = lrfun.torch.Scheduler(ours, s)
    live = mylib.WarmupInverseSqrt(theirs, warmup_steps=5)
    for _ in range(30):
        ours.step(), theirs.step()
        adapter.step(), live.step()
        assert [g["lr"] for g in ours.param_groups] == pytest.approx(
            [g["lr"] for g in theirs.param_groups], rel=1e-12
        )


def test_optax_adapter_and_jax() -> None:
    s = mylib.InverseSqrtLR(0.1, warmup_steps=4)
    tx = lrfun.optax.inject(optax.sgd, s)
    params = jnp.zeros(2)
    state = tx.init(params)
    seen = []
    for _ in range(6):  # the state records what each update used
        _, state = tx.update(jnp.ones(2), state, params)
        seen.append(float(state.hyperparams["learning_rate"]))
    parity.assert_close(seen, s(np.arange(6)), dtype="float32")
    # a pytree: jit traces the schedule, vmap over stacked schedules is a sweep
    assert float(jax.jit(lambda sched, k: sched(k))(s, jnp.asarray(3))) == pytest.approx(0.1)
    stacked = jax.tree.map(lambda *x: jnp.stack(x), s, dataclasses.replace(s, base_lr=0.2))
    sweep = jax.vmap(lambda sched: sched(jnp.asarray(3)))(stacked)
    assert sweep.tolist() == pytest.approx([0.1, 0.2])


def test_from_torch_reads_its_live_object() -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    live = mylib.WarmupInverseSqrt(opt, warmup_steps=8)
    for k in range(1, 12):
        opt.step()
        live.step()
        read = lrfun.from_torch(live)
        assert read == mylib.InverseSqrtLR(0.3, warmup_steps=8)
        assert read(k) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)


def test_composites_of_it_run_in_torch() -> None:
    s = lrfun.SequentialLR(
        [lrfun.LinearLR(0.1, 0.1, total_iters=5), mylib.InverseSqrtLR(0.1, warmup_steps=3)],
        milestones=[5],
    )
    ref = parity.torch_trajectory(s, 40)
    parity.assert_close(s(np.arange(41)), ref, dtype="float64")
    chained = lrfun.ChainedScheduler(
        [mylib.InverseSqrtLR(0.1, warmup_steps=3), lrfun.ExponentialLR(0.1, gamma=0.9)]
    )
    parity.assert_close(
        chained(np.arange(21)), parity.torch_trajectory(chained, 20), dtype="float64"
    )


def test_plot_and_cli_name_the_reference(tmp_path: Path) -> None:
    s = mylib.InverseSqrtLR(0.1, warmup_steps=10)
    verdict = lrfun.plot.against_torch(s, steps=80)
    assert verdict.passed and verdict.reference.reference == "mylib"
    fig = lrfun.plot.plot(s, 80, torch=True)
    texts = {t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))}
    assert "mylib" in texts
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(
            [
                "plot",
                f"{NAME}(0.1, warmup_steps=10)",
                "--steps",
                "50",
                "--torch",
                "-o",
                str(tmp_path / "s.png"),
            ]
        )
    assert status == 0, out.getvalue()
    assert f"pass: {NAME}(0.1, warmup_steps=10) vs mylib, steps 0..49" in out.getvalue()


def test_cli_imports_a_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "other_schedules.py").write_text(
        "import dataclasses\n"
        "from lrfun.extend import FunctionReference, Schedule, check\n"
        "@dataclasses.dataclass(frozen=True)\n"
        "class HalvingLR(Schedule):\n"
        "    _namespace = 'other.'\n"
        "    _reference = FunctionReference('formula', lambda s, k: s.base_lr * 0.5 ** k)\n"
        "    _hyperparameters = ('base_lr',)\n"
        "    base_lr: float\n"
        "    def __post_init__(self):\n"
        "        self._set(base_lr=check.real('base_lr', self.base_lr, low=0.0), _groups=None)\n"
        "    def _lr(self, ctx, step):\n"
        "        return ctx.const(self.base_lr) * 0.5 ** ctx.float(step)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(
            ["--import", "other_schedules", "show", "other.HalvingLR(1.0)", "--steps", "3"]
        )
    assert status == 0 and "0.25" in out.getvalue()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert (
            main(["--import", "no_such_module_here", "show", "StepLR(0.1, 3)", "--steps", "3"]) == 2
        )
    assert "no_such_module_here" in err.getvalue()


@dataclasses.dataclass(frozen=True)
class _Formula(Schedule):
    """``lr(t) = base_lr / (1 + t)``, proven against a NumPy formula."""

    base_lr: float
    _namespace = "testing."
    _reference = FunctionReference("numpy formula", lambda s, k: s.base_lr / (1.0 + k))
    _hyperparameters = ("base_lr",)

    def __post_init__(self) -> None:
        self._set(base_lr=check.real("base_lr", self.base_lr, low=0.0), _groups=None)

    def _lr(self, ctx: Ctx, step: Any) -> Any:
        return ctx.const(self.base_lr) / (1.0 + ctx.float(step))


@settings(max_examples=10, deadline=None)
@given(st.floats(1e-8, 1e3), st.integers(1, 500))
def test_function_reference(base_lr: float, steps: int) -> None:
    s = _Formula(base_lr)
    ref = parity.torch_trajectory(s, steps)
    assert ref.reference == "numpy formula" and ref.dtype == "float64"
    parity.assert_close(s(np.arange(steps + 1)), ref, dtype="float64")


def test_function_reference_refuses_what_needs_an_optimizer() -> None:
    s = _Formula(0.1)
    with pytest.raises(ValueError, match="tensor-lr"):
        parity.torch_trajectory(s, 5, tensor_lr=True)
    with pytest.raises(ValueError, match="no live scheduler to build"):
        parity.torch_trajectory(lrfun.SequentialLR([s, lrfun.StepLR(0.1, 2)], milestones=[3]), 5)
    assert lrfun.plot.against_torch(s, 30).reference.reference == "numpy formula"


def test_registration_is_checked() -> None:
    with pytest.raises(ValueError, match="already registered"):

        @dataclasses.dataclass(frozen=True)
        class InverseSqrtLR(Schedule):  # the name mylib's class holds
            _namespace = "mylib."

    with pytest.raises(ValueError, match="must be one identifier"):

        @dataclasses.dataclass(frozen=True)
        class Odd(Schedule):
            _namespace = "my lib"

    with pytest.raises(ValueError, match="needs a _namespace of its own"):

        @dataclasses.dataclass(frozen=True)
        class StepLR(Schedule):  # torch's name, unprefixed
            pass


def test_registration_keeps_lrfun_families_and_keywords() -> None:
    with pytest.raises(ValueError, match="lrfun's family of transformers"):

        @dataclasses.dataclass(frozen=True)
        class Mine(Schedule):
            _namespace = "hf."

    with pytest.raises(ValueError, match="not a keyword"):

        @dataclasses.dataclass(frozen=True)
        class Halve(Schedule):
            _namespace = "lambda."


def test_from_torch_prefers_lrfun_and_refuses_ambiguity() -> None:
    """A library class whose reference is a torch class lrfun reads never takes that
    object over; two library classes reading one live class are refused, naming both."""

    @dataclasses.dataclass(frozen=True)
    class Halving(Schedule):
        base_lr: float
        step_size: int = 1
        _namespace = "acme."
        _reference = LiveScheduler("acme", "torch.optim.lr_scheduler.StepLR")
        _torch_attributes = ("step_size",)

        def __post_init__(self) -> None:
            self._set(base_lr=check.real("base_lr", self.base_lr, low=0.0), _groups=None)

        def _lr(self, ctx: Ctx, step: Any) -> Any:
            return ctx.const(self.base_lr) * 0.5 ** ctx.float(step // self.step_size)

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    try:
        read = lrfun.from_torch(torch.optim.lr_scheduler.StepLR(opt, 2, gamma=0.1))
        assert read == lrfun.StepLR(1.0, 2, gamma=0.1)
        for name in ("First", "Second"):
            type(name, (mylib.InverseSqrtLR,), {"_namespace": "twin."})
        with pytest.raises(TypeError, match=r"cannot tell which schedule.*InverseSqrtLR.*twin"):
            lrfun.from_torch(mylib.WarmupInverseSqrt(opt, 3))
    finally:  # the registry is the process's: other tests read these live objects too
        for name in ("acme.Halving", "twin.First", "twin.Second"):
            _REGISTRY.pop(name, None)


def test_a_function_reference_checks_what_it_returns() -> None:
    bad = FunctionReference("transposed", lambda s, k: np.stack([k * 0.0 + s.base_lr] * 2))
    with pytest.raises(ValueError, match=r"reference transposed has shape \(2, 6\)"):
        bad.trajectory(dataclasses.replace(_Formula(0.1)), 5)


def test_a_reference_runs_only_its_own_schedules() -> None:
    with pytest.raises(ValueError, match="proven against torch, not mylib"):
        mylib.InverseSqrtLR._reference.trajectory(lrfun.StepLR(1.0, 2), 3)
    assert mylib.InverseSqrtLR._reference.version() is None  # nothing imported to find one


def test_from_torch_refusal_names_the_references() -> None:
    class Mine(torch.optim.lr_scheduler.StepLR):
        pass

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match=r"cannot express .*Mine.*mylib.*torch.*transformers"):
        lrfun.from_torch(Mine(opt, 3))


def test_a_live_scheduler_needs_a_target() -> None:
    with pytest.raises(TypeError, match="target"):
        LiveScheduler("mine")
    with pytest.raises(TypeError, match="name"):
        FunctionReference("", lambda s, k: k)
