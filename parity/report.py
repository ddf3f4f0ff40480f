"""The parity report: every schedule on every backend and device, against live torch.

``python -m parity`` prints one row per schedule x backend x reference (torch with float lrs,
torch with tensor lrs) x device: how many values were checked, the worst error as a fraction
of the tolerance, and whether every value passed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from parity._compare import compare
from parity._reference import torch_trajectory
from parity.backends import backends, sample_rows

__all__ = ["TENSOR_LR_STEPS", "Row", "check", "merge", "representative", "run"]

# torch's tensor-lr reference recurses in float32 (ExponentialLR(gamma=0.9995) drifts 5.4x past
# the float32 tolerance by step 10,000 on torch's side alone): tensor-lr rows stop here, and
# allow for torch's own measured float32 error on top of the policy.
TENSOR_LR_STEPS = 1000


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the report (or one backend's result for one config)."""

    schedule: str
    backend: str
    reference: str  # "float lr" or "tensor lr"
    device: str
    examples: int
    values: int  # lr and momentum values compared
    max_fraction: float  # worst |error| / allowed; <= 1 passes
    passed: bool
    detail: str = ""  # the worst case, when failing


def check(
    config: dict[str, Any],
    steps: int,
    *,
    optimizer: str = "sgd",
    tensor_lr: bool = False,
    device: str = "cpu",
    build: Callable[[dict[str, Any]], Any] | None = None,
) -> list[Row]:
    """Compares one config's lrfun schedule with torch on every backend of ``device``.

    Args:
      config: ``{"name": ..., **arguments}``.
      steps: steps after construction to compare (0..steps).
      optimizer: "sgd" or "adam" (Adam's beta1 is what momentum-cycling schedules write).
      tensor_lr: compare with torch run on tensor lrs (float32) instead of float lrs.
      device: the torch device of the reference and of the torch backends.
      build: config -> schedule (default ``lrfun.from_config``).

    Returns:
      One row per backend.
    """
    if build is None:
        import lrfun

        build = lrfun.from_config
    ref = torch_trajectory(config, steps, optimizer=optimizer, device=device, tensor_lr=tensor_lr)
    slack = {"lr": 0.0, "momentum": 0.0}
    if tensor_lr:
        # torch recurses in float32 with tensor lrs: its own distance from its float64 run is
        # error the reference carries, measured live and allowed for on top of the policy.
        exact = torch_trajectory(config, steps, optimizer=optimizer, device=device)
        slack["lr"] = np.abs(ref.lr - exact.lr)
        if ref.momentum is not None:
            slack["momentum"] = np.abs(ref.momentum - exact.momentum)
    schedule = build(config)
    if (ref.momentum is not None) != bool(getattr(schedule, "cycles_momentum", False)):
        raise AssertionError(f"torch and lrfun disagree on whether {config} cycles momentum")
    ks = np.arange(steps + 1)
    rows = []
    for backend in backends(device):
        picks = sample_rows(len(ks)) if backend.sample else np.arange(len(ks))
        dtype = "float32" if tensor_lr else backend.dtype
        lr_slack = slack["lr"][picks] if tensor_lr else 0.0
        results = [
            compare(
                backend.evaluate(schedule, ks[picks]), ref.lr[picks], dtype=dtype, slack=lr_slack
            )
        ]
        if ref.momentum is not None:
            ours = backend.evaluate(schedule.momentum, ks[picks])
            m_slack = slack["momentum"][picks] if tensor_lr else 0.0
            results.append(
                compare(ours, ref.momentum[picks], dtype=dtype, what="momentum", slack=m_slack)
            )
        worst = max(results, key=lambda c: c.max_fraction)
        detail = ""
        if not worst.passed:
            detail = (
                f"{config} at step {int(picks[worst.worst_step])}, group {worst.worst_group}: "
                f"error {worst.max_error:.3g} is {worst.max_fraction:.3g}x the {worst.dtype} "
                f"tolerance ({'momentum' if worst is not results[0] else 'lr'})"
            )
        rows.append(
            Row(
                schedule=config["name"],
                backend=backend.name,
                reference="tensor lr" if tensor_lr else "float lr",
                device=str(device),
                examples=1,
                values=sum(len(picks) * ref.lr.shape[1] for _ in results),
                max_fraction=worst.max_fraction,
                passed=all(c.passed for c in results),
                detail=detail,
            )
        )
    return rows


def merge(rows: Iterable[Row]) -> list[Row]:
    """Rows of the same schedule, backend, reference and device combined into one."""
    merged: dict[tuple[str, str, str, str], Row] = {}
    for row in rows:
        key = (row.schedule, row.backend, row.reference, row.device)
        old = merged.get(key)
        if old is None:
            merged[key] = row
            continue
        worse = row if row.max_fraction > old.max_fraction else old
        merged[key] = dataclasses.replace(
            worse,
            examples=old.examples + row.examples,
            values=old.values + row.values,
            passed=old.passed and row.passed,
            detail=old.detail or row.detail,
        )
    return list(merged.values())


# One config per schedule with the settings recipes use, each exercising its distinctive path.
_REPRESENTATIVE: dict[str, dict[str, Any]] = {
    "StepLR": {"base_lr": 0.1, "step_size": 30, "gamma": 0.1},
    "MultiStepLR": {"base_lr": [0.1, 0.01], "milestones": [0, 30, 80, 80], "gamma": 0.1},
    "ConstantLR": {"base_lr": 0.1, "factor": 1 / 3, "total_iters": 5},
    "LinearLR": {"base_lr": 0.1, "start_factor": 0.01, "end_factor": 1.0, "total_iters": 50},
    "ExponentialLR": {"base_lr": 0.1, "gamma": 0.995},
    "PolynomialLR": {"base_lr": 0.1, "total_iters": 400, "power": 2.0},
    "CosineAnnealingLR": {"base_lr": 0.1, "T_max": 200, "eta_min": 1e-4},
    "CosineAnnealingWarmRestarts": {"base_lr": 0.1, "T_0": 10, "T_mult": 2, "eta_min": 1e-5},
    "CyclicLR": {"base_lr": 1e-3, "max_lr": 0.1, "step_size_up": 50, "mode": "triangular2"},
    "OneCycleLR": {"max_lr": [0.1, 0.05], "total_steps": 1000, "three_phase": True},
}


def representative(name: str) -> dict[str, Any]:
    """A typical config of ``name`` (LambdaLR/MultiplicativeLR get torch-doc-style lambdas)."""
    from parity import strategies

    if name == "LambdaLR":
        return {"name": name, "base_lr": 0.1, "lr_lambda": strategies.geometric(0.99)}
    if name == "MultiplicativeLR":
        return {"name": name, "base_lr": 0.1, "lr_lambda": strategies.constant(0.95)}
    return {"name": name, **_REPRESENTATIVE[name]}


def _drawn(name: str, count: int) -> list[dict[str, Any]]:
    """``count`` configs from the Hypothesis strategies, the same ones every run."""
    from hypothesis import given, settings

    from parity.strategies import configs

    found: list[dict[str, Any]] = []
    if count <= 0:
        return found

    @settings(max_examples=count, database=None, derandomize=True)
    @given(configs(name))
    def collect(config: dict[str, Any]) -> None:
        if len(found) < count:
            found.append(config)

    collect()
    return found


def run(
    names: Sequence[str],
    *,
    steps: int,
    examples: int,
    devices: Sequence[str],
    advance: Callable[[str], None] = lambda _: None,
) -> list[Row]:
    """The whole report: representative plus ``examples`` drawn configs per schedule."""
    from parity.strategies import horizon

    rows: list[Row] = []
    for name in names:
        for config in [representative(name), *_drawn(name, examples)]:
            for device in devices:
                for tensor_lr in (False, True):
                    n = min(steps, TENSOR_LR_STEPS) if tensor_lr else steps
                    rows += check(config, horizon(config, n), tensor_lr=tensor_lr, device=device)
            advance(name)
    return merge(rows)
