"""The survey web tier: stateless, answers 200 only after Kafka acknowledged the response.

`GET /r/{token}` shows the question (the link in an SMS or chat message); `GET /r/{token}?score=N` is the one-click
score from the email or that page: recorded, then the follow-up probe for that score
with a comment form, which `POST /r/{token}` records (score and comment merge into one response downstream). A bad
link gets a 4xx and nothing is published; when Kafka cannot acknowledge, a 503 page that retries by itself.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from cxloop.clock import Clock, SystemClock
from cxloop.codec import Codec, InvalidRecord
from cxloop.delivery_events import delivery_of, parse_sendgrid_events, suppression_of
from cxloop.model import CaseUpdate, ConsentChange, InvalidEvent, Record, SurveyResponse
from cxloop.producer import AsyncProducer, DeliveryFailed
from cxloop.programs import SurveyPrograms
from cxloop.scoring import SCALES, Metric, ScoreOutOfRange, check_score
from cxloop.settings import Settings
from cxloop.survey_email import question_texts
from cxloop.survey_page import (
    MAX_COMMENT,
    follow_up_page,
    normalize_comment,
    notice,
    page,
    probe_for,
    question_page,
    thanks_page,
)
from cxloop.tokens import ExpiredToken, InvalidToken, SurveyToken, TokenSigner

log = logging.getLogger(__name__)
PRODUCER = web.AppKey("producer", AsyncProducer)


def _page(key: str, locale: str, status: int = 200, retry_seconds: int | None = None, **fill: object
          ) -> web.Response:
    """A notice page (closed survey, bad link, retry, ...) in the customer's language."""
    lang, title, message = notice(key, locale, **fill)
    body = page(title, f"<p>{html.escape(message)}</p>", lang, retry_seconds=retry_seconds)
    headers = {"Retry-After": str(retry_seconds)} if retry_seconds else None
    return web.Response(text=body, status=status, content_type="text/html", headers=headers)


def _reader_locale(request: web.Request) -> str:
    """For links whose signed locale cannot be trusted (forged, malformed): the browser's language."""
    return request.headers.get("Accept-Language", "en").split(",")[0].strip() or "en"


def _closed(exc: ExpiredToken, request: web.Request) -> web.Response:
    return _page("closed", exc.token.locale if exc.token else _reader_locale(request), 410)


def create_web_app(
    settings: Settings, codec: Codec, signer: TokenSigner, clock: Clock | None = None,
    programs: SurveyPrograms | None = None,
) -> web.Application:
    clock = clock or SystemClock()
    topic = settings.topic("survey-response")
    verifier = None
    if settings.sendgrid_webhook_public_key:
        from sendgrid.helpers.eventwebhook import EventWebhook

        verifier = EventWebhook(settings.sendgrid_webhook_public_key)

    def verified(request: web.Request) -> SurveyToken | web.Response:
        """The link's token, or the page that explains why it cannot be used (410 closed, 403 not valid)."""
        try:
            return signer.verify(request.match_info["token"], clock.now())
        except ExpiredToken as exc:
            return _closed(exc, request)
        except InvalidToken as exc:
            return _page("invalid_link", _reader_locale(request), 403, reason=exc)

    async def answer(request: web.Request, raw_score: str, comment: str | None, source: str) -> web.Response:
        """Validate, publish, and answer only once Kafka acknowledged: 200, or 503 and the page retries."""
        token = verified(request)
        if isinstance(token, web.Response):
            return token
        try:
            score = check_score(token.metric, int(raw_score))
        except (ValueError, ScoreOutOfRange) as exc:
            reason = exc if isinstance(exc, ScoreOutOfRange) else f"score must be a whole number, got {raw_score!r}"
            return _page("invalid_score", token.locale, 400, reason=reason)
        if comment is not None and len(comment) > MAX_COMMENT:
            return _page("too_long", token.locale, 400, max=MAX_COMMENT)
        response = SurveyResponse(survey_id=token.survey_id, score=score, source=source, responded_at=clock.now(),
                                  comment=comment)
        value = codec.encode(response.contract, response.to_record())
        try:
            await request.app[PRODUCER].send(topic, token.survey_id.encode(), value)
        except DeliveryFailed as exc:
            log.warning("response for %s not acknowledged: %s", token.survey_id, exc)
            return _page("retry", token.locale, 503, 5)
        if comment is not None:
            return web.Response(text=thanks_page(token.locale), content_type="text/html")
        program = programs.by_id(token.program_id) if programs and token.program_id else None
        probe = probe_for(token.metric, score, token.locale, program)  # type: ignore[arg-type]
        return web.Response(text=follow_up_page(request.path, score, probe, token.locale), content_type="text/html")

    async def record_click(request: web.Request) -> web.Response:
        if "score" not in request.query:
            return question(request)
        return await answer(request, request.query["score"], None, "email_click")

    def question(request: web.Request) -> web.Response:
        """The survey link of an SMS, WhatsApp or chat message: the question first, nothing recorded yet."""
        token = verified(request)
        if isinstance(token, web.Response):
            return token
        if token.metric not in SCALES:
            return _page("invalid_link", token.locale, 400, reason=f"unknown metric {token.metric!r}")
        metric: Metric = token.metric
        program = programs.by_id(token.program_id) if programs and token.program_id else None
        _lang, text, low, high = question_texts(metric, token.locale, settings.company_name, program)
        body = question_page(request.path, text, SCALES[metric].points(), low, high, token.locale)
        return web.Response(text=body, content_type="text/html")

    async def record_comment(request: web.Request) -> web.Response:
        form = await request.post()
        comment = normalize_comment(str(form.get("comment", "")))
        return await answer(request, str(form.get("score", "")), comment or None, "web_form")

    async def unsubscribe_page(request: web.Request) -> web.Response:
        """A link scanner's GET changes nothing: the page asks the customer to confirm."""
        try:
            token = signer.verify(request.match_info["token"], clock.now(), allow_expired=True)
        except InvalidToken as exc:
            return _page("invalid_link", _reader_locale(request), 403, reason=exc)
        lang, title, button = notice("unsubscribe", token.locale)
        form = (f'<form method="post" action="{html.escape(request.path)}">'
                f'<button type="submit">{html.escape(button)}</button></form>')
        return web.Response(text=page(title, form, lang), content_type="text/html")

    async def unsubscribe(request: web.Request) -> web.Response:
        """The confirmation button and RFC 8058 one-click (mail clients) both land here."""
        try:
            token = signer.verify(request.match_info["token"], clock.now(), allow_expired=True)
        except InvalidToken as exc:
            return _page("invalid_link", _reader_locale(request), 403, reason=exc)
        if not token.customer_id:
            return _page("no_recipient", token.locale, 400)
        change = ConsentChange(customer_id=token.customer_id, status="opted_out", changed_at=clock.now(),
                               reason="unsubscribe", source="survey-email")
        try:
            await request.app[PRODUCER].send(settings.topic(change.contract), token.customer_id.encode(),
                                             codec.encode(change.contract, change.to_record()))
        except DeliveryFailed as exc:
            log.warning("unsubscribe of survey %s not acknowledged: %s", token.survey_id, exc)
            return _page("retry", token.locale, 503, 5)
        return _page("unsubscribed", token.locale)

    async def sendgrid_events(request: web.Request) -> web.Response:
        """SendGrid's Event Webhook: verified, then every event on survey-delivery and the suppressing ones on
        customer-consent; 200 once Kafka has them all (SendGrid retries anything else)."""
        if verifier is None:
            return web.json_response({"error": "the SendGrid webhook is not configured"}, status=404)
        body = await request.read()
        signature = request.headers.get("X-Twilio-Email-Event-Webhook-Signature", "")
        timestamp = request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp", "")
        if not signature or not timestamp.isdigit():
            return web.json_response({"error": "missing signature or timestamp headers"}, status=403)
        if abs(clock.now().timestamp() - int(timestamp)) > settings.webhook_max_age_seconds:
            return web.json_response({"error": "timestamp too old or in the future (replay?)"}, status=403)
        try:
            genuine = verifier.verify_signature(body.decode("utf-8"), signature, timestamp)
        except (ValueError, UnicodeDecodeError):
            genuine = False
        if not genuine:
            return web.json_response({"error": "signature does not verify"}, status=403)
        try:
            deliveries = [d for d in map(delivery_of, parse_sendgrid_events(body)) if d is not None]
        except InvalidEvent as exc:
            return web.json_response({"error": str(exc)}, status=400)
        records: list[tuple[str, str, Record]] = [(d.contract, d.survey_id, d) for d in deliveries]
        records += [(c.contract, c.customer_id, c) for c in map(suppression_of, deliveries) if c is not None]
        try:
            await asyncio.gather(*(
                request.app[PRODUCER].send(settings.topic(contract), key.encode(),
                                           codec.encode(contract, record.to_record()))
                for contract, key, record in records
            ))
        except DeliveryFailed as exc:
            log.warning("SendGrid events not acknowledged: %s", exc)
            return web.json_response({"error": "try again"}, status=503, headers={"Retry-After": "5"})
        return web.json_response({"accepted": len(deliveries)})

    async def case_update(request: web.Request) -> web.Response:
        """For tools that cannot produce to Kafka: a case-update as JSON, with the cases API bearer token; 202 once
        Kafka has it. The cases agent applies it (or dead-letters it with the reason, e.g. a step backwards)."""
        if settings.cases_api_token is None:
            return web.json_response({"error": "the cases API is not configured"}, status=404)
        expected = f"Bearer {settings.cases_api_token.get_secret_value()}"
        if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected.encode()):
            return web.json_response({"error": "missing or wrong bearer token"}, status=401)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        unknown = sorted(set(body) - {"customer_id", "status", "actor", "outcome", "root_cause", "note"})
        if unknown:
            return web.json_response({"error": f"unknown field(s): {', '.join(unknown)}"}, status=400)
        try:
            update = CaseUpdate.from_record({**body, "case_id": request.match_info["case_id"],
                                             "updated_at": clock.now()})
            value = codec.encode(update.contract, update.to_record())
        except (InvalidEvent, InvalidRecord) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if update.status is None and not update.note:
            return web.json_response({"error": "give a status or a note"}, status=400)
        if update.status == "resolved" and not (update.outcome and update.root_cause):
            return web.json_response({"error": "resolving a case needs outcome and root_cause"}, status=400)
        try:
            await request.app[PRODUCER].send(settings.topic(update.contract), update.customer_id.encode(), value)
        except DeliveryFailed as exc:
            log.warning("case update of %s not acknowledged: %s", update.case_id, exc)
            return web.json_response({"error": "try again"}, status=503, headers={"Retry-After": "5"})
        return web.json_response({"accepted": update.case_id}, status=202)

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def producer_lifecycle(app: web.Application) -> AsyncIterator[None]:
        app[PRODUCER] = AsyncProducer(settings)
        yield
        app[PRODUCER].close()

    app = web.Application()
    app.cleanup_ctx.append(producer_lifecycle)
    app.router.add_get("/r/{token}", record_click)
    app.router.add_post("/r/{token}", record_comment)
    app.router.add_get("/unsubscribe/{token}", unsubscribe_page)
    app.router.add_post("/unsubscribe/{token}", unsubscribe)
    app.router.add_post("/webhooks/sendgrid/events", sendgrid_events)
    app.router.add_post("/cases/{case_id}", case_update)
    app.router.add_get("/healthz", health)
    return app
