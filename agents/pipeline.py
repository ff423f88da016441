"""What every agent shares: topics, the codec, the clock, sending records and dead-lettering per event."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import faust
from aiokafka.partitioner import murmur2
from faust.types import EventT, TableT

from cxloop.clock import Clock
from cxloop.codec import Codec
from cxloop.deadletter import dead_letter_record
from cxloop.model import Record
from cxloop.settings import Settings
from cxloop.topics import internal_topic

log = logging.getLogger(__name__)
R = TypeVar("R", bound=Record)


def partition_for(key: bytes, partitions: int) -> int:
    """Where the JVM client, aiokafka and cxloop's producers put a key (murmur2)."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class Pipeline:
    def __init__(self, app: faust.App, settings: Settings, codec: Codec, clock: Clock) -> None:
        self.app = app
        self.settings = settings
        self.codec = codec
        self.clock = clock
        self._topics: dict[str, faust.TopicT] = {}
        self.events_handled = 0  # read by the watchdog

    @property
    def source_topics(self) -> list[str]:
        return list(self._topics)

    def topic(self, contract: str) -> faust.TopicT:
        """The Faust topic of a contract; bytes in and out, the codec does the rest."""
        return self._topic(self.settings.topic(contract))

    def internal_topic(self, name: str) -> faust.TopicT:
        return self._topic(internal_topic(self.settings, name))

    def _topic(self, name: str) -> faust.TopicT:
        if name not in self._topics:
            self._topics[name] = self.app.topic(
                name,
                key_type=bytes,
                value_type=bytes,
                key_serializer="raw",
                value_serializer="raw",
                partitions=self.settings.topic_partitions,
            )
        return self._topics[name]

    def table(self, name: str, help: str) -> TableT:
        return self.app.Table(
            name,
            default=None,
            key_type=bytes,  # bytes -> Faust's raw serializer; values are the codec's Avro bytes
            value_type=bytes,
            partitions=self.settings.topic_partitions,
            help=help,
        )

    def agent(self, name: str, routes: dict[faust.TopicT, Callable[[EventT], Awaitable[None]]]) -> faust.types.AgentT:
        """One agent (concurrency 1) reading several topics in one stream, each event handled by its topic's
        handler inside the per-event dead-letter guard."""
        handler_of = {topic.get_topic_name(): handler for topic, handler in routes.items()}
        source = self.app.topic(*handler_of, key_type=bytes, value_type=bytes, key_serializer="raw",
                                value_serializer="raw")

        async def run(stream: faust.StreamT) -> None:
            async for event in stream.events():
                async with self.per_event(event, name):
                    await handler_of[event.message.topic](event)

        return self.app.agent(source, name=name, concurrency=1)(run)

    async def rekeyed(self, event: EventT, key: bytes, to: faust.TopicT) -> bool:
        """Whether the event had to be re-published to `to` keyed by `key` first: keyed otherwise, or put on a
        partition other than murmur2's for that key (per-key tables need both). Then this copy is done."""
        message = event.message
        if message.key == key and message.partition == partition_for(key, self.settings.topic_partitions):
            return False
        await to.send(key=key, value=message.value)
        return True

    def decode(self, event: EventT, kind: type[R]) -> R:
        return kind.from_record(self.codec.decode(kind.contract, event.message.value))

    async def send(self, record: Record, key: str, topic: str | None = None) -> None:
        """Queue a record on its contract's topic (or `topic`, for contracts with a topic per channel); Faust
        flushes the producer (acks=all) before it commits the input offset."""
        value = self.codec.encode(record.contract, record.to_record())
        await self.topic(topic or record.contract).send(key=key.encode(), value=value)

    @contextlib.asynccontextmanager
    async def per_event(self, event: EventT, stage: str) -> AsyncIterator[None]:
        """Process one event; any failure sends it to dead-letter with its reason, and the stream goes on."""
        self.events_handled += 1
        try:
            yield
        except Exception as exc:
            message = event.message
            await self.dead_letter(stage, exc, message.topic, message.partition, message.offset, message.key,
                                   message.value)

    async def dead_letter(self, stage: str, exc: Exception, topic: str, partition: int, offset: int,
                          key: bytes | None, value: bytes | None) -> None:
        record = dead_letter_record(stage=stage, exc=exc, topic=topic, partition=partition, offset=offset, key=key,
                                    value=value, now=self.clock.now())
        log.warning("%s sent %s[%s]@%s to dead-letter: %s", stage, topic, partition, offset, exc,
                    exc_info=record["error_type"] == "processing_error")
        await self.topic("dead-letter").send(key=key, value=self.codec.encode("dead-letter", record))
