"""The published copy BI tools read (mrs.pipeline.publication, model `publication`): the public
models whole, readable while a build runs, and never the reason a build fails."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import duckdb
import yaml
from conftest import PROJECT_ROOT, copy_database, query, run_mrs, start_mrs

from mrs.pipeline.publication import publish, published_database, published_folder

Rows = dict[str, list[tuple]]


def _public_models() -> set[str]:
    """Every model its YAML declares `access: public`."""
    names = set()
    for folder in ("models", "python_models"):
        for path in (PROJECT_ROOT / folder).rglob("*.yml"):
            for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
                if model.get("access", (model.get("config") or {}).get("access")) == "public":
                    names.add(model["name"])
    return names


def _sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=repr)


def _published(database: Path, names: tuple[str, ...] | None = None) -> Rows:
    """The published tables (`names`, or every one), read from the published DuckDB file as
    a BI client would."""
    with duckdb.connect(str(published_database(database)), read_only=True) as con:
        return _read_tables(con, names)


def _read_tables(con: duckdb.DuckDBPyConnection, names: tuple[str, ...] | None = None) -> Rows:
    if names is None:
        listed = con.execute("select table_name from publication").fetchall()
        names = ("publication", *(name for (name,) in listed))
    return {name: _sorted(con.execute(f"select * from {name}").fetchall()) for name in names}


def _parquet_path(database: Path, name: str) -> Path:
    """A public table's Parquet file, or the glob of its daily files (a table kept by day)."""
    folder = published_folder(database) / name
    return folder / "*.parquet" if folder.is_dir() else folder.with_suffix(".parquet")


def _parquet(database: Path, name: str) -> list[tuple]:
    path = _parquet_path(database, name)
    with duckdb.connect() as con:
        return _sorted(con.execute(f"select * from read_parquet('{path}')").fetchall())


def _build_parquet(database: Path, name: str) -> list[tuple]:
    """A public table read from the Parquet files of the build the published DuckDB file
    names, as a reader during a build is told to."""
    with duckdb.connect(str(published_database(database)), read_only=True) as con:
        (file,) = con.execute(
            "select build_parquet_file from publication where table_name = ?", [name]
        ).fetchone()
    with duckdb.connect() as con:
        path = published_folder(database) / file
        return _sorted(con.execute(f"select * from read_parquet('{path}')").fetchall())


def test_the_published_copy_holds_every_public_model_whole(demo_database):
    database, _ = demo_database
    published = _published(database)
    assert set(published) == {"publication", *_public_models()}
    manifest = query(
        published_database(database), "select table_name, row_count, run_id, as_of from publication"
    )
    # The largest table, kept by day, is a folder of daily files; the manifest says where.
    files = {
        name: (file, build_file)
        for name, file, build_file in query(
            published_database(database),
            "select table_name, parquet_file, build_parquet_file from publication",
        )
    }
    build = files["minority_reports"][1].split("/")[1]
    assert files["protection_adjusted_sales"] == (
        "protection_adjusted_sales/*.parquet",
        f"builds/{build}/protection_adjusted_sales/*.parquet",
    )
    assert files["minority_reports"] == (
        "minority_reports.parquet",
        f"builds/{build}/minority_reports.parquet",
    )
    settings = query(database, "select run_id, as_of from run_settings")
    assert len(manifest) == len(published) - 1
    for name, row_count, run_id, as_of in manifest:
        rows = _sorted(query(database, f"select * from {name}"))
        assert published[name] == rows, name
        assert _parquet(database, name) == rows, name
        assert _build_parquet(database, name) == rows, name
        assert row_count == len(rows) and [(run_id, as_of)] == settings
        # Same columns, same types, in the DuckDB file and in the Parquet file.
        types = query(database, f"select column_name, column_type from (describe {name})")
        for copy in (
            f"select column_name, column_type from (describe {name})",
            f"select column_name, column_type from (describe select * from read_parquet("
            f"'{_parquet_path(database, name)}'))",
        ):
            with duckdb.connect(str(published_database(database)), read_only=True) as con:
                assert con.execute(copy).fetchall() == types, name
    assert published["minority_reports"], "the demo publishes its reports"
    # A BI user browsing the file finds the public models in `main`; what the review app and
    # `mrs review` need besides them is in schema review_index, not mixed in.
    schemas: dict[str, set[str]] = {}
    for schema, table in query(
        published_database(database),
        "select table_schema, table_name from information_schema.tables",
    ):
        schemas.setdefault(schema, set()).add(table)
    # The day digests of the table kept by day are recorded for the next build, one per day
    # the copy holds, in a schema of their own.
    assert schemas == {
        "main": set(published),
        "review_index": set(schemas["review_index"]),
        "publication_state": {"kept_days"},
    }
    assert query(
        published_database(database),
        "select sales_day, day_rows from publication_state.kept_days "
        "where table_name = 'protection_adjusted_sales' order by 1",
    ) == query(
        published_database(database),
        "select cast(sales_ts as date), count(*) from protection_adjusted_sales "
        "group by all order by 1",
    )
    assert {"run_settings", "stg_stores", "minority_reports_detected_log"} <= schemas[
        "review_index"
    ]
    # Nothing half-written is left beside the published files.
    assert not list(database.parent.rglob("*.next"))


def test_readers_during_a_build_get_the_previous_state_and_never_stop_it(demo_database, workbench):
    database = copy_database(demo_database[0], workbench)
    previous = _published(database)
    report_id = previous["minority_reports"][0][0]
    run_mrs("review", "defer", report_id, "--database", str(database))
    # A BI client that keeps the published file open across the build ...
    held = duckdb.connect(str(published_database(database)), read_only=True)
    build = start_mrs("build", "--database", str(database), "--no-tests", "--wait", "0")
    # dbt's output is drained all along (a full pipe would stall the build); reading starts
    # once dbt runs its first node.
    lines: list[str] = []
    running = threading.Event()

    def drain() -> None:
        assert build.stdout is not None
        for line in build.stdout:
            lines.append(line)
            if " START " in line:
                running.set()
        running.set()  # dbt ended without starting a node: the assertions below say so

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    reads: list[Rows] = []
    parquet_reads: list[list[tuple]] = []
    try:
        running.wait(timeout=600)
        # ... and one that opens it again and again while the build runs.
        while build.poll() is None:
            reads.append(_published(database, ("publication", "minority_reports")))
            # Parquet by the build's own files the DuckDB file names: a name that stays can
            # be renamed over between read_parquet's two opens of it (see publication.py).
            parquet_reads.append(_build_parquet(database, "minority_reports"))
            time.sleep(0.5)
    finally:
        build.wait(timeout=600)
        drainer.join(timeout=60)
    assert build.returncode == 0, "".join(lines)
    assert len(reads) >= 3, "the published file should have been read during the build"
    polled = ("publication", "minority_reports")
    assert reads[0] == {name: previous[name] for name in polled}
    assert _read_tables(held) == previous  # what it opened, whatever the build wrote
    held.close()
    final = _published(database)
    assert final != previous
    # The copy started from the previous one and wrote the adjusted sales again from a day:
    # every table still equals the model it copies.
    assert "mrs: published protection_adjusted_sales: " in "".join(lines)
    for name in set(final) - {"publication"}:
        assert final[name] == _sorted(query(database, f"select * from {name}")), name
    assert ("deferred",) in query(
        published_database(database),
        f"select review_status from minority_reports where report_id = '{report_id}'",
    )
    # Each read is one whole state, the previous or the new one, never a mix.
    assert all(
        read in ({n: previous[n] for n in polled}, {n: final[n] for n in polled}) for read in reads
    )
    assert all(
        read in (previous["minority_reports"], final["minority_reports"]) for read in parquet_reads
    )


def test_the_documented_query_for_bi_tools_runs_on_the_published_copy(demo_database):
    database, _ = demo_database
    readme = (PROJECT_ROOT / "docs" / "published_record.md").read_text()
    marker = "-- published events query\n"
    sql = readme[readme.index(marker) : readme.index("```", readme.index(marker))]
    with duckdb.connect(str(published_database(database)), read_only=True) as con:
        events = con.execute(sql).fetchall()
    assert events, "the demo publishes protected events"
    assert len(events) == len(query(database, "select * from protection_event_feed"))


def _publish_source(database: Path, capsys, **tables_sql: str) -> tuple[Rows, str]:
    """Publish `tables_sql` (name -> select) of `database` with `adjusted` kept by day, as
    the model does; returns the published tables (the Parquet files checked equal) and what
    publish printed."""
    with duckdb.connect(str(database)) as con:
        for name, sql in tables_sql.items():
            con.execute(f"create or replace table {name} as {sql}")
        publish(
            con,
            {name: con.table(name) for name in tables_sql},
            "run-1",
            "2026-01-04 00:00:00",
            {"settings": con.sql("select 1 as one")},
            kept_by_day={"adjusted": "sales_ts"},
        )
        source = {name: _sorted(con.table(name).fetchall()) for name in tables_sql}
    published = _published(database)
    assert {name: published[name] for name in tables_sql} == source
    for name in tables_sql:
        assert _parquet(database, name) == source[name], name
        assert _build_parquet(database, name) == source[name], name
    return published, capsys.readouterr().out


def test_each_build_keeps_its_own_parquet_files_unchanged_until_two_builds_later(tmp_path, capsys):
    """A reader that took a build's file names from `publication` reads that build's rows
    whatever the next build writes; the days a build keeps are hard links, not copies."""
    database = tmp_path / "world.duckdb"
    builds = published_folder(database) / "builds"
    hours = (
        "select timestamp '2026-01-01' + to_hours(h) as sales_ts,"
        " case when h = {hour} then 99.0 else h * 1.5 end as units from range(72) as t(h)"
    )
    states = []
    for hour in (-1, 30, 50):
        published, _ = _publish_source(
            database, capsys, adjusted=hours.format(hour=hour), reports=f"select {hour} as r"
        )
        states.append(published)
        if hour == -1:
            first = {path: path.read_bytes() for path in (builds / "000001").rglob("*.parquet")}
        if hour == 30:
            # The first build's files are as it wrote them; the second's day 1 is the same
            # file, its day 2 written again.
            assert {path: path.read_bytes() for path in first} == first
            day_one, day_two = (f"adjusted/2026-01-0{day}.parquet" for day in (1, 2))
            for day, same in ((day_one, True), (day_two, False)):
                inodes = {(builds / build / day).stat().st_ino for build in ("000001", "000002")}
                assert (len(inodes) == 1) == same, day
            # The names that stay are the newest build's files.
            for name in (day_two, "reports.parquet"):
                stays = (published_folder(database) / name).stat().st_ino
                assert stays == (builds / "000002" / name).stat().st_ino, name
    # The third build removed the first's folder and kept the second's, unchanged.
    assert sorted(path.name for path in builds.iterdir()) == ["000002", "000003"]
    with duckdb.connect() as reader:
        kept = reader.execute(
            f"select * from read_parquet('{builds / '000002' / 'adjusted' / '*.parquet'}')"
        ).fetchall()
    assert _sorted(kept) == states[1]["adjusted"] != states[2]["adjusted"]
    # A build killed while publishing leaves a folder under a `.next` name: the next build
    # removes it and numbers on.
    (builds / "000004.next" / "adjusted").mkdir(parents=True)
    _publish_source(database, capsys, adjusted=hours.format(hour=-1))
    assert sorted(path.name for path in builds.iterdir()) == ["000003", "000004"]


def test_readers_of_a_builds_own_parquet_files_never_fail_while_builds_publish(tmp_path):
    """Builds publish one after another while a reader takes the file names from the
    published DuckDB file and reads them: every read succeeds and is one build's rows."""
    database = tmp_path / "world.duckdb"
    sql = "select range as k, md5(range::varchar || '{n}') as v from range({rows})"
    states = {n: sql.format(n=n, rows=2000 + 500 * (n % 2)) for n in range(2)}
    expected = {}
    with duckdb.connect() as con:
        for n, state in states.items():
            expected[n] = _sorted(con.execute(state).fetchall())

    def publish_state(n: int) -> None:
        with duckdb.connect(str(database)) as con:
            con.execute(f"create or replace table reports as {states[n]}")
            publish(con, {"reports": con.table("reports")}, "run-1", "2026-01-04 00:00:00")

    publish_state(0)
    done = threading.Event()
    failures: list[BaseException] = []

    def publish_again() -> None:
        try:
            for build in range(1, 40):
                publish_state(build % 2)
        except BaseException as error:
            failures.append(error)
        finally:
            done.set()

    publisher = threading.Thread(target=publish_again)
    publisher.start()
    reads = []
    while not done.is_set():
        reads.append(_build_parquet(database, "reports"))
    publisher.join()
    assert not failures
    assert len(reads) >= 10
    assert all(read in expected.values() for read in reads)


def test_a_table_kept_by_day_is_written_again_from_its_first_changed_day(tmp_path, capsys):
    database = tmp_path / "world.duckdb"
    hours = "select timestamp '2026-01-01' + to_hours(h) as sales_ts, h * 1.5 as units "
    days = "from range(72) as t(h)"
    published, said = _publish_source(
        database, capsys, adjusted=hours + days, reports="select 'R-1' as report_id"
    )
    assert "adjusted" not in said  # a first copy: written whole
    # A restated hour on the second day and a fourth day: written again from the second.
    restated = (
        "select timestamp '2026-01-01' + to_hours(h) as sales_ts,"
        " case when h = 30 then 99.0 else h * 1.5 end as units from range(96) as t(h)"
    )
    published, said = _publish_source(
        database, capsys, adjusted=restated, reports="select 'R-2' as report_id"
    )
    assert "published adjusted: days before 2026-01-02 kept, written from it" in said
    assert published["publication"][0][:2] == ("adjusted", 96)
    _, said = _publish_source(database, capsys, adjusted=restated)
    assert "published adjusted: unchanged, kept" in said
    assert set(_published(database)) == {"publication", "adjusted"}  # reports no longer public
    # Another column, or a changed row without a time: written whole, still equal.
    _publish_source(database, capsys, adjusted=restated.replace("units", "units, 1 as extra"))
    _, said = _publish_source(
        database, capsys, adjusted=restated + " union all select null, 1.0 from range(2)"
    )
    _, said = _publish_source(
        database, capsys, adjusted=restated + " union all select null, 2.0 from range(2)"
    )
    assert "adjusted" not in said
    assert not list(tmp_path.rglob("*.next"))


def test_a_table_kept_by_day_writes_again_only_the_parquet_files_of_its_changed_days(
    tmp_path, capsys
):
    database = tmp_path / "world.duckdb"
    days = published_folder(database) / "adjusted"
    # Versions before wrote the table as one file, then as monthly files: the folder of
    # days replaces both.
    days.mkdir(parents=True)
    (days.parent / "adjusted.parquet").write_bytes(b"left by a version before")
    (days / "2026-01.parquet").write_bytes(b"a month's file, left by a version before")
    hours = "select timestamp '2026-01-30' + to_hours(h) as sales_ts, {units} as units "
    # Jan 30 to Mar 1: 31 days.
    _publish_source(database, capsys, adjusted=hours.format(units="h") + "from range(744) t(h)")
    written = {path.name: path.stat().st_ino for path in days.iterdir()}
    expected = [f"2026-01-{day}.parquet" for day in (30, 31)]
    expected += [f"2026-02-{day:02d}.parquet" for day in range(1, 29)] + ["2026-03-01.parquet"]
    assert sorted(written) == expected
    assert not (days.parent / "adjusted.parquet").exists()
    with duckdb.connect() as reader:
        files = str(days / "*.parquet")
        assert reader.execute(
            f"select count(*), sum(units) from read_parquet('{files}')"
        ).fetchone() == (744, sum(range(744)))
    # An hour of Feb 9 restated and Mar 1 gone: the days before Feb 9 are kept as they were,
    # those from it written again, Mar 1's removed.
    restated = hours.format(units="case when h = 260 then -1 else h end")
    _, said = _publish_source(database, capsys, adjusted=restated + "from range(720) t(h)")
    assert "published adjusted: days before 2026-02-09 kept, written from it" in said
    now = {path.name: path.stat().st_ino for path in days.iterdir()}
    assert sorted(now) == expected[:-1]
    assert all(now[name] == written[name] for name in expected[:10])  # Jan 30 to Feb 8
    assert all(now[name] != written[name] for name in expected[10:-1])  # Feb 9 to Feb 28
    # A day's file a user deleted is written again though nothing changed.
    (days / "2026-01-31.parquet").unlink()
    _, said = _publish_source(database, capsys, adjusted=restated + "from range(720) t(h)")
    assert "published adjusted: unchanged, kept" in said
    assert (days / "2026-01-31.parquet").exists()
    assert not list(tmp_path.rglob("*.next"))


def test_a_table_kept_by_day_compares_the_day_digests_its_model_keeps(tmp_path, capsys):
    """Given the model's day digests, the copy records them and the next build compares the
    model's with the recorded ones: a day whose digest differs is written again from it, and
    the copy's rows are not hashed (a recorded digest changed by hand is what is compared)."""
    database = tmp_path / "world.duckdb"
    hours = (
        "select timestamp '2026-01-01' + to_hours(h) as sales_ts,"
        " case when h = {hour} then 99.0 else h * 1.5 end as units from range(72) as t(h)"
    )

    def publish_with_digests(sql: str) -> str:
        with duckdb.connect(str(database)) as con:
            con.execute(f"create or replace table adjusted as {sql}")
            digests = con.sql(
                "select cast(sales_ts as date) as sales_day, count(*) as day_rows,"
                " sum(hash(sales_ts, units)) as day_digest from adjusted group by all"
            )
            publish(
                con,
                {"adjusted": con.table("adjusted")},
                "run-1",
                "2026-01-04 00:00:00",
                kept_by_day={"adjusted": "sales_ts"},
                day_digests={"adjusted": digests},
            )
            source = _sorted(con.table("adjusted").fetchall())
        assert _published(database, ("adjusted",))["adjusted"] == source
        assert _parquet(database, "adjusted") == source
        return capsys.readouterr().out

    def recorded() -> list[tuple]:
        with duckdb.connect(str(published_database(database)), read_only=True) as con:
            return con.execute(
                "select sales_day, day_rows from publication_state.kept_days order by 1"
            ).fetchall()

    assert "adjusted" not in publish_with_digests(hours.format(hour=-1))
    days = [(dt.date(2026, 1, day), 24) for day in (1, 2, 3)]
    assert recorded() == days
    said = publish_with_digests(hours.format(hour=30))
    assert "published adjusted: days before 2026-01-02 kept, written from it" in said
    assert recorded() == days
    assert "published adjusted: unchanged, kept" in publish_with_digests(hours.format(hour=30))
    with duckdb.connect(str(published_database(database))) as con:
        con.execute(
            "update publication_state.kept_days set day_digest = 0 "
            "where sales_day = date '2026-01-03'"
        )
    said = publish_with_digests(hours.format(hour=30))
    assert "published adjusted: days before 2026-01-03 kept, written from it" in said
