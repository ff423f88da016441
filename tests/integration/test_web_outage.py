"""The survey web tier never answers 200 for a response Kafka did not acknowledge.

This test brings up a broker of its own, because it stops it: a click while the broker is down gets a 503 page that
retries by itself and nothing is lost; the same click once the broker is back gets its 200 and is on the topic.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cxloop.app import signer_for
from cxloop.local_kafka import LocalKafka
from cxloop.settings import Settings
from cxloop.tokens import SurveyToken
from cxloop.topics import ensure_topics
from tests.support import Service, TopicReader, healthy, wait_for

pytestmark = pytest.mark.integration


def click(url: str) -> tuple[int, str, str | None]:
    try:
        with urllib.request.urlopen(url, timeout=60) as reply:
            return reply.status, reply.read().decode(), reply.headers.get("Retry-After")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), err.headers.get("Retry-After")


def test_click_during_a_broker_outage_gets_503_then_200_once_kafka_is_back(settings: Settings, tmp_path: Path) -> None:
    broker = LocalKafka(tmp_path / "own-kafka").start()
    web: Service | None = None
    try:
        own = settings.model_copy(update={"kafka_bootstrap": broker.bootstrap, "response_ack_timeout_seconds": 3.0,
                                          "topic_prefix": f"o{uuid.uuid4().hex[:6]}."})
        ensure_topics(own)
        web = Service("web", own, tmp_path / "web.log")
        wait_for(lambda: healthy(own.public_url), 60, what="survey web tier")
        token = signer_for(own).sign(SurveyToken("sv_outage", "nps", datetime.now(timezone.utc) + timedelta(days=1)))
        url = f"{own.public_url}/r/{token}?score=9"

        broker.stop()
        status, page, retry_after = click(url)
        assert status == 503, page
        assert retry_after is not None and 'http-equiv="refresh"' in page, "the page retries by itself"

        broker.start()
        status, page, _ = click(url)  # what the page's own retry does
        assert status == 200 and "Thank you" in page
        responses = TopicReader(own, "survey-response")
        answers = responses.wait_for(lambda r: r["survey_id"] == "sv_outage", timeout=30)
        assert [a["score"] for a in answers][-1] == 9
        responses.close()
    finally:
        if web is not None:
            web.stop()
        broker.stop()
