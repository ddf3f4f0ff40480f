"""What ``import lrfun`` imports: no framework, and nothing heavy that only a first evaluation
or a tool needs (asserted on ``sys.modules`` in a fresh interpreter, never on wall time)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Imported by the first evaluation (array-api-compat's NumPy namespace imports NumPy's
# testing and f2py packages), by the tools that read installed distributions, or by the
# adapters and tools that need a framework.
NOT_IMPORTED = (
    "array_api_compat.numpy",
    "importlib.metadata",
    "importlib.abc",
    "numpy.testing",
    "numpy.f2py",
    "torch",
    "jax",
    "optax",
    "keras",
    "timm",
    "transformers",
    "megatron",
    "matplotlib",
    "rich",
    "hypothesis",
)


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_lrfun_imports_nothing_heavy() -> None:
    code = f"import sys, lrfun; print(sorted(m for m in {NOT_IMPORTED!r} if m in sys.modules))"
    assert _run(code) == "[]"


@pytest.mark.parametrize("first", ["int", "float", "numpy", "plateau"])
def test_the_numpy_namespace_arrives_with_the_first_evaluation(first: str) -> None:
    """Whatever comes first (a Python number, a NumPy array, a plateau state in NumPy), the
    values are the ones every later evaluation gives."""
    evaluations = {
        "int": "s(7)",
        "float": "s(7.5)",
        "numpy": "s(np.arange(9)).tolist()",
        "plateau": "[p.update(p.update(p.init(), 3.0), m).lr.tolist() for m in (2.0, 4.0)]",
    }
    code = (
        "import sys\n"
        "import numpy as np\n"
        "import lrfun\n"
        "s = lrfun.OneCycleLR(0.1, total_steps=20)\n"
        "p = lrfun.ReduceLROnPlateau(0.1, patience=1)\n"
        "assert 'array_api_compat.numpy' not in sys.modules\n"
        f"first = {evaluations[first]}\n"
        # a Python int runs the formula on Python numbers: no namespace is needed yet
        f"assert ('array_api_compat.numpy' in sys.modules) is {first != 'int'}\n"
        f"assert {evaluations[first]} == first\n"
        "print(repr(first))\n"
    )
    first_value = _run(code)
    # the same value in a process where the namespace came in another way first
    again = _run(
        "import numpy as np\n"
        "import array_api_compat.numpy\n"
        "import lrfun\n"
        "s = lrfun.OneCycleLR(0.1, total_steps=20)\n"
        "p = lrfun.ReduceLROnPlateau(0.1, patience=1)\n"
        f"print(repr({evaluations[first]}))\n"
    )
    assert first_value == again
