"""Building the dbt project and reading its database: the project runner, locks, runs, the
published copy, the build loop and the summary."""
