"""The survey email: the question with one-click score buttons, built by cxloop for every sender backend."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from urllib.parse import urlencode

from cxloop.model import Invitation
from cxloop.programs import Program
from cxloop.scoring import SCALES, Metric

QUESTIONS: dict[str, dict[str, tuple[str, str, str]]] = {
    # metric -> locale -> (question, low label, high label); neutral wording that does not lead to a high score.
    "nps": {
        "en": ("How likely are you to recommend {company} to a friend or colleague?",
               "Not at all likely", "Extremely likely"),
        "es": ("¿Qué probabilidad hay de que recomiende {company} a un amigo o colega?",
               "Nada probable", "Muy probable"),
    },
    "csat": {
        "en": ("How satisfied were you with the help you received from {company}?",
               "Very dissatisfied", "Very satisfied"),
        "es": ("¿Qué tan satisfecho quedó con la ayuda que recibió de {company}?",
               "Muy insatisfecho", "Muy satisfecho"),
    },
    "ces": {
        "en": ("{company} made it easy for me to handle my issue.", "Strongly disagree", "Strongly agree"),
        "es": ("{company} me facilitó resolver mi consulta.", "Totalmente en desacuerdo", "Totalmente de acuerdo"),
    },
}
SUBJECT = {"en": "A quick question about your recent contact with {company}",
           "es": "Una pregunta rápida sobre su contacto reciente con {company}"}
REMINDER = {"en": "Reminder: ", "es": "Recordatorio: "}
UNSUBSCRIBE = {"en": "Stop receiving surveys", "es": "No recibir más encuestas"}


@dataclass(frozen=True)
class SurveyEmail:
    survey_id: str
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)
    score_links: dict[int, str] = field(default_factory=dict)
    kind: str = "invitation"  # or "reminder"
    customer_id: str = ""

    @property
    def reference(self) -> str:
        """Unique per survey and kind: a replay of the same email has the same reference."""
        return self.survey_id if self.kind == "invitation" else f"{self.survey_id}.{self.kind}"


def _locale(table: dict[str, object], locale: str) -> str:
    lang = locale.split("-")[0].lower()
    return lang if lang in table else "en"


def question_texts(metric: Metric, locale: str, company: str, program: Program | None = None
                   ) -> tuple[str, str, str, str]:
    """(language, question, low label, high label) in the customer's language; the program's own question wins
    over the built-in one when the program has it in that language."""
    lang = _locale(QUESTIONS[metric], locale)  # type: ignore[arg-type]
    question, low_label, high_label = (s.format(company=company) for s in QUESTIONS[metric][lang])
    texts = program.texts.get(lang) if program is not None else None
    if texts is not None:
        question = texts.question.format(company=company)
    return lang, question, low_label, high_label


def build_survey_email(
    invitation: Invitation, token: str, public_url: str, company: str, program: Program | None = None,
    reminder: bool = False,
) -> SurveyEmail:
    """The email for an invitation; the program's own question text wins over the built-in one for its metric."""
    if not invitation.customer_email:
        raise ValueError(f"invitation {invitation.survey_id} has no email address")
    metric: Metric = invitation.metric  # type: ignore[assignment]
    lang, question, low_label, high_label = question_texts(metric, invitation.locale, company, program)
    base = public_url.rstrip("/")
    links = {s: f"{base}/r/{token}?{urlencode({'score': s})}" for s in SCALES[metric].points()}
    unsubscribe = f"{base}/unsubscribe/{token}"
    buttons = "".join(
        f'<td style="padding:2px"><a href="{html.escape(url)}" aria-label="{s}" '
        f'style="display:inline-block;min-width:28px;padding:10px 6px;border:1px solid #445;border-radius:4px;'
        f'color:#112;text-decoration:none;text-align:center;font:16px sans-serif">{s}</a></td>'
        for s, url in links.items()
    )
    body_html = (
        f'<!doctype html><html lang="{lang}"><body style="font:16px sans-serif;color:#112">'
        f"<p>{html.escape(question)}</p>"
        f'<table role="presentation"><tr>{buttons}</tr></table>'
        f'<p style="font-size:13px">{html.escape(low_label)} &larr; &rarr; {html.escape(high_label)}</p>'
        f'<p style="font-size:12px"><a href="{html.escape(unsubscribe)}">{UNSUBSCRIBE[lang]}</a></p>'
        "</body></html>"
    )
    body_text = "\n".join(
        [question, f"({low_label} = {min(links)}, {high_label} = {max(links)})", ""]
        + [f"{s}: {url}" for s, url in links.items()]
        + ["", f"{UNSUBSCRIBE[lang]}: {unsubscribe}"]
    )
    return SurveyEmail(
        survey_id=invitation.survey_id,
        to=invitation.customer_email,
        subject=(REMINDER[lang] if reminder else "") + SUBJECT[lang].format(company=company),
        kind="reminder" if reminder else "invitation",
        customer_id=invitation.customer_id,
        text=body_text,
        html=body_html,
        headers={
            "X-Cxloop-Survey-Id": invitation.survey_id,
            # RFC 8058 one-click unsubscribe: mail clients POST "List-Unsubscribe=One-Click" to this URL.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        score_links=links,
    )
