"""Each visible ```python block of the README and of the examples page runs on its own.

The documents' own test (conftest.py) runs their blocks in order in one namespace, with
hidden blocks giving context; a reader copies one block. Here every visible block runs alone,
in a fresh namespace and a fresh temporary directory: none may lean on an earlier block.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

_ROOT = Path(__file__).parent.parent
_STANDALONE = [_ROOT / "README.md", _ROOT / "docs" / "examples.md"]
# A fenced block at the start of a line, not inside an HTML comment (the hidden blocks).
_FENCE = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def visible_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of every visible ```python block."""
    shown = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return [
        (shown.count("\n", 0, m.start()) + 1, m.group(1)) for m in _FENCE.finditer(shown)
    ]


def test_visible_blocks_are_found() -> None:
    text = (
        "```python\na = 1\n```\n"
        "<!-- invisible-code-block: python\nb = 2\n-->\n"
        "```python\nc\n```\n"
    )
    assert visible_blocks(text) == [(1, "a = 1\n"), (7, "c\n")]


_CASES = [
    pytest.param(path, line, code, id=f"{path.name}:{line}")
    for path in _STANDALONE
    for line, code in visible_blocks(path.read_text(encoding="utf-8"))
]


@pytest.mark.parametrize(("path", "line", "code"), _CASES)
def test_block_runs_alone(
    path: Path, line: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(code, f"{path.name}:{line}", "exec"), namespace)
