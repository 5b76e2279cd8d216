"""Append-only folders of files (the edit journal, the model registry journal).

Each file is written whole to a private temporary file, synced, then hard-linked to its
final name. A link never replaces an existing file, so writers that pick the same name at
the same moment cannot overwrite each other: the one that loses takes the next sequence
number. Readers see only complete files (temporary names are hidden and end in .tmp).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def append_file(folder: Path, text: str, first_sequence: int, name: Callable[[int], str]) -> Path:
    """Write `text` to the first free `name(sequence)` from `first_sequence` on; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(prefix=".pending-", suffix=".tmp", dir=folder)
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        sequence = first_sequence
        while True:
            target = folder / name(sequence)
            try:
                os.link(temporary, target)
            except FileExistsError:
                sequence += 1
                continue
            break
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_folder(folder)
    return target


def _fsync_folder(folder: Path) -> None:
    """Make the link itself durable where the platform allows it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
