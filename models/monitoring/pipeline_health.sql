{#-
  Health of the pipeline's logs for the active run, against the targets of DESIGN.md
  section 8: freshness (hours from the newest tick a log holds to as_of: detection < 0.5,
  clustering and attribution < 4), coverage (share of detected reports clustered and
  attributed: >= 0.8), error rate (share of each input's rows rejected: < 0.01) and
  degradation rate (share of each log's latest rows flagged is_degraded; no target).
-#}
{%- set inputs = mrs_input_contract().keys() | list %}
{%- set freshness = [
    ('minority_reports_detected_log', 0.5),
    ('minority_reports_clustered_log', 4),
    ('minority_reports_proposed_attribution_log', 4),
    ('minority_reports_cohorted_log', 4),
    ('minority_reports_finalised_log', 4),
] %}
{%- set degradation = [
    'minority_reports_proposed_attribution_log', 'minority_reports_finalised_log',
] %}

with

settings as (
    select * from {{ ref('run_settings') }}
),

detected as (
    select distinct detected_log.report_id
    from {{ ref('minority_reports_detected_log') }} as detected_log
    inner join settings on detected_log.run_id = settings.run_id
),

freshness as (
    {%- for log, target in freshness %}
        select
            'freshness_hours' as metric,
            '{{ log }}' as subject,
            {{ mrs_hours_between('max(log_rows.written_at)', 'min(settings.as_of)') }}
                as measured_value,
            cast({{ target }} as double) as target_value,
            '<' as comparison
        from {{ ref(log) }} as log_rows
        inner join settings on log_rows.run_id = settings.run_id
        {{ 'union all' if not loop.last }}
    {%- endfor %}
),

coverage as (
    {%- for log in [
        'minority_reports_clustered_log', 'minority_reports_proposed_attribution_log'
    ] %}
        select
            'coverage' as metric,
            '{{ log }}' as subject,
            count(distinct log_rows.report_id) / nullif((select count(*) from detected), 0)
                as measured_value,
            0.8 as target_value,
            '>=' as comparison
        from {{ ref(log) }} as log_rows
        inner join settings on log_rows.run_id = settings.run_id
        {{ 'union all' if not loop.last }}
    {%- endfor %}
),

error_rate as (
    {%- for input in inputs %}
        select
            'error_rate' as metric,
            '{{ input }}' as subject,
            (select count(*) from {{ ref(input ~ '_errors') }})
            / nullif(
                (select count(*) from {{ ref('stg_' ~ input) }})
                + (select count(*) from {{ ref(input ~ '_errors') }}),
                0
            ) as measured_value,
            0.01 as target_value,
            '<' as comparison
        {{ 'union all' if not loop.last }}
    {%- endfor %}
),

degradation_rate as (
    {%- for log in degradation %}
        select
            'degradation_rate' as metric,
            '{{ log }}' as subject,
            avg(cast(latest.is_degraded as double)) as measured_value,
            cast(null as double) as target_value,
            cast(null as varchar) as comparison
        from {{ ref(log ~ '_current') }} as latest
        {{ 'union all' if not loop.last }}
    {%- endfor %}
),

metrics as (
    select * from freshness
    union all
    select * from coverage
    union all
    select * from error_rate
    union all
    select * from degradation_rate
),

judged as (
    select
        metrics.metric,
        metrics.subject,
        metrics.measured_value,
        metrics.target_value,
        metrics.comparison,
        case
            when metrics.comparison = '<' then metrics.measured_value < metrics.target_value
            when metrics.comparison = '>=' then metrics.measured_value >= metrics.target_value
        end as meets_target,
        settings.as_of,
        settings.run_id
    from metrics
    cross join settings
)

select * from judged
