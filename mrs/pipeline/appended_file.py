"""Whether a text file is the one read before with lines appended (issue 18).

A sales feed delivered as one CSV file grows every hour. Trying the whole file again at every
build reads the history; a file that still starts with the bytes read last time, ending a
line, only needs its new lines tried. What was read is named by its length and SHA-1 (about
0.15 s for 200 MB, against about 0.85 s for DuckDB to read it as CSV).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 1 << 22


@dataclass(frozen=True)
class AppendedLines:
    """The lines after those read last time, with the file's first line (its CSV header), and
    the SHA-1 of the whole file as it is now (what the next build compares with)."""

    header: bytes
    lines: bytes
    file_sha1: str


def file_sha1(path: Path) -> str:
    """SHA-1 of the file's bytes."""
    digest = hashlib.sha1()
    with path.open("rb") as handle:
        _hash_into(digest, handle, None)
    return digest.hexdigest()


def appended_lines(path: Path, read_bytes: int, read_sha1: str) -> AppendedLines | None:
    """The lines appended to `path` since its first `read_bytes` bytes had SHA-1 `read_sha1`,
    or None when the file does not start with those bytes, they do not end a line, or
    nothing was appended."""
    if read_bytes <= 0 or path.stat().st_size <= read_bytes:
        return None
    digest = hashlib.sha1()
    with path.open("rb") as handle:
        header = handle.readline()
        handle.seek(0)
        hashed, last = _hash_into(digest, handle, read_bytes)
        # Bytes that end a line hold the whole header (its first line) too.
        if hashed < read_bytes or digest.hexdigest() != read_sha1 or last != b"\n":
            return None
        lines = handle.read()
    digest.update(lines)
    return AppendedLines(header=header, lines=lines, file_sha1=digest.hexdigest())


def _hash_into(digest: hashlib._Hash, handle: BinaryIO, limit: int | None) -> tuple[int, bytes]:
    """Add the handle's next `limit` bytes (all of them when None) to `digest`, a chunk at a
    time: how many were read, and the last of them."""
    hashed, last = 0, b""
    while limit is None or hashed < limit:
        size = CHUNK_BYTES if limit is None else min(CHUNK_BYTES, limit - hashed)
        chunk = handle.read(size)
        if not chunk:
            break
        digest.update(chunk)
        hashed += len(chunk)
        last = chunk[-1:]
    return hashed, last
