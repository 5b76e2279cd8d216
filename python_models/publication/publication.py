"""publication: the public models copied where BI tools never meet a build's lock.

Thin wrapper over mrs.publication.publish: after every build, each public model goes whole
to `<database>_published.duckdb` and `<database>_published/<model>.parquet`, written under
a `.next` name and renamed over the previous copy, so a reader during a build gets the
previous build's state. It runs after the public models and their tests: a model that
fails a test is not published, and readers keep the last state that passed.
"""

from mrs.publication import publish


def model(dbt, session):
    dbt.config(materialized="table")
    # Literal refs: dbt reads a Python model's lineage from them.
    tables = {
        "minority_reports": dbt.ref("minority_reports"),
        "minority_events": dbt.ref("minority_events"),
        "report_sales_series": dbt.ref("report_sales_series"),
        "evidence_catalogue": dbt.ref("evidence_catalogue"),
        "protection_event_feed": dbt.ref("protection_event_feed"),
        "protection_adjusted_sales": dbt.ref("protection_adjusted_sales"),
        "user_edits_log": dbt.ref("user_edits_log"),
        "user_minority_events_edits_log": dbt.ref("user_minority_events_edits_log"),
    }
    settings = dbt.ref("run_settings").df().iloc[0]
    return publish(session, tables, settings["run_id"], settings["as_of"])
