"""lrfun.hf against live transformers: every ``get_scheduler`` type over its whole valid
parameter space (Hypothesis), on a real torch optimizer, under lrfun's tolerance policy; the
same schedules traced by jax.jit / vmap / torch.compile, in float32; configs; errors."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import lrfun
from lrfun import hf
from parity import assert_close
from parity.strategies import hf_calls, hf_default_lr, hf_schedule

Config = dict[str, Any]

# The closed forms (every type but the two metric-driven machines).
CLOSED = tuple(t for t in hf.TYPES if t not in ("reduce_lr_on_plateau", "greedy"))


# -- the live reference ---------------------------------------------------------------------


def _native(config: Config) -> tuple[Any, Any]:
    """SGD over zero params (one group per base lr) and ``transformers.get_scheduler`` on it."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    base = config["base_lr"]
    lrs = base if isinstance(base, list) else [base]
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    optimizer = torch.optim.SGD(groups, lr=hf_default_lr(config))
    scheduler = transformers.get_scheduler(
        config["name"],
        optimizer,
        num_warmup_steps=config["num_warmup_steps"],
        num_training_steps=config["num_training_steps"],
        scheduler_specific_kwargs=dict(config["kwargs"]),
    )
    return optimizer, scheduler


def _transformers(config: Config) -> tuple[np.ndarray, int | None]:
    """Every group's lr at steps 0..steps of ``transformers.get_scheduler`` on SGD over zero
    params, and the step at which transformers raised ZeroDivisionError (None: it did not)."""
    rows: list[list[float]] = []
    lrs = config["base_lr"] if isinstance(config["base_lr"], list) else [config["base_lr"]]
    try:
        optimizer, scheduler = _native(config)
        for step in range(config["steps"] + 1):
            rows.append([float(g["lr"]) for g in optimizer.param_groups])
            if step < config["steps"]:
                optimizer.step()
                scheduler.step()
    except ZeroDivisionError:
        return np.asarray(rows, dtype=np.float64).reshape(-1, len(lrs)), len(rows)
    return np.asarray(rows, dtype=np.float64), None


def _check_against_transformers(config: Config) -> None:
    schedule = hf_schedule(config)
    reference, failed = _transformers(config)
    if failed is not None:
        # transformers' polynomial divides by zero at step T when W == T (lrfun: base_lr).
        assert config["name"] == "polynomial"
        assert config["num_warmup_steps"] == config["num_training_steps"] == failed
        assert schedule(failed) == pytest.approx(np.asarray(schedule.base_lr), rel=1e-12)
    if not len(reference):  # transformers raised at construction (W == T == 0)
        return
    ours = schedule(np.arange(len(reference)))
    assert_close(ours, reference, dtype="float64")
    # Python steps run the same float64 formula
    for k in {0, len(reference) // 2, len(reference) - 1}:
        np.testing.assert_array_equal(schedule(k), ours[k])


@pytest.mark.parametrize("name", CLOSED)
@given(data=st.data())
def test_every_type_matches_transformers(name: str, data: st.DataObject) -> None:
    _check_against_transformers(data.draw(hf_calls(name)))


# The edges, every time (Hypothesis reaches them, but not necessarily in one run).
def _e(name: str, w: int | None = None, t: int | None = None, **kwargs: Any) -> Config:
    edge: Config = {"name": name}
    if w is not None:
        edge["num_warmup_steps"] = w
    if t is not None:
        edge["num_training_steps"] = t
    return {**edge, **kwargs}


EDGES: list[Config] = [
    _e("linear", 0, 10),
    _e("linear", 10, 10),
    _e("linear", 12, 10),
    _e("linear", 0, 0),
    _e("cosine", 10, 10),
    _e("cosine", 0, 7, num_cycles=2),
    _e("cosine", 3, 30, num_cycles=1.3),
    _e("cosine_with_restarts", 0, 9),
    _e("cosine_with_restarts", 2, 30, num_cycles=4),
    _e("cosine_with_restarts", 2, 30, num_cycles=2.5),
    _e("cosine_with_restarts", 5, 5),
    _e("polynomial", 0, 10),
    _e("polynomial", 3, 20, power=2.0, lr_end=0.01),
    _e("polynomial", 3, 20, power=0.0),
    _e("polynomial", 5, 5),
    _e("polynomial", 0, 0),
    _e("polynomial", 8, 5),
    _e("constant"),
    _e("constant_with_warmup", 0),
    _e("constant_with_warmup", 7),
    _e("inverse_sqrt", 0),
    _e("inverse_sqrt", 10),
    _e("inverse_sqrt", 10, timescale=3),
    _e("inverse_sqrt", 0, timescale=1),
    _e("cosine_with_min_lr", 4, 20, min_lr=0.01),
    _e("cosine_with_min_lr", 0, 20, min_lr_rate=0.5),
    _e("cosine_with_min_lr", 20, 20, min_lr_rate=1.0),
    _e("cosine_warmup_with_min_lr", 4, 20, min_lr=0.01),
    _e("cosine_warmup_with_min_lr", 4, 20, min_lr_rate=0.1, warmup_lr_rate=0.2),
    _e("cosine_warmup_with_min_lr", 1, 20, min_lr_rate=0.1, warmup_lr_rate=0.0),
    _e("cosine_warmup_with_min_lr", 0, 0, min_lr_rate=0.0),
    *(
        _e("warmup_stable_decay", 5, 30, num_decay_steps=10, warmup_type=wt, decay_type=dt,
           min_lr_ratio=0.1)
        for wt in ("linear", "cosine", "1-sqrt")
        for dt in ("linear", "cosine", "1-sqrt")
    ),
    _e("warmup_stable_decay", 5, num_stable_steps=0, num_decay_steps=10),
    _e("warmup_stable_decay", 0, num_stable_steps=4, num_decay_steps=0),
    _e("warmup_stable_decay", 8, 10, num_decay_steps=6, decay_type="1-sqrt"),
    _e("warmup_stable_decay", 4, num_stable_steps=3, num_decay_steps=9, num_cycles=1.0),
]  # fmt: skip

_STEP_KEYS = ("name", "num_warmup_steps", "num_training_steps")


def _edge(raw: Config, base: Any = 0.1, default: float | None = None) -> Config:
    kwargs = {k: v for k, v in raw.items() if k not in _STEP_KEYS}
    ends = [raw.get("num_warmup_steps") or 0, raw.get("num_training_steps") or 0]
    ends.append(ends[0] + kwargs.get("num_stable_steps", 0) + kwargs.get("num_decay_steps", 0))
    return {
        "name": raw["name"],
        "base_lr": base,
        "default_lr": default,
        "num_warmup_steps": raw.get("num_warmup_steps"),
        "num_training_steps": raw.get("num_training_steps"),
        "kwargs": kwargs,
        "steps": max(ends) + 25,
    }


@pytest.mark.parametrize("raw", EDGES, ids=lambda c: "-".join(map(str, c.values())))
def test_edges_match_transformers(raw: Config) -> None:
    _check_against_transformers(_edge(raw))
    # per-group base lrs (the optimizer's default lr being another value)
    _check_against_transformers(_edge(raw, base=[0.1, 0.03, 1e-4], default=0.2))


# -- traced: jax.jit, jax.vmap, torch.compile, in float32 ---------------------------------------


@pytest.mark.parametrize("name", CLOSED)
@given(data=st.data())
def test_jit_float32_is_within_tolerance_of_float64(name: str, data: st.DataObject) -> None:
    jax = pytest.importorskip("jax")
    config = data.draw(hf_calls(name))
    schedule = hf_schedule(config)
    ks = np.arange(config["steps"] + 1)
    if isinstance(schedule, (hf.CosineWithWarmup, hf.CosineWarmupWithMinLr)):
        # the documented float32 range of the cosine: num_cycles * progress <= 8
        w, t = schedule.num_warmup_steps, schedule.num_training_steps
        shift = 1 if isinstance(schedule, hf.CosineWarmupWithMinLr) else 0
        ks = ks[schedule.num_cycles * (ks - w + shift) / max(1, t - w) <= 8]
    ours = jax.jit(lambda s, k: s(k))(schedule, jax.numpy.asarray(ks))
    assert ours.dtype == jax.numpy.float32
    assert_close(ours, schedule(ks), dtype="float32")


@pytest.mark.parametrize("raw", EDGES, ids=lambda c: "-".join(map(str, c.values())))
def test_vmap_over_stacked_schedules_is_a_sweep(raw: Config) -> None:
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    config = _edge(raw)
    sweep = [hf_schedule({**config, "base_lr": lr}) for lr in (0.1, 0.05, 0.3)]
    stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *sweep)
    ks = jnp.arange(config["steps"] + 1)
    traced = jax.jit(jax.vmap(lambda s: s(ks)))(stacked)
    for row, schedule in zip(np.asarray(traced), sweep, strict=True):
        assert_close(row, schedule(np.arange(config["steps"] + 1)), dtype="float32")


def test_pytree_leaves_are_the_float_hyperparameters() -> None:
    jax = pytest.importorskip("jax")
    s = hf.get_wsd_schedule([0.1, 0.2], 5, 10, num_stable_steps=3, min_lr_ratio=0.1)
    leaves, tree = jax.tree.flatten(s)
    assert leaves == [0.1, 0.2, 0.1, 0.5]
    assert jax.tree.unflatten(tree, leaves) == s


@pytest.mark.parametrize("name", CLOSED)
def test_torch_compile_fullgraph(name: str) -> None:
    torch = pytest.importorskip("torch")
    raw = [r for r in EDGES if r["name"] == name][-1]
    config = _edge(raw, base=[0.1, 0.02], default=0.1)
    schedule = hf_schedule(config)
    torch._dynamo.reset()
    compiled = torch.compile(lambda k: schedule(k), fullgraph=True, backend="eager")
    ks = torch.arange(config["steps"] + 1)
    assert_close(compiled(ks), schedule(ks.numpy()), dtype="float32")


# -- configs --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLOSED)
@given(data=st.data())
def test_configs_round_trip(name: str, data: st.DataObject) -> None:
    schedule = hf_schedule(data.draw(hf_calls(name)))
    config = json.loads(json.dumps(schedule.to_config()))
    again = hf.from_config(config)
    assert again == schedule and type(again) is type(schedule)
    ks = np.arange(60)
    np.testing.assert_array_equal(again(ks), schedule(ks))
    # every other lrfun config still builds
    assert hf.from_config({"name": "StepLR", "base_lr": 0.1, "step_size": 3}) == lrfun.StepLR(
        0.1, 3
    )


# -- the metric-driven types ----------------------------------------------------------------


def test_reduce_lr_on_plateau_is_lrfuns_machine() -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    kwargs = {"patience": 1, "factor": 0.5, "mode": "max"}
    machine = hf.get_scheduler("reduce_lr_on_plateau", [0.1, 0.2], scheduler_specific_kwargs=kwargs)
    assert machine == lrfun.ReduceLROnPlateau([0.1, 0.2], **kwargs)
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.2)]
    optimizer = torch.optim.SGD(groups, lr=0.1)
    native = transformers.get_scheduler("reduce_lr_on_plateau", optimizer, 3, 9, kwargs)
    state = machine.init()
    for metric in [1.0, 2.0, 2.0, 2.0, 1.0, 3.0, 3.0, 3.0, 3.0]:
        optimizer.step()
        native.step(metric)
        state = machine.update(state, metric)
        np.testing.assert_array_equal(
            np.asarray(machine.lr(state)), [g["lr"] for g in optimizer.param_groups]
        )


def test_greedy_is_lrfuns_machine_registered_as_hf() -> None:
    machine = hf.get_scheduler("greedy", 0.1, scheduler_specific_kwargs={"patience": 2})
    assert isinstance(machine, hf.GreedyLR) and machine.patience == 2
    config = machine.to_config()
    assert config["name"] == "hf.GreedyLR"
    assert lrfun.from_config(config) == machine
    assert lrfun.from_config(json.loads(json.dumps(config))) == machine


# -- errors: transformers' own ------------------------------------------------------------------

# (call, the transformers call it mirrors): both raise the same error with the same message.
ERRORS: list[tuple[str, dict[str, Any]]] = [
    ("no_such_schedule", {}),
    ("linear", {"num_training_steps": 10}),
    ("cosine", {"num_warmup_steps": 1}),
    ("polynomial", {"num_warmup_steps": 1}),
    ("polynomial", {"num_warmup_steps": 1, "num_training_steps": 9,
                    "scheduler_specific_kwargs": {"lr_end": 0.5}}),
    ("cosine_with_min_lr", {"num_warmup_steps": 1, "num_training_steps": 9}),
    ("cosine_with_min_lr", {"num_warmup_steps": 1, "num_training_steps": 9,
                            "scheduler_specific_kwargs": {"min_lr": 0.1, "min_lr_rate": 0.1}}),
    ("cosine_warmup_with_min_lr", {"num_warmup_steps": 1, "num_training_steps": 9}),
    ("warmup_stable_decay", {"num_warmup_steps": 1,
                             "scheduler_specific_kwargs": {"num_decay_steps": 3}}),
    ("warmup_stable_decay", {"num_warmup_steps": 1, "num_training_steps": 9}),
    ("warmup_stable_decay", {"num_warmup_steps": 1, "num_training_steps": 9,
                             "scheduler_specific_kwargs": {"num_decay_steps": 3,
                                                           "warmup_type": "exp"}}),
    ("warmup_stable_decay", {"num_warmup_steps": 1, "num_training_steps": 9,
                             "scheduler_specific_kwargs": {"num_decay_steps": 3,
                                                           "decay_type": "step"}}),
    ("cosine", {"num_warmup_steps": 1, "num_training_steps": 9,
                "scheduler_specific_kwargs": {"power": 2.0}}),
    ("inverse_sqrt", {"num_warmup_steps": 1, "scheduler_specific_kwargs": {"num_cycles": 2}}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kwargs"), ERRORS)
def test_errors_are_transformers_errors(name: str, kwargs: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises((ValueError, TypeError)) as theirs:
        transformers.get_scheduler(name, optimizer, **kwargs)
    with pytest.raises(theirs.type) as ours:
        hf.get_scheduler(name, 0.1, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_both_stable_and_total_warn_as_transformers_does() -> None:
    with pytest.warns(UserWarning, match="num_stable_steps will be used"):
        s = hf.get_wsd_schedule(0.1, 2, 3, num_training_steps=100, num_stable_steps=4)
    assert s.num_stable_steps == 4


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: hf.LinearWithWarmup(0.1, -1, 10), "num_warmup_steps"),
        (lambda: hf.LinearWithWarmup(0.1, 1.5, 10), "num_warmup_steps"),
        (lambda: hf.LinearWithWarmup(-0.1, 1, 10), "base_lr"),
        (lambda: hf.CosineWithWarmup(0.1, 1, -10), "num_training_steps"),
        (lambda: hf.CosineWithWarmup(0.1, 1, 10, num_cycles=float("nan")), "num_cycles"),
        (lambda: hf.CosineWithWarmup(0.1, 1, 10, min_lr_rate=-0.1), "min_lr_rate"),
        (lambda: hf.PolynomialDecayWithWarmup(0.1, 1, 10, power=-1.0), "power"),
        (lambda: hf.PolynomialDecayWithWarmup(0.1, 1, 10, power=1e-300), "power"),
        (lambda: hf.PolynomialDecayWithWarmup(0.1, 1, 10, lr_end=-1.0), "lr_end"),
        (lambda: hf.PolynomialDecayWithWarmup([0.1, 0.2], 1, 10), "lr_init"),
        (lambda: hf.get_polynomial_decay_schedule_with_warmup([0.1, 0.2], 1, 10), "default_lr"),
        (lambda: hf.InverseSqrt(0.1, 1, timescale=0), "timescale"),
        (lambda: hf.WarmupStableDecay(0.1, 1, 2, -3), "num_decay_steps"),
        (lambda: hf.WarmupStableDecay(0.1, 1, 2, 3, warmup_type="exp"), "warmup_type"),
        (lambda: hf.WarmupStableDecay(0.1, 1, 2, 3, min_lr_ratio=-1.0), "min_lr_ratio"),
        (lambda: hf.CosineWarmupWithMinLr(0.1, 1, 9, warmup_lr_rate="a"), "warmup_lr_rate"),
    ],
)
def test_bad_arguments_name_the_argument(build: Any, match: str) -> None:
    with pytest.raises((TypeError, ValueError), match=match):
        build()


def test_importing_hf_imports_no_framework() -> None:
    code = (
        "import sys, lrfun, lrfun.hf\n"
        "heavy = [m for m in ('torch', 'transformers', 'jax') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", CLOSED)
@given(data=st.data())
def test_from_torch_recognises_transformers_schedulers(name: str, data: st.DataObject) -> None:
    """A live transformers scheduler, stepped or not, converts to the closed form (which
    traces), and continues as transformers does."""
    config = data.draw(hf_calls(name))
    try:
        optimizer, native = _native(config)
        before = data.draw(st.integers(0, config["steps"]), label="before")
        for _ in range(before):
            optimizer.step()
            native.step()
        converted = lrfun.from_torch(native)
        rows = []
        for step in range(before, config["steps"] + 1):
            rows.append([float(g["lr"]) for g in optimizer.param_groups])
            if step < config["steps"]:
                optimizer.step()
                native.step()
    except ZeroDivisionError:  # transformers' own failures: compared in the parity test
        assume(False)
    assert not isinstance(converted, lrfun.LambdaLR), type(converted)
    ours = converted(np.arange(before, config["steps"] + 1))
    assert_close(ours, np.asarray(rows), dtype="float64")


def test_from_torch_keeps_other_lambdas() -> None:
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    native = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: 0.5**e)
    assert isinstance(lrfun.from_torch(native), lrfun.LambdaLR)


@pytest.mark.parametrize("name", CLOSED)
def test_the_adapters_take_them(name: str) -> None:
    """lrfun.torch.Scheduler sets transformers' lrs on a torch optimizer, and
    lrfun.optax.inject injects them into an optax optimizer."""
    torch = pytest.importorskip("torch")
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax.numpy")
    import lrfun.optax
    import lrfun.torch

    config = _edge(next(raw for raw in EDGES if raw["name"] == name))
    config["steps"] = max(config["steps"], 25)
    reference, failed = _transformers(config)
    assert failed is None
    schedule = hf_schedule(config)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=config["base_lr"])
    adapter = lrfun.torch.Scheduler(optimizer, schedule)
    rows = [optimizer.param_groups[0]["lr"]]
    for _ in range(config["steps"]):
        optimizer.step()
        adapter.step()
        rows.append(optimizer.param_groups[0]["lr"])
    assert_close(np.asarray(rows), reference[:, 0], dtype="float64")
    opt = lrfun.optax.inject(optax.sgd, schedule)
    params = jnp.zeros(1)
    state = opt.init(params)
    injected = []  # the lr each update used (optax's state holds it after the update)
    for _ in range(config["steps"] + 1):
        _, state = opt.update(jnp.ones(1), state, params)
        injected.append(float(state.hyperparams["learning_rate"]))
    assert_close(np.asarray(injected), reference[:, 0], dtype="float32", scale=config["base_lr"])


def test_the_report_has_a_row_per_type_and_backend() -> None:
    transformers = pytest.importorskip("transformers")
    from parity.report import HF_EXAMPLES, transformers_rows

    rows = transformers_rows(60)
    assert {r.schedule for r in rows} == {f"hf:{name}" for name in (*HF_EXAMPLES, "greedy")}
    assert set(HF_EXAMPLES) == set(CLOSED)
    assert {r.reference for r in rows} == {f"transformers {transformers.__version__}"}
    assert all(r.passed for r in rows), [r.detail for r in rows if not r.passed]


def test_plot_torch_overlays_transformers_own(tmp_path: Any, capsys: Any) -> None:
    """The issue's command: transformers' scheduler runs live beside lrfun's curve."""
    pytest.importorskip("matplotlib")
    from lrfun import cli

    spec = "hf.get_scheduler('cosine', 0.1, num_warmup_steps=10, num_training_steps=100)"
    out = tmp_path / "hf.png"
    assert cli.main(["plot", spec, "--torch", "--steps", "120", "-o", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith(
        "pass: hf.CosineWithWarmup(0.1, num_warmup_steps=10, num_training_steps=100) "
        f"vs transformers {importlib.metadata.version('transformers')}, steps 0..119"
    )
    assert out.stat().st_size > 0
