{#-
  The analysts' edit journal (DESIGN.md section 7). `mrs review` writes one JSON file per
  edit into `<journal>/<log_name>/`, outside the DuckDB file, so dbt never rebuilds or
  truncates edits and an edit made while a build holds the database is not lost: a file
  that appears after this build listed the folder is read by the next build.
  The journal is var `mrs_edits_dir`, by default beside the database: `<database>_edits`.
-#}
{% macro mrs_edits_dir() -%}
    {{ return((var('mrs_edits_dir', none) or mrs_beside_database('_edits')).rstrip('/')) }}
{%- endmacro %}


{#- A path beside the database file: its name without `.duckdb`, then `suffix`. -#}
{% macro mrs_beside_database(suffix) -%}
    {%- set database = env_var('MRS_DUCKDB_PATH', 'mrs.duckdb') -%}
    {%- if database.endswith('.duckdb') -%}
        {%- set database = database[:-7] -%}
    {%- endif -%}
    {{ return(database ~ suffix) }}
{%- endmacro %}


{#- The fields of one journal edit, `key_column` (report_id or report_group_id) first. -#}
{% macro mrs_edit_fields(key_column) -%}
    {{ return([key_column, 'action', 'cause', 'cause_category', 'confidence', 'evidence',
        'reopen_reason', 'notes', 'actor', 'user_role', 'edited_at', 'run_id']) }}
{%- endmacro %}


{#-
  The reviewers registry (mrs.review.reviewers): who may review, with which role. A CSV file with
  columns reviewer, user_role, by default `<database>_access/reviewers.csv`, apart from the
  journal so that only admins need write access to it (docs/review.md, Threat model). `mrs reviewers`
  edits it; var `mrs_reviewers_file` points elsewhere.
-#}
{% macro mrs_reviewers_file() -%}
    {{ return(var('mrs_reviewers_file', none) or mrs_beside_database('_access') ~ '/reviewers.csv') }}
{%- endmacro %}


{#- The model registry's journal beside the database: `<database>_models` (mrs.registry.records). -#}
{% macro mrs_registry_dir() -%}
    {{ return(var('mrs_registry_dir', none) or mrs_beside_database('_models')) }}
{%- endmacro %}


{#- The JSON files of a folder, in name order; none when it does not exist (or at parse). -#}
{% macro mrs_json_files(folder) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set listing = run_query(
        "select file from glob(" ~ mrs_quote_path(folder ~ "/*.json") ~ ") order by file"
    ) -%}
    {{ return(listing.columns[0].values() | list) }}
{%- endmacro %}


{#-
  A query of the JSON files of a folder as text, one row per file (filename, content), none
  when there is no file: the edit journal's and the model registry's readers parse it, so a
  truncated file is one rejected row rather than a build that stops.
-#}
{% macro mrs_json_file_texts(folder) -%}
    {%- set files = mrs_json_files(folder) -%}
    {%- if files %}
    select
        filename,
        content
    from read_text(
        [{%- for file in files %}{{ mrs_quote_path(file) }}{{ ', ' if not loop.last }}{% endfor -%}]
    )
    {%- else %}
    {{ mrs_no_logged_state({'filename': 'varchar', 'content': 'varchar'}) }}
    {%- endif %}
{%- endmacro %}


{#-
  The journal's record of the active run (`mrs reset` writes it: mrs.pipeline.runs.ACTIVE_RUN_FILE),
  or none when no reset was made. run_settings reads it, so a plain `dbt build` builds the
  same run as `mrs build`.
-#}
{% macro mrs_active_run_file() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set path = mrs_edits_dir() ~ '/active_run.json' -%}
    {%- set found = run_query(
        "select count(*) from glob(" ~ mrs_quote_path(path) ~ ")"
    ).columns[0].values()[0] -%}
    {{ return(path if found > 0 else none) }}
{%- endmacro %}


{#-
  Whether the journal is reachable: its marker file, written by `mrs build`, exists. A
  missing journal degrades finalisation (edits_down) instead of passing as "no edits".
-#}
{% macro mrs_journal_present() -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set found = run_query(
        "select count(*) from glob(" ~ mrs_quote_path(mrs_edits_dir() ~ "/README.txt") ~ ")"
    ).columns[0].values()[0] -%}
    {{ return(found > 0) }}
{%- endmacro %}


{#-
  The raw edits of one journal log as text columns raw_<field>, with source_file and
  is_malformed_file; typed empty when there are none. `key_column` is report_id or
  report_group_id. Each file is read as text and parsed here, so a truncated or otherwise
  malformed file is one rejected edit (user_edits_errors) rather than a build that stops.
-#}
{% macro mrs_read_journal(log_name, key_column) -%}
    select
        {%- for field in mrs_edit_fields(key_column) %}
        cast(
            case when json_valid(journal_files.content)
                then json_extract_string(journal_files.content, '$.{{ field }}') end
            as varchar
        ) as raw_{{ field }},
        {%- endfor %}
        -- The file's name only: it orders edits stamped alike, wherever the journal lives.
        cast(parse_filename(journal_files.filename) as varchar) as source_file,
        not json_valid(journal_files.content) as is_malformed_file
    from ({{ mrs_json_file_texts(mrs_edits_dir() ~ '/' ~ log_name) }}) as journal_files
{%- endmacro %}


{#-
  Typed, checked edits of one journal log: every field typed, the annotation_id (mrs_id of
  the edit's own fields and its journal file's name: a file read again is the same edit, the
  same action typed twice is two edits, so approve, reject, approve ends approved) and
  error_reason naming every failed rule (null for a valid edit). The CLI validates before
  writing; this catches files written by other means. The actor must be in the reviewers
  registry (read by macro mrs_reviewers_checked at this build) with the role the edit
  claims, that role must be allowed the action (review_permissions), and a reviewer with a
  scope may act only on reports (and events) whose stores are in it, so a hand-written file
  acts for no one who is not a reviewer with that right. Role `system` is refused:
  auto-approval writes its edits inside the build (user_edits_log). Reopen reasons, the
  reopen note's minimum and the text limits are the vars review_* that `mrs review` reads
  too (mrs.review.rules).
-#}
{% macro mrs_checked_edits(log_name, key_column, key_prefix) -%}
    {%- set fields = mrs_edit_fields(key_column) -%}
    {%- set text_rules = [] -%}
    {%- for field, limit in var('review_text_limits').items() -%}
        {%- do text_rules.append(('length(' ~ field ~ ') > ' ~ limit,
            field ~ ' longer than ' ~ limit ~ ' characters')) -%}
    {%- endfor -%}
    {#- Written characters, as `mrs review` counts them: runs of spaces count once. -#}
    {%- set written_notes = "length(trim(regexp_replace(coalesce(notes, ''), '\\s+', ' ', 'g')))" -%}
with

raw_edits as (
    {{ mrs_read_journal(log_name, key_column) }}
),

taxonomy as (
    select * from {{ ref('stg_cause_taxonomy') }}
),

registry as (
    -- The registry as it is now, read here rather than from stg_reviewers: a build that
    -- selects only the edits' models checks them against the file of this build.
    {{ mrs_reviewers_checked() }}
),

reviewers as (
    select
        registry.reviewer,
        registry.user_role,
        registry.scope_entries
    from registry
    where registry.error_reason is null
),

stores as (
    select * from {{ ref('stg_stores') }}
),

scope_entries as (
    select
        reviewers.reviewer,
        unnest(reviewers.scope_entries) as entry
    from reviewers
),

scope_stores as (
    -- The stores each reviewer with a scope may act on (stores matched without regard to
    -- case; a reviewer without a scope may act on every store).
    select distinct
        scope_entries.reviewer,
        stores.store_id
    from scope_entries
    inner join stores
        on lower(trim(substr(scope_entries.entry, strpos(scope_entries.entry, ':') + 1)))
        = lower(case split_part(scope_entries.entry, ':', 1)
            when 'store' then stores.store_id
            when 'region' then stores.region
            when 'city' then stores.city
            when 'retailer' then stores.retailer
        end)
),

{%- if key_column == 'report_id' %}

target_stores as (
    select distinct
        detected.report_id,
        detected.store_id
    from {{ ref('minority_reports_detected_log') }} as detected
),
{%- else %}

latest_membership as (
    select * from {{ ref('minority_reports_cohorted_log_current') }}
),

target_stores as (
    -- An event's stores: those of the reports it holds now.
    select distinct
        latest_membership.report_group_id,
        latest_membership.store_id
    from latest_membership
),
{%- endif %}

permissions as (
    select * from {{ ref('review_permissions') }}
    where subject = 'review'
),

typed as (
    select
        raw_edits.*,
        {{ mrs_text('raw_' ~ key_column) }} as {{ key_column }},
        lower({{ mrs_text('raw_action') }}) as action,
        {{ mrs_text('raw_cause') }} as cause,
        {{ mrs_text('raw_cause_category') }} as cause_category,
        {{ mrs_to_double('raw_confidence') }} as confidence,
        {{ mrs_text('raw_evidence') }} as evidence,
        {{ mrs_text('raw_reopen_reason') }} as reopen_reason,
        {{ mrs_text('raw_notes') }} as notes,
        {{ mrs_text('raw_actor') }} as actor,
        {{ mrs_text('raw_user_role') }} as user_role,
        {{ mrs_to_timestamp('raw_edited_at') }} as edited_at,
        {{ mrs_text('raw_run_id') }} as run_id
    from raw_edits
),

checked as (
    select
        {{ mrs_id('', ['raw_' ~ key_column, 'raw_action', 'raw_cause', 'raw_cause_category',
            'raw_confidence', 'raw_evidence', 'raw_reopen_reason', 'raw_notes', 'raw_actor',
            'raw_user_role', 'raw_edited_at', 'raw_run_id', 'source_file'], length=32) }}
            as annotation_id,
        typed.*,
        case
            when is_malformed_file
                then 'malformed JSON (a truncated file?): fix or remove the file'
            else {{ mrs_reject_reasons([
            (key_column ~ " is null or " ~ key_column ~ " not like '" ~ key_prefix ~ "%'",
                'missing or malformed ' ~ key_column),
            ("action is null or action not in (select permissions.action from permissions)",
                'unknown action'),
            ("cause_category is not null and cause_category not in "
                ~ "(select taxonomy.cause_category from taxonomy)", 'unknown cause_category'),
            (mrs_unparseable('raw_confidence', 'double'), 'unparseable confidence'),
            ('confidence not between 0 and 1', 'confidence outside [0, 1]'),
            ('actor is null', 'missing actor'),
            ("user_role is null or (user_role != 'system' and user_role not in "
                ~ "(select permissions.user_role from permissions))", 'unknown user_role'),
            ("user_role = 'system'", "role system is reserved for auto-approval in the build"),
            ("actor is not null and user_role != 'system' and actor not in "
                ~ "(select reviewers.reviewer from reviewers)",
                'actor is not in the reviewers registry'),
            ("exists (select 1 from reviewers where reviewers.reviewer = actor "
                ~ "and reviewers.user_role != typed.user_role)",
                'user_role is not the role of the actor in the reviewers registry'),
            ("action is not null and user_role is not null and user_role != 'system' and not "
                ~ "exists (select 1 from permissions where permissions.user_role = typed.user_role "
                ~ "and permissions.action = typed.action)",
                'the role of the actor may not take this action (review_permissions)'),
            ("exists (select 1 from reviewers where reviewers.reviewer = typed.actor "
                ~ "and len(reviewers.scope_entries) > 0) and exists (select 1 from target_stores "
                ~ "where target_stores." ~ key_column ~ " = typed." ~ key_column
                ~ " and target_stores.store_id not in (select scope_stores.store_id "
                ~ "from scope_stores where scope_stores.reviewer = typed.actor))",
                'a store of the ' ~ ('report' if key_column == 'report_id' else 'event')
                ~ ' is outside the scope of the actor in the reviewers registry'),
        ] + text_rules + [
            ('edited_at is null', 'missing or unparseable edited_at'),
            ('run_id is null', 'missing run_id'),
            ("action = 'reopen' and (reopen_reason is null or reopen_reason not in ('"
                ~ var('review_reopen_reasons') | join("', '") ~ "'))",
                'reopen without a valid reason'),
            ("action = 'reopen' and " ~ written_notes ~ " < " ~ var('review_min_reopen_notes'),
                'reopen notes shorter than ' ~ var('review_min_reopen_notes') ~ ' characters'),
        ]) }}
        end as error_reason
    from typed
)

select * from checked
{%- endmacro %}



{#- The valid edits of a checked journal (`checked` CTE), one row per annotation_id. -#}
{% macro mrs_valid_edits(key_column) -%}
    select
        annotation_id,
        {{ mrs_listed(mrs_edit_fields(key_column), '@') }},
        source_file
    from checked
    where error_reason is null
    qualify row_number() over (partition by annotation_id order by source_file) = 1
{%- endmacro %}


{#-
  The edits of a checked journal (`checked` CTE) that break a rule, as written. A file its
  edit log (`log_relation`) already holds is not listed: it was valid when logged (a
  reviewer removed from the registry later does not turn their logged edits into errors).
-#}
{% macro mrs_rejected_edits(key_column, log_relation) -%}
    select
        checked.source_file,
        checked.annotation_id,
        {{ mrs_listed(mrs_edit_fields(key_column), 'checked.raw_@') }},
        checked.error_reason
    from checked
    where
        checked.error_reason is not null
        and checked.source_file not in (
            select logged.source_file from {{ log_relation }} as logged
            where logged.source_file is not null
        )
{%- endmacro %}


{#-
  The rows of `cte` (edits with annotation_id and source_file) this edit log does not hold
  yet. A journal file already logged is skipped by its name as well, so edits logged before
  annotation_id included the file's name are not logged twice.
-#}
{% macro mrs_unlogged_edits(cte) -%}
    select {{ cte }}.*
    from {{ cte }}
    {%- if is_incremental() %}
        where
            {{ cte }}.annotation_id not in (select logged.annotation_id from {{ this }} as logged)
            and coalesce({{ cte }}.source_file, '') not in (
                select logged.source_file from {{ this }} as logged
                where logged.source_file is not null
            )
    {%- endif %}
{%- endmacro %}
