"""Survey messages for the SMS, WhatsApp, IVR and in-chat gateways, in the customer's language.

Short and neutral: the question, the scale with what its ends mean, and how to answer. Text channels may add a
comment in the same reply and get one follow-up probe when they did not; every text message says how to opt out.
"""

from __future__ import annotations

from datetime import datetime

from cxloop.model import Invitation, SurveyOutbound
from cxloop.programs import GATEWAY_CHANNELS, Program
from cxloop.scoring import CATEGORIES, SCALES, Metric
from cxloop.survey_email import question_texts
from cxloop.survey_page import probe, probe_for

TEXT_CHANNELS = ("sms", "whatsapp")  # conversational: clarifications and the follow-up probe go back by message
WORDS = {
    "en": {
        "answer": "Reply with a number from {low} ({low_label}) to {high} ({high_label}). You can add a comment.",
        "keys": "Please key a number from {low}, {low_label}, to {high}, {high_label}, then press the hash key.",
        "chat": "Pick a number from {low} ({low_label}) to {high} ({high_label}).",
        "stop": "Reply STOP to opt out.",
        "reminder": "Reminder: ",
        "clarify": "Sorry, we could not find a score in your reply. Please reply with a number from {low} to {high}.",
        "follow_up": "Thank you. {probe} Just reply to this message.",
    },
    "es": {
        "answer": "Responda con un número del {low} ({low_label}) al {high} ({high_label}). Puede añadir un "
                  "comentario.",
        "keys": "Marque un número del {low}, {low_label}, al {high}, {high_label}, y después la tecla almohadilla.",
        "chat": "Elija un número del {low} ({low_label}) al {high} ({high_label}).",
        "stop": "Responda PARAR para no recibir más encuestas.",
        "reminder": "Recordatorio: ",
        "clarify": "No encontramos una puntuación en su respuesta. Responda con un número del {low} al {high}.",
        "follow_up": "Gracias. {probe} Responda a este mensaje.",
    },
}
KINDS = ("invitation", "reminder", "follow_up", "clarify")


def outbound_message(
    invitation: Invitation, kind: str, *, company: str, now: datetime, program: Program | None = None,
    survey_url: str | None = None, score: int | None = None, sequence: int = 0,
) -> SurveyOutbound:
    """The message of `kind` (invitation, reminder, follow_up after `score`, clarify) for the invitation's channel."""
    channel = invitation.delivery_channel
    if kind not in KINDS:
        raise ValueError(f"unknown outbound message kind {kind!r}; expected one of {', '.join(KINDS)}")
    if channel == "ivr" and kind in ("follow_up", "clarify"):
        raise ValueError("IVR surveys end with the call: no follow-up or clarification message")
    if channel not in GATEWAY_CHANNELS:
        raise ValueError(f"survey {invitation.survey_id} goes by {channel}, not through a gateway")
    to = invitation.interaction_id if channel == "chat" else invitation.customer_phone
    if not to:
        raise ValueError(f"survey {invitation.survey_id} has no phone number for {channel}")
    metric: Metric = invitation.metric  # type: ignore[assignment]
    scale = SCALES[metric]
    lang, question, low_label, high_label = question_texts(metric, invitation.locale, company, program)
    words = WORDS[lang]
    fill = {"low": scale.low, "high": scale.high, "low_label": low_label, "high_label": high_label}
    if kind == "follow_up":
        if score is None:
            raise ValueError("a follow-up message needs the score it follows")
        text = words["follow_up"].format(probe=probe_for(metric, score, invitation.locale, program))
    elif kind == "clarify":
        text = words["clarify"].format(**fill)
    elif channel == "ivr":
        text = f"{question} {words['keys'].format(**fill)}"
    elif channel == "chat":
        text = f"{question} {words['chat'].format(**fill)}"
    else:
        text = f"{company}: {question} {words['answer'].format(**fill)}"
    if kind == "reminder":
        text = words["reminder"] + text
    if channel in TEXT_CHANNELS:
        text = f"{text} {words['stop']}"
    return SurveyOutbound(
        message_id=f"{invitation.survey_id}.{kind}" + (f".{sequence}" if sequence else ""),
        survey_id=invitation.survey_id, channel=channel, kind=kind, to=to, customer_id=invitation.customer_id,
        program_id=invitation.program_id, locale=invitation.locale, metric=metric, scale_low=scale.low,
        scale_high=scale.high, low_label=low_label, high_label=high_label, question=question, text=text,
        follow_up={c: probe(c, invitation.locale, program) for c in CATEGORIES},
        survey_url=survey_url if channel != "ivr" else None, created_at=now, expires_at=invitation.expires_at,
    )

