"""Free disk space where evidence is written, checked before each run.

A run that starts on a nearly full disk can capture everything and then fail to store
it, or leave the database unable to record even the failure. Refusing the run while
there is still room to say why keeps every earlier record intact and tells IT in time.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from agent.errors import StorageError


@dataclass(frozen=True)
class Space:
    """Free bytes on the file system that holds ``path``."""

    path: Path
    free: int


def free_space(paths: Iterable[Path]) -> list[Space]:
    """The free space under each path (the nearest existing parent of one not yet created)."""
    spaces = []
    for path in dict.fromkeys(paths):
        existing = next((p for p in (path, *path.parents) if p.exists()), path)
        try:
            spaces.append(Space(path, shutil.disk_usage(existing).free))
        except OSError as exc:
            raise StorageError(f"cannot read the free space under {path}: {exc.strerror}") from exc
    return spaces


def shortage(spaces: Iterable[Space], minimum: int) -> Space | None:
    """The fullest of the places below ``minimum`` free, or None; pure."""
    short = [s for s in spaces if s.free < minimum]
    return min(short, key=lambda s: s.free) if short else None
