"""Signed survey links: who may answer which survey, until when.

A token is `base64url(json payload) "." base64url(HMAC-SHA256)`, the payload naming the key it was signed with, so
keys rotate by adding a new active key while old links stay valid until the old key is removed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone


class InvalidToken(ValueError):
    """Forged, tampered, malformed or signed with a retired key."""


class ExpiredToken(InvalidToken):
    """Genuine but past its expiry; `token` is its content (its locale picks the language of the closed page)."""

    def __init__(self, message: str, token: SurveyToken | None = None) -> None:
        super().__init__(message)
        self.token = token


@dataclass(frozen=True)
class SurveyToken:
    survey_id: str
    metric: str
    expires_at: datetime
    locale: str = "en"
    program_id: str = ""
    customer_id: str = ""  # for the unsubscribe link: signed, not secret (it is the recipient's own id)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Signs with the first key; verifies with any known key."""

    def __init__(self, keys: dict[str, bytes], active: str) -> None:
        if active not in keys:
            raise ValueError(f"active token key {active!r} is not among the configured keys")
        self._keys = keys
        self._active = active

    def _mac(self, key_id: str, body: str) -> str:
        return _b64(hmac.new(self._keys[key_id], body.encode(), hashlib.sha256).digest())

    def sign(self, token: SurveyToken) -> str:
        payload = {
            "s": token.survey_id,
            "m": token.metric,
            "e": int(token.expires_at.timestamp()),
            "l": token.locale,
            "p": token.program_id,
            "c": token.customer_id,
            "k": self._active,
        }
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._mac(self._active, body)}"

    def verify(self, text: str, now: datetime, allow_expired: bool = False) -> SurveyToken:
        """The token's content if it is genuine; an expired token is refused unless `allow_expired` (unsubscribe
        links keep working after the survey closes)."""
        body, sep, mac = text.partition(".")
        if not sep or not body or not mac:
            raise InvalidToken("malformed survey link")
        try:
            payload = json.loads(_unb64(body))
            key_id = str(payload["k"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidToken("malformed survey link") from exc
        if key_id not in self._keys:
            raise InvalidToken("survey link signed with an unknown key")
        if not hmac.compare_digest(mac.encode("utf-8", "replace"), self._mac(key_id, body).encode()):
            raise InvalidToken("survey link signature does not match")
        try:
            token = SurveyToken(
                survey_id=str(payload["s"]),
                metric=str(payload["m"]),
                expires_at=datetime.fromtimestamp(int(payload["e"]), timezone.utc),
                locale=str(payload.get("l", "en")),
                program_id=str(payload.get("p", "")),
                customer_id=str(payload.get("c", "")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidToken("malformed survey link") from exc
        if now >= token.expires_at and not allow_expired:
            raise ExpiredToken("this survey has expired", token)
        return token
