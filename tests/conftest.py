"""Fixtures: one real Kafka broker per session, fresh topics and consumer groups per test, embedded ClickHouse."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxloop.settings import Settings, load_settings
from sinks.clickhouse import EmbeddedClickHouse, ServerClickHouse
from tests.support import free_port

PROGRAMS = Path(__file__).resolve().parent / "programs"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration and tests/e2e talks to the real broker: `-m integration` selects it."""
    for item in items:
        if {"integration", "e2e"} & set(item.path.parts):
            item.add_marker(pytest.mark.integration)


def _docker_works() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """KAFKA_BOOTSTRAP if set; else a Kafka container if Docker works; else a broker from Maven Central jars."""
    if os.environ.get("KAFKA_BOOTSTRAP"):
        yield os.environ["KAFKA_BOOTSTRAP"]
    elif _docker_works():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
            yield container.get_bootstrap_server()
    else:
        from cxloop.local_kafka import LocalKafka

        with LocalKafka(tmp_path_factory.mktemp("kafka")) as broker:
            yield broker.bootstrap


@pytest.fixture(scope="session")
def clickhouse_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedClickHouse | ServerClickHouse]:
    """ClickHouse server when CLICKHOUSE_URL is set, else chdb (one data path per process, so one per session)."""
    url = os.environ.get("CLICKHOUSE_URL")
    engine = ServerClickHouse(url, "default") if url else EmbeddedClickHouse(tmp_path_factory.mktemp("chdb"), "default")
    yield engine
    engine.close()


@pytest.fixture
def settings(kafka_bootstrap: str, tmp_path: Path) -> Settings:
    """Fresh topics (a per-test prefix), consumer groups, state and ClickHouse database for every test."""
    run = uuid.uuid4().hex[:10]
    port = free_port()
    return load_settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"t{run}.",
        topic_partitions=2,
        app_id=f"cxloop-t{run}",
        data_dir=tmp_path / "data",
        web_port=port,
        public_url=f"http://127.0.0.1:{port}",
        clickhouse_database=f"t{run}",
        sink_flush_seconds=0.3,
        response_ack_timeout_seconds=5.0,
        programs_file=PROGRAMS / "survey-everything.yaml",
        session_timeout_seconds=10.0,  # a SIGKILLed worker's partitions move on quickly
        stall_exit_seconds=30.0,
    )
