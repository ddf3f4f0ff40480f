"""Costs of composites simulated on the host: work per block of steps, never per step;
memory within ``lrfun._chain.BUDGET`` however far the step; refusals that say why.

No timings here: speed is measured in benchmarks/ (see benchmarks/simulation.py).
"""

from __future__ import annotations

import collections

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lrfun
from lrfun import _chain
from lrfun._chain import Shared, Simulation, Single
from lrfun._compose import _Composite
from lrfun._schedule import classes
from lrfun._spec import parse
from parity import assert_close, torch_trajectory


def _cyclic_cosine() -> lrfun.ChainedScheduler:
    # every step sets the lr outright, then an affine map
    return lrfun.ChainedScheduler(
        [lrfun.CyclicLR(0.01, 0.1, 3), lrfun.CosineAnnealingLR(0.01, 17, eta_min=0.001)]
    )


def _cosine_decay() -> lrfun.ChainedScheduler:
    # affine maps with no reset: solved by composition
    return lrfun.ChainedScheduler(
        [lrfun.CosineAnnealingLR(0.1, 97, eta_min=0.003), lrfun.StepLR(0.1, 500, 0.9)]
    )


def _nested() -> lrfun.SequentialLR:
    # a composite first child, then a switch at a milestone
    first = lrfun.ChainedScheduler(
        [lrfun.LinearLR(0.1, 0.1, 1.0, 50), lrfun.CosineAnnealingLR(0.1, 31, eta_min=0.001)]
    )
    return lrfun.SequentialLR([first, lrfun.ExponentialLR(0.1, 0.9999)], [7000])


def _milestones() -> lrfun.ChainedScheduler:
    return lrfun.ChainedScheduler(
        [lrfun.MultiStepLR(0.1, [5, 5, 9, *range(100, 5000, 7)], 0.999), _cyclic_cosine()]
    )


COMPOSITES = {
    "cyclic-cosine": _cyclic_cosine,
    "cosine-decay": _cosine_decay,
    "nested": _nested,
    "milestones": _milestones,
}


def _in_one_pass(schedule: lrfun.SequentialLR | lrfun.ChainedScheduler, n: int) -> tuple:
    """The simulation of steps 0..n in one pass, every block from the one before it."""
    simulation = Simulation(schedule, 1, np.array([0.1]), np.array([0.1]))
    return simulation.values(np.arange(n + 1))


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 64 steps and a 64 KiB budget: many blocks, thinned checkpoints, evictions."""
    monkeypatch.setattr(_chain, "_BLOCK_STEPS", 64)
    monkeypatch.setattr(_chain, "BUDGET", 64 << 10)


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_far_steps_match_the_simulation_in_one_pass(name: str, small_blocks: None) -> None:
    schedule = COMPOSITES[name]()
    assert not schedule._closed
    n = 6_000
    lr, momentum = _in_one_pass(schedule, n)
    steps = np.array([n, 3, n - 1, 4_321, 0, 64, 63, 4_321])  # any order, repeats
    assert_close(schedule(steps), lr[steps, 0], dtype="float64")
    fresh = COMPOSITES[name]()
    assert_close(fresh(np.arange(n + 1)), lr[:, 0], dtype="float64")
    if momentum is not None:
        assert_close(schedule.momentum(steps), momentum[steps, 0], dtype="float64")
    assert schedule._simulation().nbytes() <= _chain.BUDGET


@pytest.mark.parametrize("name", ["cyclic-cosine", "nested"])
def test_blocks_match_torch(name: str, small_blocks: None) -> None:
    schedule = COMPOSITES[name]()
    reference = torch_trajectory(schedule.to_config(), steps=3000)
    assert_close(schedule(np.arange(3001)), reference.lr, dtype="float64")
    if reference.momentum is not None:
        assert_close(
            schedule.momentum(np.arange(3001)), reference.momentum, dtype="float64", what="momentum"
        )


def test_the_cache_stays_within_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_chain, "BUDGET", 256 << 10)
    schedule = _cyclic_cosine()
    for step in (0, 10**6, 5 * 10**5, 2 * 10**6 + 17, 3 * 10**6):
        schedule(np.arange(step, step + 1024))
        assert schedule._simulation().nbytes() <= _chain.BUDGET
    simulation = schedule._simulation()
    assert len(simulation.blocks) >= 2  # recent blocks are kept...
    assert simulation.stride > 1  # ...and checkpoints thinned as they grew


def test_work_is_per_block_not_per_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python work (maps, plans) happens once per block of steps, whatever the step."""
    calls: collections.Counter[str] = collections.Counter()
    plan = Single.plan

    def counted(self: Single, kinds: np.ndarray, groups: int) -> list:
        calls[type(self.leaf).__name__] += 1
        return plan(self, kinds, groups)

    monkeypatch.setattr(Single, "plan", counted)
    schedule = _milestones()
    schedule(10**6)
    block = schedule._simulation().block
    assert block >= 1024
    assert max(calls.values()) <= 10**6 // block + 2


def test_steps_past_the_limit_are_refused() -> None:
    schedule = _cyclic_cosine()
    simulation = schedule._simulation()
    last = simulation.most()
    with pytest.raises(ValueError, match=rf"step by step from step 0.*steps up to {last}"):
        schedule(last + simulation.block)
    assert simulation.nbytes() < 1 << 10  # refused before any simulation


def test_a_horizon_past_the_budget_is_refused() -> None:
    # The table is simulated at construction (traced steps only read it): refused there.
    with pytest.raises(ValueError, match=r"horizon=100000000 needs a table of 763 MiB, past half"):
        lrfun.ChainedScheduler(_cosine_decay().schedulers, horizon=10**8)
    fits = lrfun.ChainedScheduler(_cosine_decay().schedulers, horizon=10**6)
    assert np.isfinite(np.asarray(jax.jit(fits)(jnp.arange(4)))).all()


def _examples() -> list[lrfun.Schedule]:
    out = []
    for cls in classes(own=True):
        gallery = cls._gallery
        if gallery and issubclass(cls, lrfun.Schedule) and not issubclass(cls, _Composite):
            out.append(parse(gallery[0]))
    out.append(lrfun.MultiplicativeLR(0.1, lambda k: 0.99))
    return out


@pytest.mark.parametrize("schedule", _examples(), ids=lambda s: type(s).__name__)
def test_maps_of_a_block_are_the_maps_of_those_epochs(schedule: lrfun.Schedule) -> None:
    """The engine asks each scheduler's maps for the epochs a block reaches only (epoch 0
    first); they are rows of the maps over every epoch."""
    groups = schedule.groups or 1
    base = np.broadcast_to(np.asarray(schedule._initial_lr, dtype=np.float64), (groups,))
    with np.errstate(all="ignore"):
        full = schedule._chain_maps(np.arange(401), groups, base)
        node = schedule._node(groups, base, Shared())
        assert isinstance(node, Single)
        maps, row = node._maps_at(300, 340)
    rows = row + np.arange(41)
    np.testing.assert_array_equal(maps.a[rows], full.a[300:341])
    np.testing.assert_array_equal(maps.b[rows], full.b[300:341])
    np.testing.assert_array_equal(maps.initial[0], full.initial[0])
    np.testing.assert_array_equal(maps.restart[1], full.restart[1])
    if full.momentum is not None:
        np.testing.assert_array_equal(maps.momentum[rows], full.momentum[300:341])


def test_multistep_maps_count_repeated_milestones() -> None:
    schedule = lrfun.MultiStepLR(1.0, [3, 3, 5, 2**40, 2**63 - 1], 0.5)
    maps = schedule._chain_maps(np.arange(9), 1, np.ones(1))
    np.testing.assert_array_equal(maps.a[:, 0], [1, 1, 1, 0.25, 1, 0.5, 1, 1, 1])


def test_maps_are_applied_in_torch_order() -> None:
    """Runs of decays (no offset) taken in one NumPy call give the lrs of applying every map
    one after another, to the bit: the same products in the same order."""
    rng = np.random.default_rng(0)
    size, groups = 5_000, 3
    a = rng.uniform(0.5, 1.5, (size, groups))
    b = rng.uniform(-1e-3, 1e-3, (size, groups))
    for lo, hi in [(10, 400), (400, 431), (1_000, 1_020), (2_000, 4_990)]:
        b[lo:hi] = 0.0  # runs of decays, one under the shortest taken at once
    a[3_000:3_005, 0] = 0.0  # resets inside a run
    a[4_000, 1], a[4_001:4_100, 1] = 1e300, 1e10  # past float64: inf
    x = np.array([0.1, 0.2, -0.3])
    expected = np.empty_like(a)
    for g in range(groups):
        value = float(x[g])
        for k in range(size):
            value = float(a[k, g]) * value + float(b[k, g])
            expected[k, g] = value
    np.testing.assert_array_equal(_chain.affine_chain(x, a, b), expected)
