"""A mistyped keyword in a constructor: the TypeError names the close argument names.

Python's own message names no alternative; every registered class of lrfun answers with the
close names (lrfun._suggest), and the check leaves copies alone: pickles, deep copies,
``dataclasses.replace`` and JAX's unflattening still rebuild schedules as before.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import jax
import pytest

import lrfun
from lrfun._schedule import classes


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: lrfun.StepLR(0.1, 3, gama=0.5),
            "StepLR() got an unexpected keyword argument 'gama'; did you mean 'gamma'?",
        ),
        (
            lambda: lrfun.OneCycleLR(0.1, total_step=100),
            "OneCycleLR() got an unexpected keyword argument 'total_step'; "
            "did you mean 'total_steps'?",
        ),
        (
            lambda: lrfun.ReduceLROnPlateau(0.1, patiense=3),
            "ReduceLROnPlateau() got an unexpected keyword argument 'patiense'; "
            "did you mean 'patience'?",
        ),
        (
            lambda: lrfun.hf.GreedyLR(0.1, windowsize=3),
            "GreedyLR() got an unexpected keyword argument 'windowsize'; "
            "did you mean 'window_size'?",
        ),
        (
            lambda: lrfun.hf.CosineWithWarmup(0.1, 10, 100, num_cycle=0.5),
            "CosineWithWarmup() got an unexpected keyword argument 'num_cycle'; "
            "did you mean 'num_cycles'?",
        ),
        # Nothing close: every argument the class takes.
        (
            lambda: lrfun.StepLR(0.1, 3, foo=1),
            "StepLR() got an unexpected keyword argument 'foo'; it takes base_lr, step_size, "
            "gamma, start_lr",
        ),
    ],
    ids=["StepLR", "OneCycleLR", "ReduceLROnPlateau", "hf.GreedyLR", "hf.CosineWithWarmup", "none"],
)
def test_a_mistyped_keyword_names_the_close_ones(build: Any, message: str) -> None:
    with pytest.raises(TypeError) as raised:
        build()
    assert str(raised.value) == message


@pytest.mark.parametrize("cls", classes(own=True), ids=lambda c: c._name)
def test_every_registered_class_suggests(cls: type[lrfun.Configurable]) -> None:
    # Refused before the arguments are read: no other argument is needed.
    name = next(f.name for f in dataclasses.fields(cls) if f.init)
    with pytest.raises(TypeError, match=f"did you mean '{name}'"):
        cls(**{name + "x": 1})


EXAMPLES = [
    lrfun.StepLR(0.1, 3, gamma=0.5),
    lrfun.OneCycleLR([0.1, 0.2], total_steps=100, pct_start=0.25),
    lrfun.SequentialLR([lrfun.LinearLR(0.1, total_iters=3), lrfun.StepLR(0.1, 2)], [3]),
    lrfun.ReduceLROnPlateau(0.1, patience=2),
    lrfun.hf.GreedyLR(0.1, patience=1),
    lrfun.hf.CosineWithWarmup(0.1, 10, 100),
]


@pytest.mark.parametrize("schedule", EXAMPLES, ids=lambda s: s._name)
def test_copies_are_rebuilt_as_before(schedule: lrfun.Configurable) -> None:
    assert pickle.loads(pickle.dumps(schedule)) == schedule
    assert copy.deepcopy(schedule) == schedule
    assert copy.copy(schedule) == schedule
    assert dataclasses.replace(schedule) == schedule
    assert type(schedule)(**schedule.arguments()) == schedule
    leaves, tree = jax.tree_util.tree_flatten(schedule)
    assert jax.tree_util.tree_unflatten(tree, leaves) == schedule
    assert lrfun.from_config(schedule.to_config()) == schedule


def test_replace_still_names_its_own_refusal() -> None:
    # dataclasses.replace refuses unknown fields through the constructor: the suggestion too.
    with pytest.raises(TypeError, match="did you mean 'gamma'"):
        dataclasses.replace(lrfun.StepLR(0.1, 3), gama=0.5)  # type: ignore[call-arg]
