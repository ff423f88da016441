"""The README's demo command: the whole loop with synthetic traffic, stopped by Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support import ROOT, wait_for

pytestmark = pytest.mark.integration


def test_demo_shows_invitations_answers_alerts_and_clickhouse_figures_then_stops_on_ctrl_c(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KAFKA_BOOTSTRAP": kafka_bootstrap,
        "CXLOOP_DATA_DIR": str(tmp_path), "CXLOOP_TOPIC_PREFIX": f"demo{run}.", "CXLOOP_APP_ID": f"demo{run}",
    }
    log = tmp_path / "demo.out"
    with open(log, "wb") as out:
        demo = subprocess.Popen([sys.executable, "-m", "cxloop", "demo", "--rate", "8"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            def output() -> str:
                assert demo.poll() is None, log.read_text()
                return log.read_text()

            wait_for(lambda: "ALERT" in output() and "NPS " in output() and "--- after" in output(), 120,
                     what="alerts and NPS figures in the demo output")
            demo.send_signal(signal.SIGINT)
            assert demo.wait(60) == 0, log.read_text()
        finally:
            if demo.poll() is None:
                demo.kill()
    text = log.read_text()
    assert "Stopped cleanly." in text
    final = text.split("Stopping ...")[1]
    assert "survey_scored=0" not in final and "detractor_alerts=0" not in final
    assert "-> case cs_" in text, "alerts name the follow-up case and its owner"
    # per team (cases of bot and web contacts go to a person outside the teams: "(none)")
    assert re.search(r"follow-up: [^\n]*\d+ cases, \d+ closed, SLA met \d+/\d+", final), \
        "follow-up figures per team from ClickHouse"
    replies = re.search(r"(\d+) SMS, WhatsApp, IVR and chat replies", text)
    assert replies and int(replies.group(1)) > 0, "the gateway customers answered survey messages"
    emails = list((tmp_path / "demo" / "outbox").glob("*.eml"))
    assert emails, "invitations were emailed to the outbox"
