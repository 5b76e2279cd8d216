"""The id macro's reference values are right: recompute them independently."""

from __future__ import annotations

import hashlib
import re

from conftest import PROJECT_ROOT

REFERENCE_TEST = PROJECT_ROOT / "tests" / "dbt" / "assert_mrs_id_matches_reference.sql"


def _reference_id(prefix: str, parts: list[str | None], length: int = 12) -> str:
    joined = "|".join("" if part is None else part for part in parts)
    return prefix + hashlib.md5(joined.encode()).hexdigest()[:length]


def test_reference_values_in_the_dbt_test_are_md5_of_the_parts() -> None:
    expected = {
        _reference_id("MR-", ["ST-001", "SKU-001", "2025-08-07 09:00:00"]),
        _reference_id("ME-", ["MR-abc", "2025-08-07 09:00:00"]),
        _reference_id("MR-", ["ST-001", None, "2025-08-07 09:00:00"]),
        _reference_id("", ["a", "b"], length=32),
    }
    in_file = set(re.findall(r"'([0-9a-zA-Z-]+)' as expected_id", REFERENCE_TEST.read_text()))
    assert in_file == expected


def test_no_sql_outside_the_macro_hashes_ids() -> None:
    offenders = []
    for folder in ("models", "python_models", "macros", "analyses"):
        for path in (PROJECT_ROOT / folder).rglob("*.sql"):
            if path.name == "mrs_id.sql":
                continue
            text = path.read_text().lower()
            if re.search(r"\bmd5\s*\(|dbt\.hash\s*\(|\bsha256\s*\(", text):
                offenders.append(str(path.relative_to(PROJECT_ROOT)))
    assert offenders == []
