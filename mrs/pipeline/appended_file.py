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
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
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
        left = read_bytes
        last = b""
        while left:
            chunk = handle.read(min(CHUNK_BYTES, left))
            if not chunk:
                return None
            digest.update(chunk)
            last = chunk[-1:]
            left -= len(chunk)
        # Bytes that end a line hold the whole header (its first line) too.
        if digest.hexdigest() != read_sha1 or last != b"\n":
            return None
        lines = handle.read()
    digest.update(lines)
    return AppendedLines(header=header, lines=lines, file_sha1=digest.hexdigest())
