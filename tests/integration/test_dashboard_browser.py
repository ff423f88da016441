"""The built-in dashboard in headless Chromium: it shows the figures, escapes customer text, and picks up new data
within 5 seconds. A screenshot of the page is kept in test-artifacts/."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest

from cxloop import dashboard
from cxloop.dashboard import DashboardServer
from cxloop.facts import fact_row
from sinks.clickhouse import ClickHouse, migrate, table_columns
from tests.browser import browser_fixture, new_page, save_screenshot
from tests.integration.test_figures import FACTS, KEY, NOW, answers, land, textbook

browser = browser_fixture()
HOSTILE = '<img src=x onerror="document.title=\'owned\'">'


class Fixed:
    @staticmethod
    def now():  # type: ignore[no-untyped-def]
        return NOW


@pytest.fixture
def served(clickhouse_engine: ClickHouse, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ClickHouse, str]]:
    monkeypatch.setattr(dashboard, "SystemClock", Fixed)
    database = clickhouse_engine.using(f"dash_{random.Random().getrandbits(32):08x}")
    migrate(database)
    land(database, "first")
    server = DashboardServer(database, "127.0.0.1", 0).start()
    yield database, server.url
    server.stop()


def scored_row(database: ClickHouse, survey: str, themes: list[str], minutes_before: float) -> dict:
    template = next(r for r in FACTS["survey_scored"] if r["metric"] == "nps")
    at = NOW - timedelta(minutes=minutes_before)
    record = template | {"survey_id": survey, "score": 0, "category": "detractor", "themes": themes,
                         "responded_at": at, "scored_at": at}
    return fact_row(record, table_columns(database, "survey_scored"), KEY)


def test_dashboard_shows_the_figures_escapes_customer_text_and_refreshes(served, browser) -> None:
    database, url = served
    database.insert("survey_scored", [scored_row(database, "sv_hostile", [HOSTILE], 30)], dedup_token="hostile")
    nps_rows = [r for r in answers() if r["metric"] == "nps"] + [{"score": 0}]
    want = textbook("nps", nps_rows)

    with new_page(browser, "dashboard", viewport={"width": 1100, "height": 900}) as page:
        page.goto(url + "?since=7d&bucket=1h")
        card = page.locator('[data-testid="headline"] [data-metric="nps"]')
        card.wait_for()
        assert f"n={want['n']}" in card.inner_text()
        assert f"NPS {want['value']:+.1f}" in card.inner_text()
        assert page.locator('[data-testid="headline"] .card').count() == 3
        teams = page.locator('[data-testid="teams"] tbody tr')
        assert teams.count() == len({(r["team_id"], r["metric"]) for r in answers()})
        assert {"team-north", "team-south", "team-east"} <= set(teams.locator("td:first-child").all_inner_texts())
        funnel = page.locator('[data-testid="funnel"] tbody tr')
        assert set(funnel.locator("td:first-child").all_inner_texts()) == {"voice", "chat", "email"}
        assert page.locator('[data-testid="trend"] [data-testid="band"]').count() == 1, "the interval band"
        # The hostile theme is shown as text, not run as markup.
        theme_cells = page.locator('[data-testid="themes"] td:first-child').all_inner_texts()
        assert HOSTILE in theme_cells
        assert page.locator('[data-testid="themes"] img').count() == 0 and page.title() != "owned"
        save_screenshot(page, "dashboard")

        # New data shows up within 5 seconds, without reloading the page.
        fresh = [scored_row(database, f"sv_fresh_{n}", [], 5) for n in range(3)]
        database.insert("survey_scored", fresh, dedup_token="fresh")
        page.wait_for_function(
            "expected => document.querySelector('[data-metric=\"nps\"]').innerText.includes('n=' + expected)",
            arg=want["n"] + 3, timeout=5000)
