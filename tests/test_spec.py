"""The spec parser: a strict grammar over literals, never evaluation; one-line errors."""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import lrfun
from lrfun import Configurable, SpecError
from lrfun._plateau import Machine
from lrfun._schedule import names
from lrfun._spec import load, parse, to_spec
from parity.strategies import NAMES as SINGLE_NAMES
from parity.strategies import compositions, configs

NAMES = names(own=True)

# Cheap to run: many more examples than the profile's default.
_MANY = settings(max_examples=settings().max_examples * 8)

# Evaluated, any of these would create this file; the parser must never let that happen.
_MARKER = Path(tempfile.gettempdir()) / "lrfun-spec-marker-must-not-exist"
_CODE = (
    f"__import__('os').system('touch {_MARKER}')",
    f"open({str(_MARKER)!r}, 'w')",
    f"__import__('pathlib').Path({str(_MARKER)!r}).touch()",
    f"[open({str(_MARKER)!r}, 'w') for _ in [0]]",
    f"(lambda: open({str(_MARKER)!r}, 'w'))()",
    f"exec('open({_MARKER}, \"w\")')",
)


def _parsed(text: str) -> Configurable | SpecError:
    """parse's outcome: a schedule or a metric-driven machine, or the SpecError; anything
    else propagates (a failure)."""
    try:
        result = parse(text)
    except SpecError as e:
        message = str(e)
        assert message and "\n" not in message
        return e
    assert isinstance(result, (lrfun.Schedule, Machine))
    return result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("StepLR(0.1, step_size=30)", lrfun.StepLR(0.1, 30)),
        ("StepLR(0.1, 30, 0.5)", lrfun.StepLR(0.1, 30, 0.5)),
        ("  OneCycleLR(max_lr=0.1, total_steps=1000)\n", lrfun.OneCycleLR(0.1, total_steps=1000)),
        ("MultiStepLR([0.1, 0.01], (30, 80))", lrfun.MultiStepLR([0.1, 0.01], [30, 80])),
        ("CosineAnnealingLR(+0.1, T_max=400, eta_min=0)", lrfun.CosineAnnealingLR(0.1, 400, 0)),
        (
            "CyclicLR(1e-3, 0.1, step_size_up=20, mode='triangular2', cycle_momentum=False)",
            lrfun.CyclicLR(1e-3, 0.1, 20, mode="triangular2", cycle_momentum=False),
        ),
        (
            "ReduceLROnPlateau(0.1, mode='max', patience=2)",
            lrfun.ReduceLROnPlateau(0.1, mode="max", patience=2),
        ),
        (
            "SequentialLR([LinearLR(0.1, 0.01, total_iters=5),\n StepLR(0.1, 30)], milestones=[5])",
            lrfun.SequentialLR(
                [lrfun.LinearLR(0.1, 0.01, total_iters=5), lrfun.StepLR(0.1, 30)], [5]
            ),
        ),
        (
            "ChainedScheduler(schedulers=[ConstantLR(0.1, factor=0.5), ExponentialLR(0.1, 0.9)])",
            lrfun.ChainedScheduler(
                [lrfun.ConstantLR(0.1, factor=0.5), lrfun.ExponentialLR(0.1, 0.9)]
            ),
        ),
        (
            "hf.GreedyLR([0.1, 0.2], mode='max', patience=3, min_lr=0.005, smooth=True)",
            lrfun.hf.GreedyLR([0.1, 0.2], mode="max", patience=3, min_lr=0.005, smooth=True),
        ),
        (
            "SequentialLR([ChainedScheduler([StepLR(0.1, 3)]), StepLR(0.1, 2)], [4], horizon=9)",
            lrfun.SequentialLR(
                [lrfun.ChainedScheduler([lrfun.StepLR(0.1, 3)]), lrfun.StepLR(0.1, 2)],
                [4],
                horizon=9,
            ),
        ),
    ],
)
def test_specs_build_the_schedule_written(text: str, expected: Configurable) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("StepLR(", "not a Python expression"),
        ("StepLR(0.1, 30) + 1", "found an arithmetic operation"),
        ("0.1", "must be a schedule call"),
        ("Foo(1)", "unknown schedule 'Foo' at column 1"),
        ("lrfun.StepLR(0.1, 30)", "unknown schedule 'lrfun.StepLR' at column 1"),
        ("StepLR(0.1, x)", "found the name 'x' at column 13"),
        ("StepLR(0.1, 3 * 10)", "found an arithmetic operation '3 * 10' at column 13"),
        ("StepLR(0.1, step_size=[x for x in y])", "found a list comprehension"),
        ("StepLR(0.1, f'{x}')", "found an f-string"),
        ("StepLR(0.1, a[0])", "found a subscript"),
        ("StepLR(*args)", "found a starred argument"),
        ("StepLR(0.1, **kw)", "'**' unpacking"),
        ("StepLR(0.1, {'a': 1})", "found a dict"),
        ("StepLR(0.1, 1j)", "found a complex constant"),
        ("StepLR(0.1, -(-1))", "a sign applies to a number only"),
        ("StepLR(0.1, -True)", "a sign applies to a number only"),
        ("StepLR(0.1, lambda e: 3)", "found a lambda"),
        ("StepLR(0.1, 3, step_size=3)", "multiple values for argument 'step_size'"),
        ("StepLR(0.1, step_size=3, step_size=4)", "got argument 'step_size' twice"),
        ("StepLR(0.1, bogus=3)", "StepLR got an unexpected keyword argument 'bogus'"),
        ("StepLR(0.1, step_size=0)", "step_size must be a positive integer, got 0"),
        ("StepLR(0.1, step_size=2.5)", "step_size must be a positive integer, got 2.5"),
        ("ExponentialLR(1e400, 0.5)", "base_lr must be a finite number"),
        ("StepLR(0.1, [StepLR(0.1, 2)])", "only ChainedScheduler/SequentialLR's schedulers"),
        ("SequentialLR(StepLR(0.1, 2), [])", "schedulers must be a list of schedule calls"),
        ("SequentialLR([1], [])", "must be a schedule call"),
        ("SequentialLR([ReduceLROnPlateau(0.1)], [])", "cannot hold"),
        ("LambdaLR(0.1, 1)", "LambdaLR takes a Python function (lr_lambda)"),
        ("MultiplicativeLR(0.1, lr_lambda='0.9')", "lr_lambda must be callable or a number"),
        ("MultiplicativeLR(0.1, lr_lambda=[])", "lr_lambda must not be empty"),
        ("(" * 300, "not a Python expression"),
        ("1" * 5000, "not a Python expression"),
        ("StepLR(0.1,\x00 3)", "not a Python expression"),
        ("ChainedScheduler([" * 40 + "StepLR(0.1, 3)" + "])" * 40, "nested more than"),
        ("StepLR(0.1, " + "[" * 40 + "]" * 40 + ")", "nested more than"),
        ("StepLR(0.1, 3)" + " " * 100_000, "characters long"),
    ],
)
def test_bad_specs_are_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", _CODE)
def test_code_in_a_spec_never_runs(text: str) -> None:
    assert not _MARKER.exists()
    with pytest.raises(SpecError):
        parse(text)
    with pytest.raises(SpecError):
        parse(f"StepLR(0.1, step_size={text})")
    assert not _MARKER.exists()


@_MANY
@given(st.text())
def test_any_text_is_a_schedule_or_a_spec_error(text: str) -> None:
    _parsed(text)


_FRAGMENTS = [
    "0",
    "1",
    "3",
    "-1",
    "0.1",
    "1e-3",
    "-0.5",
    "1e400",
    "True",
    "False",
    "None",
    "'cos'",
    "'min'",
    "'triangular2'",
    "[]",
    "()",
    "[0.1, 0.01]",
    "[30, 80]",
    "(1, 2)",
    "x",
    "1 + 2",
    "2 ** 10",
    "a.b",
    "a[0]",
    "*a",
    "**k",
    "lambda e: e",
    "f'{x}'",
    "{}",
    "{1: 2}",
    "{1}",
    "[i for i in x]",
    "-True",
    "--1",
    "+1",
    "1j",
    "b'x'",
    "...",
    "(y := 1)",
    "1 if x else 2",
    "not 1",
    *_CODE,
]
_KEYWORDS = [
    "base_lr",
    "step_size",
    "gamma",
    "T_max",
    "T_0",
    "milestones",
    "max_lr",
    "total_steps",
    "schedulers",
    "factor",
    "total_iters",
    "eta_min",
    "mode",
    "patience",
    "horizon",
    "three_phase",
    "bogus",
]
_CALLEES = [*NAMES, "foo", "os", "__import__", "eval", "open", "print", "getattr", "from_config"]


def _call(args: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    argument = st.one_of(
        args,
        st.tuples(st.sampled_from(_KEYWORDS), args).map(lambda kv: f"{kv[0]}={kv[1]}"),
    )
    return st.tuples(st.sampled_from(_CALLEES), st.lists(argument, max_size=4)).map(
        lambda c: f"{c[0]}({', '.join(c[1])})"
    )


_ARGS = st.recursive(
    st.sampled_from(_FRAGMENTS),
    lambda inner: st.one_of(
        _call(inner),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    ),
    max_leaves=12,
)


@st.composite
def _spec_like(draw: st.DrawFn) -> str:
    """Spec-shaped text: calls of schedule (and other) names with literal, nested and
    forbidden arguments, sometimes with a character dropped or inserted."""
    text = draw(_call(_ARGS))
    if text and draw(st.booleans()):
        i = draw(st.integers(0, len(text) - 1))
        if draw(st.booleans()):
            text = text[:i] + text[i + 1 :]
        else:
            text = text[:i] + draw(st.sampled_from("()[],=.'-+*:x0")) + text[i:]
    return text


@_MANY
@given(_spec_like())
def test_spec_shaped_text_is_a_schedule_or_a_spec_error(text: str) -> None:
    assert not _MARKER.exists()
    _parsed(text)
    assert not _MARKER.exists()


def _schedule(config: dict) -> Configurable:
    try:
        config = json.loads(json.dumps(config))  # configs with Python callables cannot be specs
    except TypeError:
        assume(False)
    return lrfun.from_config(config)


@given(
    st.one_of(
        st.sampled_from(
            [n for n in SINGLE_NAMES if "Lambda" not in n and "Multiplicative" not in n]
        ).flatmap(configs),
        configs("ReduceLROnPlateau"),
        configs("hf.GreedyLR"),
        compositions(max_depth=2),
    )
)
def test_to_spec_parses_back_to_the_same_schedule(config: dict) -> None:
    schedule = _schedule(config)
    assert parse(to_spec(schedule)) == schedule


_factors = st.one_of(st.sampled_from([1.0, 0.9, 0.5, 0.0]), st.floats(-1.0, 1.002))


@given(
    factor=st.one_of(_factors, st.lists(_factors, min_size=2, max_size=3)),
    as_int=st.booleans(),
    steps=st.integers(0, 60),
)
def test_multiplicative_factors_as_numbers_in_specs_files_and_the_cli(
    factor: float | list[float], as_int: bool, steps: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A number is MultiplicativeLR's constant factor: a spec, a config file and the command
    hold it (a function stays out of reach), and it is torch's lambda returning it."""
    pytest.importorskip("torch")
    from parity import assert_close, torch_trajectory

    if as_int and not isinstance(factor, list):
        factor = round(factor)  # 0 or 1: an int is a number too
    base = [0.1] * len(factor) if isinstance(factor, list) else 0.1
    text = f"MultiplicativeLR({base!r}, lr_lambda={factor!r})"
    schedule = parse(text)
    assert schedule == lrfun.MultiplicativeLR(base, factor)
    assert parse(to_spec(schedule)) == schedule
    path = tmp_path_factory.mktemp("spec") / "factor.json"
    path.write_text(json.dumps(schedule.to_config()))
    assert load(f"@{path}") == schedule
    # in a composite too, where torch continues it from the previous child's lr
    sequential = parse(f"SequentialLR([StepLR({base!r}, 2), {text}], milestones=[3])")
    assert isinstance(sequential, lrfun.SequentialLR)
    for built in (schedule, sequential):
        reference = torch_trajectory(built, steps)
        assert_close(built(np.arange(steps + 1)), reference, dtype="float64")
    from lrfun.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["show", text, "--steps", "3", "--format", "json"]) == 0
    assert "MultiplicativeLR" in out.getvalue()


def test_a_greedy_lr_spec_is_a_machine_that_round_trips(tmp_path: Path) -> None:
    """hf.GreedyLR is metric-driven: a spec builds the machine (not a Schedule), where a
    stepped scheduler stands included, and to_spec, to_config and a file give it back."""
    text = (
        "hf.GreedyLR([0.1, 0.2], mode='max', factor=0.5, patience=3, threshold=0.01, "
        "threshold_mode='rel', cooldown=2, warmup=1, min_lr=[0.001, 0.002], max_lr=0.5, "
        "eps=1e-09, smooth=True, window_size=4, reset_start=6, current_lr=[0.05, 0.1], "
        "best=1.5, num_bad_epochs=1, num_good_epochs=0, cooldown_counter=0, warmup_counter=0, "
        "reset_countdown=6, last_epoch=3, window_values=[2.0, 1.5, 1.0], window_sum=4.5)"
    )
    machine = _parsed(text)
    assert type(machine) is lrfun.hf.GreedyLR and not isinstance(machine, lrfun.Schedule)
    assert machine == lrfun.hf.GreedyLR(
        [0.1, 0.2],
        mode="max",
        factor=0.5,
        patience=3,
        threshold=0.01,
        threshold_mode="rel",
        cooldown=2,
        warmup=1,
        min_lr=[0.001, 0.002],
        max_lr=0.5,
        eps=1e-9,
        smooth=True,
        window_size=4,
        reset_start=6,
        current_lr=[0.05, 0.1],
        best=1.5,
        num_bad_epochs=1,
        num_good_epochs=0,
        cooldown_counter=0,
        warmup_counter=0,
        reset_countdown=6,
        last_epoch=3,
        window_values=[2.0, 1.5, 1.0],
        window_sum=4.5,
    )
    assert to_spec(machine) == text
    assert parse(to_spec(machine)) == machine
    path = tmp_path / "greedy.json"
    path.write_text(json.dumps(machine.to_config()))
    assert load(f"@{path}") == machine
    # transformers' get_scheduler spells the same machine
    assert parse("hf.get_scheduler('greedy', 0.1)") == parse("hf.GreedyLR(0.1)")


def test_file_specs_hold_configs(tmp_path: Path) -> None:
    schedule = lrfun.SequentialLR(
        [lrfun.LinearLR(0.1, 0.01, total_iters=5), lrfun.CosineAnnealingLR(0.1, 20)], [5]
    )
    path = tmp_path / "warmup.json"
    path.write_text(json.dumps(schedule.to_config()))
    assert load(f"@{path}") == schedule
    assert load("StepLR(0.1, 3)") == lrfun.StepLR(0.1, 3)

    cases = {
        "missing.json": (None, "cannot read"),
        "bad.json": ("{", "is not valid JSON"),
        "list.json": ("[1, 2]", "must hold a config object, got list"),
        "unknown.json": ('{"name": "Foo"}', "config name must be one of"),
        "argument.json": ('{"name": "StepLR", "base_lr": 0.1, "step_size": 0}', "step_size"),
        "lambda.json": ('{"name": "LambdaLR", "base_lr": 0.1}', "takes a Python function"),
        "nameless.json": ('{"name": ["StepLR"]}', "'name' must be a schedule name"),
    }
    for name, (content, message) in cases.items():
        if content is not None:
            (tmp_path / name).write_text(content)
        with pytest.raises(SpecError, match=message):
            load(f"@{tmp_path / name}")


_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.floats(),
        st.sampled_from([*NAMES, "Foo", "cos", "min"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["name", *_KEYWORDS]), inner, max_size=4),
    ),
    max_leaves=10,
)


@given(
    st.one_of(
        _JSON,
        st.fixed_dictionaries(
            {"name": st.sampled_from(NAMES)},
            optional={k: _JSON for k in _KEYWORDS},
        ),
    )
)
def test_any_json_file_is_a_schedule_or_a_spec_error(value: object) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "config.json"
        path.write_text(json.dumps(value))
        try:
            result = load(f"@{path}")
        except SpecError as e:
            assert "\n" not in str(e)
        else:
            assert isinstance(result, (lrfun.Schedule, Machine))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"StepLR(0.1, step_size={10**400})", "StepLR's step_size = 100000000000...(401 digits)"),
        (f"StepLR(0.1, 3, {2**63})", "StepLR's gamma = 9223372036854775808 at column 16"),
        (f"MultiStepLR(0.1, [3, {-(2**63) - 1}])", "MultiStepLR's milestones = -922337"),
        (f"ReduceLROnPlateau(0.1, cooldown={2**63})", "cooldown = 9223372036854775808"),
    ],
)
def test_integers_past_int64_are_refused_by_name(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        parse(text)
    assert parse(f"StepLR(0.1, {2**63 - 1})") == lrfun.StepLR(0.1, 2**63 - 1)


def test_config_files_are_bounded_and_unambiguous(tmp_path: Path) -> None:
    cases = {
        "twice.json": ('{"name": "StepLR", "name": "StepLR"}', "the key 'name' is given twice"),
        "huge.json": (
            json.dumps({"name": "StepLR", "base_lr": 0.1, "step_size": 2**64}),
            "step_size = 18446744073709551616 lies outside the 64-bit",
        ),
        "deep.json": (
            json.dumps({"name": "MultiStepLR", "base_lr": 0.1, "milestones": [1, -(2**64)]}),
            "milestones[1] = -18446744073709551616",
        ),
        "long.json": (" " * (1 << 20) + "{}", "at most 1048576"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(content)
        with pytest.raises(SpecError, match=re.escape(message)):
            load(f"@{tmp_path / name}")
    with pytest.raises(SpecError, match="is a directory, not a regular file"):
        load(f"@{tmp_path}")
