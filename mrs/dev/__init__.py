"""Development tools: world generators, benchmarks and evaluation. The dbt models, review and
the registry never import them; the command line does for `mrs demo`, `generate-world`,
`bench` and `evaluate`."""
