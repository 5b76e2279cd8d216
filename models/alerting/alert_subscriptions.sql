-- The alert subscriptions of var `alert_subscriptions` as a table (DESIGN.md section 8):
-- who is told about which events.
{%- set subscriptions = var('alert_subscriptions', []) or [] %}

with

subscriptions as (
    {%- for subscription in subscriptions %}
        select
            cast('{{ subscription["subscriber"] }}' as varchar) as subscriber,
            cast('{{ subscription["scope_type"] }}' as varchar) as scope_type,
            cast({{ "'" ~ subscription["scope_value"] ~ "'"
                if subscription["scope_value"] is not none else "null" }} as varchar)
                as scope_value
        {{ 'union all' if not loop.last }}
    {%- else %}
        select
            cast(null as varchar) as subscriber,
            cast(null as varchar) as scope_type,
            cast(null as varchar) as scope_value
        where false
    {%- endfor %}
)

select * from subscriptions
