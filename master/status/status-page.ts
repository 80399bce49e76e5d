import { READINGS_CHART_SCRIPT } from "./readings-chart.js";

/**
 * The status page: one document (no CDN, no build step; uPlot is served by the master
 * itself at /assets/) that reads the admin token from the URL fragment (never sent to the
 * server or its logs), then follows `/v1/events` (server-sent events over fetch, so the
 * token goes in a header). The readings chart is readings-chart.ts.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Outpost master</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/uplot.css">
<script src="/assets/uplot.js"></script>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f7f9; }
  header { background: #1b1f24; color: #fff; padding: 10px 20px; display: flex; gap: 20px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  #conn { font-size: 12px; }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  section { background: #fff; border: 1px solid #d8dde3; border-radius: 6px; padding: 12px 16px; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceff2; vertical-align: top; }
  th { font-weight: 600; color: #57606a; }
  .ok { color: #1a7f37; font-weight: 600; }
  .bad { color: #cf222e; font-weight: 600; }
  .wait { color: #9a6700; font-weight: 600; }
  .muted { color: #57606a; }
  #picker { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: baseline; margin-bottom: 8px; }
  #tags label { margin-right: 12px; white-space: nowrap; }
  #chart { width: 100%; min-height: 320px; }
  code { font-size: 12px; }
</style>
</head>
<body>
<header><h1>Outpost master</h1><span id="conn" class="muted">connecting…</span>
  <span id="throughput" class="muted"></span></header>
<main>
  <section><h2>Nodes</h2><table id="nodes"><thead><tr><th>node</th><th>state</th>
    <th>last seen</th><th>agent</th><th>arch / board</th><th>CPUs</th><th>RT cores</th>
    <th>telemetry</th><th>buffer backlog</th><th>readings</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Instances</h2><table id="instances"><thead><tr><th>instance</th><th>node</th>
    <th>state</th><th>promises</th><th>connection</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Telemetry</h2>
    <div id="picker"><label>node <select id="pick-node"></select></label>
      <label>last <select id="pick-range"></select></label><span id="tags"></span></div>
    <div id="chart" role="img" aria-label="chart of the chosen readings"></div>
    <div id="chart-note" class="muted"></div>
    <div id="decode-failures"></div></section>
</main>
<script>${READINGS_CHART_SCRIPT}</script>
<script>
"use strict";
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const text = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const ago = (t) => (t ? Math.max(0, Math.round((Date.now() - t) / 1000)) + " s ago" : "never");
const size = (b) => (b < 1024 ? b + " B" : b < 1048576 ? (b / 1024).toFixed(1) + " KiB" : (b / 1048576).toFixed(1) + " MiB");
// The figure of the node's last report: while its link is down it cannot say it grows.
const backlog = (b, online) => (b ? "<td class=\\"backlog " + (b.oldestAgeMs > 10000 ? "wait" : "muted") + "\\" data-records=\\"" + b.records + "\\">" +
  b.records + " records (" + size(b.bytes) + "), oldest " + Math.round(b.oldestAgeMs / 1000) + " s" +
  (b.peakRecords > b.records ? "; peak " + b.peakRecords + " in the last minute" : "") +
  (online ? "" : ", as of " + ago(b.at)) + "</td>" : "<td class=backlog>-</td>");
// Counted, never silent: readings stamped days late or outside any plausible clock, readings
// past raw retention on arrival (rolled up only), chunks kept raw until their schema comes,
// chunks kept raw because they did not decode.
const health = (c) => {
  if (!c) return "<td class=readings>-</td>";
  const parts = [[c.late, "late"], [c.clockSuspect, "clock suspect"], [c.expired, "expired on arrival"], [c.awaitingSchema, "chunks awaiting schema"], [c.decodeFailed, "chunks not decoded"]]
    .filter(([n]) => n > 0).map(([n, what]) => n + " " + what);
  return "<td class=\\"readings " + (c.decodeFailed > 0 ? "bad" : parts.length ? "wait" : "muted") + "\\">" + (parts.join(", ") || "-") + "</td>";
};
const stateClass = (s) => (s === "ready" || s === "online" ? "ok" : s === "failed" || s === "offline" ? "bad" : "wait");

function render(s) {
  document.getElementById("throughput").textContent = s.telemetry.recordsPerSecond + " records/s";
  document.querySelector("#nodes tbody").innerHTML = s.nodes.map((n) => {
    const t = s.telemetry.nodes[n.name];
    const state = n.online ? "online" : "offline";
    return "<tr data-node=\\"" + text(n.name) + "\\"><td>" + text(n.name) + "</td><td class=\\"" + stateClass(state) + "\\">" + state +
      "</td><td>" + ago(n.lastSeen) + "</td><td>" + text(n.agentVersion || "-") + "</td><td>" +
      text((n.arch || "-") + " / " + (n.board || "-")) + "</td><td>" + (n.cpus || "-") + "</td><td>" +
      text(n.isolatedCores.join(",") || "-") + "</td><td>" +
      (t ? t.records + " records, last chunk " + ago(t.lastChunkAt) : "-") + "</td>" +
      backlog(s.telemetry.backlog[n.name], n.online) +
      health(s.readingCounts.find((c) => c.node === n.name)) + "</tr>";
  }).join("");
  document.getElementById("decode-failures").innerHTML = s.decodeFailures.length === 0 ? "" :
    "<h3>Chunks that did not decode (kept raw; newest first)</h3><ul>" + s.decodeFailures.map((f) =>
      "<li class=bad data-chunk=\\"" + f.chunkId + "\\">node " + text(f.node) + ", chunk " + f.chunkId + " of stream " + text(f.stream) +
      ", " + ago(f.receivedAt) + ": " + text(f.error) + "</li>").join("") + "</ul>";
  document.querySelector("#instances tbody").innerHTML = s.instances.map((i) =>
    "<tr data-instance=\\"" + text(i.name) + "\\"><td>" + text(i.name) + (i.parent ? " <span class=muted>(requested by " + text(i.parent) + ")</span>" : "") +
    "</td><td>" + text(i.node || "(waiting)") + "</td><td class=\\"" + stateClass(i.state) + "\\">" + text(i.state) + "</td><td>" +
    i.promises.map((p) => "<span class=\\"" + (p.ok ? "ok" : "bad") + "\\">" + text(p.name) + "</span>" +
      (p.message ? " <span class=muted>" + text(p.message) + "</span>" : "")).join("<br>") +
    "</td><td>" + Object.entries(i.connection).map(([k, v]) => "<code>" + text(k) + "=" + text(v) + "</code>").join("<br>") +
    "</td></tr>").join("");
  readingsChart.onStatus(s);
}

async function follow() {
  const conn = document.getElementById("conn");
  for (;;) {
    try {
      const res = await fetch("/v1/events", { headers: { authorization: "Bearer " + token } });
      if (res.status === 401) { conn.textContent = "admin token missing or wrong: open the URL the master printed"; conn.className = "bad"; return; }
      if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
      conn.textContent = "live"; conn.className = "ok";
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let end;
        while ((end = buf.indexOf("\\n\\n")) >= 0) {
          const event = buf.slice(0, end); buf = buf.slice(end + 2);
          const data = event.split("\\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\\n");
          if (data) render(JSON.parse(data));
        }
      }
    } catch (err) {
      conn.textContent = "reconnecting (" + err.message + ")"; conn.className = "wait";
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
follow();
</script>
</body>
</html>
`;
