"""The topics cxloop reads and writes, one per Avro contract in `schemas/`, created up front."""

from __future__ import annotations

import logging
import time

from confluent_kafka.admin import AdminClient, NewTopic

from cxloop.codec import SCHEMAS_DIR
from cxloop.programs import GATEWAY_CHANNELS
from cxloop.settings import Settings

log = logging.getLogger(__name__)


INTERNAL = ("interactions-by-customer", "answers-by-customer", "triggers-ticks", "dispatch-ticks",
            "alerts-by-customer", "case-updates-by-customer", "cases-ticks", "notify-ticks", "scores-by-dimension")




def contracts() -> list[str]:
    return sorted(path.stem for path in SCHEMAS_DIR.glob("*.avsc"))


def contract_topics() -> list[str]:
    """One topic per contract, but survey-outbound has one per channel gateway."""
    names: list[str] = []
    for contract in contracts():
        names += [f"{contract}-{c}" for c in GATEWAY_CHANNELS] if contract == "survey-outbound" else [contract]
    return names


def internal_topic(settings: Settings, name: str) -> str:
    """Topics only cxloop's own stages read: re-keyed copies and scheduler ticks, named after the app."""
    return f"{settings.topic_prefix}{settings.app_id}-{name}"


def ensure_topics(settings: Settings, timeout: float = 60.0) -> list[str]:
    """Create missing topics (partitions and replication from settings); returns the names created."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    wanted = [settings.topic(name) for name in contract_topics()] + [internal_topic(settings, n) for n in INTERNAL]
    deadline = time.monotonic() + timeout
    while True:
        try:
            existing = set(admin.list_topics(timeout=10).topics)
            break
        except Exception as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kafka at {settings.kafka_bootstrap} is not reachable: {exc}") from exc
            time.sleep(0.5)  # broker still starting
    missing = [name for name in wanted if name not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(name, settings.topic_partitions, settings.topic_replication) for name in missing],
        operation_timeout=timeout,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    log.info("created topics: %s", ", ".join(created))
    return created
