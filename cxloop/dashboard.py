"""The built-in live dashboard: one page and its data endpoint, served next to the ClickHouse lander.

`GET /dashboard` is a static page that fetches `GET /dashboard/data?since=24h&bucket=1m` every 2 seconds and draws
the trend with its interval band, the funnel, team and agent tables (ranked on the interval's lower bound, low n
flagged), open cases and SLA, what to fix first (the cached driver analysis) and the top themes. Every text from
the data is put in the page with `textContent`, never as HTML, so customer words cannot become markup. It reads the
same ClickHouse the lander writes (with the embedded chdb, only one process can: that is why the lander's process
serves it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from cxloop.case_figures import case_figures, case_rows
from cxloop.clock import Clock, SystemClock
from cxloop.driver_cache import latest_drivers
from cxloop.figures import correlations, funnel, ranked, score_figures, top_themes, trend
from cxloop.programs import parse_duration
from cxloop.scoring import METRICS
from sinks.clickhouse import ClickHouse

log = logging.getLogger(__name__)


def dashboard_data(clickhouse: ClickHouse, now: datetime, since: timedelta, bucket: timedelta) -> dict[str, Any]:
    start = now - since
    cases = case_figures(case_rows(clickhouse), "team", now)
    return {
        "generated_at": now.isoformat(),
        "since": start.isoformat(),
        "bucket_seconds": int(bucket.total_seconds()),
        "headline": [f.as_dict() for f in score_figures(clickhouse, None, start)],
        "trend": {m: [f.as_dict() for f in trend(clickhouse, m, bucket, start)] for m in METRICS},
        "teams": [f.as_dict() for f in ranked(score_figures(clickhouse, "team", start))],
        "agents": [f.as_dict() for f in ranked(score_figures(clickhouse, "agent", start))],
        "funnel": funnel(clickhouse, now, start),
        "cases": [{**c.as_dict(), "open": c.cases - c.closed} for c in cases],
        "themes": top_themes(clickhouse, start),
        "correlations": correlations(clickhouse, start),
        "fix_first": [{"metric": r["metric"], "n": r["n"], "computed_at": r["computed_at"], **i}
                      for r in latest_drivers(clickhouse) for i in r["impacts"][:5]],
    }


def create_dashboard_app(clickhouse: ClickHouse, clock: Clock | None = None) -> web.Application:
    clock = clock or SystemClock()
    lock = asyncio.Lock()

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def home(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/dashboard")

    async def data(request: web.Request) -> web.Response:
        try:
            since = parse_duration(request.query.get("since", "24h"))
            bucket = parse_duration(request.query.get("bucket", "1m"))
        except ValueError as exc:
            return web.json_response({"error": f"since/bucket: {exc}"}, status=400)
        if bucket.total_seconds() < 1 or since / bucket > 2000:
            return web.json_response({"error": "bucket must be at least 1s and since at most 2000 buckets"},
                                     status=400)
        async with lock:  # one query set at a time against the shared engine
            body = await asyncio.to_thread(dashboard_data, clickhouse, clock.now(), since, bucket)
        return web.json_response(body, dumps=_dumps)

    app = web.Application()
    app.router.add_get("/dashboard", page)
    app.router.add_get("/dashboard/data", data)
    app.router.add_get("/", home)
    return app


class DashboardServer:
    """The dashboard on its own thread and event loop, beside a blocking lander."""

    def __init__(self, clickhouse: ClickHouse, host: str, port: int) -> None:
        self._app = create_dashboard_app(clickhouse)
        self._host, self._port = host, port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self._thread = threading.Thread(target=self._serve, name="dashboard", daemon=True)

    def start(self) -> DashboardServer:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the dashboard did not start")
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(self._app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, self._host, self._port)
        self._loop.run_until_complete(site.start())
        port = self._runner.addresses[0][1]
        self.url = f"http://{self._host}:{port}/dashboard"
        log.info("dashboard at %s", self.url)
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        if self._runner is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, default=str)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>cxloop live</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:0;padding:1rem;color:#111;background:#f6f7f9}
h1{font-size:1.3rem;margin:0 0 .5rem}h2{font-size:1.05rem;margin:1.2rem 0 .4rem}
.cards{display:flex;flex-wrap:wrap;gap:.6rem}.card{background:#fff;border:1px solid #ccd;border-radius:6px;
padding:.6rem .9rem;min-width:14rem}.big{font-size:1.6rem;font-weight:600}.muted{color:#555;font-size:.85rem}
table{border-collapse:collapse;background:#fff;width:100%;max-width:60rem}th,td{border-bottom:1px solid #dde;
padding:.25rem .5rem;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.low{color:#8a5a00}svg{background:#fff;border:1px solid #ccd;border-radius:6px;max-width:100%}
</style></head>
<body><main>
<h1>cxloop live <span class="muted" id="updated" data-testid="updated"></span></h1>
<div class="cards" id="headline" data-testid="headline"></div>
<h2>Trend (<select id="metric" aria-label="Metric"><option>nps</option><option>csat</option>
<option>ces</option></select>, 95% interval band)</h2>
<svg id="trend" data-testid="trend" width="720" height="200" role="img" aria-label="Trend"></svg>
<h2>Funnel by channel</h2><table data-testid="funnel"><thead><tr><th>channel</th><th>interactions</th>
<th>sampled</th><th>delivered</th><th>responded</th><th>response rate</th></tr></thead><tbody id="funnel"></tbody>
</table>
<h2>Teams (ranked on the interval's lower bound)</h2><table data-testid="teams"><thead><tr><th>team</th>
<th>metric</th><th>n</th><th>figure</th></tr></thead><tbody id="teams"></tbody></table>
<h2>Agents</h2><table data-testid="agents"><thead><tr><th>agent</th><th>metric</th><th>n</th><th>figure</th></tr>
</thead><tbody id="agents"></tbody></table>
<h2>Follow-up cases</h2><table data-testid="cases"><thead><tr><th>team</th><th>cases</th><th>open</th>
<th>SLA met</th><th>recovered</th></tr></thead><tbody id="cases"></tbody></table>
<h2>What to fix first (points gained if a theme's unhappy answers were not)</h2><table data-testid="fix-first">
<thead><tr><th>metric</th><th>theme</th><th>points</th><th>95% CI</th><th>share of answers</th></tr></thead>
<tbody id="fix-first"></tbody></table>
<h2>Top themes</h2><table data-testid="themes"><thead><tr><th>theme</th><th>mentions</th><th>from detractors</th>
</tr></thead><tbody id="themes"></tbody></table>
</main>
<script>
"use strict";
let latest = null;
const pct = v => v === null || v === undefined ? "-" : (100 * v).toFixed(0) + "%";
function cell(row, text, cls) { const td = document.createElement("td"); td.textContent = text;
  if (cls) td.className = cls; row.appendChild(td); return td; }
function fill(id, rows, cols) { const body = document.getElementById(id); body.replaceChildren();
  for (const r of rows) { const tr = document.createElement("tr"); for (const c of cols) c(tr, r);
    body.appendChild(tr); } }
function figureCells(tr, f) { cell(tr, f.metric); cell(tr, String(f.n), "num");
  cell(tr, f.headline + (f.low_n ? "  (low n)" : ""), f.low_n ? "low" : ""); }
function drawTrend() {
  const svg = document.getElementById("trend"); svg.replaceChildren();
  const points = (latest.trend[document.getElementById("metric").value] || []).filter(p => p.value !== null);
  if (!points.length) return;
  const W = 720, H = 200, pad = 24, lo = Math.min(...points.map(p => p.low)), hi = Math.max(...points.map(p => p.high));
  const x = i => pad + (points.length === 1 ? (W - 2 * pad) / 2 : i * (W - 2 * pad) / (points.length - 1));
  const y = v => H - pad - (hi === lo ? 0.5 : (v - lo) / (hi - lo)) * (H - 2 * pad);
  const ns = "http://www.w3.org/2000/svg";
  const band = document.createElementNS(ns, "polygon");
  band.setAttribute("points", points.map((p, i) => x(i) + "," + y(p.high)).concat(
    points.map((p, i) => x(i) + "," + y(p.low)).reverse()).join(" "));
  band.setAttribute("fill", "#b8cdea"); band.setAttribute("data-testid", "band"); svg.appendChild(band);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.map((p, i) => x(i) + "," + y(p.value)).join(" "));
  line.setAttribute("fill", "none"); line.setAttribute("stroke", "#0b4f9c"); line.setAttribute("stroke-width", "2");
  svg.appendChild(line);
}
function render() {
  document.getElementById("updated").textContent = "updated " + latest.generated_at;
  const cards = document.getElementById("headline"); cards.replaceChildren();
  for (const f of latest.headline) { const d = document.createElement("div"); d.className = "card";
    d.setAttribute("data-metric", f.metric); const big = document.createElement("div"); big.className = "big";
    big.textContent = f.short; const small = document.createElement("div");
    small.className = "muted"; small.textContent = f.headline; d.append(big, small); cards.appendChild(d); }
  drawTrend();
  fill("funnel", latest.funnel, [(tr, r) => cell(tr, r.channel), (tr, r) => cell(tr, String(r.interactions), "num"),
    (tr, r) => cell(tr, String(r.sampled), "num"), (tr, r) => cell(tr, String(r.delivered), "num"),
    (tr, r) => cell(tr, String(r.responded), "num"), (tr, r) => cell(tr, pct(r.response_rate), "num")]);
  fill("teams", latest.teams, [(tr, f) => cell(tr, f.group), figureCells]);
  fill("agents", latest.agents, [(tr, f) => cell(tr, f.group), figureCells]);
  fill("cases", latest.cases, [(tr, c) => cell(tr, c.group), (tr, c) => cell(tr, String(c.cases), "num"),
    (tr, c) => cell(tr, String(c.open), "num"), (tr, c) => cell(tr, pct(c.sla_compliance), "num"),
    (tr, c) => cell(tr, c.recovered + "/" + c.answered_again, "num")]);
  fill("fix-first", latest.fix_first, [(tr, f) => cell(tr, f.metric), (tr, f) => cell(tr, f.theme),
    (tr, f) => cell(tr, f.impact.toFixed(1), "num"),
    (tr, f) => cell(tr, f.impact_low.toFixed(1) + ".." + f.impact_high.toFixed(1), "num"),
    (tr, f) => cell(tr, f.share.toFixed(0) + "%", "num")]);
  fill("themes", latest.themes, [(tr, t) => cell(tr, t.theme), (tr, t) => cell(tr, String(t.n), "num"),
    (tr, t) => cell(tr, String(t.detractors), "num")]);
}
async function refresh() {
  try { const reply = await fetch("/dashboard/data" + location.search);
    if (reply.ok) { latest = await reply.json(); render(); } } catch (e) { /* the next refresh tries again */ }
}
document.getElementById("metric").addEventListener("change", () => latest && drawTrend());
refresh(); setInterval(refresh, 2000);
</script></body></html>
"""
