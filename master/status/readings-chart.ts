/**
 * The status page's readings chart (browser JavaScript, run before the page's main
 * script): a node / series / time-range picker, history read from `/v1/readings` (so it
 * survives a master restart), then a live tail that asks again for the newest minute
 * every TAIL_EVERY_MS. Drawn with uPlot (served by the master at /assets/uplot.js): a
 * time axis, one y axis per unit, values under the cursor in the legend, sequence gaps
 * as breaks in the lines (a null point) over a shaded band, reported losses as red marks
 * on the time line. `#chart` carries what it drew as data attributes (series, points,
 * gaps, losses, axes) for tests and people alike.
 */
export const READINGS_CHART_SCRIPT = `"use strict";
window.readingsChart = (function () {
  const RANGES = [["10 min", 600000], ["1 h", 3600000], ["6 h", 21600000], ["24 h", 86400000], ["7 d", 604800000]];
  /** Longer ranges are read as averages of about POINTS buckets per series. */
  const RAW_UP_TO_MS = 3600000;
  const POINTS = 1200;
  const TAIL_EVERY_MS = 2000;
  /** The tail reads this much again, so a gap found late still lands between its readings. */
  const OVERLAP_MS = 60000;
  const AGGREGATED_RELOAD_MS = 30000;
  /** New series (a tag a collector starts sending) join the picker this often. */
  const PICKER_EVERY_MS = 10000;
  const COLORS = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83", "#9a6700", "#57606a"];
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  const st = { node: "", range: 600000, chosen: new Set(), series: new Map(), gaps: new Map(), losses: new Map(),
    plot: null, shape: "", busy: false, reload: false, loadedAt: 0, step: 0, nodes: "" };

  const el = (id) => document.getElementById(id);
  const api = async (path) => {
    const res = await fetch(path, { headers: { authorization: "Bearer " + token } });
    if (!res.ok) throw new Error("HTTP " + res.status + " " + path.split("?")[0]);
    return res.json();
  };
  const keyOf = (s) => s.node + "/" + s.device + "/" + s.tag;
  /** A value as a y: 64-bit integers come as decimal strings; what is no finite number is skipped. */
  const numeric = (v) => {
    const n = typeof v === "boolean" ? Number(v) : v === null || v === "" || typeof v === "object" ? NaN : Number(v);
    return Number.isFinite(n) ? n : undefined;
  };

  function setupPicker() {
    const range = el("pick-range");
    range.innerHTML = RANGES.map(([label, ms]) => "<option value=" + ms + (ms === st.range ? " selected" : "") + ">" + label + "</option>").join("");
    range.addEventListener("change", () => { st.range = Number(range.value); void load(); });
    el("pick-node").addEventListener("change", () => { st.node = el("pick-node").value; st.chosen.clear(); void pickSeries().catch(note); });
    window.addEventListener("resize", () => st.plot && st.plot.setSize(size()));
  }

  function size() {
    return { width: Math.max(320, el("chart").clientWidth), height: 320 };
  }

  /** Lists the node's series as checkboxes (again when the list changed); chooses three at first. */
  async function pickSeries() {
    const { series } = await api("/v1/readings/series?node=" + encodeURIComponent(st.node));
    const listed = series.map(keyOf).join("|");
    const tags = el("tags");
    if (listed === tags.dataset.keys && st.chosen.size > 0) return;
    tags.dataset.keys = listed;
    const first = st.chosen.size === 0;
    if (first) series.slice(0, 3).forEach((s) => st.chosen.add(keyOf(s)));
    tags.textContent = "";
    for (const s of series) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = keyOf(s);
      box.checked = st.chosen.has(box.value);
      box.addEventListener("change", () => {
        if (box.checked) st.chosen.add(box.value); else st.chosen.delete(box.value);
        void load();
      });
      label.append(box, " " + s.device + "/" + s.tag);
      tags.append(label);
    }
    if (first) await load();
  }

  /** The chosen series of one device per request: the API filters by one device. */
  function requests(from, to) {
    const byDevice = new Map();
    for (const key of st.chosen) {
      const [node, device, ...tag] = key.split("/");
      if (node !== st.node) continue;
      byDevice.set(device, [...(byDevice.get(device) || []), tag.join("/")]);
    }
    return [...byDevice].map(([device, tags]) => {
      const q = new URLSearchParams({ node: st.node, device, from: String(from), to: String(to) });
      tags.forEach((t) => q.append("tag", t));
      if (st.step) { q.set("step", st.step + "ms"); q.set("agg", "avg"); }
      return "/v1/readings?" + q;
    });
  }

  const note = (err) => { el("chart-note").textContent = "cannot read readings: " + err.message; };

  async function read(from, to) {
    const answers = await Promise.all(requests(from, to).map(api));
    for (const a of answers) {
      for (const s of a.series) {
        const key = keyOf(s);
        const old = st.series.get(key);
        const kept = old ? old.points.filter((p) => p[0] < from) : [];
        st.series.set(key, { ...s, points: kept.concat(s.points.map((p) => [p[0], numeric(p[1])])) });
      }
      for (const g of a.gaps) st.gaps.set(g.node + "|" + g.stream + "|" + g.fromSeq, g);
      for (const l of a.losses) st.losses.set(l.node + "|" + l.lossId, l);
    }
  }

  async function load() {
    if (!st.node) return;
    // A choice made while a read is running is read right after it, never dropped.
    if (st.busy) { st.reload = true; return; }
    st.busy = true;
    try {
      const to = Date.now(), from = to - st.range;
      // A step of a minute or more is rounded to whole minutes: the master answers those
      // from its 1-minute rollups, which it keeps longer than raw readings.
      const step = Math.ceil(st.range / POINTS);
      st.step = st.range <= RAW_UP_TO_MS ? 0 : step < 60000 ? step : Math.ceil(step / 60000) * 60000;
      st.series.clear(); st.gaps.clear(); st.losses.clear();
      await read(from, to);
      st.loadedAt = to;
      draw(from, to);
      el("chart-note").textContent = st.step ? "averages over " + Math.round(st.step / 1000) + " s" : "every reading";
    } catch (err) {
      note(err);
    } finally {
      done();
    }
  }

  function done() {
    st.busy = false;
    if (st.reload) { st.reload = false; void load(); }
  }

  async function tail() {
    if (!st.node || st.busy || st.chosen.size === 0) return;
    const to = Date.now();
    if (st.step) { if (to - st.loadedAt >= AGGREGATED_RELOAD_MS) await load(); return; }
    st.busy = true;
    try {
      const newest = Math.max(0, ...[...st.series.values()].map((s) => (s.points.length ? s.points[s.points.length - 1][0] : 0)));
      await read(Math.max(to - st.range, Math.min(st.loadedAt, newest) - OVERLAP_MS), to);
      st.loadedAt = to;
      const from = to - st.range;
      for (const s of st.series.values()) s.points = s.points.filter((p) => p[0] >= from);
      draw(from, to);
    } catch (err) {
      note(err);
    } finally {
      done();
    }
  }

  /** uPlot's columns: one shared time axis, a null point in each series at each gap. */
  function columns(series, from, to) {
    const xs = new Set();
    for (const s of series) for (const p of s.points) xs.add(p[0]);
    const breaks = [];
    for (const g of st.gaps.values()) {
      if (g.toTs < from || g.fromTs > to) continue;
      const at = Math.floor((g.fromTs + g.toTs) / 2);
      breaks.push({ at, g });
      xs.add(at);
    }
    const x = [...xs].sort((a, b) => a - b);
    const index = new Map(x.map((t, i) => [t, i]));
    const ys = series.map((s) => {
      const y = new Array(x.length).fill(undefined);
      for (const p of s.points) y[index.get(p[0])] = p[1];
      for (const b of breaks) if (b.g.node === s.node && (!s.stream || b.g.stream === s.stream)) y[index.get(b.at)] = null;
      return y;
    });
    return { data: [x, ...ys], breaks };
  }

  function draw(from, to) {
    const chosen = [...st.series.values()].filter((s) => st.chosen.has(keyOf(s)));
    const units = [...new Set(chosen.map((s) => s.unit || ""))];
    const { data, breaks } = columns(chosen, from, to);
    const shape = chosen.map(keyOf).join("|") + "#" + units.join("|");
    if (!st.plot || st.shape !== shape) {
      if (st.plot) st.plot.destroy();
      el("chart").textContent = "";
      st.shape = shape;
      st.plot = new uPlot({
        ...size(),
        ms: 1,
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: true } },
        axes: [{}].concat(units.map((u, i) => ({
          scale: u || "(no unit)", label: u || "(no unit)", side: i % 2 ? 1 : 3, grid: { show: i === 0 },
          values: (self, splits) => splits.map(compact), size: axisSize,
        }))),
        series: [{}].concat(chosen.map((s, i) => ({
          label: s.device + "/" + s.tag + (s.unit ? " (" + s.unit + ")" : ""),
          scale: s.unit || "(no unit)",
          stroke: COLORS[i % COLORS.length],
          width: 1.5,
          spanGaps: false,
          points: { show: false },
        }))),
        hooks: { drawClear: [shadeGaps], draw: [markLosses] },
      }, data, el("chart"));
    } else {
      st.plot.setData(data);
    }
    st.plot.setScale("x", { min: from, max: to });
    const chart = el("chart");
    chart.dataset.series = String(chosen.length);
    chart.dataset.axes = String(1 + units.length);
    chart.dataset.points = String(chosen.reduce((n, s) => n + s.points.filter((p) => p[1] !== undefined).length, 0));
    chart.dataset.gaps = String(breaks.length);
    chart.dataset.losses = String([...st.losses.values()].filter((l) => l.at >= from && l.at <= to).length);
  }

  const COMPACT = new Intl.NumberFormat(undefined, { notation: "compact", maximumSignificantDigits: 4 });
  /** Tick labels: 64-bit counters as 1.84e+19, not twenty digits that overflow the axis. */
  const compact = (v) => (v === null ? "" : Math.abs(v) >= 1e15 ? v.toExponential(2)
    : Math.abs(v) >= 1e6 ? COMPACT.format(v) : String(+v.toPrecision(6)));

  /** An axis as wide as its longest tick label, its label and ticks. */
  function axisSize(self, values, axisIdx, cycleNum) {
    const axis = self.axes[axisIdx];
    if (cycleNum > 1) return axis._size;
    const longest = (values || []).reduce((a, v) => (String(v).length > a.length ? String(v) : a), "");
    self.ctx.font = axis.font[0];
    return Math.ceil(axis.ticks.size + axis.gap + axis.labelSize + self.ctx.measureText(longest).width / devicePixelRatio);
  }

  function band(u, fromTs, toTs) {
    const x0 = u.valToPos(fromTs, "x", true), x1 = u.valToPos(toTs, "x", true);
    return [Math.max(u.bbox.left, x0), Math.min(u.bbox.left + u.bbox.width, x1)];
  }

  function shadeGaps(u) {
    const ctx = u.ctx;
    ctx.save();
    for (const g of st.gaps.values()) {
      const [a, b] = band(u, g.fromTs, g.toTs);
      if (b <= a) continue;
      ctx.fillStyle = g.reported ? "rgba(207,34,46,0.10)" : "rgba(87,96,106,0.15)";
      ctx.fillRect(a, u.bbox.top, b - a, u.bbox.height);
    }
    ctx.restore();
  }

  function markLosses(u) {
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = "#cf222e";
    ctx.fillStyle = "#cf222e";
    ctx.setLineDash([4, 3]);
    ctx.font = "12px system-ui, sans-serif";
    for (const l of st.losses.values()) {
      const x = u.valToPos(l.at, "x", true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.fillText("lost " + l.records, x + 3, u.bbox.top + 12);
    }
    ctx.restore();
  }

  let picker = false;
  let lastTail = 0;
  let lastPicker = 0;
  return {
    /** Every status snapshot: keeps the node list, starts the picker, drives the tail. */
    onStatus(s) {
      if (!picker) { setupPicker(); picker = true; }
      const names = s.nodes.map((n) => n.name);
      if (names.join("|") !== st.nodes) {
        st.nodes = names.join("|");
        const select = el("pick-node");
        select.textContent = "";
        for (const n of names) {
          const o = document.createElement("option");
          o.value = n; o.textContent = n; o.selected = n === st.node;
          select.append(o);
        }
        if (!names.includes(st.node) && names.length > 0) {
          st.node = names[0];
          select.value = st.node;
        }
      }
      const now = Date.now();
      if (st.node && (st.chosen.size === 0 || now - lastPicker >= PICKER_EVERY_MS)) {
        lastPicker = now;
        void pickSeries().catch(note);
      } else if (now - lastTail >= TAIL_EVERY_MS) {
        lastTail = now;
        void tail();
      }
    },
  };
})();
`;
