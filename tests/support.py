"""Helpers the integration tests share: settings as environment, child services, polling with a deadline."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from agents.watchdog import STALLED_EXIT_CODE
from cxloop.codec import Codec
from cxloop.producer import producer_config
from cxloop.settings import Settings

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], T | None], timeout: float = 60.0, interval: float = 0.2, what: str = "") -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or check}")
        time.sleep(interval)


def healthy(url: str) -> bool:
    """Whether a cxloop web tier at `url` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXLOOP_")}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"CXLOOP_{name.upper()}"] = str(value)
    env.pop("KAFKA_BOOTSTRAP", None)
    env.pop("SENDGRID_API_KEY", None)
    env.pop("CLICKHOUSE_URL", None)
    return env


class Service:
    """A cxloop command running as a child process, its output in a log file.

    Like the supervisor a deployment has (Kubernetes, compose `restart:`), it restarts the command when it exits
    with the watchdog's stall code, and counts those restarts."""

    def __init__(self, command: str, settings: Settings, log: Path) -> None:
        self.command, self.settings, self.log = command, settings, log
        self.stall_restarts = 0
        self._handle = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self._start()

    def _start(self) -> None:
        self._log_start = self.log.stat().st_size
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cxloop", self.command], env=settings_env(self.settings), cwd=ROOT,
            stdout=self._handle, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def supervise(self) -> None:
        """Restart after a watchdog exit (code 70); call it from polling loops."""
        if self.process.poll() == STALLED_EXIT_CODE:
            self.stall_restarts += 1
            self._start()

    def output(self) -> str:
        """What this run of the service printed (a restarted service appends to the same log)."""
        with open(self.log, "rb") as handle:
            handle.seek(self._log_start)
            return handle.read().decode(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 90.0) -> None:
        def seen() -> bool:
            self.supervise()
            if self.process.poll() is not None:
                raise AssertionError(f"service exited with {self.process.returncode}:\n{self.output()[-3000:]}")
            return text in self.output()

        wait_for(seen, timeout, what=f"{text!r} in {self.log.name}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final commit, as when a machine dies."""
        self.process.kill()
        self.process.wait()

    def stop(self, timeout: float = 30.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._handle.close()


def publish_many(settings: Settings, contract: str, messages: list[tuple[bytes | None, bytes]]) -> None:
    """Publish in order with one idempotent producer; returns once the broker acknowledged all of them."""
    producer = Producer(producer_config(settings))
    for key, value in messages:
        producer.produce(settings.topic(contract), key=key, value=value)
    assert producer.flush(30) == 0, f"{contract}: messages not acknowledged"


def publish(settings: Settings, contract: str, key: bytes | None, value: bytes) -> None:
    publish_many(settings, contract, [(key, value)])


def publish_records(settings: Settings, contract: str, records: list[tuple[str, dict]]) -> None:
    codec = Codec()
    publish_many(settings, contract, [(key.encode(), codec.encode(contract, record)) for key, record in records])


def publish_record(settings: Settings, contract: str, key: str, record: dict) -> None:
    publish_records(settings, contract, [(key, record)])


class TopicReader:
    """Reads one topic from the beginning, decoding with the codec."""

    def __init__(self, settings: Settings, contract: str, topic: str | None = None) -> None:
        """`topic` for contracts with a topic per channel (survey-outbound-sms); else the contract's topic."""
        self.contract = contract
        self.codec = Codec()
        self.records: list[dict] = []
        self.messages: list[tuple[int | None, int | None, bytes | None]] = []  # partition, offset, key
        self._consumer = Consumer({
            "bootstrap.servers": settings.kafka_bootstrap, "group.id": f"test-reader-{os.urandom(4).hex()}",
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
        })
        self._consumer.subscribe([settings.topic(topic or contract)])

    def poll(self) -> list[dict]:
        for message in self._consumer.consume(500, timeout=0.2):
            if message.error():
                continue
            self.records.append(self.codec.decode(self.contract, message.value()))
            self.messages.append((message.partition(), message.offset(), message.key()))
        return self.records

    def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 60.0, count: int = 1) -> list[dict]:
        return wait_for(
            lambda: (lambda hits: hits if len(hits) >= count else None)([r for r in self.poll() if predicate(r)]),
            timeout, what=f"{count} matching record(s) of {self.contract}",
        )

    def close(self) -> None:
        self._consumer.close()


def consumed_everything(settings: Settings, contract: str, group: str | None = None) -> bool:
    """Whether the worker's consumer group has committed the end offset of every partition of the topic: every
    message published so far has been processed (Faust commits only after the producer flushed)."""
    topic = settings.topic(contract)
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    probe = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"probe-{os.urandom(4).hex()}"})
    try:
        partitions = probe.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: probe.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        request = ConsumerGroupTopicPartitions(group or settings.app_id, [TopicPartition(topic, p) for p in ends])
        result = admin.list_consumer_group_offsets([request])[group or settings.app_id].result(timeout=10)
        committed = {tp.partition: tp.offset for tp in result.topic_partitions}
        return all(committed.get(p, -1) >= end for p, end in ends.items() if end > 0)
    finally:
        probe.close()
