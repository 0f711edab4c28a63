"""Reports on the web: the charts as data -> SVG, the page, CSV export, JSON, and /api/sla."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from ivr.config import Settings
from ivr.domain.reports import DayPoint, HourPoint, SlaCompliance
from ivr.store.report_data import support_report
from ivr.store.stores import Stores
from ivr.web import charts
from ivr.web.charts import (
    Bar,
    bar_chart,
    calls_per_hour_chart,
    line_chart,
    sla_per_day_chart,
    waits_per_hour_chart,
)
from ivr.web.reports_view import report_range
from tests.support.calls import EMERGENCY
from tests.support.harness import AFTER_HOURS, CHICAGO, OPEN_HOURS, Clock, Line
from tests.support.web_harness import ADMIN, SUPERVISOR, Web, browser, running_dashboard, sign_in

WED = dt.date(2026, 11, 25)
OTHER_REQUEST = "2 1001# 2468# 345678# 1 #"


def _hours(calls: dict[int, int], waits: dict[int, float]) -> list[HourPoint]:
    return [HourPoint(h, calls.get(h, 0), waits.get(h), waits.get(h)) for h in range(24)]


def test_bar_chart_draws_one_labelled_bar_per_value_and_escapes_text() -> None:
    """A bar per value with its text above it; empty values drawn as no bar; text escaped."""
    svg = bar_chart(
        "Calls <by> & hour",
        [Bar("09", 3, "3"), Bar("10", None, ""), Bar("<b>", 7, "7 & more")],
        "chart-x",
    )
    assert svg.count("<rect") == 2
    assert ">3</text>" in svg
    assert "7 &amp; more" in svg
    assert "&lt;b&gt;" in svg
    assert "<b>" not in svg
    assert '<title id="chart-x-title">Calls &lt;by&gt; &amp; hour</title>' in svg
    assert "style=" not in svg


def test_calls_per_hour_chart_labels_each_busy_hour_with_its_count() -> None:
    """24 hours; only hours with calls get a bar, each labelled with its count."""
    svg = calls_per_hour_chart(_hours({9: 4, 14: 12}, {}), "2026-11-25")
    assert svg.count("<rect") == 2
    assert re.search(r'class="value"[^>]*>4</text>', svg)
    assert re.search(r'class="value"[^>]*>12</text>', svg)
    assert "Calls per hour on 2026-11-25" in svg
    tallest = [float(h) for h in re.findall(r'<rect[^>]*height="([0-9.]+)"', svg)]
    assert tallest[1] == pytest.approx(3 * tallest[0], abs=0.2)  # drawn to 0.1 px


def test_charts_carry_a_visible_title_and_say_when_empty() -> None:
    """The title is written on the chart (not only a tooltip); no data says so in words."""
    busy = calls_per_hour_chart(_hours({9: 4}, {}), "2026-11-25")
    assert re.search(r'class="chart-title"[^>]*>Calls per hour on 2026-11-25</text>', busy)
    assert "No data in this range" not in busy
    quiet = waits_per_hour_chart(_hours({}, {}), "2026-11-25")
    assert re.search(r'class="chart-title"[^>]*>Queue waits per hour', quiet)
    assert "No data in this range" in quiet


def test_waits_chart_names_each_line_at_its_end() -> None:
    """Two lines (average, 90th percentile), named where they end: no legend needed."""
    svg = waits_per_hour_chart(_hours({9: 2, 10: 1}, {9: 30.0, 10: 45.5}), "2026-11-25")
    assert svg.count("<polyline") == 2
    assert ">average</text>" in svg
    assert ">90th pct</text>" in svg
    assert ">45.5s</text>" in svg


def test_sla_chart_writes_percentages_and_skips_days_without_tickets() -> None:
    """A bar per day with decided tickets, labelled with its percentage of them."""
    days = [
        DayPoint(dt.date(2026, 11, 23), SlaCompliance(4, 3, 1, 0, 60.0)),
        DayPoint(dt.date(2026, 11, 24), SlaCompliance(0, 0, 0, 0, None)),
        DayPoint(dt.date(2026, 11, 25), SlaCompliance(2, 2, 0, 0, None)),
    ]
    svg = sla_per_day_chart(days)
    assert svg.count("<rect") == 2
    assert "75% of 4" in svg
    assert "100% of 2" in svg
    assert "Tue 24" in svg  # the empty day keeps its label


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, (dt.date(2026, 11, 23), WED, WED)),
        ({"from": "2026-11-25", "to": "2026-11-25"}, (WED, WED, WED)),
        ({"from": "2026-11-01", "to": "2026-11-10"}, (dt.date(2026, 11, 1),
                                                      dt.date(2026, 11, 10),
                                                      dt.date(2026, 11, 10))),
        ({"day": "2026-11-24"}, (dt.date(2026, 11, 23), WED, dt.date(2026, 11, 24))),
    ],
)  # fmt: skip
def test_report_range_defaults_to_this_week_and_today(
    query: dict[str, str], expected: tuple[dt.date, dt.date, dt.date]
) -> None:
    """No dates: Monday to today, hours of today; ``day`` defaults to the range's end."""
    chosen = report_range(query, WED)
    assert (chosen.first, chosen.last, chosen.day) == expected


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-25", "to": "2026-11-01"}, "before"),
        ({"from": "2020-01-01", "to": "2026-11-25"}, "at most"),
    ],
)
def test_report_range_refuses_bad_dates(query: dict[str, str], reason: str) -> None:
    """A bad date, a reversed range or more than a year is refused with the reason."""
    with pytest.raises(ValueError, match=reason):
        report_range(query, WED)


@pytest.fixture
async def web(redis: Redis, settings: Settings) -> AsyncIterator[Web]:
    """The dashboard on a free port."""
    async with running_dashboard(redis, settings) as running:
        yield running


async def _calls(line: Line, clock: Clock) -> None:
    """Two calls on Wednesday: an emergency at 10:00 and another request at 22:00."""
    clock.now = OPEN_HOURS
    assert (await line.call(EMERGENCY)).variables["IVR_ROUTE"] == "queue"
    clock.now = AFTER_HOURS
    assert (await line.call(OTHER_REQUEST)).variables["IVR_ROUTE"] == "closed"


async def test_report_page_shows_every_table_and_the_charts(
    web: Web, line: Line, clock: Clock, redis: Redis
) -> None:
    """The supervisor's page: range form, presets, three charts, every table with a CSV link."""
    await _calls(line, clock)
    report = await support_report(redis, CHICAGO, WED, WED, OPEN_HOURS)
    async with browser() as client:
        assert await sign_in(client, web.base, *SUPERVISOR) == 200
        async with client.get(f"{web.base}/reports?from=2026-11-25&to=2026-11-25") as response:
            assert response.status == 200
            html = await response.text()
    assert html.count('<svg class="chart"') == 3
    nothing = html[html.index('id="quiet-title"') :]
    for table in report.tables():
        assert f"table={table.name}" in html  # in the Export menu
        if table.rows:
            assert f'id="table-{table.name}"' in html
        else:  # gathered under "Nothing to report"
            assert f"<li>{table.title}</li>" in nothing
    assert 'id="table-calls_per_hour"' in html
    assert 'id="table-sla_per_day"' in html
    assert ">Today</a>" in html
    assert ">This week</a>" in html
    assert '<th scope="row">all</th><td class="num">2</td>' in html  # calls_by_tier's total
    assert "style=" not in html


async def test_report_page_shows_times_locally_and_folds_empty_rows(
    web: Web, line: Line, clock: Clock
) -> None:
    """Hours as local clock times, numbers right-aligned, the hours without calls folded
    under one summary; a bad date is a 400 with the error beside its field."""
    await _calls(line, clock)
    async with browser() as client:
        assert await sign_in(client, web.base, *SUPERVISOR) == 200
        async with client.get(f"{web.base}/reports?from=2026-11-25&to=2026-11-25") as response:
            html = await response.text()
        async with client.get(f"{web.base}/reports?from=2026-11-25&to=nonsense") as response:
            assert response.status == 400
            bad = await response.text()
    hours = html[html.index('id="table-calls_per_hour"') :]
    assert '<th scope="row">10:00</th><td class="num">1</td>' in hours
    assert '<th scope="row">22:00</th><td class="num">1</td>' in hours
    assert "22 rows with nothing to count" in hours
    assert 'aria-invalid="true" aria-describedby="to-error"' in bad
    assert '<p class="field-error" id="to-error">to: expected a date such as 2026-11-25</p>' in bad
    assert 'value="nonsense"' in bad


async def test_csv_export_matches_the_report(
    web: Web, line: Line, clock: Clock, redis: Redis
) -> None:
    """Each table's CSV parses back to the figures support_report computes."""
    await _calls(line, clock)
    report = await support_report(redis, CHICAGO, WED, WED, OPEN_HOURS)
    token = await web.accounts.new_token(SUPERVISOR[0])
    headers = {"Authorization": f"Bearer {token}"}
    async with browser() as client:
        for table in report.tables():
            url = f"{web.base}/reports/csv?table={table.name}&from=2026-11-25&to=2026-11-25"
            async with client.get(url, headers=headers) as response:
                assert response.status == 200
                assert response.content_type == "text/csv"
                disposition = response.headers["Content-Disposition"]
                assert f'filename="{table.name}_2026-11-25_2026-11-25.csv"' in disposition
                rows = list(csv.reader(io.StringIO(await response.text())))
            assert tuple(rows[0]) == table.columns
            assert rows[1:] == [[str(c) for c in row] for row in table.rows]
        by_tier = next(t for t in report.tables() if t.name == "calls_by_tier").rows
        assert ("all", 2) in by_tier
        async with client.get(f"{web.base}/reports/csv?table=nope", headers=headers) as missing:
            assert missing.status == 404


async def test_reports_api_gives_tables_and_series(web: Web, line: Line, clock: Clock) -> None:
    """/api/reports: every table and the hourly and daily series, as JSON."""
    await _calls(line, clock)
    token = await web.accounts.new_token(ADMIN[0])
    async with browser() as client:
        async with client.get(
            f"{web.base}/api/reports?from=2026-11-25&to=2026-11-25",
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            assert response.status == 200
            data = await response.json()
        async with client.get(
            f"{web.base}/api/reports?from=2026-11-25&to=2026-11-01",
            headers={"Authorization": f"Bearer {token}"},
        ) as bad:
            assert bad.status == 400
    tables = {t["name"]: t for t in data["tables"]}
    assert dict(map(tuple, tables["calls_by_tier"]["rows"]))["all"] == 2
    hours = {p["hour"]: p["calls"] for p in data["series"]["hours"]}
    assert hours[10] == 1
    assert hours[22] == 1
    assert [d["day"] for d in data["series"]["days"]] == ["2026-11-25"]


async def test_api_sla_lists_open_tickets_most_urgent_first(
    web: Web, line: Line, clock: Clock, stores: Stores
) -> None:
    """/api/sla: each open ticket's SLA standing; the nearest due time first."""
    await _calls(line, clock)
    web.clock.now = AFTER_HOURS + dt.timedelta(minutes=30)
    token = await web.accounts.new_token(SUPERVISOR[0])
    async with (
        browser() as client,
        client.get(f"{web.base}/api/sla", headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        assert response.status == 200
        data = await response.json()
    found = data["tickets"]
    assert len(found) == 2
    assert [t["seconds_left"] for t in found] == sorted(t["seconds_left"] for t in found)
    emergency = next(t for t in found if t["emergency"])
    assert emergency["tier"] == "premium_plus"
    assert emergency["host_id"] == "123456"
    assert emergency["seconds_left"] < 0  # due two hours after 10:00
    assert emergency["elapsed_share"] > 1
    ticket = await stores.tickets.get(emergency["ticket"])
    assert ticket is not None
    assert ticket.sla_due is not None
    assert emergency["due"] == ticket.sla_due.isoformat()


def test_lines_ending_together_keep_their_names_apart() -> None:
    """Two lines with the same last point write their names one under the other, and a
    value both lines share at a point is written once."""
    svg = line_chart(
        "Waits",
        ["07", "08"],
        [
            charts.Line("average", (42.0, 18.0), "line-a"),
            charts.Line("90th pct", (42.0, 18.0), "line-b"),
        ],
        "chart-w",
        unit="s",
    )
    names = [float(y) for y in re.findall(r'class="line-name [^"]+" x="[^"]+" y="([^"]+)"', svg)]
    assert len(names) == 2
    assert abs(names[0] - names[1]) >= 15
    assert svg.count(">42s</text>") == 1
    assert svg.count(">18s</text>") == 1
