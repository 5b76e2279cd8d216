"""anomaly_classifier_model_mock: the windows of master_narratives, as a perfect detector
would decide them (DESIGN.md section 6). Built when model_routing.anomaly_classifier_model is
'mock'; the routing model anomaly_classifier_model reads it. Only the mock reads the
narratives (the answer key).
"""

from mrs.models.detection import ClassifierParams, narrative_windows


def model(dbt, session):
    dbt.config(materialized="table")
    # The mock confirms and closes a narrative after as many hours as the real classifier.
    params = ClassifierParams(
        onset_hours=int(dbt.config.get("onset_hours")),
        closure_hours=int(dbt.config.get("closure_hours")),
    )
    narratives = dbt.ref("stg_master_narratives").df()
    as_of = dbt.ref("run_settings").df()["as_of"].iloc[0]
    return narrative_windows(narratives, as_of, params)
