"""The survey email: one signed one-click link per scale point, neutral wording, escaped HTML."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from cxloop.model import Invitation
from cxloop.programs import Program
from cxloop.scoring import METRICS, SCALES
from cxloop.survey_email import SurveyEmail, build_survey_email
from cxloop.tokens import SurveyToken, TokenSigner
from tests.unit.sample_records import DECIDED_AT, invitation_for, replace, signer

PUBLIC_URL = "https://surveys.acme.example/"


def email_for(
    invitation: Invitation, signing: TokenSigner | None = None, company: str = "Acme Telecom"
) -> SurveyEmail:
    signing = signing or signer()
    token = signing.sign(SurveyToken(invitation.survey_id, invitation.metric, invitation.expires_at, invitation.locale))
    return build_survey_email(invitation, token, PUBLIC_URL, company)


@pytest.mark.parametrize("metric", METRICS)
def test_email_has_one_link_per_scale_point(metric: str) -> None:
    email = email_for(invitation_for(metric))  # type: ignore[arg-type]
    assert list(email.score_links) == list(SCALES[metric].points())  # type: ignore[index]
    for points, url in email.score_links.items():
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("https", "surveys.acme.example")
        assert parts.path.startswith("/r/") and parts.path.count("/") == 2
        assert parse_qs(parts.query) == {"score": [str(points)]}
        assert f"{points}: {url}" in email.text.splitlines()
        assert f'href="{url.replace("&", "&amp;")}"' in email.html


@pytest.mark.parametrize("metric", METRICS)
def test_every_link_carries_a_token_that_verifies_and_names_the_survey(metric: str) -> None:
    signing = signer()
    invitation = invitation_for(metric)  # type: ignore[arg-type]
    email = email_for(invitation, signing)
    for url in email.score_links.values():
        token = signing.verify(urlsplit(url).path.removeprefix("/r/"), DECIDED_AT + timedelta(hours=1))
        # Token expiry is carried in whole seconds, so the link closes within a second before the invitation.
        assert (token.survey_id, token.metric, token.expires_at) == (
            invitation.survey_id, metric, invitation.expires_at.replace(microsecond=0),
        )


def test_email_goes_to_the_customer_and_is_tagged_with_the_survey() -> None:
    invitation = invitation_for("csat")
    email = email_for(invitation)
    assert (email.to, email.survey_id) == ("maria.lopez@example.org", invitation.survey_id)
    assert email.headers["X-Cxloop-Survey-Id"] == invitation.survey_id
    assert "Acme Telecom" in email.subject


def test_email_carries_a_one_click_unsubscribe_link_and_its_headers() -> None:
    email = email_for(invitation_for("nps"))
    link = email.headers["List-Unsubscribe"].strip("<>")
    assert "/unsubscribe/" in link
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in email.text and link in email.html


@pytest.mark.parametrize(
    "metric, wording",
    [
        ("nps", "How likely are you to recommend Acme Telecom to a friend or colleague?"),
        ("csat", "How satisfied were you with the help you received from Acme Telecom?"),
        ("ces", "Acme Telecom made it easy for me to handle my issue."),
    ],
)
def test_question_is_the_standard_neutral_wording(metric: str, wording: str) -> None:
    email = email_for(invitation_for(metric))  # type: ignore[arg-type]
    assert email.text.splitlines()[0] == wording
    assert f"<p>{wording}</p>" in email.html


@pytest.mark.parametrize(
    "metric, anchors",
    [("nps", "(Not at all likely = 0, Extremely likely = 10)"), ("csat", "(Very dissatisfied = 1, Very satisfied = 5)"),
     ("ces", "(Strongly disagree = 1, Strongly agree = 7)")],
)
def test_both_ends_of_the_scale_are_labelled(metric: str, anchors: str) -> None:
    assert anchors in email_for(invitation_for(metric)).text  # type: ignore[arg-type]


def test_company_name_is_escaped_in_the_html() -> None:
    email = email_for(invitation_for("nps"), company='Acme <script>alert("x")</script> & Sons')
    assert "<script>" not in email.html
    assert "Acme &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons" in email.html


@pytest.mark.parametrize("company", ["{company}", "Acme {0} Ltd", "100% Co"])
def test_company_name_with_format_characters_is_kept_literally(company: str) -> None:
    email = email_for(invitation_for("ces"), company=company)
    assert email.text.startswith(f"{company} made it easy")


def test_unknown_locale_falls_back_to_english() -> None:
    email = email_for(replace(invitation_for("csat"), locale="xx-YY"))
    assert email.text.startswith("How satisfied") and 'lang="en"' in email.html


def test_public_url_without_trailing_slash_gives_the_same_links() -> None:
    invitation = invitation_for("nps")
    token = signer().sign(SurveyToken(invitation.survey_id, "nps", invitation.expires_at))
    with_slash = build_survey_email(invitation, token, "https://s.example/", "Acme")
    without = build_survey_email(invitation, token, "https://s.example", "Acme")
    assert with_slash.score_links == without.score_links
    assert all("//r/" not in url for url in without.score_links.values())


@pytest.mark.parametrize("address", [None, ""])
def test_invitation_without_an_email_address_cannot_become_an_email(address: str | None) -> None:
    invitation = replace(invitation_for("nps"), customer_email=address)
    with pytest.raises(ValueError, match=invitation.survey_id):
        build_survey_email(invitation, "token", PUBLIC_URL, "Acme")


def _program(texts: dict[str, dict[str, str]]) -> Program:
    return Program.model_validate({"id": "call-nps", "metric": "nps", "texts": texts})


@pytest.mark.parametrize(
    "locale, question",
    [("en", "How likely is it that you would recommend Acme Telecom?"),
     ("es-ES", "¿Recomendaría Acme Telecom?"), ("de-DE", "How likely is it that you would recommend Acme Telecom?")],
)
def test_program_question_in_the_customers_language_wins_over_the_built_in_one(locale: str, question: str) -> None:
    program = _program({"en": {"question": "How likely is it that you would recommend {company}?"},
                        "es": {"question": "¿Recomendaría {company}?"}})
    invitation = replace(invitation_for("nps"), locale=locale)
    token = signer().sign(SurveyToken(invitation.survey_id, "nps", invitation.expires_at))
    email = build_survey_email(invitation, token, PUBLIC_URL, "Acme Telecom", program=program)
    assert email.text.splitlines()[0] == question
    assert list(email.score_links) == list(SCALES["nps"].points())


def test_program_without_texts_keeps_the_standard_wording() -> None:
    invitation = invitation_for("nps")
    token = signer().sign(SurveyToken(invitation.survey_id, "nps", invitation.expires_at))
    email = build_survey_email(invitation, token, PUBLIC_URL, "Acme", program=_program({}))
    assert email.text.startswith("How likely are you to recommend Acme to a friend or colleague?")


def test_reminder_has_the_same_links_a_marked_subject_and_its_own_reference() -> None:
    invitation = invitation_for("csat")
    token = signer().sign(SurveyToken(invitation.survey_id, "csat", invitation.expires_at))
    first = build_survey_email(invitation, token, PUBLIC_URL, "Acme")
    reminder = build_survey_email(invitation, token, PUBLIC_URL, "Acme", reminder=True)
    assert (first.kind, reminder.kind) == ("invitation", "reminder")
    assert reminder.subject == "Reminder: " + first.subject
    assert reminder.score_links == first.score_links and reminder.survey_id == first.survey_id
    assert (first.reference, reminder.reference) == (invitation.survey_id, f"{invitation.survey_id}.reminder")


@pytest.mark.parametrize(
    ("metric", "question", "ends"),
    [
        ("nps", "¿Qué probabilidad hay de que recomiende Acme Telecom a un amigo o colega?",
         "(Nada probable = 0, Muy probable = 10)"),
        ("csat", "¿Qué tan satisfecho quedó con la ayuda que recibió de Acme Telecom?",
         "(Muy insatisfecho = 1, Muy satisfecho = 5)"),
        ("ces", "Acme Telecom me facilitó resolver mi consulta.",
         "(Totalmente en desacuerdo = 1, Totalmente de acuerdo = 7)"),
    ],
)
def test_spanish_speaking_customers_get_the_survey_in_spanish(metric: str, question: str, ends: str) -> None:
    email = email_for(replace(invitation_for(metric), locale="es-MX"))  # type: ignore[arg-type]
    assert email.text.startswith(question) and ends in email.text
    assert email.subject.startswith("Una pregunta rápida") and "No recibir más encuestas" in email.html
