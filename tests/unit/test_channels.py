"""Which channel carries a survey: the one the customer used when they can be reached on it, else the first reachable
fallback; a program's own delivery section replaces the top-level one; nothing reachable is a no_contact decision."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from cxloop.channels import delivery_channel, reachable, tried
from cxloop.contact_policy import CustomerState
from cxloop.decisions import TriggerRules
from cxloop.programs import Delivery, ProgramError, load_programs
from tests.unit.sample_records import interaction, interaction_at, rules_of

T0 = datetime(2025, 3, 4, 9, 30, tzinfo=timezone.utc)  # 10:30 in Madrid: no quiet hours in the way
NO_EMAIL: dict[str, Any] = {"customer_email": None}
NO_PHONE: dict[str, Any] = {"customer_phone": None}
NOTHING: dict[str, Any] = {**NO_EMAIL, **NO_PHONE}

# Like the shipped default: follow the customer's channel, else email, else SMS.
FOLLOW = Delivery.model_validate({
    "follow": {"voice": "sms", "email": "email", "chat": "chat", "sms": "sms", "whatsapp": "whatsapp",
               "web": "chat", "app": "chat", "bot": "chat"},
    "fallback": ["email", "sms"],
})


@pytest.mark.parametrize(
    "channel, changes, expected",
    [
        ("email", {}, True),
        ("email", NO_EMAIL, False),
        ("sms", {}, True),
        ("sms", NO_PHONE, False),
        ("sms", {"customer_phone": ""}, False),
        ("whatsapp", {}, True),
        ("whatsapp", NO_PHONE, False),
        ("ivr", {}, True),
        ("ivr", NO_PHONE, False),
        ("chat", {"channel": "chat"}, True),
        ("chat", {"channel": "bot"}, True),
        ("chat", {"channel": "app"}, True),
        ("chat", {"channel": "voice"}, False),
        ("chat", {"channel": "web"}, False),
        ("chat", {"channel": "email"}, False),
        ("chat", {"channel": "chat", **NOTHING}, True),
        ("fax", {}, False),
    ],
)
def test_a_channel_reaches_the_customer_only_with_what_it_needs(channel: str, changes: dict[str, Any],
                                                                 expected: bool) -> None:
    assert reachable(channel, interaction(**changes)) is expected


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"channel": "voice"}, "sms"),
        ({"channel": "voice", **NO_PHONE}, "email"),
        ({"channel": "voice", **NOTHING}, None),
        ({"channel": "email"}, "email"),
        ({"channel": "email", **NO_EMAIL}, "sms"),
        ({"channel": "whatsapp"}, "whatsapp"),
        ({"channel": "whatsapp", **NO_PHONE}, "email"),
        ({"channel": "sms", **NO_EMAIL}, "sms"),
        ({"channel": "chat"}, "chat"),
        ({"channel": "chat", **NOTHING}, "chat"),
        ({"channel": "bot", **NOTHING}, "chat"),
        ({"channel": "app"}, "chat"),
        ({"channel": "web"}, "email"),
        ({"channel": "web", **NO_EMAIL}, "sms"),
        ({"channel": "web", **NOTHING}, None),
    ],
    ids=["voice follows to sms", "voice without phone falls back to email", "voice with nothing",
         "email follows to email", "email without address falls back to sms", "whatsapp follows",
         "whatsapp without phone", "sms follows", "chat follows", "chat needs no contact data", "bot posts in chat",
         "app posts in chat", "web cannot post in chat", "web without email", "web with nothing"],
)
def test_the_followed_channel_when_reachable_else_the_first_reachable_fallback(
    changes: dict[str, Any], expected: str | None
) -> None:
    assert delivery_channel(interaction(**changes), FOLLOW) == expected


@pytest.mark.parametrize(
    "delivery, changes, expected",
    [
        ({}, {}, "email"),
        ({}, NO_EMAIL, None),
        ({"fallback": ["sms", "email"]}, {}, "sms"),
        ({"fallback": ["sms", "email"]}, NO_PHONE, "email"),
        ({"fallback": ["email", "sms"]}, {}, "email"),
        ({"follow": {"voice": "ivr"}, "fallback": []}, {}, "ivr"),
        ({"follow": {"voice": "ivr"}, "fallback": []}, NO_PHONE, None),
        ({"follow": {"chat": "whatsapp"}}, {}, "email"),
        ({"follow": {"voice": "chat"}, "fallback": ["whatsapp"]}, {}, "whatsapp"),
        ({"fallback": ["chat", "email"]}, {}, "email"),
    ],
    ids=["default is email", "default has no phone fallback", "fallback order sms first", "sms first without phone",
         "fallback order email first", "voice follows to ivr", "ivr without phone and no fallback",
         "a mapping of another channel is not used", "followed chat unreachable from a call", "chat fallback too"],
)
def test_delivery_settings(delivery: dict[str, Any], changes: dict[str, Any], expected: str | None) -> None:
    assert delivery_channel(interaction(**changes), Delivery.model_validate(delivery)) == expected


def test_default_delivery_is_email_only() -> None:
    assert Delivery() == Delivery(follow={}, fallback=("email",))


@pytest.mark.parametrize(
    "delivery, channel, expected",
    [
        ({"follow": {"voice": "sms"}, "fallback": ["email", "sms"]}, "voice", "sms, email"),
        ({"follow": {"voice": "email"}, "fallback": ["email", "sms"]}, "voice", "email, sms"),
        ({"follow": {"voice": "ivr"}, "fallback": []}, "voice", "ivr"),
        ({"follow": {"voice": "ivr"}, "fallback": ["email"]}, "chat", "email"),
    ],
)
def test_the_channels_tried_are_listed_once_each_in_order(delivery: dict[str, Any], channel: str,
                                                          expected: str) -> None:
    assert tried(interaction(channel=channel), Delivery.model_validate(delivery)) == expected


TOP_LEVEL: dict[str, Any] = {"follow": {"voice": "sms", "chat": "chat"}, "fallback": ["email"]}
RULES = rules_of(
    {"id": "call-nps", "metric": "nps", "match": {"triggers": ["call_end"]}},
    {"id": "chat-csat", "metric": "csat", "match": {"triggers": ["chat_end"]}},
    {"id": "transfer-ces", "metric": "ces", "match": {"triggers": ["transfer"]},
     "delivery": {"follow": {"voice": "ivr"}, "fallback": []}},
    {"id": "escalation-nps", "metric": "nps", "match": {"triggers": ["escalation"]},
     "delivery": {"fallback": ["whatsapp", "email"]}},
    delivery=TOP_LEVEL,
)


@pytest.mark.parametrize(
    "changes, program, channel",
    [
        ({}, "call-nps", "sms"),
        (NO_PHONE, "call-nps", "email"),
        ({"trigger": "chat_end", "channel": "chat", **NOTHING}, "chat-csat", "chat"),
        ({"trigger": "transfer"}, "transfer-ces", "ivr"),
        ({"trigger": "escalation"}, "escalation-nps", "whatsapp"),
        ({"trigger": "escalation", **NO_PHONE}, "escalation-nps", "email"),
    ],
    ids=["top-level follow", "top-level fallback", "chat needs no contact data", "program follow replaces top-level",
         "program fallback replaces top-level follow", "program fallback order"],
)
def test_the_invitation_goes_by_the_chosen_channel(changes: dict[str, Any], program: str, channel: str) -> None:
    source = interaction_at(T0, **changes)
    verdict = RULES.decide(source, CustomerState(), T0)
    assert (verdict.decision.outcome, verdict.decision.program_id) == ("invited", program)
    assert verdict.invitation is not None
    assert verdict.invitation.delivery_channel == channel
    assert RULES.channel_for(source, RULES.programs.by_id(program)) == channel  # type: ignore[arg-type]
    assert (verdict.invitation.customer_phone, verdict.invitation.customer_email) == (
        source.customer_phone, source.customer_email)


def test_the_program_s_delivery_replaces_the_top_level_one_entirely() -> None:
    source = interaction_at(T0, trigger="transfer", **NO_PHONE)
    program = RULES.programs.by_id("transfer-ces")
    assert program is not None and program.delivery is not None
    assert RULES.channel_for(source, program) is None, "the top-level email fallback is not used"
    verdict = RULES.decide(source, CustomerState(), T0)
    assert verdict.decision.outcome == "no_contact"
    assert verdict.decision.detail == "no contact data to reach the customer by ivr"


@pytest.mark.parametrize(
    "changes, tried_channels",
    [
        ({"trigger": "call_end", **NOTHING}, "sms, email"),
        ({"trigger": "chat_end", "channel": "web", **NOTHING}, "email"),
        ({"trigger": "transfer", **NO_PHONE}, "ivr"),
        ({"trigger": "escalation", **NOTHING}, "whatsapp, email"),
    ],
)
def test_nothing_reaches_the_customer_is_no_contact_naming_the_channels_tried(changes: dict[str, Any],
                                                                             tried_channels: str) -> None:
    state = CustomerState()
    verdict = RULES.decide(interaction_at(T0, **changes), state, T0)
    assert verdict.decision.outcome == "no_contact"
    assert verdict.decision.detail == f"no contact data to reach the customer by {tried_channels}"
    assert verdict.invitation is None and verdict.decision.survey_id is None and not state.surveys


def test_a_replayed_invitation_keeps_its_channel() -> None:
    state = CustomerState()
    first = RULES.decide(interaction_at(T0, trigger="transfer"), state, T0)
    again = RULES.decide(interaction_at(T0, trigger="transfer"), state, T0)
    assert again.replayed and again.invitation == first.invitation
    assert again.invitation is not None and again.invitation.delivery_channel == "ivr"


PROGRAMS_YAML = """\
version: 1
delivery:
  follow: {voice: sms, chat: chat, whatsapp: whatsapp}
  fallback: [email, sms]
programs:
  - id: call-nps
    metric: nps
    match: {triggers: [call_end]}
  - id: transfer-ces
    metric: ces
    match: {triggers: [transfer]}
    delivery:
      follow: {voice: ivr}
      fallback: []
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "programs.yaml"
    path.write_text(text)
    return path


def test_a_programs_file_with_delivery_sections_loads(tmp_path: Path) -> None:
    programs = load_programs(write(tmp_path, PROGRAMS_YAML))
    assert programs.delivery == Delivery(follow={"voice": "sms", "chat": "chat", "whatsapp": "whatsapp"},
                                         fallback=("email", "sms"))
    call, transfer = programs.by_id("call-nps"), programs.by_id("transfer-ces")
    assert call is not None and call.delivery is None
    assert transfer is not None and transfer.delivery == Delivery(follow={"voice": "ivr"}, fallback=())
    rules = TriggerRules(programs)
    assert rules.channel_for(interaction_at(T0), call) == "sms"
    assert rules.channel_for(interaction_at(T0, **NO_PHONE), call) == "email"
    assert rules.channel_for(interaction_at(T0, trigger="transfer"), transfer) == "ivr"
    invitation = rules.decide(interaction_at(T0, trigger="transfer"), CustomerState(), T0).invitation
    assert invitation is not None and (invitation.program_id, invitation.delivery_channel) == ("transfer-ces", "ivr")


def test_a_programs_file_without_delivery_sends_email(tmp_path: Path) -> None:
    programs = load_programs(write(tmp_path, "version: 1\nprograms:\n  - id: call-nps\n    metric: nps\n"))
    assert programs.delivery == Delivery()
    assert TriggerRules(programs).channel_for(interaction_at(T0), programs.programs[0]) == "email"


CHANNEL_NAMES = "'email', 'sms', 'whatsapp', 'ivr' or 'chat'"


@pytest.mark.parametrize(
    "old, new, where",
    [
        ("fallback: [email, sms]", "fallback: [email, pigeon]",
         f"line 4: delivery.fallback[1]: Input should be {CHANNEL_NAMES}"),
        ("{voice: sms, chat", "{voice: fax, chat", f"line 3: delivery.follow.voice: Input should be {CHANNEL_NAMES}"),
        ("{voice: sms, chat", "{voice: voice, chat", "line 3: delivery.follow.voice: Input should be"),
        ("{voice: sms, chat", "{telegram: sms, chat", "line 3: delivery.follow.telegram"),
        ("      fallback: []", "      fallback: [sms, SMS]",
         "line 14: programs[1].delivery.fallback[1]: Input should be"),
        ("      follow: {voice: ivr}", "      follow: {voice: phone}", "line 13: programs[1].delivery.follow.voice:"),
        ("  fallback: [email, sms]", "  fallback: [email, sms]\n  channel: sms",
         "line 5: delivery.channel: Extra inputs"),
    ],
    ids=["fallback", "follow", "a contact channel is not a delivery channel", "follow key", "upper case",
         "program follow", "misspelt field"],
)
def test_a_bad_delivery_channel_is_refused_naming_the_file_line_and_field(tmp_path: Path, old: str, new: str,
                                                                          where: str) -> None:
    assert old in PROGRAMS_YAML
    path = write(tmp_path, PROGRAMS_YAML.replace(old, new, 1))
    with pytest.raises(ProgramError) as raised:
        load_programs(path)
    assert str(raised.value).startswith(f"{path} {where}"), str(raised.value)
