"""pytest runs every example of README.md and docs/**/*.md.

Each ```python block runs (Sybil), in order, in one namespace per document; a hidden
``<!-- invisible-code-block: python -->`` block gives an example the context a reader
assumes. Each ```console block runs its ``$ lrfun ...`` lines through ``lrfun.cli.main``;
the lines after a command are its expected output (``...`` stands for any lines), and a
command whose output shows ``lrfun: error:`` must fail, any other must succeed.

A document is one test, not one test per block: its blocks build on each other, and
pytest-xdist would otherwise hand the blocks of one document to different workers. It runs
in a fresh temporary directory, so the files its examples write go nowhere else.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sybil import Example, Sybil
from sybil.parsers.markdown import (
    ClearNamespaceParser,
    CodeBlockParser,
    PythonCodeBlockParser,
    SkipParser,
)

_ROOT = Path(__file__).parent
# The site's build extensions and hooks: they need griffe and mkdocs, docs dependencies.
collect_ignore_glob = ["docs/*.py"]
_DOCUMENTS = [_ROOT / "README.md", _ROOT / "docs"]
_ELLIPSIS = "..."


def _console(example: Example) -> None:
    """Runs the ``$ lrfun`` commands of a console block and checks what they print."""
    from lrfun.cli import main

    for command, expected in _commands(example.parsed):
        argv = shlex.split(command)
        if argv[0] != "lrfun":
            raise ValueError(f"a console block runs lrfun commands only, got {command!r}")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv[1:])
        printed = (out.getvalue() + err.getvalue()).splitlines()
        refused = any(line.startswith("lrfun: error:") for line in expected)
        if (status != 0) != refused:
            raise AssertionError(
                f"$ {command}\nexit status {status}, printed:\n" + "\n".join(printed)
            )
        if expected and not _matches([line.rstrip() for line in printed], expected):
            raise AssertionError(
                f"$ {command}\nexpected:\n" + "\n".join(expected) + "\ngot:\n" + "\n".join(printed)
            )


def _commands(text: str) -> Iterator[tuple[str, list[str]]]:
    """(command, expected output lines) per ``$`` line; a trailing backslash continues it."""
    command: str | None = None
    expected: list[str] = []
    lines = iter(text.splitlines())
    for line in lines:
        if line.startswith("$ "):
            if command is not None:
                yield command, expected
            command, expected = line[2:], []
            while command.endswith("\\"):
                command = command[:-1] + next(lines).strip()
        elif command is not None:
            expected.append(line.rstrip())
    if command is not None:
        while expected and not expected[-1]:
            expected.pop()
        yield command, expected


def _matches(printed: list[str], expected: list[str]) -> bool:
    """Whether the lines match, a line ``...`` in ``expected`` standing for any lines."""
    pattern = "".join(
        "(?:.*\n)*?" if line == _ELLIPSIS else re.escape(line) + "\n" for line in expected
    )
    return re.fullmatch(pattern, "".join(line + "\n" for line in printed)) is not None


_SYBIL = Sybil(
    parsers=[
        PythonCodeBlockParser(),
        CodeBlockParser(language="console", evaluator=_console),
        SkipParser(),
        ClearNamespaceParser(),
    ],
    patterns=["*.md"],
)


class _ExampleError(Exception):
    """An example failed: where it is, and what it raised."""


def _where(path: Path, line: int, error: Exception) -> str:
    """The failure as the reader sees it: the document's line, then the frames from the
    example's own code on (not the runner's)."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != str(path):
        tb = tb.tb_next
    shown = traceback.format_exception(type(error), error, tb or error.__traceback__)
    return f"{path.name}, line {line}:\n" + "".join(shown)


class _DocumentItem(pytest.Item):
    """Every example of one document, run in order in a temporary directory."""

    def runtest(self) -> None:
        document = _SYBIL.parse(self.path)
        here = os.getcwd()
        with tempfile.TemporaryDirectory() as scratch:
            os.chdir(scratch)
            try:
                for example in document.examples():
                    try:
                        example.evaluate()
                    except Exception as e:
                        raise _ExampleError(_where(self.path, example.line, e)) from None
            finally:
                os.chdir(here)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, _ExampleError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"examples of {self.path.name}"


class _Document(pytest.File):
    def collect(self) -> Iterator[_DocumentItem]:
        # A page without examples (an API reference page) is no test.
        if any(True for _ in _SYBIL.parse(self.path).examples()):
            yield _DocumentItem.from_parent(self, name="examples")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> _Document | None:
    if file_path.suffix == ".md" and any(
        file_path == place or place in file_path.parents for place in _DOCUMENTS
    ):
        return _Document.from_parent(parent, path=file_path)
    return None
