"""Text answers: an SMS or WhatsApp reply is read for a score only where a person would be sure of it, the rest of the
message is the comment, an opt-out keyword alone is an opt-out; IVR keys are the score or an invalid event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cxloop.model import InvalidEvent, SurveyResponse
from cxloop.replies import KeypressError, Reply, normalize, parse_keypress, parse_reply, read_reply
from cxloop.scoring import Metric
from tests.unit.sample_records import DECIDED_AT

# (reply text, metric, score, comment): a score of None means the customer is asked again and the words are kept.
REPLIES: list[Any] = [
    # Plain digits, alone or with a comment.
    pytest.param("9", "nps", 9, None, id="nps digit"),
    pytest.param("0", "nps", 0, None, id="nps zero is the bottom of the scale"),
    pytest.param("10", "nps", 10, None, id="nps ten"),
    pytest.param("9 great service", "nps", 9, "great service", id="digit then comment"),
    pytest.param("9, great service", "nps", 9, "great service", id="digit comma comment"),
    pytest.param("9,great", "nps", 9, "great", id="digit comma no space"),
    pytest.param("7 - easy", "ces", 7, "easy", id="ces digit dash comment"),
    pytest.param("9.", "nps", 9, None, id="digit full stop"),
    pytest.param("10, thanks!", "nps", 10, "thanks!", id="ten comma thanks"),
    pytest.param("a 10, thanks", "nps", 10, "thanks", id="article before the digit"),
    pytest.param("1", "csat", 1, None, id="csat bottom"),
    pytest.param("5", "csat", 5, None, id="csat top"),
    pytest.param("1", "ces", 1, None, id="ces bottom"),
    pytest.param("7", "ces", 7, None, id="ces top"),
    # Number words, English and Spanish.
    pytest.param("nine", "nps", 9, None, id="english word"),
    pytest.param("Nine!", "nps", 9, None, id="capitalised word with exclamation"),
    pytest.param("ten", "nps", 10, None, id="ten as a word"),
    pytest.param("zero", "nps", 0, None, id="zero as a word"),
    pytest.param("eight.", "nps", 8, None, id="word full stop"),
    pytest.param("nine - quick", "nps", 9, "quick", id="word dash comment"),
    pytest.param("nine out of ten", "nps", 9, None, id="words out of ten"),
    pytest.param("ten out of ten", "nps", 10, None, id="ten out of ten words"),
    pytest.param("nueve, muy amable", "nps", 9, "muy amable", id="spanish word with comment"),
    pytest.param("diez", "nps", 10, None, id="spanish ten"),
    pytest.param("Diez!", "nps", 10, None, id="spanish ten exclaimed"),
    pytest.param("NUEVE", "nps", 9, None, id="spanish word upper case"),
    pytest.param("cero", "nps", 0, None, id="spanish zero"),
    pytest.param("ocho, gracias", "nps", 8, "gracias", id="spanish word then thanks"),
    pytest.param("nueve de diez", "nps", 9, None, id="spanish words de diez"),
    pytest.param("one", "csat", 1, None, id="csat word one"),
    pytest.param("Two", "csat", 2, None, id="csat word two"),
    pytest.param("uno", "csat", 1, None, id="csat spanish uno"),
    pytest.param("dos", "csat", 2, None, id="csat spanish dos"),
    pytest.param("siete", "ces", 7, None, id="ces spanish siete"),
    pytest.param("nine", "csat", None, "nine", id="csat word above the scale"),
    pytest.param("diez", "ces", None, "diez", id="ces spanish word above the scale"),
    pytest.param("zero", "csat", None, "zero", id="csat word below the scale"),
    # "one" as a number word in a phrase is not a score.
    pytest.param("one of the best", "nps", None, "one of the best", id="one of the best is not a score"),
    pytest.param("one of the best", "csat", None, "one of the best", id="one of the best on csat"),
    pytest.param("ten minutes on hold", "nps", None, "ten minutes on hold", id="word quantity"),
    # Fractions: the denominator must be the scale's top.
    pytest.param("10/10 loved it", "nps", 10, "loved it", id="ten over ten with comment"),
    pytest.param("8 out of 10", "nps", 8, None, id="out of ten"),
    pytest.param("9 / 10", "nps", 9, None, id="spaced fraction"),
    pytest.param("0/10", "nps", 0, None, id="zero over ten"),
    pytest.param("9/10!!!", "nps", 9, None, id="fraction with exclamations"),
    pytest.param("9 de 10", "nps", 9, None, id="spanish de"),
    pytest.param("8 sobre 10", "nps", 8, None, id="spanish sobre"),
    pytest.param("4/5 pretty good", "csat", 4, "pretty good", id="four fifths on csat"),
    pytest.param("4/5 pretty good", "nps", None, "4/5 pretty good", id="four fifths on nps is no score"),
    pytest.param("4 out of 5", "csat", 4, None, id="out of five on csat"),
    pytest.param("4 out of 5", "nps", None, "4 out of 5", id="out of five on nps"),
    pytest.param("5/5", "csat", 5, None, id="five fifths on csat"),
    pytest.param("5/5", "ces", None, "5/5", id="five fifths on ces"),
    pytest.param("10/10 loved it", "csat", None, "10/10 loved it", id="ten over ten on csat"),
    pytest.param("8 out of 10", "csat", None, "8 out of 10", id="out of ten on csat"),
    pytest.param("10/10", "ces", None, "10/10", id="ten over ten on ces"),
    pytest.param("3/4", "nps", None, "3/4", id="fraction of another scale"),
    pytest.param("8/10 but 2 hours on hold", "nps", 8, "but 2 hours on hold", id="fraction then quantity"),
    # A score at the end, when it is the message's only number.
    pytest.param("great service, 8", "nps", 8, "great service", id="trailing score"),
    pytest.param("great service 9/10", "nps", 9, "great service", id="trailing fraction"),
    pytest.param("great 10/10", "nps", 10, "great", id="trailing ten over ten"),
    pytest.param("great, 5 stars", "csat", 5, "great", id="trailing stars on csat"),
    pytest.param("great service, 8", "csat", None, "great service, 8", id="trailing score above csat"),
    pytest.param("2 hours on hold, 9", "nps", None, "2 hours on hold, 9", id="trailing score after another number"),
    pytest.param("Tried 3 times, 2", "nps", None, "Tried 3 times, 2", id="two numbers"),
    # Give / rate phrasing.
    pytest.param("I'd give you a 7", "nps", 7, "I'd give you", id="give you a seven"),
    pytest.param("I'd give you a 7", "ces", 7, "I'd give you", id="give you a seven on ces"),
    pytest.param("rated it 4", "csat", 4, "rated it", id="rated it four"),
    pytest.param("le doy un 8", "nps", 8, "le doy", id="spanish le doy un"),
    pytest.param("le doy un 8", "csat", None, "le doy un 8", id="spanish le doy un above csat"),
    pytest.param("between 7 and 8", "nps", None, "between 7 and 8", id="between two numbers"),
    # Units that name a score.
    pytest.param("5 stars", "csat", 5, None, id="stars"),
    pytest.param("5 estrellas", "csat", 5, None, id="estrellas"),
    pytest.param("10 stars", "csat", None, "10 stars", id="stars above the scale"),
    # Out of range.
    pytest.param("11", "nps", None, "11", id="eleven on nps"),
    pytest.param("12", "nps", None, "12", id="twelve on nps"),
    pytest.param("100", "nps", None, "100", id="hundred"),
    pytest.param("0", "csat", None, "0", id="zero on csat"),
    pytest.param("6", "csat", None, "6", id="six on csat"),
    pytest.param("0", "ces", None, "0", id="zero on ces"),
    pytest.param("8", "ces", None, "8", id="eight on ces"),
    pytest.param("9 great service", "csat", None, "9 great service", id="nine with comment on csat"),
    # Decimals and times are not scores.
    pytest.param("9.5", "nps", None, "9.5", id="decimal point"),
    pytest.param("9,5", "nps", None, "9,5", id="decimal comma"),
    pytest.param("10:30", "nps", None, "10:30", id="time of day"),
    pytest.param("1st time caller, great", "nps", None, "1st time caller, great", id="ordinal"),
    pytest.param("2nd call", "nps", None, "2nd call", id="ordinal alone"),
    # Quantities are not scores.
    pytest.param("2 hours on hold", "nps", None, "2 hours on hold", id="hours on hold"),
    pytest.param("3 calls and still broken", "nps", None, "3 calls and still broken", id="calls"),
    pytest.param("3 calls and still broken", "csat", None, "3 calls and still broken", id="calls on csat"),
    pytest.param("5 days", "nps", None, "5 days", id="days"),
    pytest.param("2 weeks", "ces", None, "2 weeks", id="weeks"),
    pytest.param("call took 45 minutes", "nps", None, "call took 45 minutes", id="minutes"),
    pytest.param("5 minutes on hold", "nps", None, "5 minutes on hold", id="minutes at the start"),
    pytest.param("10 mins wait", "nps", None, "10 mins wait", id="mins at the start"),
    pytest.param("3 transfers, then cut off", "ces", None, "3 transfers, then cut off", id="transfers"),
    pytest.param("2 horas esperando", "nps", None, "2 horas esperando", id="spanish hours"),
    pytest.param("wait 20 min, 6", "nps", None, "wait 20 min, 6", id="minutes then score"),
    pytest.param("tres veces", "nps", None, "tres veces", id="spanish times"),
    # Keycap emoji and full-width digits.
    pytest.param("9\ufe0f\u20e3", "nps", 9, None, id="keycap nine"),
    pytest.param("\U0001f51f", "nps", 10, None, id="keycap ten"),
    pytest.param("4\ufe0f\u20e3 ok", "csat", 4, "ok", id="keycap four with comment"),
    pytest.param("\U0001f51f", "csat", None, "10", id="keycap ten on csat"),
    pytest.param("\uff19", "nps", 9, None, id="full-width nine"),
    pytest.param("\uff11\uff10 great", "nps", 10, "great", id="full-width ten with comment"),
    pytest.param("\uff13", "ces", 3, None, id="full-width three on ces"),
    # Whitespace and newlines.
    pytest.param("  9 \n\n great   service  ", "nps", 9, "great service", id="extra whitespace and newlines"),
    pytest.param("\n9\n", "nps", 9, None, id="newlines around"),
    pytest.param("great service,\n8", "nps", 8, "great service", id="score on the next line"),
    pytest.param("", "nps", None, None, id="empty"),
    pytest.param("   \n ", "nps", None, None, id="blank"),
    pytest.param("thanks!", "nps", None, "thanks!", id="words only"),
    # Sentences that contain an opt-out word are not opt-out keyword replies.
    pytest.param("cancel my subscription", "csat", None, "cancel my subscription", id="cancel in a sentence"),
]


@pytest.mark.parametrize("text, metric, score, comment", REPLIES)
def test_reply_text_is_read_for_a_sure_score_and_a_comment(
    text: str, metric: Metric, score: int | None, comment: str | None
) -> None:
    assert parse_reply(text, metric) == Reply(score, comment, opt_out=False)


@pytest.mark.parametrize("text, metric", [
    ("8 or 9", "nps"), ("9 or 10", "nps"), ("7-8", "nps"), ("7 to 8", "ces"), ("10 and 9", "nps"), ("9 a 10", "nps"),
    ("give 9 and 10", "nps"), ("not a 10", "nps"), ("no 10", "nps"), ("I'd give you a 4 out of 10", "csat"),
    ("rated 4/10", "csat"), ("I'd give it 6 out of 10", "ces"), ("3 stars out of 5", "nps"),
    ("5-star service", "nps"), ("5 stars", "nps"), ("10/10/2024", "nps"), ("-3", "nps"), ("- 3", "csat"),
    ("nueve y medio", "nps"),
])
def test_ranges_choices_negations_dates_stars_and_minus_signs_are_no_sure_score(text: str, metric: Metric) -> None:
    reply = parse_reply(text, metric)
    assert reply.score is None and not reply.opt_out, reply


@pytest.mark.parametrize("text", ["opt-out", "STOP STOP", "stop please", "Unsubscribe now", "revoke", "baja por favor"])
def test_an_opt_out_keyword_with_courtesy_words_is_an_opt_out(text: str) -> None:
    assert parse_reply(text, "nps").opt_out


def test_a_sentence_asking_us_to_stop_is_not_the_keyword_but_is_never_asked_again() -> None:
    text = "please stop calling me about this"
    reply = parse_reply(text, "nps")
    assert (reply.score, reply.opt_out, reply.mentions_stop, reply.comment) == (None, False, True, text)
    response = SurveyResponse("sv_1", None, "sms_reply", DECIDED_AT, reply_text=text)
    outcome = read_reply(response, "nps")
    assert (outcome.answer, outcome.ask_again, outcome.pending_comment) == (None, False, text)


OPT_OUTS = ["STOP", "Stop.", "stop", "STOP!", " stop \n", "unsubscribe", "Unsubscribe!", "UNSUBSCRIBE", "STOPALL",
            "cancel", "quit", "End.", "Opt out", "PARAR", "Parar.", "baja", "BAJA", "alto", "cancelar"]


@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
@pytest.mark.parametrize("text", OPT_OUTS)
def test_a_reply_that_is_only_an_opt_out_keyword_is_an_opt_out(text: str, metric: Metric) -> None:
    assert parse_reply(text, metric) == Reply(None, None, opt_out=True)


@pytest.mark.parametrize("text", ["please stop calling me about this", "stop calling me", "STOPPED working again",
                                  "cancel my subscription", "the end", "no quiero parar"])
def test_an_opt_out_word_inside_a_sentence_is_not_an_opt_out(text: str) -> None:
    reply = parse_reply(text, "nps")
    assert not reply.opt_out
    assert (reply.score, reply.comment) == (None, text)


@pytest.mark.parametrize(
    "text, normal",
    [
        ("\uff19", "9"), ("\uff11\uff10", "10"), ("9\ufe0f\u20e3", "9"), ("1\ufe0f\u20e30\ufe0f\u20e3", "10"),
        ("\U0001f51f", "10"), ("  a \n\t b  \r\n c ", "a b c"), ("", ""),
    ],
    ids=["full-width nine", "full-width ten", "keycap nine", "two keycaps", "keycap ten", "whitespace", "empty"],
)
def test_normalize_makes_plain_digits_and_one_line(text: str, normal: str) -> None:
    assert normalize(text) == normal


@pytest.mark.parametrize(
    "keys, metric, score",
    [
        ("7", "nps", 7), ("0", "nps", 0), ("10", "nps", 10), ("10#", "nps", 10), ("10 #", "nps", 10),
        (" 3 ", "csat", 3), ("5#", "csat", 5), ("1", "ces", 1), ("7#", "ces", 7), ("07", "nps", 7),
    ],
)
def test_ivr_keys_are_the_score(keys: str, metric: Metric, score: int) -> None:
    assert parse_keypress(keys, metric) == score


@pytest.mark.parametrize(
    "keys, metric",
    [
        ("*", "nps"), ("#", "nps"), ("", "nps"), ("   ", "csat"), ("12", "csat"), ("12", "nps"), ("11#", "nps"),
        ("0", "csat"), ("6", "csat"), ("8", "ces"), ("7##", "nps"), ("1 0", "nps"), ("*9", "nps"), ("-1", "nps"),
        ("nine", "nps"),
    ],
)
def test_ivr_keys_that_are_not_a_score_on_the_scale_are_refused(keys: str, metric: Metric) -> None:
    with pytest.raises(KeypressError, match=rf"IVR keypress .* is not a {metric} score"):
        parse_keypress(keys, metric)


def test_the_keypress_error_names_the_keys_and_the_scale() -> None:
    with pytest.raises(KeypressError) as raised:
        parse_keypress("12", "csat")
    assert str(raised.value) == "IVR keypress '12' is not a csat score 1-5"
    assert isinstance(raised.value, ValueError)


def reply(text: str, source: str = "sms_reply") -> SurveyResponse:
    return SurveyResponse(survey_id="sv_0123456789abcdef01234567", score=None, source=source,
                          responded_at=DECIDED_AT + timedelta(hours=1), reply_text=text)


def test_a_reply_with_a_score_becomes_a_scored_answer_keeping_everything_else() -> None:
    response = reply("9 great service")
    outcome = read_reply(response, "nps")
    assert (outcome.opt_out, outcome.ask_again, outcome.pending_comment) == (False, False, None)
    assert outcome.answer == SurveyResponse(
        survey_id=response.survey_id, score=9, source="sms_reply", responded_at=response.responded_at,
        comment="great service", reply_text="9 great service",
    )


def test_a_whatsapp_reply_is_read_the_same_way() -> None:
    outcome = read_reply(reply("nueve, muy amable", source="whatsapp_reply"), "nps")
    assert outcome.answer is not None
    assert (outcome.answer.score, outcome.answer.comment, outcome.answer.source) == (9, "muy amable",
                                                                                      "whatsapp_reply")


@pytest.mark.parametrize(
    "text, comment",
    [
        ("2 hours on hold", "2 hours on hold"),
        ("3 calls and still broken", "3 calls and still broken"),
        ("  9 \n", "9"),
        ("10/10 next time maybe", "10/10 next time maybe"),
        ("the agent, Ava,\nwas kind", "the agent, Ava, was kind"),
    ],
    ids=["quantity", "calls", "a digit", "a fraction", "multi-line"],
)
def test_after_an_earlier_score_the_whole_reply_is_the_comment(text: str, comment: str) -> None:
    outcome = read_reply(reply(text), "nps", earlier_score=3)
    assert outcome.answer is not None and not outcome.ask_again and not outcome.opt_out
    assert (outcome.answer.score, outcome.answer.comment) == (3, comment)


def test_a_reply_with_no_score_asks_again_and_keeps_the_words() -> None:
    outcome = read_reply(reply("the agent was rude"), "nps")
    assert outcome.answer is None and not outcome.opt_out
    assert (outcome.ask_again, outcome.pending_comment) == (True, "the agent was rude")


def test_an_out_of_range_reply_asks_again() -> None:
    outcome = read_reply(reply("9"), "csat")
    assert (outcome.answer, outcome.ask_again, outcome.pending_comment) == (None, True, "9")


def test_an_empty_reply_asks_again_with_nothing_pending() -> None:
    outcome = read_reply(reply("   "), "nps")
    assert (outcome.answer, outcome.ask_again, outcome.pending_comment) == (None, True, None)


@pytest.mark.parametrize(
    "pending, text, score, comment",
    [
        ("the agent was rude", "3 still angry", 3, "the agent was rude still angry"),
        ("the agent was rude", "3", 3, "the agent was rude"),
        ("the agent was rude", "great service, 8", 8, "the agent was rude great service"),
        (None, "3 still angry", 3, "still angry"),
        (None, "3", 3, None),
    ],
    ids=["both", "score alone", "trailing score", "nothing pending", "no words at all"],
)
def test_a_later_score_merges_the_pending_comment(pending: str | None, text: str, score: int,
                                                  comment: str | None) -> None:
    outcome = read_reply(reply(text), "nps", pending_comment=pending)
    assert outcome.answer is not None and not outcome.ask_again
    assert (outcome.answer.score, outcome.answer.comment) == (score, comment)


def test_asking_again_then_answering_carries_the_first_words_into_the_answer() -> None:
    first = read_reply(reply("waited forever"), "csat")
    assert first.ask_again
    second = read_reply(reply("2"), "csat", pending_comment=first.pending_comment)
    assert second.answer is not None
    assert (second.answer.score, second.answer.comment) == (2, "waited forever")


@pytest.mark.parametrize("text", ["STOP", "unsubscribe", "PARAR", "Stop."])
@pytest.mark.parametrize("earlier_score", [None, 9])
def test_an_opt_out_keyword_is_an_opt_out_even_after_a_score(text: str, earlier_score: int | None) -> None:
    outcome = read_reply(reply(text), "nps", earlier_score=earlier_score, pending_comment="kept words")
    assert (outcome.opt_out, outcome.answer, outcome.ask_again, outcome.pending_comment) == (True, None, False, None)


@pytest.mark.parametrize("keys, score", [("9#", 9), (" 0 ", 0), ("10", 10)])
def test_an_ivr_keypress_becomes_the_score(keys: str, score: int) -> None:
    response = reply(keys, source="ivr_keypress")
    outcome = read_reply(response, "nps")
    assert outcome.answer is not None and not outcome.ask_again and not outcome.opt_out
    assert (outcome.answer.score, outcome.answer.source, outcome.answer.reply_text) == (score, "ivr_keypress", keys)
    assert outcome.answer.survey_id == response.survey_id


@pytest.mark.parametrize("keys", ["*", "12", "", "STOP", "9 great"])
def test_an_invalid_ivr_keypress_is_an_invalid_event(keys: str) -> None:
    with pytest.raises(InvalidEvent, match=r"^survey-response: IVR keypress") as raised:
        read_reply(reply(keys, source="ivr_keypress"), "csat")
    assert isinstance(raised.value.__cause__, KeypressError)


def test_an_ivr_keypress_is_not_read_as_text_even_after_a_score() -> None:
    outcome = read_reply(reply("4#", source="ivr_keypress"), "csat", earlier_score=1)
    assert outcome.answer is not None and outcome.answer.score == 4
