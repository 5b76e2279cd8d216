"""Public real hourly demand series as MRS inputs, for `mrs evaluate --real`.

Two series nobody here generated, read from the PyPI wheels that ship them (pinned, fetched
with `pip download`, opened as zip files and never installed, so none of their dependencies
comes along):

- **Bikeshare** (ISLP 0.6.0, `ISLP/data/Bikeshare.csv`): Capital Bikeshare, Washington DC,
  2011, rentals an hour by casual and by registered riders (two series of one store, 1 to
  about 900 an hour), with the day's federal-holiday flag and each hour's weather.
- **Taylor** (pmdarima 2.1.1, `pmdarima/datasets/taylor.py`): half-hourly electricity demand
  of England and Wales, 5 June to 27 August 2000 (Taylor 2003), the two half-hours' megawatts
  summed to hours: one series of 37,000 to 78,000 an hour whose weekday and weekend shapes
  differ.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mrs.pipeline.project import MrsError

BIKESHARE_WHEEL = ("ISLP", "0.6.0")
TAYLOR_WHEEL = ("pmdarima", "2.1.1")
# Hours of weather that can move demand: what the Bikeshare data calls rain or snow.
WET_WEATHER = ("light rain/snow", "heavy rain/snow")
# Four training weeks before detection, as the family worlds have.
TRAINING_DAYS = 28


@dataclass(frozen=True)
class RealWorld:
    """One real data set as MRS inputs, and what is known of its hours."""

    name: str
    sales: pd.DataFrame  # sales_ts, store_id, sku, units
    stores: pd.DataFrame
    products: pd.DataFrame
    context: pd.DataFrame  # contextual_data rows: holidays and wet weather
    training_start: dt.date
    detection_start: dt.date
    # Every hour of the data: ts, is_holiday (the day's flag), is_wet_weather.
    hours: pd.DataFrame

    @property
    def detection_days(self) -> int:
        last = pd.Timestamp(self.sales["sales_ts"].max()).date()
        return (last - self.detection_start).days + 1

    @property
    def series(self) -> int:
        return int(self.sales[["store_id", "sku"]].drop_duplicates().shape[0])


def fetch_wheel(name: str, version: str, cache: Path, say: Callable[[str], None]) -> Path:
    """The wheel of `name==version` in `cache`, downloaded from the package index the first
    time (without its dependencies: only its data is read)."""
    cache.mkdir(parents=True, exist_ok=True)
    found = _cached_wheel(name, version, cache)
    if found is not None:
        return found
    say(f"downloading {name}=={version} (its wheel only) into {cache}")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    done = subprocess.run(
        [*command, "--quiet", "-d", str(cache), f"{name}=={version}"],
        capture_output=True,
        text=True,
        check=False,
    )
    found = _cached_wheel(name, version, cache)
    if done.returncode != 0 or found is None:
        said = done.stderr.strip().splitlines()
        raise MrsError(
            f"could not download {name}=={version} from the package index "
            f"({said[-1] if said else 'no wheel for this platform'}); download its wheel "
            f"yourself (`pip download --no-deps {name}=={version} -d {cache}`) and run again"
        )
    return found


def _cached_wheel(name: str, version: str, cache: Path) -> Path | None:
    # A wheel's file name carries the project's normalised name (lower case).
    wheels = sorted(cache.glob(f"{name.lower()}-{version}-*.whl"))
    return wheels[0] if wheels else None


def _read_member(wheel: Path, member: str) -> bytes:
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(member)
    except KeyError as error:
        raise MrsError(f"{wheel.name} has no {member}: not the pinned release?") from error
    except zipfile.BadZipFile as error:
        raise MrsError(
            f"{wheel} is not a readable wheel (a broken download?): delete it and run again"
        ) from error


def bikeshare_world(wheel: Path) -> RealWorld:
    """Capital Bikeshare 2011 as one store (DC) with two products, casual and registered
    riders; its federal holidays and its runs of rain or snow as contextual data."""
    raw = pd.read_csv(io.BytesIO(_read_member(wheel, "ISLP/data/Bikeshare.csv")))
    # `day` is the day of 2011, `hr` the hour; hours with no rental are not in the file
    # (read as no sale, as the pipeline reads a missing row).
    days = pd.Timestamp("2011-01-01") + pd.to_timedelta(raw["day"] - 1, unit="D")
    ts = days + pd.to_timedelta(raw["hr"].astype(int), unit="h")
    sales = pd.concat(
        pd.DataFrame({"sales_ts": ts, "store_id": "DC", "sku": sku, "units": raw[sku]})
        for sku in ("casual", "registered")
    ).sort_values(["sales_ts", "sku"], kind="stable")
    hours = pd.DataFrame(
        {
            "ts": ts,
            "is_holiday": raw["holiday"].astype(int) == 1,
            "is_wet_weather": raw["weathersit"].isin(WET_WEATHER),
        }
    )
    holidays = sorted({t.normalize() for t in hours.loc[hours["is_holiday"], "ts"]})
    context = pd.DataFrame(
        [_holiday_row(day) for day in holidays]
        + [_weather_row(start, end) for start, end in wet_runs(hours)]
    )
    return RealWorld(
        name="bikeshare",
        sales=sales.reset_index(drop=True),
        stores=_store("DC", "Capital Bikeshare", "Washington", 38.90, -77.04),
        products=pd.DataFrame(
            [
                {"sku": sku, "product_name": f"{sku} rides", "brand": "CaBi", "category": "rides"}
                for sku in ("casual", "registered")
            ]
        ),
        context=context,
        # Spring 2011: four weeks of March, then April to December.
        training_start=dt.date(2011, 3, 1),
        detection_start=dt.date(2011, 3, 1) + dt.timedelta(days=TRAINING_DAYS),
        hours=hours,
    )


def taylor_world(wheel: Path) -> RealWorld:
    """England and Wales' electricity demand, summer 2000, as one store with one product."""
    source = _read_member(wheel, "pmdarima/datasets/taylor.py").decode()
    values = taylor_values(source)
    hourly = [values[i] + values[i + 1] for i in range(0, len(values), 2)]
    ts = pd.date_range("2000-06-05", periods=len(hourly), freq="h")
    sales = pd.DataFrame(
        {"sales_ts": ts, "store_id": "EW", "sku": "demand", "units": [round(v) for v in hourly]}
    )
    start = dt.date(2000, 6, 5)
    return RealWorld(
        name="taylor",
        sales=sales,
        stores=_store("EW", "England and Wales", "London", 51.51, -0.13),
        products=pd.DataFrame(
            [{"sku": "demand", "product_name": "demand", "brand": "grid", "category": "power"}]
        ),
        # No holiday in the data's twelve weeks (the bank holidays are 29 May and 28 August).
        context=pd.DataFrame([], columns=CONTEXT_COLUMNS),
        training_start=start,
        detection_start=start + dt.timedelta(days=TRAINING_DAYS),
        hours=pd.DataFrame({"ts": ts, "is_holiday": False, "is_wet_weather": False}),
    )


def taylor_values(source: str) -> list[float]:
    """The half-hours of pmdarima's `load_taylor`, read from its source: the numbers of its
    `rslt = np.array([...])` (the docstring's examples before it are not data)."""
    _, found, rest = source.partition("rslt = np.array([")
    if not found:
        raise MrsError("pmdarima's taylor.py has no `rslt = np.array([`: not the pinned release?")
    body = rest.split("])", 1)[0]
    values = [float(number) for number in re.findall(r"-?\d+(?:\.\d*)?", body)]
    if not values or len(values) % 2:
        raise MrsError(f"pmdarima's taylor.py: {len(values)} half-hours, expected whole hours")
    return values


def wet_runs(hours: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Each run of consecutive wet hours as (first hour, the hour after its last)."""
    wet = hours.loc[hours["is_wet_weather"], "ts"].sort_values().tolist()
    runs: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for hour in wet:
        if runs and hour == runs[-1][1]:
            runs[-1] = (runs[-1][0], hour + pd.Timedelta(hours=1))
        else:
            runs.append((hour, hour + pd.Timedelta(hours=1)))
    return runs


CONTEXT_COLUMNS = [
    "event_id",
    "event_type",
    "event_subtype",
    "event_name",
    "start_ts",
    "end_ts",
    "retailer",
    "region",
    "city",
    "store_id",
    "sku",
    "url",
    "severity",
]


def _holiday_row(day: pd.Timestamp) -> dict[str, object]:
    return _context_row(
        f"HOL-{day:%Y%m%d}", "holiday", "public", "federal holiday", day, day + pd.Timedelta(days=1)
    )


def _weather_row(start: pd.Timestamp, end: pd.Timestamp) -> dict[str, object]:
    return _context_row(
        f"WX-{start:%Y%m%d%H}", "weather", "rain_or_snow", "rain or snow", start, end
    )


def _context_row(
    event_id: str, kind: str, subtype: str, name: str, start: pd.Timestamp, end: pd.Timestamp
) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(CONTEXT_COLUMNS)
    row.update(
        event_id=event_id,
        event_type=kind,
        event_subtype=subtype,
        event_name=name,
        start_ts=f"{start:%Y-%m-%d %H:%M:%S}",
        end_ts=f"{end:%Y-%m-%d %H:%M:%S}",
    )
    return row


def _store(store_id: str, name: str, city: str, latitude: float, longitude: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "store_id": store_id,
                "store_name": name,
                "retailer": name,
                "region": city,
                "city": city,
                "latitude": latitude,
                "longitude": longitude,
            }
        ]
    )


def write_inputs(world: RealWorld, folder: Path) -> None:
    """The world's input files (CSV) in `folder`; the inputs not written are empty, and the
    cluster library and cause taxonomy the project's own."""
    folder.mkdir(parents=True, exist_ok=True)
    sales = world.sales.assign(
        sales_ts=pd.to_datetime(world.sales["sales_ts"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    )
    sales.to_csv(folder / "unified_sales_data.csv", index=False)
    world.stores.to_csv(folder / "stores.csv", index=False)
    world.products.to_csv(folder / "products.csv", index=False)
    world.context.reindex(columns=CONTEXT_COLUMNS).to_csv(
        folder / "contextual_data.csv", index=False
    )
