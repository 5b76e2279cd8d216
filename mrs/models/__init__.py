"""Pure model functions the dbt Python models call: detection, clustering, attribution,
cohorting and the shape features. No I/O."""
