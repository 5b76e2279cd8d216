"""The input contract of DESIGN.md section 4 as the mrs package reads it: var
mrs_input_contract of dbt_project.yml, the one source staging reads too (macro
mrs_input_contract), so what the world generators write is what staging accepts."""

from __future__ import annotations

from pathlib import Path

from mrs.pipeline.project import MrsError, project_root, project_vars


def input_columns(input_name: str, root: Path | None = None) -> tuple[str, ...]:
    """The columns of input `input_name`, in the contract's order."""
    where = root or project_root()
    try:
        columns = project_vars(where)["mrs_input_contract"][input_name]["columns"]
    except (KeyError, TypeError) as error:
        raise MrsError(
            f"{where / 'dbt_project.yml'} has no columns for input {input_name!r} in var "
            f"mrs_input_contract ({error})"
        ) from error
    return tuple(str(column) for column in columns)


def csv_header(input_name: str, root: Path | None = None) -> str:
    """The header line of an input's CSV file."""
    return ",".join(input_columns(input_name, root))
