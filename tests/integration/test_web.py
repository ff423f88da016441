"""The survey web tier: a bad link gets a 4xx and publishes nothing; a good click is on Kafka before the 200."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from cxloop.app import signer_for
from cxloop.settings import Settings
from cxloop.tokens import SurveyToken, TokenSigner
from tests.support import TopicReader


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def link(settings: Settings, token: str, score: object) -> str:
    return f"{settings.public_url}/r/{token}?score={score}"


def a_token(settings: Settings, survey: str, expires_in: timedelta = timedelta(days=7), metric: str = "csat") -> str:
    return signer_for(settings).sign(SurveyToken(survey, metric, datetime.now(timezone.utc) + expires_in))


def test_click_is_acknowledged_by_kafka_before_the_thanks_page(settings: Settings, web) -> None:
    status, body = get(link(settings, a_token(settings, "sv_click"), 4))
    assert status == 200 and "Thank you" in body
    responses = TopicReader(settings, "survey-response")
    # The 200 came after the broker's ack, so the record is readable now, without waiting for it.
    response = responses.wait_for(lambda r: r["survey_id"] == "sv_click", timeout=10)[0]
    assert (response["score"], response["source"]) == (4, "email_click")
    responses.close()


@pytest.mark.parametrize(
    ("case", "make_url", "status", "says"),
    [
        ("forged signature", lambda s: link(s, a_token(s, "sv_x")[:-4] + "AAAA", 3), 403, "not valid"),
        ("other deployment's key", lambda s: link(
            s, TokenSigner({"dev": b"another-secret-of-16+"}, "dev").sign(
                SurveyToken("sv_x", "csat", datetime.now(timezone.utc) + timedelta(days=1))), 3), 403, "not valid"),
        ("garbage token", lambda s: link(s, "hello", 3), 403, "not valid"),
        ("expired", lambda s: link(s, a_token(s, "sv_x", timedelta(seconds=-1)), 3), 410, "closed"),
        ("score above the CSAT scale", lambda s: link(s, a_token(s, "sv_x"), 6), 400, "1-5"),
        ("score not a number", lambda s: link(s, a_token(s, "sv_x"), "five"), 400, "whole number"),
        ("score empty", lambda s: link(s, a_token(s, "sv_x"), ""), 400, "whole number"),
    ],
)
def test_bad_links_get_a_4xx_and_publish_nothing(settings: Settings, web, case, make_url, status, says) -> None:
    got, body = get(make_url(settings))
    assert got == status, case
    assert says in body, case
    # A good click after the bad one: once it is readable, anything published before it would be too.
    assert get(link(settings, a_token(settings, "sv_marker"), 5))[0] == 200
    responses = TopicReader(settings, "survey-response")
    responses.wait_for(lambda r: r["survey_id"] == "sv_marker", timeout=10)
    assert [r["survey_id"] for r in responses.records] == ["sv_marker"], case
    responses.close()


def test_link_without_a_score_shows_the_question_and_records_nothing(settings: Settings, web) -> None:
    """The survey link of an SMS or chat message: the question first, with one link per score."""
    token = signer_for(settings).sign(SurveyToken("sv_question", "nps", datetime.now(timezone.utc) + timedelta(1),
                                                  locale="es-MX"))
    status, body = get(f"{settings.public_url}/r/{token}")
    assert status == 200
    assert '<html lang="es">' in body and "recomiende" in body
    assert all(f"/r/{token}?score={s}" in body for s in range(0, 11))
    assert get(link(settings, a_token(settings, "sv_marker"), 5))[0] == 200
    responses = TopicReader(settings, "survey-response")
    responses.wait_for(lambda r: r["survey_id"] == "sv_marker", timeout=10)
    assert [r["survey_id"] for r in responses.records] == ["sv_marker"], "showing the question records nothing"
    responses.close()


def test_pages_speak_the_customers_language_even_when_the_link_has_expired(settings: Settings, web) -> None:
    signer = signer_for(settings)
    spanish = SurveyToken("sv_es", "csat", datetime.now(timezone.utc) + timedelta(days=1), locale="es-MX",
                          customer_id="cust-es")
    expired = SurveyToken("sv_es_old", "csat", datetime.now(timezone.utc) - timedelta(seconds=1), locale="es-MX")
    status, body = get(link(settings, signer.sign(expired), 4))
    assert status == 410 and '<html lang="es">' in body and "Esta encuesta ha terminado" in body
    status, body = get(f"{settings.public_url}/unsubscribe/{signer.sign(spanish)}")
    assert status == 200 and '<html lang="es">' in body and "No enviarme más encuestas" in body
    status, body = get(link(settings, signer.sign(spanish), 9))
    assert status == 400 and "Puntuación no válida" in body


def test_a_comment_as_long_as_the_form_allows_is_kept_with_plain_line_breaks(settings: Settings, web) -> None:
    """Browsers count a line break as one character against maxlength but send it as CRLF."""
    token = a_token(settings, "sv_long")
    lines = ["x" * 98] * 20
    comment = "\r\n".join(lines)  # 19 CRLFs: 1979 characters as the form counts them, 1998 as sent
    request = urllib.request.Request(f"{settings.public_url}/r/{token}",
                                     data=urllib.parse.urlencode({"score": 2, "comment": comment}).encode())
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.status == 200
    too_long = urllib.request.Request(f"{settings.public_url}/r/{token}",
                                      data=urllib.parse.urlencode({"score": 2, "comment": "y" * 2001}).encode())
    try:
        urllib.request.urlopen(too_long, timeout=30)
        raise AssertionError("a comment over the limit was accepted")
    except urllib.error.HTTPError as err:
        assert err.code == 400
    responses = TopicReader(settings, "survey-response")
    stored = responses.wait_for(lambda r: r["survey_id"] == "sv_long" and r["comment"], timeout=10)[0]
    responses.close()
    assert stored["comment"] == "\n".join(lines)
