"""Which channel carries a survey: the one the customer just used when they can be reached on it, else a fallback.

Email needs an address; SMS, WhatsApp and IVR need a phone number; in-chat needs a conversation to post into, which
only chat, bot and in-app sessions have (the gateway finds it by the interaction id).
"""

from __future__ import annotations

from cxloop.model import Interaction
from cxloop.programs import Delivery

CONVERSATIONAL = ("chat", "bot", "app")


def reachable(channel: str, interaction: Interaction) -> bool:
    if channel == "email":
        return bool(interaction.customer_email)
    if channel in ("sms", "whatsapp", "ivr"):
        return bool(interaction.customer_phone)
    return channel == "chat" and interaction.channel in CONVERSATIONAL


def delivery_channel(interaction: Interaction, delivery: Delivery) -> str | None:
    """The followed channel when reachable, else the first reachable fallback; None when nothing reaches them."""
    followed = delivery.follow.get(interaction.channel)  # type: ignore[call-overload]
    candidates = ([followed] if followed else []) + list(delivery.fallback)
    return next((channel for channel in candidates if reachable(channel, interaction)), None)


def tried(interaction: Interaction, delivery: Delivery) -> str:
    """For the no-contact reason: the channels that were considered."""
    followed = delivery.follow.get(interaction.channel)  # type: ignore[call-overload]
    return ", ".join(dict.fromkeys(([followed] if followed else []) + list(delivery.fallback)))
