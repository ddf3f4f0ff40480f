"""Nothing grows without bound: every host table, window and simulation answers to one
memory budget (``lrfun._chain.BUDGET``) and one cost limit (``lrfun._chain.MAX_MAPS``
updates), refused before anything is built, with one message naming the argument or the
step.

No timings here: the limit's "about half a minute" is measured by hand (docs/limits.md).
"""

from __future__ import annotations

import tracemalloc

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lrfun
import lrfun.hf  # registers transformers' schedules
from lrfun import _chain
from lrfun._chain import Simulation
from lrfun._spec import parse
from parity import assert_close


def _wavy(e: int) -> float:
    return 1.0 - 1e-6 * (e % 7)


def _products(n: int) -> np.ndarray:
    """lr_lambda(1) * ... * lr_lambda(k) for k in 0..n, multiplied one at a time."""
    out, value = [1.0], 1.0
    for k in range(1, n + 1):
        value = value * _wavy(k)
        out.append(value)
    return np.array(out)


def test_a_products_table_stays_within_the_budget() -> None:
    """MultiplicativeLR with a function kept a Python list of every product it had reached
    (s(10**7): 580 MB); it is simulated in blocks now, the values the same to the bit."""
    s = lrfun.MultiplicativeLR(0.1, _wavy)
    n = 300_000
    expected = 0.1 * _products(n)
    np.testing.assert_array_equal(s(np.arange(n + 1)), expected)
    assert s(n) == expected[n] and s(17) == expected[17]
    assert s._products().nbytes() <= _chain.BUDGET


def test_a_products_table_at_a_far_step_is_refused_before_it_is_built() -> None:
    """A load at last_epoch=2**40 built the table to a MemoryError (2.4 GiB)."""
    s = lrfun.MultiplicativeLR(0.1, _wavy)
    with pytest.raises(ValueError, match=r"step 1099511627776 costs about 1\.11e\+12 updates"):
        s(2**40)
    assert s._products().nbytes() < 1 << 10
    last = s._products().most()
    assert 9 * 10**7 < last < _chain.MAX_MAPS  # one call a step, and a block's work
    with pytest.raises(ValueError, match=f"evaluate steps up to {last}"):
        s(last + s._products().block)


def test_a_far_load_into_the_adapter_changes_nothing() -> None:
    torch = pytest.importorskip("torch")
    import lrfun.torch

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = lrfun.torch.Scheduler(opt, lrfun.MultiplicativeLR(0.1, _wavy))
    for _ in range(3):
        opt.step()
        scheduler.step()
    state = scheduler.state_dict()
    lr = opt.param_groups[0]["lr"]
    with pytest.raises(ValueError, match="costs about"):
        scheduler.load_state_dict({**state, "last_epoch": 2**40})
    assert opt.param_groups[0]["lr"] == lr and scheduler.state_dict() == state


@pytest.mark.parametrize("name", ["LambdaLR", "MultiplicativeLR"])
def test_a_horizon_past_the_budget_is_refused_at_construction(name: str) -> None:
    """horizon=2**31-1 built its Python list to a MemoryError."""
    cls = getattr(lrfun, name)
    with pytest.raises(
        ValueError, match=r"horizon=2147483647 needs a table of 16384 MiB.*horizon <= 4194303"
    ):
        cls(0.1, _wavy, horizon=2**31 - 1)
    with pytest.raises(ValueError, match=r"horizon=4194303 needs a table of 64 MiB"):
        cls([0.1, 0.2], [_wavy, _wavy], horizon=4194303)  # one table per function
    fits = cls(0.1, _wavy, horizon=10_000)
    traced = np.asarray(jax.jit(lambda k: fits(k))(jnp.arange(10_005)))
    assert_close(traced[:10_001], fits(np.arange(10_001)), dtype="float32")
    assert np.isnan(traced[10_001:]).all()


def test_a_smoothing_window_past_the_budget_is_refused() -> None:
    """A 50-character spec asked for a window of 10**8 (a 2.5 GB MemoryError)."""
    spec = "hf.GreedyLR(0.1, smooth=True, window_size=100000000)"
    with pytest.raises(
        ValueError, match=r"window_size=100000000 needs a table of 763 MiB.*<= 4194304"
    ):
        parse(spec)
    machine = lrfun.hf.GreedyLR(0.1, smooth=True, window_size=4194304)
    assert machine.init().window.shape == (4194304,)
    # no window is kept without smoothing
    assert lrfun.hf.GreedyLR(0.1, window_size=10**8).init().window.shape == (0,)


def _cosines(groups: int | None = None, children: int = 2) -> lrfun.ChainedScheduler:
    # affine maps with offsets, applied one at a time: the slowest updates there are
    base = 0.1 if groups is None else [0.1] * groups
    return lrfun.ChainedScheduler(
        [lrfun.CosineAnnealingLR(base, 50 + k, eta_min=0.001) for k in range(children)]
    )


def test_the_step_limit_is_a_cost_limit() -> None:
    """A step past 10**9 was refused as "about a minute", when 10**8 steps of a 2-child
    composite took 62 s; steps x updates a step (schedulers x groups) now, block work
    included."""
    two = _cosines()._simulation()
    assert two.maps == 2 and 4 * 10**7 < two.most() < 5 * 10**7
    assert two.cost(two.most()) <= _chain.MAX_MAPS
    # 1,000 children: 4.3 s per 1,000 steps, 12 hours at the command line's step limit
    many = _cosines(children=1000)
    simulation = many._simulation()
    assert simulation.maps == 1000 and simulation.most() < 10**5
    with pytest.raises(ValueError, match=r"ChainedScheduler \(no closed form here\).*1000 upd"):
        many(10**7)
    assert simulation.nbytes() < 1 << 20  # refused before any simulation
    # groups multiply the updates
    grouped = _cosines(groups=64)._simulation()
    assert grouped.maps == 128 and grouped.most() < _chain.MAX_MAPS // 128


def test_many_groups_are_held_within_the_budget() -> None:
    """120,000 groups held 134 MiB against the 64 MiB budget (a block of 64 steps at least,
    16 checkpoints at least)."""
    groups = 120_000
    s = lrfun.ChainedScheduler(
        [
            lrfun.CyclicLR([0.01] * groups, [0.1] * groups, 3),
            lrfun.CosineAnnealingLR([0.01] * groups, 17, eta_min=0.001),
        ]
    )
    steps = np.arange(12)
    lr, momentum = s(steps), s.momentum(steps)
    simulation = s._simulation()
    assert simulation.nbytes() <= _chain.BUDGET and simulation.block == 1
    small = lrfun.ChainedScheduler(
        [lrfun.CyclicLR(0.01, 0.1, 3), lrfun.CosineAnnealingLR(0.01, 17, eta_min=0.001)]
    )
    np.testing.assert_array_equal(lr[:, 7], small(steps))
    np.testing.assert_array_equal(momentum[:, -1], small.momentum(steps))
    with pytest.raises(ValueError, match="evaluate steps up to 413"):
        s(414)


def test_too_many_updates_a_step_are_refused() -> None:
    s = _cosines(groups=2**17 + 1)
    with pytest.raises(ValueError, match=r"262146 update\(s\) a step.*past the 262144"):
        s(0)


def test_wide_groups_are_the_loop_to_the_bit() -> None:
    """Many groups apply each map to all of them at once: the same products and sums as
    one group at a time."""
    rng = np.random.default_rng(1)
    size, groups = 3_000, _chain._WIDE + 3
    a = rng.uniform(0.5, 1.5, (size, groups))
    b = rng.uniform(-1e-3, 1e-3, (size, groups))
    b[100:400] = 0.0  # a run of decays in every group
    b[500:900, :2] = 0.0  # decays in some groups only
    a[1_000:1_004, 3] = 0.0
    a[2_000, 4], a[2_001:2_100, 4] = 1e300, 1e10  # past float64: inf
    x = rng.uniform(0.0, 1.0, groups)
    expected = np.concatenate(
        [
            _chain.affine_chain(x[g : g + 1], a[:, g : g + 1], b[:, g : g + 1])
            for g in range(groups)
        ],
        axis=1,
    )
    np.testing.assert_array_equal(_chain.affine_chain(x, a, b), expected)


def test_closed_chains_of_many_children_are_bounded_in_memory() -> None:
    """Bounding a chain's factors (at construction) held every child's factors at once:
    754 MiB for 1,000 StepLRs."""
    tracemalloc.start()
    try:
        s = lrfun.ChainedScheduler([lrfun.StepLR(0.1, 10, 0.9999) for _ in range(300)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert s._closed and peak < 16 << 20
    assert s(25) == pytest.approx(0.1 * 0.9999 ** (2 * 300), rel=1e-12)


def test_sequential_children_that_continue_cost_linear_work() -> None:
    """Each MultiplicativeLR child continues from the lr before its milestone, which was
    computed again for every later such child: the work doubled with each (18 children:
    5 s; 30: hours)."""
    n = 60
    children = [
        lrfun.MultiplicativeLR(0.1, _wavy) if k % 2 else lrfun.StepLR(0.1, 3, 0.9) for k in range(n)
    ]
    s = lrfun.SequentialLR(children, list(range(5, 5 * n, 5)))
    assert s._closed
    steps = np.arange(5 * n + 10)
    simulated = Simulation(s, 1, np.array([0.1]), np.array([0.1])).values(steps)[0][:, 0]
    assert_close(s(steps), simulated, dtype="float64")
