"""anomaly_classifier_model_real: decides which candidate windows are reports (DESIGN.md
section 6). Built when model_routing.anomaly_classifier_model is 'real'; the routing model
anomaly_classifier_model reads it.

Thin wrapper: the decision logic is mrs.models.detection, unit-tested on its own. Thresholds come
from the model's config, which reads the project vars (dbt only passes config keys that this
file names literally).
"""

from mrs.models.detection import ClassifierParams, decide_candidate_windows


def model(dbt, session):
    dbt.config(materialized="table")
    params = ClassifierParams(
        onset_evidence=float(dbt.config.get("onset_evidence")),
        onset_reference_z=float(dbt.config.get("onset_reference_z")),
        onset_hours=int(dbt.config.get("onset_hours")),
        onset_max_hours=int(dbt.config.get("onset_max_hours")),
        single_hour_z=float(dbt.config.get("single_hour_z")),
        burst_z=float(dbt.config.get("burst_z")),
        closure_hours=int(dbt.config.get("closure_hours")),
        backdate_reference_z=float(dbt.config.get("backdate_reference_z")),
        backdate_shift_fraction=float(dbt.config.get("backdate_shift_fraction")),
        drift_reference_z=float(dbt.config.get("drift_reference_z")),
        shift_reference_z=float(dbt.config.get("shift_reference_z")),
    )
    return decide_candidate_windows(dbt.ref("anomaly_candidate_hours").df(), params)
