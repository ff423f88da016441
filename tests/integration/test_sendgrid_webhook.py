"""SendGrid's Event Webhook: signed events become survey-delivery records, and the suppressing ones opt-outs."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cxloop.settings import Settings
from tests.support import Service, TopicReader, healthy, wait_for

KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC = base64.b64encode(KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def signed(body: bytes, key: ec.EllipticCurvePrivateKey = KEY, at: int | None = None) -> dict[str, str]:
    timestamp = str(at if at is not None else int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp, "Content-Type": "application/json"}


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def event(kind: str, n: int, **extra: object) -> dict:
    return {"email": "nia@customers.example", "timestamp": int(time.time()), "event": kind,
            "sg_event_id": f"evt-{n}", "sg_message_id": "msg-1", "survey_id": "sv_hook", "customer_id": "cust-nia",
            **extra}


@pytest.fixture
def hook(topics: Settings) -> Iterator[tuple[Settings, str]]:
    configured = topics.model_copy(update={"sendgrid_webhook_public_key": PUBLIC})
    service = Service("web", configured, configured.data_dir.parent / "web.log")
    try:
        wait_for(lambda: healthy(configured.public_url), 60, what="survey web tier")
        yield configured, f"{configured.public_url}/webhooks/sendgrid/events"
    finally:
        service.stop()


def test_signed_events_land_on_survey_delivery_and_hard_bounces_and_spam_reports_opt_out(hook) -> None:
    settings, url = hook
    body = json.dumps([
        event("delivered", 1), event("open", 2), event("bounce", 3, type="blocked", reason="mailbox full"),
        event("bounce", 4, type="bounce", reason="550 no such user"), event("spamreport", 5),
        {"email": "x@example.com", "timestamp": 1, "event": "delivered", "sg_event_id": "not-ours"},
    ]).encode()
    status, reply = post(url, body, signed(body))
    assert (status, reply) == (200, {"accepted": 5})
    deliveries = TopicReader(settings, "survey-delivery").wait_for(lambda d: d["survey_id"] == "sv_hook", count=5)
    assert [d["event"] for d in sorted(deliveries, key=lambda d: d["provider_event_id"])] == [
        "delivered", "open", "blocked", "bounce", "spamreport"]
    consent = TopicReader(settings, "customer-consent").wait_for(lambda c: c["customer_id"] == "cust-nia", count=2)
    assert sorted(c["reason"] for c in consent) == ["hard_bounce", "spam_report"], "a soft bounce suppresses nobody"


@pytest.mark.parametrize(("case", "headers", "status"), [
    ("signed by another key", lambda b: signed(b, OTHER_KEY), 403),
    ("no signature", lambda b: {"Content-Type": "application/json"}, 403),
    ("replayed an hour later", lambda b: signed(b, at=int(time.time()) - 3600), 403),
    ("tampered body", lambda b: signed(b.replace(b"delivered", b"bounce")), 403),
])
def test_unverified_webhook_calls_are_refused_and_publish_nothing(hook, case, headers, status) -> None:
    settings, url = hook
    body = json.dumps([event("delivered", 9)]).encode()
    assert post(url, body, headers(body))[0] == status, case
    marker = json.dumps([event("delivered", 10, survey_id="sv_marker")]).encode()
    assert post(url, marker, signed(marker))[0] == 200
    deliveries = TopicReader(settings, "survey-delivery")
    deliveries.wait_for(lambda d: d["survey_id"] == "sv_marker", timeout=10)
    assert [d["survey_id"] for d in deliveries.records] == ["sv_marker"], case


def test_a_signed_body_that_is_not_an_event_array_gets_400(hook) -> None:
    _, url = hook
    for body in (b"{not json", b'{"event": "delivered"}', b"[1, 2]"):
        status, reply = post(url, body, signed(body))
        assert status == 400 and "error" in reply
