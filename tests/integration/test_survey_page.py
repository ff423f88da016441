"""The survey page after the click: the follow-up probe for the score, a comment that merges into one response."""

from __future__ import annotations

import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

from cxloop.settings import Settings
from cxloop.surveys import survey_id
from cxloop.traffic import score_links
from sinks.clickhouse import ClickHouse
from tests.integration.test_whole_loop import a_call
from tests.support import TopicReader, consumed_everything, publish_record, wait_for


def post(url: str, form: dict[str, object]) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as reply:
        return reply.status, reply.read().decode()


def test_comment_after_the_click_merges_into_one_response_and_re_raises_the_alert(
    settings: Settings, worker, web, lander, clickhouse: ClickHouse
) -> None:
    call = a_call("call-2002")
    publish_record(settings, "interaction-completed", call.customer_id, call.to_record())
    sid = survey_id("call-nps", "call-2002")
    email = settings.outbox / f"{sid}.eml"
    wait_for(email.exists, 60, what="the survey email")
    _, links = score_links(email.read_bytes())

    with urllib.request.urlopen(links[4], timeout=30) as reply:
        page = reply.read().decode()
    assert "What disappointed you most?" in page, "a detractor is asked the detractor probe"
    assert '<label for="comment">' in page and 'name="score" value="4"' in page
    action = links[4].split("?")[0]
    status, thanks = post(action, {"score": 4, "comment": "On hold for <b>40</b> minutes"})
    assert status == 200 and "we have your comment" in thanks
    assert post(action, {"score": 4, "comment": "a second try"})[0] == 200  # resubmit: accepted, changes nothing

    scored = TopicReader(settings, "survey-scored")
    versions = scored.wait_for(lambda s: s["survey_id"] == sid, count=2)
    assert [v["comment"] for v in versions] == [None, "On hold for <b>40</b> minutes"]
    assert {v["score"] for v in versions} == {4}
    assert versions[1]["themes"] == ["wait_time"] and versions[1]["sentiment"] is not None, "the comment is coded"
    alerts = TopicReader(settings, "detractor-alert")
    alert = alerts.wait_for(lambda a: a["survey_id"] == sid, count=2)[-1]
    assert (alert["comment"], alert["themes"]) == ("On hold for <b>40</b> minutes", ["wait_time"])

    rows = wait_for(lambda: [r for r in clickhouse.query(
        f"SELECT score, comment, themes FROM {clickhouse.database}.survey_scored FINAL WHERE survey_id = '{sid}'")
        if r["comment"]], 60, what="the merged row in ClickHouse")
    assert rows == [{"score": 4, "comment": "On hold for <b>40</b> minutes", "themes": ["wait_time"]}], \
        "one response per survey, with its themes"
    # The resubmit was ignored: once the merged version is read, no third version follows it.
    responses = TopicReader(settings, "survey-response")
    responses.wait_for(lambda r: r["comment"] == "a second try")
    assert len([s for s in scored.poll() if s["survey_id"] == sid]) == 2
    for reader in (scored, alerts, responses):
        reader.close()


def test_expired_and_forged_comment_posts_publish_nothing(settings: Settings, web) -> None:
    from cxloop.app import signer_for
    from cxloop.tokens import SurveyToken

    signer = signer_for(settings)
    expired = signer.sign(SurveyToken("sv_old", "csat", datetime.now(timezone.utc) - timedelta(seconds=1)))
    for token, status in ((expired, 410), ("forged.token", 403)):
        try:
            post(f"{settings.public_url}/r/{token}", {"score": 3, "comment": "hello"})
            raise AssertionError("expected an error status")
        except urllib.error.HTTPError as err:
            assert err.code == status


def test_unsubscribe_from_the_email_suppresses_every_later_survey(settings: Settings, worker, web) -> None:
    first = a_call("call-3003")
    publish_record(settings, "interaction-completed", first.customer_id, first.to_record())
    email = settings.outbox / f"{survey_id('call-nps', 'call-3003')}.eml"
    wait_for(email.exists, 60, what="the survey email")
    headers = message_from_bytes(email.read_bytes(), policy=policy.default)
    link = str(headers["List-Unsubscribe"]).strip("<>")
    with urllib.request.urlopen(link, timeout=30) as reply:  # a link scanner's GET only shows the question
        assert "Stop receiving surveys?" in reply.read().decode()
    consent = TopicReader(settings, "customer-consent")
    assert consent.poll() == [], "a GET changes nothing"
    status, page = post(link, {"List-Unsubscribe": "One-Click"})  # RFC 8058, as a mail client sends it
    assert status == 200 and "You will not receive more surveys" in page
    change = consent.wait_for(lambda c: c["customer_id"] == first.customer_id, timeout=10)[0]
    assert (change["status"], change["reason"]) == ("opted_out", "unsubscribe")
    consent.close()

    wait_for(lambda: consumed_everything(settings, "customer-consent"), 60, what="the opt-out applied")
    later = a_call("call-3004")
    publish_record(settings, "interaction-completed", later.customer_id, later.to_record())
    decision = TopicReader(settings, "survey-decision").wait_for(lambda d: d["interaction_id"] == "call-3004")[0]
    assert decision["outcome"] == "opted_out"
