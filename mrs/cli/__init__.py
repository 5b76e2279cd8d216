"""The `mrs` command line: one module per command group, common options in `options`."""
