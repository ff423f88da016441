"""Answers that arrive as text: SMS and WhatsApp replies, IVR keypresses.

An SMS reply is whatever the customer typed: "9", "9 great service", "nine", "10/10 loved it", "great service, 8",
"I'd give you a 7". `parse_reply` finds the score only where a person reading the message would be sure of it and
keeps the rest as the comment; anything else is no score (the customer is asked once more), never a guess. A message
that is only an opt-out keyword (STOP, UNSUBSCRIBE, PARAR, ...) is an opt-out, as carriers require.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass

from cxloop.model import InvalidEvent, SurveyResponse
from cxloop.scoring import SCALES, Metric

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10,
    "cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
    "nueve": 9, "diez": 10,
}
OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "unsub", "cancel", "end", "quit", "optout", "revoke",
                           "parar", "baja", "alto", "cancelar"})
_COURTESY = frozenset({"please", "pls", "now", "thanks", "thank", "you", "por", "favor", "ya", "gracias"})
_WORD = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_ARTICLE = r"(?:(?:an?|un|una)\s+)?"
_OUT_OF = r"(?:\s*(?:/|out\s+of|of|de|sobre)\s*(?P<of>\d{1,2}|ten|five|seven|diez|cinco|siete))"
_OUT_OF_AHEAD = r"\s*(?:/|out\s+of|de|sobre)\s*\w"
# "2 hours on hold" is a quantity, not a score.
_QUANTITY = (r"(?!\s*(?:h|hrs?|hours?|mins?|minutes?|secs?|seconds?|days?|weeks?|months?|times?|calls?|transfers?|"
             r"people|agents?|horas?|minutos?|segundos?|d[ií]as?|semanas?|meses|veces|llamadas?)\b)")
_UNIT = r"(?:\s*(?:stars?|points?|estrellas?|puntos?)\b)?"
# A number at the start: digits (not part of a decimal, a time or a word like "1st"), or a number word that stands on
# its own ("nine", "nine - quick", "nine out of ten"; not "one of the best").
_LEAD = re.compile(
    rf"^{_ARTICLE}(?:(?P<digits>\d{{1,2}})(?![\d.,:]\d|\w){_QUANTITY}|(?P<word>{_WORD})(?=\s*(?:[^\w\s]|$)|{_OUT_OF_AHEAD}))"
    rf"{_OUT_OF}?{_UNIT}(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
# A number at the very end, when it is the message's only number: "great service, 9" or "great service 9/10".
_TRAIL = re.compile(rf"^(?P<rest>.*?)[\s,;:.!-]+{_ARTICLE}(?P<digits>\d{{1,2}}){_OUT_OF}?{_UNIT}[\s.!]*$",
                    re.IGNORECASE | re.DOTALL)
# "8/10" or "8 out of 10" anywhere, when the denominator is the scale's top.
_FRACTION = re.compile(r"(?<![\d.])(?P<digits>\d{1,2})\s*(?:/|out\s+of|de|sobre)\s*(?P<of>\d{1,2})(?![\d.])",
                       re.IGNORECASE)
# "I'd give you a 9", "rated it 4", "le doy un 8" (and "a 4 out of 10": the "out of" must be the scale's top).
_GIVE = re.compile(
    rf"\b(?:give|gave|giving|rate|rated|rating|score|scored|doy|daría|daria|pongo|califico)\b\D{{0,16}}?"
    rf"\b{_ARTICLE}(?P<digits>\d{{1,2}})(?![\d.,:]\d|\w){_OUT_OF}?",
    re.IGNORECASE,
)
# What makes a number in a reply not a sure score: a negation before it ("not a 10"), a range or a choice ("7-8",
# "8 or 9"), a date ("10/10/2024"), a minus sign ("-3").
_DOUBT = re.compile(
    r"\b(?:not|no|never|nunca|ni)\s+(?:(?:an?|un|una)\s+)?\d"
    r"|\d\s*(?:[-\u2013\u2014~]|\bor\b|\bto\b|\band\b|\bo\b|\by\b|\ba\b)\s*\d"
    r"|\d{1,2}/\d{1,2}/\d{2,4}"
    r"|^[-\u2212]\s*\d",
    re.IGNORECASE,
)
_STARS = re.compile(r"\d\s*-?\s*(?:stars?|estrellas?)\b", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_SEPARATORS = " \t\r\n,;:.!?-\u2013\u2014()[]\"'"


@dataclass(frozen=True)
class Reply:
    score: int | None
    comment: str | None
    opt_out: bool = False
    mentions_stop: bool = False  # "please stop texting me": not the keyword, but no one should ask again


def normalize(text: str) -> str:
    """NFKC (full-width digits), keycap emoji digits ("9️⃣", "🔟") as plain digits, one line of single spaces."""
    text = unicodedata.normalize("NFKC", text).replace("\ufe0f", "").replace("\u20e3", "").replace("🔟", "10")
    return " ".join(text.split())


def _number(digits: str | None, word: str | None) -> int:
    return int(digits) if digits is not None else NUMBER_WORDS[(word or "").lower()]


def _denominator_fits(of: str | None, metric: Metric) -> bool:
    return of is None or _number(of if of.isdigit() else None, None if of.isdigit() else of) == SCALES[metric].high


def _comment(text: str) -> str | None:
    return text.lstrip(_SEPARATORS).rstrip() or None


def parse_reply(text: str, metric: Metric) -> Reply:
    """Score and comment of a free-text reply on `metric`'s scale; Reply(None, comment) when there is no sure score."""
    message = normalize(text)
    words = re.findall(r"[a-z]+", message.lower().replace("opt-out", "optout").replace("opt out", "optout"))
    if words and set(words) <= OPT_OUT_WORDS | _COURTESY and set(words) & OPT_OUT_WORDS:
        return Reply(None, None, opt_out=True)
    scale = SCALES[metric]
    if _DOUBT.search(message) or (_STARS.search(message) and scale.high != 5):
        return Reply(None, _comment(message), mentions_stop=_mentions_stop(words))
    candidates: list[tuple[int, str | None]] = []
    lead = _LEAD.match(message)
    if lead and _denominator_fits(lead["of"], metric):
        candidates.append((_number(lead["digits"], lead["word"]), _comment(lead["rest"])))
    trail = _TRAIL.match(message)
    if not candidates and trail and len(_DIGITS.findall(message)) == (2 if trail["of"] else 1) \
            and _denominator_fits(trail["of"], metric):
        candidates.append((int(trail["digits"]), _comment(trail["rest"])))
    if not candidates:
        fractions = [m for m in _FRACTION.finditer(message) if int(m["of"]) == scale.high]
        given = [m for m in _GIVE.finditer(message) if _denominator_fits(m["of"], metric)]
        found = {int(m["digits"]) for m in fractions + given}
        if len(found) == 1:
            candidates.append((found.pop(), _comment(message)))
    if candidates:
        score, comment = candidates[0]
        if scale.low <= score <= scale.high:
            return Reply(score, comment)
    return Reply(None, _comment(message), mentions_stop=_mentions_stop(words))


def _mentions_stop(words: list[str]) -> bool:
    return bool({"stop", "unsubscribe", "parar", "baja"} & set(words))


class KeypressError(ValueError):
    pass


def parse_keypress(keys: str, metric: Metric) -> int:
    """IVR DTMF: the digits keyed, with an optional '#' terminator ("7", "10#"); raises KeypressError otherwise."""
    digits = keys.strip().removesuffix("#").strip()
    scale = SCALES[metric]
    if not re.fullmatch(r"[0-9]{1,2}", digits) or not scale.low <= int(digits) <= scale.high:
        raise KeypressError(f"IVR keypress {keys!r} is not a {metric} score {scale.low}-{scale.high}")
    return int(digits)


@dataclass(frozen=True)
class ReplyOutcome:
    """What a text reply means for its survey: an answer to score, an opt-out, or no score yet (its words kept as
    `pending_comment`; asked again unless the customer asked us to stop)."""

    answer: SurveyResponse | None = None
    opt_out: bool = False
    ask_again: bool = False
    pending_comment: str | None = None  # words sent before any score, kept for the answer that brings it


def read_reply(response: SurveyResponse, metric: Metric, earlier_score: int | None = None,
               pending_comment: str | None = None) -> ReplyOutcome:
    """Turn a reply_text response into a scored one. After a score, the whole reply is the comment (the answer to
    the follow-up probe: "2 hours on hold" is then a comment, not a score)."""
    text = response.reply_text or ""
    if response.source == "ivr_keypress":
        try:
            return ReplyOutcome(dataclasses.replace(response, score=parse_keypress(text, metric)))
        except KeypressError as exc:
            raise InvalidEvent(f"survey-response: {exc}") from exc
    reply = parse_reply(text, metric)
    if reply.opt_out:
        return ReplyOutcome(opt_out=True)
    if earlier_score is not None:
        return ReplyOutcome(dataclasses.replace(response, score=earlier_score, comment=_comment(normalize(text))))
    if reply.score is None:
        return ReplyOutcome(ask_again=not reply.mentions_stop, pending_comment=reply.comment)
    comment = " ".join(c for c in (pending_comment, reply.comment) if c) or None
    return ReplyOutcome(dataclasses.replace(response, score=reply.score, comment=comment))
