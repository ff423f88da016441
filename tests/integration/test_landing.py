"""Landing facts in ClickHouse: offsets advance only after the insert, replays never double count."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from cxloop.codec import Codec
from cxloop.facts import fact_row
from cxloop.model import Interaction
from cxloop.settings import Settings
from sinks.clickhouse import ClickHouse, table_columns
from sinks.landing import Lander
from tests.support import TopicReader, publish, publish_record, publish_records, wait_for


def interactions(n: int, prefix: str = "call") -> list[Interaction]:
    ended = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)
    return [
        Interaction(
            interaction_id=f"{prefix}-{i}", trigger="call_end", channel="voice", customer_id=f"cust-{i % 7}",
            started_at=ended - timedelta(minutes=5), ended_at=ended + timedelta(seconds=i),
            customer_email=f"c{i}@customers.example", agent_id=f"agent-{i % 3}", team_id="team-north",
            handle_time_seconds=300, transfers=i % 2, resolved=i % 3 != 0,
        )
        for i in range(n)
    ]


def count(clickhouse: ClickHouse, table: str, final: bool = True) -> int:
    rows = clickhouse.query(f"SELECT count() AS n FROM {clickhouse.database}.{table}{' FINAL' if final else ''}")
    return int(rows[0]["n"])


def run_lander(settings: Settings, clickhouse: ClickHouse) -> tuple[Lander, threading.Thread]:
    lander = Lander(settings, clickhouse, Codec())
    thread = threading.Thread(target=lander.run, daemon=True)
    thread.start()
    return lander, thread


def test_replaying_the_same_offsets_changes_no_figure(settings: Settings, topics, clickhouse: ClickHouse) -> None:
    publish_records(settings, "interaction-completed", [(i.customer_id, i.to_record()) for i in interactions(120)])
    first, thread = run_lander(settings, clickhouse)
    wait_for(lambda: count(clickhouse, "interactions") == 120, 60, what="120 interactions landed")
    first.stop()
    thread.join(30)
    figures = clickhouse.query(
        f"SELECT sum(transfers) AS t, countIf(resolved) AS r FROM {clickhouse.database}.interactions FINAL")

    # A second consumer group re-reads every offset from the start, as after a lost offset commit.
    replay_settings = settings.model_copy(update={"app_id": settings.app_id + "-replay", "sink_batch_size": 7})
    replay, thread = run_lander(replay_settings, clickhouse)
    wait_for(lambda: replay.rows_landed >= 120, 60, what="the replay to re-land every row")
    replay.stop()
    thread.join(30)
    assert count(clickhouse, "interactions") == 120
    assert clickhouse.query(
        f"SELECT sum(transfers) AS t, countIf(resolved) AS r FROM {clickhouse.database}.interactions FINAL"
    ) == figures


def test_the_same_batch_inserted_twice_is_deduplicated_by_its_token(clickhouse: ClickHouse) -> None:
    columns = table_columns(clickhouse, "interactions")
    rows = [fact_row(i.to_record(), columns, b"k") for i in interactions(3, prefix="dedup")]
    clickhouse.insert("interactions", rows, dedup_token="topic:0:10-12")
    clickhouse.insert("interactions", rows, dedup_token="topic:0:10-12")
    assert count(clickhouse, "interactions", final=False) == 3
    clickhouse.insert("interactions", rows, dedup_token="topic:0:13-15")
    assert count(clickhouse, "interactions", final=False) == 6, "another token is another batch"
    assert count(clickhouse, "interactions") == 3, "and the table's key still collapses the copies"


def test_clickhouse_outage_pauses_landing_and_loses_nothing(settings: Settings, topics, clickhouse: ClickHouse) -> None:
    db = clickhouse.database
    lander, thread = run_lander(settings, clickhouse)
    clickhouse.command(f"RENAME TABLE {db}.interactions TO {db}.interactions_away")
    try:
        outage = interactions(30, prefix="outage")
        publish_records(settings, "interaction-completed", [(i.customer_id, i.to_record()) for i in outage])
        wait_for(lambda: lander.failed_inserts > 0, 60, what="the lander to hit the missing table")
        assert lander.rows_landed == 0
        clickhouse.command(f"RENAME TABLE {db}.interactions_away TO {db}.interactions")
        wait_for(lambda: count(clickhouse, "interactions") == 30, 90, what="all 30 rows after ClickHouse came back")
    finally:
        lander.stop()
        thread.join(30)
    assert count(clickhouse, "interactions", final=False) == 30, "nothing landed twice"


def test_undecodable_fact_goes_to_dead_letter_and_landing_goes_on(settings: Settings, topics,
                                                                  clickhouse: ClickHouse) -> None:
    publish(settings, "survey-scored", b"sv_1", b"\x00\x00\x00\x00\x07 broken")
    good = interactions(1, prefix="after-bad")[0]
    publish_record(settings, "interaction-completed", good.customer_id, good.to_record())
    lander, thread = run_lander(settings, clickhouse)
    try:
        dead = TopicReader(settings, "dead-letter")
        letter = dead.wait_for(lambda d: d["stage"] == "clickhouse")[0]
        assert letter["error_type"] == "undecodable"
        assert letter["original_value"] == b"\x00\x00\x00\x00\x07 broken"
        dead.close()
        wait_for(lambda: count(clickhouse, "interactions") == 1, 60, what="the good interaction landed")
    finally:
        lander.stop()
        thread.join(30)
