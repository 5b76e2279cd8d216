"""The demo's three review scenarios, recorded through the write path of `mrs review`.

- MRS-001 (competitor stock-out): every report approved by a marketer.
- MRS-002 (viral spike): the event gets an evidence link, then is approved as a whole.
- MRS-003 (heatwave): review requested on the event, then a data scientist edits the cause
  and approves it.
The reports and events are found through master_narratives, which only the demo world has.
"""

from __future__ import annotations

from pathlib import Path

from mrs.cli.review import record_edit
from mrs.pipeline.project import MrsError
from mrs.review.context import read_only

MARKETER = "demo.marketer"
SCIENTIST = "demo.scientist"
# The demo's reviewers registry: its two scripted reviewers (and, added by `mrs demo`, the
# user who runs it, as admin).
DEMO_REVIEWERS = {MARKETER: "marketer", SCIENTIST: "data_scientist"}

EVIDENCE_LINK = "https://www.tiktok.com/tag/fruitgummies"
EDITED_CAUSE = "Bristol heatwave and the start of the school holidays"

FIND_REPORTS = """
select distinct r.report_id, r.report_group_id
from minority_reports as r
inner join stg_master_narratives as n
    on n.store_id = r.store_id and n.sku = r.sku
    and r.window_start < n.end_ts and coalesce(r.window_end, r.window_start) >= n.start_ts
where n.narrative_id = ?
order by r.report_id
"""


def run_review_scenarios(database: Path) -> list[tuple[str, str | None]]:
    """Record the three scenarios' edits as the demo's reviewers (DEMO_REVIEWERS, written to
    the demo's reviewers registry) through `record_edit`, the write path of `mrs review`.
    Returns each edit in words with None, or with the error that refused it."""
    with read_only(database, wait_seconds=60) as con:
        found = {
            narrative: con.execute(FIND_REPORTS, [narrative]).fetchall()
            for narrative in ("MRS-001", "MRS-002", "MRS-003")
        }
    marketer = {"actor": MARKETER, "role": "marketer"}
    scientist = {"actor": SCIENTIST, "role": "data_scientist"}
    edits: list[tuple[str, str, dict[str, str]]] = []
    for report_id, _ in found["MRS-001"]:
        edits.append(("approve", report_id, marketer))
    for event_id in sorted({event for _, event in found["MRS-002"] if event}):
        edits.append(("add_evidence", event_id, {**marketer, "evidence": EVIDENCE_LINK}))
        edits.append(("approve", event_id, marketer))
    for event_id in sorted({event for _, event in found["MRS-003"] if event}):
        edits.append(("request_review", event_id, {**marketer, "notes": "Cause looks thin"}))
        edits.append(
            ("edit", event_id, {**scientist, "cause": EDITED_CAUSE, "category": "weather"})
        )
        edits.append(("approve", event_id, scientist))
    results: list[tuple[str, str | None]] = []
    for action, target, fields in edits:
        described = f"{action} {target} by {fields['actor']}"
        try:
            record_edit(database, action, target, wait_seconds=60, **fields)
        except MrsError as error:
            results.append((described, str(error)))
        else:
            results.append((described, None))
    return results
