"""The one producer factory for code outside Faust: the web tier, the traffic generator, the ClickHouse lander."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import confluent_kafka

from cxloop.settings import Settings


class DeliveryFailed(RuntimeError):
    """Kafka did not acknowledge the message."""


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        # Same partitioner as the JVM and aiokafka (Faust), so a key lands where the co-partitioned tables expect it.
        "partitioner": "murmur2_random",
        "linger.ms": 5,
        "message.timeout.ms": int(settings.response_ack_timeout_seconds * 1000),
        "client.id": f"{settings.app_id}-producer",
    }
    config.update(overrides)
    return config


class AsyncProducer:
    """confluent-kafka Producer for asyncio code: `send` returns once the broker acknowledged (acks=all)."""

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self._producer = confluent_kafka.Producer(producer_config(settings, **overrides))
        self._timeout = settings.response_ack_timeout_seconds + 2.0
        self._running = threading.Event()
        self._running.set()
        self._poller = threading.Thread(target=self._poll, name="producer-poll", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while self._running.is_set():
            self._producer.poll(0.1)

    async def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        loop = asyncio.get_running_loop()
        acked: asyncio.Future[None] = loop.create_future()

        def settle(err: confluent_kafka.KafkaError | None, _msg: object) -> None:
            loop.call_soon_threadsafe(_settle, acked, err)

        try:
            self._producer.produce(topic, value=value, key=key, on_delivery=settle)
        except (BufferError, confluent_kafka.KafkaException) as exc:
            raise DeliveryFailed(f"could not queue for {topic}: {exc}") from exc
        try:
            await asyncio.wait_for(asyncio.shield(acked), self._timeout)
        except asyncio.TimeoutError as exc:
            raise DeliveryFailed(f"no acknowledgement from Kafka for {topic} within {self._timeout:.0f}s") from exc

    def close(self, timeout: float = 10.0) -> None:
        self._producer.flush(timeout)
        self._running.clear()
        self._poller.join(timeout=2.0)


def _settle(acked: asyncio.Future[None], err: confluent_kafka.KafkaError | None) -> None:
    if acked.done():
        return
    if err is None:
        acked.set_result(None)
    else:
        acked.set_exception(DeliveryFailed(f"Kafka refused the message: {err}"))
