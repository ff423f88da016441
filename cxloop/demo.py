"""`cxloop demo`: the whole loop on one machine, with a synthetic contact centre driving it.

Brings up a local Kafka broker (unless KAFKA_BOOTSTRAP points at one), the stream worker and the survey web tier as
child processes, and in this process the ClickHouse lander (embedded chdb unless CLICKHOUSE_URL is set), a watcher
of the detractor-alert topic and the traffic generator. Ctrl-C stops everything in reverse order.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO

from confluent_kafka import Consumer

from agents.watchdog import STALLED_EXIT_CODE
from cxloop.case_figures import case_figures, case_rows
from cxloop.clock import SystemClock
from cxloop.codec import Codec
from cxloop.dashboard import DashboardServer
from cxloop.directory import DEMO_DIRECTORY
from cxloop.local_kafka import LocalKafka
from cxloop.programs import DEMO_PROGRAMS
from cxloop.reports import decision_counts, fact_counts, score_summary
from cxloop.settings import Settings
from cxloop.topics import ensure_topics
from cxloop.traffic import run_traffic
from sinks.clickhouse import open_clickhouse
from sinks.landing import Lander


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AlertWatcher(threading.Thread):
    """Reads detractor-alert like an owner's tool would, and prints the first few."""

    def __init__(self, settings: Settings, show: int = 5) -> None:
        super().__init__(name="alert-watcher", daemon=True)
        self.count = 0
        self._seen: set[str] = set()
        self._show = show
        self._running = threading.Event()
        self._running.set()
        self._topic = settings.topic("detractor-alert")
        self._consumer = Consumer({
            "bootstrap.servers": settings.kafka_bootstrap, "group.id": f"{settings.app_id}-demo-alerts",
            "auto.offset.reset": "earliest",
        })

    def run(self) -> None:
        codec = Codec()
        self._consumer.subscribe([self._topic])
        while self._running.is_set():
            message = self._consumer.poll(0.2)
            if message is None or message.error():
                continue
            alert = codec.decode("detractor-alert", message.value())
            if alert["alert_id"] in self._seen:
                continue  # re-raised with its comment
            self._seen.add(alert["alert_id"])
            self.count += 1
            if self.count <= self._show:
                print(f"  ALERT {alert['priority']:>6}: {alert['metric'].upper()} {alert['score']} from "
                      f"{alert['customer_id']} after {alert['interaction_channel']} with "
                      f"{alert['agent_id'] or 'bot'} ({alert['team_id'] or '-'}), reason "
                      f"{alert['contact_reason']} -> case {alert['case_id']} for {alert['owner_id']}", flush=True)
        self._consumer.close()

    def stop(self) -> None:
        self._running.clear()


class ServiceFailed(RuntimeError):
    """A service of the demo exited (other than the watchdog's restart code)."""


def _spawn(command: str, env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cxloop", command], env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop_child(child: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def run_demo(base: Settings, duration: float | None, rate: float) -> int:
    data = base.data_dir.resolve() / "demo"
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    kafka: LocalKafka | None = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP") or os.environ.get("CXLOOP_KAFKA_BOOTSTRAP")
    if not bootstrap:
        print("Starting Kafka (single KRaft node from Maven Central jars) ...", flush=True)
        kafka = LocalKafka(data / "kafka").start()
        bootstrap = kafka.bootstrap
    web_port = _free_port()
    settings = base.model_copy(update={
        "kafka_bootstrap": bootstrap, "data_dir": data, "web_port": web_port,
        "public_url": f"http://127.0.0.1:{web_port}", "topic_partitions": min(base.topic_partitions, 2),
        "programs_file": base.programs_file or DEMO_PROGRAMS, "directory_file": base.directory_file or DEMO_DIRECTORY,
    })
    env = {**os.environ, "CXLOOP_KAFKA_BOOTSTRAP": bootstrap, "CXLOOP_DATA_DIR": str(data),
           "CXLOOP_WEB_PORT": str(web_port), "CXLOOP_PUBLIC_URL": settings.public_url,
           "CXLOOP_TOPIC_PARTITIONS": str(settings.topic_partitions),
           "CXLOOP_PROGRAMS_FILE": str(settings.programs_file),
           "CXLOOP_DIRECTORY_FILE": str(settings.directory_file)}
    ensure_topics(settings)
    logs = open(data / "services.log", "ab")  # noqa: SIM115 - closed in finally
    children = {"worker": _spawn("worker", env, logs), "web": _spawn("web", env, logs)}

    def supervise() -> None:
        """Restart a worker its watchdog stopped (exit 70), as a deployment's supervisor would."""
        if children["worker"].poll() == STALLED_EXIT_CODE:
            print("  worker stalled and exited (70): restarting it", flush=True)
            children["worker"] = _spawn("worker", env, logs)
        for name, child in children.items():
            if child.poll() is not None:
                raise ServiceFailed(f"the {name} exited with code {child.returncode}; see {data / 'services.log'}")

    clickhouse = open_clickhouse(settings)
    lander = Lander(settings, clickhouse, Codec())
    lander_thread = threading.Thread(target=lander.run, name="lander", daemon=True)
    alerts = AlertWatcher(settings)
    lander_thread.start()
    alerts.start()
    dashboard = DashboardServer(clickhouse, "127.0.0.1", 0).start()
    print(f"""
cxloop demo is running (Ctrl-C to stop)
  Kafka            {bootstrap}
  survey web       {settings.public_url}
  outbox (emails)  {settings.outbox}
  detractor alerts topic '{settings.topic('detractor-alert')}'
  ClickHouse       {settings.clickhouse_url or f'embedded chdb at {settings.chdb_dir}'}
  live dashboard   {dashboard.url}
  service logs     {data / 'services.log'}
""", flush=True)
    failed: ServiceFailed | None = None
    try:
        asyncio.run(_drive(settings, clickhouse, alerts, duration, rate, supervise))
    except KeyboardInterrupt:
        pass
    except ServiceFailed as exc:
        failed = exc
    finally:
        print("\nStopping ...", flush=True)
        for child in reversed(list(children.values())):
            _stop_child(child)
        lander.stop()
        lander_thread.join(30)
        dashboard.stop()
        alerts.stop()
        alerts.join(5)
        _print_status(clickhouse, alerts, settings)
        clickhouse.close()
        logs.close()
        if kafka is not None:
            kafka.stop()
        if failed is None:
            print("Stopped cleanly.", flush=True)
    if failed is not None:
        print(f"cxloop demo: {failed}", file=sys.stderr, flush=True)
        return 1
    return 0


async def _drive(
    settings: Settings, clickhouse: object, alerts: AlertWatcher, duration: float | None, rate: float,
    supervise: Callable[[], None],
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if duration is not None:
        loop.call_later(duration, stop.set)
    traffic = asyncio.create_task(run_traffic(settings, stop, rate=rate))
    started = time.monotonic()
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=10)
        except asyncio.TimeoutError:
            supervise()
            print(f"--- after {time.monotonic() - started:.0f}s", flush=True)
            await asyncio.to_thread(_print_status, clickhouse, alerts, settings)
    counts = await traffic
    print(f"Traffic: {counts['interactions']} interactions published, {counts['answered']} email surveys answered, "
          f"{counts['gateway_replies']} SMS, WhatsApp, IVR and chat replies, {counts['case_updates']} case updates.")


def _print_status(clickhouse: object, alerts: AlertWatcher, settings: Settings) -> None:
    mail = [p.name for p in settings.outbox.glob("*.eml")] if settings.outbox.exists() else []
    notices = sum(name.endswith(".case.eml") for name in mail)
    counts = fact_counts(clickhouse)  # type: ignore[arg-type]
    print(f"  outbox: {len(mail) - notices} survey emails, {notices} case notices to owners | detractor alerts seen: "
          f"{alerts.count} | ClickHouse rows: "
          + ", ".join(f"{t}={n}" for t, n in counts.items()), flush=True)
    decisions = decision_counts(clickhouse)  # type: ignore[arg-type]
    print("  decisions: " + ", ".join(f"{outcome}={n}" for outcome, n in decisions.items()), flush=True)
    for line in score_summary(clickhouse):  # type: ignore[arg-type]
        print(f"  {line.headline}", flush=True)
    teams = case_figures(case_rows(clickhouse), "team", SystemClock().now())  # type: ignore[arg-type]
    if teams:
        print("  follow-up: " + "; ".join(
            f"{f.group} {f.cases} cases, {f.closed} closed, SLA met {f.sla_met}/{f.sla_met + f.sla_breached}, "
            f"recovered {f.recovered}/{f.answered_again}" for f in teams), flush=True)
