"""End to end on a real broker: interactions in, survey decisions and invitation emails out, through one worker.

Starts a single-node Kafka (`cxloop.local_kafka.LocalKafka`, or uses `KAFKA_BOOTSTRAP`), creates the topics under a
fresh prefix, runs `python -m cxloop worker` as a child process (outbox email backend, survey programs from
`bench/programs.yaml`: every interaction invited and sent at once, so no timer holds anything back), warms it up,
then publishes `--count` interactions with one idempotent producer (acks=all), as fast as it can or at `--rate` per
second. It measures:
- decisions: time from the first publish until every `survey-decision` is on its topic, and interactions/s through
  the triggers agent (from the last decision's `decided_at`);
- emails: time until the email of every `invited` decision is in the outbox folder, and dispatch throughput (from
  file mtimes); the outcome counts are reported too;
- latency per interaction: publish -> `decided_at`, and publish -> email written (p50/p95/p99/max);
- the worker's peak RSS (`VmHWM` of /proc/<pid>/status, read just before it is stopped).

Why: this is the number that matters for capacity (interactions/s one worker sustains) and for the product promise
(how fast a customer gets the survey). A burst (`--rate 0`, default) measures throughput, and its latencies are
mostly queueing behind the burst; a paced run (`--rate 50`) shows latency below saturation.
The benchmark process, the worker and the broker share the machine's cores.
Run: `.venv/bin/python -m bench.pipeline [--count 2000] [--rate 0] [--partitions 4]`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from bench.common import BENCH_PROGRAMS, interactions, percentiles, print_table, write_result
from cxloop.codec import Codec
from cxloop.local_kafka import LocalKafka
from cxloop.producer import producer_config
from cxloop.settings import Settings, load_settings
from cxloop.topics import ensure_topics
from tests.support import Service, TopicReader, free_port


def proc_status(pid: int) -> dict[str, float]:
    """VmHWM (peak) and VmRSS (now) of a process, MiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            out[name] = round(int(value.split()[0]) / 1024, 1)
    return out


def emails(outbox: Path) -> dict[str, float]:
    """survey id -> mtime of every email in the outbox."""
    with os.scandir(outbox) as entries:
        return {e.name[:-4]: e.stat().st_mtime for e in entries if e.name.endswith(".eml") and e.name[0] != "."}


def publish(
    settings: Settings, producer: Producer, prefix: str, count: int, rate: float
) -> tuple[dict[str, float], float]:
    """Publish `count` interactions; returns interaction id -> wall time of its produce() call, and flush time."""
    codec = Codec()
    batch = interactions(count, seed=7, prefix=prefix)
    messages = [(c.interaction_id, c.customer_id.encode(), codec.encode(c.contract, c.to_record())) for c in batch]
    topic = settings.topic("interaction-completed")
    sent: dict[str, float] = {}
    start = time.perf_counter()
    for n, (interaction_id, key, value) in enumerate(messages):
        if rate > 0 and (wait := start + n / rate - time.perf_counter()) > 0:
            time.sleep(wait)
        sent[interaction_id] = time.time()
        producer.produce(topic, key=key, value=value)
        producer.poll(0)
    assert producer.flush(60) == 0, "interactions not acknowledged by the broker"
    return sent, time.time()


def drain(settings: Settings, reader: TopicReader, sent: dict[str, float], timeout: float) -> dict[str, Any]:
    """Wait for a decision and an email for every interaction in `sent`; returns the timings."""
    first = min(sent.values())
    decisions: dict[str, dict[str, Any]] = {}
    decisions_seen = emails_seen = None
    deadline = time.monotonic() + timeout
    while decisions_seen is None or emails_seen is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"after {timeout:.0f}s: {len(decisions)}/{len(sent)} decisions")
        for record in reader.poll():
            if record["interaction_id"] in sent:
                decisions[record["interaction_id"]] = record
        reader.records.clear()
        if decisions_seen is None and len(decisions) == len(sent):
            decisions_seen = time.time()
        if decisions_seen is not None and emails_seen is None:
            wanted = {d["survey_id"] for d in decisions.values() if d["outcome"] == "invited"}
            if wanted <= emails(settings.outbox).keys():
                emails_seen = time.time()
    outbox = emails(settings.outbox)
    decided = {i: d["decided_at"].timestamp() for i, d in decisions.items()}
    mailed = {i: outbox[d["survey_id"]] for i, d in decisions.items() if d["outcome"] == "invited"}
    outcomes: dict[str, int] = {}
    for d in decisions.values():
        outcomes[d["outcome"]] = outcomes.get(d["outcome"], 0) + 1
    n, m = len(sent), len(mailed)
    result: dict[str, Any] = {
        "interactions": n, "outcomes": outcomes,
        "decisions_all_on_topic_s": round(decisions_seen - first, 3),
        "decisions_per_s": round(n / (max(decided.values()) - first), 1),
        "latency_ms_publish_to_decided_at": percentiles([(decided[i] - sent[i]) * 1000 for i in sent]),
        "emails": m,
    }
    if mailed:
        dispatch_span = max(mailed.values()) - min(mailed.values())
        result.update({
            "emails_all_in_outbox_s": round(emails_seen - first, 3),
            "emails_per_s": round(m / (max(mailed.values()) - first), 1),
            "dispatch_per_s_first_to_last_email": round((m - 1) / dispatch_span, 1) if dispatch_span > 0 else None,
            "latency_ms_publish_to_email": percentiles([(mailed[i] - sent[i]) * 1000 for i in mailed]),
        })
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="interactions to publish (default 2000)")
    parser.add_argument("--rate", type=float, default=0.0, help="interactions/s; 0 = as fast as possible (default)")
    parser.add_argument("--partitions", type=int, default=4, help="partitions per topic (default 4, the product's)")
    parser.add_argument("--warmup", type=int, default=20, help="interactions processed before timing (default 20)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the drain")
    parser.add_argument("--name", default=None, help="results file name (default pipeline, or pipeline-rate<R>)")
    args = parser.parse_args()
    name = args.name or ("pipeline" if args.rate <= 0 else f"pipeline-rate{args.rate:g}")

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cxloop-bench-pipeline-")))
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP")
        if not bootstrap:
            print("starting a local Kafka broker ...", flush=True)
            bootstrap = stack.enter_context(LocalKafka(tmp / "kafka", log_file=tmp / "kafka.log")).bootstrap
        run, port = uuid.uuid4().hex[:10], free_port()
        settings = load_settings(
            kafka_bootstrap=bootstrap, topic_prefix=f"bench{run}.", topic_partitions=args.partitions,
            app_id=f"cxloop-bench-{run}", data_dir=tmp / "data", web_port=port, public_url=f"http://127.0.0.1:{port}",
            programs_file=BENCH_PROGRAMS,
        )
        ensure_topics(settings)
        worker = Service("worker", settings, tmp / "worker.log")
        stack.callback(worker.stop)
        reader = TopicReader(settings, "survey-decision")
        stack.callback(reader.close)
        try:
            worker.wait_for_output("[^Worker]: Ready", timeout=180)
            started = time.monotonic()
            producer = Producer(producer_config(settings))  # one producer; warm-up also gets its idempotence PID
            stack.callback(producer.close)  # flushes, then closes before the broker stops
            warm, _ = publish(settings, producer, "warm", args.warmup, 0)
            drain(settings, reader, warm, timeout=180)
            print(f"worker ready and warm ({time.monotonic() - started:.1f}s); publishing {args.count} ...", flush=True)
            sent, flushed = publish(settings, producer, "run", args.count, args.rate)
            result = drain(settings, reader, sent, args.timeout)
            result["publish_s"] = round(flushed - min(sent.values()), 3)
            memory = proc_status(worker.process.pid)
        except BaseException:
            print(f"worker log tail:\n{worker.output()[-3000:]}")
            raise
        stop_start = time.monotonic()
        worker.stop()
        result["worker_peak_rss_mib"] = memory["VmHWM"]
        result["worker_rss_mib_at_end"] = memory["VmRSS"]
        result["worker_stop_s"] = round(time.monotonic() - stop_start, 2)
        result["worker_exit_code"] = worker.process.returncode

    config = {"count": args.count, "rate": args.rate or "max", "partitions": args.partitions, "warmup": args.warmup,
              "broker": "KAFKA_BOOTSTRAP" if os.environ.get("KAFKA_BOOTSTRAP") else "LocalKafka (single node)",
              "email_backend": "outbox"}
    path = write_result(name, config, result)
    rate = "as fast as possible" if args.rate <= 0 else f"at {args.rate:g}/s"
    print(f"{args.count} interactions published {rate} in {result['publish_s']}s, {args.partitions} partitions")
    print(f"decision outcomes: {result['outcomes']}")
    print_table(["stage", "count", "all done after s", "per s"], [
        ["survey decisions on topic", args.count, result["decisions_all_on_topic_s"], result["decisions_per_s"]],
        ["invitation emails in outbox", result["emails"], result.get("emails_all_in_outbox_s", "-"),
         result.get("emails_per_s", "-")],
    ])
    lat = [(k, result[f"latency_ms_{k}"]) for k in ("publish_to_decided_at", "publish_to_email")
           if f"latency_ms_{k}" in result]
    print_table(["latency ms", "p50", "p95", "p99", "max"],
                [[k, v["p50"], v["p95"], v["p99"], v["max"]] for k, v in lat])
    print(f"worker peak RSS {result['worker_peak_rss_mib']} MiB; stopped in {result['worker_stop_s']}s "
          f"(exit {result['worker_exit_code']})")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
