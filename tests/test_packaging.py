"""What a user installing lrfun gets: extras without the development tools, a hint naming the
extra when a module's framework is missing, and an sdist that holds what its tests need."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="Python 3.11's tomllib reads pyproject.toml")

_ROOT = Path(__file__).parent.parent
_DEV_TOOLS = {"pytest", "pytest-xdist", "ruff", "mypy", "sybil", "mkdocs", "hypothesis-jsonschema"}


def _project() -> dict[str, object]:
    with open(_ROOT / "pyproject.toml", "rb") as f:
        return dict(tomllib.load(f)["project"])


def _requirements(extra: str, extras: dict[str, list[str]]) -> set[str]:
    """The distributions an extra pulls in, through the extras it names."""
    names: set[str] = set()
    for requirement in extras[extra]:
        name = requirement.split(";")[0].strip()
        if name.startswith("lrfun["):
            for inner in name[len("lrfun[") : -1].split(","):
                names |= _requirements(inner.strip(), extras)
        else:
            names.add(name.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip())
    return names


def test_all_pulls_in_no_development_tool() -> None:
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    pulled = _requirements("all", extras)
    assert not pulled & _DEV_TOOLS, pulled & _DEV_TOOLS
    # and every runtime extra's frameworks
    for extra in ("jax", "torch", "plot", "parity", "hf"):
        assert _requirements(extra, extras) <= pulled, extra


def test_metadata_for_an_index() -> None:
    project = _project()
    assert project["classifiers"] and project["keywords"]


# An import finder that fails the package's import the way a missing distribution does.
_BLOCK = """\
import sys
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {missing!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Missing())
"""


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=_ROOT
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "missing", "extra"),
    [
        ("lrfun.torch", "torch", "torch"),
        ("lrfun.optax", "optax", "jax"),
        ("lrfun.optax", "jax", "jax"),
    ],
)
def test_a_missing_framework_names_its_extra(module: str, missing: str, extra: str) -> None:
    out = _run(
        _BLOCK.format(missing=missing)
        + f"try:\n    import {module}\nexcept ModuleNotFoundError as e:\n    print(e, e.name)\n"
    )
    assert f"pip install 'lrfun[{extra}]' {missing}" in out, out


def test_parity_without_torch_names_its_extra() -> None:
    # parity looks its frameworks up first: None in sys.modules is "not installed" there.
    out = _run(
        "import sys; sys.modules['torch'] = None\n"
        "try:\n    import parity\nexcept ImportError as e:\n    print(e)\n"
    )
    assert "pip install 'lrfun[parity]'" in out, out


def test_plot_without_matplotlib_names_its_extra() -> None:
    out = _run(
        _BLOCK.format(missing="matplotlib")
        + "import lrfun\nfrom lrfun.plot import plot\n"
        "try:\n    plot(lrfun.StepLR(0.1, 3), steps=5)\n"
        "except ModuleNotFoundError as e:\n    print(e)\n"
    )
    assert "pip install 'lrfun[plot]'" in out, out


def test_the_sdist_holds_what_the_tests_read() -> None:
    manifest = (_ROOT / "MANIFEST.in").read_text(encoding="utf-8").split()
    for needed in ("conftest.py", "constraints.txt", "mkdocs.yml", "README.md"):
        assert needed in manifest, needed
    for tree in ("tests", "docs", "examples", "benchmarks"):
        assert f"graft {tree}" in " ".join(manifest), tree
