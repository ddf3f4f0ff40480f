"""Schedules shared between threads, pickled and deep-copied: the values of a single thread
and of the original, for every registered class, before and after evaluation.

A schedule's only mutable part is its cache (:class:`lrfun._schedule.Cache`): the tables it
builds on first use (a MultiplicativeLR's products, a composite's simulation, a horizon's
table). Threads build each once, under the cache's lock; copies start with an empty cache
and rebuild what they need.
"""

from __future__ import annotations

import copy
import functools
import pickle
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import jax
import numpy as np
import pytest

import lrfun
import lrfun.hf  # registers transformers' schedules
from lrfun._schedule import Cache, Configurable, classes, from_config
from parity.report import representative


def _wavy(e: int) -> float:
    # A factor that is not constant: MultiplicativeLR tabulates its products on the host.
    return 1.0 - 1e-3 * (e % 7)


def _threes(e: int) -> float:
    return 0.5 if e % 3 == 0 else 1.0


def _extras() -> dict[str, Callable[[], Configurable]]:
    """Schedules with tables built on first use, beside each class's representative."""
    cyclic = functools.partial(lrfun.CyclicLR, 0.01, 0.1, 3)
    cosine = functools.partial(lrfun.CosineAnnealingLR, 0.01, 17, eta_min=0.001)
    return {
        "MultiplicativeLR-function": lambda: lrfun.MultiplicativeLR(0.1, _wavy),
        "MultiplicativeLR-groups-horizon": lambda: lrfun.MultiplicativeLR(
            [0.1, 0.2], [_wavy, _threes], horizon=300
        ),
        "LambdaLR-horizon": lambda: lrfun.LambdaLR(0.1, _wavy, horizon=300),
        # simulated: every step overwrites, then scales the lr; momentum cycles
        "ChainedScheduler-simulated": lambda: lrfun.ChainedScheduler([cyclic(), cosine()]),
        "SequentialLR-simulated": lambda: lrfun.SequentialLR(
            [lrfun.ChainedScheduler([cosine(), lrfun.MultiplicativeLR(0.01, _wavy)]), cyclic()],
            [150],
        ),
        "SequentialLR-continuing": lambda: lrfun.SequentialLR(
            [lrfun.StepLR(0.1, 40), lrfun.MultiplicativeLR(0.1, _wavy)], [100]
        ),
    }


def _examples() -> dict[str, Callable[[], Configurable]]:
    """One schedule (or machine) of every class lrfun registers, and the extras."""
    out: dict[str, Callable[[], Configurable]] = {
        cls._name: functools.partial(from_config, representative(cls._name))
        for cls in classes(own=True)
    }
    return {**out, **_extras()}


EXAMPLES = _examples()
STEPS = 400
METRICS = [1.0, 0.9, 0.95, 0.97, 0.96, 0.99, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.9, 0.7] * 3


def _values(s: Configurable, steps: np.ndarray | None = None) -> list[Any]:
    """What the schedule gives: lrs (and momenta) at ``steps``, or a machine's lrs along
    fixed metrics."""
    if s._metric_driven:
        state, lrs = s.init(), []  # type: ignore[attr-defined]
        for metric in METRICS:
            state = s.update(state, metric)  # type: ignore[attr-defined]
            lrs.append(np.asarray(s.lr(state)))  # type: ignore[attr-defined]
        return lrs
    steps = np.arange(STEPS) if steps is None else steps
    out = [np.asarray(s(steps))]  # type: ignore[operator]
    if s.cycles_momentum:
        out.append(np.asarray(s.momentum(steps)))  # type: ignore[attr-defined]
    return out


def _same(a: list[Any], b: list[Any]) -> None:
    # The same computation in the same process: the same bits (NaN where NaN).
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.fixture
def fast_switches() -> Iterator[None]:
    """Threads switch every microsecond: a race in a table's building shows up at once."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _in_threads(s: Configurable, count: int = 4) -> list[list[Any]]:
    """``count`` threads evaluating ``s`` at once, each over its own overlapping steps,
    started together."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def work(i: int) -> None:
        start.wait()
        try:
            # different lengths: the threads extend the tables to different steps
            results[i] = _values(s, None if s._metric_driven else np.arange(STEPS - 37 * i))
        except BaseException as error:  # reported below, in the test's thread
            results[i] = error

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_threads_see_the_values_of_one_thread(name: str, fast_switches: None) -> None:
    build = EXAMPLES[name]
    alone = _values(build())
    shared = build()
    for result in _in_threads(shared):
        if shared._metric_driven:
            _same(result, alone)
        else:
            n = len(result[0])
            _same(result, [v[:n] for v in alone])
    # and nothing left behind wrong: a later single thread reads the same
    _same(_values(shared), alone)


def test_threads_extending_a_products_table_far(fast_switches: None) -> None:
    """The reported case: four threads extending one MultiplicativeLR's table of a
    non-constant factor corrupted it for good (relative errors up to 1e19)."""
    n = 200_000
    reference = lrfun.MultiplicativeLR(0.1, _wavy)(np.arange(n))
    for _ in range(3):
        shared = lrfun.MultiplicativeLR(0.1, _wavy)
        start = threading.Barrier(4)
        results: list[Any] = [None] * 4

        def work(
            i: int,
            shared: lrfun.MultiplicativeLR = shared,
            start: threading.Barrier = start,
            results: list[Any] = results,
        ) -> None:
            start.wait()
            results[i] = shared(np.arange(n - 1000 * i))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for result in results:
            np.testing.assert_array_equal(result, reference[: len(result)])
        np.testing.assert_array_equal(shared(np.arange(n)), reference)


def _pickled(s: Configurable) -> Configurable:
    copied: Configurable = pickle.loads(pickle.dumps(s))
    return copied


COPIES: dict[str, Callable[[Configurable], Configurable]] = {
    "pickle": _pickled,
    "deepcopy": copy.deepcopy,
    "copy": copy.copy,
}


@pytest.mark.parametrize("evaluated", [False, True], ids=["fresh", "evaluated"])
@pytest.mark.parametrize("how", sorted(COPIES))
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_copies_give_the_values_of_the_original(name: str, how: str, evaluated: bool) -> None:
    build = EXAMPLES[name]
    expected = _values(build())
    s = build()
    if evaluated:
        _same(_values(s), expected)
    copied = COPIES[how](s)
    # (equal where no function is held: a copied partial is another object)
    assert type(copied) is type(s) and repr(copied) == repr(s)
    assert copied == s or s._function_argument is not None
    _same(_values(copied), expected)
    _same(_values(s), expected)  # the original is untouched by its copy


def test_a_cache_is_not_pickled() -> None:
    """A copy holds the definition, not the tables: a far-evaluated schedule pickles to the
    size of a fresh one, and its copy rebuilds what it needs."""
    s = lrfun.MultiplicativeLR(0.1, _wavy)
    fresh = len(pickle.dumps(s))
    s(10**6)
    assert "products" in s._tables
    assert len(pickle.dumps(s)) == fresh
    copied = copy.deepcopy(s)
    assert "products" not in copied._tables
    assert copied(10**6) == s(10**6)
    assert isinstance(copied._tables, Cache) and copied._tables is not s._tables


def test_the_reported_composite_round_trips_after_evaluation() -> None:
    """An evaluated simulated composite could not be unpickled or deep-copied
    (AttributeError: 'ChainedScheduler' object has no attribute 'schedulers')."""
    s = lrfun.ChainedScheduler(
        [lrfun.CyclicLR(0.01, 0.1, step_size_up=5), lrfun.ExponentialLR(0.1, 0.9)]
    )
    assert not s._closed
    value = s(10)
    assert _pickled(s)(10) == value
    assert copy.deepcopy(s)(10) == value


@pytest.mark.parametrize("name", ["ChainedScheduler-simulated", "MultiplicativeLR-groups-horizon"])
def test_pytree_copies_after_evaluation(name: str) -> None:
    s = EXAMPLES[name]()
    expected = _values(s)
    leaves, tree = jax.tree_util.tree_flatten(s)
    rebuilt = jax.tree_util.tree_unflatten(tree, leaves)
    assert rebuilt == s and rebuilt._tables is not s._tables
    _same(_values(rebuilt), expected)
