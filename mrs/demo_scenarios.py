"""The demo's three review scenarios, run through the real `mrs review` command line.

- MRS-001 (competitor stock-out): every report approved by a marketer.
- MRS-002 (viral spike): the event gets an evidence link, then is approved as a whole.
- MRS-003 (heatwave): review requested on the event, then a data scientist edits the cause
  and approves it.
The reports and events are found through master_narratives, which only the demo world has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from mrs.review import read_only

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


def run_review_scenarios(
    database: Path, review: Callable[[Sequence[str]], int]
) -> list[tuple[str, int]]:
    """Run the three scenarios; `review` runs one `mrs ...` command line and returns
    its exit code. Returns each command with its exit code."""
    with read_only(database, wait_seconds=60) as con:
        found = {
            narrative: con.execute(FIND_REPORTS, [narrative]).fetchall()
            for narrative in ("MRS-001", "MRS-002", "MRS-003")
        }
    marketer = ["--actor", "demo.marketer", "--role", "marketer"]
    scientist = ["--actor", "demo.scientist", "--role", "data_scientist"]
    database_option = ["--database", str(database)]
    commands: list[list[str]] = []
    for report_id, _ in found["MRS-001"]:
        commands.append(["approve", report_id, *marketer])
    for event_id in sorted({event for _, event in found["MRS-002"] if event}):
        commands.append(["add-evidence", event_id, "--evidence", EVIDENCE_LINK, *marketer])
        commands.append(["approve", event_id, *marketer])
    for event_id in sorted({event for _, event in found["MRS-003"] if event}):
        commands.append(["request-review", event_id, *marketer, "--notes", "Cause looks thin"])
        commands.append(
            ["edit", event_id, "--cause", EDITED_CAUSE, "--category", "weather", *scientist]
        )
        commands.append(["approve", event_id, *scientist])
    return [
        (" ".join(command), review(["review", *command, *database_option])) for command in commands
    ]
