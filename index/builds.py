"""The builds of an index directory: the ``CURRENT``/``PREVIOUS`` pointers, one build at a time,
cleaning up after killed builds, pruning, rollback, and the errors they raise.

Pointers are replaced atomically (``os.replace``), so a reader sees the old or the new build,
never a torn one; a build's folder is flushed before a pointer names it.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

__all__ = [
    "BUILDS",
    "IndexBuildError",
    "IndexMissingError",
    "IndexUnavailableError",
    "build_lock",
    "check_directory",
    "clean_leftovers_if_idle",
    "complete_builds",
    "first_line",
    "fsync_tree",
    "live_build",
    "live_build_id",
    "point",
    "pointer",
    "previous_build_id",
    "remove_old_builds",
    "rollback",
    "write_failure",
]

CURRENT = "CURRENT"
PREVIOUS = "PREVIOUS"
BUILDS = "builds"
_LOCK = ".build.lock"


class IndexUnavailableError(RuntimeError):
    """The index is missing or unreadable; the message says how to (re)build it."""


class IndexMissingError(IndexUnavailableError):
    """There is no index at all in the directory (nothing would be lost by building one)."""


class IndexBuildError(RuntimeError):
    """A build could not be written (full disk, not a directory, another build running); the live build is untouched."""


def pointer(index_dir: Path, name: str) -> str | None:
    """The build id a pointer file names, or None when there is no such pointer (or it is unreadable)."""
    try:
        build_id = (index_dir / name).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return build_id if build_id and "/" not in build_id and not build_id.startswith(".") else None


def live_build(index_dir: Path) -> Path | None:
    build_id = pointer(index_dir, CURRENT)
    if build_id is None:
        return None
    build = index_dir / BUILDS / build_id
    return build if build.is_dir() else None


def live_build_id(index_dir: Path) -> str | None:
    """The id of the live build (what ``CURRENT`` names), e.g. to notice that a rebuild happened."""
    return pointer(index_dir, CURRENT)


def complete_builds(index_dir: Path) -> list[Path]:
    builds = index_dir / BUILDS
    if not builds.is_dir():
        return []
    return sorted(b for b in builds.iterdir() if b.is_dir() and not b.name.startswith("."))


def check_directory(index_dir: Path) -> None:
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexBuildError(f"{index_dir} is a file, not an index directory; give --index-dir a folder")


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index directory; leftovers of killed builds are removed under the lock."""
    check_directory(index_dir)
    try:
        (index_dir / BUILDS).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise IndexBuildError(f"cannot create the index directory {index_dir}: {error.strerror or error}") from None
    lock = FileLock(index_dir / _LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IndexBuildError(f"another build is running in {index_dir}; wait for it to finish") from None
    try:
        clean_leftovers(index_dir)
        yield
    finally:
        lock.release()


def clean_leftovers(index_dir: Path) -> None:
    """Remove what a build killed with -9 left behind (it cannot clean up after itself); call under the lock."""
    for leftover in (index_dir / BUILDS).glob(".*.partial"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in index_dir.glob(f".{CURRENT}.*"):
        leftover.unlink(missing_ok=True)


def clean_leftovers_if_idle(index_dir: Path) -> None:
    """Clean leftovers when no build is running (an up-to-date index is otherwise never written)."""
    try:
        with build_lock(index_dir):
            pass
    except IndexBuildError:
        pass  # another build is running: it cleans up itself


def write_failure(index_dir: Path, error: BaseException) -> str:
    code = getattr(error, "errno", None)
    try:
        full = shutil.disk_usage(index_dir).free < 1 << 20
    except OSError:
        full = False
    if code in (errno.ENOSPC, errno.EDQUOT) or full:
        reason = "no space left on device"
    elif code == errno.EFBIG:
        reason = "file size limit reached"
    else:
        reason = getattr(error, "strerror", None) or first_line(error)
    return f"could not write the new build in {index_dir}: {reason}; the current index is untouched"


def fsync_tree(directory: Path) -> None:
    """Flush the build's files before the pointer names it, so a power cut never leaves a live half-build."""
    for path in directory.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


def point(index_dir: Path, name: str, build_id: str) -> None:
    """Replace a pointer file atomically: readers see the old or the new build id, never a torn one."""
    tmp = index_dir / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(build_id + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, index_dir / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_old_builds(index_dir: Path, *, keep: set[str] | None) -> None:
    """Prune after a successful switch, keeping the new build and the previous one (for rollback)."""
    if keep is None:
        return
    for build in complete_builds(index_dir):
        if build.name not in keep:
            shutil.rmtree(build, ignore_errors=True)


def rollback(index_dir: Path) -> tuple[str, str]:
    """Make the previous build live again (and the current one the previous); returns (from, to).

    Raises:
        IndexUnavailableError: there is no previous build to go back to, or it is damaged.
    """
    with build_lock(index_dir):
        current, previous = live_build_id(index_dir), pointer(index_dir, PREVIOUS)
        if previous is None or not (index_dir / BUILDS / previous).is_dir():
            raise IndexUnavailableError(f"no previous build to roll back to in {index_dir}")
        try:
            json.loads((index_dir / BUILDS / previous / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise IndexUnavailableError(f"the previous build {previous} is damaged ({error}); not rolling back") from None
        point(index_dir, CURRENT, previous)
        if current is not None and (index_dir / BUILDS / current).is_dir():
            point(index_dir, PREVIOUS, current)
        else:
            (index_dir / PREVIOUS).unlink(missing_ok=True)
    return current or "none", previous


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__



def previous_build_id(index_dir: Path) -> str | None:
    """The build ``rag index rollback`` would make live, if it still exists."""
    build_id = pointer(index_dir, PREVIOUS)
    return build_id if build_id is not None and (index_dir / BUILDS / build_id).is_dir() else None

