"""publication: the public models copied where BI tools never meet a build's lock.

Thin wrapper over mrs.pipeline.publication.publish: after every build, each public model goes
to `<database>_published.duckdb` (protection_adjusted_sales from the first day that changed,
found by the day digests protection_adjusted_hours keeps, the others whole) and
`<database>_published/builds/<NNNNNN>/<model>.parquet` (protection_adjusted_sales as one
file per UTC day in `protection_adjusted_sales/`, written again from the first changed day;
the others whole), files that never change once in place, also linked under names that stay
(`<database>_published/<model>.parquet`); each written under a `.next` name and renamed over
the previous copy, so a reader during a build gets the previous build's state. It runs after
the public models and their tests: a model that fails a test is not published, and readers
keep the last state that passed.

The DuckDB file's schema `review_index` holds what the review app and `mrs review` read
besides the public models, reduced to what they check an edit against.
"""

from mrs.pipeline.publication import publish


def model(dbt, session):
    dbt.config(materialized="table")
    # Literal refs: dbt reads a Python model's lineage from them.
    tables = {
        "minority_reports": dbt.ref("minority_reports"),
        "minority_events": dbt.ref("minority_events"),
        "report_sales_series": dbt.ref("report_sales_series"),
        "evidence_catalogue": dbt.ref("evidence_catalogue"),
        "review_metrics_by_store": dbt.ref("review_metrics_by_store"),
        "protection_event_feed": dbt.ref("protection_event_feed"),
        "protection_adjusted_sales": dbt.ref("protection_adjusted_sales"),
        "user_edits_log": dbt.ref("user_edits_log"),
        "user_minority_events_edits_log": dbt.ref("user_minority_events_edits_log"),
    }
    run_settings = dbt.ref("run_settings")
    review_index = {
        "run_settings": run_settings.project("run_id, as_of"),
        # Which reports and events the run has logged, and its newest tick.
        "minority_reports_detected_log": dbt.ref("minority_reports_detected_log").aggregate(
            "report_id, run_id, max(written_at) as written_at", "report_id, run_id"
        ),
        "minority_event_log": dbt.ref("minority_event_log")
        .project("report_group_id, run_id")
        .distinct(),
        # Current decision per report: whether an edit would change a finalised one.
        "minority_reports_finalised_log_current": dbt.ref(
            "minority_reports_finalised_log_current"
        ).project("report_id, report_group_id, final_decision, version, run_id"),
        "stg_cause_taxonomy": dbt.ref("stg_cause_taxonomy").project("cause_category"),
        "stg_stores": dbt.ref("stg_stores"),
        "stg_cluster_library": dbt.ref("stg_cluster_library"),
        # The journal files the build rejected, by name: with the edit logs' source_file,
        # every file it read, so the edits recorded since show as pending.
        "user_edits_errors": dbt.ref("user_edits_errors").project("source_file").distinct(),
        "user_minority_events_edits_errors": dbt.ref("user_minority_events_edits_errors")
        .project("source_file")
        .distinct(),
    }
    settings = run_settings.df().iloc[0]
    return publish(
        session,
        tables,
        settings["run_id"],
        settings["as_of"],
        review_index,
        # The largest public table, which grows with the history: written again from the
        # first day that changed only, found by the day digests its model keeps.
        kept_by_day={"protection_adjusted_sales": "sales_ts"},
        day_digests={
            "protection_adjusted_sales": dbt.ref("protection_adjusted_hours").aggregate(
                "sales_day, count(*) as day_rows, any_value(day_digest) as day_digest",
                "sales_day",
            )
        },
    )
