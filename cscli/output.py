"""Writing output files atomically: a temporary file in the same directory, then a rename.

A run killed half-way leaves either the previous file or none, never half a report. A failed
write removes its temporary file; one left by a run that was killed (`kill -9`, power loss) is
removed by the next run that writes the same file: our temporary names are
`.NAME.PID.XXXXXXXX.tmp`, and only those whose process no longer runs are touched.

Inside `atomic_batch()` the renames wait until every file of the batch is written, so several
`-o` files (or a CSV and its `.meta.json`) appear together or not at all.

Every failure to write (a missing or read-only folder, a full disk, a file-size limit, and the
same errors as reported by polars' Parquet/CSV writers or xlsxwriter) is an `OutputError`:
`cannot write PATH: reason`, exit 2.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from cscli.errors import OutputError

#: files written in the current `atomic_batch`: (temporary file, final path)
_batch: ContextVar[list[tuple[Path, Path]] | None] = ContextVar("cscli_batch", default=None)

_OS_ERROR_SUFFIX = re.compile(r"\s*\(os error \d+\).*$", re.DOTALL)
_HINTS = {
    errno.ENOSPC: "free some disk space, or write to another disk",
    errno.EDQUOT: "free some space within your quota, or write elsewhere",
    errno.EFBIG: "the file exceeds a size limit (ulimit -f or the file system's maximum)",
    errno.EROFS: "the file system is read-only: choose another folder",
    errno.EACCES: "choose a folder you can write to, or fix its permissions",
    errno.EPERM: "choose a folder you can write to, or fix its permissions",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "the path is a folder: give a file name",
}


def temporary_pattern(name: str) -> re.Pattern[str]:
    """Our own temporary files for the output `name` (the PID is group 1)."""
    return re.compile(rf"^\.{re.escape(name)}\.(\d+)\.[a-z0-9_]{{8}}\.tmp$")


def write_atomic(path: Path, data: str | bytes | Callable[[Path], None]) -> Path:
    """Write `data` (text, bytes, or a function that writes a given path) to `path`."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(
            f"cannot write {path}: it is a folder", hint="give a file name, e.g. report.html"
        )
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise OutputError(
            f"cannot write {path}: {blocking} is a file, not a folder",
            hint="choose another folder for the output",
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
        )
    except OSError as e:
        raise _output_error(path, e) from e
    tmp = Path(tmp_name)
    try:
        if callable(data):
            os.close(fd)
            data(tmp)
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        staged = _batch.get()
        if staged is not None:
            staged.append((tmp, path))  # renamed when the whole batch is written
        else:
            os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        reason = write_failure(e)
        if reason is not None:
            raise _output_error(path, e, reason) from e
        raise
    return path


@contextmanager
def atomic_batch() -> Iterator[None]:
    """Every `write_atomic` inside is renamed into place only when all of them succeeded; on
    any failure every temporary file is removed and the previous files stay as they were.
    A nested batch joins the outer one."""
    if _batch.get() is not None:
        yield
        return
    staged: list[tuple[Path, Path]] = []
    token = _batch.set(staged)
    try:
        yield
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        _batch.reset(token)
    for i, (tmp, path) in enumerate(staged):
        try:
            os.replace(tmp, path)
        except OSError as e:
            for left, _ in staged[i:]:
                left.unlink(missing_ok=True)
            raise _output_error(path, e) from e


def append_text(path: Path, text: str, *, name: str) -> None:
    """Append `text` to the file `path`, which the variable `name` pointed at (a summary file
    that other steps write too: appended, not replaced)."""
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        error = _output_error(path, e)
        raise OutputError(
            f"{name} ({path}): {error.message.removeprefix(f'cannot write {path}: ')}",
            hint=f"{name} must name a file that can be appended to; {error.hint}",
        ) from e


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove temporary files of `path` left by cscli runs that no longer exist."""
    pattern = temporary_pattern(path.name)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        if _running(int(match.group(1))):
            continue  # another run is writing this file right now
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass  # not ours to remove after all (permissions); it does no harm
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this run's own: staged in a batch (a failed write removes its own)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def write_failure(error: BaseException) -> str | None:
    """The reason, when `error` means the file could not be written (the OS said so,
    directly or through polars or xlsxwriter); None for anything else (a bug)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            return _os_reason(current)
        wrapped = current.args[0] if current.args else None
        if isinstance(wrapped, OSError):  # xlsxwriter's FileCreateError(OSError)
            return _os_reason(wrapped)
        name = type(current).__name__
        module = type(current).__module__
        if module.startswith("xlsxwriter") and name == "FileSizeError":
            return str(current)
        if module.startswith("polars") and "os error" in str(current):
            text = str(current)
            return _OS_ERROR_SUFFIX.sub("", text.rsplit("IO error: ", 1)[-1]).strip()
        current = current.__cause__ or current.__context__
    return None


def _os_reason(error: OSError) -> str:
    return error.strerror or _OS_ERROR_SUFFIX.sub("", str(error)) or type(error).__name__


def _output_error(path: Path, error: BaseException, reason: str | None = None) -> OutputError:
    reason = reason or write_failure(error) or str(error)
    code = error.errno if isinstance(error, OSError) else None
    if code is None:
        for number, _ in _HINTS.items():
            if os.strerror(number) == reason:
                code = number
    hint = _HINTS.get(code or 0, "check that the folder is writable and has free space")
    return OutputError(f"cannot write {path}: {reason}", hint=hint)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
