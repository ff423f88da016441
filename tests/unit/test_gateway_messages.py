"""Survey messages for the SMS, WhatsApp, IVR and chat gateways: the right topic, recipient and dedup id, the question
with the scale ends in the customer's language, the opt-out line on text channels only, and the survey-outbound
contract on the wire. Also the question page the survey link opens."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from cxloop.codec import Codec
from cxloop.gateway_messages import outbound_message
from cxloop.model import Invitation, SurveyOutbound
from cxloop.programs import Program
from cxloop.scoring import SCALES, Metric
from cxloop.survey_page import question_page
from tests.unit.sample_records import DECIDED_AT, invitation_for, replace

NOW = DECIDED_AT + timedelta(minutes=5)
URL = "https://survey.example/s/tok123"
CHANNELS = ["sms", "whatsapp", "ivr", "chat"]
KINDS = ["invitation", "reminder", "follow_up", "clarify"]
# metric -> locale -> (low label, high label)
LABELS = {
    "nps": {"en": ("Not at all likely", "Extremely likely"), "es": ("Nada probable", "Muy probable")},
    "csat": {"en": ("Very dissatisfied", "Very satisfied"), "es": ("Muy insatisfecho", "Muy satisfecho")},
    "ces": {"en": ("Strongly disagree", "Strongly agree"),
            "es": ("Totalmente en desacuerdo", "Totalmente de acuerdo")},
}
STOP = {"en": "Reply STOP to opt out.", "es": "Responda PARAR para no recibir más encuestas."}
PROBES = {
    "en": {"detractor": "What disappointed you most?", "passive": "What would have made it better?",
           "promoter": "What did we do well?"},
    "es": {"detractor": "¿Qué fue lo que más le decepcionó?", "passive": "¿Qué habría hecho que fuera mejor?",
           "promoter": "¿Qué hicimos bien?"},
}


def invitation(channel: str, metric: Metric = "nps", locale: str = "en-GB", **changes: Any) -> Invitation:
    return replace(invitation_for(metric), delivery_channel=channel, locale=locale, **changes)


def message(channel: str, kind: str = "invitation", metric: Metric = "nps", locale: str = "en-GB",
            **options: Any) -> SurveyOutbound:
    options.setdefault("score", 9 if kind == "follow_up" else None)
    return outbound_message(invitation(channel, metric, locale), kind, company="Acme", now=NOW, survey_url=URL,
                            **options)


@pytest.mark.parametrize("channel", CHANNELS)
def test_each_gateway_has_its_own_topic(channel: str) -> None:
    outbound = message(channel)
    assert outbound.channel == channel
    assert outbound.topic == f"survey-outbound-{channel}"


@pytest.mark.parametrize("channel, to", [("sms", "+34600111222"), ("whatsapp", "+34600111222"),
                                         ("ivr", "+34600111222"), ("chat", "genesys-call-000123")])
def test_text_and_voice_go_to_the_phone_chat_to_the_conversation(channel: str, to: str) -> None:
    assert message(channel).to == to


def test_chat_needs_no_phone_number() -> None:
    outbound = outbound_message(invitation("chat", customer_phone=None, interaction_id="chat-42"), "invitation",
                                company="Acme", now=NOW)
    assert outbound.to == "chat-42"


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "ivr"])
def test_a_phone_channel_without_a_phone_number_is_refused(channel: str) -> None:
    with pytest.raises(ValueError, match=f"has no phone number for {channel}"):
        outbound_message(invitation(channel, customer_phone=None), "invitation", company="Acme", now=NOW)


def test_an_email_invitation_is_not_a_gateway_message() -> None:
    with pytest.raises(ValueError, match="goes by email, not through a gateway"):
        outbound_message(invitation("email"), "invitation", company="Acme", now=NOW)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sequence, suffix", [(0, ""), (1, ".1"), (2, ".2")])
def test_message_id_is_the_survey_kind_and_sequence(kind: str, sequence: int, suffix: str) -> None:
    outbound = message("sms", kind, sequence=sequence)
    assert outbound.message_id == f"{outbound.survey_id}.{kind}{suffix}"
    assert outbound.kind == kind


def test_message_ids_differ_per_kind_and_sequence_and_repeat_on_replay() -> None:
    ids = [message("whatsapp", kind, sequence=n).message_id for kind in KINDS for n in (0, 1, 2)]
    assert len(set(ids)) == len(ids)
    assert message("whatsapp", "clarify", sequence=1) == message("whatsapp", "clarify", sequence=1)


@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
@pytest.mark.parametrize("locale, lang", [("en-GB", "en"), ("es-MX", "es")])
@pytest.mark.parametrize("channel", ["sms", "whatsapp", "chat"])
def test_the_invitation_names_both_ends_of_the_scale(metric: Metric, locale: str, lang: str, channel: str) -> None:
    outbound = message(channel, metric=metric, locale=locale)
    scale, (low, high) = SCALES[metric], LABELS[metric][lang]
    assert (outbound.scale_low, outbound.scale_high, outbound.low_label, outbound.high_label) == (
        scale.low, scale.high, low, high)
    assert f"{scale.low} ({low})" in outbound.text and f"{scale.high} ({high})" in outbound.text
    assert outbound.question in outbound.text
    assert outbound.metric == metric and outbound.locale == locale


@pytest.mark.parametrize(
    "locale, text",
    [
        ("en-GB", "Acme: How likely are you to recommend Acme to a friend or colleague? Reply with a number from 0 "
                  "(Not at all likely) to 10 (Extremely likely). You can add a comment. Reply STOP to opt out."),
        ("es-MX", "Acme: ¿Qué probabilidad hay de que recomiende Acme a un amigo o colega? Responda con un número "
                  "del 0 (Nada probable) al 10 (Muy probable). Puede añadir un comentario. Responda PARAR para no "
                  "recibir más encuestas."),
        ("de-AT", "Acme: How likely are you to recommend Acme to a friend or colleague? Reply with a number from 0 "
                  "(Not at all likely) to 10 (Extremely likely). You can add a comment. Reply STOP to opt out."),
    ],
    ids=["english", "spanish", "no german: english"],
)
def test_the_sms_invitation_in_full(locale: str, text: str) -> None:
    assert message("sms", locale=locale).text == text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale, lang", [("en-US", "en"), ("es-MX", "es")])
@pytest.mark.parametrize("channel", CHANNELS)
def test_text_channels_and_only_they_say_how_to_opt_out(kind: str, locale: str, lang: str, channel: str) -> None:
    if channel == "ivr" and kind in ("follow_up", "clarify"):
        with pytest.raises(ValueError, match="IVR"):
            message(channel, kind, locale=locale)
        return
    text = message(channel, kind, locale=locale).text
    if channel in ("sms", "whatsapp"):
        assert text.endswith(" " + STOP[lang])
    else:
        assert "STOP" not in text and "PARAR" not in text and "opt out" not in text


@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
@pytest.mark.parametrize("locale, key_words", [("en-GB", "then press the hash key."),
                                               ("es-MX", "y después la tecla almohadilla.")])
def test_ivr_asks_for_keys_and_the_hash_key_with_no_link(metric: Metric, locale: str, key_words: str) -> None:
    outbound = message("ivr", metric=metric, locale=locale)
    scale, (low, high) = SCALES[metric], LABELS[metric][locale[:2]]
    assert outbound.text.startswith(outbound.question + " ")
    assert outbound.text.endswith(key_words)
    assert f"{scale.low}, {low}," in outbound.text and f"{scale.high}, {high}," in outbound.text
    assert outbound.survey_url is None
    assert "http" not in outbound.text


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "chat"])
def test_channels_that_can_show_a_link_carry_the_survey_url(channel: str) -> None:
    assert message(channel).survey_url == URL
    assert outbound_message(invitation(channel), "invitation", company="Acme", now=NOW).survey_url is None


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("locale, prefix", [("en-GB", "Reminder: "), ("es-MX", "Recordatorio: ")])
def test_a_reminder_is_the_invitation_marked_as_a_reminder(channel: str, locale: str, prefix: str) -> None:
    reminder = message(channel, "reminder", locale=locale)
    assert reminder.text == prefix + message(channel, locale=locale).text


@pytest.mark.parametrize(
    "metric, score, category",
    [
        ("nps", 0, "detractor"), ("nps", 6, "detractor"), ("nps", 7, "passive"), ("nps", 8, "passive"),
        ("nps", 9, "promoter"), ("nps", 10, "promoter"),
        ("csat", 1, "detractor"), ("csat", 2, "detractor"), ("csat", 3, "passive"), ("csat", 4, "promoter"),
        ("csat", 5, "promoter"),
        ("ces", 3, "detractor"), ("ces", 4, "passive"), ("ces", 5, "promoter"), ("ces", 7, "promoter"),
    ],
)
@pytest.mark.parametrize("locale, lang", [("en-GB", "en"), ("es-MX", "es")])
def test_the_follow_up_asks_the_probe_for_the_score_s_category(metric: Metric, score: int, category: str,
                                                                locale: str, lang: str) -> None:
    text = message("sms", "follow_up", metric=metric, locale=locale, score=score).text
    thanks, reply = ("Thank you.", "Just reply to this message.") if lang == "en" else (
        "Gracias.", "Responda a este mensaje.")
    assert text == f"{thanks} {PROBES[lang][category]} {reply} {STOP[lang]}"
    others = [PROBES[lang][c] for c in PROBES[lang] if c != category]
    assert not any(other in text for other in others)


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_a_follow_up_needs_the_score_it_follows(channel: str) -> None:
    with pytest.raises(ValueError, match="needs the score"):
        outbound_message(invitation(channel), "follow_up", company="Acme", now=NOW)


@pytest.mark.parametrize("locale", ["en-GB", "es-MX"])
def test_every_message_carries_the_probes_for_widgets(locale: str) -> None:
    assert message("chat", locale=locale).follow_up == PROBES[locale[:2]]


@pytest.mark.parametrize(
    "metric, locale, text",
    [
        ("nps", "en-GB", "Sorry, we could not find a score in your reply. Please reply with a number from 0 to 10. "
                         "Reply STOP to opt out."),
        ("csat", "en-GB", "Sorry, we could not find a score in your reply. Please reply with a number from 1 to 5. "
                          "Reply STOP to opt out."),
        ("ces", "es-MX", "No encontramos una puntuación en su respuesta. Responda con un número del 1 al 7. Responda "
                         "PARAR para no recibir más encuestas."),
    ],
)
def test_a_clarification_asks_again_for_a_number_on_the_scale(metric: Metric, locale: str, text: str) -> None:
    assert message("sms", "clarify", metric=metric, locale=locale, sequence=1).text == text


PROGRAM = Program.model_validate({
    "id": "call-nps", "metric": "nps",
    "texts": {"en": {"question": "Would you recommend {company} to someone you know?",
                     "follow_up": {"detractor": "What should we fix first?"}},
              "es": {"question": "¿Recomendaría {company} a alguien que conoce?"}},
})


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("locale, question", [("en-GB", "Would you recommend Acme to someone you know?"),
                                              ("es-MX", "¿Recomendaría Acme a alguien que conoce?")])
def test_the_program_s_own_question_is_asked(channel: str, locale: str, question: str) -> None:
    outbound = message(channel, locale=locale, program=PROGRAM)
    assert outbound.question == question
    assert question in outbound.text
    assert "How likely" not in outbound.text and "probabilidad" not in outbound.text


def test_the_program_s_own_probe_is_asked_for_its_category_only() -> None:
    detractor = message("whatsapp", "follow_up", program=PROGRAM, score=2)
    assert detractor.text.startswith("Thank you. What should we fix first? ")
    assert detractor.follow_up["detractor"] == "What should we fix first?"
    promoter = message("whatsapp", "follow_up", program=PROGRAM, score=10)
    assert promoter.text.startswith("Thank you. What did we do well? ")
    spanish = message("whatsapp", "follow_up", locale="es-MX", program=PROGRAM, score=2)
    assert "¿Qué fue lo que más le decepcionó?" in spanish.text, "no Spanish probe in the program: the built-in one"


def test_the_message_carries_the_invitation_s_ids_and_expiry() -> None:
    source = invitation("sms", "csat")
    outbound = outbound_message(source, "invitation", company="Acme", now=NOW)
    assert (outbound.survey_id, outbound.customer_id, outbound.program_id) == (
        source.survey_id, source.customer_id, source.program_id)
    assert (outbound.created_at, outbound.expires_at) == (NOW, source.expires_at)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_message_round_trips_through_the_survey_outbound_contract(channel: str, kind: str) -> None:
    if channel == "ivr" and kind in ("follow_up", "clarify"):
        return  # refused, see above: the call is over
    codec = Codec()
    original = message(channel, kind, locale="es-MX", program=PROGRAM, sequence=2 if kind == "clarify" else 0)
    decoded = codec.decode("survey-outbound", codec.encode("survey-outbound", original.to_record()))
    assert SurveyOutbound.from_record(decoded) == original
    assert decoded["channel"] == channel and decoded["kind"] == kind


QUESTION = 'Was <b>Tom & "Jerry"</b> helpful?'


def test_the_question_page_escapes_the_question_and_labels() -> None:
    body = question_page("/s/tok", QUESTION, range(0, 11), "<low>", "high & mighty", "en-GB")
    assert "<b>" not in body and 'Tom & "Jerry"' not in body
    assert body.count("Was &lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt; helpful?") == 3, "title, heading, question"
    assert "<p>0 = &lt;low&gt;, 10 = high &amp; mighty</p>" in body


@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
def test_the_question_page_has_one_link_per_score_point(metric: Metric) -> None:
    points = SCALES[metric].points()
    body = question_page("/s/tok", "Q?", points, "low", "high", "en")
    links = re.findall(r'<a href="([^"]*)"[^>]*>(\d+)</a>', body)
    assert links == [(f"/s/tok?score={s}", str(s)) for s in points]


def test_the_question_page_escapes_the_action_and_takes_the_language() -> None:
    body = question_page('/s/a"b', "¿Q?", range(1, 6), "bajo", "alto", "es-MX")
    assert 'href="/s/a&quot;b?score=1"' in body and '/s/a"b' not in body
    assert body.startswith('<!doctype html><html lang="es">')


def test_an_unknown_kind_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="unknown outbound message kind 'bogus'"):
        message("sms", "bogus")
