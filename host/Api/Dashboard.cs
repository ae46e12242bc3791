namespace PluginHost.Api;

/// <summary>
/// The live dashboard served at <c>GET /</c>: one self-contained page (no build step, no external resources). It follows
/// <c>GET /stream</c> (server-sent events, a snapshot a second) and shows every pipeline's state, events/s sparkline,
/// counters, lag, position, last error and transform diagnostics, events/s and lag charts over the last 15 minutes (a
/// ring of 900 points in the page, begun from <c>GET /history</c>), events per table, with pause / resume / restart / seek buttons that
/// ask for the admin token when the API wants one (kept in the tab's sessionStorage only).
/// </summary>
internal static class Dashboard
{
    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PluginHost</title>
<link rel="icon" href="data:,">
<style>
  :root { --bg:#f4f5f7; --card:#fff; --ink:#1d2330; --muted:#6b7280; --line:#e3e6eb; --accent:#2f6fde;
          --ok:#17803d; --warn:#b45309; --bad:#c62828; --idle:#6b7280; --info:#2f6fde; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; background:var(--bg); color:var(--ink); }
  header { display:flex; align-items:center; gap:12px; padding:12px 20px; background:#1d2330; color:#fff; position:sticky; top:0; z-index:2; }
  header h1 { font-size:18px; margin:0; font-weight:600; letter-spacing:.2px; }
  header .muted { color:#b8c0cc; }
  .spacer { flex:1; }
  .pill { display:inline-block; padding:1px 9px; border-radius:999px; font-size:12px; font-weight:600; text-transform:uppercase; letter-spacing:.4px;
          background:#e5e7eb; color:var(--idle); }
  .pill[data-state=UP], .pill[data-state=running] { background:#dcfce7; color:var(--ok); }
  .pill[data-state=DOWN], .pill[data-state=failed] { background:#fee2e2; color:var(--bad); }
  .pill[data-state=paused] { background:#fef3c7; color:var(--warn); }
  .pill[data-state=retrying], .pill[data-state=reconnecting], .pill[data-state=degraded], .pill[data-state=DEGRADED] { background:#ffedd5; color:#c2410c; }
  .held { color:#c2410c; }
  .pill[data-state=snapshotting] { background:#e0e7ff; color:#4338ca; }
  .pill[data-state=completed] { background:#f1f5f9; color:var(--muted); }
  .snapshot { margin-top:10px; padding-top:8px; border-top:1px dashed var(--line); }
  .snapshot label { display:block; font-size:11px; color:var(--muted); text-transform:uppercase; letter-spacing:.4px; }
  .snap-row { display:grid; grid-template-columns:minmax(120px,1.2fr) 2fr minmax(150px,1.3fr); gap:8px; align-items:center; font-size:12px; margin-top:4px; }
  .snap-row progress { width:100%; height:10px; }
  .pill[data-state=starting] { background:#dbeafe; color:var(--info); }
  .conn { font-size:12px; color:#b8c0cc; }
  .conn.live::before { content:"● "; color:#4ade80; }
  .conn.down::before { content:"● "; color:#f87171; }
  main { padding:18px 20px 60px; display:grid; gap:14px; grid-template-columns:repeat(auto-fill,minmax(min(560px,100%),1fr)); }
  .card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:14px 16px; box-shadow:0 1px 2px rgba(0,0,0,.04); }
  .card[data-state=failed] { border-color:#f5b5b5; }
  .card[data-state=paused] { border-color:#f3d58a; }
  .head { display:flex; align-items:center; gap:8px; margin-bottom:10px; flex-wrap:wrap; }
  .head .actions { display:flex; gap:6px; margin-left:auto; }
  .head h2 { font-size:16px; margin:0; }
  .muted { color:var(--muted); font-size:12px; }
  button { font:inherit; font-size:13px; padding:3px 9px; border-radius:6px; border:1px solid #c9ced6; background:#fff; color:var(--ink); cursor:pointer; }
  button:hover:not(:disabled) { border-color:var(--accent); color:var(--accent); }
  button:disabled { opacity:.45; cursor:default; }
  header button { background:transparent; color:#fff; border-color:#4b5563; }
  .grid { display:grid; grid-template-columns:repeat(4,1fr); gap:8px 14px; }
  .stat label, .error label, .transform label { display:block; font-size:11px; color:var(--muted); text-transform:uppercase; letter-spacing:.4px; }
  .stat span { font-size:18px; font-weight:600; font-variant-numeric:tabular-nums; }
  .stat.wide { grid-column:span 2; }
  .stat.wide span, .stat.small span { font-size:13px; font-weight:500; }
  .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }
  .eps-box { grid-column:span 2; display:flex; align-items:flex-end; gap:10px; }
  .spark { width:100%; height:34px; }
  .spark polyline { fill:none; stroke:var(--accent); stroke-width:1.6; vector-effect:non-scaling-stroke; }
  .spark .area { fill:rgba(47,111,222,.10); stroke:none; }
  .charts { display:grid; grid-template-columns:repeat(auto-fit,minmax(min(240px,100%),1fr)); gap:8px 14px; margin-top:10px; }
  .chart label, .per-table label { display:block; font-size:11px; color:var(--muted); text-transform:uppercase; letter-spacing:.4px; }
  .chart svg { display:block; width:100%; height:130px; }
  .chart .axis { stroke:#9ca3af; stroke-width:1; }
  .chart .grid-line { stroke:var(--line); stroke-width:1; }
  .chart .series { fill:none; stroke:var(--accent); stroke-width:1.5; }
  .chart-lag .series { stroke:var(--warn); }
  .chart text { font-size:10px; fill:var(--muted); font-family:system-ui,sans-serif; }
  .per-table { margin-top:10px; padding-top:8px; border-top:1px dashed var(--line); overflow-x:auto; }
  .per-table table { border-collapse:collapse; font-size:12px; width:100%; }
  .per-table th, .per-table td { text-align:right; padding:1px 8px; font-variant-numeric:tabular-nums; }
  .per-table th:first-child, .per-table td:first-child { text-align:left; word-break:break-all; }
  .error, .transform { margin-top:10px; padding-top:8px; border-top:1px dashed var(--line); }
  .error pre { color:var(--bad); }
  .transform .rules { white-space:pre-wrap; font-size:12px; margin:4px 0 0; }
  .diagnostics.rejected { color:var(--warn); background:#fffbeb; border-left:3px solid var(--warn); padding:4px 8px; }
  @media (max-width:600px) {
    header { flex-wrap:wrap; padding:10px 12px; }
    main { padding:10px 10px 40px; }
    .grid { grid-template-columns:repeat(2,minmax(0,1fr)); }
    .head .actions { margin-left:0; flex-wrap:wrap; }
    .snap-row { grid-template-columns:1fr; }
    .card { padding:12px; }
  }
  pre { margin:4px 0 0; white-space:pre-wrap; word-break:break-word; font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }
  #empty { grid-column:1/-1; text-align:center; padding:40px; }
  #toast { position:fixed; right:18px; bottom:18px; max-width:520px; padding:10px 14px; border-radius:8px; background:#1d2330; color:#fff;
           font-size:13px; opacity:0; transition:opacity .2s; pointer-events:none; }
  #toast.show { opacity:.95; }
  #toast.bad { background:var(--bad); }
</style>
</head>
<body>
<header>
  <h1>PluginHost</h1>
  <span id="host-status" class="pill">…</span>
  <span id="host-meta" class="muted"></span>
  <span class="spacer"></span>
  <span id="conn" class="conn">connecting…</span>
  <button id="token-button" type="button" title="The admin token (server.admin_token), kept in this tab only">Token</button>
</header>
<main id="pipelines"><p id="empty" class="muted">connecting…</p></main>
<div id="toast" role="status" aria-live="polite"></div>

<template id="card-template">
  <section class="card">
    <div class="head">
      <h2 class="name"></h2>
      <span class="state pill"></span>
      <span class="origin muted"></span>
      <span class="actions">
        <button type="button" class="pause">Pause</button>
        <button type="button" class="resume">Resume</button>
        <button type="button" class="restart">Restart</button>
        <button type="button" class="seek">Seek…</button>
        <button type="button" class="snap" title="Read tables' existing rows into the running pipeline">Snapshot…</button>
      </span>
    </div>
    <div class="grid">
      <div class="eps-box">
        <div class="stat"><label>events/s</label><span class="eps">0</span></div>
        <svg class="spark" viewBox="0 0 240 34" preserveAspectRatio="none" aria-label="events per second, last minute">
          <polygon class="area" points=""></polygon><polyline points=""></polyline>
        </svg>
      </div>
      <div class="stat"><label>events in</label><span class="events-in">0</span></div>
      <div class="stat"><label>events out</label><span class="events-out">0</span></div>
      <div class="stat"><label>lag</label><span class="lag">–</span></div>
      <div class="stat"><label>queue (chunks)</label><span class="queue">0</span></div>
      <div class="stat"><label>in flight (events)</label><span class="in-flight">0</span></div>
      <div class="stat wide small"><label>filtered · dropped · skipped · dead-lettered</label><span class="others"></span></div>
      <div class="stat wide small"><label>position</label><span class="position mono"></span></div>
      <div class="stat wide small"><label>sink</label><span class="sink"></span></div>
      <div class="stat wide small targets-box" hidden><label>sink targets failing</label><span class="targets"></span></div>
      <div class="stat wide small held-box" hidden><label>held</label><span class="held"></span></div>
    </div>
    <div class="charts">
      <div class="chart chart-eps"><label>events/s · last 15 min (UTC)</label><svg role="img" aria-label="events per second, last 15 minutes"></svg></div>
      <div class="chart chart-lag"><label>lag (s) · last 15 min (UTC)</label><svg role="img" aria-label="lag in seconds, last 15 minutes"></svg></div>
    </div>
    <div class="per-table" hidden><label>events per table (in · out)</label>
      <table><thead><tr><th>table</th><th>in</th><th>out</th></tr></thead><tbody></tbody></table></div>
    <div class="snapshot" hidden><label>snapshot <span class="snapshot-meta"></span> <button type="button" class="snap-cancel" hidden>Cancel</button></label><div class="snapshot-tables"></div></div>
    <div class="error" hidden><label>last error <span class="error-at"></span></label><pre class="error-text"></pre></div>
    <div class="transform" hidden><label>transform</label><span class="transform-info mono"></span><pre class="rules" hidden></pre><pre class="diagnostics" hidden></pre></div>
  </section>
</template>

<script>
"use strict";
const TOKEN_KEY = "pluginhost.admin_token";
const main = document.getElementById("pipelines");
const empty = document.getElementById("empty");
const cards = new Map();
const q = (root, selector) => root.querySelector(selector);
const number = n => Number(n || 0).toLocaleString("en-US");
// Times as ISO 8601 in UTC, to the second: 2026-11-21T10:00:00Z.
const utc = t => new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");

function lag(seconds) {
  if (!seconds || seconds < 1) return "0 s";
  if (seconds < 120) return seconds.toFixed(0) + " s";
  if (seconds < 7200) return (seconds / 60).toFixed(1) + " min";
  return (seconds / 3600).toFixed(1) + " h";
}

let toastTimer;
function toast(message, bad) {
  const t = document.getElementById("toast");
  t.textContent = message;
  t.className = "show" + (bad ? " bad" : "");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.className = bad ? "bad" : "", bad ? 8000 : 3000);
}

function spark(svg, values) {
  const points = values && values.length ? values : [0];
  const max = Math.max(1, ...points);
  const w = 240, h = 34, step = points.length > 1 ? w / (points.length - 1) : w;
  const xy = points.map((v, i) => (i * step).toFixed(1) + "," + (h - 2 - (v / max) * (h - 4)).toFixed(1));
  q(svg, "polyline").setAttribute("points", xy.join(" "));
  q(svg, "polygon").setAttribute("points", "0," + h + " " + xy.join(" ") + " " + ((points.length - 1) * step).toFixed(1) + "," + h);
}

// 15 minutes of events/s and lag per pipeline, a point a second (Unix seconds), begun from GET /history.
const RING = 900;
const rings = new Map();
const SVG = "http://www.w3.org/2000/svg";
function svgEl(parent, tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  parent.appendChild(e);
  return e;
}

function remember(name, point) {
  let ring = rings.get(name);
  if (!ring) rings.set(name, ring = []);
  if (ring.length && ring[ring.length - 1].t >= point.t) ring[ring.length - 1] = point; else ring.push(point);
  while (ring.length > RING || ring.length && ring[0].t < point.t - RING) ring.shift();
  return ring;
}

// A round top for the value axis: 1, 2, 5 × 10^n.
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  return [1, 2, 5, 10].map(m => m * p).find(m => m >= v);
}

function shortNumber(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(v % 1e6 ? 1 : 0) + "M";
  if (v >= 1e3) return (v / 1e3).toFixed(v % 1e3 ? 1 : 0) + "k";
  return String(Math.round(v * 100) / 100);
}

const hhmm = t => new Date(t * 1000).toISOString().slice(11, 16);

// A line chart with a time axis (HH:MM UTC, every 5 minutes) and a value axis (0, half, top), over the last 15 minutes.
function chart(svg, ring, key, now) {
  const w = Math.max(160, Math.round(svg.getBoundingClientRect().width) || 300), h = 130;
  const left = 38, right = 8, top = 8, bottom = 20, pw = w - left - right, ph = h - top - bottom;
  const from = now - RING, max = niceMax(Math.max(0, ...ring.map(p => p[key])));
  const x = t => left + (t - from) / RING * pw, y = v => top + ph - v / max * ph;
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  svg.replaceChildren();
  for (const v of [0, max / 2, max]) {
    svgEl(svg, "line", { class: "grid-line", x1: left, x2: left + pw, y1: y(v), y2: y(v) });
    svgEl(svg, "text", { class: "y-label", x: left - 4, y: y(v) + 3, "text-anchor": "end" }, shortNumber(v));
  }
  const step = pw < 220 ? 600 : 300;
  for (let t = Math.ceil(from / step) * step; t <= now; t += step) {
    svgEl(svg, "line", { class: "axis", x1: x(t), x2: x(t), y1: top + ph, y2: top + ph + 3 });
    svgEl(svg, "text", { class: "x-label", x: x(t), y: h - 5, "text-anchor": "middle" }, hhmm(t));
  }
  svgEl(svg, "line", { class: "axis x-axis", x1: left, x2: left + pw, y1: top + ph, y2: top + ph });
  svgEl(svg, "line", { class: "axis y-axis", x1: left, x2: left, y1: top, y2: top + ph });
  const points = ring.filter(p => p.t >= from).map(p => x(p.t).toFixed(1) + "," + y(p[key]).toFixed(1));
  if (points.length) svgEl(svg, "polyline", { class: "series", points: points.join(" ") });
}

function perTable(card, tables) {
  const box = q(card, ".per-table");
  box.hidden = !tables || tables.length === 0;
  if (box.hidden) return;
  q(box, "tbody").replaceChildren(...tables.map(t => {
    const row = document.createElement("tr");
    row.dataset.table = t.table;
    for (const [cls, text] of [["name mono", t.table], ["in", number(t.in)], ["out", number(t.out)]]) {
      const cell = document.createElement("td");
      cell.className = cls;
      cell.textContent = text;
      row.appendChild(cell);
    }
    return row;
  }));
}

async function loadHistory() {
  try {
    const response = await fetch("history");
    if (!response.ok) return;
    for (const h of await response.json()) {
      const ring = rings.get(h.name) || [];
      const first = ring.length ? ring[0].t : Infinity;
      const older = h.points.filter(p => p.t < first).map(p => ({ t: p.t, eps: p.events_per_second, lag: p.lag_seconds }));
      rings.set(h.name, older.concat(ring).slice(-RING));
    }
  } catch (e) { }
}

function createCard(name) {
  const card = document.getElementById("card-template").content.firstElementChild.cloneNode(true);
  card.dataset.pipeline = name;
  q(card, ".name").textContent = name;
  q(card, ".pause").addEventListener("click", () => act(name, "pause"));
  q(card, ".resume").addEventListener("click", () => act(name, "resume"));
  q(card, ".restart").addEventListener("click", () => act(name, "restart"));
  q(card, ".seek").addEventListener("click", () => {
    const target = prompt("Seek " + name + " to: latest, earliest, a GTID (0-1-42) or file:pos (mysql-bin.000001:4)", "latest");
    if (target && target.trim()) act(name, "seek", seekBody(target));
  });
  q(card, ".snap").addEventListener("click", () => {
    const tables = prompt("Snapshot of " + name + ": tables (database.table, * allowed, comma-separated)", "");
    if (!tables || !tables.trim()) return;
    const where = prompt("Only rows where (a SQL condition; leave empty for every row)", "");
    const body = { tables: tables.split(",").map(t => t.trim()).filter(t => t) };
    if (where && where.trim()) body.where = where.trim();
    act(name, "snapshot", body);
  });
  q(card, ".snap-cancel").addEventListener("click", () => act(name, "snapshot", undefined, "DELETE"));
  return card;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 90) return seconds.toFixed(0) + " s";
  if (seconds < 5400) return (seconds / 60).toFixed(0) + " min";
  return (seconds / 3600).toFixed(1) + " h";
}

function snapshot(card, s) {
  const box = q(card, ".snapshot");
  box.hidden = !s;
  if (!s) return;
  q(card, ".snapshot-meta").textContent = "· " + s.kind + (s.active ? "" : s.ended_because ? " · ended: " + s.ended_because : " · done");
  q(card, ".snap-cancel").hidden = !s.active;
  const list = q(card, ".snapshot-tables");
  list.replaceChildren(...s.tables.map(t => {
    const row = document.createElement("div");
    row.className = "snap-row";
    const name = document.createElement("span");
    name.className = "mono";
    name.textContent = t.table + (t.where ? " where " + t.where : "");
    const bar = document.createElement("progress");
    bar.max = 100;
    if (t.percent !== null && t.percent !== undefined) bar.value = t.percent;
    const text = document.createElement("span");
    text.textContent = t.done
      ? number(t.rows) + " rows · done"
      : number(t.rows) + (t.estimated_rows !== null && t.estimated_rows !== undefined ? " / ~" + number(t.estimated_rows) : "") +
        " · " + number(Math.round(t.rows_per_second)) + "/s · ETA " + duration(t.eta_seconds);
    row.append(name, bar, text);
    return row;
  }));
}

function seekBody(text) {
  const t = text.trim();
  if (t === "latest" || t === "earliest") return { start: t };
  if (/^\d+-\d+-\d+(\s*,\s*\d+-\d+-\d+)*$/.test(t) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:/i.test(t)) return { gtid: t };
  const m = /^(.+):(\d+)$/.exec(t);
  if (m) return { file: m[1], pos: Number(m[2]) };
  return { gtid: t };
}

function update(card, p) {
  card.dataset.state = p.state;
  const state = q(card, ".state");
  state.textContent = p.state;
  state.dataset.state = p.state;
  q(card, ".origin").textContent = (p.origin === "api" ? "via API" : "config file") + (p.node ? " · node " + p.node : "");
  q(card, ".origin").title = p.origin === "api" ? "created or changed over the REST API" : "defined in the configuration file";
  q(card, ".eps").textContent = (p.events_per_second || 0).toFixed(1);
  spark(q(card, ".spark"), p.events_per_second_history);
  const now = Math.floor(Date.now() / 1000);
  const ring = remember(p.name, { t: now, eps: p.events_per_second || 0, lag: p.lag_seconds || 0 });
  chart(q(card, ".chart-eps svg"), ring, "eps", now);
  chart(q(card, ".chart-lag svg"), ring, "lag", now);
  perTable(card, p.tables);
  q(card, ".events-in").textContent = number(p.events.in);
  q(card, ".events-out").textContent = number(p.events.out);
  q(card, ".lag").textContent = lag(p.lag_seconds);
  q(card, ".queue").textContent = number(p.queue_depth);
  q(card, ".others").textContent = [p.events.filtered, p.events.dropped, p.events.skipped, p.events.dead_lettered].map(number).join(" · ");
  const pos = p.position;
  q(card, ".position").textContent = pos
    ? pos.text
    : "no checkpoint yet";
  q(card, ".sink").textContent = p.sink.type + (p.sink.origin ? " (" + p.sink.origin + ")" : "");
  q(card, ".in-flight").textContent = number(p.in_flight ? p.in_flight.events : 0);
  const failing = (p.sink.targets || []).filter(t => t.failing);
  q(card, ".targets-box").hidden = failing.length === 0;
  q(card, ".targets").textContent = failing.map(t => t.name + ": " + (t.last_error || "failing") + " (" + number(t.pending) + " waiting)").join(" · ");
  q(card, ".held-box").hidden = !(p.in_flight && p.in_flight.held_by);
  q(card, ".held").textContent = p.in_flight && p.in_flight.held_by ? p.in_flight.held_by : "";
  snapshot(card, p.snapshot);
  const error = q(card, ".error");
  error.hidden = !p.last_error;
  if (p.last_error) {
    q(card, ".error-text").textContent = p.last_error.message;
    q(card, ".error-at").textContent = p.last_error.at ? "· " + utc(p.last_error.at) : "";
  }
  const transform = q(card, ".transform");
  transform.hidden = !p.transform;
  if (p.transform) {
    q(card, ".transform-info").textContent = (p.transform.path || "(transform)") + "  ·  version " + (p.transform.version || "none live");
    // A JavaScript rule chain: each rule, what it matches and whether it compiled (its errors are in the diagnostics below).
    const rules = q(card, ".rules"), list = p.transform.rules || [];
    rules.hidden = list.length === 0;
    rules.textContent = list.map(r => r.state + "  " + r.name + "  ·  " + (r.file || "inline") + "  ·  schema /" + r.match_schema + "/ table /" + r.match_table + "/").join("\n");
    const diagnostics = q(card, ".diagnostics");
    diagnostics.hidden = !p.transform.diagnostics;
    diagnostics.textContent = p.transform.diagnostics || "";
    // A save the compiler rejected (the previous version runs on) stands out; warnings alone stay plain.
    diagnostics.classList.toggle("rejected", /\berror [A-Z]+\d+/.test(p.transform.diagnostics || ""));
  }
  const paused = p.state === "paused", disabled = p.state === "disabled";
  q(card, ".pause").disabled = paused || disabled;
  q(card, ".resume").disabled = disabled || !(paused || p.state === "failed" || p.state === "stopped");
  q(card, ".restart").disabled = disabled;
  q(card, ".seek").disabled = disabled;
  q(card, ".snap").disabled = !(p.state === "running" || p.state === "snapshotting" || p.state === "degraded");
}

function render(snapshot) {
  const status = document.getElementById("host-status");
  status.textContent = snapshot.status;
  status.dataset.state = snapshot.status;
  document.getElementById("host-meta").textContent = "v" + snapshot.version + " · up " + snapshot.uptime +
    " · " + snapshot.pipelines.length + " pipeline" + (snapshot.pipelines.length === 1 ? "" : "s");
  const seen = new Set();
  for (const p of snapshot.pipelines) {
    seen.add(p.name);
    let card = cards.get(p.name);
    if (!card) {
      card = createCard(p.name);
      cards.set(p.name, card);
      main.appendChild(card);
    }
    update(card, p);
  }
  for (const [name, card] of cards)
    if (!seen.has(name)) { card.remove(); cards.delete(name); }
  empty.textContent = "No pipelines yet.";
  empty.hidden = cards.size > 0;
}

async function act(name, action, body, method) {
  const url = "pipelines/" + encodeURIComponent(name) + "/" + action;
  for (let attempt = 0; attempt < 3; attempt++) {
    const headers = { "Content-Type": "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers["Authorization"] = "Bearer " + token;
    let response;
    try {
      response = await fetch(url, { method: method || "POST", headers, body: body === undefined ? "" : JSON.stringify(body) });
    } catch (e) {
      toast(action + " " + name + ": " + e.message, true);
      return;
    }
    if (response.status === 401) {
      const entered = prompt((token ? "That token was refused. " : "") + "Admin token (server.admin_token) to " + action + " " + name + ":");
      if (!entered) { toast(action + " " + name + ": the admin token is needed", true); return; }
      sessionStorage.setItem(TOKEN_KEY, entered.trim());
      continue;
    }
    let payload = {};
    try { payload = await response.json(); } catch (e) { }
    if (!response.ok) {
      const fields = payload.errors ? Object.entries(payload.errors).map(([k, v]) => k + ": " + v.join("; ")).join(" · ") : "";
      toast(action + " " + name + ": " + (payload.detail || payload.title || response.statusText) + (fields ? " — " + fields : ""), true);
      return;
    }
    if (cards.has(name)) update(cards.get(name), payload);
    toast(name + ": " + action + " done — " + payload.state);
    return;
  }
}

document.getElementById("token-button").addEventListener("click", () => {
  const entered = prompt("Admin token (server.admin_token) for this tab; empty to forget it:", "");
  if (entered === null) return;
  if (entered.trim()) sessionStorage.setItem(TOKEN_KEY, entered.trim()); else sessionStorage.removeItem(TOKEN_KEY);
  toast(entered.trim() ? "token kept for this tab" : "token forgotten");
});

const conn = document.getElementById("conn");
// The history first (it is small and quick), so the charts open with the last 15 minutes.
loadHistory().finally(() => {
  const events = new EventSource("stream");
  events.onopen = () => { conn.textContent = "live"; conn.className = "conn live"; };
  events.onerror = () => { conn.textContent = "reconnecting…"; conn.className = "conn down"; };
  events.onmessage = e => render(JSON.parse(e.data));
});
</script>
</body>
</html>
""";
}
