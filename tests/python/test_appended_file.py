"""A text file that is the one read before with lines appended (mrs.pipeline.appended_file):
input_files tries only those lines of a growing CSV feed (issue 18)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mrs.pipeline.appended_file import appended_lines, file_sha1

HEAD = b"sales_ts,store_id\n2025-07-01 00:00:00,ST-001\n"


def _read_before(path: Path, content: bytes) -> tuple[int, str]:
    path.write_bytes(content)
    return len(content), file_sha1(path)


def test_the_appended_lines_come_with_the_header_and_the_whole_files_digest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sales.csv"
    read_bytes, read_sha1 = _read_before(path, HEAD)
    assert read_sha1 == hashlib.sha1(HEAD).hexdigest()
    new = b"2025-07-01 01:00:00,ST-001\n2025-07-01 02:00:00,ST-002\n"
    path.write_bytes(HEAD + new)
    lines = appended_lines(path, read_bytes, read_sha1)
    assert lines is not None
    assert lines.header == b"sales_ts,store_id\n"
    assert lines.lines == new
    assert lines.file_sha1 == file_sha1(path)


def test_a_file_that_is_not_the_one_read_with_lines_appended_has_none(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    read_bytes, read_sha1 = _read_before(path, HEAD)
    more = b"2025-07-01 01:00:00,ST-001\n"
    # Nothing appended, or the file cut short.
    assert appended_lines(path, read_bytes, read_sha1) is None
    path.write_bytes(HEAD[:-5])
    assert appended_lines(path, read_bytes, read_sha1) is None
    # A byte of what was read changed, the length kept.
    path.write_bytes(HEAD.replace(b"ST-001", b"ST-009") + more)
    assert appended_lines(path, read_bytes, read_sha1) is None
    # What was read did not end a line: the first appended byte continues its last row.
    unfinished = HEAD.rstrip(b"\n")
    read_bytes, read_sha1 = _read_before(path, unfinished)
    path.write_bytes(unfinished + b"5\n" + more)
    assert appended_lines(path, read_bytes, read_sha1) is None
