"""Lands fact topics in ClickHouse: batches per topic-partition, commits offsets only after the insert.

Contract: a batch is inserted with the dedup token `<topic>:<partition>:<first>-<last>` and its offsets are committed
only once ClickHouse has the rows, so a crash replays, never skips; the tables' ReplacingMergeTree keys collapse any
replayed row that arrives in a differently cut batch. While ClickHouse fails, consumption pauses and the insert is
retried with bounded backoff; nothing is dropped. Undecodable or invalid messages go to dead-letter.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import confluent_kafka
from confluent_kafka import Consumer, Message, TopicPartition

from cxloop.clock import Clock, SystemClock
from cxloop.codec import Codec
from cxloop.deadletter import dead_letter_record
from cxloop.facts import FACT_TABLES, fact_row
from cxloop.model import InvalidEvent
from cxloop.producer import producer_config
from cxloop.settings import Settings
from sinks.clickhouse import ClickHouse, ClickHouseError, table_columns

log = logging.getLogger(__name__)


@dataclass
class Batch:
    table: str
    first_offset: int
    last_offset: int = -1
    rows: list[dict[str, Any]] = field(default_factory=list)
    opened: float = field(default_factory=time.monotonic)


class Lander:
    def __init__(
        self, settings: Settings, clickhouse: ClickHouse, codec: Codec, clock: Clock | None = None
    ) -> None:
        self.settings = settings
        self.clickhouse = clickhouse
        self.codec = codec
        self.clock = clock or SystemClock()
        self._contracts = {settings.topic(contract): contract for contract in FACT_TABLES}
        self._columns = {table: table_columns(clickhouse, table) for table in FACT_TABLES.values()}
        self._key = settings.pseudonym_key.get_secret_value().encode()
        self._batches: dict[tuple[str, int], Batch] = {}
        self._stopping = threading.Event()
        self.rows_landed = 0
        self.failed_inserts = 0
        self._consumer = Consumer({
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"{settings.app_id}-clickhouse",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "partition.assignment.strategy": "cooperative-sticky",
        })
        self._producer = confluent_kafka.Producer(producer_config(settings, **{"client.id": "cxloop-lander"}))

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        """Consume until `stop()`; flushes what it holds before it returns."""
        self._consumer.subscribe(list(self._contracts), on_revoke=self._on_revoke)
        try:
            while not self._stopping.is_set():
                message = self._consumer.poll(0.2)
                if message is not None:
                    self._take(message)
                self._flush_due(force=False)
            self._flush_due(force=True)
        finally:
            self._consumer.close()
            self._producer.flush(10)

    def _take(self, message: Message) -> None:
        error = message.error()
        if error is not None:
            if error.code() != confluent_kafka.KafkaError._PARTITION_EOF:
                log.warning("consumer error: %s", error)
            return
        topic, partition, offset = _position(message)
        contract = self._contracts[topic]
        table = FACT_TABLES[contract]
        batch = self._batches.setdefault((topic, partition), Batch(table, first_offset=offset))
        batch.last_offset = offset
        try:
            record = self.codec.decode(contract, message.value())
            batch.rows.append(fact_row(record, self._columns[table], self._key))
        except (ValueError, KeyError, InvalidEvent) as exc:
            self._dead_letter(message, exc)
        if len(batch.rows) >= self.settings.sink_batch_size:
            self._flush((topic, partition))

    def _flush_due(self, force: bool) -> None:
        now = time.monotonic()
        for key, batch in list(self._batches.items()):
            if force or now - batch.opened >= self.settings.sink_flush_seconds:
                self._flush(key)

    def _flush(self, key: tuple[str, int]) -> None:
        batch = self._batches[key]
        topic, partition = key
        token = f"{topic}:{partition}:{batch.first_offset}-{batch.last_offset}"
        delay = 0.5
        while True:
            try:
                self.clickhouse.insert(batch.table, batch.rows, dedup_token=token)
                break
            except ClickHouseError as exc:
                self.failed_inserts += 1
                if self._stopping.is_set():
                    log.error("ClickHouse insert %s failed while stopping, left for replay: %s", token, exc)
                    return
                log.warning("ClickHouse insert %s failed, retrying in %.1fs: %s", token, delay, exc)
                self._pause_for(delay)
                delay = min(delay * 2, 30.0)
        self._consumer.commit(offsets=[TopicPartition(topic, partition, batch.last_offset + 1)], asynchronous=False)
        self.rows_landed += len(batch.rows)
        del self._batches[key]

    def _pause_for(self, seconds: float) -> None:
        """Keep the group membership alive while ClickHouse is away, without taking new messages."""
        assignment = self._consumer.assignment()
        self._consumer.pause(assignment)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stopping.is_set():
            message = self._consumer.poll(0.1)
            if message is not None and not message.error():  # a partition assigned meanwhile: read it later
                self._consumer.seek(TopicPartition(*_position(message)))
        self._consumer.resume(assignment)

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            if (tp.topic, tp.partition) in self._batches:
                self._flush((tp.topic, tp.partition))

    def _dead_letter(self, message: Message, exc: Exception) -> None:
        topic, partition, offset = _position(message)
        log.warning("lander sent %s[%s]@%s to dead-letter: %s", topic, partition, offset, exc)
        record = dead_letter_record(
            stage="clickhouse", exc=exc, topic=topic, partition=partition, offset=offset,
            key=message.key(), value=message.value(), now=self.clock.now(),
        )
        self._producer.produce(
            self.settings.topic("dead-letter"), key=message.key(), value=self.codec.encode("dead-letter", record)
        )
        self._producer.flush(30)


def _position(message: Message) -> tuple[str, int, int]:
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    assert topic is not None and partition is not None and offset is not None, "a consumed message has a position"
    return topic, partition, offset
