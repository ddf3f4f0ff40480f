"""A griffe extension for the API reference: docstring doctests rendered as code.

lrfun's docstrings end in bare ``>>>`` examples (run by ``pytest --doctest-modules``); Markdown
would run their lines together into a paragraph and read ``[a]\\n[b]`` as a link reference.
Each run of doctest lines (from ``>>>`` to the next blank line) outside a fenced block is
fenced as ``pycon`` before the docstring is parsed.
"""

from __future__ import annotations

from typing import Any

import griffe

_FENCE = "```"


def fence_doctests(text: str) -> str:
    """The docstring with every bare doctest run wrapped in a ``pycon`` fence.

    Args:
      text: the docstring.

    Returns:
      The docstring, other lines unchanged.
    """
    out: list[str] = []
    fenced = False  # inside a fence the docstring wrote itself
    doctest: str | None = None  # the indentation of the open doctest fence
    for line in text.splitlines():
        stripped = line.lstrip()
        if doctest is not None and not stripped:
            out.append(doctest + _FENCE)
            doctest = None
        if stripped.startswith(_FENCE):
            fenced = not fenced
        elif not fenced and doctest is None and stripped.startswith(">>>"):
            doctest = line[: len(line) - len(stripped)]
            out.append(doctest + _FENCE + "pycon")
        out.append(line)
    if doctest is not None:
        out.append(doctest + _FENCE)
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fences the doctests of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
