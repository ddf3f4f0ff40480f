"""parity.strategies as a library author uses it: ``configs(name, groups=...)`` for every
registered name, and single-group configs whose arguments build a schedule directly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrfun
from parity import assert_close, torch_trajectory
from parity.strategies import HF_NAMES, NAMES, arguments, configs

_ALL = (*NAMES, "ReduceLROnPlateau", *HF_NAMES, "hf.GreedyLR")
# arguments that are lists whatever the groups
_LISTS = ("milestones", "window_values")


@pytest.mark.parametrize("name", _ALL)
@pytest.mark.parametrize("groups", [None, 1, 2, 3])
@given(data=st.data())
@settings(max_examples=10)
def test_configs_have_the_groups_asked_for(name: str, groups: int | None, data) -> None:
    config = data.draw(configs(name, groups=groups), label="config")
    built = lrfun.from_config(config)
    assert config["name"] == name
    if groups == 1:  # scalars throughout: one param group
        assert built.groups is None
        assert not [k for k, v in config.items() if isinstance(v, list) and k not in _LISTS]
    elif groups is not None:  # per-group values where drawn, broadcast otherwise
        assert built.groups in (None, groups)


@given(configs("StepLR", groups=1))
def test_the_ten_line_pattern(config: dict) -> None:
    """A library author's own StepLR, built from the arguments, against torch live."""

    def my_step_lr(base_lr: float, step_size: int, gamma: float = 0.1):
        return lambda k: base_lr * gamma ** (k // step_size)

    ref = torch_trajectory(config, steps=200)
    assert_close(my_step_lr(**arguments(config))(np.arange(201)), ref, dtype="float64")


@pytest.mark.parametrize("groups", [0, -1, 1.0, True, "1"])
def test_bad_group_counts_are_refused(groups: object) -> None:
    with pytest.raises((TypeError, ValueError), match="groups must be None or a positive int"):
        configs("StepLR", groups=groups)  # type: ignore[arg-type]
