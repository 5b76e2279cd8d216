"""A family of generated worlds for scoring detection on data it was never tuned on.

The demo world (mrs.dev.world) replays one story; thresholds tuned on it flatter the models. A
family world draws, from its seed, what real feeds vary: the calendar (so weekdays fall
anywhere), volume (five classes from about 1 to about 50,000 units an hour), the intraday
pattern of each store (`retail`, `late`, `24h`, each with its own weekday and weekend shape),
the noise (negative binomial with a per-series shape, a per-series-day level noise, a trend),
disturbances in the training weeks (holidays, bursts), optionally each series' own bursts
all through the world (part of the null) and, unless the world is null, one anomaly on about
half of the series in the detection window. The same options always give
byte-identical files.

Cumulative strength. An anomaly's strength S is the total excess units over its window
divided by the standard deviation of the window's total under the null noise model:

    S = sum_h e_h / sd,   e_h = m * mu_h * shape_h,
    sd^2 = sum_h (mu_h + mu_h^2 / r) + sum_d sigma_d^2 * (sum_{h in d and window} mu_h)^2,

where mu_h is the null mean of hour h (level x pattern x trend, no day noise), r the
series' negative-binomial shape (variance mu + mu^2 / r), sigma_d the sd of its
multiplicative day factor, d the calendar days the window touches, shape_h the anomaly's
shape (peak 1) and m the signed peak relative change. m is solved so that S equals the
target; closed hours have mu_h = 0 and so no excess. A drop's multiplier is capped at -0.95
(sales never below 5 % of normal): when the cap binds, the strength recorded is the one the
capped multiplier achieves, not the target. S is what any detector sees at best: an
anomaly of S = 3 is a three-sigma deviation of the window total even to an oracle that knows
the null mean.

Anomalies: exactly half of the series (at least one) get one each, starting at an open hour at
least 24 h into the detection window and ending at least 24 h before the data ends. Their
duration, strength band, direction and shape walk a fixed grid from the seed (`_grid_cell`),
so a few consecutive seeds cover every duration x strength band with both directions.

The inputs go to `<folder>/inputs` (what `mrs build --input-dir` reads); the truth, which
is not a pipeline input, goes to `<folder>/truth`: `anomalies.csv` (one row per detection
anomaly), `series.csv` (one row per store x sku) and `disturbances.csv` (training holidays
and bursts, and each series' own bursts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from mrs.dev import world_spec as spec
from mrs.dev.world import copy_sales, sku_id, store_id
from mrs.pipeline.input_contract import csv_header, input_columns

VOLUME_CLASSES: tuple[tuple[str, float, float], ...] = (
    # (class, typical trading-hour mean from, to) in units per hour
    ("1", 0.5, 2.0),
    ("10", 5.0, 20.0),
    ("100", 50.0, 200.0),
    ("1k", 500.0, 2_000.0),
    ("10k+", 10_000.0, 50_000.0),
)
UNIT_PRICE = {"1": 12.0, "10": 4.5, "100": 2.0, "1k": 0.8, "10k+": 0.25}
PATTERNS = ("retail", "late", "24h")
DURATIONS_HOURS = (2, 4, 8, 16, 24, 48, 72)
STRENGTH_BANDS: tuple[tuple[float, float], ...] = (
    (3.0, 5.0),
    (5.0, 8.0),
    (8.0, 12.0),
    (12.0, 20.0),
    (20.0, 30.0),
)
SHAPES = ("step", "spike", "ramp", "pulse")
DROP_CAP = -0.95  # a drop never takes sales below 5 % of normal
# Negative-binomial shape r: the noise beyond Poisson has a coefficient of variation 1/sqrt(r)
# from 3 % to 35 % of the level, at every volume (an hourly CV above about a third is not
# what a store x sku feed does at a thousand units an hour; at one unit an hour Poisson
# noise dominates either way).
NB_SHAPE_RANGE = (8.0, 1_000.0)
DAY_NOISE_SD_MAX = 0.06
TREND_MAX = 0.20
BURST_SHARE = 0.15
ANOMALY_MARGIN_HOURS = 24
START_YEARS = (2023, 2026)
# The cluster library's name and cause category for each shape (mrs.dev.world.CLUSTER_DEFINITIONS).
NARRATIVE_CLUSTERS = {
    "step": ("sustained_plateau", "competitor_stockout"),
    "spike": ("sharp_spike", "social_viral"),
    "ramp": ("gradual_ramp", "weather"),
    "pulse": ("media_pulse", "traditional_media"),
    "down": ("sudden_drop", "operational"),
}
# Inputs a family world leaves empty (header only): detection alone is scored.
EMPTY_INPUTS = ("all_campaign_data", "contextual_data")


@dataclass(frozen=True)
class FamilyOptions:
    seed: int
    null: bool = False
    stores: int = 8
    products: int = 10
    training_days: int = 28
    detection_days: int = 14
    # The stores keep this zone's wall clock (IANA name) and the feed carries their hours in
    # UTC, so a daylight-saving change moves every trading hour by one; None: the hours are UTC.
    store_timezone: str | None = None
    # The zone the build reads the feed's hours in (var mrs_store_timezone) when it is not the
    # stores' own: a misread clock, whose midnight can fall inside the trading hours ('UTC':
    # the feed's hours as they are, no zone given); None: store_timezone.
    read_timezone: str | None = None
    # A season's drift of the intraday shape: by the end of the world the evening hours sell
    # exp(shape_drift) times, the morning hours exp(-shape_drift) times their first-day share
    # of the day (each day's total unchanged); 0: the shape stays as drawn.
    shape_drift: float = 0.0
    # Weather-like noise that persists from hour to hour: a log factor on every hour's mean,
    # AR(1) over the hours of each series with this standard deviation and `hour_noise_rho`
    # the correlation of neighbouring hours; 0: hours are independent given their day.
    hour_noise_sd: float = 0.0
    hour_noise_rho: float = 0.8
    # Noise a store's products share (its traffic: a busy afternoon, a wet morning): a log
    # factor on every hour's mean, AR(1) over the hours of each store with this standard
    # deviation and `hour_noise_rho` the correlation of neighbouring hours, the same for
    # every product of the store; 0: products are independent given their means.
    store_noise_sd: float = 0.0
    # Store-wide anomalies (a power cut, a closure, a local event): this many stores get one
    # anomaly on every product at once, with one relative change (the products of those
    # stores get no anomaly of their own); 0: every anomaly is one series'.
    store_events: int = 0
    # The contextual data names the training weeks' holidays (event_type 'holiday', scoped to
    # their region or to every store), as a retailer's calendar does; False: it is empty.
    holiday_calendar: bool = False
    # Bursts that are a series' own habit (a post that went viral, a flash sale that no
    # campaign data names): each series gets this many a week on average, anywhere in the
    # training and detection weeks, 1-6 hours at x(1 + e^N(0, 0.7)) (x2 at the median, x4 at
    # the 95th percentile). They are part of the null, as a mention count's bursts are: a
    # report on one matches no anomaly. 0: demand has no tail beyond its count noise.
    series_bursts_per_week: float = 0.0
    # The first of the stores' two weekend days (0 Monday ... 6 Sunday): 5 Saturday and
    # Sunday, 4 Friday and Saturday (much of the Middle East), 3 Thursday and Friday. The
    # evening before the weekend keeps its late crowd.
    weekend_start: int = 5

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError("a family seed must be a non-negative integer")
        if self.stores < 1 or self.products < 1:
            raise ValueError("a world needs at least one store and one product")
        if self.training_days < 14:
            raise ValueError("training_days must be at least 14 (two weeks of each weekday)")
        if not 0.0 <= self.shape_drift <= 1.0:
            raise ValueError("shape_drift must be between 0 and 1 (a log change of the shares)")
        if not 0.0 <= self.hour_noise_sd <= 0.5 or not 0.0 <= self.hour_noise_rho < 1.0:
            raise ValueError("hour_noise_sd must be in [0, 0.5] and hour_noise_rho in [0, 1)")
        if not 0.0 <= self.store_noise_sd <= 0.5:
            raise ValueError("store_noise_sd must be in [0, 0.5]")
        if not 0 <= self.store_events <= self.stores:
            raise ValueError("store_events must be between 0 and the number of stores")
        if not 0.0 <= self.series_bursts_per_week <= 7.0:
            raise ValueError("series_bursts_per_week must be between 0 and 7")
        if not 0 <= self.weekend_start <= 6:
            raise ValueError("weekend_start must be a weekday from 0 (Monday) to 6 (Sunday)")
        if self.detection_days * 24 < max(DURATIONS_HOURS) + 2 * ANOMALY_MARGIN_HOURS:
            raise ValueError("detection_days must leave room for a 72 h anomaly and 24 h margins")

    @property
    def days(self) -> int:
        return self.training_days + self.detection_days

    @property
    def hours(self) -> int:
        return self.days * 24

    @property
    def build_timezone(self) -> str | None:
        """The zone the build reads the feed's hours in (var mrs_store_timezone)."""
        return self.read_timezone or self.store_timezone

    @property
    def training_start(self) -> dt.datetime:
        """Midnight of a day drawn from the seed, so the weekday of every date varies."""
        rng = np.random.default_rng([self.seed, 0])
        first = dt.datetime(START_YEARS[0], 1, 1)
        last = dt.datetime(START_YEARS[1], 12, 31) - dt.timedelta(days=self.days)
        return first + dt.timedelta(days=int(rng.integers(0, (last - first).days + 1)))

    @property
    def detection_start(self) -> dt.datetime:
        return self.training_start + dt.timedelta(days=self.training_days)

    @property
    def end(self) -> dt.datetime:
        """The first hour after the data."""
        return self.training_start + dt.timedelta(days=self.days)


def family_build_vars(options: FamilyOptions, inputs: Path) -> dict[str, object]:
    """The dbt vars that build a family world written to `inputs` (as mrs.dev.world.build_vars
    does for a demo-sized world)."""
    settings: dict[str, object] = {
        "mrs_input_dir": inputs.as_posix(),
        "training_start": f"{options.training_start:%Y-%m-%d}",
        "detection_start": f"{options.detection_start:%Y-%m-%d}",
    }
    # UTC: the feed's hours as they are, read as a build given no zone reads them (so that it
    # looks for a daylight-saving change in them, model baseline_clock_change).
    if options.build_timezone and options.build_timezone != "UTC":
        settings["mrs_store_timezone"] = options.build_timezone
    return settings


@dataclass(frozen=True)
class StorePattern:
    """A store's trading pattern: mean share of the store's typical trading hour in each of the
    168 hours of a week (Monday 00:00 first; 0 = closed), normalised to mean 1 over open hours."""

    pattern: str
    week: np.ndarray


@dataclass(frozen=True)
class Anomaly:
    anomaly_id: str
    store: int
    product: int
    start_hour: int  # index into the world's hours
    duration_hours: int
    direction: str
    shape: str
    target_strength: float
    strength: float
    multiplier: float
    excess_units: float
    window_sd: float


@dataclass(frozen=True)
class Disturbance:
    """A training-week holiday (all series of a region, or every series) or burst (one series)."""

    kind: str
    start_hour: int
    hours: int
    factor: float
    region: str | None = None
    store: int | None = None
    product: int | None = None


@dataclass(frozen=True)
class FamilyWorld:
    """Everything drawn for one world; the means are kept so tests can recompute strengths."""

    options: FamilyOptions
    stores: pd.DataFrame
    patterns: tuple[StorePattern, ...]
    volume_class: tuple[str, ...]  # per product
    level: np.ndarray  # (stores, products): typical trading-hour mean
    nb_shape: np.ndarray  # (stores, products)
    day_noise_sd: np.ndarray  # (stores, products)
    trend: np.ndarray  # (stores, products): relative change over the whole period
    null_mean: np.ndarray  # (stores, products, hours): level x pattern x trend
    mean: np.ndarray  # null_mean with disturbances and anomalies, before day noise
    disturbances: tuple[Disturbance, ...]
    anomalies: tuple[Anomaly, ...]


# --- intraday patterns ---------------------------------------------------------------------


def _bump(x: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-(((x - centre) / width) ** 2))


def _store_pattern(pattern: str, rng: np.random.Generator, weekend_start: int) -> StorePattern:
    """Each day is drawn on hours 0-30 (midpoints) of its own date, masked to its opening
    hours; hours past 24 spill into the next date (late Friday and Saturday nights). The week
    is drawn with a Saturday-Sunday weekend and turned so that it starts on `weekend_start`
    (the same draws whatever the calendar)."""
    x = np.arange(30) + 0.5
    weekday_factor = rng.uniform(0.8, 1.3, size=7)
    week = np.zeros(168 + 6)
    if pattern == "24h":
        curves, opening = _round_the_clock_days(x, rng)
    else:
        curves, opening = _shop_days(x, rng, late=pattern == "late")
    for day in range(7):
        open_hour, close_hour = opening[day]
        curve = np.where((x >= open_hour) & (x < close_hour), curves[day], 0.0)
        week[day * 24 : day * 24 + 30] += curve * weekday_factor[day]
    # Sunday night spills over into Monday morning.
    week[:6] += week[168:]
    week = np.roll(week[:168], (weekend_start - 5) * 24)
    week /= week[week > 0].mean()
    return StorePattern(pattern=pattern, week=week)


def _shop_days(
    x: np.ndarray, rng: np.random.Generator, late: bool
) -> tuple[list[np.ndarray], list[tuple[float, float]]]:
    """`retail` and `late`: closed at night, a lunchtime and an after-work peak on weekdays,
    one broad afternoon peak at weekends, shorter Sunday hours; `late` opens to 02:00 on
    Friday and Saturday nights with an evening crowd."""
    open_hour = 7 + int(rng.integers(-2, 3))
    close_hour = 22 + int(rng.integers(-2, 3))
    sunday = (open_hour + int(rng.integers(1, 4)), close_hour - int(rng.integers(1, 4)))
    weekday = (
        rng.uniform(0.25, 0.45)
        + rng.uniform(0.5, 1.0) * _bump(x, rng.uniform(11.5, 13.5), rng.uniform(1.2, 2.2))
        + rng.uniform(0.4, 0.9) * _bump(x, rng.uniform(16.5, 18.5), rng.uniform(1.2, 2.2))
    )
    weekend = rng.uniform(0.3, 0.5) + _bump(x, rng.uniform(13.0, 15.5), rng.uniform(2.5, 4.0))
    night = rng.uniform(0.5, 0.9) * _bump(x, rng.uniform(21.0, 23.5), 2.0) if late else 0.0
    curves = [weekday] * 4 + [weekday + night, weekend + night, weekend]
    late_close = 26 if late else close_hour
    opening = [(open_hour, close_hour)] * 4 + [(open_hour, late_close), (open_hour, late_close)]
    opening.append(sunday)
    return curves, opening


def _round_the_clock_days(
    x: np.ndarray, rng: np.random.Generator
) -> tuple[list[np.ndarray], list[tuple[float, float]]]:
    """`24h` (taxi-like): never closed, low at night; commuter peaks on weekdays; a later,
    flatter peak at weekends; busy Friday and Saturday late nights."""
    floor = rng.uniform(0.05, 0.2)
    hour = x % 24
    night = floor * np.ones_like(x)
    weekday = (
        night
        + rng.uniform(0.6, 1.0) * _bump(hour, rng.uniform(7.0, 9.0), rng.uniform(1.0, 1.8))
        + rng.uniform(0.7, 1.0) * _bump(hour, rng.uniform(17.0, 19.5), rng.uniform(1.2, 2.2))
        + rng.uniform(0.3, 0.5) * _bump(hour, 13.0, 3.0)
    )
    weekend = night + rng.uniform(0.5, 0.8) * _bump(
        hour, rng.uniform(13.5, 17.0), rng.uniform(3.0, 5.0)
    )
    nightlife = rng.uniform(0.6, 1.0) * _bump(x, rng.uniform(23.0, 25.5), rng.uniform(1.8, 3.0))
    # Hours 24-30 of a day only carry the Friday and Saturday nightlife into the next date.
    own_day = np.where(x < 24, 1.0, 0.0)
    curves = [weekday * own_day] * 4
    curves += [weekday * own_day + nightlife, weekend * own_day + nightlife, weekend * own_day]
    return curves, [(0, 30)] * 7


def _choose_patterns(stores: int, rng: np.random.Generator) -> list[str]:
    """Every pattern at least once when there are three stores or more, `24h` always."""
    chosen = ["24h", "retail", "late"][:stores]
    chosen += list(rng.choice(PATTERNS, size=stores - len(chosen), p=[0.4, 0.3, 0.3]))
    return [str(chosen[i]) for i in rng.permutation(stores)]


# --- the world -----------------------------------------------------------------------------


def _build_stores(options: FamilyOptions, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for i in range(options.stores):
        retailer, _ = spec.RETAILERS[int(rng.integers(len(spec.RETAILERS)))]
        city, region, lat, lon, _ = spec.CITIES[i % len(spec.CITIES)]
        rows.append(
            {
                "store_id": store_id(i),
                "store_name": f"{retailer} {city} {i // len(spec.CITIES) + 1}",
                "retailer": retailer,
                "region": region,
                "city": city,
                "latitude": round(lat + float(rng.uniform(-0.04, 0.04)), 4),
                "longitude": round(lon + float(rng.uniform(-0.04, 0.04)), 4),
            }
        )
    return pd.DataFrame(rows)


def _volume_classes(products: int) -> tuple[str, ...]:
    """Products cycle through the classes, so every world of five products or more has all."""
    return tuple(VOLUME_CLASSES[j % len(VOLUME_CLASSES)][0] for j in range(products))


def _log_uniform(rng: np.random.Generator, low: float, high: float, size=None):
    return np.exp(rng.uniform(np.log(low), np.log(high), size=size))


def draw_world(options: FamilyOptions) -> FamilyWorld:
    """Draw every parameter and mean of the world (no counts yet)."""
    n_s, n_p, n_h = options.stores, options.products, options.hours
    store_rng = np.random.default_rng([options.seed, 1])
    stores = _build_stores(options, store_rng)
    names = _choose_patterns(n_s, store_rng)
    patterns = tuple(_store_pattern(name, store_rng, options.weekend_start) for name in names)
    classes = _volume_classes(n_p)

    series_rng = np.random.default_rng([options.seed, 2])
    bounds = {name: (low, high) for name, low, high in VOLUME_CLASSES}
    level = np.array(
        [[_log_uniform(series_rng, *bounds[classes[p]]) for p in range(n_p)] for _ in range(n_s)]
    )
    nb_shape = _log_uniform(series_rng, *NB_SHAPE_RANGE, size=(n_s, n_p))
    day_noise_sd = series_rng.uniform(0.0, DAY_NOISE_SD_MAX, size=(n_s, n_p))
    trend = series_rng.uniform(-TREND_MAX, TREND_MAX, size=(n_s, n_p))

    first_how = options.training_start.weekday() * 24
    how = (first_how + np.arange(n_h)) % 168
    week = np.vstack([p.week for p in patterns])  # (stores, 168)
    progress = np.arange(n_h) / (n_h - 1)
    null_mean = (
        level[:, :, None] * week[:, None, how] * (1.0 + trend[:, :, None] * progress[None, None, :])
    )
    if options.shape_drift:
        null_mean *= _shape_drift(options.shape_drift, week[:, how], progress)[:, None, :]

    mean = null_mean.copy()
    disturbances = _training_disturbances(options, stores, np.random.default_rng([options.seed, 3]))
    if options.series_bursts_per_week:
        disturbances += _series_bursts(options, null_mean, np.random.default_rng([options.seed, 8]))
    for disturbance in disturbances:
        _apply_disturbance(mean, stores, disturbance)
    anomalies: tuple[Anomaly, ...] = ()
    if not options.null:
        anomalies = _detection_anomalies(
            options, null_mean, nb_shape, day_noise_sd, np.random.default_rng([options.seed, 4])
        )
        if options.store_events:
            events = _store_events(
                options, null_mean, nb_shape, day_noise_sd, np.random.default_rng([options.seed, 7])
            )
            event_stores = {a.store for a in events}
            anomalies = tuple(a for a in anomalies if a.store not in event_stores) + events
        for anomaly in anomalies:
            window = slice(anomaly.start_hour, anomaly.start_hour + anomaly.duration_hours)
            profile = shape_profile(anomaly.shape, anomaly.duration_hours)
            mean[anomaly.store, anomaly.product, window] *= 1.0 + anomaly.multiplier * profile
    return FamilyWorld(
        options=options,
        stores=stores,
        patterns=patterns,
        volume_class=classes,
        level=level,
        nb_shape=nb_shape,
        day_noise_sd=day_noise_sd,
        trend=trend,
        null_mean=null_mean,
        mean=mean,
        disturbances=disturbances,
        anomalies=anomalies,
    )


def _shape_drift(drift: float, week_hours: np.ndarray, progress: np.ndarray) -> np.ndarray:
    """(stores, hours): each hour's share of its day moves, over the whole world, by
    exp(drift x cos(2 pi (hour - 21) / 24)) (evenings up, mornings down: a season's darker
    evenings), normalised per calendar day so that the day's expected total stays as drawn."""
    hour_of_day = np.arange(progress.size) % 24
    raw = np.exp(drift * progress * np.cos(2 * np.pi * (hour_of_day - 21) / 24))
    weights = week_hours.reshape(week_hours.shape[0], -1, 24)
    drifted = weights * raw.reshape(1, -1, 24)
    totals = drifted.sum(axis=2, keepdims=True)
    scale = np.where(
        totals > 0, weights.sum(axis=2, keepdims=True) / np.where(totals > 0, totals, 1.0), 1.0
    )
    return (raw.reshape(1, -1, 24) * scale).reshape(week_hours.shape)


def _training_disturbances(
    options: FamilyOptions, stores: pd.DataFrame, rng: np.random.Generator
) -> tuple[Disturbance, ...]:
    """1-2 holidays (a region's series or every series, a whole day at 0.4-0.7 or 1.3-1.8)
    and a burst (2-48 h at +50 % to +200 %) on about 15 % of series, all in the training
    weeks: they are never scored, they test that the baseline is robust to them."""
    found: list[Disturbance] = []
    regions = sorted(set(stores["region"]))
    days = rng.choice(options.training_days, size=int(rng.integers(1, 3)), replace=False)
    for day in sorted(int(d) for d in days):
        region = None if rng.uniform() < 1 / 3 else str(rng.choice(regions))
        factor = rng.uniform(0.4, 0.7) if rng.uniform() < 0.5 else rng.uniform(1.3, 1.8)
        found.append(Disturbance("holiday", day * 24, 24, round(float(factor), 4), region))
    training_hours = options.training_days * 24
    for s in range(options.stores):
        for p in range(options.products):
            if rng.uniform() >= BURST_SHARE:
                continue
            hours = int(rng.integers(2, 49))
            start = int(rng.integers(0, training_hours - hours + 1))
            factor = round(float(rng.uniform(1.5, 3.0)), 4)
            found.append(Disturbance("burst", start, hours, factor, store=s, product=p))
    return tuple(found)


def _series_bursts(
    options: FamilyOptions, null_mean: np.ndarray, rng: np.random.Generator
) -> tuple[Disturbance, ...]:
    """Each series' own bursts (`series_bursts_per_week`), starting in its trading hours of
    the training and detection weeks alike."""
    n_s, n_p, n_h = null_mean.shape
    found: list[Disturbance] = []
    for s in range(n_s):
        for p in range(n_p):
            trading = np.flatnonzero(null_mean[s, p] > 0)
            count = int(rng.poisson(options.series_bursts_per_week * n_h / 168))
            for _ in range(count if len(trading) else 0):
                start = int(rng.choice(trading))
                hours = int(min(rng.integers(1, 7), n_h - start))
                factor = round(float(1.0 + np.exp(rng.normal(0.0, 0.7))), 4)
                found.append(Disturbance("series burst", start, hours, factor, store=s, product=p))
    return tuple(found)


def _apply_disturbance(mean: np.ndarray, stores: pd.DataFrame, d: Disturbance) -> None:
    window = slice(d.start_hour, d.start_hour + d.hours)
    if d.kind in ("burst", "series burst"):
        mean[d.store, d.product, window] *= d.factor
        return
    chosen = np.ones(len(stores), dtype=bool)
    if d.region is not None:
        chosen = (stores["region"] == d.region).to_numpy()
    mean[chosen, :, window] *= d.factor


def shape_profile(shape: str, hours: int) -> np.ndarray:
    """Share of the peak change in each clock hour of an anomaly (peak 1)."""
    t = (np.arange(hours) + 0.5) / hours
    if shape == "step":
        return np.ones(hours)
    if shape == "spike":
        # A linear rise over the first tenth (at least one hour), then an exponential decay.
        peak = int(np.ceil(0.1 * hours)) - 1
        rise = (np.arange(hours) + 1.0) / (peak + 1)
        return np.where(np.arange(hours) <= peak, rise, np.exp(-3.0 * (t - t[peak])))
    if shape == "ramp":
        return t / t[-1]
    if shape == "pulse":
        triangle = 1.0 - np.abs(2.0 * t - 1.0)
        return triangle / triangle.max()
    raise ValueError(f"unknown anomaly shape {shape!r}; known: {', '.join(SHAPES)}")


def hour_variance(mean: np.ndarray, nb_shape: np.ndarray | float) -> np.ndarray:
    """Variance of an hour's count given its day: negative binomial, mean + mean^2 / shape."""
    return mean + mean**2 / nb_shape


def window_sd(null_mean: np.ndarray, nb_shape: float, day_noise_sd: float, day: np.ndarray):
    """Sd of a window's total under the null noise model (see the module docstring); `day` is
    the calendar day of each hour."""
    hourly = float(np.sum(hour_variance(null_mean, nb_shape)))
    daily = sum(float(null_mean[day == d].sum()) ** 2 for d in np.unique(day))
    return float(np.sqrt(hourly + day_noise_sd**2 * daily))


def _grid_cell(global_index: int) -> tuple[int, int, str, str]:
    """(duration, strength band, direction, shape) of the seed's n-th anomaly. Consecutive
    global indexes walk the 7 x 5 grid, so every cell is covered across a few seeds; since 35
    is prime to 3 and 4, every cell also meets both directions and every shape in turn."""
    cell = global_index % (len(DURATIONS_HOURS) * len(STRENGTH_BANDS))
    duration = DURATIONS_HOURS[cell % len(DURATIONS_HOURS)]
    band = cell // len(DURATIONS_HOURS)
    direction = "down" if global_index % 3 == 0 else "up"
    return duration, band, direction, SHAPES[global_index % len(SHAPES)]


def _detection_anomalies(
    options: FamilyOptions,
    null_mean: np.ndarray,
    nb_shape: np.ndarray,
    day_noise_sd: np.ndarray,
    rng: np.random.Generator,
) -> tuple[Anomaly, ...]:
    n_s, n_p, n_h = null_mean.shape
    count = (n_s * n_p) // 2 or 1
    chosen = rng.choice(n_s * n_p, size=count, replace=False)
    detection_hour = options.training_days * 24
    day = np.arange(n_h) // 24
    anomalies = []
    for i, series in enumerate(chosen):
        s, p = divmod(int(series), n_p)
        duration, band, direction, shape = _grid_cell(options.seed * count + i)
        low, high = STRENGTH_BANDS[band]
        target = float(_log_uniform(rng, low, high))
        start = _start_hour(rng, null_mean[s, p] > 0, detection_hour, duration)
        window = slice(start, start + duration)
        mu = null_mean[s, p, window]
        sd = window_sd(mu, float(nb_shape[s, p]), float(day_noise_sd[s, p]), day[window])
        unit_excess = float(np.sum(mu * shape_profile(shape, duration)))
        placed = _Placed(s, start, duration, direction, shape, target)
        anomalies.append(
            placed.anomaly(
                f"FAM-{options.seed}-{i + 1:03d}", p, target * sd / unit_excess, unit_excess, sd
            )
        )
    return tuple(sorted(anomalies, key=lambda a: a.anomaly_id))


def _start_hour(
    rng: np.random.Generator, is_open: np.ndarray, detection_hour: int, duration: int
) -> int:
    """An open hour to start an anomaly of `duration` at, drawn among those at least
    ANOMALY_MARGIN_HOURS into the detection window whose window ends as long before the data."""
    first = detection_hour + ANOMALY_MARGIN_HOURS
    last = len(is_open) - duration - ANOMALY_MARGIN_HOURS
    return int(rng.choice([h for h in range(first, last + 1) if is_open[h]]))


@dataclass(frozen=True)
class _Placed:
    """Where, when and how an anomaly is drawn; `anomaly` grades it on one product."""

    store: int
    start_hour: int
    duration_hours: int
    direction: str
    shape: str
    target_strength: float

    def anomaly(
        self, anomaly_id: str, product: int, change: float, unit_excess: float, sd: float
    ) -> Anomaly:
        """The anomaly with relative change `change` (signed by the direction, a drop capped
        at DROP_CAP) on `product`: its achieved strength, excess units and window sd."""
        multiplier = max(change * (1.0 if self.direction == "up" else -1.0), DROP_CAP)
        excess = multiplier * unit_excess
        return Anomaly(
            anomaly_id=anomaly_id,
            store=self.store,
            product=product,
            start_hour=self.start_hour,
            duration_hours=self.duration_hours,
            direction=self.direction,
            shape=self.shape,
            target_strength=self.target_strength,
            strength=abs(excess) / sd,
            multiplier=multiplier,
            excess_units=excess,
            window_sd=sd,
        )


def _store_events(
    options: FamilyOptions,
    null_mean: np.ndarray,
    nb_shape: np.ndarray,
    day_noise_sd: np.ndarray,
    rng: np.random.Generator,
) -> tuple[Anomaly, ...]:
    """One anomaly on every product of `store_events` stores: one window, shape and relative
    change per store, the change solved so that the store's median product reaches a
    strength drawn from 3 to 30 (busier or steadier products get more, quieter ones less)."""
    n_s, n_p, n_h = null_mean.shape
    detection_hour = options.training_days * 24
    day = np.arange(n_h) // 24
    anomalies = []
    for k, s in enumerate(sorted(int(x) for x in rng.choice(n_s, options.store_events, False))):
        duration = int(rng.choice(DURATIONS_HOURS))
        shape = str(rng.choice(SHAPES))
        direction = "down" if rng.uniform() < 0.5 else "up"
        target = float(_log_uniform(rng, STRENGTH_BANDS[0][0], STRENGTH_BANDS[-1][1]))
        start = _start_hour(rng, (null_mean[s] > 0).any(axis=0), detection_hour, duration)
        window = slice(start, start + duration)
        profile = shape_profile(shape, duration)
        sds = [
            window_sd(null_mean[s, p, window], float(nb_shape[s, p]), float(day_noise_sd[s, p]),
                      day[window])
            for p in range(n_p)
        ]  # fmt: skip
        unit_excess = [float(np.sum(null_mean[s, p, window] * profile)) for p in range(n_p)]
        needed = [target * sd / excess for sd, excess in zip(sds, unit_excess, strict=True)]
        placed = _Placed(s, start, duration, direction, shape, target)
        change = float(np.median(needed))
        anomalies.extend(
            placed.anomaly(
                f"FAM-{options.seed}-S{k + 1:02d}-{p + 1:03d}", p, change, unit_excess[p], sds[p]
            )
            for p in range(n_p)
        )
    return tuple(anomalies)


def draw_units(world: FamilyWorld) -> np.ndarray:
    """Counts: the mean times a per-series-day lognormal factor (mean 1), then gamma-Poisson
    with the series' shape."""
    options = world.options
    rng = np.random.default_rng([options.seed, 5])
    n_s, n_p, _ = world.mean.shape
    sigma = world.day_noise_sd[:, :, None]
    day_factor = np.exp(sigma * rng.standard_normal((n_s, n_p, options.days)) - sigma**2 / 2)
    mean = world.mean * np.repeat(day_factor, 24, axis=2)
    if options.hour_noise_sd:
        mean *= persistent_hour_noise(options, (n_s, n_p, options.hours))
    if options.store_noise_sd:
        store_rng = np.random.default_rng([options.seed, 8])
        shared = ar1_log_factor(store_rng, options.store_noise_sd, options.hour_noise_rho,
                                (n_s, 1, options.hours))  # fmt: skip
        mean *= shared
    shape = np.broadcast_to(world.nb_shape[:, :, None], mean.shape)
    rate = rng.gamma(shape, mean / shape)
    return rng.poisson(rate).astype(np.int64)


def persistent_hour_noise(options: FamilyOptions, shape: tuple[int, int, int]) -> np.ndarray:
    """exp of a stationary AR(1) over the last axis with sd `hour_noise_sd`, mean 1."""
    rng = np.random.default_rng([options.seed, 6])
    return ar1_log_factor(rng, options.hour_noise_sd, options.hour_noise_rho, shape)


def ar1_log_factor(
    rng: np.random.Generator, sd: float, rho: float, shape: tuple[int, int, int]
) -> np.ndarray:
    """exp of a stationary AR(1) over the last axis with sd `sd` and lag-one correlation
    `rho`, mean 1."""
    shocks = rng.standard_normal(shape) * sd * np.sqrt(1.0 - rho**2)
    log_factor = np.empty(shape)
    log_factor[..., 0] = rng.standard_normal(shape[:2]) * sd
    for hour in range(1, shape[2]):
        log_factor[..., hour] = rho * log_factor[..., hour - 1] + shocks[..., hour]
    return np.exp(log_factor - sd**2 / 2)


# --- files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyPaths:
    inputs: Path
    truth: Path


def write_family_world(options: FamilyOptions, folder: Path) -> FamilyPaths:
    """Write the pipeline inputs to `folder/inputs` and the truth to `folder/truth`."""
    world = draw_world(options)
    paths = FamilyPaths(inputs=folder / "inputs", truth=folder / "truth")
    paths.inputs.mkdir(parents=True, exist_ok=True)
    paths.truth.mkdir(parents=True, exist_ok=True)
    for name in EMPTY_INPUTS:
        (paths.inputs / f"{name}.csv").write_text(csv_header(name) + "\n")
    with duckdb.connect() as con:
        con.execute("set threads to 2")
        _write_csv(con, world.stores, paths.inputs / "stores.csv")
        _write_csv(con, _products_frame(world), paths.inputs / "products.csv")
        _write_csv(con, _narratives_frame(world), paths.inputs / "master_narratives.csv")
        _write_sales(con, world, draw_units(world), paths.inputs / "unified_sales_data.csv")
        if options.store_timezone:
            _as_utc_feed(con, paths.inputs / "unified_sales_data.csv", options.store_timezone)
        _write_csv(con, anomalies_frame(world), paths.truth / "anomalies.csv")
        _write_csv(con, series_frame(world), paths.truth / "series.csv")
        _write_csv(con, _disturbances_frame(world), paths.truth / "disturbances.csv")
        if options.holiday_calendar:
            _write_csv(con, _holiday_calendar_frame(world), paths.inputs / "contextual_data.csv")
    return paths


def _as_utc_feed(con: duckdb.DuckDBPyConnection, path: Path, zone: str) -> None:
    """Rewrite the sales at `path`, drawn on the stores' wall clock in `zone`, as a UTC feed
    carries them: each UTC hour whose wall-clock time is a drawn hour, so the hour a
    daylight-saving change skips has no row and the hour it repeats has two. The truth keeps
    wall-clock times (scoring matches within 12 hours)."""
    drawn = con.sql(f"select * from read_csv('{path.as_posix()}', header = true)").df()
    con.register("drawn_sales", drawn)
    con.execute(
        f"""
        copy (
            with candidates as (
                select
                    drawn_sales.*,
                    timezone('UTC', timezone('{zone}', drawn_sales.sales_ts))
                    + to_hours(shift.hours) as utc_ts
                from drawn_sales, (select unnest([-1, 0, 1]) as hours) as shift
            )
            select distinct utc_ts as sales_ts, store_id, sku, units, revenue
            from candidates
            where timezone('{zone}', timezone('UTC', utc_ts)) = sales_ts
            order by sales_ts, store_id, sku
        ) to '{path.as_posix()}' (format csv, header true)
        """
    )
    con.unregister("drawn_sales")


def _at(world: FamilyWorld, hour: int) -> dt.datetime:
    return world.options.training_start + dt.timedelta(hours=hour)


def _products_frame(world: FamilyWorld) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "sku": sku_id(p),
                "product_name": f"Family product {p + 1} ({volume} units/h class)",
                "brand": "Family",
                "category": f"volume_{volume}",
            }
            for p, volume in enumerate(world.volume_class)
        ]
    )


def anomalies_frame(world: FamilyWorld) -> pd.DataFrame:
    """The truth about each detection anomaly (anomalies.csv)."""
    columns = [
        "anomaly_id", "store_id", "sku", "start_ts", "end_ts", "duration_hours", "direction",
        "shape", "target_strength", "strength", "multiplier", "volume_class", "pattern",
        "excess_units", "window_sd",
    ]  # fmt: skip
    rows = [
        {
            "anomaly_id": a.anomaly_id,
            "store_id": store_id(a.store),
            "sku": sku_id(a.product),
            "start_ts": _at(world, a.start_hour),
            "end_ts": _at(world, a.start_hour + a.duration_hours),
            "duration_hours": a.duration_hours,
            "direction": a.direction,
            "shape": a.shape,
            "target_strength": round(a.target_strength, 6),
            "strength": round(a.strength, 6),
            "multiplier": round(a.multiplier, 6),
            "volume_class": world.volume_class[a.product],
            "pattern": world.patterns[a.store].pattern,
            "excess_units": round(a.excess_units, 3),
            "window_sd": round(a.window_sd, 4),
        }
        for a in world.anomalies
    ]
    return pd.DataFrame(rows, columns=columns)


def series_frame(world: FamilyWorld) -> pd.DataFrame:
    """One row per store x sku (series.csv)."""
    anomalous = {(a.store, a.product) for a in world.anomalies}
    rows = []
    for s, pattern in enumerate(world.patterns):
        for p, volume in enumerate(world.volume_class):
            rows.append(
                {
                    "store_id": store_id(s),
                    "sku": sku_id(p),
                    "volume_class": volume,
                    "pattern": pattern.pattern,
                    "level": round(float(world.level[s, p]), 4),
                    "nb_shape": round(float(world.nb_shape[s, p]), 4),
                    "day_noise_sd": round(float(world.day_noise_sd[s, p]), 6),
                    "trend": round(float(world.trend[s, p]), 6),
                    "has_detection_anomaly": (s, p) in anomalous,
                }
            )
    return pd.DataFrame(rows)


def _disturbances_frame(world: FamilyWorld) -> pd.DataFrame:
    rows = [
        {
            "kind": d.kind,
            "region": d.region,
            "store_id": None if d.store is None else store_id(d.store),
            "sku": None if d.product is None else sku_id(d.product),
            "start_ts": _at(world, d.start_hour),
            "end_ts": _at(world, d.start_hour + d.hours),
            "factor": d.factor,
        }
        for d in world.disturbances
    ]
    frame = pd.DataFrame(rows, columns=["kind", "region", "store_id", "sku", "start_ts",
                                        "end_ts", "factor"])  # fmt: skip
    return frame.astype({"region": "string", "store_id": "string", "sku": "string"})


def _holiday_calendar_frame(world: FamilyWorld) -> pd.DataFrame:
    """The training holidays as contextual_data rows (event_type 'holiday', the region's or
    every store's), in the input's column order."""
    columns = csv_header("contextual_data").split(",")
    holidays = [d for d in world.disturbances if d.kind == "holiday"]
    rows = [
        {
            "event_id": f"HOL-{number:03d}",
            "event_type": "holiday",
            "event_subtype": "public_holiday",
            "event_name": f"Holiday{'' if d.region is None else ' in ' + d.region}",
            "start_ts": _at(world, d.start_hour),
            "end_ts": _at(world, d.start_hour + d.hours),
            "region": d.region,
        }
        for number, d in enumerate(holidays, start=1)
    ]
    return pd.DataFrame(rows, columns=columns).astype(
        {c: "string" for c in columns if c not in ("start_ts", "end_ts")}
    )


def _narratives_frame(world: FamilyWorld) -> pd.DataFrame:
    """One master_narratives row per anomaly, named after the cluster library's shapes."""
    rows = []
    for a in world.anomalies:
        cluster, cause_category = NARRATIVE_CLUSTERS["down" if a.direction == "down" else a.shape]
        rows.append(
            {
                "narrative_id": a.anomaly_id,
                "narrative_name": f"{a.shape} {a.direction} {a.duration_hours} h, "
                f"S={a.strength:.1f}",
                "store_id": store_id(a.store),
                "sku": sku_id(a.product),
                "start_ts": _at(world, a.start_hour),
                "end_ts": _at(world, a.start_hour + a.duration_hours),
                "cause": f"generated {a.shape} {a.direction}",
                "cause_category": cause_category,
                "cluster_name": cluster,
                "shape": cluster,
                "magnitude": round(a.multiplier, 6),
                "confidence": 1.0,
            }
        )
    return pd.DataFrame(rows, columns=list(input_columns("master_narratives")))


def _write_csv(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, path: Path) -> None:
    """A CSV with a header; an empty frame (a null world's anomalies) is its header alone."""
    if frame.empty:
        path.write_text(",".join(frame.columns) + "\n")
        return
    con.register("frame_to_write", frame)
    con.execute(f"copy (select * from frame_to_write) to '{path.as_posix()}' (format csv, header)")
    con.unregister("frame_to_write")


def _write_sales(
    con: duckdb.DuckDBPyConnection, world: FamilyWorld, units: np.ndarray, path: Path
) -> None:
    """Every store x sku x hour (zeros included), in the order a feed arrives: hour, store,
    product."""
    n_s, n_p, n_h = units.shape
    price = np.array([UNIT_PRICE[v] for v in world.volume_class])
    order = (2, 0, 1)
    frame = pd.DataFrame(
        {
            "hour_index": np.broadcast_to(np.arange(n_h), units.shape).transpose(order).ravel(),
            "store_index": np.broadcast_to(np.arange(n_s)[:, None, None], units.shape)
            .transpose(order)
            .ravel(),
            "product_index": np.broadcast_to(np.arange(n_p)[None, :, None], units.shape)
            .transpose(order)
            .ravel(),
            "units": units.transpose(order).ravel(),
            "revenue": np.round(units * price[None, :, None], 2).transpose(order).ravel(),
        }
    )
    copy_sales(con, frame, world.options.training_start, path, "csv")
