"""Rolling aggregates from the worker's Faust windowed tables, on the real broker, landed in ClickHouse.

Answers are published to the internal per-dimension topic as the responses agent publishes them (keyed by the
dimension value, stamped with the answer's time), at known times; each window's final counts must equal the answers
whose time falls inside it, in the 1-minute, 1-hour and 24-hour tumbling windows.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from confluent_kafka import Producer

from agents.systemic import WINDOWS
from cxloop.settings import Settings
from cxloop.topics import internal_topic
from sinks.clickhouse import ClickHouse
from tests.support import wait_for

SCORES = [(10, 9), (20, 3), (70, 7), (16 * 60, 10), (7 * 3600, 2)]  # (seconds after the base hour, NPS score)


def category(score: int) -> str:
    return "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"


def test_windowed_counts_equal_the_answers_inside_each_window(settings: Settings, worker, lander,
                                                              clickhouse: ClickHouse) -> None:
    base = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=9)
    base -= timedelta(hours=base.hour % 6)  # a 6-hour boundary, so the 24-hour hops are easy to reason about
    answers = [(base + timedelta(seconds=s), score) for s, score in SCORES]
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "enable.idempotence": True})
    for at, score in answers:
        value = {"t": int(at.timestamp() * 1000), "metric": "nps", "score": score, "category": category(score)}
        producer.produce(internal_topic(settings, "scores-by-dimension"), key=b"team=team-rolling",
                         value=json.dumps(value).encode(), timestamp=int(at.timestamp() * 1000))
    assert producer.flush(30) == 0

    expected: dict[tuple[str, datetime], tuple[int, int, int, int]] = {}
    for name, (size, _) in WINDOWS.items():
        seconds = size.total_seconds()
        for at, score in answers:
            start = datetime.fromtimestamp(at.timestamp() - at.timestamp() % seconds, timezone.utc)
            n, d, p, total = expected.get((name, start), (0, 0, 0, 0))
            expected[(name, start)] = (n + 1, d + (category(score) == "detractor"),
                                       p + (category(score) == "promoter"), total + score)
    assert len(expected) >= 7  # 4 minutes, 2 hours, 1 or 2 days

    db = clickhouse.database

    def landed() -> dict | None:
        rows = clickhouse.query(
            f"SELECT window, window_start, answers, detractors, promoters, score_sum FROM {db}.rolling_aggregates "
            "FINAL WHERE dimension = 'team' AND value = 'team-rolling' AND metric = 'nps'")
        got = {(r["window"], _utc(r["window_start"])): (int(r["answers"]), int(r["detractors"]),
                                                        int(r["promoters"]), int(r["score_sum"])) for r in rows}
        return got if got == expected else None

    wait_for(landed, 90, what="every window's final counts in ClickHouse")
    assert expected[("1m", base)] == (2, 1, 1, 12)
    assert expected[("1h", base)] == (4, 1, 2, 29)
    assert sum(n for (name, _), (n, *_rest) in expected.items() if name == "24h") == len(SCORES)


def _utc(value: datetime | str) -> datetime:
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed
