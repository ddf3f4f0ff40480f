"""Progress of long work on a terminal: one helper for ``lrfun`` and ``python -m parity``.

rich's transient progress bar, on stderr (stdout holds the output alone), and only where
stderr is a terminal: in a pipe, a file or a test's capture nothing is written, so the
output of a script never changes. Where rich is not installed, plain lines (the parity
report, which runs for minutes) or nothing (``lrfun``).

A live reference steps torch one Python call at a time, several calls below the command that
asked for it: ``reporting_steps`` lets the command hear of those steps without widening
every signature in between.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["STEP_BLOCK", "progress", "reporting_steps", "step_reporter"]

# Steps a live reference takes between two reports: a report costs a call, a step about
# 50 microseconds, so the bar moves every few hundredths of a second at no measurable cost.
STEP_BLOCK = 1024

_STEPS: contextvars.ContextVar[Callable[[int], None] | None] = contextvars.ContextVar(
    "lrfun_steps", default=None
)


@contextlib.contextmanager
def reporting_steps(callback: Callable[[int], None]) -> Iterator[None]:
    """Within the block, every live reference run calls ``callback(n)`` after each ``n``
    steps it takes (blocks of ``STEP_BLOCK``, then the rest).

    >>> seen = []
    >>> with reporting_steps(seen.append):
    ...     step_reporter()(3)
    >>> seen, step_reporter()
    ([3], None)
    """
    token = _STEPS.set(callback)
    try:
        yield
    finally:
        _STEPS.reset(token)


def step_reporter() -> Callable[[int], None] | None:
    """The callback of the enclosing ``reporting_steps``, or None."""
    return _STEPS.get()


def progress(*, delay: float = 0.0, plain: bool = False) -> Any:
    """A progress display for ``with``: ``add_task(description, total=n)`` gives a task,
    ``update(task, advance=k, description=...)`` moves it (rich's ``Progress`` calls).

    Args:
      delay: seconds of work before the bar appears: work that ends sooner shows nothing.
      plain: where rich is not installed, a line on stderr per update (else nothing).

    Returns:
      rich's transient ``Progress`` on stderr (disabled unless stderr is a terminal), or a
      stand-in with the same calls.

    >>> with progress() as bar:  # in a doctest stderr is no terminal: nothing is shown
    ...     task = bar.add_task("work", total=2)
    ...     bar.update(task, advance=2, description="done")
    """
    try:
        from rich.progress import Progress
    except ImportError:
        return _Plain() if plain else _Silent()
    console = _console()
    bar = Progress(transient=True, console=console, disable=not console.is_terminal)
    return _Delayed(bar, delay) if delay > 0 else bar


def _console() -> Any:
    """The console the bar draws on: stderr (a test replaces it with a forced terminal)."""
    from rich.console import Console

    return Console(stderr=True)


class _Delayed:
    """rich's ``Progress``, started only once the work has run for ``delay`` seconds."""

    def __init__(self, bar: Any, delay: float) -> None:
        self.bar, self.delay = bar, delay
        self.started = False
        self.since = time.monotonic()

    def __enter__(self) -> _Delayed:
        self.since = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            self.bar.stop()

    def add_task(self, description: str, total: float | None = None) -> Any:
        return self.bar.add_task(description, total=total)

    def update(self, task: Any, **changes: Any) -> None:
        self.bar.update(task, **changes)
        if not self.started and time.monotonic() - self.since >= self.delay:
            self.started = True
            self.bar.start()


class _Silent:
    """No display: the same calls, doing nothing."""

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, description: str, total: float | None = None) -> int:
        return 0

    def update(self, task: int, **changes: Any) -> None:
        return None


class _Plain(_Silent):
    """rich's Progress, as far as its callers use it: a line on stderr per update."""

    def __init__(self) -> None:
        self.done: dict[int, int] = {}
        self.totals: dict[int, int | None] = {}

    def __enter__(self) -> _Plain:
        return self

    def add_task(self, description: str, total: float | None = None) -> int:
        task = len(self.totals)
        self.totals[task] = None if total is None else int(total)
        self.done[task] = 0
        return task

    def update(self, task: int, **changes: Any) -> None:
        self.done[task] += int(changes.get("advance", 0))
        total = self.totals[task]
        done = self.done[task]
        count = str(done) if total is None else f"{done:>{len(str(total))}}/{total}"
        description = changes.get("description", "")
        print(f"[{count}] {description}".rstrip(), file=sys.stderr, flush=True)
