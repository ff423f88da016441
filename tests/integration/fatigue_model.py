"""An independent statement of the survey-fatigue rules, written from the README, for checking the worker.

It shares no code with `cxloop.decisions` or `cxloop.contact_policy`: if the worker and this model agree on
20,000 decisions, both read the rules the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import yaml

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration(text: str) -> timedelta:
    return timedelta(seconds=float(text[:-1]) * _UNITS[text[-1]])


def survey_id(program: str, interaction: str) -> str:
    return "sv_" + hashlib.sha256(f"{program}\x00{interaction}".encode()).hexdigest()[:24]


def in_sample(program: str, interaction: str, rate: float) -> bool:
    digest = hashlib.sha256(f"sample\x00{program}\x00{interaction}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


@dataclass
class Customer:
    sent: list[tuple[str, datetime]] = field(default_factory=list)  # (program, triggered at)
    decided: set[str] = field(default_factory=set)
    complaint_open: bool = False
    opted_out: bool = False


class FatigueModel:
    def __init__(self, programs_yaml: str) -> None:
        config = yaml.safe_load(programs_yaml)
        self.caps = config["caps"]
        self.quiet = config.get("quiet_hours")
        self.exclusions = config["exclusions"]
        self.programs = sorted(config["programs"], key=lambda p: -p.get("priority", 0))
        self.customers: dict[str, Customer] = {}

    def program(self, i: dict) -> dict | None:
        for p in self.programs:
            m = p.get("match", {})
            if "triggers" in m and i["trigger"] not in m["triggers"]:
                continue
            if "handled_by" in m and i["handled_by"] != m["handled_by"]:
                continue
            return p
        return None

    def decide(self, i: dict, now: datetime) -> tuple[str, str | None] | None:
        """(outcome, survey id) for a new (interaction, trigger); None for an exact repeat (no new decision)."""
        c = self.customers.setdefault(i["customer_id"], Customer())
        key = f"{i['interaction_id']}|{i['trigger']}"
        if key in c.decided:
            return None
        seen_id = any(k.rsplit("|", 1)[0] == i["interaction_id"] for k in c.decided)
        c.decided.add(key)
        if i["contact_reason"] in self.exclusions["complaint_reasons"]:
            c.complaint_open = not i["resolved"]
        if seen_id:
            return "duplicate", None
        if c.opted_out:
            return "opted_out", None
        if i["customer_segment"] in self.exclusions["segments"]:
            return "excluded", None
        if self.exclusions["open_complaint"] and c.complaint_open:
            return "excluded", None
        p = self.program(i)
        if p is None:
            return "excluded", None
        if not i["customer_email"]:
            return "no_contact", None
        if not in_sample(p["id"], i["interaction_id"], p.get("sampling", {}).get("rate", 1.0)):
            return "sampled_out", None
        t = i["ended_at"]
        gap, window = duration(self.caps["any_survey_gap"]), duration(self.caps["window"])
        program_gap = duration(p.get("program_gap", "0s"))
        if any(abs(t - at) < gap for _, at in c.sent):
            return "frequency_capped", None
        if any(prog == p["id"] and abs(t - at) < program_gap for prog, at in c.sent):
            return "frequency_capped", None
        if sum(1 for _, at in c.sent if t - window < at <= t) >= self.caps["max_surveys"]:
            return "frequency_capped", None
        c.sent.append((p["id"], t))
        send_at = max(t + duration(p["timing"]["delay"]), now)
        local = send_at.astimezone(ZoneInfo(i["customer_timezone"])).time()
        start, end = (datetime.strptime(self.quiet[k], "%H:%M").time() for k in ("start", "end"))
        quiet = (start <= local < end) if start <= end else (local >= start or local < end)
        return ("quiet_hours_deferred" if quiet else "invited"), survey_id(p["id"], i["interaction_id"])
