"""The analyst review app (issue 8): Streamlit pages over the published copy, writing only
through `mrs.cli.review.record_edit`. Start it with `mrs app` (entry point app/review_app.py)."""
