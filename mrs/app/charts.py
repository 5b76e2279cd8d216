"""The app's charts: sales against baseline, the cluster map, the map of an event's stores."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import pydeck as pdk

ACTUAL, BASELINE = "actual units", "baseline (expected) units"
SERIES_COLOURS = ([ACTUAL, BASELINE], ["#1f77b4", "#7f7f7f"])
WINDOW_COLOUR = "#ff7f0e"
THIS_REPORT = "#d62728"


def sales_chart(
    series: pd.DataFrame, window_start: object, window_end: object, as_of: dt.datetime | None
) -> alt.LayerChart:
    """Hourly actual and baseline units, with the anomaly window shaded (to `as_of` while the
    window is still open)."""
    long = series.rename(columns={"actual_units": ACTUAL, "expected_units": BASELINE}).melt(
        id_vars=["sales_ts"], value_vars=[ACTUAL, BASELINE], var_name="series", value_name="units"
    )
    end = window_end if not pd.isna(window_end) else (as_of or series["sales_ts"].max())
    window = pd.DataFrame({"start": [pd.Timestamp(window_start)], "end": [pd.Timestamp(end)]})
    shade = (
        alt.Chart(window)
        .mark_rect(color=WINDOW_COLOUR, opacity=0.15)
        .encode(x="start:T", x2="end:T", tooltip=[alt.Tooltip("start:T"), alt.Tooltip("end:T")])
    )
    lines = (
        alt.Chart(long)
        .mark_line(point=False)
        .encode(
            x=alt.X("sales_ts:T", title="hour"),
            y=alt.Y("units:Q", title="units per hour"),
            color=alt.Color(
                "series:N",
                scale=alt.Scale(domain=SERIES_COLOURS[0], range=SERIES_COLOURS[1]),
                legend=alt.Legend(orient="top", title=None),
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(domain=SERIES_COLOURS[0], range=[[1, 0], [5, 3]]),
                legend=None,
            ),
            tooltip=["sales_ts:T", "series:N", alt.Tooltip("units:Q", format=".1f")],
        )
    )
    return (shade + lines).properties(height=320)


def cluster_map(clusters: pd.DataFrame, reports: pd.DataFrame, report_id: str) -> alt.LayerChart:
    """The library clusters' t-SNE positions (labelled), the run's other reports (grey) and
    this report (red)."""
    placed = reports.dropna(subset=["tsne_x", "tsne_y"])
    others = placed[placed["report_id"] != report_id]
    this = placed[placed["report_id"] == report_id]
    axis_x, axis_y = alt.X("tsne_x:Q", title="t-SNE x"), alt.Y("tsne_y:Q", title="t-SNE y")
    library = alt.Chart(clusters).encode(x=axis_x, y=axis_y)
    layers = [
        alt.Chart(others)
        .mark_circle(size=40, color="#bbbbbb", opacity=0.7)
        .encode(x=axis_x, y=axis_y, tooltip=["report_id", "cluster_name", "final_cause"]),
        library.mark_square(size=220, opacity=0.85).encode(
            color=alt.Color("cause_category:N", legend=alt.Legend(title="library cluster")),
            tooltip=["cluster_id", "cluster_name", "cause_category"],
        ),
        library.mark_text(dy=-16, fontSize=11).encode(text="cluster_name:N"),
        alt.Chart(this)
        .mark_point(shape="diamond", size=320, filled=True, color=THIS_REPORT)
        .encode(x=axis_x, y=axis_y, tooltip=["report_id", "cluster_name", "similarity_score"]),
        alt.Chart(this)
        .mark_text(dx=12, align="left", fontWeight="bold", color=THIS_REPORT)
        .encode(x=axis_x, y=axis_y, text=alt.value("this report")),
    ]
    return alt.layer(*layers).properties(height=360)


def store_map(stores: pd.DataFrame) -> pdk.Deck:
    """The given stores as labelled points on a map (token-free Carto basemap)."""
    points = stores.dropna(subset=["latitude", "longitude"])
    view = pdk.ViewState(
        latitude=float(points["latitude"].mean()) if not points.empty else 54.0,
        longitude=float(points["longitude"].mean()) if not points.empty else -2.5,
        zoom=5 if len(points) != 1 else 9,
    )
    layers = [
        pdk.Layer(
            "ScatterplotLayer",
            data=points,
            get_position="[longitude, latitude]",
            get_fill_color=[214, 39, 40, 200],
            get_radius=6000,
            radius_min_pixels=6,
            pickable=True,
        ),
        pdk.Layer(
            "TextLayer",
            data=points,
            get_position="[longitude, latitude]",
            get_text="store_name",
            get_size=13,
            get_pixel_offset=[0, -18],
            get_color=[30, 30, 30, 255],
        ),
    ]
    return pdk.Deck(
        layers=layers,
        initial_view_state=view,
        map_provider="carto",
        map_style="light",
        tooltip={"text": "{store_name}\n{retailer}, {city} ({region})"},
    )
