"""report_cohorts: the event (cohort) of every report at every tick (DESIGN.md section 1).

Thin wrapper: the grouping is mrs.models.cohorting (connected components of time overlap among
reports sharing a cause, or a cluster when the cause is unknown), unit-tested on its own.
"""

from mrs.models.cohorting import assign_cohorts


def model(dbt, session):
    dbt.config(materialized="table")
    return assign_cohorts(dbt.ref("report_cohort_states").df())
