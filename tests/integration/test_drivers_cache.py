"""Driver analysis over ClickHouse: the answers read back by SQL give the same report as the facts themselves, the
cached report is what the dashboard and `cxloop drivers` show, and the planted driver leads."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from cxloop.driver_cache import latest_drivers, refresh_drivers
from cxloop.drivers import drivers_report
from cxloop.reports import render_drivers
from sinks.clickhouse import ClickHouse, migrate
from tests.integration.test_figures import NOW, answers, land

pytestmark = pytest.mark.integration


@pytest.fixture
def landed(clickhouse_engine: ClickHouse) -> ClickHouse:
    database = clickhouse_engine.using(f"drivers_{random.Random().getrandbits(32):08x}")
    migrate(database)
    land(database, "first")
    land(database, "replay")
    return database


def test_cached_reports_equal_the_analysis_of_the_facts_and_lead_with_the_planted_driver(landed: ClickHouse) -> None:
    reports = refresh_drivers(landed, NOW, period=timedelta(days=30), bootstrap=200)
    cached = {(r["metric"], r["segment"]): r for r in latest_drivers(landed, "all")}
    assert {m for m, _ in cached} == {"nps", "csat", "ces"}
    assert {r["segment"] for r in reports} >= {"all", "program:nps-program"}
    for metric in ("nps", "csat", "ces"):
        rows = [{**r, "resolved": r["resolved"]} for r in answers() if r["metric"] == metric]
        want = drivers_report(rows, metric, bootstrap=200)
        got = cached[(metric, "all")]
        assert got["n"] == want["n"] == len(rows)
        assert got["impacts"] == want["impacts"]
        assert [d["name"] for d in got["drivers"]] == [d["name"] for d in want["drivers"]]
        assert [d["weight"] for d in got["drivers"]] == pytest.approx([d["weight"] for d in want["drivers"]])
    nps = cached[("nps", "all")]
    assert nps["impacts"][0]["theme"] == "wait time", "the only theme, planted on low scores"
    leaders = nps["drivers"][:2]
    assert {d["name"] for d in leaders} == {"theme:wait time", "resolved"} and all(d["significant"] for d in leaders)
    assert not any(d["significant"] for d in nps["drivers"] if d["name"].startswith("channel:"))
    text = render_drivers([nps], "table")
    assert "what to fix first" in text and "wait time" in text and "significant" in text
