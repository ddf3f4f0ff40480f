"""docs/frameworks.md ("One name, five libraries") holds what its generator measures.

The page's tables are measured from lrfun's classes by docs/frameworks_table.py; here they
are measured again and compared with the page, each class is checked to be one its family's
live-library tests cover, and the page's prose claims are checked against the measurements.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import lrfun
import lrfun.extend
from lrfun._schedule import registered

_ROOT = Path(__file__).parent.parent
_PATH = _ROOT / "docs" / "frameworks_table.py"


@pytest.fixture(scope="module")
def table() -> Any:
    spec = importlib.util.spec_from_file_location("_docs_frameworks_table", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # its dataclasses look their module up while they are built
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def measured(table: Any) -> dict[str, list[Any]]:
    return {recipe.slug: table.measure(recipe) for recipe in table.recipes()}


def test_the_page_holds_the_measured_tables(table: Any) -> None:
    page = (_ROOT / table.PAGE).read_text()
    assert table.with_tables(page, table.markdown()) == page, (
        "the page drifted from the measurements: run python docs/frameworks_table.py"
    )


def test_every_figure_is_drawn_and_shown(table: Any) -> None:
    page = (_ROOT / table.PAGE).read_text()
    for recipe in table.recipes():
        name = f"frameworks-{recipe.slug}.png"
        assert (_ROOT / table.IMAGES / name).is_file(), name
        assert f"(images/{name})" in page


def _parts(schedule: Any) -> Iterator[Any]:
    """The schedule and every schedule it is built from (SequentialLR's, JoinSchedules')."""
    yield schedule
    for f in dataclasses.fields(schedule):
        value = getattr(schedule, f.name)
        children = value if isinstance(value, (tuple, list)) else (value,)
        for child in children:
            if isinstance(child, lrfun.Schedule):
                yield from _parts(child)


def _covered(namespace: str) -> tuple[str, ...]:
    """The names the family's live-library tests draw: torch's schedulers and transformers'
    in tests/test_parity.py, torch's composites in tests/test_compose.py, the others in
    their tests/test_<family>_family.py."""
    from parity.strategies import HF_NAMES, NAMES

    if namespace == "":
        return (*NAMES, "SequentialLR", "ChainedScheduler")
    if namespace == "hf.":
        return tuple(HF_NAMES)
    return lrfun.extend.names(namespace)


def test_each_schedule_is_its_library_s_class(table: Any) -> None:
    seen = set()
    for recipe in table.recipes():
        assert recipe.entries[0].code is not None, f"{recipe.slug}: the baseline is missing"
        for entry in recipe.entries:
            assert entry.library in table.LIBRARIES
            schedule = table.build(entry)
            if schedule is None:
                continue
            namespace = table.NAMESPACES[entry.library]
            for part in _parts(schedule):
                cls = type(part)
                assert cls._namespace == namespace, (entry.code, cls._name)
                assert registered(cls._name) is cls
                assert cls._name in _covered(namespace), (entry.code, cls._name)
                seen.add(entry.library)
    assert seen == set(table.LIBRARIES)


def _row(measured: dict[str, list[Any]], slug: str, name: str) -> Any:
    (row,) = [r for r in measured[slug] if r.entry.name == name]
    return row


def test_the_prose_matches_the_measurements(table: Any, measured: dict[str, list[Any]]) -> None:
    first = table.MILESTONES[0]
    # milestones: timm one step before torch's, Keras one after, optax with torch
    assert _row(measured, "multistep", "timm").first == first - 1
    assert _row(measured, "multistep", "Keras").first == first
    assert _row(measured, "multistep", "optax").first is None
    # past the end: timm, optax and Keras hold the cosine's floor where torch climbs back
    for name in ("timm", "optax", "Keras"):
        row = _row(measured, "cosine", name)
        assert row.first == table.TOTAL + 1 and row.within is None
    assert _row(measured, "cosine", "transformers").first is None
    # restarts: torch and Keras go on; the others stop after the recipe's cycles
    assert _row(measured, "restarts", "Keras").first is None
    for name in ("timm", "optax", "transformers"):
        assert _row(measured, "restarts", name).first == table.TOTAL
    # timm's warmup without prefix jumps at warmup_t below the peak
    timm = _row(measured, "warmup-cosine", "timm")
    assert timm.first == table.WARMUP and timm.there[0] < timm.there[1] == table.PEAK
    assert _row(measured, "warmup-cosine", "timm (warmup_prefix)").within is None
    # one-cycle: optax differs from step 1 on
    assert _row(measured, "onecycle", "optax").first == 1
    # exponential, step and polynomial decay: every library agrees
    for slug in ("step-decay", "exponential", "polynomial"):
        assert all(r.first is None for r in measured[slug])
