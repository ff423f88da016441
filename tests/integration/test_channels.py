"""Surveys on the customer's channel, through the gateways' topics on the real broker: the test plays the gateways.

SMS, WhatsApp, IVR and chat messages go out on survey-outbound-<channel>; the gateway's replies come back on
survey-response as the customer typed them (or keyed them), and cxloop reads the score, asks again, probes for a
comment, or opts the customer out.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from cxloop.model import Interaction, SurveyResponse
from cxloop.settings import Settings
from cxloop.surveys import survey_id
from tests.conftest import PROGRAMS
from tests.support import Service, TopicReader, publish_record, wait_for


@pytest.fixture
def channels(settings: Settings, topics: Settings) -> Settings:
    return settings.model_copy(update={"programs_file": PROGRAMS / "channels.yaml"})


@pytest.fixture
def channel_worker(channels: Settings) -> Iterator[Service]:
    service = Service("worker", channels, channels.data_dir.parent / "worker.log")
    try:
        service.wait_for_output("[^Worker]: Ready", timeout=120)
        yield service
    finally:
        service.stop()


def contact(interaction_id: str, trigger: str, channel: str, customer: str, phone: str | None,
            email: str | None = None, locale: str = "en") -> Interaction:
    ended = datetime.now(timezone.utc).replace(microsecond=0)
    return Interaction(
        interaction_id=interaction_id, trigger=trigger, channel=channel, customer_id=customer,
        started_at=ended - timedelta(minutes=6), ended_at=ended, customer_email=email, customer_phone=phone,
        customer_locale=locale, agent_id="agent-ben", agent_name="Ben", team_id="team-north",
        queue=f"{channel}-general", contact_reason="billing", handle_time_seconds=300, wait_time_seconds=40,
    )


def reply(settings: Settings, survey: str, source: str, text: str | None = None, score: int | None = None,
          comment: str | None = None) -> None:
    answer = SurveyResponse(survey_id=survey, score=score, source=source, responded_at=datetime.now(timezone.utc),
                            comment=comment, reply_text=text)
    publish_record(settings, "survey-response", survey, answer.to_record())


class Gateways:
    """Reads every gateway topic and the topics the answers end up on."""

    def __init__(self, settings: Settings) -> None:
        self.outbound = {c: TopicReader(settings, "survey-outbound", topic=f"survey-outbound-{c}")
                         for c in ("sms", "whatsapp", "ivr", "chat")}
        self.scored = TopicReader(settings, "survey-scored")

    def message(self, channel: str, survey: str, kind: str) -> dict[str, Any]:
        return self.outbound[channel].wait_for(lambda m: m["survey_id"] == survey and m["kind"] == kind)[0]

    def scored_with(self, survey: str, comment: str | None) -> dict[str, Any]:
        return self.scored.wait_for(lambda r: r["survey_id"] == survey and r["comment"] == comment)[0]

    def close(self) -> None:
        for reader in (*self.outbound.values(), self.scored):
            reader.close()


@pytest.fixture
def gateways(channels: Settings) -> Iterator[Gateways]:
    readers = Gateways(channels)
    yield readers
    readers.close()


def test_sms_survey_read_from_a_typed_reply_then_probed_for_a_comment(channels: Settings, channel_worker,
                                                                      gateways: Gateways) -> None:
    call = contact("call-sms-1", "call_end", "voice", "cust-sara", phone="+34600111222", email="sara@x.example")
    publish_record(channels, "interaction-completed", call.customer_id, call.to_record())
    survey = survey_id("call-nps", call.interaction_id)

    invite = gateways.message("sms", survey, "invitation")
    assert invite["to"] == "+34600111222", "the survey follows the call to the caller's phone, not the email"
    assert (invite["scale_low"], invite["scale_high"], invite["metric"]) == (0, 10, "nps")
    assert "0" in invite["text"] and "10" in invite["text"] and "STOP" in invite["text"]
    assert invite["survey_url"] and f"{channels.public_url}/r/" in invite["survey_url"]
    assert not (channels.outbox / f"{survey}.eml").exists()

    reply(channels, survey, "sms_reply", text="nine")
    first = gateways.scored_with(survey, None)
    assert (first["score"], first["category"], first["source"], first["delivery_channel"]) == (
        9, "promoter", "sms_reply", "sms")

    probe = gateways.message("sms", survey, "follow_up")
    assert "What did we do well?" in probe["text"], "the promoter probe follows a promoter's score"
    # The answer to the probe is all comment: "2 hours" is not a second score.
    reply(channels, survey, "sms_reply", text="2 hours on hold, but the agent sorted it")
    merged = gateways.scored_with(survey, "2 hours on hold, but the agent sorted it")
    assert merged["score"] == 9


def test_unreadable_reply_is_asked_again_and_its_words_kept(channels: Settings, channel_worker,
                                                            gateways: Gateways) -> None:
    chat = contact("wa-1", "chat_end", "whatsapp", "cust-wen", phone="+447700900123", locale="es-MX")
    alerts = TopicReader(channels, "detractor-alert")
    publish_record(channels, "interaction-completed", chat.customer_id, chat.to_record())
    survey = survey_id("chat-csat", chat.interaction_id)

    invite = gateways.message("whatsapp", survey, "invitation")
    assert invite["to"] == "+447700900123" and "PARAR" in invite["text"], "Spanish for an es-MX customer"

    reply(channels, survey, "whatsapp_reply", text="tardaron muchísimo")
    clarify = gateways.message("whatsapp", survey, "clarify")
    assert clarify["message_id"] == f"{survey}.clarify.1"
    assert "1" in clarify["text"] and "5" in clarify["text"]

    reply(channels, survey, "whatsapp_reply", text="2")
    scored = gateways.scored_with(survey, "tardaron muchísimo")
    assert (scored["score"], scored["category"]) == (2, "detractor")
    alert = alerts.wait_for(lambda a: a["survey_id"] == survey)[0]
    alerts.close()
    assert alert["comment"] == "tardaron muchísimo"


def test_stop_reply_opts_the_customer_out(channels: Settings, channel_worker, gateways: Gateways) -> None:
    call = contact("call-sms-2", "call_end", "voice", "cust-stan", phone="+15555550100")
    consent = TopicReader(channels, "customer-consent")
    publish_record(channels, "interaction-completed", call.customer_id, call.to_record())
    survey = survey_id("call-nps", call.interaction_id)
    gateways.message("sms", survey, "invitation")

    reply(channels, survey, "sms_reply", text="STOP")
    change = consent.wait_for(lambda c: c["customer_id"] == "cust-stan")[0]
    consent.close()
    assert (change["status"], change["reason"], change["source"]) == ("opted_out", "stop_reply", "sms-gateway")

    # The next call of an opted-out customer is not surveyed.
    decisions = TopicReader(channels, "survey-decision")
    later = contact("call-sms-3", "call_end", "voice", "cust-stan", phone="+15555550100")
    publish_record(channels, "interaction-completed", later.customer_id, later.to_record())
    decision = decisions.wait_for(lambda d: d["interaction_id"] == "call-sms-3")[0]
    decisions.close()
    assert decision["outcome"] == "opted_out"


def test_ivr_keypress_and_chat_widget_answers(channels: Settings, channel_worker, gateways: Gateways) -> None:
    dead = TopicReader(channels, "dead-letter")
    hotline = contact("call-ivr-1", "transfer", "voice", "cust-ivo", phone="+15555550199")
    chat = contact("chat-1", "chat_end", "chat", "cust-cher", phone=None)
    for interaction in (hotline, chat):
        publish_record(channels, "interaction-completed", interaction.customer_id, interaction.to_record())
    ivr_survey = survey_id("hotline-ces", hotline.interaction_id)
    chat_survey = survey_id("chat-csat", chat.interaction_id)

    prompt = gateways.message("ivr", ivr_survey, "invitation")
    assert prompt["to"] == "+15555550199" and "hash" in prompt["text"] and prompt["survey_url"] is None
    reply(channels, ivr_survey, "ivr_keypress", text="12#")  # beyond CES 1-7: refused, kept on dead-letter
    refused = dead.wait_for(lambda d: d["stage"] == "responses")[0]
    dead.close()
    assert "not a ces score 1-7" in refused["reason"] and b"12#" in refused["original_value"]
    reply(channels, ivr_survey, "ivr_keypress", text="6#")
    assert gateways.scored_with(ivr_survey, None)["score"] == 6

    widget = gateways.message("chat", chat_survey, "invitation")
    assert widget["to"] == "chat-1", "in-chat surveys go back into the conversation"
    assert set(widget["follow_up"]) == {"detractor", "passive", "promoter"}
    reply(channels, chat_survey, "chat_widget", score=5, comment="quick answer")
    assert gateways.scored_with(chat_survey, "quick answer")["score"] == 5


def test_missing_phone_falls_back_to_email(channels: Settings, channel_worker) -> None:
    call = contact("call-mail-1", "call_end", "voice", "cust-ema", phone=None, email="ema@customers.example")
    publish_record(channels, "interaction-completed", call.customer_id, call.to_record())
    survey = survey_id("call-nps", call.interaction_id)
    eml = wait_for(lambda: (p := channels.outbox / f"{survey}.eml").exists() and p.read_bytes(), 60,
                   what="the fallback survey email")
    assert b"To: ema@customers.example" in eml
