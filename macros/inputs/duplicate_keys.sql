{#-
  The last two CTEs of every staging `_checked` model: among the rows that passed every
  other rule (`rule_reason` is null), the first row of a key by position in the file is
  kept and later ones are rejected as duplicates; `error_reason` is the final verdict.
  Expects the previous CTE to be named `ruled`.
-#}
{% macro mrs_reject_duplicate_keys(key_columns) -%}
ranked as (
    select
        *,
        case when rule_reason is null then row_number() over (
            partition by rule_reason is null, {{ key_columns | join(', ') }}
            order by source_row_number
        ) end as key_rank
    from ruled
),

checked as (
    select
        *,
        coalesce(
            rule_reason,
            case
                when key_rank > 1
                    then 'duplicate key ({{ key_columns | join(", ") }})'
            end
        ) as error_reason
    from ranked
)
{%- endmacro %}
