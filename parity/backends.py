"""Evaluate a schedule on every array backend: Python numbers, NumPy, JAX (float32 and x64)
and torch (float32 and float64 steps) on a device.

Each ``Backend`` takes any callable of the step (an lrfun schedule, or your own
function written against the array API) and a NumPy array of steps, evaluates it in that
backend, checks the result's dtype and device, and returns float64 NumPy values to compare
with [``parity.assert_close``][parity.assert_close] at the backend's ``dtype``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

Evaluate = Callable[[Callable[[Any], Any], np.ndarray], np.ndarray]


class Backend(NamedTuple):
    name: str
    dtype: str  # the precision lrfun evaluates in on this backend
    evaluate: Evaluate  # (schedule call, steps) -> values as a float64 numpy array
    sample: bool  # evaluate a spread of steps only (Python numbers are slow per call)


def sample_rows(n: int, count: int = 40) -> np.ndarray:
    """A spread of row indices, both ends included."""
    return np.unique(np.linspace(0, n - 1, num=min(n, count)).astype(int))


def _python(fn: Callable[[Any], Any], steps: np.ndarray) -> np.ndarray:
    values = [fn(int(k)) for k in steps]
    assert all(isinstance(v, (float, np.ndarray)) for v in values)
    return np.asarray(values, dtype=np.float64)


def _numpy(fn: Callable[[Any], Any], steps: np.ndarray) -> np.ndarray:
    out = fn(steps)
    assert out.dtype == np.float64
    return np.asarray(out)


def _jax(x64: bool) -> Evaluate:
    def run(fn: Callable[[Any], Any], steps: np.ndarray) -> np.ndarray:
        import jax
        import jax.numpy as jnp

        # Eager JAX compiles each operation per shape: padding to a power of two reuses them.
        size = max(64, 1 << (len(steps) - 1).bit_length())
        padded = np.pad(steps, (0, size - len(steps)))
        with jax.enable_x64(x64):
            out = fn(jnp.asarray(padded))
            assert out.dtype == (jnp.float64 if x64 else jnp.float32)
            return np.asarray(out, dtype=np.float64)[: len(steps)]

    return run


def _torch(device: str, dtype: str | None) -> Evaluate:
    def run(fn: Callable[[Any], Any], steps: np.ndarray) -> np.ndarray:
        import torch

        t = torch.as_tensor(steps, device=device)
        if dtype is not None:
            t = t.to(getattr(torch, dtype))
        out = fn(t)
        assert out.device.type == torch.device(device).type
        assert out.dtype == (torch.float64 if dtype == "float64" else torch.float32)
        return out.detach().cpu().double().numpy()

    return run


def devices() -> list[str]:
    """The torch devices present: "cpu", then "cuda" and "mps" when available."""
    import torch

    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if torch.backends.mps.is_available():
        found.append("mps")
    return found


def backends(device: str = "cpu") -> Iterator[Backend]:
    """Every backend to check: Python, NumPy, JAX float32 and x64, torch float32 (integer
    steps) and float64 (float64 steps) on ``device``."""
    if device == "cpu":
        yield Backend("python", "float64", _python, True)
        yield Backend("numpy", "float64", _numpy, False)
        yield Backend("jax", "float32", _jax(False), False)
        yield Backend("jax-x64", "float64", _jax(True), False)
    yield Backend(f"torch-{device}", "float32", _torch(device, None), False)
    if device != "mps":  # MPS has no float64
        yield Backend(f"torch-{device}-f64", "float64", _torch(device, "float64"), False)
