"""Driver analysis over ClickHouse: the answers in, the reports out, cached in `driver_results`.

`refresh_drivers` reads the answers of a period (default 90 days) from `survey_scored`, with first-contact
resolution from `interactions` where upstream sent it (else the interaction's `resolved`), computes
`cxloop.drivers.drivers_report` per metric for all answers and per program, and stores each report; `latest_drivers`
reads them back. The sink refreshes on a schedule (`CXLOOP_DRIVERS_REFRESH_SECONDS`), `cxloop drivers --refresh` on
demand, so dashboards read a cached report instead of running the bootstrap on every view.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from cxloop.clock import utc
from cxloop.drivers import drivers_report
from cxloop.figures import since_clause
from sinks.clickhouse import ClickHouse, quote

log = logging.getLogger(__name__)
DEFAULT_PERIOD = timedelta(days=90)


def driver_rows(clickhouse: ClickHouse, since: datetime | None) -> list[dict[str, Any]]:
    db = clickhouse.database
    rows = clickhouse.query(f"""
        SELECT s.metric AS metric, s.score AS score, s.category AS category, s.themes AS themes,
               toUInt8(ifNull(i.first_contact_resolution, s.resolved)) AS resolved,
               s.handle_time_seconds AS handle_time_seconds, s.wait_time_seconds AS wait_time_seconds,
               s.transfers AS transfers, s.interaction_channel AS interaction_channel, s.handled_by AS handled_by,
               s.program_id AS program_id
        FROM {db}.survey_scored AS s FINAL
        LEFT JOIN (SELECT interaction_id, first_contact_resolution FROM {db}.interactions FINAL) AS i
            ON i.interaction_id = s.interaction_id
        {since_clause(since, "s.responded_at")}
    """)
    return [{**r, "score": int(r["score"]), "resolved": bool(int(r["resolved"])),
             "handle_time_seconds": int(r["handle_time_seconds"]), "wait_time_seconds": int(r["wait_time_seconds"]),
             "transfers": int(r["transfers"])} for r in rows]


def refresh_drivers(clickhouse: ClickHouse, now: datetime, period: timedelta = DEFAULT_PERIOD,
                    bootstrap: int = 500) -> list[dict[str, Any]]:
    """Compute and store the reports of every metric, for all answers and per program; returns them."""
    since = now - period
    rows = driver_rows(clickhouse, since)
    segments: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        segments.setdefault((row["metric"], "all"), []).append(row)
        segments.setdefault((row["metric"], f"program:{row['program_id']}"), []).append(row)
    stored = []
    for (metric, segment), members in sorted(segments.items()):
        report = {**drivers_report(members, metric, bootstrap=bootstrap), "segment": segment,
                  "computed_at": utc(now).isoformat(), "since": utc(since).isoformat()}
        stored.append({"metric": metric, "segment": segment, "computed_at": now, "since": since,
                       "n": report["n"], "report": json.dumps(report, allow_nan=False)})
    if stored:
        clickhouse.insert("driver_results", stored)
    return [json.loads(s["report"]) for s in stored]


def latest_drivers(clickhouse: ClickHouse, segment: str = "all") -> list[dict[str, Any]]:
    rows = clickhouse.query(
        f"SELECT report FROM {clickhouse.database}.driver_results FINAL WHERE segment = '{quote(segment)}' "
        "ORDER BY n DESC, metric")
    return [json.loads(r["report"]) for r in rows]


class DriverRefresher:
    """Refreshes the cached reports every `interval` seconds on its own thread (the sink runs one)."""

    def __init__(self, clickhouse: ClickHouse, interval: float, clock: Any) -> None:
        self._clickhouse, self._interval, self._clock = clickhouse, interval, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drivers", daemon=True)

    def start(self) -> DriverRefresher:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                reports = refresh_drivers(self._clickhouse, self._clock.now())
                log.info("driver analysis refreshed: %d report(s)", len(reports))
            except Exception:  # a failed refresh keeps the last reports; the next one tries again
                log.exception("driver analysis refresh failed")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

