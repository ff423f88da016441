"""The survey pages the customer sees after clicking a score: the tailored follow-up probe, then thanks.

Plain, mobile-first HTML with labels and keyboard focus; neutral wording that never leads toward a high score.
Every customer-provided or configured text is HTML-escaped.
"""

from __future__ import annotations

import html

from cxloop.programs import Program
from cxloop.scoring import Category, Metric, classify

PROBES = {
    "en": {"detractor": "What disappointed you most?", "passive": "What would have made it better?",
           "promoter": "What did we do well?"},
    "es": {"detractor": "¿Qué fue lo que más le decepcionó?", "passive": "¿Qué habría hecho que fuera mejor?",
           "promoter": "¿Qué hicimos bien?"},
}
WORDS = {
    "en": {"thanks": "Thank you", "recorded": "Your answer has been recorded.", "comment": "Your comment (optional)",
           "send": "Send", "received": "Thank you, we have your comment.", "skip": "You can close this page."},
    "es": {"thanks": "Gracias", "recorded": "Hemos registrado su respuesta.", "comment": "Su comentario (opcional)",
           "send": "Enviar", "received": "Gracias, hemos recibido su comentario.",
           "skip": "Ya puede cerrar esta página."},
}
NOTICES = {
    # key -> language -> (title, message); {reason} and {max} are filled in.
    "closed": {"en": ("This survey has closed", "Thank you for your time; this survey is no longer open."),
               "es": ("Esta encuesta ha terminado", "Gracias por su tiempo; esta encuesta ya no está abierta.")},
    "invalid_link": {"en": ("Link not valid", "This survey link is not valid ({reason})."),
                     "es": ("Enlace no válido", "Este enlace de encuesta no es válido ({reason}).")},
    "invalid_score": {"en": ("Score not valid", "{reason}"), "es": ("Puntuación no válida", "{reason}")},
    "too_long": {"en": ("Comment too long", "Please keep the comment under {max} characters."),
                 "es": ("Comentario demasiado largo", "Escriba menos de {max} caracteres, por favor.")},
    "retry": {"en": ("One moment", "We could not save your answer yet; this page retries by itself."),
              "es": ("Un momento", "Aún no pudimos guardar su respuesta; esta página lo reintentará sola.")},
    "unsubscribe": {"en": ("Stop receiving surveys?", "Stop sending me surveys"),
                    "es": ("¿Dejar de recibir encuestas?", "No enviarme más encuestas")},
    "unsubscribed": {"en": ("You will not receive more surveys", "Your choice has been saved. Thank you."),
                     "es": ("No recibirá más encuestas", "Hemos guardado su elección. Gracias.")},
    "no_recipient": {"en": ("Link not valid", "This link does not name a recipient."),
                     "es": ("Enlace no válido", "Este enlace no indica un destinatario.")},
}
MAX_COMMENT = 2000
STYLE = (
    "body{font:18px/1.5 system-ui,sans-serif;max-width:34rem;margin:1.5rem auto;padding:0 1rem;color:#111;"
    "background:#fff}textarea{width:100%;min-height:8rem;font:inherit;border:2px solid #444;border-radius:6px;"
    "padding:.5rem;box-sizing:border-box}button{font:inherit;padding:.6rem 1.4rem;margin-top:.8rem;border:0;"
    "border-radius:6px;background:#0b4f9c;color:#fff}:focus-visible{outline:3px solid #e8a200;outline-offset:2px}"
)


def language(locale: str) -> str:
    lang = locale.split("-")[0].lower()
    return lang if lang in PROBES else "en"


def probe_for(metric: Metric, score: int, locale: str, program: Program | None = None) -> str:
    """The follow-up question for this score: the program's own text for the category, else the default."""
    return probe(classify(metric, score), locale, program)


def probe(category: Category, locale: str, program: Program | None = None) -> str:
    """The program's own probe for the category in the customer's language, else the built-in one."""
    lang = language(locale)
    texts = program.texts.get(lang) if program is not None else None
    if texts is not None and category in texts.follow_up:
        return texts.follow_up[category]
    return PROBES[lang][category]


def page(title: str, body: str, lang: str = "en", retry_seconds: int | None = None) -> str:
    refresh = f'<meta http-equiv="refresh" content="{retry_seconds}">' if retry_seconds else ""
    return (
        f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{refresh}'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )


def follow_up_page(action: str, score: int, probe: str, locale: str) -> str:
    lang = language(locale)
    words = WORDS[lang]
    form = (
        f"<p>{html.escape(words['recorded'])}</p>"
        f'<form method="post" action="{html.escape(action)}">'
        f'<input type="hidden" name="score" value="{score}">'
        f'<label for="comment">{html.escape(probe)}</label>'
        f'<p id="hint">{html.escape(words["comment"])}</p>'
        f'<textarea id="comment" name="comment" maxlength="{MAX_COMMENT}" aria-describedby="hint"></textarea>'
        f'<button type="submit">{html.escape(words["send"])}</button></form>'
    )
    return page(words["thanks"], form, lang)


def notice(key: str, locale: str, **fill: object) -> tuple[str, str, str]:
    """(language, title, message) of a notice page in the customer's language."""
    lang = language(locale)
    title, message = NOTICES[key][lang]
    return lang, title, message.format(**fill)


def normalize_comment(text: str) -> str:
    """Browsers send line breaks as CRLF but count them as one character against maxlength: count them as one."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def thanks_page(locale: str) -> str:
    words = WORDS[language(locale)]
    return page(words["thanks"], f"<p>{html.escape(words['received'])}</p><p>{html.escape(words['skip'])}</p>",
                language(locale))


def question_page(action: str, question: str, points: range, low_label: str, high_label: str, locale: str) -> str:
    """The question alone (the survey link in an SMS or chat): one button per score, each a plain link."""
    lang = language(locale)
    buttons = "".join(
        f'<a href="{html.escape(action)}?score={s}" style="display:inline-block;min-width:2.2rem;padding:.6rem .2rem;'
        f'margin:.15rem;border:2px solid #444;border-radius:6px;color:#111;text-align:center;text-decoration:none">'
        f"{s}</a>"
        for s in points
    )
    body = (
        f'<p id="q">{html.escape(question)}</p><nav aria-labelledby="q">{buttons}</nav>'
        f"<p>{points.start} = {html.escape(low_label)}, {points.stop - 1} = {html.escape(high_label)}</p>"
    )
    return page(question, body, lang)

