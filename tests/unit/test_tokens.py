"""Signed survey links: round trip, tampering, expiry, unknown keys, key rotation and malformed input."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from cxloop.tokens import ExpiredToken, InvalidToken, SurveyToken, TokenSigner

NOW = datetime(2025, 3, 4, 9, 30, tzinfo=timezone.utc)
OLD = b"old-secret-retired-in-march-2025"
NEW = b"new-secret-active-from-march-2025"


def token(**overrides: object) -> SurveyToken:
    fields: dict[str, object] = {
        "survey_id": "sv_0123456789abcdef01234567", "metric": "nps", "expires_at": NOW + timedelta(days=7),
    }
    fields.update(overrides)
    return SurveyToken(**fields)  # type: ignore[arg-type]


def payload_of(text: str) -> dict[str, object]:
    body = text.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("metric, locale", [("nps", "en"), ("csat", "de"), ("ces", "pt-BR")])
def test_signed_link_verifies_back_to_the_same_survey(metric: str, locale: str) -> None:
    signer = TokenSigner({"k1": NEW}, "k1")
    original = token(metric=metric, locale=locale)
    assert signer.verify(signer.sign(original), NOW) == original


def test_expiry_survives_the_round_trip_to_the_second() -> None:
    signer = TokenSigner({"k1": NEW}, "k1")
    verified = signer.verify(signer.sign(token(expires_at=NOW + timedelta(days=7, microseconds=999))), NOW)
    assert verified.expires_at == NOW + timedelta(days=7)
    assert verified.expires_at.tzinfo is not None


def test_link_is_url_safe() -> None:
    text = TokenSigner({"k1": NEW}, "k1").sign(token(survey_id="sv_/+?&=#"))
    assert all(c.isalnum() or c in "-_." for c in text)


def test_link_names_the_key_it_was_signed_with() -> None:
    assert payload_of(TokenSigner({"old": OLD, "new": NEW}, "new").sign(token()))["k"] == "new"


def test_payload_changed_to_another_survey_is_rejected() -> None:
    signer = TokenSigner({"k1": NEW}, "k1")
    body, mac = signer.sign(token()).split(".")
    forged = dict(payload_of(body), s="sv_someone_elses_survey000")
    forged_body = b64(json.dumps(forged, separators=(",", ":"), sort_keys=True).encode())
    with pytest.raises(InvalidToken) as caught:
        signer.verify(f"{forged_body}.{mac}", NOW)
    assert not isinstance(caught.value, ExpiredToken)


def test_payload_with_its_expiry_pushed_back_is_rejected() -> None:
    signer = TokenSigner({"k1": NEW}, "k1")
    body, mac = signer.sign(token(expires_at=NOW - timedelta(days=1))).split(".")
    forged = dict(payload_of(body), e=int((NOW + timedelta(days=365)).timestamp()))
    forged_body = b64(json.dumps(forged, separators=(",", ":"), sort_keys=True).encode())
    with pytest.raises(InvalidToken, match="signature"):
        signer.verify(f"{forged_body}.{mac}", NOW)


@pytest.mark.parametrize("position", [0, 5, -1])
def test_signature_with_one_character_changed_is_rejected(position: int) -> None:
    signer = TokenSigner({"k1": NEW}, "k1")
    body, mac = signer.sign(token()).split(".")
    chars = list(mac)
    chars[position] = "A" if chars[position] != "A" else "B"
    with pytest.raises(InvalidToken):
        signer.verify(f"{body}.{''.join(chars)}", NOW)


def test_signature_from_another_secret_under_the_same_key_id_is_rejected() -> None:
    forged = TokenSigner({"k1": b"attacker-guessed-secret-000000"}, "k1").sign(token())
    with pytest.raises(InvalidToken, match="signature"):
        TokenSigner({"k1": NEW}, "k1").verify(forged, NOW)


@pytest.mark.parametrize("now", [NOW + timedelta(days=7), NOW + timedelta(days=7, seconds=1), NOW + timedelta(days=90)])
def test_link_at_or_after_its_expiry_is_expired(now: datetime) -> None:
    signer = TokenSigner({"k1": NEW}, "k1")
    with pytest.raises(ExpiredToken):
        signer.verify(signer.sign(token()), now)


def test_link_one_second_before_expiry_still_works() -> None:
    signer = TokenSigner({"k1": NEW}, "k1")
    assert signer.verify(signer.sign(token()), NOW + timedelta(days=7, seconds=-1)).metric == "nps"


def test_expired_link_is_also_an_invalid_token_for_callers_that_catch_only_that() -> None:
    assert issubclass(ExpiredToken, InvalidToken)


def test_link_signed_with_a_key_not_configured_is_rejected() -> None:
    foreign = TokenSigner({"partner": OLD}, "partner").sign(token())
    with pytest.raises(InvalidToken, match="unknown key"):
        TokenSigner({"k1": NEW}, "k1").verify(foreign, NOW)


def test_link_signed_with_a_removed_key_is_rejected_after_rotation_completes() -> None:
    old_link = TokenSigner({"old": OLD}, "old").sign(token())
    with pytest.raises(InvalidToken):
        TokenSigner({"new": NEW}, "new").verify(old_link, NOW)


def test_link_signed_with_the_old_key_still_verifies_during_rotation() -> None:
    old_link = TokenSigner({"old": OLD}, "old").sign(token())
    rotated = TokenSigner({"new": NEW, "old": OLD}, "new")
    assert rotated.verify(old_link, NOW) == token()


def test_rotated_signer_signs_new_links_with_the_new_key() -> None:
    rotated = TokenSigner({"new": NEW, "old": OLD}, "new")
    new_link = rotated.sign(token())
    assert payload_of(new_link)["k"] == "new"
    with pytest.raises(InvalidToken):
        TokenSigner({"old": OLD}, "old").verify(new_link, NOW)


def test_active_key_must_be_configured() -> None:
    with pytest.raises(ValueError, match="missing"):
        TokenSigner({"k1": NEW}, "missing")


VALID_BODY = b64(json.dumps({"e": 1999999999, "k": "k1", "l": "en", "m": "nps", "s": "sv_1"}).encode())


@pytest.mark.parametrize(
    "text",
    [
        "", "abc", "a.b", "...", ".", "abc.", ".abc", "a.b.c", "!!!.###", "é.x",
        b64(b"not json") + ".abc",
        b64(b"[1, 2, 3]") + ".abc",
        b64(b'"a string"') + ".abc",
        b64(b"null") + ".abc",
        b64(b'{"s": "sv_1"}') + ".abc",  # no key id
        b64(b"\xff\xfe\x00") + ".abc",  # not UTF-8
        VALID_BODY + ".",
        VALID_BODY + ".é",  # a non-ASCII signature, e.g. a mangled or hostile link
        VALID_BODY + ".\u200b",
    ],
    ids=[
        "empty", "no dot", "one-letter parts", "only dots", "one dot", "no signature", "no body", "three parts",
        "not base64", "non-ASCII body", "body not JSON", "body a list", "body a string", "body null",
        "no key id", "body not UTF-8", "valid body, empty signature", "valid body, accented signature",
        "valid body, zero-width signature",
    ],
)
def test_malformed_link_is_an_invalid_token(text: str) -> None:
    signer = TokenSigner({"k1": NEW}, "k1")
    with pytest.raises(InvalidToken):
        signer.verify(text, NOW)
