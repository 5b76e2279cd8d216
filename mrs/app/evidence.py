"""Evidence ids and links resolved through evidence_catalogue, as Markdown lines."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

TIME_FORMAT = "%Y-%m-%d %H:%M"


def as_list(value: object) -> list[str]:
    """A VARCHAR[] cell (list, array or missing) as a list of non-empty strings."""
    if value is None or isinstance(value, str | float):
        return [value] if isinstance(value, str) and value else []
    return [str(item) for item in value if item is not None and str(item)]  # type: ignore[attr-defined]


def _is_link(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _escape(text: str) -> str:
    for character in "\\[]*_`<>":
        text = text.replace(character, "\\" + character)
    return text


def _period(row: pd.Series) -> str:
    start, end = row.get("start_ts"), row.get("end_ts")
    if pd.isna(start):
        return ""
    text = pd.Timestamp(start).strftime(TIME_FORMAT)
    if not pd.isna(end):
        text += " to " + pd.Timestamp(end).strftime(TIME_FORMAT)
    return text


def evidence_lines(items: Iterable[str], catalogue: pd.DataFrame) -> list[str]:
    """One Markdown line per item: a catalogue id becomes its name, kind, category, period and
    link (where it has a url); a bare URL becomes a link; anything else is shown as given."""
    by_id = {str(row["evidence_id"]): row for _, row in catalogue.iterrows()}
    lines = []
    for item in items:
        row = by_id.get(item)
        if row is not None:
            facts = [f"`{row['cause_category']}`", str(row["evidence_kind"]), str(row["detail"])]
            period = _period(row)
            if period:
                facts.append(period)
            line = f"**{_escape(item)}** {_escape(str(row['evidence_name']))} ({', '.join(facts)})"
            url = row.get("url")
            if isinstance(url, str) and url:
                line += f" · [{_escape(url)}]({url})"
            lines.append(line)
        elif _is_link(item):
            lines.append(f"[{_escape(item)}]({item})")
        else:
            lines.append(f"**{_escape(item)}** (not in the evidence catalogue)")
    return lines
