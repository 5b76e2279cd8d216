"""SQL text written by Python: a value as a single-quoted SQL string literal."""


def sql_string(value: str) -> str:
    """`value` as a SQL string literal (a quote doubled), as the macro mrs_quote_path writes a
    path."""
    return "'" + value.replace("'", "''") + "'"
