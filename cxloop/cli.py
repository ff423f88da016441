"""`cxloop` command line: run a stage, the demo, or local infrastructure."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta

from cxloop.programs import ProgramError
from cxloop.settings import ConfigError, Settings, load_settings


def _worker(settings: Settings, _args: argparse.Namespace) -> int:
    import faust

    from cxloop.app import create_app
    from cxloop.topics import ensure_topics

    app = create_app(settings)  # a bad programs file stops here, before anything connects
    ensure_topics(settings)
    worker = faust.Worker(app, loglevel=settings.log_level, redirect_stdouts=False)
    worker.execute_from_commandline()
    return 0


def _web(settings: Settings, _args: argparse.Namespace) -> int:
    from aiohttp import web

    from cxloop.app import codec_for, programs_for, signer_for
    from cxloop.web import create_web_app

    app = create_web_app(settings, codec_for(settings), signer_for(settings), programs=programs_for(settings))
    web.run_app(app, host=settings.web_host, port=settings.web_port, print=None)
    return 0


def _sink(settings: Settings, _args: argparse.Namespace) -> int:
    from cxloop.app import codec_for
    from cxloop.topics import ensure_topics
    from sinks.clickhouse import open_clickhouse
    from sinks.landing import Lander

    ensure_topics(settings)
    clickhouse = open_clickhouse(settings)
    lander = Lander(settings, clickhouse, codec_for(settings))
    dashboard = None
    if settings.dashboard_enabled:
        from cxloop.dashboard import DashboardServer

        dashboard = DashboardServer(clickhouse, settings.web_host, settings.dashboard_port).start()
        print(f"cxloop dashboard: {dashboard.url}", flush=True)
    refresher = None
    if settings.drivers_refresh_seconds:
        from cxloop.clock import SystemClock
        from cxloop.driver_cache import DriverRefresher

        refresher = DriverRefresher(clickhouse, settings.drivers_refresh_seconds, SystemClock()).start()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: lander.stop())
    try:
        lander.run()
    finally:
        if refresher is not None:
            refresher.stop()
        if dashboard is not None:
            dashboard.stop()
        clickhouse.close()
    return 0


def _topics(settings: Settings, _args: argparse.Namespace) -> int:
    from cxloop.topics import ensure_topics

    created = ensure_topics(settings)
    print("created: " + (", ".join(created) if created else "nothing, all topics exist"))
    return 0


def _summary(settings: Settings, _args: argparse.Namespace) -> int:
    from cxloop.reports import decision_counts, fact_counts, score_summary
    from sinks.clickhouse import open_clickhouse

    clickhouse = open_clickhouse(settings)
    try:
        for table, n in fact_counts(clickhouse).items():
            print(f"{table:>20}: {n}")
        print("decisions: " + ", ".join(f"{o}={n}" for o, n in decision_counts(clickhouse).items()))
        for line in score_summary(clickhouse):
            print(line.headline)
    finally:
        clickhouse.close()
    return 0


def _since(value: str | None) -> datetime | None:
    """--since 24h / 7d (back from now) or an ISO date-time."""
    from cxloop.clock import SystemClock, utc
    from cxloop.programs import parse_duration

    if not value:
        return None
    try:
        return SystemClock().now() - parse_duration(value)
    except ValueError:
        try:
            return utc(datetime.fromisoformat(value))
        except ValueError:
            raise argparse.ArgumentTypeError(f"--since: expected 24h, 7d or an ISO date-time, got {value!r}") from None


def _duration(value: str) -> timedelta:
    from cxloop.programs import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _report(settings: Settings, args: argparse.Namespace) -> int:
    from cxloop.reports import render_report
    from sinks.clickhouse import open_clickhouse

    clickhouse = open_clickhouse(settings)
    try:
        print(render_report(clickhouse, args.by, args.since, args.format))
    finally:
        clickhouse.close()
    return 0


def _themes(settings: Settings, args: argparse.Namespace) -> int:
    """Candidate new themes: the comments no theme matched, clustered."""
    import json

    from cxloop.figures import since_clause
    from cxloop.theme_candidates import candidates
    from sinks.clickhouse import open_clickhouse

    clickhouse = open_clickhouse(settings)
    try:
        where = since_clause(args.since) or "WHERE 1"
        rows = clickhouse.query(
            f"SELECT comment FROM {clickhouse.database}.survey_scored FINAL {where} AND comment IS NOT NULL "
            "AND length(themes) = 0 AND length(praised) = 0 ORDER BY responded_at DESC LIMIT 20000")
    finally:
        clickhouse.close()
    found = candidates([r["comment"] for r in rows], k=args.clusters)
    if args.format == "json":
        print(json.dumps([c.as_dict() for c in found], indent=2, ensure_ascii=False))
        return 0
    print(f"{len(rows)} comments matched no theme; {len(found)} candidate themes:")
    for n, c in enumerate(found, 1):
        print(f"\n{n}. {', '.join(c.terms)} ({c.size} comments)")
        for example in c.examples:
            print(f"   - {example}")
    return 0


def _drivers(settings: Settings, args: argparse.Namespace) -> int:
    """What moves the scores: theme impacts and key drivers, from the cache or computed now (--refresh)."""
    from cxloop.clock import SystemClock
    from cxloop.driver_cache import DEFAULT_PERIOD, latest_drivers, refresh_drivers
    from cxloop.reports import render_drivers
    from sinks.clickhouse import open_clickhouse

    clickhouse = open_clickhouse(settings)
    try:
        if args.refresh:
            refresh_drivers(clickhouse, SystemClock().now(), args.period or DEFAULT_PERIOD)
        reports = [r for r in latest_drivers(clickhouse, args.segment) if args.metric in (None, r["metric"])]
    finally:
        clickhouse.close()
    print(render_drivers(reports, args.format))
    return 0


def _cases(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from cxloop.case_figures import case_figures, case_rows
    from cxloop.clock import SystemClock
    from sinks.clickhouse import open_clickhouse

    clickhouse = open_clickhouse(settings)
    try:
        figures = [f.as_dict() for f in case_figures(case_rows(clickhouse, args.since), args.by, SystemClock().now())]
    finally:
        clickhouse.close()
    if args.format == "json":
        print(json.dumps(figures, indent=2))
        return 0

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    def hours(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}h"

    print(f"{args.by:<16} {'cases':>5} {'closed':>7} {'to contact':>11} {'SLA met':>8} {'recovered':>10}  outcomes")
    for f in figures:
        outcomes = ", ".join(f"{k}={n}" for k, n in sorted(f["outcomes"].items())) or "-"
        print(f"{f['group']:<16} {f['cases']:>5} {pct(f['closure_rate']):>7} "
              f"{hours(f['median_hours_to_contact']):>11} {pct(f['sla_compliance']):>8} "
              f"{f['recovered']:>4}/{f['answered_again']:<5}  {outcomes}")
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from cxloop.demo import run_demo

    return run_demo(settings, duration=args.duration, rate=args.rate)


def _kafka(_settings: Settings, args: argparse.Namespace) -> int:
    from cxloop import local_kafka

    return local_kafka.main(["up", "--data-dir", args.data_dir] + (["--port", str(args.port)] if args.port else []))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cxloop", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("worker", help="run the stream worker (triggers, dispatch, responses, cases, notify)")
    commands.add_parser("web", help="run the survey web tier")
    commands.add_parser("sink", help="land fact topics in ClickHouse")
    commands.add_parser("topics", help="create the topics")
    commands.add_parser("summary", help="print headline figures from ClickHouse")
    report = commands.add_parser("report", help="NPS, CSAT and CES with intervals per group, from ClickHouse")
    report.add_argument("--by", choices=["agent", "team", "channel", "contact_reason", "program", "queue"],
                        default="team")
    report.add_argument("--since", type=_since, default=None, help="24h, 7d, or an ISO date-time")
    report.add_argument("--format", choices=["table", "json", "csv"], default="table")
    themes = commands.add_parser("themes", help="candidate new themes: unmatched comments, clustered")
    themes.add_argument("--since", type=_since, default=None, help="24h, 30d, or an ISO date-time")
    themes.add_argument("--clusters", type=int, default=None, help="how many clusters (default: about sqrt(n/2))")
    themes.add_argument("--format", choices=["table", "json"], default="table")
    drivers = commands.add_parser("drivers", help="what moves the scores: theme impacts and key drivers")
    drivers.add_argument("--refresh", action="store_true", help="compute now (else show the cached analysis)")
    drivers.add_argument("--period", type=_duration, default=None, help="answers of the last ... (default 90d)")
    drivers.add_argument("--metric", choices=["nps", "csat", "ces"], default=None)
    drivers.add_argument("--segment", default="all", help="all, or program:<id>")
    drivers.add_argument("--format", choices=["table", "json"], default="table")
    cases = commands.add_parser("cases", help="follow-up figures per owner or team from ClickHouse")
    cases.add_argument("--by", choices=["owner", "team"], default="owner")
    cases.add_argument("--since", type=_since, default=None, help="cases opened in the last 30d, or since a date")
    cases.add_argument("--format", choices=["table", "json"], default="table")
    demo = commands.add_parser("demo", help="the whole loop on a local broker with synthetic traffic")
    demo.add_argument("--duration", type=float, default=None, help="stop after this many seconds (default: Ctrl-C)")
    demo.add_argument("--rate", type=float, default=4.0, help="interactions per second")
    kafka = commands.add_parser("kafka", help="run a local single-node Kafka broker until Ctrl-C")
    kafka.add_argument("--data-dir", default="var/kafka")
    kafka.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"cxloop: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers = {
        "worker": _worker, "web": _web, "sink": _sink, "topics": _topics, "summary": _summary, "report": _report,
        "themes": _themes, "drivers": _drivers, "cases": _cases, "demo": _demo, "kafka": _kafka,
    }
    try:
        return handlers[args.command](settings, args)
    except ProgramError as exc:
        print(f"cxloop: bad configuration file:\n{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
