"""The analyst review app (issue 8): Streamlit pages over the published copy, writing only
through `mrs.review_cli.record_edit`. Start it with `mrs app` (entry point app/review_app.py)."""
