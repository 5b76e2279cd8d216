"""report_cohorts: the event (cohort) of every report at every tick (DESIGN.md section 1).

Thin wrapper: the grouping is mrs.models.cohorting (connected components of windows that
overlap or are at most var cohort_join_gap_hours apart, among reports sharing a cause, or a
cluster when the cause is unknown), unit-tested on its own.
"""

import pandas as pd

from mrs.models.cohorting import assign_cohorts


def model(dbt, session):
    dbt.config(materialized="table")
    join_gap = pd.Timedelta(hours=float(dbt.config.get("join_gap_hours")))
    return assign_cohorts(dbt.ref("report_cohort_states").df(), join_gap=join_gap)
