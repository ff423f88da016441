"""ClickHouse landing throughput into embedded chdb, by batch size, and the memory it takes.

Replays what `sinks.landing.Lander` does per batch, without Kafka: project each decoded `interaction-completed`
record to an `interactions` row with `cxloop.facts.fact_row` (pseudonymised customer, no PII), then one
`EmbeddedClickHouse.insert` per batch with a dedup token shaped like the lander's (`<topic>:<partition>:<a>-<b>`).
Each batch size lands `--rows` rows into its own freshly `migrate`d database; the row count is checked with FINAL.

Why: the lander cuts batches by `CXLOOP_SINK_BATCH_SIZE` (default 500) and commits offsets only after each insert,
so rows/s against batch size says how big batches must be to keep up with the stream, and ru_maxrss says what the
in-process engine costs in memory. Decoding is not timed here (see `bench.codec`).
Run: `.venv/bin/python -m bench.landing [--rows N] [--batch-sizes 100,500,2000]`.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import interactions, print_table, write_result
from cxloop.codec import Codec
from cxloop.facts import fact_row
from sinks.clickhouse import EmbeddedClickHouse, migrate, table_columns

PSEUDONYM_KEY = b"bench-pseudonym-key"


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def current_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def land(engine: EmbeddedClickHouse, records: list[dict[str, Any]], batch_size: int) -> dict[str, Any]:
    db = engine.using(f"bench_b{batch_size}_{uuid.uuid4().hex[:8]}")
    migrate(db)
    columns = table_columns(db, "interactions")
    project = insert = 0.0
    start = time.perf_counter()
    for first in range(0, len(records), batch_size):
        chunk = records[first : first + batch_size]
        t0 = time.perf_counter()
        rows = [fact_row(record, columns, PSEUDONYM_KEY) for record in chunk]
        t1 = time.perf_counter()
        db.insert("interactions", rows, dedup_token=f"bench.interaction-completed:0:{first}-{first + len(chunk) - 1}")
        project, insert = project + t1 - t0, insert + time.perf_counter() - t1
    total = time.perf_counter() - start
    landed = db.query(f"SELECT count() AS n FROM {db.database}.interactions FINAL")[0]["n"]
    assert landed == len(records), f"batch {batch_size}: {landed} rows landed, expected {len(records)}"
    batches = -(-len(records) // batch_size)
    return {
        "batch_size": batch_size, "rows": len(records), "batches": batches,
        "rows_per_s": round(len(records) / total), "insert_rows_per_s": round(len(records) / insert),
        "ms_per_insert": round(insert / batches * 1000, 2),
        "us_per_row_fact_row": round(project / len(records) * 1e6, 2),
        "seconds": round(total, 3), "peak_rss_mib_after": peak_rss_mib(), "rss_mib_after": current_rss_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.landing", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows landed per batch size (default 20000)")
    parser.add_argument("--batch-sizes", default="100,500,2000", help="comma-separated (default 100,500,2000)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.batch_sizes.split(",")]

    codec = Codec()
    calls = interactions(args.rows, prefix="land")
    # What the lander holds after decoding a message: the codec's dict, datetimes included.
    records = [codec.decode("interaction-completed", codec.encode("interaction-completed", c.to_record()))
               for c in calls]
    memory: dict[str, float] = {"peak_rss_mib_before_chdb": peak_rss_mib(), "rss_mib_before_chdb": current_rss_mib()}
    results = []
    with tempfile.TemporaryDirectory(prefix="cxloop-bench-chdb-") as tmp:
        engine = EmbeddedClickHouse(Path(tmp) / "chdb", "default")
        try:
            memory["rss_mib_after_open"] = current_rss_mib()
            for size in sizes:
                results.append(land(engine, records, size))
        finally:
            engine.close()
    memory["peak_rss_mib"] = peak_rss_mib()

    path = write_result("landing", {"rows_per_batch_size": args.rows, "batch_sizes": sizes, "table": "interactions",
                                    "engine": "chdb (embedded)"}, {"runs": results, "memory": memory})
    print(f"landing {args.rows} interactions rows into embedded chdb per batch size")
    print_table(
        ["batch size", "rows/s (fact_row+insert)", "insert rows/s", "ms per insert", "µs/row fact_row",
         "peak RSS MiB"],
        [[r["batch_size"], r["rows_per_s"], r["insert_rows_per_s"], r["ms_per_insert"], r["us_per_row_fact_row"],
          r["peak_rss_mib_after"]] for r in results],
    )
    print(f"RSS: {memory['rss_mib_before_chdb']} MiB before chdb, {memory['rss_mib_after_open']} MiB after opening it,"
          f" peak {memory['peak_rss_mib']} MiB (ru_maxrss)")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
