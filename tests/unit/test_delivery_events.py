"""SendGrid Event Webhook events: what becomes a delivery event, and what stops future surveys."""

from __future__ import annotations

import pytest

from cxloop.delivery_events import delivery_of, parse_sendgrid_events, suppression_of
from cxloop.model import InvalidEvent


def sendgrid(kind: str, **extra: object) -> dict:
    return {"event": kind, "timestamp": 1700000000, "sg_event_id": "e-1", "survey_id": "sv_1",
            "customer_id": "cust-1", **extra}


@pytest.mark.parametrize(
    ("event", "kind", "suppresses"),
    [
        (sendgrid("delivered"), "delivered", None), (sendgrid("open"), "open", None),
        (sendgrid("click"), "click", None), (sendgrid("deferred"), "deferred", None),
        (sendgrid("dropped", reason="Bounced Address"), "dropped", None),
        (sendgrid("bounce", type="blocked"), "blocked", None),
        (sendgrid("bounce", type="bounce"), "bounce", "hard_bounce"),
        (sendgrid("unsubscribe"), "unsubscribe", "unsubscribe"),
        (sendgrid("group_unsubscribe"), "group_unsubscribe", "unsubscribe"),
        (sendgrid("spamreport"), "spamreport", "spam_report"),
    ],
)
def test_sendgrid_events_map_to_delivery_events_and_opt_outs(event: dict, kind: str, suppresses: str | None) -> None:
    delivery = delivery_of(event)
    assert delivery is not None and delivery.event == kind and delivery.provider_event_id == "e-1"
    change = suppression_of(delivery)
    assert (change.reason if change else None) == suppresses
    if change is not None:
        assert (change.customer_id, change.status, change.source) == ("cust-1", "opted_out", "sendgrid")


def test_mail_cxloop_did_not_send_is_ignored_and_a_bounce_without_customer_suppresses_nobody() -> None:
    assert delivery_of({"event": "delivered", "timestamp": 1, "sg_event_id": "x"}) is None
    delivery = delivery_of(sendgrid("bounce", type="bounce", customer_id=None))
    assert delivery is not None and suppression_of(delivery) is None


@pytest.mark.parametrize("body", [b"", b"{", b"{}", b'"text"', b"[1]", b'[{"event": "open"}, 2]'])
def test_a_body_that_is_not_an_array_of_events_is_invalid(body: bytes) -> None:
    with pytest.raises(InvalidEvent):
        parse_sendgrid_events(body)


@pytest.mark.parametrize("broken", [{"timestamp": "soon"}, {"timestamp": None}, {"sg_event_id": None}])
def test_an_event_of_ours_without_timestamp_or_id_is_invalid(broken: dict) -> None:
    event = sendgrid("delivered") | broken
    with pytest.raises(InvalidEvent):
        delivery_of(event)
