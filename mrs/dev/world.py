"""Deterministic world generator: stores, products, hourly sales and the evidence around them.

The same options always give byte-identical files. Sales are drawn as negative-binomial
counts (a gamma-Poisson mixture, so busy series are overdispersed) around a daily and weekly
rhythm, with the anomalies of `world_spec.SCENARIOS` laid on top.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from mrs.dev import world_spec as spec
from mrs.models.features import FEATURE_NAMES, shape_vector
from mrs.models.shapes import SHAPES, excess_profile
from mrs.pipeline.input_contract import input_columns

DEMO_START = dt.datetime(2025, 7, 3)
DEMO_DAYS = 41
DETECTION_WINDOW_DAYS = 6
TRAINING_DAYS = 28
DEMO_RUN_ID = "demo-run-001"
OVERDISPERSION = 25.0  # negative-binomial shape: variance = mean + mean^2 / 25
INPUT_FILES = (
    "stores",
    "products",
    "unified_sales_data",
    "master_narratives",
    "all_campaign_data",
    "contextual_data",
    "cluster_library",
    "cause_taxonomy",
    "demo_run_config",
)


@dataclass(frozen=True)
class WorldOptions:
    seed: int = 7
    stores: int = 24
    products: int = 7
    days: int = DEMO_DAYS
    start: dt.datetime = DEMO_START
    # A regime shift (for monitoring tests): from this day of the detection window on, every
    # series sells `regime_level` times as much with its daily peaks at `regime_peaks`.
    regime_shift_day: int | None = None
    regime_level: float = 1.4
    regime_peaks: tuple[float, float] = (10.0, 20.0)
    # Every block of STORE_TILE stores replays the demo's narratives (benchmarks: about as many
    # reports per million rows as a real feed, where the demo's eight narratives in a large
    # world would flatter the models that work per report).
    anomaly_tiles: bool = False

    def __post_init__(self) -> None:
        if self.stores < 1 or self.products < 1:
            raise ValueError("a world needs at least one store and one product")
        if self.days < DETECTION_WINDOW_DAYS + 7:
            raise ValueError(
                f"--days must be at least {DETECTION_WINDOW_DAYS + 7}: a week of history "
                f"before the {DETECTION_WINDOW_DAYS}-day detection window"
            )

    @property
    def detection_start(self) -> dt.datetime:
        return self.start + dt.timedelta(days=self.days - DETECTION_WINDOW_DAYS)

    @property
    def training_start(self) -> dt.datetime:
        days = min(TRAINING_DAYS, self.days - DETECTION_WINDOW_DAYS)
        return self.detection_start - dt.timedelta(days=days)

    @property
    def hours(self) -> int:
        return self.days * 24


def build_vars(options: WorldOptions, inputs: Path) -> dict[str, object]:
    """The dbt vars that build a world written to `inputs`: its folder and its time window."""
    return {
        "mrs_input_dir": inputs.as_posix(),
        "training_start": f"{options.training_start:%Y-%m-%d}",
        "detection_start": f"{options.detection_start:%Y-%m-%d}",
    }


def _at(options: WorldOptions, offset_hours: float) -> dt.datetime:
    return options.detection_start + dt.timedelta(hours=offset_hours)


def build_stores(options: WorldOptions) -> pd.DataFrame:
    rng = np.random.default_rng([options.seed, 1])
    rows = []
    for i in range(options.stores):
        retailer, _ = spec.RETAILERS[i % len(spec.RETAILERS)]
        city, region, lat, lon, _ = spec.CITIES[i % len(spec.CITIES)]
        jitter = rng.uniform(-0.04, 0.04, size=2)
        rows.append(
            {
                "store_id": store_id(i),
                "store_name": f"{retailer} {city} {i // len(spec.CITIES) + 1}",
                "retailer": retailer,
                "region": region,
                "city": city,
                "latitude": round(lat + jitter[0], 4),
                "longitude": round(lon + jitter[1], 4),
            }
        )
    return pd.DataFrame(rows)


# Stores i and i + STORE_TILE have the same retailer and city (6 retailers, 8 cities).
STORE_TILE = 24


def _tile_suffix(tile: int) -> str:
    return "" if tile == 0 else f"-T{tile + 1:03d}"


def _tiles(options: WorldOptions) -> range:
    """The blocks of STORE_TILE stores that replay the narratives (only the first, by default)."""
    return range(-(-options.stores // STORE_TILE) if options.anomaly_tiles else 1)


def scenarios(options: WorldOptions) -> list[spec.Scenario]:
    """The world's narratives: the demo's, replayed in every tile of stores when asked."""
    return [
        replace(
            scenario,
            narrative_id=scenario.narrative_id + _tile_suffix(tile),
            stores=tuple(s + tile * STORE_TILE for s in scenario.stores),
        )
        for tile in _tiles(options)
        for scenario in spec.SCENARIOS
    ]


def _tiled_by_store(options: WorldOptions, items: tuple, id_field: str) -> list:
    """Campaigns or context events: the store-level ones replayed in every tile (the others
    name a retailer, city or region, which every tile shares)."""
    return [
        replace(item, **{id_field: getattr(item, id_field) + _tile_suffix(tile)},
                store=item.store + tile * STORE_TILE)
        if tile
        else item
        for tile in _tiles(options)
        for item in items
        if tile == 0 or item.store is not None
    ]  # fmt: skip


# One spelling of the ids for Python and for DuckDB's printf (the sales are written in SQL).
STORE_ID_FORMAT = "ST-%03d"
SKU_ID_FORMAT = "SKU-%03d"


def store_id(index: int) -> str:
    return STORE_ID_FORMAT % (index + 1)


def sku_id(index: int) -> str:
    return SKU_ID_FORMAT % (index + 1)


def _product(index: int) -> tuple[str, str, str, float, float]:
    if index < len(spec.PRODUCTS):
        return spec.PRODUCTS[index]
    base = spec.PRODUCTS[index % len(spec.PRODUCTS)]
    return (f"Snack Product {index + 1}", base[1], base[2], base[3] * 0.8, base[4])


def build_products(options: WorldOptions) -> pd.DataFrame:
    rows = []
    for j in range(options.products):
        name, brand, category, _, _ = _product(j)
        rows.append({"sku": sku_id(j), "product_name": name, "brand": brand, "category": category})
    return pd.DataFrame(rows)


def _hour_of_week_profile(peaks: tuple[float, float] = (12.5, 17.5)) -> np.ndarray:
    """Expected share of peak demand for each of the 168 hours of a week (Monday 00:00 first)."""
    profile = np.zeros(168)
    hours = np.arange(24, dtype=float)
    # Lunchtime and after-work peaks.
    daily = 0.35 + 0.65 * np.exp(-(((hours - peaks[0]) / 2.0) ** 2))
    daily += 0.55 * np.exp(-(((hours - peaks[1]) / 1.8) ** 2))
    daily /= daily.max()
    for weekday in range(7):
        open_hour, close_hour = spec.SUNDAY_HOURS if weekday == 6 else spec.WEEKDAY_HOURS
        day = np.where((hours >= open_hour) & (hours < close_hour), daily, 0.0)
        profile[weekday * 24 : (weekday + 1) * 24] = day * spec.WEEKDAY_FACTORS[weekday]
    return profile


def _scenario_multipliers(
    options: WorldOptions, n_hours: int
) -> tuple[dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]], list[spec.Scenario]]:
    """Per affected (store, product): hour indexes, demand multiplier, recorded multiplier."""
    effects: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    used: list[spec.Scenario] = []
    window_offset = (options.detection_start - options.start) // dt.timedelta(hours=1)
    for scenario in scenarios(options):
        pairs = [
            (s, p)
            for s in scenario.stores
            for p in scenario.products
            if s < options.stores and p < options.products
        ]
        if not pairs:
            continue
        used.append(scenario)
        first = window_offset + scenario.start_hour
        length = scenario.end_hour - scenario.start_hour
        idx = np.arange(first, first + length)
        keep = (idx >= 0) & (idx < n_hours)
        profile = excess_profile(scenario.shape, length)
        multiplier = 1.0 + scenario.direction * scenario.magnitude * profile
        for pair in pairs:
            demand = np.ones(length)
            recorded = np.ones(length)
            if scenario.recorded_multiplier:
                recorded = multiplier
            else:
                demand = multiplier
            effects[pair] = (idx[keep], demand[keep], recorded[keep])
    return effects, used


def generate_sales(options: WorldOptions) -> pd.DataFrame:
    """Hourly units and revenue for every store x product x hour, in a deterministic order."""
    rng = np.random.default_rng([options.seed, 2])
    n_s, n_p, n_h = options.stores, options.products, options.hours
    retailer_factor = np.array([spec.RETAILERS[i % len(spec.RETAILERS)][1] for i in range(n_s)])
    city_factor = np.array([spec.CITIES[i % len(spec.CITIES)][4] for i in range(n_s)])
    product_level = np.array([_product(j)[3] for j in range(n_p)])
    price = np.array([_product(j)[4] for j in range(n_p)])
    level = (
        retailer_factor[:, None]
        * city_factor[:, None]
        * product_level[None, :]
        * rng.lognormal(0.0, 0.15, size=(n_s, n_p))
    )
    # A gentle per-series trend over the whole period tests the level adjustment.
    trend_total = rng.normal(0.0, 0.04, size=(n_s, n_p))

    start_hour_of_week = options.start.weekday() * 24 + options.start.hour
    how = (start_hour_of_week + np.arange(n_h)) % 168
    seasonal = _hour_of_week_profile()[how]
    if options.regime_shift_day is not None:
        shift_from = (options.detection_start - options.start) // dt.timedelta(hours=1)
        shifted = np.arange(n_h) >= shift_from + 24 * options.regime_shift_day
        regime = _hour_of_week_profile(options.regime_peaks)[how] * options.regime_level
        seasonal = np.where(shifted, regime, seasonal)
    progress = np.arange(n_h) / max(n_h - 1, 1)

    mean = level[:, :, None] * seasonal[None, None, :]
    mean = mean * (1.0 + trend_total[:, :, None] * progress[None, None, :])
    recorded = np.ones_like(mean)
    revenue_factor = np.ones_like(mean)
    effects, used = _scenario_multipliers(options, n_h)
    scenario_of = {
        (s, p): sc for sc in used for s in sc.stores for p in sc.products if (s, p) in effects
    }
    for (s, p), (idx, demand, rec) in effects.items():
        mean[s, p, idx] *= demand
        recorded[s, p, idx] = rec
        revenue_factor[s, p, idx] = scenario_of[(s, p)].revenue_factor

    shape = OVERDISPERSION
    gamma = rng.gamma(shape, 1.0, size=mean.shape) * (mean / shape)
    units = rng.poisson(gamma)
    units = np.rint(units * recorded).astype(np.int64)
    revenue = np.round(units * price[None, :, None] * revenue_factor, 2)

    # Order: hour, store, product (the order a feed arrives in).
    hour_index = np.broadcast_to(np.arange(n_h)[None, None, :], mean.shape)
    store_index = np.broadcast_to(np.arange(n_s)[:, None, None], mean.shape)
    product_index = np.broadcast_to(np.arange(n_p)[None, :, None], mean.shape)
    frame = pd.DataFrame(
        {
            "hour_index": hour_index.transpose(2, 0, 1).reshape(-1),
            "store_index": store_index.transpose(2, 0, 1).reshape(-1),
            "product_index": product_index.transpose(2, 0, 1).reshape(-1),
            "units": units.transpose(2, 0, 1).reshape(-1),
            "revenue": revenue.transpose(2, 0, 1).reshape(-1),
        }
    )
    return frame


def build_narratives(options: WorldOptions) -> pd.DataFrame:
    _, used = _scenario_multipliers(options, options.hours)
    rows = []
    for sc in used:
        for s in sc.stores:
            for p in sc.products:
                if s >= options.stores or p >= options.products:
                    continue
                rows.append(
                    {
                        "narrative_id": sc.narrative_id,
                        "narrative_name": sc.narrative_name,
                        "store_id": store_id(s),
                        "sku": sku_id(p),
                        "start_ts": _at(options, sc.start_hour),
                        "end_ts": _at(options, sc.end_hour),
                        "cause": sc.cause,
                        "cause_category": sc.cause_category,
                        "cluster_name": sc.cluster_name,
                        "shape": sc.shape,
                        "magnitude": sc.magnitude * sc.direction,
                        "confidence": sc.confidence,
                    }
                )
    # The contract's columns even with no row (a world too small for any).
    return pd.DataFrame(rows, columns=list(input_columns("master_narratives")))


def _in_world(options: WorldOptions, store: int | None, product: int | None) -> bool:
    return (store is None or store < options.stores) and (
        product is None or product < options.products
    )


def build_campaigns(options: WorldOptions) -> pd.DataFrame:
    rows = []
    for c in _tiled_by_store(options, spec.CAMPAIGNS, "campaign_id"):
        if not _in_world(options, c.store, c.product):
            continue
        rows.append(
            {
                "campaign_id": c.campaign_id,
                "campaign_name": c.campaign_name,
                "channel": c.channel,
                "cause_category": c.cause_category,
                "start_ts": _at(options, c.start_hour),
                "end_ts": _at(options, c.end_hour),
                "sku": None if c.product is None else sku_id(c.product),
                "retailer": c.retailer,
                "region": c.region,
                "city": c.city,
                "store_id": None if c.store is None else store_id(c.store),
                "spend": c.spend,
            }
        )
    # The contract's columns even with no row (a world too small for any).
    return pd.DataFrame(rows, columns=list(input_columns("all_campaign_data")))


def build_context(options: WorldOptions) -> pd.DataFrame:
    rows = []
    for e in _tiled_by_store(options, spec.CONTEXT_EVENTS, "event_id"):
        if not _in_world(options, e.store, e.product):
            continue
        rows.append(
            {
                "event_id": e.event_id,
                "event_type": e.event_type,
                "event_subtype": e.event_subtype,
                "event_name": e.event_name,
                "start_ts": _at(options, e.start_hour),
                "end_ts": _at(options, e.end_hour),
                "retailer": e.retailer,
                "region": e.region,
                "city": e.city,
                "store_id": None if e.store is None else store_id(e.store),
                "sku": None if e.product is None else sku_id(e.product),
                "url": e.url,
                "severity": e.severity,
            }
        )
    # The contract's columns even with no row (a world too small for any).
    return pd.DataFrame(rows, columns=list(input_columns("contextual_data")))


# Each library cluster: its typical cause, the shape drawn for it, a typical magnitude
# (signed) and a typical length in trading hours (reports are measured in trading hours).
CLUSTER_DEFINITIONS: tuple[tuple[str, str, str, float, int], ...] = (
    ("CL-01", "sharp_spike", "social_viral", 2.2, 17),
    ("CL-02", "media_pulse", "traditional_media", 2.0, 10),
    ("CL-03", "sustained_plateau", "competitor_stockout", 0.9, 36),
    ("CL-04", "gradual_ramp", "weather", 1.4, 22),
    ("CL-05", "promo_step", "tpo_promotion", 1.3, 21),
    ("CL-06", "duplicated_block", "data_error", 1.0, 21),
    ("CL-07", "sudden_drop", "operational", -0.95, 6),
)


def build_cluster_library() -> pd.DataFrame:
    """Centroids are the shape vectors of each cluster's idealised curve."""
    vectors = []
    for _, shape, _, magnitude, hours in CLUSTER_DEFINITIONS:
        baseline = np.ones(hours)
        actual = baseline * (1.0 + magnitude * excess_profile(shape, hours))
        vectors.append(shape_vector(actual, baseline))
    matrix = np.vstack(vectors)
    coords = _planar_embedding(matrix)
    rows = []
    for (cluster_id, shape, cause, _, _), vector, (x, y) in zip(
        CLUSTER_DEFINITIONS, matrix, coords, strict=True
    ):
        row = {"cluster_id": cluster_id, "cluster_name": shape, "cause_category": cause}
        features = zip(FEATURE_NAMES, vector, strict=True)
        row.update({name: round(float(value), 6) for name, value in features})
        row.update({"tsne_x": round(float(x), 4), "tsne_y": round(float(y), 4)})
        rows.append(row)
    assert set(SHAPES) == {d[1] for d in CLUSTER_DEFINITIONS}
    return pd.DataFrame(rows)


def _planar_embedding(matrix: np.ndarray) -> np.ndarray:
    """Deterministic 2-D layout of the centroids (principal components, signs fixed)."""
    centred = matrix - matrix.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    signs = np.sign(components[np.arange(2), np.argmax(np.abs(components), axis=1)])
    coords = centred @ (components * signs[:, None]).T
    scale = np.abs(coords).max() or 1.0
    return coords / scale * 10.0


def build_cause_taxonomy() -> pd.DataFrame:
    return pd.DataFrame(spec.CAUSE_TAXONOMY, columns=["cause_category", "label", "description"])


def build_run_config(options: WorldOptions) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "run_id": DEMO_RUN_ID,
                "world_seed": options.seed,
                "training_start": options.training_start,
                "detection_start": options.detection_start,
                "tick_hours": 1,
                "description": "Demo world: UK confectionery and snacks, detection window "
                f"{options.detection_start:%Y-%m-%d} for {DETECTION_WINDOW_DAYS} days",
            }
        ]
    )


def write_world(
    options: WorldOptions,
    out_dir: Path,
    file_format: str = "csv",
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write every input of the world to `out_dir`; return the row count per file."""
    if file_format not in ("csv", "parquet"):
        raise ValueError("file format must be 'csv' or 'parquet'")
    out_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _message: None)
    tables: dict[str, pd.DataFrame] = {
        "stores": build_stores(options),
        "products": build_products(options),
        "master_narratives": build_narratives(options),
        "all_campaign_data": build_campaigns(options),
        "contextual_data": build_context(options),
        "cluster_library": build_cluster_library(),
        "cause_taxonomy": build_cause_taxonomy(),
        "demo_run_config": build_run_config(options),
    }
    counts: dict[str, int] = {}
    with duckdb.connect() as con:
        con.execute("set threads to 2")
        for name, frame in tables.items():
            counts[name] = _write_frame(con, frame, out_dir / f"{name}.{file_format}", file_format)
            say(f"wrote {name}: {counts[name]} rows")
        say(
            f"drawing sales for {options.stores} stores x {options.products} products "
            f"x {options.hours} hours"
        )
        sales = generate_sales(options)
        counts["unified_sales_data"] = _write_sales(con, sales, options, out_dir, file_format)
        say(f"wrote unified_sales_data: {counts['unified_sales_data']} rows")
    return counts


def _write_frame(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, path: Path, fmt: str) -> int:
    con.register("frame_to_write", frame)
    options = "(format csv, header true)" if fmt == "csv" else "(format parquet)"
    con.execute(f"copy (select * from frame_to_write) to '{path.as_posix()}' {options}")
    con.unregister("frame_to_write")
    return len(frame)


def _write_sales(
    con: duckdb.DuckDBPyConnection,
    sales: pd.DataFrame,
    options: WorldOptions,
    out_dir: Path,
    fmt: str,
) -> int:
    return copy_sales(con, sales, options.start, out_dir / f"unified_sales_data.{fmt}", fmt)


def copy_sales(
    con: duckdb.DuckDBPyConnection, sales: pd.DataFrame, start: dt.datetime, path: Path, fmt: str
) -> int:
    """Write drawn sales (hour_index, store_index, product_index, units, revenue) as the
    feed's columns, in the order a feed arrives: hour, store, product."""
    con.register("sales_draw", sales)
    copy_options = "(format csv, header true)" if fmt == "csv" else "(format parquet)"
    first_hour = start.strftime("%Y-%m-%d %H:%M:%S")
    con.execute(
        f"""
        copy (
            select
                timestamp '{first_hour}' + to_hours(hour_index) as sales_ts,
                -- As store_id() and sku_id() write them: lpad would cut 'ST-1000' to 'ST-100'.
                printf('{STORE_ID_FORMAT}', store_index + 1) as store_id,
                printf('{SKU_ID_FORMAT}', product_index + 1) as sku,
                units,
                cast(revenue as decimal(14, 2)) as revenue
            from sales_draw
            order by hour_index, store_index, product_index
        ) to '{path.as_posix()}' {copy_options}
        """
    )
    con.unregister("sales_draw")
    return len(sales)
