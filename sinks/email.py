"""Email senders behind one small interface.

Contract: `send(email)` returns only once the message is handed over durably (file renamed into the outbox, or
accepted by SendGrid with 202), and is idempotent per survey id for the outbox (a replay rewrites the same file).
Transient failures are retried inside the sender with bounded backoff; `PermanentDeliveryFailure` means retrying
will not help (e.g. SendGrid refused the request as invalid).
"""

from __future__ import annotations

import logging
import os
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from cxloop.survey_email import SurveyEmail

log = logging.getLogger(__name__)


class PermanentDeliveryFailure(RuntimeError):
    pass


class EmailSender(Protocol):
    def send(self, email: SurveyEmail) -> str:
        """Deliver or raise; returns a delivery reference (file path or provider message id)."""
        ...


class OutboxSender:
    """Writes each survey email as `<survey_id>.eml` (reminders `<survey_id>.reminder.eml`) in a folder: the
    default backend and what the demo shows."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender
        folder.mkdir(parents=True, exist_ok=True)

    def send(self, email: SurveyEmail) -> str:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(idstring=email.reference, domain="cxloop")
        for name, value in email.headers.items():
            message[name] = value
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        final = self.folder / f"{email.reference}.eml"
        partial = self.folder / f".{email.reference}.eml.partial"
        with open(partial, "wb") as handle:
            handle.write(bytes(message))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, final)  # readers never see half a message
        return str(final)


class SendGridSender:
    """SendGrid v3 mail send through the official client, with retries on 429 and 5xx."""

    def __init__(
        self, api_key: str, sender: str, host: str = "https://api.sendgrid.com", attempts: int = 5,
        backoff_seconds: float = 0.5,
    ) -> None:
        from sendgrid import SendGridAPIClient

        self.client = SendGridAPIClient(api_key=api_key, host=host)
        self.sender = sender
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds

    def _mail(self, email: SurveyEmail):
        from sendgrid.helpers.mail import CustomArg, Header, Mail

        mail = Mail(
            from_email=self.sender,
            to_emails=email.to,
            subject=email.subject,
            plain_text_content=email.text,
            html_content=email.html,
        )
        for name, value in email.headers.items():
            mail.header = Header(name, value)
        mail.custom_arg = CustomArg("survey_id", email.survey_id)
        if email.customer_id:  # comes back on Event Webhook events: bounces and spam reports suppress the customer
            mail.custom_arg = CustomArg("customer_id", email.customer_id)
        return mail

    def send(self, email: SurveyEmail) -> str:
        from python_http_client.exceptions import HTTPError

        mail = self._mail(email)
        delay = self.backoff_seconds
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.client.send(mail)
                return str(response.headers.get("X-Message-Id", ""))
            except HTTPError as exc:
                status = getattr(exc, "status_code", 0)
                if status != 429 and status < 500:
                    raise PermanentDeliveryFailure(f"SendGrid refused survey {email.survey_id}: {status} "
                                                   f"{getattr(exc, 'body', b'')!r}") from exc
                reason = f"SendGrid answered {status}"
            except OSError as exc:
                reason = f"SendGrid unreachable: {exc}"
            if attempt == self.attempts:
                raise PermanentDeliveryFailure(f"{reason}; gave up after {attempt} attempts")
            log.warning("%s for survey %s, retrying in %.1fs", reason, email.survey_id, delay)
            time.sleep(delay)  # runs in a worker thread, never on the event loop
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")
