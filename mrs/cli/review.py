"""`mrs review ...`: analysts approve, reject, edit, reopen reports and events (DESIGN.md 7).

Every action is validated against the latest build before anything is written, then appended
to the edit journal beside the database (mrs/review/journal.py); it takes effect at the next build.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from mrs.cli.options import add_database_option, add_wait_option
from mrs.pipeline.database_lock import DEFAULT_WAIT_SECONDS, DatabaseBusy
from mrs.pipeline.project import MrsError, Project
from mrs.pipeline.times import utc_timestamp
from mrs.review.context import (
    BUILD_FIRST,
    QUEUE_COLUMNS,
    ReviewContext,
    load_context,
    pending_queue,
    report_details,
)
from mrs.review.journal import (
    EVENT_PREFIX,
    REPORT_PREFIX,
    TIMESTAMP_FORMAT,
    Edit,
    journal_dir,
    write_edit,
)
from mrs.review.reviewers import authorise, current_reviewer, in_scope, read_scopes
from mrs.review.rules import ReviewRules, review_rules

FINAL_DECISIONS = ("approved", "rejected")
# How far past the newest built tick --at may reach: the next day's hourly builds apply it.
MAX_AT_LEAD = dt.timedelta(days=1)
LIST_HINT = "list reports awaiting review with `mrs review queue`"
# sub-command -> (stored action, help)
ACTIONS = {
    "approve": ("approve", "approve the proposed cause"),
    "reject": ("reject", "reject the report (not a real anomaly, or not worth acting on)"),
    "edit": ("edit", "correct the cause, category or confidence"),
    "add-evidence": ("add_evidence", "attach a piece of evidence (URL or id)"),
    "request-review": ("request_review", "ask another analyst to review"),
    "defer": ("defer", "put off the decision"),
    "reopen": ("reopen", "reopen a finalised report or event (needs --reason and --notes)"),
}
STORED_ACTIONS = tuple(action for action, _ in ACTIONS.values())

Handler = Callable[[argparse.Namespace], int]


def rules() -> ReviewRules:
    """The project's review rules (dbt_project.yml vars review_*), as the build checks them."""
    return review_rules(Project.locate().root)


def add_review_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `review` and its sub-commands to the `mrs` sub-command set; return its parser."""
    review = commands.add_parser(
        "review",
        help="approve, reject, edit or reopen reports and events; list the review queue",
        description="Analyst review. Targets are report ids (MR-...) or event ids (ME-...); an "
        "event action applies to every report of the event. Edits are validated against the "
        "latest build, written to the edit journal beside the database, and take effect at "
        "the next build.",
    )
    actions = review.add_subparsers(dest="review_command", required=True, metavar="ACTION")
    database = _database_options()
    editor = _editor_options()
    for name, (action, help_text) in ACTIONS.items():
        sub = actions.add_parser(
            name, help=help_text, description=help_text, parents=[editor, database]
        )
        sub.add_argument("target", metavar="ID", help="report id (MR-...) or event id (ME-...)")
        _add_action_options(name, sub)
        sub.set_defaults(handler=_guarded(_action_handler(action)), action=action)

    queue = actions.add_parser(
        "queue",
        help="list reports awaiting review, most severe first",
        description="Reports of the active run whose final decision is pending, most severe "
        "first, from minority_reports.",
        parents=[database],
    )
    queue.add_argument("--limit", type=int, default=50, help="rows to show (default 50)")
    queue.set_defaults(handler=_guarded(_queue))

    show = actions.add_parser(
        "show",
        help="print one report and its edits",
        description="Every column of the report's minority_reports row, then its edits.",
        parents=[database],
    )
    show.add_argument("target", metavar="ID", help="report id (MR-...)")
    show.set_defaults(handler=_guarded(_show))
    return review


def _database_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    add_database_option(parent)
    add_wait_option(parent, "a build holds the database")
    return parent


def _editor_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--notes",
        help="free text (reopen: at least var review_min_reopen_notes written characters)",
    )
    parent.add_argument(
        "--at",
        metavar="TIMESTAMP",
        help="processing time of the edit, 'YYYY-MM-DD HH:MM' (default: the newest built tick)",
    )
    return parent


def _add_action_options(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "edit":
        parser.add_argument("--cause", help="corrected cause (free text)")
        parser.add_argument("--category", help="corrected cause category (from the taxonomy)")
        parser.add_argument("--confidence", help="corrected confidence, a number in [0, 1]")
    elif name == "add-evidence":
        parser.add_argument("--evidence", metavar="URL_OR_ID", help="evidence to attach")
    elif name == "reopen":
        parser.add_argument(
            "--reason",
            metavar="REASON",
            help="why it is reopened: one of var review_reopen_reasons (a wrong one lists them)",
        )


def _guarded(handler: Handler) -> Handler:
    """Print `mrs: <message>` for an error the user can act on; exit 2 (1 if the DB stayed busy)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except DatabaseBusy as error:
            print(f"mrs: {error}", file=sys.stderr)
            return 1
        except MrsError as error:
            print(f"mrs: {error}", file=sys.stderr)
            return 2

    return run


def _action_handler(action: str) -> Handler:
    def handle(args: argparse.Namespace) -> int:
        return _record(action, args)

    return handle


def _record(action: str, args: argparse.Namespace) -> int:
    # The command acts as the OS user running it, with the role the registry gives them.
    project = Project.locate(args.database)
    if not project.database.exists():
        raise MrsError(f"no database at {project.database}; {BUILD_FIRST}")
    reviewer = current_reviewer(project.database, project.root)
    edit = record_edit(
        project.database,
        action,
        args.target,
        actor=reviewer.login,
        role=reviewer.role,
        cause=getattr(args, "cause", None),
        category=getattr(args, "category", None),
        confidence=getattr(args, "confidence", None),
        evidence=getattr(args, "evidence", None),
        reason=getattr(args, "reason", None),
        notes=args.notes,
        at=args.at,
        wait_seconds=args.wait,
    )
    print(recorded_message(edit))
    return 0


def record_edit(
    database: Path,
    action: str,
    target_id: str,
    *,
    actor: str,
    role: str,
    cause: str | None = None,
    category: str | None = None,
    confidence: str | float | None = None,
    evidence: str | None = None,
    reason: str | None = None,
    notes: str | None = None,
    at: str | dt.datetime | None = None,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
) -> Edit:
    """Validate one review action and append it to the edit journal of `database`.

    `action` is a stored action name (approve, reject, edit, add_evidence, request_review,
    defer, reopen); `target_id` a report (MR-...) or event (ME-...) id. Everything not needing
    the database is checked first (the actor must be in the reviewers registry with `role`,
    and `role` allowed the action: mrs.review.reviewers), then the target, category and reopen
    protocol against the
    latest build (its published copy when it exists). Any failure raises MrsError and writes
    nothing. The edit is stamped with `at` or the newest built tick and takes effect at the
    next build. This is the one write path of `mrs review` and of the review app.
    """
    if action not in STORED_ACTIONS:
        raise MrsError(f"unknown action {action!r}; use one of {', '.join(STORED_ACTIONS)}")
    target = _target(target_id)
    draft = _draft(
        action,
        target,
        actor=actor,
        role=role,
        notes=notes,
        cause=cause,
        category=category,
        confidence=confidence,
        evidence=evidence,
        reason=reason,
    )
    authorise(
        database,
        Project.locate(database).root,
        str(draft["actor"]),
        str(draft["user_role"]),
        action,
    )
    stamped = _at(at)
    context = load_context(database, target, _wait(wait_seconds))
    _check_against(context, draft)
    _check_scope(read_scopes(database).get(str(draft["actor"]), ()), context, target)
    edited_at = stamped or context.newest_tick
    if edited_at is None:
        raise MrsError(
            f"run {context.run_id} has no built tick to stamp the edit with; "
            "run `mrs build` first or pass --at 'YYYY-MM-DD HH:MM'"
        )
    if stamped and context.newest_tick and stamped > context.newest_tick + MAX_AT_LEAD:
        # A build applies an edit at the first tick at or after its stamp: one stamped far
        # ahead of the feed would wait, unseen, for data that may never come.
        raise MrsError(
            f"--at {stamped:{TIMESTAMP_FORMAT}} is more than a day after the newest built tick "
            f"{context.newest_tick:{TIMESTAMP_FORMAT}}, so no coming build would apply it; "
            "leave --at out to stamp the edit with that tick"
        )
    edit = Edit(**{**draft, "edited_at": edited_at, "run_id": context.run_id})
    try:
        write_edit(database, edit)
    except OSError as error:
        raise MrsError(
            f"could not write the edit to {journal_dir(database)}: {error.strerror or error}; "
            "nothing was recorded"
        ) from error
    return edit


def recorded_message(edit: Edit) -> str:
    """What `mrs review` prints (and the app shows) once an edit is in the journal."""
    return (
        f"recorded {edit.action} on {edit.target_id} by {edit.actor} ({edit.user_role}) at "
        f"{edit.edited_at:{TIMESTAMP_FORMAT}}; it takes effect at the next build"
    )


def _target(text: str) -> str:
    target = text.strip()
    if not target.startswith((REPORT_PREFIX, EVENT_PREFIX)) or len(target) <= 3:
        raise MrsError(
            f"{text!r} is neither a report id (MR-...) nor an event id (ME-...); {LIST_HINT}"
        )
    return target


def _draft(
    action: str,
    target: str,
    *,
    actor: str,
    role: str,
    notes: str | None,
    cause: str | None,
    category: str | None,
    confidence: str | float | None,
    evidence: str | None,
    reason: str | None,
) -> dict[str, object]:
    """The edit's fields, checked for everything not needing the DB."""
    actor = (actor or "").strip()
    if not actor:
        raise MrsError("the actor is empty: an edit names the reviewer who makes it")
    role = (role or "").strip()
    if role == "system":
        raise MrsError("role 'system' is reserved for auto-approval inside the build")
    _refuse_foreign_fields(
        action,
        {
            "cause": cause if action != "edit" else None,
            "category": category if action != "edit" else None,
            "confidence": confidence if action != "edit" else None,
            "evidence": evidence if action != "add_evidence" else None,
            "reason": reason if action != "reopen" else None,
        },
    )
    draft: dict[str, object] = {
        "target_id": target,
        "action": action,
        "actor": actor,
        "user_role": role,
        "notes": _text(notes),
    }
    if action == "edit":
        draft.update(_edit_fields(cause, category, confidence))
    elif action == "add_evidence":
        found = _text(evidence)
        if found is None:
            raise MrsError("add-evidence needs --evidence URL_OR_ID (a link or a row id)")
        draft["evidence"] = found
    elif action == "reopen":
        draft["reopen_reason"] = _reopen_reason(reason, draft["notes"])
    # Longest text an edit may carry, per field: a journal is no place for a pasted document.
    for field, limit in rules().text_limits.items():
        value = draft.get(field)
        if isinstance(value, str) and len(value) > limit:
            raise MrsError(
                f"{field} is {len(value)} characters long; at most {limit} are kept in an edit "
                "(link a longer document with add-evidence)"
            )
    return draft


def _refuse_foreign_fields(action: str, fields: dict[str, object]) -> None:
    """A field the action does not store is an error, never silently dropped."""
    given = [name for name, value in fields.items() if value is not None and str(value).strip()]
    if given:
        raise MrsError(f"{action} does not take {', '.join(given)}; leave it empty")


def _text(value: str | None) -> str | None:
    stripped = (value or "").strip()
    return stripped or None


def _edit_fields(
    cause: str | None, category: str | None, confidence: str | float | None
) -> dict[str, object]:
    cause, category = _text(cause), _text(category)
    value = None if confidence is None else _confidence(confidence)
    if cause is None and category is None and value is None:
        raise MrsError(
            "edit needs at least one of --cause TEXT, --category CAT, --confidence X "
            "(empty values do not count)"
        )
    return {"cause": cause, "cause_category": category, "confidence": value}


def _confidence(text: str | float) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise MrsError(f"--confidence must be a number from 0 to 1, e.g. 0.8; got {text!r}")
    return value


def _reopen_reason(reason: str | None, notes: object) -> str:
    choices = ", ".join(rules().reopen_reasons)
    if reason is None or not reason.strip():
        raise MrsError(f"reopen needs --reason, one of {choices}")
    if reason.strip() not in rules().reopen_reasons:
        raise MrsError(f"unknown reopen reason {reason!r}; use --reason one of {choices}")
    # Spaces explain nothing: only the written characters count.
    length = len(" ".join(notes.split())) if isinstance(notes, str) else 0
    minimum = rules().min_reopen_notes
    if length < minimum:
        raise MrsError(
            f"reopen needs --notes of at least {minimum} characters explaining why (got {length})"
        )
    return reason.strip()


def _at(value: str | dt.datetime | None) -> dt.datetime | None:
    if not value:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise MrsError(f"--at expects a timestamp without a time zone; got {value}")
        return value.replace(microsecond=0)
    return utc_timestamp("--at", value)


def _wait(seconds: float) -> float:
    if not math.isfinite(seconds) or seconds < 0:
        raise MrsError(f"--wait must be a number of seconds >= 0; got {seconds:g}")
    return seconds


def _check_against(context: ReviewContext, draft: dict[str, object]) -> None:
    """The checks that need the latest build: the target exists, the category, reopen."""
    target = str(draft["target_id"])
    if target.startswith(EVENT_PREFIX):
        if not context.events_built:
            raise MrsError(
                f"unknown event {target}; events appear after a build with cohorting "
                f"(the database has no minority_event_log yet); {LIST_HINT}"
            )
        if not context.target_known:
            raise MrsError(f"unknown event {target} in run {context.run_id}; {LIST_HINT}")
    elif not context.target_known:
        raise MrsError(f"unknown report {target} in run {context.run_id}; {LIST_HINT}")
    category = draft.get("cause_category")
    if category is not None and category not in context.categories:
        raise MrsError(
            f"unknown cause category {category!r}; use one of {', '.join(context.categories)}"
        )
    if draft["action"] == "reopen":
        _check_reopen(context, target)
    else:
        _check_not_finalised(context, target, str(draft["action"]))


def _check_scope(entries: Sequence[str], context: ReviewContext, target: str) -> None:
    """A reviewer with a scope acts only on reports and events whose stores are all in it
    (the build checks the same: stg_user_edits_checked)."""
    outside = [
        str(store["store_id"]) for store in context.target_stores if not in_scope(entries, store)
    ]
    if outside:
        raise MrsError(
            f"{target} reaches {', '.join(outside)}, outside your scope in the reviewers "
            f"registry ({'; '.join(entries)}); ask a reviewer of those stores, or an admin to "
            "widen your scope (`mrs reviewers add LOGIN --role ROLE --scope ...`)"
        )


def _check_not_finalised(context: ReviewContext, target: str, action: str) -> None:
    """The reopen protocol: a finalised report changes only after it is reopened."""
    decided = [row for row in context.finalised if row.final_decision in FINAL_DECISIONS]
    if not decided:
        return
    what = (
        f"event {target} has finalised reports"
        if target.startswith(EVENT_PREFIX)
        else (f"report {target} is finalised ({decided[0].final_decision})")
    )
    raise MrsError(
        f"{what}, so {action} is not allowed; reopen it first with `mrs review reopen "
        f"{target} --reason ... --notes ...` (at least {rules().min_reopen_notes} "
        "characters), then run `mrs build`"
    )


def _check_reopen(context: ReviewContext, target: str) -> None:
    decided = [row for row in context.finalised if row.final_decision in FINAL_DECISIONS]
    if decided:
        return
    if target.startswith(EVENT_PREFIX):
        raise MrsError(
            f"none of the reports of event {target} is finalised (approved or rejected) in the "
            "latest build, so there is nothing to reopen; if one was just approved or rejected, "
            "run `mrs build` first"
        )
    decision = context.finalised[0].final_decision if context.finalised else "not finalised"
    raise MrsError(
        f"report {target} is not finalised in the latest build (decision: {decision}), so there "
        "is nothing to reopen; if it was just approved or rejected, run `mrs build` first"
    )


def _queue(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise MrsError(f"--limit must be at least 1; got {args.limit}")
    database = Project.locate(args.database).database
    run_id, rows, total = pending_queue(database, args.limit, _wait(args.wait))
    if not rows:
        print(f"no reports awaiting review in run {run_id}")
        return 0
    for line in _table((*QUEUE_COLUMNS, "recorded_since_build"), rows):
        print(line)
    print(f"{len(rows)} of {total} reports awaiting review in run {run_id}")
    if any(row[-1] for row in rows):
        print("recorded_since_build: edits in the journal that take effect at the next build")
    return 0


def _show(args: argparse.Namespace) -> int:
    target = _target(args.target)
    if not target.startswith(REPORT_PREFIX):
        raise MrsError(f"show takes a report id (MR-...), not {target!r}; {LIST_HINT}")
    database = Project.locate(args.database).database
    details = report_details(database, target, _wait(args.wait))
    if not details.known and details.row is None:
        raise MrsError(f"unknown report {target} in run {details.run_id}; {LIST_HINT}")
    if not details.reports_built:
        print("minority_reports is not built yet; run `mrs build` to see the report's state")
    elif details.row is None:
        print(f"{target} has no row in minority_reports yet; run `mrs build`")
    else:
        width = max(len(name) for name in details.row)
        for name, value in details.row.items():
            print(f"{name:<{width}}  {_cell(value)}")
    print()
    if details.edits is None:
        print("edits: user_edits_log is not built yet (edits in the journal appear after a build)")
    elif not details.edits:
        print("edits: none")
    else:
        print(f"edits ({len(details.edits)}):")
        columns = tuple(details.edits[0])
        for line in _table(columns, [tuple(edit.values()) for edit in details.edits]):
            print(f"  {line}")
    if details.unbuilt:
        print(f"recorded since the last build, in effect after the next ({len(details.unbuilt)}):")
        columns = ("action", "actor", "user_role", "edited_at", "source_file")
        rows = [tuple(edit.get(name) for name in columns) for edit in details.unbuilt]
        for line in _table(columns, rows):
            print(f"  {line}")
    return 0


def _table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A fixed-width text table: header, rule, rows."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(name)] + [len(row[i]) for row in cells]) for i, name in enumerate(columns)]
    lines = ["  ".join(name.ljust(width) for name, width in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    for row in cells:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return [line.rstrip() for line in lines]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, dt.datetime):
        return value.strftime(TIMESTAMP_FORMAT)
    return str(value)
