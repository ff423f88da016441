"""The survey web tier: stateless, answers 200 only after Kafka acknowledged the response.

`GET /r/{token}?score=N` is the one-click score from the email. A bad link gets a 4xx and nothing is published;
when Kafka cannot acknowledge, the customer gets a 503 page that retries by itself.
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from cxloop.clock import Clock, SystemClock
from cxloop.codec import Codec
from cxloop.model import SurveyResponse
from cxloop.producer import AsyncProducer, DeliveryFailed
from cxloop.scoring import ScoreOutOfRange, check_score
from cxloop.settings import Settings
from cxloop.tokens import ExpiredToken, InvalidToken, TokenSigner

log = logging.getLogger(__name__)
PRODUCER = web.AppKey("producer", AsyncProducer)


def _page(title: str, message: str, status: int = 200, retry_seconds: int | None = None) -> web.Response:
    refresh = f'<meta http-equiv="refresh" content="{retry_seconds}">' if retry_seconds else ""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{refresh}<title>{html.escape(title)}</title></head>"
        '<body style="font:18px/1.5 sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#112">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    headers = {"Retry-After": str(retry_seconds)} if retry_seconds else None
    return web.Response(text=body, status=status, content_type="text/html", headers=headers)


def create_web_app(
    settings: Settings, codec: Codec, signer: TokenSigner, clock: Clock | None = None
) -> web.Application:
    clock = clock or SystemClock()
    topic = settings.topic("survey-response")

    async def record_click(request: web.Request) -> web.Response:
        try:
            token = signer.verify(request.match_info["token"], clock.now())
        except ExpiredToken:
            return _page("This survey has closed", "Thank you for your time; this survey is no longer open.", 410)
        except InvalidToken as exc:
            return _page("Link not valid", f"This survey link is not valid ({exc}).", 403)
        raw_score = request.query.get("score", "")
        try:
            score = check_score(token.metric, int(raw_score))
        except (ValueError, ScoreOutOfRange) as exc:
            reason = exc if isinstance(exc, ScoreOutOfRange) else f"score must be a whole number, got {raw_score!r}"
            return _page("Score not valid", str(reason), 400)
        response = SurveyResponse(
            survey_id=token.survey_id, score=score, source="email_click", responded_at=clock.now()
        )
        value = codec.encode(response.contract, response.to_record())
        try:
            await request.app[PRODUCER].send(topic, token.survey_id.encode(), value)
        except DeliveryFailed as exc:
            log.warning("response for %s not acknowledged: %s", token.survey_id, exc)
            return _page("One moment", "We could not save your answer yet; this page retries by itself.", 503, 5)
        return _page("Thank you", "Your answer has been recorded.")

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def producer_lifecycle(app: web.Application) -> AsyncIterator[None]:
        app[PRODUCER] = AsyncProducer(settings)
        yield
        app[PRODUCER].close()

    app = web.Application()
    app.cleanup_ctx.append(producer_lifecycle)
    app.router.add_get("/r/{token}", record_click)
    app.router.add_get("/healthz", health)
    return app
