"""The survey pages the customer sees after clicking a score: the tailored follow-up probe, then thanks.

Plain, mobile-first HTML with labels and keyboard focus; neutral wording that never leads toward a high score.
Every customer-provided or configured text is HTML-escaped.
"""

from __future__ import annotations

import html

from cxloop.programs import Program
from cxloop.scoring import Metric, classify

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
    category = classify(metric, score)
    lang = language(locale)
    if program is not None and program.texts:
        texts = program.texts.get(lang) or program.texts["en"]
        if category in texts.follow_up:
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


def thanks_page(locale: str) -> str:
    words = WORDS[language(locale)]
    return page(words["thanks"], f"<p>{html.escape(words['received'])}</p><p>{html.escape(words['skip'])}</p>",
                language(locale))
