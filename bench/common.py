"""What the benchmarks share: machine facts, result files, a plain-text table, realistic interactions, timing.

Every benchmark writes `bench/results/<name>.json` holding `machine` (CPU count and model, Python, package
versions, git commit, date) next to its numbers, so results from different machines and days stay comparable.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from cxloop.model import Interaction

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
BENCH_PROGRAMS = Path(__file__).resolve().parent / "programs.yaml"  # every interaction invited and sent at once
LOAD_AT_START = round(os.getloadavg()[0], 2)  # taken at import, before a benchmark starts any work
PACKAGES = ("fastavro", "confluent-kafka", "faust-streaming", "chdb", "chdb-core")

# trigger, channel, handled_by: every default program (NPS, CSAT, CES) gets traffic.
SHAPES = [
    ("call_end", "voice", "human"), ("chat_end", "chat", "human"), ("ticket_solved", "email", "human"),
    ("transfer", "voice", "human"), ("bot_session_end", "bot", "bot"), ("escalation", "voice", "human"),
]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _git_commit() -> str | None:
    """The commit the code runs from, `+dirty` when tracked files outside bench/ differ from it."""
    commit = _git("rev-parse", "--short", "HEAD")
    if commit and _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench"):
        commit += "+dirty"
    return commit


def machine() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": _cpu_model(),
        "load_average_1m_at_start": LOAD_AT_START,  # other work on the machine skews results
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
        "git_commit": _git_commit(),
    }


def write_result(name: str, config: dict[str, Any], results: Any) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"benchmark": name, "machine": machine(), "config": config, "results": results},
                              indent=2, default=str) + "\n")
    os.replace(tmp, path)
    return path


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def interactions(
    count: int, seed: int = 42, ended_at: datetime | None = None, prefix: str = "bench"
) -> list[Interaction]:
    """`count` interactions with every field filled and an email address, so each one is invited."""
    rng = random.Random(seed)
    end = (ended_at or datetime.now(timezone.utc)).replace(microsecond=0)
    records = []
    for i in range(count):
        trigger, channel, handled_by = SHAPES[i % len(SHAPES)]
        human = handled_by == "human"
        customer = f"cust-{rng.randrange(50_000):05d}"
        wait, handle = rng.randrange(600), rng.randrange(60, 1200)
        records.append(Interaction(
            interaction_id=f"{prefix}-{i:08d}-{rng.getrandbits(32):08x}", trigger=trigger, channel=channel,
            started_at=end - timedelta(seconds=wait + handle), ended_at=end, customer_id=customer,
            source_system="bench", customer_email=f"{customer}@customers.example", customer_phone="+34600111222",
            customer_locale="en", customer_segment=rng.choice(["consumer", "business"]), handled_by=handled_by,
            agent_id=f"agent-{rng.randrange(40):02d}" if human else None, agent_name="Ava" if human else None,
            team_id=rng.choice(["team-north", "team-south"]) if human else None, queue=f"{channel}-general",
            contact_reason=rng.choice(["billing", "delivery", "returns", "complaint"]),
            handle_time_seconds=handle, wait_time_seconds=wait, transfers=rng.choice([0, 0, 0, 1, 2]),
            resolved=rng.random() < 0.7, first_contact_resolution=rng.random() < 0.5,
        ))
    return records


def time_per_item(cases: dict[str, Callable[[], int]], repeats: int) -> dict[str, dict[str, float]]:
    """Time each case (a call that processes and returns n items) `repeats` times, round-robin so a noisy moment on
    the machine hits every case alike; best and median µs per item and items/s per case. Best is the steadier
    figure on a shared machine, median shows the noise."""
    per_item: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, run in cases.items():
            start = time.perf_counter()
            n = run()
            per_item[name].append((time.perf_counter() - start) / n * 1e6)
    out = {}
    for name, times in per_item.items():
        best, median = min(times), statistics.median(times)
        out[name] = {"us_per_item_best": round(best, 3), "us_per_item_median": round(median, 3),
                     "items_per_s_best": round(1e6 / best), "items_per_s_median": round(1e6 / median)}
    return out


def percentiles(values: Sequence[float], points: Sequence[int] = (50, 95, 99)) -> dict[str, float]:
    ordered = sorted(values)
    out = {}
    for p in points:  # nearest-rank
        index = max(0, min(len(ordered) - 1, -(-p * len(ordered) // 100) - 1))
        out[f"p{p}"] = round(ordered[index], 1)
    out["max"] = round(ordered[-1], 1)
    out["mean"] = round(statistics.fmean(ordered), 1)
    return out
