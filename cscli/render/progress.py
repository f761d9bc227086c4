"""What stderr shows while a command works: a spinner, or a progress bar when the library
reports how far it is. Only on a terminal; in a pipe or a log, nothing.

The spinner keeps moving while polars computes, because polars releases the GIL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def spinner(err: Console, what: str) -> AbstractContextManager[Any]:
    """A spinner with `what` beside it, for as long as the block runs."""
    return err.status(what) if err.is_terminal else nullcontext()


@contextmanager
def progress_bar(err: Console, what: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar, gone when done; yields the `progress(done, total)` callback to hand the
    library (a no-op off a terminal, and until there is a total)."""
    if not err.is_terminal:
        yield _no_progress
        return
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task: list[Any] = []

        def tick(done: int, total: int) -> None:
            if total == 0:
                return
            if not task:
                task.append(bar.add_task(what, total=total))
            bar.update(task[0], completed=done)

        yield tick


def _no_progress(done: int, total: int) -> None:
    """No bar to move."""
