"""How well the real models recover a world's known anomalies (its master_narratives).

`mrs evaluate` builds worlds of several seeds and scores each: the demo seed alone says
little about data the models have never seen, so the same scores on other seeds are the
honest measure. Scores are read from a built database; nothing here changes it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mrs.dev.cluster_ceiling import measure_ceiling
from mrs.dev.narrative_match import REPORT_NARRATIVES
from mrs.dev.world import WorldOptions, build_vars, write_world
from mrs.pipeline.database_lock import open_database
from mrs.pipeline.project import WITHOUT_TESTS, MrsError, Project
from mrs.review.journal import ensure_journal

_SERIES = f"""
select narrative_id, store_id, sku,
       count(report_id) as reports,
       abs(datediff('hour', start_ts, min(window_start))) as start_error_hours,
       case when bool_or(is_open) then null
            else abs(datediff('hour', end_ts, max(window_end))) end as end_error_hours
from ({REPORT_NARRATIVES})
group by narrative_id, store_id, sku, start_ts, end_ts
"""
_FALSE_REPORTS = """
select count(distinct report_id) from minority_reports_detected_log as r
where not exists (select 1 from stg_master_narratives as n
                  where n.store_id = r.store_id and n.sku = r.sku)
"""
# Each report's current cluster against the narrative it overlaps.
_CLUSTERS = f"""
select count(*), count(*) filter (where latest.cluster_name = story.cluster_name)
from (select distinct report_id, cluster_name from ({REPORT_NARRATIVES})
      where report_id is not null) as story
inner join minority_reports_clustered_log_current as latest on story.report_id = latest.report_id
"""
# Each report's event-level cluster (its event's reports pooled, minority_reports) against
# the narrative it overlaps; a report whose event has no match is not named right.
_EVENT_CLUSTERS = f"""
select count(*)
from (select distinct report_id, cluster_name from ({REPORT_NARRATIVES})
      where report_id is not null) as story
inner join minority_reports as r on story.report_id = r.report_id
where r.event_cluster_name = story.cluster_name
"""


@dataclass(frozen=True)
class WorldScores:
    """Detection and clustering scores of one built world."""

    seed: int | None
    narrative_series: int
    series_detected: int
    starts_within_2h: int
    ends_within_3h: int
    false_reports: int
    reports_with_narrative: int
    cluster_matches: int
    # Reports whose event's pooled shape (minority_reports.event_cluster_name) names right.
    event_cluster_matches: int
    # With --ceiling (mrs.dev.cluster_ceiling): reports the true-template fit and the shipped
    # match on noise-free curves name right, out of ceiling_reports.
    ceiling_reports: int | None = None
    template_fit_matches: int | None = None
    noise_free_matches: int | None = None

    @property
    def cluster_share(self) -> float:
        if not self.reports_with_narrative:
            return 0.0
        return self.cluster_matches / self.reports_with_narrative


def score_database(database: Path, seed: int | None = None, ceiling: bool = False) -> WorldScores:
    """Score a built database against its own master_narratives."""
    if not database.exists():
        raise MrsError(f"{database} does not exist; build it first (`mrs build`)")
    with open_database(database) as con:
        series = con.execute(_SERIES).fetchall()
        false_reports = con.execute(_FALSE_REPORTS).fetchone()[0]
        reports, matches = con.execute(_CLUSTERS).fetchone()
        event_matches = con.execute(_EVENT_CLUSTERS).fetchone()[0]
    measured = measure_ceiling(database) if ceiling else None
    return WorldScores(
        seed=seed,
        narrative_series=len(series),
        series_detected=sum(1 for row in series if row[3] > 0),
        starts_within_2h=sum(1 for row in series if row[4] is not None and row[4] <= 2),
        ends_within_3h=sum(1 for row in series if row[5] is not None and row[5] <= 3),
        false_reports=false_reports,
        reports_with_narrative=reports,
        cluster_matches=matches,
        event_cluster_matches=event_matches,
        ceiling_reports=measured.reports if measured else None,
        template_fit_matches=measured.template_fit if measured else None,
        noise_free_matches=measured.noise_free if measured else None,
    )


def evaluate_seeds(
    seeds: Sequence[int],
    say: Callable[[str], None],
    work_dir: Path | None = None,
    ceiling: bool = False,
) -> list[WorldScores]:
    """Generate, build and score the demo-sized world of each seed."""
    scores = []
    with tempfile.TemporaryDirectory(prefix="mrs-evaluate-", dir=work_dir) as folder:
        for seed in seeds:
            world = Path(folder) / f"seed-{seed}"
            say(f"seed {seed}: generating the world")
            options = WorldOptions(seed=seed)
            write_world(options, world / "inputs")
            database = world / "mrs.duckdb"
            say(f"seed {seed}: building")
            build_world(database, build_vars(options, world / "inputs"), f"seed {seed}")
            scores.append(score_database(database, seed, ceiling))
    return scores


def build_world(database: Path, dbt_vars: dict[str, object], name: str) -> None:
    """Build the models (no tests) of the world `dbt_vars` name into `database`, in this
    process, as `mrs build` runs dbt: worlds built one after the other need no second Python
    to start and import dbt for each."""
    project = Project.locate(database)
    ensure_journal(project.database)
    if project.dbt_in_process(["build", "--quiet", *WITHOUT_TESTS], dbt_vars) != 0:
        raise MrsError(f"the build of {name} failed; see the dbt output above")


def format_scores(scores: Sequence[WorldScores]) -> list[str]:
    """A table of the scores, one line per world and a total when there are several."""
    with_ceiling = all(s.ceiling_reports is not None for s in scores)
    lines = [
        "seed   series detected  starts<=2h  ends<=3h  false reports  cluster match  event match"
        + ("  template fit  noise-free" if with_ceiling else "")
    ]
    rows = [(str(s.seed) if s.seed is not None else "-", s) for s in scores]
    if len(scores) > 1:
        rows.append(("all", _total(scores)))
    for label, s in rows:
        line = (
            f"{label:>4}   "
            f"{s.series_detected:>3}/{s.narrative_series:<3}          {s.starts_within_2h:>3}"
            f"        {s.ends_within_3h:>3}          {s.false_reports:>3}        "
            f"{s.cluster_matches:>3}/{s.reports_with_narrative:<3} ({s.cluster_share:.0%})"
            f"  {s.event_cluster_matches:>5}/{s.reports_with_narrative:<3}"
        )
        if with_ceiling:
            line += (
                f"  {s.template_fit_matches:>5}/{s.ceiling_reports:<3}  "
                f"  {s.noise_free_matches:>4}/{s.ceiling_reports:<3}"
            )
        lines.append(line)
    return lines


def _total(scores: Sequence[WorldScores]) -> WorldScores:
    """Every count summed over the worlds (a ceiling count only if every world has it)."""

    def total(field: str) -> int | None:
        values = [getattr(s, field) for s in scores]
        return None if any(v is None for v in values) else sum(values)

    fields = [field for field in WorldScores.__dataclass_fields__ if field != "seed"]
    return WorldScores(seed=None, **{field: total(field) for field in fields})
