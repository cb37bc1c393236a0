// The ox dashboard: runs table, charts, compare view, run page, studies.
// Every user-controlled string reaches the page through textContent (the h() helper),
// never through innerHTML.
'use strict';

const ROW = 30;            // px, matches --row in app.css
const POINTS = 1000;       // points per series asked of the server
const SPARK_POINTS = 32;
const POLL_MS = 2000;

// ---------- helpers ----------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'style') el.style.cssText = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

async function api(path) {
  const r = await fetch(path, { credentials: 'same-origin' });
  let body;
  try { body = await r.json(); } catch (e) { body = { error: `HTTP ${r.status}` }; }
  if (!r.ok) { const err = new Error(body.error || `HTTP ${r.status}`); err.body = body; err.status = r.status; throw err; }
  return body;
}

function fmt(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
    return String(Number(v.toPrecision(4)));
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function fmtDuration(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '';
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) { const r = Math.round(s); return `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s`; }
  const m = Math.round(s / 60); return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

// Appends children, skipping null/false and flattening arrays (DOM append would print "null").
function put(parent, ...children) {
  for (const c of children.flat(2)) if (c !== null && c !== undefined && c !== false) parent.append(c);
  return parent;
}

function badge(status) { return h('span', { class: `badge ${status}` }, status); }

function flatten(obj, prefix, out) {
  out = out || {};
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}

// A column wide enough for its title (up to a limit; the full key is the tooltip).
function colWidth(title) { return Math.min(220, Math.max(90, 8 * title.length + 24)); }

// `text` at most `max` characters, cut in the middle: names that differ only at the end
// (`…-schedule-a`, `…-schedule-b`, `…/exact_match`) stay told apart. Show the full text as
// the tooltip.
function shortMiddle(text, max) {
  text = String(text);
  if (text.length <= max) return text;
  const tail = Math.ceil((max - 1) * 0.55);
  return `${text.slice(0, max - 1 - tail)}…${text.slice(text.length - tail)}`;
}

function runLabel(r) { return r.name || r.id.slice(0, 10); }

// The id prefix length (at least 10) that tells all these runs apart, as `ox show` takes
// it: ids of one sweep share their leading time digits.
function uniqueIdLength(runs) {
  const ids = runs.map(r => r.id).sort();
  let len = 10;
  for (let i = 1; i < ids.length; i++) {
    const a = ids[i - 1], b = ids[i];
    let k = 0;
    while (k < a.length && a[k] === b[k]) k++;
    len = Math.max(len, k + 1);
  }
  return Math.min(len, ids.length ? ids[0].length : len);
}

// Query string of the hash: #/runs?q=...&sel=...
function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/runs';
  const [path, qs] = raw.split('?');
  return { path, params: new URLSearchParams(qs || '') };
}

function setHashParams(path, params, replace) {
  const qs = params.toString();
  const url = `#${path}${qs ? '?' + qs : ''}`;
  if (replace) { history.replaceState(null, '', url); lastRoute = location.hash; } else location.hash = url;
}

// Per-metric summaries a run carries (docs/api.md) that can be runs-table columns.
const SUMMARIES = ['last', 'min', 'max', 'mean'];

// `cols=loss:last,acc:max` ↔ [{metric, summary}]; `,` and `%` in a metric name are written
// %2C and %25. null (no `cols`) means the default columns, '' none.
function parseCols(text) {
  if (text === null || text === undefined) return null;
  const unescape = t => t.replace(/%(2C|25)/gi, m => (m === '%25' ? '%' : ','));
  const cols = text.split(',').filter(Boolean).map(item => {
    const i = item.lastIndexOf(':');
    const s = i >= 0 ? item.slice(i + 1) : '';
    return SUMMARIES.includes(s) ? { metric: unescape(item.slice(0, i)), summary: s } : { metric: unescape(item), summary: 'last' };
  });
  return cols.filter((c, i) => cols.findIndex(d => d.metric === c.metric && d.summary === c.summary) === i);
}
function colsText(cols) { return cols.map(c => `${c.metric.replace(/%/g, '%25').replace(/,/g, '%2C')}:${c.summary}`).join(','); }

const COLORS = ['#2557d6', '#d6462e', '#2f9e44', '#9c36b5', '#e8590c', '#1098ad', '#5c940d', '#c2255c', '#495057', '#3b5bdb'];
function color(i) { return COLORS[i % COLORS.length]; }

// Student t quantile (two-sided 95%) for small samples; 1.96 beyond 30.
const T95 = [0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042];
function t95(df) { return df < T95.length ? T95[df] : 1.96; }

// ---------- state ----------

let current = null;   // the page's cleanup function
const timers = new Set();
function every(ms, fn) { const t = setInterval(() => { if (!document.hidden) fn(); }, ms); timers.add(t); return t; }
function clearTimers() { for (const t of timers) clearInterval(t); timers.clear(); }

// ---------- charts ----------

function ema(ys, alpha) {
  if (!alpha) return ys;
  const out = new Array(ys.length);
  let acc = null;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (y === null || !Number.isFinite(y)) { out[i] = y; continue; }
    acc = acc === null ? y : alpha * acc + (1 - alpha) * y;
    out[i] = acc;
  }
  return out;
}

// Mean and a 95% interval across the runs of each group, on a common grid of x buckets.
function groupBands(seriesList, groupOf, buckets) {
  let lo = Infinity, hi = -Infinity;
  for (const s of seriesList) if (s.x.length) { lo = Math.min(lo, s.x[0]); hi = Math.max(hi, s.x[s.x.length - 1]); }
  if (!Number.isFinite(lo)) return null;
  // Runs logged at the same steps are aligned exactly (as ox stats and ox plot do);
  // otherwise by equal buckets of x.
  const union = new Set();
  for (const s of seriesList) { for (const x of s.x) union.add(x); if (union.size > 2 * buckets) break; }
  const exact = union.size <= 2 * buckets;
  let xs, bucketOf;
  if (exact) {
    xs = [...union].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    bucketOf = x => index.get(x);
    buckets = xs.length;
  } else {
    const width = (hi - lo) / buckets || 1;
    xs = Array.from({ length: buckets }, (_, i) => lo + (i + 0.5) * width);
    bucketOf = x => Math.min(buckets - 1, Math.floor((x - lo) / width));
  }
  const groups = new Map();
  for (const s of seriesList) {
    const g = groupOf(s);
    if (!groups.has(g)) groups.set(g, []);
    // One value per run and bucket: the mean of its points there.
    const sum = new Float64Array(buckets), n = new Uint32Array(buckets);
    for (let i = 0; i < s.x.length; i++) {
      const y = s.y[i];
      if (y === null || !Number.isFinite(y)) continue;
      const b = bucketOf(s.x[i]);
      sum[b] += y; n[b]++;
    }
    groups.get(g).push(Array.from(sum, (v, i) => (n[i] ? v / n[i] : null)));
  }
  const out = [];
  // Groups in their values' order: numbers by value (0.01 before 0.1), other text naturally.
  const asNumber = g => (String(g).trim() === '' ? NaN : Number(g));
  const order = (a, b) => {
    const x = asNumber(a), y = asNumber(b);
    if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  };
  for (const [g, runs] of [...groups.entries()].sort((a, b) => order(a[0], b[0]))) {
    const mean = [], low = [], high = [];
    for (let b = 0; b < buckets; b++) {
      const vals = runs.map(r => r[b]).filter(v => v !== null);
      if (!vals.length) { mean.push(null); low.push(null); high.push(null); continue; }
      const m = vals.reduce((a, v) => a + v, 0) / vals.length;
      let half = 0;
      if (vals.length > 1) {
        const sd = Math.sqrt(vals.reduce((a, v) => a + (v - m) ** 2, 0) / (vals.length - 1));
        half = t95(vals.length - 1) * sd / Math.sqrt(vals.length);
      }
      mean.push(m); low.push(m - half); high.push(m + half);
    }
    out.push({ group: g, n: runs.length, mean, low, high });
  }
  return { xs, groups: out };
}

// Steps are whole numbers: x ticks only at whole increments (1, 2, 5, 10, 20, 50, …).
const STEP_INCRS = Array.from({ length: 13 }, (_, e) => [1, 2, 5].map(m => m * 10 ** e)).flat();
function fmtStep(v) { return v === null || v === undefined || !Number.isFinite(v) ? '' : Math.round(v).toLocaleString('en-US'); }

// The legend of a grouped chart: one entry per group (swatch, `group (n=K)`, the mean and
// its interval under the cursor); clicking an entry hides or shows the group.
// A legend above the plot: one entry per curve (a run) or per group (its mean and band:
// `span` 3 series), with the value under the cursor; a click hides or shows the entry.
// items: [{name, n?, index, span}]
function chartLegend(items) {
  const xOut = h('span', { class: 'x' });
  const entries = items.map((it, i) => {
    const c = color(i);
    const grouped = it.span === 3;
    const value = h('span', { class: 'value' });
    const title = grouped ? `${it.name} (n=${it.n}): mean and 95% interval over ${it.n} run${it.n === 1 ? '' : 's'}; click to hide or show` : `${it.name}; click to hide or show`;
    const swatch = grouped ? `background: linear-gradient(${c}, ${c}) center / 100% 2px no-repeat, ${c}33; border-color: ${c}` : `background: linear-gradient(${c}, ${c}) center / 100% 2px no-repeat; border-color: transparent`;
    const entry = h('button', { type: 'button', class: 'entry', title },
      h('span', { class: 'swatch', style: swatch }),
      h('span', { class: 'label' }, h('span', { class: 'name' }, shortMiddle(it.name, 40)), grouped ? [' ', h('span', { class: 'n' }, `(n=${it.n})`)] : null), value);
    return { entry, value, index: it.index, span: it.span, shown: true };
  });
  const el = h('div', { class: 'chart-legend' }, xOut, entries.map(e => e.entry));
  return {
    el,
    attach(u) {
      entries.forEach(e => e.entry.addEventListener('click', () => {
        e.shown = !e.shown;
        e.entry.classList.toggle('off', !e.shown);
        for (let k = 0; k < e.span; k++) u.setSeries(e.index + k, { show: e.shown });
      }));
    },
    update(u, xTime) {
      const idx = u.cursor.idx;
      const have = idx !== null && idx !== undefined;
      xOut.textContent = have ? (xTime ? new Date(u.data[0][idx] * 1000).toLocaleString() : `step ${fmtStep(u.data[0][idx])}`) : '';
      for (const e of entries) {
        const m = have ? u.data[e.index][idx] : null;
        const hi = have && e.span === 3 ? u.data[e.index + 1][idx] : null, lo = have && e.span === 3 ? u.data[e.index + 2][idx] : null;
        e.value.textContent = m === null || m === undefined ? '' : (hi !== lo && hi !== null && lo !== null ? `${fmt(m)} [${fmt(lo)}, ${fmt(hi)}]` : fmt(m));
      }
    },
  };
}

// Draws a uPlot chart into `el`. opts: {series: [{label, x, y}], xTime, log, smooth, bands}
function drawChart(el, title, opts) {
  el.textContent = '';
  el.append(h('div', { class: 'title' }, title));
  const width = Math.max(280, el.clientWidth || 600);
  const height = opts.height || 300;
  let data, series, bands, legend = null;
  const yScale = { distr: opts.log ? 3 : 1 };
  const xSeries = opts.xTime ? { label: 'time' } : { label: 'step', value: (u, v) => fmtStep(v) };
  if (opts.bands) {
    const b = opts.bands;
    data = [b.xs];
    series = [xSeries];
    bands = [];
    b.groups.forEach((g, i) => {
      const c = color(i);
      const base = data.length;
      data.push(ema(g.mean, opts.smooth), g.high, g.low);
      series.push({ label: `${g.group} (n=${g.n})`, stroke: c, width: 2, spanGaps: true });
      series.push({ label: `${g.group} high`, stroke: c + '55', width: 0, spanGaps: true, points: { show: false } });
      series.push({ label: `${g.group} low`, stroke: c + '55', width: 0, spanGaps: true, points: { show: false } });
      bands.push({ series: [base + 1, base + 2], fill: c + '22' });
    });
    // uPlot's own legend would list the band edges too: ours lists the groups.
    legend = chartLegend(b.groups.map((g, i) => ({ name: g.group, n: g.n, index: 1 + 3 * i, span: 3 })));
    el.append(legend.el);
  } else {
    const tables = opts.series.map(s => [s.x, ema(s.y, opts.smooth)]);
    if (!tables.length) { el.append(h('p', { class: 'muted' }, 'No data.')); return null; }
    data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    series = [xSeries];
    opts.series.forEach((s, i) => series.push({ label: s.label, stroke: color(i), width: 1.5, spanGaps: true }));
    // Several curves: which colour is which run, above the plot where it is seen.
    if (opts.series.length > 1) {
      legend = chartLegend(opts.series.map((s, i) => ({ name: s.label, index: 1 + i, span: 1 })));
      el.append(legend.el);
    }
  }
  if (opts.log) {
    // A log axis cannot show values <= 0.
    data = data.map((col, i) => (i === 0 ? col : col.map(v => (v !== null && v > 0 ? v : null))));
  }
  const plotEl = h('div');
  el.append(plotEl);
  // The x tick labels are drawn on the canvas; the element keeps their text (data-xticks).
  const xAxis = opts.xTime ? {} : {
    incrs: STEP_INCRS,
    values: (u, splits) => { const labels = splits.map(fmtStep); plotEl.dataset.xticks = labels.join('|'); return labels; },
  };
  const hooks = legend ? { setCursor: [uu => legend.update(uu, opts.xTime)] } : {};
  if (opts.onZoom) {
    // A drag-zoom (or the double-click that resets it) tells the caller which x window is
    // shown, so it can fetch that window at full resolution.
    let timer = null;
    hooks.setScale = [(uu, key) => {
      if (key !== 'x' || !uu.data[0].length) return;
      const xs = uu.data[0], { min, max } = uu.scales.x;
      const zoomed = min > xs[0] || max < xs[xs.length - 1];
      clearTimeout(timer);
      timer = setTimeout(() => opts.onZoom(zoomed ? [min, max] : null), 200);
    }];
  }
  const u = new uPlot({
    width, height,
    scales: { x: { time: !!opts.xTime }, y: yScale },
    series, bands,
    cursor: { drag: { x: true, y: false } },
    legend: { show: !legend, live: true },
    axes: [xAxis, { size: 60, values: (u, splits) => splits.map(compactTick) }],
    hooks,
  }, data, plotEl);
  if (opts.zoom) u.setScale('x', { min: opts.zoom[0], max: opts.zoom[1] });
  if (legend) legend.attach(u);
  return u;
}

// A y tick label that fits the axis: 67,108,864 bytes reads 67.1M.
function compactTick(v) {
  if (v === null || v === undefined) return '';
  const a = Math.abs(v);
  if (a < 1e4) return String(Number(v.toPrecision(6)));
  const [div, unit] = a >= 1e12 ? [1e12, 'T'] : a >= 1e9 ? [1e9, 'G'] : a >= 1e6 ? [1e6, 'M'] : [1e3, 'k'];
  return `${Number((v / div).toPrecision(3))}${unit}`;
}

// A series with the points of `fine` (fetched for the x window `range`) in place of its
// own inside that window.
function mergeWindow(base, fine, range) {
  if (!fine || !fine.x.length) return base;
  const lo = fine.x[0], hi = fine.x[fine.x.length - 1];
  const x = [], y = [];
  base.x.forEach((v, i) => { if (v < lo) { x.push(v); y.push(base.y[i]); } });
  fine.x.forEach((v, i) => { x.push(v); y.push(fine.y[i]); });
  base.x.forEach((v, i) => { if (v > hi) { x.push(v); y.push(base.y[i]); } });
  return { ...base, x, y };
}

function sameRange(a, b) {
  if (!a || !b) return a === b;
  const tol = 1e-9 * Math.max(1, Math.abs(a[1] - a[0]));
  return Math.abs(a[0] - b[0]) <= tol && Math.abs(a[1] - b[1]) <= tol;
}

// Zoom state of a chart of server series: the window shown and its points at full
// resolution (the page's series are downsampled over the whole x range).
function zoomer(url, redraw, stillCurrent) {
  const z = { range: null, fine: null };
  z.onZoom = async range => {
    if (sameRange(range, z.range)) return;
    z.range = range; z.fine = null;
    if (range) {
      try {
        const res = await api(`${url()}&from=${range[0]}&to=${range[1]}`);
        if (!stillCurrent() || z.range !== range) return;
        z.fine = res.series;
      } catch (e) { return; }
    }
    redraw();
  };
  z.apply = list => (z.fine ? list.map((s, i) => mergeWindow(s, z.fine[i], z.range)) : list);
  return z;
}

// ---------- runs page ----------

function pageRuns(params) {
  const app = document.getElementById('app');
  app.textContent = '';
  const state = {
    q: params.get('q') || '',
    runs: [],
    view: [],
    selected: new Set((params.get('sel') || '').split(',').filter(Boolean)),
    sort: params.get('sort') || '',
    metric: params.get('metric') || '',
    // Metric columns the user chose ([{metric, summary}]); null: the 4 most common metrics.
    cols: parseCols(params.get('cols')),
    columns: [],
    sparks: new Map(),
  };
  const input = h('input', { type: 'search', id: 'query', placeholder: "query, e.g. study = 'sweep' AND lr < 1e-3 ORDER BY metrics.loss", value: state.q, spellcheck: 'false' });
  const count = h('span', { class: 'muted', id: 'count' });
  const compareBtn = h('button', { id: 'compare', onclick: () => {
    const p = new URLSearchParams(); p.set('ids', [...state.selected].join(',')); setHashParams('/compare', p);
  } }, 'Compare');
  const clearBtn = h('button', { onclick: () => { state.selected.clear(); renderRows(); selectionChanged(); } }, 'Clear selection');
  const picker = columnPicker();
  const errorBox = h('pre', { class: 'error', id: 'query-error', hidden: true });
  const grid = h('div', { class: 'grid', id: 'runs-grid' });
  const chartPanel = h('div', { class: 'panel', id: 'chart-panel' });
  put(app, 
    h('form', { class: 'toolbar', onsubmit: e => { e.preventDefault(); state.q = input.value; saveUrl(false); load(); } },
      input, h('button', { class: 'primary', type: 'submit' }, 'Filter'), count, compareBtn, clearBtn, picker.el),
    errorBox, grid, chartPanel);

  function saveUrl(replace) {
    const p = new URLSearchParams();
    if (state.q) p.set('q', state.q);
    if (state.sort) p.set('sort', state.sort);
    if (state.selected.size) p.set('sel', [...state.selected].join(','));
    if (state.metric) p.set('metric', state.metric);
    if (state.cols) p.set('cols', colsText(state.cols));
    // The page already shows this state: only the address changes.
    const qs = p.toString();
    history[replace ? 'replaceState' : 'pushState'](null, '', `#/runs${qs ? '?' + qs : ''}`);
    lastRoute = location.hash;
  }

  function computeColumns(runs) {
    // Params that vary (or that some runs lack), and the metrics most runs have.
    const seen = new Map();
    const metricCount = new Map();
    const flats = runs.map(r => flatten(r.params));
    flats.forEach(f => {
      for (const [k, v] of Object.entries(f)) {
        let e = seen.get(k);
        if (!e) { e = { n: 0, vals: new Set() }; seen.set(k, e); }
        e.n++;
        if (e.vals.size < 2) e.vals.add(JSON.stringify(v));
      }
    });
    runs.forEach(r => { for (const k of Object.keys(r.metrics || {})) metricCount.set(k, (metricCount.get(k) || 0) + 1); });
    state.idLen = uniqueIdLength(runs);
    const params = [...seen.entries()].filter(([, e]) => e.vals.size > 1 || e.n < runs.length).map(([k]) => k).sort();
    const common = [...metricCount.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
    const chosen = state.cols || common.slice(0, 4).map(k => ({ metric: k, summary: 'last' }));
    state.allMetrics = [...metricCount.keys()].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    state.defaultCols = common.slice(0, 4).map(k => ({ metric: k, summary: 'last' }));
    const studies = new Set(runs.map(r => r.study));
    const cols = [
      { key: 'sel', title: '', width: 32, get: () => '' },
      { key: 'status', title: 'status', width: 112, get: r => r.status },
      // As wide as the longest name needs (long ones are cut, in full on hover), no wider.
      { key: 'name', title: 'name', width: Math.min(260, Math.max(110, 8 * runs.reduce((m, r) => Math.max(m, (r.name || '').length), 0) + 28)), get: r => r.name || '' },
      { key: 'id', title: 'id', width: 8 * state.idLen + 44, get: r => r.id },
    ];
    if (studies.size > 1) cols.push({ key: 'study', title: 'study', width: Math.min(160, Math.max(80, 8 * Math.max(...[...studies].map(x => x.length)) + 28)), get: r => r.study });
    cols.push({ key: 'duration', title: 'duration', width: 84, num: true, get: r => r.duration_s });
    // Wide enough for the title and (up to 220 px) the values; longer text values are cut in
    // the middle, where runs of one sweep usually differ least.
    params.forEach(k => {
      const longest = flats.reduce((m, f) => Math.max(m, fmt(f[k]).length), 0);
      const width = Math.min(220, Math.max(colWidth(k), 8 * longest + 24));
      // Numbers right-aligned (digits line up), text left-aligned.
      const num = flats.every(f => f[k] === undefined || f[k] === null || typeof f[k] === 'number');
      cols.push({ key: `params.${k}`, title: k, width, num, chars: Math.floor((width - 28) / 9), get: (r, i) => flats[i][k] });
    });
    for (const { metric: k, summary: s } of chosen) {
      // `metrics.loss` (last) keeps the sort key bookmarks already hold.
      // Long names are cut in the middle (the full key is the header's tooltip).
      const suffix = s === 'last' ? '' : ` (${s})`;
      // ~9 px a character of the bold header.
      const width = Math.min(240, Math.max(90, 9 * (k.length + suffix.length) + 24));
      const title = shortMiddle(k, Math.max(6, Math.floor((width - 24) / 9) - suffix.length)) + suffix;
      cols.push({ key: s === 'last' ? `metrics.${k}` : `metrics.${k}:${s}`, title, width, num: true, metric: k, summary: s, get: r => (r.metrics[k] ? r.metrics[k][s] : null) });
    }
    const sparkMetric = chosen.length ? chosen[0].metric : common[0];
    if (sparkMetric) cols.push({ key: 'spark', title: `${sparkMetric} curve`, width: 110, spark: sparkMetric, get: () => '' });
    state.flats = flats;
    return cols;
  }

  // The "columns" control: which metrics, with which summary, are columns.
  function columnPicker() {
    const filter = h('input', { type: 'search', placeholder: 'filter metrics', 'aria-label': 'filter metrics', oninput: () => renderList() });
    const list = h('div', { class: 'list' });
    const reset = h('button', { type: 'button', onclick: () => { state.cols = null; columnsChanged(); } }, 'default (4 most common, last)');
    const summary = h('summary', {}, 'Columns');
    const menu = h('div', { class: 'menu' }, filter, list, h('div', { class: 'foot' }, reset));
    const el = h('details', { class: 'colpicker', id: 'columns', ontoggle: () => { if (el.open) { renderList(); filter.focus(); } } }, summary, menu);
    // A click elsewhere (or Escape) closes it; the listener goes with the page.
    const outside = e => {
      if (!document.body.contains(el)) { document.removeEventListener('mousedown', outside); return; }
      if (el.open && !el.contains(e.target)) el.open = false;
    };
    document.addEventListener('mousedown', outside);
    el.addEventListener('keydown', e => { if (e.key === 'Escape') { el.open = false; summary.focus(); } });

    function current() { return state.cols || state.defaultCols || []; }
    function renderList() {
      list.textContent = '';
      const chosen = current();
      const names = [...new Set([...(state.allMetrics || []), ...chosen.map(c => c.metric)])];
      const f = filter.value.trim().toLowerCase();
      const shown = names.filter(m => !f || m.toLowerCase().includes(f));
      if (!shown.length) { list.append(h('p', { class: 'muted' }, names.length ? 'No metric matches.' : 'These runs have no metrics.')); return; }
      list.append(h('table', {},
        h('tr', {}, h('th', {}, 'metric'), SUMMARIES.map(x => h('th', {}, x))),
        shown.map(m => h('tr', {}, h('td', { class: 'name', title: m }, shortMiddle(m, 40)), SUMMARIES.map(x => h('td', {},
          h('input', { type: 'checkbox', 'aria-label': `${m} ${x}`, 'data-metric': m, 'data-summary': x,
            checked: chosen.some(c => c.metric === m && c.summary === x),
            onchange: e => toggle(m, x, e.target.checked) })))))));
    }
    function toggle(metric, summary, on) {
      const next = current().filter(c => !(c.metric === metric && c.summary === summary));
      if (on) next.push({ metric, summary });
      state.cols = next;
      columnsChanged();
    }
    function columnsChanged() {
      state.columns = computeColumns(state.runs);
      state.sparks.clear();
      saveUrl(true); applySort(); renderHeader(); renderRows(); update();
      if (el.open) renderList();
    }
    function update() {
      const n = current().length;
      summary.textContent = `Metric columns: ${n}${state.cols ? '' : ' (default)'}`;
    }
    update();
    return { el, update };
  }

  function applySort() {
    const idx = state.runs.map((r, i) => i);
    if (state.sort) {
      const desc = state.sort.startsWith('-');
      const key = desc ? state.sort.slice(1) : state.sort;
      const col = state.columns.find(c => c.key === key);
      if (col) {
        const vals = idx.map(i => col.get(state.runs[i], i));
        idx.sort((a, b) => {
          const x = vals[a], y = vals[b];
          const xm = x === null || x === undefined || x === '', ym = y === null || y === undefined || y === '';
          if (xm || ym) return xm - ym;  // missing values last, either way
          let c = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
          return desc ? -c : c;
        });
      }
    }
    state.view = idx;
  }

  const header = h('div', { class: 'head' });
  const body = h('div', { style: 'position: relative' });
  grid.append(header, body);
  let template = '';

  function renderHeader() {
    header.textContent = '';
    template = state.columns.map(c => `${c.width}px`).join(' ');
    header.style.gridTemplateColumns = template;
    state.columns.forEach(c => {
      let title = c.title;
      if (state.sort === c.key) title += ' ▲'; else if (state.sort === '-' + c.key) title += ' ▼';
      header.append(h('div', { class: c.num ? 'num' : '', title: c.key, onclick: () => {
        if (c.key === 'sel' || c.key === 'spark') return;
        state.sort = state.sort === c.key ? '-' + c.key : c.key;
        saveUrl(true); applySort(); renderHeader(); renderRows();
      } }, title));
    });
  }

  function renderRows() {
    const total = state.view.length;
    body.style.height = `${total * ROW}px`;
    const top = grid.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW) - 5);
    const last = Math.min(total, Math.ceil((top + grid.clientHeight) / ROW) + 5);
    body.textContent = '';
    const need = [];
    for (let v = first; v < last; v++) {
      const i = state.view[v];
      const r = state.runs[i];
      const sel = state.selected.has(r.id);
      const row = h('div', { class: `row${sel ? ' selected' : ''}`, style: `top:${v * ROW}px; grid-template-columns:${template}`, 'data-id': r.id });
      for (const c of state.columns) {
        let cell;
        if (c.key === 'sel') {
          cell = h('div', { class: 'cell' }, h('input', { type: 'checkbox', checked: sel, 'aria-label': 'select', onchange: e => {
            if (e.target.checked) state.selected.add(r.id); else state.selected.delete(r.id);
            row.classList.toggle('selected', e.target.checked);
            selectionChanged();
          } }));
        } else if (c.key === 'status') {
          cell = h('div', { class: 'cell' }, badge(r.status));
        } else if (c.key === 'name') {
          cell = h('div', { class: 'cell', title: r.name || '' }, h('a', { href: `#/run/${encodeURIComponent(r.id)}` }, r.name || '(unnamed)'));
        } else if (c.key === 'id') {
          cell = h('div', { class: 'cell id', title: r.id }, r.id.slice(0, state.idLen));
        } else if (c.key === 'duration') {
          cell = h('div', { class: 'cell num' }, fmtDuration(r.duration_s));
        } else if (c.spark) {
          const canvas = h('canvas', { class: 'spark', width: 96, height: 22 });
          cell = h('div', { class: 'cell' }, canvas);
          const cached = state.sparks.get(r.id);
          if (cached) drawSpark(canvas, cached); else if (r.metrics[c.spark]) need.push(r.id);
        } else {
          const v = c.get(r, i);
          const text = fmt(v);
          cell = h('div', { class: `cell${c.num ? ' num' : ''}`, title: text }, c.chars ? shortMiddle(text, c.chars) : text);
        }
        row.append(cell);
      }
      body.append(row);
    }
    if (need.length) loadSparks(need);
  }

  let sparkTimer = null;
  function loadSparks(ids) {
    clearTimeout(sparkTimer);
    const metric = (state.columns.find(c => c.spark) || {}).spark;
    if (!metric) return;
    // After scrolling settles: one request for the rows in view.
    sparkTimer = setTimeout(async () => {
      try {
        const res = await api(`api/series?runs=${ids.map(encodeURIComponent).join(',')}&metric=${encodeURIComponent(metric)}&points=${SPARK_POINTS}`);
        for (const s of res.series) state.sparks.set(s.run, s.y);
        renderRows();
      } catch (e) { /* sparklines are decoration */ }
    }, 120);
  }

  function drawSpark(canvas, ys) {
    const vals = ys.filter(v => v !== null && Number.isFinite(v));
    if (vals.length < 2) return;
    canvas.dataset.drawn = '1';
    const lo = Math.min(...vals), hi = Math.max(...vals);
    const ctx = canvas.getContext('2d');
    ctx.strokeStyle = '#2557d6'; ctx.lineWidth = 1.2; ctx.beginPath();
    let started = false;
    ys.forEach((y, i) => {
      if (y === null || !Number.isFinite(y)) return;
      const px = (i / (ys.length - 1)) * (canvas.width - 2) + 1;
      const py = canvas.height - 2 - ((y - lo) / ((hi - lo) || 1)) * (canvas.height - 4);
      if (started) ctx.lineTo(px, py); else { ctx.moveTo(px, py); started = true; }
    });
    ctx.stroke();
  }

  grid.addEventListener('scroll', () => requestAnimationFrame(renderRows));

  function selectionChanged() {
    saveUrl(true);
    compareBtn.disabled = state.selected.size < 2;
    compareBtn.textContent = `Compare (${state.selected.size})`;
    renderChart();
  }

  // ----- chart panel -----
  const chart = { x: 'step', smooth: 0, log: false, group: '' };
  let chartGeneration = 0;
  let liveChart = null;   // what the live poll appends to: {list, metric, x, redraw}
  async function renderChart() {
    const generation = ++chartGeneration;
    liveChart = null;
    chartPanel.textContent = '';
    const ids = [...state.selected];
    if (!ids.length) {
      chartPanel.append(h('p', { class: 'muted' }, 'Select runs (the checkboxes) to chart their metrics and compare them.'));
      return;
    }
    const byId = new Map(state.runs.map(r => [r.id, r]));
    const metrics = new Set();
    ids.forEach(id => { const r = byId.get(id); if (r) Object.keys(r.metrics).forEach(m => metrics.add(m)); });
    const names = [...metrics].sort();
    if (!state.metric || !metrics.has(state.metric)) state.metric = names[0] || '';
    const metricSel = h('select', { id: 'chart-metric', onchange: e => { state.metric = e.target.value; saveUrl(true); renderChart(); } },
      names.map(m => h('option', { value: m, selected: m === state.metric }, m)));
    const xSel = h('select', { onchange: e => { chart.x = e.target.value; renderChart(); } },
      h('option', { value: 'step', selected: chart.x === 'step' }, 'x: step'), h('option', { value: 'time', selected: chart.x === 'time' }, 'x: wall time'));
    const smooth = h('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: chart.smooth, onchange: e => { chart.smooth = Number(e.target.value); renderChart(); } });
    const log = h('input', { type: 'checkbox', checked: chart.log, onchange: e => { chart.log = e.target.checked; renderChart(); } });
    const flatsById = new Map(state.runs.map((r, i) => [r.id, state.flats[i]]));
    const paramKeys = state.columns.filter(c => c.key.startsWith('params.')).map(c => c.title);
    const groupSel = h('select', { onchange: e => { chart.group = e.target.value; renderChart(); } },
      h('option', { value: '' }, 'no grouping'), paramKeys.map(k => h('option', { value: k, selected: k === chart.group }, `group by ${k}`)));
    chartPanel.append(h('div', { class: 'toolbar' }, h('b', {}, `${ids.length} selected`), metricSel, xSel,
      h('label', {}, 'smoothing', smooth), h('label', {}, log, 'log scale'), groupSel,
      h('span', { class: 'muted' }, 'drag to zoom, double-click to reset')));
    const holder = h('div', { class: 'chart', id: 'main-chart' });
    chartPanel.append(holder);
    if (!state.metric) { holder.append(h('p', { class: 'muted' }, 'The selected runs have no metrics.')); return; }
    try {
      const seriesUrl = `api/series?runs=${ids.map(encodeURIComponent).join(',')}&metric=${encodeURIComponent(state.metric)}&points=${POINTS}&x=${chart.x}`;
      const res = await api(seriesUrl);
      // A newer selection has been drawn meanwhile: this answer is stale.
      if (generation !== chartGeneration) return;
      const list = res.series.map(s => ({ ...s, label: s.name || s.run.slice(0, 10) }));
      const zoom = zoomer(() => seriesUrl, () => redraw(), () => generation === chartGeneration);
      const redraw = () => {
        const shown = zoom.apply(list);
        const opts = { series: shown, xTime: chart.x === 'time', log: chart.log, smooth: chart.smooth, zoom: zoom.range, onZoom: zoom.onZoom };
        if (chart.group) opts.bands = groupBands(shown, s => fmt((flatsById.get(s.run) || {})[chart.group]), 200);
        drawChart(holder, state.metric, opts);
        holder.dataset.points = list.reduce((n, s) => n + s.x.length, 0);
        holder.dataset.shown = shown.reduce((n, s) => n + s.x.length, 0);
        holder.dataset.zoom = zoom.range ? zoom.range.join(',') : '';
      };
      redraw();
      liveChart = { list, metric: state.metric, x: chart.x, redraw };
    } catch (e) {
      holder.append(h('pre', { class: 'error' }, e.message));
    }
  }

  async function load() {
    errorBox.hidden = true;
    count.textContent = 'loading…';
    try {
      const t0 = performance.now();
      // The fingerprint first: whatever changes after it is seen by the live poll.
      const fp = await api('api/changes');
      seen = { shape: JSON.stringify([fp.runs, fp.status]), written: fp.written };
      sinceFull = 0;
      const runs = await api(`api/runs?q=${encodeURIComponent(state.q)}`);
      state.runs = runs;
      state.columns = computeColumns(runs);
      picker.update();
      applySort();
      renderHeader();
      renderRows();
      count.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'}`;
      window.oxRunsDrawnMs = performance.now() - t0;
      selectionChanged();
      document.body.dataset.loaded = 'runs';
    } catch (e) {
      count.textContent = '';
      // No stale rows under an error: they would look like the answer.
      state.runs = []; state.view = []; state.columns = [];
      renderHeader(); renderRows();
      errorBox.hidden = false;
      const b = e.body || {};
      errorBox.textContent = [b.caret || e.message, b.hint ? `hint: ${b.hint}` : ''].filter(Boolean).join('\n');
      document.body.dataset.loaded = 'runs-error';
    }
  }

  // Live: every poll asks the catalog's fingerprint (runs per status, latest write). A run
  // added, removed or changing status reloads the list; otherwise only the unfinished
  // runs are asked for (their summaries and durations move) and the chart gets their new
  // points by cursor. Rewritten finished runs (a re-import) show within 15 polls.
  const unfinished = r => r.status === 'running' || r.status === 'queued';
  let seen = null, sinceFull = 0;
  every(POLL_MS, async () => {
    try {
      const fp = await api('api/changes');
      const shape = JSON.stringify([fp.runs, fp.status]);
      if (!seen) return;   // the list is still loading
      const changed = seen.written !== fp.written;
      const structural = seen.shape !== shape;
      seen = { shape, written: fp.written };
      sinceFull++;
      if (!changed && !state.runs.some(unfinished)) return;
      const live = state.runs.filter(unfinished);
      if (structural || (changed && sinceFull >= 15)) {
        sinceFull = 0;
        state.runs = await api(`api/runs?q=${encodeURIComponent(state.q)}`);
      } else if (live.length) {
        const q = `id in (${live.map(r => `'${r.id}'`).join(', ')})`;
        const fresh = new Map((await api(`api/runs?q=${encodeURIComponent(q)}`)).map(r => [r.id, r]));
        state.runs = state.runs.map(r => fresh.get(r.id) || r);
      } else return;
      state.columns = computeColumns(state.runs);
      for (const r of live) state.sparks.delete(r.id);
      applySort(); renderHeader(); renderRows();
      count.textContent = `${state.runs.length} run${state.runs.length === 1 ? '' : 's'}`;
      await chartNewPoints(new Set(live.map(r => r.id)));
    } catch (e) { /* keep what is shown */ }
  });

  // The chart's runs that were unfinished get the points logged since (cursors).
  async function chartNewPoints(liveIds) {
    const c = liveChart;
    if (!c) return;
    const runs = c.list.filter(s => liveIds.has(s.run));
    if (!runs.length) return;
    const res = await api(`api/series?runs=${runs.map(s => encodeURIComponent(s.run)).join(',')}&metric=${encodeURIComponent(c.metric)}&points=${POINTS}&x=${c.x}&cursors=${runs.map(s => s.cursor).join(',')}`);
    if (c !== liveChart) return;
    let added = 0;
    res.series.forEach((n, i) => {
      const s = runs[i];
      s.x = s.x.concat(n.x); s.y = s.y.concat(n.y); s.cursor = n.cursor; s.total += n.total;
      added += n.x.length;
    });
    if (!added) return;
    // Appended points pile up: past a few screens' worth, ask for the downsampled whole.
    if (runs.some(s => s.x.length > 4 * POINTS)) { renderChart(); return; }
    c.redraw();
  }

  load();
}

// ---------- run page ----------

function pageRun(id) {
  const app = document.getElementById('app');
  app.textContent = '';
  let logOffset = null;
  const logPre = h('pre', { class: 'log', id: 'log' });
  const charts = new Map();

  async function render(first) {
    let d;
    try { d = await api(`api/runs/${encodeURIComponent(id)}`); } catch (e) {
      app.textContent = '';
      put(app, h('pre', { class: 'error' }, e.message));
      return null;
    }
    const r = d.run;
    if (first) {
      app.textContent = '';
      const params = flatten(r.params);
      put(app, 
        h('h1', {}, h('span', { id: 'run-status' }, badge(r.status)), ' ', r.name || r.id),
        h('div', { class: 'muted' }, `${r.id} · study `, h('a', { href: `#/runs?q=${encodeURIComponent(`study = '${r.study.replace(/'/g, "''")}'`)}` }, r.study),
          ` · created ${r.created}`, h('span', { id: 'run-duration' }, r.duration_s != null ? ` · ${fmtDuration(r.duration_s)}` : ''),
          r.exit_code != null ? ` · exit ${r.exit_code}` : '', r.host ? ` · ${r.host}` : ''),
        h('div', { class: 'cols' },
          h('div', {}, h('h2', {}, 'Params'),
            Object.keys(params).length ? h('table', { class: 'kv' }, Object.entries(params).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, fmt(v))))) : h('p', { class: 'muted' }, 'none')),
          h('div', {}, h('h2', {}, 'Metrics'),
            metricsTable(r))),
        h('h2', {}, 'Charts'), h('div', { class: 'charts', id: 'run-charts' }),
        d.system_metrics.length ? [h('h2', {}, 'System'), h('div', { class: 'charts', id: 'system-charts' })] : null,
        h('h2', {}, 'Output (stdout.log)'), logPre,
        h('h2', {}, 'Files'),
        d.files.length ? h('ul', {}, d.files.map(f => h('li', {}, h('a', { href: `api/runs/${encodeURIComponent(r.id)}/files/${f.path.split('/').map(encodeURIComponent).join('/')}`, download: '' }, f.path), h('span', { class: 'muted' }, ` ${fmt(f.bytes)} bytes`))))
          : h('p', { class: 'muted' }, 'none'),
        h('h2', {}, 'Notes'), d.notes ? h('pre', { class: 'log' }, d.notes) : h('p', { class: 'muted' }, 'none'),
        h('h2', {}, 'Reproduce'), d.reproduce ? h('code', { class: 'cmd' }, d.reproduce) : h('p', { class: 'muted' }, 'No command recorded (imported runs and client-only runs have none).'),
      );
    } else {
      const st = document.getElementById('run-status');
      if (st) { st.textContent = ''; st.append(badge(r.status)); }
      const mt = document.getElementById('run-metrics');
      if (mt) mt.replaceWith(metricsTable(r));
      const du = document.getElementById('run-duration');
      if (du) du.textContent = r.duration_s != null ? ` · ${fmtDuration(r.duration_s)}` : '';
    }
    await drawRunCharts(r, d);
    await followLog(r.id);
    document.body.dataset.loaded = 'run';
    return r;
  }

  function metricsTable(r) {
    const names = Object.keys(r.metrics).sort();
    if (!names.length) return h('p', { class: 'muted', id: 'run-metrics' }, 'none');
    return h('table', { class: 'data', id: 'run-metrics' },
      h('tr', {}, ['metric', 'last', 'min', 'max', 'mean', 'count', 'last step'].map((t, i) => h('th', { class: i ? 'num' : '' }, t))),
      names.map(m => { const s = r.metrics[m]; return h('tr', {}, h('td', {}, m), [s.last, s.min, s.max, s.mean, s.count, s.last_step].map(v => h('td', { class: 'num' }, fmt(v)))); }));
  }

  // First the downsampled whole of each series, then (while the run lives) only the points
  // logged since, by cursor.
  async function drawRunCharts(r, d) {
    const jobs = [];
    for (const m of Object.keys(r.metrics).sort()) jobs.push(['run-charts', m, 'metrics']);
    for (const m of d.system_metrics) jobs.push(['system-charts', m, 'system']);
    await Promise.all(jobs.map(async ([where, m, source]) => {
      const key = `${source}:${m}`;
      let c = charts.get(key);
      if (!c) {
        c = { el: h('div', { class: 'chart' }), series: null };
        charts.set(key, c);
        const parent = document.getElementById(where);
        if (parent) parent.append(c.el);
      }
      try {
        // System samples are drawn against wall time; metrics against the step.
        const xTime = source === 'system';
        const base = `api/series?runs=${encodeURIComponent(r.id)}&metric=${encodeURIComponent(m)}&points=${POINTS}&source=${source}${xTime ? '&x=time' : ''}`;
        const s = c.series;
        if (s && s.x.length <= 4 * POINTS) {
          const n = (await api(`${base}&cursors=${s.cursor}`)).series[0];
          s.cursor = n.cursor;
          if (!n.x.length) return;
          s.x = s.x.concat(n.x); s.y = s.y.concat(n.y); s.total += n.total;
        } else {
          c.series = (await api(base)).series[0];
        }
        if (!c.zoom) {
          c.zoom = zoomer(() => base, () => c.draw(), () => charts.get(key) === c);
          c.draw = () => {
            const shown = c.zoom.apply([{ ...c.series, label: m }]);
            drawChart(c.el, m, { series: shown, height: 220, xTime, zoom: c.zoom.range, onZoom: c.zoom.onZoom });
            c.el.dataset.points = c.series.x.length;
            c.el.dataset.shown = shown[0].x.length;
          };
        }
        c.draw();
      } catch (e) { c.el.textContent = e.message; }
    }));
  }

  async function followLog(runId) {
    try {
      const q = logOffset === null ? '' : `?offset=${logOffset}`;
      const chunk = await api(`api/runs/${encodeURIComponent(runId)}/log${q}`);
      const stick = logPre.scrollTop + logPre.clientHeight >= logPre.scrollHeight - 4;
      if (logOffset === null && chunk.start > 0) logPre.append(`… (first ${fmt(chunk.start)} bytes not shown)\n`);
      if (chunk.text) logPre.append(chunk.text);
      if (logOffset === null && !chunk.text) logPre.textContent = '(empty)';
      logOffset = chunk.offset;
      if (stick) logPre.scrollTop = logPre.scrollHeight;
    } catch (e) { /* the log is optional */ }
  }

  render(true).then(r => {
    if (!r) return;
    let running = r.status === 'running' || r.status === 'queued';
    const t = every(POLL_MS, async () => {
      if (!running) { clearInterval(t); return; }
      if (logPre.textContent === '(empty)') logPre.textContent = '';
      const now = await render(false);
      running = !!now && (now.status === 'running' || now.status === 'queued');
    });
  });
}

// ---------- compare ----------

async function pageCompare(params) {
  const app = document.getElementById('app');
  app.textContent = '';
  const ids = (params.get('ids') || '').split(',').filter(Boolean);
  if (!ids.length) { put(app, h('p', {}, 'Select runs on the ', h('a', { href: '#/runs' }, 'runs page'), ' and press Compare.')); return; }
  const q = `id IN (${ids.map(i => `'${i.replace(/'/g, "''")}'`).join(', ')})`;
  let runs;
  try { runs = await api(`api/runs?q=${encodeURIComponent(q)}`); } catch (e) { put(app, h('pre', { class: 'error' }, e.message)); return; }
  const flats = runs.map(r => flatten(r.params));
  const keys = [...new Set(flats.flatMap(f => Object.keys(f)))].sort();
  const differing = keys.filter(k => new Set(flats.map(f => JSON.stringify(f[k]))).size > 1);
  const head = h('tr', {}, h('th', {}, ''), runs.map(r => h('th', {}, h('a', { href: `#/run/${encodeURIComponent(r.id)}` }, runLabel(r)), ' ', badge(r.status))));
  const metrics = [...new Set(runs.flatMap(r => Object.keys(r.metrics)))].sort();
  const back = new URLSearchParams(); back.set('sel', ids.join(','));
  put(app, 
    h('h1', {}, `Compare ${runs.length} runs`),
    h('p', {}, h('a', { href: `#/runs?${back}` }, '← back to the runs (with this selection)')),
    h('h2', {}, 'Params that differ'),
    differing.length ? h('table', { class: 'data', id: 'params-diff' }, head.cloneNode(true),
      differing.map(k => h('tr', {}, h('th', {}, k), flats.map(f => h('td', {}, f[k] === undefined ? '—' : fmt(f[k]))))))
      : h('p', { class: 'muted' }, 'All params are the same.'),
    h('h2', {}, 'Metrics (last · min · max)'),
    h('table', { class: 'data', id: 'metrics-side' }, head.cloneNode(true),
      metrics.map(m => h('tr', {}, h('th', {}, m), runs.map(r => {
        const s = r.metrics[m];
        return h('td', { class: 'num' }, s ? `${fmt(s.last)} · ${fmt(s.min)} · ${fmt(s.max)}` : '—');
      })))),
    h('h2', {}, 'Statistics (ox stats)'),
  );
  const statsBox = h('div', { id: 'stats' });
  const metricSel = h('select', { id: 'stats-metric', onchange: () => loadStats() }, metrics.map(m => h('option', { value: m }, m)));
  put(app, h('div', { class: 'toolbar' }, 'metric', metricSel), statsBox);
  async function loadStats() {
    statsBox.textContent = '';
    if (!metricSel.value) return;
    try {
      const s = await api(`api/stats?q=${encodeURIComponent(q)}&metric=${encodeURIComponent(metricSel.value)}`);
      statsBox.append(renderStats(s));
    } catch (e) {
      statsBox.append(h('pre', { class: 'error' }, e.message));
    }
  }
  loadStats();
  document.body.dataset.loaded = 'compare';
}

// The `ox stats --format json` object (docs/stats.md) as a table and its verdict.
function renderStats(s) {
  const out = h('div', {});
  const keyText = k => Object.entries(k || {}).map(([a, v]) => `${a}=${fmt(v)}`).join(', ') || '(all runs)';
  const bestKey = JSON.stringify(s.best);
  put(out,
    h('p', { id: 'verdict' }, h('b', {}, 'Verdict: '), s.verdict),
    h('p', { class: 'muted' }, `${s.metric} (${s.summary} per run, ${s.mode === 'min' ? 'lower' : 'higher'} is better), ${Math.round(s.confidence * 100)}% intervals`),
  );
  const cols = ['config', 'n', 'mean', 'std', `${Math.round(s.confidence * 100)}% CI`, 'p (Holm) vs best', "Cohen's d", 'note'];
  out.append(h('table', { class: 'data', id: 'stats-table' }, h('tr', {}, cols.map((c, i) => h('th', { class: i && i < 7 ? 'num' : '' }, c))),
    s.groups.map(g => {
      const vb = g.vs_best || {};
      const best = JSON.stringify(g.key) === bestKey;
      return h('tr', { class: best ? 'best' : '' }, h('td', {}, keyText(g.key), best ? ' ★' : ''),
        [g.n, g.mean, g.std, g.ci ? `${fmt(g.ci[0])} … ${fmt(g.ci[1])}` : '', vb.p_holm, vb.cohen_d].map(v => h('td', { class: 'num' }, fmt(v))),
        h('td', { class: 'muted' }, [g.fragile ? 'n < 3: fragile' : '', g.note || ''].filter(Boolean).join('; ')));
    })));
  if (s.excluded.length) out.append(h('p', { class: 'muted' }, `${s.excluded.length} run(s) left out: `, s.excluded.slice(0, 5).map(e => `${e.id.slice(0, 10)} (${e.reason})`).join('; ')));
  out.append(h('details', {}, h('summary', {}, 'the full ox stats JSON'), h('pre', { class: 'log' }, JSON.stringify(s, null, 2))));
  return out;
}

// ---------- studies ----------

async function pageStudies() {
  const app = document.getElementById('app');
  app.textContent = '';
  let d, seen = null;
  try {
    // The fingerprint first: whatever changes after it is seen by the poll below.
    seen = JSON.stringify(await api('api/changes'));
    d = await api('api/studies');
  } catch (e) { put(app, h('pre', { class: 'error' }, e.message)); return; }
  const statuses = ['running', 'queued', 'completed', 'failed', 'crashed', 'killed'];
  const studies = (field) => field === 'study';
  const table = (rows, field, id) => h('table', { class: 'data', id },
    h('tr', {}, h('th', {}, field), h('th', { class: 'num' }, 'runs'), statuses.map(s => h('th', { class: 'num' }, s)), h('th', {}, 'progress'),
      studies(field) ? h('th', {}, 'ox report') : null),
    rows.map(g => {
      const done = statuses.filter(s => s !== 'running' && s !== 'queued').reduce((a, s) => a + (g.status[s] || 0), 0);
      const q = `${field} = '${g.name.replace(/'/g, "''")}'`;
      return h('tr', {},
        h('td', {}, studies(field) ? h('a', { href: `#/runs?q=${encodeURIComponent(q)}` }, g.name) : g.name),
        h('td', { class: 'num' }, g.runs),
        statuses.map(s => h('td', { class: 'num' }, g.status[s] ? g.status[s] : '')),
        h('td', { class: 'nowrap' }, h('span', { class: 'progress', title: `${done} of ${g.runs} finished` }, h('span', { style: `width:${(100 * done / Math.max(1, g.runs)).toFixed(1)}%` })), ` ${done}/${g.runs}`),
        studies(field) ? h('td', { class: 'nowrap' }, reportLink(g)) : null);
    }));
  // The page `ox report -s STUDY` wrote last (served by ox ui under reports/).
  function reportLink(g) {
    if (!g.report) return h('span', { class: 'muted', title: `ox report -s ${g.name}` }, 'none');
    const when = new Date(g.report.modified);
    const pad = n => String(n).padStart(2, '0');
    const date = Number.isNaN(when.getTime()) ? g.report.modified
      : `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ${pad(when.getHours())}:${pad(when.getMinutes())}`;
    return h('a', { class: 'report', href: g.report.url.replace(/^\//, ''), title: `written ${g.report.modified}` }, `report (${date})`);
  }
  function render() {
    app.textContent = '';
    put(app, h('h1', {}, 'Studies'), d.studies.length ? table(d.studies, 'study', 'studies') : h('p', { class: 'muted' }, 'No runs yet.'));
    put(app, h('h2', {}, 'Sweeps'), d.sweeps.length ? table(d.sweeps, 'sweep', 'sweeps') : h('p', { class: 'muted' }, 'No sweeps.'));
  }
  render();
  // A running sweep's progress moves without a reload: counts are asked again when the
  // catalog's fingerprint changes.
  every(POLL_MS, async () => {
    try {
      const key = JSON.stringify(await api('api/changes'));
      if (key !== seen) { d = await api('api/studies'); render(); }
      seen = key;
    } catch (e) { /* keep what is shown */ }
  });
  document.body.dataset.loaded = 'studies';
}

// ---------- router ----------

let lastRoute = null;
function route() {
  if (location.hash === lastRoute) return;
  lastRoute = location.hash;
  clearTimers();
  document.body.dataset.loaded = '';
  const { path, params } = parseHash();
  const section = path.split('/')[1] || 'runs';
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.nav === section));
  if (path.startsWith('/run/')) pageRun(decodeURIComponent(path.slice(5)));
  else if (path === '/compare') pageCompare(params);
  else if (path === '/studies') pageStudies();
  else pageRuns(params);
}
window.addEventListener('hashchange', route);
window.addEventListener('popstate', route);
route();
