"""Minority Report System: the Python side of the dbt project (command line, world, models)."""

__version__ = "0.1.0"
