"""mkdocs hooks: the command line reference, generated from the ``lrfun`` parser itself.

A page holding the line ``<!-- lrfun-cli-help -->`` gets, in its place, the ``--help`` of
``lrfun`` and of each of its commands, as argparse prints them (at a fixed width), so the
reference never drifts from the parser.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any

MARKER = "<!-- lrfun-cli-help -->"
WIDTH = 100


def _parser() -> argparse.ArgumentParser:
    """The ``lrfun`` command's parser, from the function of lrfun.cli that builds it."""
    from lrfun import cli

    for name in ("parser", "build_parser", "make_parser", "_parser"):
        build = getattr(cli, name, None)
        if callable(build):
            parser = build()
            if isinstance(parser, argparse.ArgumentParser):
                return parser
    raise RuntimeError("lrfun.cli has no function returning its argument parser")


def _commands(
    parser: argparse.ArgumentParser,
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """(the command line, its parser) for the parser and every subcommand, depth first."""
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _commands(sub)


def help_markdown() -> str:
    """The ``--help`` of ``lrfun`` and of each command, as Markdown sections."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)
    try:
        sections = []
        for prog, parser in _commands(_parser()):
            sections.append(f"## `{prog}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
        return "\n".join(sections)
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, help_markdown())
    return markdown
