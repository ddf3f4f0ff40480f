"""The library's shape: one home per schedule, private implementation, honest immutability,
and dependencies that point one way (parity -> lrfun)."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import lrfun
from lrfun import from_torch
from lrfun._backend import evaluate
from lrfun._compose import _Composite
from lrfun._schedule import Configurable, Schedule, classes, names, registered
from lrfun._spec import parse
from parity import torch_scheduler

_SOURCE = Path(lrfun.__file__).parent
_MODULES = sorted(_SOURCE.glob("*.py"))


def _example(cls: type[Configurable]) -> Configurable:
    """An instance of every registered class: its gallery example, or built here for those
    that take a Python function."""
    if cls._gallery is not None:
        return parse(cls._gallery[0])
    return cls(base_lr=[0.1, 0.2], lr_lambda=_decay)  # type: ignore[call-arg]


def _config(s: Configurable) -> dict:
    """The config torch is built from, functions kept (``to_config`` refuses them)."""
    arguments = {k: v for k, v in s.arguments().items() if k != "horizon"}
    if "schedulers" in arguments:
        arguments["schedulers"] = [_config(c) for c in arguments["schedulers"]]
    return {"name": s._name, **arguments}


def _decay(epoch: int) -> float:
    return 0.9**epoch


# The base classes torch exports beside its schedulers (torch 2.13 lists LRScheduler only).
_TORCH_BASES = {"LRScheduler", "_LRScheduler"}

# Each family's public module: where its classes are exported.
_FAMILY_MODULES = {
    "hf.": "lrfun.hf",
    "optax.": "lrfun.optax",
    "timm.": "lrfun.timm",
    "keras.": "lrfun.keras",
    "megatron.": "lrfun.megatron",
    "olmo.": "lrfun.llm",
    "nanotron.": "lrfun.llm",
    "torchtitan.": "lrfun.llm",
    "big_vision.": "lrfun.llm",
    "hagele.": "lrfun.llm",
    "lrfun.": "lrfun",
}


def test_the_classes_fill_the_registry() -> None:
    # every scheduler torch exports, each registered by its own class under torch's name, and
    # no other name in torch's family: a new torch scheduler or a stray class fails here
    torch_names = set(torch.optim.lr_scheduler.__all__) - _TORCH_BASES
    assert torch_names and set(names("")) == torch_names
    for cls in classes(""):
        assert registered(cls.__name__) is cls
        assert isinstance(getattr(torch.optim.lr_scheduler, cls.__name__), type)
        assert getattr(lrfun, cls.__name__) is cls and cls.__name__ in lrfun.__all__
    # every other family under its library's prefix, each class public in the module of its
    # family (lrfun's own compositions in lrfun itself), and no class outside them
    families = {*names("")}
    for namespace, module_name in _FAMILY_MODULES.items():
        module = importlib.import_module(module_name)
        assert names(namespace), namespace
        families |= set(names(namespace))
        for cls in classes(namespace):
            assert registered(f"{namespace}{cls.__name__}") is cls
            assert getattr(module, cls.__name__) is cls and cls.__name__ in module.__all__
    assert set(names(own=True)) == families


@pytest.mark.parametrize("name", names(""))
def test_arguments_and_defaults_are_torchs(name: str) -> None:
    """The live reference is built from the schedule's own arguments, defaults included: they
    must be torch's, in torch's order, so the reference stays torch's (the optimizer
    replaced by base_lr where torch takes the lr from it; lrfun's keyword options aside)."""
    cls = registered(name)
    ours = [f for f in dataclasses.fields(cls) if f.init and not f.kw_only]
    theirs = [
        p
        for p in inspect.signature(getattr(torch.optim.lr_scheduler, name)).parameters.values()
        if p.name not in ("optimizer", "last_epoch", "verbose")
    ]
    if not cls.sets_lrs and ours and ours[0].name == "base_lr":
        ours = ours[1:]  # the optimizer's lr
    assert [f.name for f in ours] == [p.name for p in theirs]
    for f, p in zip(ours, theirs, strict=True):
        if p.default is not inspect.Parameter.empty:
            assert f.default == p.default, f"{name}.{f.name}: {f.default!r} != {p.default!r}"


@pytest.mark.parametrize("name", names(own=True))
def test_every_class_answers_for_itself(name: str) -> None:
    cls = registered(name)
    assert cls is not None
    example = _example(cls)
    if cls._reference is not None and not cls._reference.on_optimizer:
        # a function of the step (optax's schedules): no live object to read back
        assert cls._gallery is not None and type(parse(cls._gallery[0])) is cls
        assert isinstance(example, Schedule) and example.chain == "absolute"
        return
    # read from a live torch scheduler by its own reader, exactly
    _, native = torch_scheduler(_config(example))
    converted = from_torch(native)
    assert type(converted) is cls
    if isinstance(example, Schedule):  # the same schedule, however its arguments are spelled
        assert isinstance(converted, Schedule)
        ks = np.arange(300)
        np.testing.assert_allclose(converted(ks), example(ks), rtol=1e-12, atol=0)
        assert converted.cycles_momentum == example.cycles_momentum
    else:
        assert converted == example
    # in the gallery, unless a spec cannot hold it (a Python function)
    assert (cls._gallery is None) == (cls._function_argument is not None)
    if cls._gallery is not None:
        assert type(parse(cls._gallery[0])) is cls
    if issubclass(cls, Schedule):
        assert cls.chain in ("factor", "affine", "absolute")
        # a factor schedule is the base times its factor, which is what ChainedScheduler
        # multiplies
        if cls.chain == "factor":
            instance = _example(cls)
            assert isinstance(instance, Schedule)
            ks = np.arange(50)
            factor = evaluate(instance._factor, ks, instance.groups)
            base = np.asarray(instance.arguments()["base_lr"])
            np.testing.assert_allclose(instance(ks), base * factor, rtol=1e-12)


@pytest.mark.parametrize("name", names(own=True))
def test_every_attribute_is_a_declared_field(name: str) -> None:
    cls = registered(name)
    assert cls is not None
    instance = _example(cls)
    declared = {f.name for f in dataclasses.fields(instance)}
    assert set(vars(instance)) == declared
    for field in dataclasses.fields(instance):
        if field.name.startswith("_"):  # derived, never an argument
            assert not field.init and not field.repr and not field.compare
    with pytest.raises(dataclasses.FrozenInstanceError):
        instance.base_lr = 1.0  # type: ignore[misc]
    with pytest.raises(AttributeError, match="declares no field"):
        instance._set(_undeclared=1)


def test_caches_never_change_what_a_schedule_computes() -> None:
    """A composite simulated on the host caches its table: equal before and after."""
    a = lrfun.ChainedScheduler([lrfun.CosineAnnealingLR(0.1, 5), lrfun.StepLR(0.1, 3)])
    b = lrfun.ChainedScheduler([lrfun.CosineAnnealingLR(0.1, 5), lrfun.StepLR(0.1, 3)])
    a(500)
    assert a == b and hash(a) == hash(b) and repr(a) == repr(b)


def _strings_and_name_comparisons(path: Path) -> tuple[list[str], list[int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    exported: set[int] = set()
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            exported |= {id(n) for n in ast.walk(node.value)}
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr):
                docstrings.add(id(first.value))
    known = set(names(own=True))
    strings = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and node.value in known
        and id(node) not in exported | docstrings
    ]
    comparisons = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and any(
            isinstance(side, ast.Attribute) and side.attr == "__name__"
            for side in [node.left, *node.comparators]
        )
    ]
    return strings, comparisons


@pytest.mark.parametrize("path", _MODULES, ids=lambda p: p.name)
def test_no_schedule_name_tables_and_no_name_comparisons(path: Path) -> None:
    strings, comparisons = _strings_and_name_comparisons(path)
    assert strings == [], f"{path.name} writes schedule names as strings: {strings}"
    assert comparisons == [], f"{path.name} compares __name__ at lines {comparisons}"


@pytest.mark.parametrize("path", _MODULES, ids=lambda p: p.name)
def test_lrfun_never_imports_parity(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] == "parity" for a in node.names), path.name
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] != "parity", path.name


def test_the_public_surface() -> None:
    public_modules = sorted(
        m.name for m in pkgutil.iter_modules(lrfun.__path__) if m.name[0] != "_"
    )
    assert public_modules == [
        "cli",
        "extend",
        "hf",
        "keras",
        "llm",
        "megatron",
        "optax",
        "plot",
        "timm",
        "torch",
    ]
    assert lrfun.__all__ == sorted(lrfun.__all__, key=lambda n: (not n.isupper(), n))
    for name in lrfun.__all__:
        value = getattr(lrfun, name)
        if name in ("hf", "llm", "megatron"):  # families: their public modules
            assert value.__name__ == f"lrfun.{name}"
            continue
        assert name == "TOLERANCES" or value.__module__.startswith("lrfun")
    assert issubclass(lrfun.SpecError, ValueError)
    assert issubclass(lrfun.Schedule, lrfun.Configurable)
    # composites are schedules that hold schedules, and say so by their type
    assert {c.__name__ for c in classes(own=True) if issubclass(c, _Composite)} == {
        "ChainedScheduler",
        "SequentialLR",
    }


def test_parity_names_the_extra_it_needs() -> None:
    """Without torch (or hypothesis), importing parity fails with one clear message."""
    for missing in ("torch", "hypothesis"):
        code = f"import sys; sys.modules[{missing!r}] = None; import parity"
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        assert result.returncode != 0
        last = result.stderr.strip().splitlines()[-1]
        assert last == (
            f"ImportError: parity needs {missing}, which is not installed: "
            "pip install 'lrfun[parity]'"
        )


def test_comparison_gives_per_step_fractions() -> None:
    result = lrfun.compare(
        [[1.0, 2.0], [0.5, 1.0]], [[1.0, 2.0], [0.5, 1.0 + 1e-9]], dtype="float64"
    )
    assert result.fractions.shape == (2,) and result.fractions[0] == 0.0
    assert result.fractions[1] == result.max_fraction > 1 and not result.passed
    with pytest.raises(ValueError):
        result.fractions[0] = 1.0
