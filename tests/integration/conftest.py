from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from cxloop.codec import Codec
from cxloop.settings import Settings
from cxloop.topics import ensure_topics
from sinks.clickhouse import ClickHouse, migrate
from sinks.landing import Lander
from tests.support import Service, healthy, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def topics(settings: Settings) -> Settings:
    ensure_topics(settings)
    return settings


@pytest.fixture
def worker(topics: Settings) -> Iterator[Service]:
    service = Service("worker", topics, topics.data_dir.parent / "worker.log")
    try:
        service.wait_for_output("[^Worker]: Ready", timeout=120)
        yield service
    finally:
        service.stop()


@pytest.fixture
def web(topics: Settings) -> Iterator[Service]:
    service = Service("web", topics, topics.data_dir.parent / "web.log")
    try:
        wait_for(lambda: healthy(topics.public_url), 60, what="survey web tier /healthz")
        yield service
    finally:
        service.stop()


@pytest.fixture
def clickhouse(settings: Settings, clickhouse_engine: ClickHouse) -> ClickHouse:
    database = clickhouse_engine.using(settings.clickhouse_database)
    migrate(database)
    return database


@pytest.fixture
def lander(topics: Settings, clickhouse: ClickHouse) -> Iterator[Lander]:
    lander = Lander(topics, clickhouse, Codec())
    thread = threading.Thread(target=lander.run, name="lander", daemon=True)
    thread.start()
    yield lander
    lander.stop()
    thread.join(30)
