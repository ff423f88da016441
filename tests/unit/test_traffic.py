"""The synthetic contact centre: it reads survey emails like a customer would and answers on the right scale."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from cxloop.contact_policy import CustomerState
from cxloop.decisions import TriggerRules
from cxloop.gateway_messages import outbound_message
from cxloop.model import Interaction
from cxloop.replies import read_reply
from cxloop.scoring import METRICS, SCALES
from cxloop.survey_email import SurveyEmail, build_survey_email
from cxloop.tokens import SurveyToken
from cxloop.traffic import ContactCentre, GatewayCustomers, metric_of, score_links
from sinks.email import OutboxSender
from tests.unit.sample_records import ENDED_AT, EVERYTHING, invitation_for, signer


def outbox_email(tmp_path: Path, metric: str, company: str = "Acme Telecom") -> tuple[SurveyEmail, Path]:
    invitation = invitation_for(metric)  # type: ignore[arg-type]
    token = signer().sign(SurveyToken(invitation.survey_id, metric, invitation.expires_at))
    email = build_survey_email(invitation, token, "https://surveys.acme.example", company)
    path = Path(OutboxSender(tmp_path / "outbox", "surveys@acme.example").send(email))
    return email, path


@pytest.mark.parametrize("metric", METRICS)
def test_score_links_are_read_back_from_an_outbox_email(tmp_path: Path, metric: str) -> None:
    email, path = outbox_email(tmp_path, metric)
    survey, links = score_links(path.read_bytes())
    assert survey == email.survey_id
    assert links == email.score_links
    assert metric_of(links) == metric


def test_outbox_email_is_named_after_its_survey(tmp_path: Path) -> None:
    email, path = outbox_email(tmp_path, "nps")
    assert path.name == f"{email.survey_id}.eml"
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_score_links_survive_a_company_name_that_needs_encoding(tmp_path: Path) -> None:
    email, path = outbox_email(tmp_path, "csat", company="Café <Ünïcode> & Co")
    assert score_links(path.read_bytes()) == (email.survey_id, email.score_links)


def test_resending_the_same_survey_rewrites_one_file(tmp_path: Path) -> None:
    _, path = outbox_email(tmp_path, "ces")
    _, again = outbox_email(tmp_path, "ces")
    assert path == again and len(list(path.parent.glob("*.eml"))) == 1


@pytest.mark.parametrize("metric", METRICS)
def test_answers_stay_on_the_metrics_scale_for_many_draws(metric: str) -> None:
    centre = ContactCentre(seed=11)
    scale = SCALES[metric]  # type: ignore[index]
    answers = [centre.answer(f"sv_unknown_{i}", metric) for i in range(2000)]
    assert all(isinstance(a, int) and scale.low <= a <= scale.high for a in answers)
    assert len(set(answers)) > 1


@pytest.mark.parametrize("metric", METRICS)
def test_answers_of_real_customers_stay_on_the_scale_whatever_their_mood(metric: str) -> None:
    centre = ContactCentre(seed=3)
    for minute in range(300):
        centre.interaction(ENDED_AT + timedelta(minutes=minute))
    surveys = list(centre.mood)
    assert len(surveys) == 300
    scale = SCALES[metric]  # type: ignore[index]
    for survey in surveys:
        for _ in range(5):
            assert scale.low <= centre.answer(survey, metric) <= scale.high


def test_customers_include_detractors_and_promoters() -> None:
    centre = ContactCentre(seed=5)
    for minute in range(2000):
        centre.interaction(ENDED_AT + timedelta(minutes=minute))
    answers = {centre.answer(survey, "nps") for survey in centre.mood}
    assert min(answers) <= 6 and max(answers) >= 9


def test_generated_interactions_are_valid_and_reproducible_from_the_seed() -> None:
    first, second = ContactCentre(seed=9), ContactCentre(seed=9)
    for minute in range(50):
        now = ENDED_AT + timedelta(minutes=minute)
        a, b = first.interaction(now), second.interaction(now)
        assert a == b
        assert Interaction.from_record(a.to_record()) == a


@pytest.mark.parametrize("rules", [EVERYTHING, None], ids=["survey-everything", "shipped programs"])
def test_mood_is_keyed_by_the_survey_id_triggers_will_assign(rules: TriggerRules | None) -> None:
    centre = ContactCentre(seed=1, rules=rules)
    invited = 0
    for minute in range(40):
        interaction = centre.interaction(ENDED_AT + timedelta(minutes=minute))
        invitation = centre.rules.decide(interaction, CustomerState(), interaction.ended_at).invitation
        if invitation is not None:
            invited += 1
            assert invitation.survey_id in centre.mood
    assert invited > 10



@pytest.mark.parametrize("channel", ["sms", "whatsapp", "ivr", "chat"])
def test_gateway_customers_reply_in_ways_cxloop_reads_back_to_their_intended_score(channel: str) -> None:
    """What the demo's customers type must round-trip: the score cxloop reads is the score they meant, and the
    odd reply with no score (or STOP) is the exception, not a misread."""
    centre = ContactCentre(seed=3)
    meant = itertools.cycle(SCALES["nps"].points())
    intended: list[int] = []
    centre.answer = lambda survey, metric: intended.append(next(meant)) or intended[-1]  # type: ignore[method-assign]
    customers = GatewayCustomers(centre, share=1.0)
    invitation = replace(invitation_for("nps"), delivery_channel=channel, customer_phone="+15555550100")
    message = outbound_message(invitation, "invitation", company="Acme", now=ENDED_AT).to_record()
    outcomes = {"scored": 0, "asked_again": 0, "opted_out": 0}
    for _ in range(330):
        reply = customers.reply_to(message, ENDED_AT)
        assert reply is not None, "share=1.0: every customer answers"
        if reply.score is None:
            outcome = read_reply(reply, "nps")
            if outcome.opt_out or outcome.ask_again:
                outcomes["opted_out" if outcome.opt_out else "asked_again"] += 1
                continue
            assert outcome.answer is not None
            reply = outcome.answer
        assert reply.score == intended[-1], f"{channel}: {reply.reply_text!r} read as {reply.score}"
        outcomes["scored"] += 1
    assert outcomes["scored"] >= 280, outcomes
    if channel in ("sms", "whatsapp"):
        assert outcomes["asked_again"] > 0 and outcomes["opted_out"] > 0, outcomes
