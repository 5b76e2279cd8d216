{#-
  Finalisation's view of one level of edits (report, event or auto-approval): per report and
  point of report_final_states, the latest decision among the edits in force at that tick,
  the latest value each edited field was given, and the evidence added, in edit order.
  Needs `proposed` (report_id, report_group_id, tick_ts) and `edits` (with edit_order).
-#}
{% macro mrs_edits_in_force(edits, proposed_key, edit_key, where) -%}
    {%- set decision = "(" ~ edits ~ ".action in ('approve', 'reject', 'request_review', "
        ~ "'defer', 'reopen'))" -%}
    select
        proposed.report_id,
        proposed.tick_ts,
        arg_max({{ edits }}.action, {{ edits }}.edit_order)
        filter (where {{ decision }}) as decision_action,
        arg_max({{ edits }}.edited_at, {{ edits }}.edit_order)
        filter (where {{ decision }}) as decided_at,
        arg_max({{ edits }}.cause, {{ edits }}.edit_order) as cause,
        arg_max({{ edits }}.cause_category, {{ edits }}.edit_order) as cause_category,
        arg_max({{ edits }}.confidence, {{ edits }}.edit_order) as confidence,
        arg_max({{ edits }}.annotation_id, {{ edits }}.edit_order) as annotation_id,
        max({{ edits }}.edit_order) as edit_order,
        list({{ edits }}.evidence order by {{ edits }}.edit_order)
        filter (where {{ edits }}.evidence is not null) as evidence
    from proposed
    inner join {{ edits }}
        on
            proposed.{{ proposed_key }} = {{ edits }}.{{ edit_key }}
            and proposed.tick_ts >= {{ edits }}.edited_at
    where {{ where }}
    group by proposed.report_id, proposed.tick_ts
{%- endmacro %}
