"""The answer path on a real broker: survey responses in, scored answers, alerts, cases and rolling aggregates out.

Starts a single-node Kafka (`cxloop.local_kafka.LocalKafka`, or uses `KAFKA_BOOTSTRAP`) once, then for each of
`--runs` runs: creates the topics under a fresh prefix, runs `python -m cxloop worker` as a child process (outbox
email backend, survey programs from `bench/programs.yaml`, the shipped directory: every detractor opens or joins a
case owned by `cx-lead`, who is told by email), and publishes the interactions of all its phases at once: `--warmup`,
`--count` (the burst) and, in the first `--paced-runs` runs, `rate` x `--duration` for each of `--rates` (each phase
with its own customers). It waits until every invitation email is in the outbox, so the answer path is measured
alone, answers the warm-up surveys, and then, each phase after the worker has finished the one before:

- burst: publishes one `survey-response` per survey of the burst at once (`--detractors` of them detractors, the
  rest 25:35 passives to promoters, a comment on `--comments` of them, English comments from the labelled set
  `tests/data/themed_comments.yaml` matching the answer's category) and times, from the first publish, until every
  `survey-scored` record, every `detractor-alert` and every detractor's `case-event` (opened or attached) has been
  seen by a consumer, and until the owner's notification email of each case event is in the outbox;
- paced: the same answers at a rate; each answer's latency from its `produce()` call to the moment a consumer sees
  its `survey-scored`, `detractor-alert` and `case-event`, and to the mtime of the owner's email;
- records per answer: high watermarks of every topic of the run (contract topics, internal topics, table
  changelogs) before a phase and after the worker has committed all of its inputs, divided by the answers;
- when each stage finished a phase: the Kafka timestamp (worker clock) of the last record written to each topic;
- CPU seconds of the worker and the broker per phase (/proc/<pid>/stat), and the worker's peak RSS (`VmHWM`).

`--no-dimensions` is a diagnostic: a copy of the shipped directory with `systemic: {dimensions: []}`, so answers
count under no team, queue, reason or theme and no rolling aggregate is kept.
The benchmark process (a producer, and a consumer thread that reads the ~2 timed records per answer), the worker and
the broker share the machine's cores. Figures over runs are summarised as medians, each figure separately.
Run: `.venv/bin/python -m bench.answers [--runs 3] [--count 1500] [--rates 20,10] [--duration 60] [--paced-runs 1]`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from bench.common import BENCH_PROGRAMS, ROOT, interactions, percentiles, print_table, write_result
from bench.pipeline import emails, proc_status
from cxloop.codec import Codec
from cxloop.directory import DEFAULT_DIRECTORY
from cxloop.local_kafka import LocalKafka
from cxloop.model import Interaction, SurveyResponse
from cxloop.producer import producer_config
from cxloop.scoring import SCALES
from cxloop.settings import Settings, load_settings
from cxloop.topics import ensure_topics, internal_topic
from tests.support import Service, TopicReader, consumed_everything, free_port, wait_for

COMMENTS = ROOT / "tests" / "data" / "themed_comments.yaml"
MIX = {"passive": 25, "promoter": 35}  # shares of the non-detractors
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass(frozen=True)
class Answer:
    survey_id: str
    customer_id: str
    category: str
    response: SurveyResponse | None = None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU of a process and its threads so far."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15 of stat)


def comment_texts() -> dict[str, list[str]]:
    """English comments of the labelled theme set, by the category their writer most likely scored."""
    by_category: dict[str, list[str]] = {}
    for item in yaml.safe_load(COMMENTS.read_text(encoding="utf-8"))["items"]:
        if item["lang"] == "en":
            by_category.setdefault(item["category"], []).append(str(item["text"]))
    return by_category


def phase_interactions(phase: str, count: int, seed: int) -> list[Interaction]:
    """Interactions of one phase, its customers its own (a phase's cases never meet another phase's); like the
    other benches, customers are drawn from 50,000, so a few answer twice within a phase."""
    out = []
    for c in interactions(count, seed=seed, prefix=phase):
        customer = f"{phase}-{c.customer_id}"
        out.append(dataclasses.replace(c, customer_id=customer, customer_email=f"{customer}@customers.example"))
    return out


def plan_answers(invitations: list[dict[str, Any]], detractors: float, comments: float, seed: int,
                 texts: dict[str, list[str]]) -> list[Answer]:
    """One answer per invitation: exactly round(detractors * n) detractors, passives and promoters 25:35 in the
    rest, a comment on round(comments * n), each score drawn within its category on the survey's metric."""
    rng = random.Random(seed)
    n = len(invitations)
    d = round(detractors * n)
    p = round((n - d) * MIX["passive"] / sum(MIX.values()))
    categories = ["detractor"] * d + ["passive"] * p + ["promoter"] * (n - d - p)
    with_comment = [True] * round(comments * n) + [False] * (n - round(comments * n))
    rng.shuffle(categories)
    rng.shuffle(with_comment)
    answers = []
    for invitation, category, commented in zip(invitations, categories, with_comment, strict=True):
        scale = SCALES[invitation["metric"]]
        low, high = {"detractor": (scale.low, scale.detractor_max),
                     "passive": (scale.detractor_max + 1, scale.passive_max),
                     "promoter": (scale.passive_max + 1, scale.high)}[category]
        comment = rng.choice(texts[category]) if commented else None
        answers.append(Answer(invitation["survey_id"], invitation["customer_id"], category, SurveyResponse(
            survey_id=invitation["survey_id"], score=rng.randint(low, high),
            source="web_form" if comment else "email_click", responded_at=datetime.now(timezone.utc),
            comment=comment)))
    return answers


class Watch(threading.Thread):
    """Sees the answer path's per-answer outputs as soon as the broker has them: arrival time (wall clock) and
    record timestamp (worker clock) per survey for survey-scored and detractor-alert, and per detractor survey for
    its case-event (opened or attached)."""

    def __init__(self, settings: Settings, topics: list[str]) -> None:
        super().__init__(name="answers-watch", daemon=True)
        self.codec = Codec()
        self.scored_topic, self.alert_topic, self.case_topic = (
            settings.topic(c) for c in ("survey-scored", "detractor-alert", "case-event"))
        self.scored: dict[str, tuple[float, float]] = {}  # survey id -> (seen, record timestamp), seconds
        self.alerts: dict[str, tuple[float, float]] = {}
        self.case_events: dict[str, tuple[float, float, str, str]] = {}  # survey id -> (seen, ts, event, event_id)
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._consumer = Consumer({
            "bootstrap.servers": settings.kafka_bootstrap, "group.id": f"bench-answers-{os.urandom(4).hex()}",
            "auto.offset.reset": "earliest", "enable.auto.commit": False, "fetch.wait.max.ms": 50,
        })
        self._consumer.subscribe(topics)

    def run(self) -> None:
        try:
            while not self._done.is_set():
                message = self._consumer.poll(0.1)
                if message is None or message.error():
                    continue
                now, topic, key = time.time(), message.topic(), (message.key() or b"").decode()
                stamp = message.timestamp()[1] / 1000
                if topic == self.scored_topic:
                    self.scored.setdefault(key, (now, stamp))
                elif topic == self.alert_topic:
                    self.alerts.setdefault(key, (now, stamp))
                elif topic == self.case_topic:
                    event = self.codec.decode("case-event", message.value())
                    if event["survey_id"] and event["event"] in ("opened", "attached"):
                        self.case_events.setdefault(event["survey_id"], (now, stamp, event["event"],
                                                                         event["event_id"]))
        except BaseException as exc:  # reported by the main thread
            self.error = exc
        finally:
            self._consumer.close()

    def close(self) -> None:
        self._done.set()
        self.join(10)


def owner_email(event_id: str) -> str:
    """The outbox name (less `.eml`) of a case event's email to its owner (`SurveyEmail` of kind `case`)."""
    return f"{event_id}.case"


def run_topics(admin: AdminClient, run: str) -> list[str]:
    return sorted(t for t in admin.list_topics(timeout=10).topics if run in t)


def watermarks(admin: AdminClient, run: str) -> dict[TopicPartition, int]:
    """High watermark of every partition of the run's topics (topics start at offset 0: messages so far)."""
    metadata = admin.list_topics(timeout=10).topics
    wanted = {TopicPartition(t, p): OffsetSpec.latest() for t in metadata if run in t for p in metadata[t].partitions}
    return {tp: future.result().offset for tp, future in admin.list_offsets(wanted, request_timeout=30).items()}


def per_topic(ends: dict[TopicPartition, int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for tp, end in ends.items():
        totals[tp.topic] = totals.get(tp.topic, 0) + end
    return totals


def last_stamps(bootstrap: str, before: dict[TopicPartition, int], after: dict[TopicPartition, int],
                timeout: float = 30.0) -> dict[str, float]:
    """Topic -> timestamp (record's, worker clock) of the last record written to it between two snapshots: when
    the stage that writes it finished the phase. Reads one record per partition that grew."""
    grown = [TopicPartition(tp.topic, tp.partition, end - 1) for tp, end in after.items()
             if end > before.get(tp, 0)]
    if not grown:
        return {}
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-answers-{os.urandom(4).hex()}",
                         "enable.auto.commit": False})
    stamps: dict[str, float] = {}
    try:
        consumer.assign(grown)
        left, deadline = {(tp.topic, tp.partition) for tp in grown}, time.monotonic() + timeout
        while left and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            topic = str(message.topic())
            if (topic, message.partition()) not in left:
                continue
            left.discard((topic, message.partition()))
            stamps[topic] = max(message.timestamp()[1] / 1000, stamps.get(topic, 0.0))
    finally:
        consumer.close()
    return stamps


def settled(settings: Settings, inputs: list[str], timeout: float = 180.0) -> None:
    """Wait until the worker has committed the end of every input topic: all it wrote for them is on the broker."""
    wait_for(lambda: all(consumed_everything(settings, name) for name in inputs), timeout, interval=0.5,
             what="the worker to commit all its inputs")


class Run:
    """One worker on a fresh topic prefix and its phases: `phases` is [(name, answers, rate)], rate 0 = at once."""

    def __init__(self, stack: contextlib.ExitStack, bootstrap: str, tmp: Path, args: argparse.Namespace,
                 broker_pid: int | None, phases: list[tuple[str, int, float]]) -> None:
        self.args, self.broker_pid, self.phases = args, broker_pid, phases
        self.run_id, port = uuid.uuid4().hex[:10], free_port()
        directory = None
        if args.no_dimensions:  # diagnostic: answers counted under no team, queue, reason or theme
            directory = tmp / "directory.yaml"
            directory.write_text(DEFAULT_DIRECTORY.read_text() + "\nsystemic: {dimensions: []}\n")
        self.settings = load_settings(
            kafka_bootstrap=bootstrap, topic_prefix=f"bench{self.run_id}.", topic_partitions=args.partitions,
            app_id=f"cxloop-bench-{self.run_id}", data_dir=tmp / "data", web_port=port,
            public_url=f"http://127.0.0.1:{port}", programs_file=BENCH_PROGRAMS, directory_file=directory,
        )
        ensure_topics(self.settings)
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        self.codec = Codec()
        self.worker = Service("worker", self.settings, tmp / "worker.log")
        stack.callback(self.worker.stop)
        self.stack = stack
        app = self.settings.app_id
        self.inputs = ["survey-response", "case-event", f"{app}-alerts-by-customer", f"{app}-scores-by-dimension",
                       f"{app}-answers-by-customer"]

    def topic_name(self, topic: str) -> str:
        """A run's topic without its prefix and app id: `survey-scored`, `~alerts-by-customer` (internal),
        `customers-changelog` (a table's)."""
        for prefix, mark in ((internal_topic(self.settings, ""), "~"), (f"{self.settings.app_id}-", ""),
                             (self.settings.topic_prefix, "")):
            if topic.startswith(prefix):
                return mark + topic[len(prefix):]
        return topic

    def seed(self, producer: Producer) -> dict[str, list[dict[str, Any]]]:
        """Publish every phase's interactions; wait for all their invitations and invitation emails."""
        batches = {name: phase_interactions(name, n, seed) for seed, (name, n, _) in enumerate(self.phases)}
        topic = self.settings.topic("interaction-completed")
        for batch in batches.values():
            for c in batch:
                producer.produce(topic, key=c.customer_id.encode(), value=self.codec.encode(c.contract, c.to_record()))
                producer.poll(0)
        assert producer.flush(60) == 0, "interactions not acknowledged by the broker"
        reader = TopicReader(self.settings, "survey-invitation")
        try:
            total = sum(len(b) for b in batches.values())
            wait_for(lambda: len({r["interaction_id"] for r in reader.poll()}) >= total, 300, interval=0.5,
                     what=f"{total} invitations")
            by_interaction = {r["interaction_id"]: r for r in reader.records}
        finally:
            reader.close()
        wanted = {r["survey_id"] for r in by_interaction.values()}
        wait_for(lambda: wanted <= emails(self.settings.outbox).keys(), 300, interval=0.5,
                 what=f"{len(wanted)} invitation emails")
        return {name: [by_interaction[c.interaction_id] for c in batch] for name, batch in batches.items()}

    def publish(self, producer: Producer, answers: list[Answer], rate: float) -> dict[str, float]:
        """survey id -> wall time of its produce() call; at `rate` per second, or at once (0)."""
        topic = self.settings.topic("survey-response")
        sent: dict[str, float] = {}
        start = time.perf_counter()
        for n, answer in enumerate(answers):
            if rate > 0 and (wait := start + n / rate - time.perf_counter()) > 0:
                time.sleep(wait)
            assert answer.response is not None
            response = dataclasses.replace(answer.response, responded_at=datetime.now(timezone.utc))
            sent[answer.survey_id] = time.time()
            producer.produce(topic, key=answer.survey_id.encode(),
                             value=self.codec.encode(response.contract, response.to_record()))
            producer.poll(0)
        assert producer.flush(60) == 0, "responses not acknowledged by the broker"
        return sent

    def drain(self, watch: Watch, answers: list[Answer], timeout: float) -> None:
        """Wait until every answer is scored, every detractor alerted with its case event, every owner mailed."""
        scored = {a.survey_id for a in answers}
        detractors = {a.survey_id for a in answers if a.category == "detractor"}
        deadline = time.monotonic() + timeout
        mailed: set[str] = set()
        while True:
            if watch.error is not None:
                raise RuntimeError("the consumer thread failed") from watch.error
            if (scored <= watch.scored.keys() and detractors <= watch.alerts.keys()
                    and detractors <= watch.case_events.keys()):
                mailed = set(emails(self.settings.outbox))
                if all(owner_email(watch.case_events[s][3]) in mailed for s in detractors):
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"after {timeout:.0f}s: {len(scored & watch.scored.keys())}/{len(scored)} scored, "
                    f"{len(detractors & watch.alerts.keys())}/{len(detractors)} alerts, "
                    f"{len(detractors & watch.case_events.keys())}/{len(detractors)} case events, "
                    f"{len(mailed)} outbox files")
            self.worker.supervise()
            time.sleep(0.1)

    def phase(self, producer: Producer, watch: Watch, answers: list[Answer], rate: float) -> dict[str, Any]:
        n = len(answers)
        detractors = [a for a in answers if a.category == "detractor"]
        before = watermarks(self.admin, self.run_id)
        cpu_worker, cpu_broker = cpu_seconds(self.worker.process.pid), cpu_seconds(self.broker_pid)
        wall = time.monotonic()
        sent = self.publish(producer, answers, rate)
        published = time.time()
        self.drain(watch, answers, self.args.timeout)
        first = min(sent.values())
        mailed = emails(self.settings.outbox)
        scored = {s: watch.scored[s] for s in sent}
        alerts = {a.survey_id: watch.alerts[a.survey_id] for a in detractors}
        events = {a.survey_id: watch.case_events[a.survey_id] for a in detractors}
        owner_mail = {s: mailed[owner_email(e[3])] for s, e in events.items()}
        settled(self.settings, self.inputs)
        elapsed = time.monotonic() - wall
        cpu_w, cpu_b = cpu_seconds(self.worker.process.pid), cpu_seconds(self.broker_pid)
        after = watermarks(self.admin, self.run_id)
        stamps = last_stamps(self.settings.kafka_bootstrap, before, after)
        for stamped_by_caller in (self.settings.topic("survey-response"), internal_topic(self.settings,
                                                                                         "scores-by-dimension")):
            stamps.pop(stamped_by_caller, None)  # their timestamps are the answer's time, not the write's
        opened = sum(e[2] == "opened" for e in events.values())
        expected_opened = len({a.customer_id for a in detractors})

        def done_after(times: dict[str, tuple]) -> float:
            return round(max(t[0] for t in times.values()) - first, 3)

        def latency(times: dict[str, Any], index: int | None = 0) -> dict[str, float]:
            return percentiles([((t[index] if index is not None else t) - sent[s]) * 1000 for s, t in times.items()])

        old, new = per_topic(before), per_topic(after)
        records = {self.topic_name(t): new[t] - old.get(t, 0) for t in new if new[t] != old.get(t, 0)}
        result: dict[str, Any] = {
            "answers": n, "rate": rate or "at once", "detractors": len(detractors),
            "comments": sum(a.response is not None and a.response.comment is not None for a in answers),
            "cases_opened": opened, "cases_opened_expected": expected_opened, "cases_attached": len(events) - opened,
            "publish_s": round(published - first, 3),
            "scored_all_seen_s": done_after(scored),
            "alerts_all_seen_s": done_after(alerts),
            "case_events_all_seen_s": done_after(events),
            "owner_emails_all_in_outbox_s": round(max(owner_mail.values()) - first, 3),
            "scored_per_s": round(n / (max(t[0] for t in scored.values()) - first), 1),
            "answers_per_s_to_alerts_and_cases": round(
                n / (max(max(t[0] for t in alerts.values()), max(t[0] for t in events.values())) - first), 1),
            "latency_ms_publish_to_scored_seen": latency(scored),
            "latency_ms_publish_to_scored_record_timestamp": latency(scored, 1),
            "latency_ms_publish_to_alert_seen": latency(alerts),
            "latency_ms_publish_to_case_event_seen": latency(events),
            "latency_ms_publish_to_owner_email": latency(owner_mail, None),
            "stage_last_record_s": {self.topic_name(t): round(v - first, 3)
                                    for t, v in sorted(stamps.items(), key=lambda kv: kv[1])},
            "settled_s": round(elapsed, 3),
            "records": records,
            "records_per_answer": {t: round(v / n, 2) for t, v in sorted(records.items(), key=lambda kv: -kv[1])},
            "records_per_answer_total": round(sum(records.values()) / n, 1),
        }
        if stamps:
            result["answers_per_s_all_records_out"] = round(n / (max(stamps.values()) - first), 1)
        if cpu_w is not None and cpu_worker is not None:
            result["worker_cpu_s"] = round(cpu_w - cpu_worker, 2)
            result["worker_cpu_ms_per_answer"] = round(result["worker_cpu_s"] * 1000 / n, 2)
            result["worker_cpu_share_of_one_core"] = round(result["worker_cpu_s"] / elapsed, 2)
        if cpu_b is not None and cpu_broker is not None:
            result["broker_cpu_s"] = round(cpu_b - cpu_broker, 2)
        if rate > 0:
            result["answers_per_s_published"] = round(n / (published - first), 2)
        return result

    def execute(self) -> dict[str, Any]:
        started = time.monotonic()
        self.worker.wait_for_output("[^Worker]: Ready", timeout=180)
        producer = Producer(producer_config(self.settings))
        self.stack.callback(producer.close)
        invitations = self.seed(producer)
        texts = comment_texts()
        plans = {name: plan_answers(invitations[name], self.args.detractors, self.args.comments, seed, texts)
                 for seed, (name, _, _) in enumerate(self.phases, start=100)}
        app = self.settings.app_id
        watch = Watch(self.settings, [self.settings.topic(c) for c in ("survey-scored", "detractor-alert",
                                                                         "case-event")])
        watch.start()
        self.stack.callback(watch.close)
        warm, *measured = self.phases
        self.publish(producer, plans[warm[0]], 0)
        self.drain(watch, plans[warm[0]], 180)
        settled(self.settings, [*self.inputs, "interaction-completed", "survey-invitation",
                                f"{app}-interactions-by-customer"])
        rss_before = proc_status(self.worker.process.pid)
        print(f"  worker ready, {sum(len(v) for v in invitations.values())} surveys sent, warm "
              f"({time.monotonic() - started:.0f}s)", flush=True)
        out: dict[str, Any] = {"run_id": self.run_id, "seeded_and_warm_s": round(time.monotonic() - started, 1)}
        for name, _, rate in measured:
            result = out[name] = self.phase(producer, watch, plans[name], rate)
            print(f"  {name}: {len(plans[name])} answers {'at once' if rate <= 0 else f'at {rate:g}/s'}: "
                  f"{result['scored_per_s']} scored/s, every alert and case event after "
                  f"{result['case_events_all_seen_s']}s, every record after "
                  f"{max(result['stage_last_record_s'].values(), default=0)}s; "
                  f"scored p50 {result['latency_ms_publish_to_scored_seen']['p50']:g} ms", flush=True)
        memory = proc_status(self.worker.process.pid)
        watch.close()
        stop_start = time.monotonic()
        self.worker.stop()
        out.update({
            "worker_rss_mib_before_answers": rss_before["VmRSS"], "worker_peak_rss_mib": memory["VmHWM"],
            "worker_rss_mib_at_end": memory["VmRSS"], "worker_stop_s": round(time.monotonic() - stop_start, 2),
            "worker_exit_code": self.worker.process.returncode, "worker_stall_restarts": self.worker.stall_restarts,
            "dead_letters": sum(out[name]["records"].get("dead-letter", 0) for name, _, _ in measured),
        })
        return out


def _get(result: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(result, dict) or part not in result:
            return None
        result = result[part]
    return result


LATENCIES = ("scored_seen", "scored_record_timestamp", "alert_seen", "case_event_seen", "owner_email")
PHASE_FIGURES = [
    "scored_per_s", "answers_per_s_to_alerts_and_cases", "answers_per_s_all_records_out", "scored_all_seen_s",
    "alerts_all_seen_s", "case_events_all_seen_s", "owner_emails_all_in_outbox_s", "settled_s", "worker_cpu_s",
    "worker_cpu_ms_per_answer", "worker_cpu_share_of_one_core", "broker_cpu_s", "answers_per_s_published",
    "records_per_answer_total",
    *[f"latency_ms_publish_to_{k}.{p}" for k in LATENCIES for p in ("p50", "p95", "p99", "max")],
]


def summarise(runs: list[dict[str, Any]], phases: list[str]) -> dict[str, dict[str, float]]:
    """Median and range of each figure over the runs that have it, separately."""
    out = {}
    paths = [f"{p}.{f}" for p in phases for f in PHASE_FIGURES] + ["worker_rss_mib_before_answers",
                                                                    "worker_peak_rss_mib"]
    for path in paths:
        values = [v for r in runs if (v := _get(r, path)) is not None]
        if values:
            out[path] = {"median": round(statistics.median(values), 2), "min": min(values), "max": max(values),
                         "runs": len(values)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.answers", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs, each on a fresh worker and topics (default 3)")
    parser.add_argument("--count", type=int, default=1500, help="answers published at once (default 1500)")
    parser.add_argument("--rates", default="20,10", help="answers/s of the paced phases (default 20,10; '' none)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of each paced phase (default 60)")
    parser.add_argument("--paced-runs", type=int, default=1, help="runs that also do the paced phases (default 1)")
    parser.add_argument("--detractors", type=float, default=0.4, help="share of detractors (default 0.4)")
    parser.add_argument("--comments", type=float, default=0.5, help="share of answers with a comment (default 0.5)")
    parser.add_argument("--partitions", type=int, default=4, help="partitions per topic (default 4, the product's)")
    parser.add_argument("--warmup", type=int, default=30, help="answers processed before timing (default 30)")
    parser.add_argument("--no-dimensions", action="store_true",
                        help="diagnostic: a directory with systemic dimensions [] (no rolling aggregates)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for a phase's outputs")
    parser.add_argument("--name", default=None, help="results file name (default answers, answers-no-dimensions)")
    args = parser.parse_args()
    name = args.name or ("answers-no-dimensions" if args.no_dimensions else "answers")
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    paced = [(f"paced-{r:g}", round(r * args.duration), r) for r in rates]

    runs: list[dict[str, Any]] = []
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cxloop-bench-answers-")))
        bootstrap, broker_pid = os.environ.get("KAFKA_BOOTSTRAP"), None
        if not bootstrap:
            print("starting a local Kafka broker ...", flush=True)
            kafka = stack.enter_context(LocalKafka(tmp / "kafka", log_file=tmp / "kafka.log"))
            bootstrap = kafka.bootstrap
            process = getattr(kafka, "_proc", None)  # the JVM, for its CPU time
            broker_pid = process.pid if process is not None else None
        for n in range(args.runs):
            phases = [("warm", args.warmup, 0.0), ("burst", args.count, 0.0)]
            phases += paced if n < args.paced_runs else []
            print(f"run {n + 1}/{args.runs}: {', '.join(p[0] for p in phases[1:])}", flush=True)
            with contextlib.ExitStack() as run_stack:
                (tmp / f"run{n}").mkdir()
                run = Run(run_stack, bootstrap, tmp / f"run{n}", args, broker_pid, phases)
                try:
                    runs.append(run.execute())
                except BaseException:
                    print(f"worker log tail:\n{run.worker.output()[-3000:]}")
                    raise

    phase_names = ["burst", *(p[0] for p in paced)]
    summary = summarise(runs, phase_names)
    median_run = sorted(runs, key=lambda r: r["burst"]["scored_per_s"])[len(runs) // 2]
    config = {"runs": args.runs, "count": args.count, "rates": rates, "duration_s": args.duration,
              "paced_runs": min(args.paced_runs, args.runs), "detractors": args.detractors,
              "comments": args.comments, "partitions": args.partitions, "warmup": args.warmup,
              "email_backend": "outbox", "programs": "bench/programs.yaml",
              "directory": "shipped, systemic dimensions []" if args.no_dimensions else "shipped (cx-lead by email)",
              "broker": "KAFKA_BOOTSTRAP" if os.environ.get("KAFKA_BOOTSTRAP") else "LocalKafka (single node)",
              "total_s": round(time.monotonic() - started)}
    path = write_result(name, config, {"summary": summary, "median_burst_run": median_run["run_id"], "runs": runs})

    def fig(key: str) -> str:
        s = summary.get(key)
        if s is None:
            return "-"
        return f"{s['median']:g}" if s["runs"] == 1 else f"{s['median']:g} ({s['min']:g}-{s['max']:g})"

    b = median_run["burst"]
    print(f"\n{args.runs} run(s) in {config['total_s']}s; burst of {args.count} answers ({b['detractors']} "
          f"detractors, {b['comments']} with a comment; {b['cases_opened']} cases opened, {b['cases_attached']} "
          f"attached); median (range)")
    print_table(["burst", "median (range)"], [
        ["survey-scored per s", fig("burst.scored_per_s")],
        ["answers/s to every alert and case event", fig("burst.answers_per_s_to_alerts_and_cases")],
        ["answers/s to every record out", fig("burst.answers_per_s_all_records_out")],
        ["all survey-scored seen after s", fig("burst.scored_all_seen_s")],
        ["all detractor-alerts seen after s", fig("burst.alerts_all_seen_s")],
        ["all case events seen after s", fig("burst.case_events_all_seen_s")],
        ["all owner emails in outbox after s", fig("burst.owner_emails_all_in_outbox_s")],
        ["worker committed everything after s", fig("burst.settled_s")],
        ["worker CPU ms per answer", fig("burst.worker_cpu_ms_per_answer")],
        ["worker CPU share of one core", fig("burst.worker_cpu_share_of_one_core")],
        ["broker CPU s", fig("burst.broker_cpu_s")],
    ])
    print(f"stage ends, burst of the median run (last record's timestamp, s after the first publish): "
          f"{b['stage_last_record_s']}")
    for phase in phase_names[1:]:
        print_table([f"{phase} latency ms", "p50", "p95", "p99", "max"],
                    [[k, *(fig(f"{phase}.latency_ms_publish_to_{k}.{p}") for p in ("p50", "p95", "p99", "max"))]
                     for k in LATENCIES])
    print("records per answer (burst, median run):")
    print_table(["topic", "per answer"], [[t, v] for t, v in b["records_per_answer"].items()]
                + [["total", b["records_per_answer_total"]]])
    print(f"worker RSS before answers {fig('worker_rss_mib_before_answers')} MiB, peak {fig('worker_peak_rss_mib')} "
          f"MiB; dead letters {[r['dead_letters'] for r in runs]}; exit codes {[r['worker_exit_code'] for r in runs]}")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
