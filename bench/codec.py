"""Codec and domain-rule throughput: how much CPU one event costs before any I/O.

Measures, single-threaded on pre-built records:
- `cxloop.codec.Codec.encode` / `.decode` for `interaction-completed` (what upstream sends, what triggers reads)
  and `survey-scored` (the widest fact the responses agent writes), records built with `cxloop.model` dataclasses;
- fastavro's type/range validation, which the codec runs before writing: the quiet check (`raise_errors=False`,
  what `encode` runs) and the explaining one (`raise_errors=True`, run only to word a failure; it builds an error
  message for every union branch a value does not match, i.e. every non-null optional field);
- the domain path per interaction: `TriggerRules.decide` (`cxloop.decisions`, fresh customer state) then
  `cxloop.surveys.score` of an answer to the invitation, with `bench/programs.yaml` (every interaction invited), and
  `decide` alone with the shipped programs (sampling, caps, quiet hours: the outcome mix is recorded);
- the triggers agent's per-event CPU without Kafka: decode + `Interaction.from_record` + customer state from/to
  JSON + `decide` + encode of the decision and the invitation. Its inverse bounds one worker's triggers throughput.

Why: the worker runs each agent with concurrency 1 in one Python process, so these per-record costs bound what a
single worker can do whatever the broker does. Run: `.venv/bin/python -m bench.codec [--count N] [--repeats R]`.
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

from fastavro.validation import validate

from bench.common import BENCH_PROGRAMS, interactions, print_table, time_per_item, write_result
from cxloop.codec import Codec
from cxloop.contact_policy import CustomerState
from cxloop.decisions import TriggerRules
from cxloop.model import Interaction, Invitation, ScoredResponse, SurveyResponse
from cxloop.programs import DEFAULT_PROGRAMS, load_programs
from cxloop.scoring import SCALES
from cxloop.surveys import score


def build(
    rules: TriggerRules, count: int, now: datetime
) -> tuple[list[Interaction], list[SurveyResponse], list[ScoredResponse]]:
    """Interactions, one answer per interaction (spread over each metric's scale) and the scored records."""
    calls = interactions(count, ended_at=now - timedelta(minutes=5))
    responses, scored = [], []
    for i, call in enumerate(calls):
        invitation = rules.decide(call, CustomerState(), now).invitation
        assert invitation is not None, "bench programs invite every interaction that has an email"
        scale = SCALES[invitation.metric]  # type: ignore[index]
        answer = SurveyResponse(invitation.survey_id, scale.low + i % (scale.high - scale.low + 1), "email_click",
                                now + timedelta(hours=1), comment="bench comment" if i % 3 == 0 else None)
        responses.append(answer)
        scored.append(score(answer, invitation, now + timedelta(hours=1)))
    return calls, responses, scored


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.codec", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="records per timed run (default 20000)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per case, interleaved (default 7)")
    args = parser.parse_args()

    now = datetime.now(timezone.utc).replace(microsecond=0)
    later = now + timedelta(hours=1)
    rules, shipped = TriggerRules(load_programs(BENCH_PROGRAMS)), TriggerRules(load_programs(DEFAULT_PROGRAMS))
    calls, responses, scored = build(rules, args.count, now)
    codec = Codec()
    records: dict[str, list[dict[str, Any]]] = {
        "interaction-completed": [c.to_record() for c in calls],
        "survey-scored": [s.to_record() for s in scored],
    }
    encoded = {contract: [codec.encode(contract, r) for r in rs] for contract, rs in records.items()}
    for contract, payloads in encoded.items():  # warm caches and check round trip once
        assert codec.decode(contract, payloads[0])["survey_id" if contract == "survey-scored" else "interaction_id"]

    def encode_all(contract: str) -> int:
        for record in records[contract]:
            codec.encode(contract, record)
        return len(records[contract])

    def decode_all(contract: str) -> int:
        for payload in encoded[contract]:
            codec.decode(contract, payload)
        return len(encoded[contract])

    def validate_all(contract: str, raise_errors: bool) -> int:
        schema = codec.schema(contract)
        for record in records[contract]:
            validate(record, schema, raise_errors=raise_errors)
        return len(records[contract])

    def decide_and_score() -> int:
        for call, answer in zip(calls, responses, strict=True):
            invitation = rules.decide(call, CustomerState(), now).invitation
            assert invitation is not None
            score(answer, invitation, later)
        return len(calls)

    def decide_shipped() -> int:
        for call in calls:
            shipped.decide(call, CustomerState(), now)
        return len(calls)

    def triggers_event() -> int:
        states: dict[str, bytes] = {}  # customer id -> state JSON, as in the agent's `customers` table
        for payload in encoded["interaction-completed"]:
            call = Interaction.from_record(codec.decode("interaction-completed", payload))
            state = CustomerState.from_json(states.get(call.customer_id))
            verdict = rules.decide(call, state, now)
            codec.encode(verdict.decision.contract, verdict.decision.to_record())
            if verdict.invitation is not None:
                codec.encode(Invitation.contract, verdict.invitation.to_record())
            states[call.customer_id] = state.to_json()
        return len(calls)

    cases: dict[str, Callable[[], int]] = {}
    for contract in records:
        cases[f"encode {contract}"] = partial(encode_all, contract)
        cases[f"  validate, quiet (raise_errors=False) {contract}"] = partial(validate_all, contract, False)
        cases[f"  validate, explaining (raise_errors=True) {contract}"] = partial(validate_all, contract, True)
        cases[f"decode {contract}"] = partial(decode_all, contract)
    cases["domain decide + score (bench programs)"] = decide_and_score
    cases["domain decide (shipped programs)"] = decide_shipped
    cases["triggers event (decode+state+decide+2 encodes)"] = triggers_event
    results: dict[str, dict[str, Any]] = time_per_item(cases, args.repeats)
    for contract in records:
        size = round(statistics.fmean(len(p) for p in encoded[contract]), 1)
        results[f"encode {contract}"]["avg_bytes"] = results[f"decode {contract}"]["avg_bytes"] = size
    outcomes = Counter(shipped.decide(c, CustomerState(), now).decision.outcome for c in calls)
    results["domain decide (shipped programs)"]["outcomes"] = dict(outcomes)

    path = write_result("codec", {"count": args.count, "repeats": args.repeats}, results)
    print(f"codec and domain throughput, {args.count} records x {args.repeats} runs (best / median of runs)")
    print_table(
        ["case", "records/s best", "records/s median", "µs/record best", "µs/record median"],
        [[name, r["items_per_s_best"], r["items_per_s_median"], r["us_per_item_best"], r["us_per_item_median"]]
         for name, r in results.items()],
    )
    print(f"shipped programs, outcomes at {now:%H:%M} UTC: {dict(outcomes)}")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
