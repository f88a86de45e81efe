// Shared by the storefront and the dashboard: the API client (with an optional API key kept
// in localStorage), DOM helpers that never parse data as HTML, and small SVG charts.
'use strict';

const DG = (() => {
  const KEY = 'daogou.apiKey';
  const key = () => localStorage.getItem(KEY) || '';
  const setKey = (k) => (k ? localStorage.setItem(KEY, k) : localStorage.removeItem(KEY));

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = {};
    if (key()) headers.Authorization = 'Bearer ' + key();
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let v = null;
    try {
      v = text ? JSON.parse(text) : null;
    } catch (_) {
      v = text;
    }
    if (!r.ok) {
      const err = new ApiError(r.status, (v && v.code) || 'error', (v && v.message) || text || r.statusText);
      if (r.status === 401) askForKey(err.message);
      throw err;
    }
    return v;
  }

  // Elements from data: text always goes through text nodes, never innerHTML.
  function el(ns, tag, attrs, children) {
    const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c == null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  const h = (tag, attrs, ...children) => el(null, tag, attrs, children);
  const SVGNS = 'http://www.w3.org/2000/svg';
  const s = (tag, attrs, ...children) => el(SVGNS, tag, attrs, children);

  function clear(node, ...children) {
    node.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false));
    return node;
  }

  const price = (p) => (p == null ? '' : '¥' + Number(p).toLocaleString('zh-CN', { maximumFractionDigits: 2 }));
  const day = (t) => new Date(t * 1000).toISOString().slice(0, 10);
  const time = (t) => new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const fixed = (x, d = 4) => (x == null || Number.isNaN(x) ? '–' : Number(x).toFixed(d));
  function hue(text) {
    let n = 0;
    for (const ch of String(text || '')) n = (n * 31 + ch.codePointAt(0)) % 360;
    return n;
  }

  function notice(message, kind) {
    const n = document.getElementById('notice');
    if (!n) return;
    n.hidden = !message;
    n.className = 'notice ' + (kind || '');
    clear(n, message || '');
  }

  // With API keys configured the pages ask for one (and keep it in this browser).
  function askForKey(message) {
    const n = document.getElementById('notice');
    if (!n || n.querySelector('form')) return;
    const input = h('input', { type: 'password', placeholder: 'API key', autocomplete: 'off', 'data-testid': 'api-key' });
    const form = h(
      'form',
      { class: 'row' },
      h('span', {}, '此服务需要 API 密钥 / This service needs an API key: ' + message + ' '),
      input,
      h('button', { type: 'submit' }, '保存 Save'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      setKey(input.value.trim());
      location.reload();
    });
    n.hidden = false;
    n.className = 'notice warn';
    clear(n, form);
  }

  // ------------------------------------------------------------------ charts (plain SVG)

  const PALETTE = ['#c2410c', '#2563eb', '#16a34a', '#9333ea', '#db2777', '#0891b2', '#ca8a04', '#475569'];
  const color = (i) => PALETTE[i % PALETTE.length];

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function legend(names) {
    return h(
      'div',
      { class: 'legend' },
      names.map((n, i) => h('span', {}, s('svg', { width: 10, height: 10 }, s('rect', { width: 10, height: 10, fill: color(i) })), ' ' + n)),
    );
  }

  // Lines over an even x axis: series = [{name, values}], labels = x labels.
  function lineChart(node, labels, series, opts = {}) {
    const W = 1100, H = opts.height || 260, L = 52, R = 12, T = 12, B = 28;
    const max = niceMax(Math.max(0, ...series.flatMap((x) => x.values)));
    const n = Math.max(labels.length, 2);
    const x = (i) => L + ((W - L - R) * i) / (n - 1);
    const y = (v) => T + (H - T - B) * (1 - v / max);
    const g = [];
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      g.push(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
      g.push(s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, Math.round(v).toLocaleString()));
    }
    const every = Math.max(1, Math.ceil(labels.length / 8));
    labels.forEach((l, i) => {
      if (i % every === 0) g.push(s('text', { x: x(i), y: H - 8, 'text-anchor': 'middle', class: 'tick' }, l));
    });
    series.forEach((ser, si) => {
      const d = ser.values.map((v, i) => (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(v).toFixed(1)).join(' ');
      g.push(s('path', { d, fill: 'none', stroke: color(si), 'stroke-width': 1.8, class: 'series', 'data-name': ser.name },
        s('title', {}, ser.name)));
    });
    clear(node, s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.label || 'chart' }, g), legend(series.map((x) => x.name)));
  }

  // Horizontal bars: rows = [{label, value, note}].
  function barChart(node, rows, opts = {}) {
    const W = 480, row = 26, L = opts.labelWidth || 120, R = 60, T = 6;
    const H = T * 2 + row * rows.length;
    const max = opts.max || niceMax(Math.max(0, ...rows.map((r) => r.value)));
    const g = rows.map((r, i) => {
      const w = Math.max(1, ((W - L - R) * (r.value || 0)) / max);
      return s('g', { class: 'bar' },
        s('text', { x: L - 6, y: T + i * row + 17, 'text-anchor': 'end', class: 'tick' }, r.label),
        s('rect', { x: L, y: T + i * row + 4, width: w.toFixed(1), height: row - 8, rx: 3, fill: color(opts.colorBy ? i : 0) },
          s('title', {}, `${r.label}: ${r.note || r.value}`)),
        s('text', { x: L + w + 6, y: T + i * row + 17, class: 'tick' }, r.note || String(r.value)));
    });
    clear(node, s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.label || 'chart' }, g));
  }

  // Sorted values as an area (rank on x, value on y; log scale when asked).
  function areaChart(node, values, opts = {}) {
    const W = 480, H = 220, L = 44, R = 10, T = 10, B = 26;
    const tf = opts.log ? (v) => Math.log10(1 + v) : (v) => v;
    const max = opts.log ? tf(Math.max(1, ...values)) : niceMax(Math.max(0, ...values));
    const n = Math.max(values.length, 2);
    const x = (i) => L + ((W - L - R) * i) / (n - 1);
    const y = (v) => T + (H - T - B) * (1 - tf(v) / max);
    const pts = values.map((v, i) => x(i).toFixed(1) + ' ' + y(v).toFixed(1));
    const d = 'M' + x(0) + ' ' + y(0) + ' L' + pts.join(' L') + ' L' + x(values.length - 1) + ' ' + y(0) + ' Z';
    const g = [s('path', { d, fill: color(1), 'fill-opacity': 0.35, stroke: color(1), class: 'series' })];
    const top = Math.max(1, ...values);
    for (const v of opts.log ? [0, 1, 10, 100, 1000, 10000].filter((t) => t <= top) : [0, top / 2, top]) {
      g.push(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
      g.push(s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, Math.round(v)));
    }
    g.push(s('text', { x: (L + W) / 2, y: H - 6, 'text-anchor': 'middle', class: 'tick' }, opts.xlabel || ''));
    clear(node, s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.label || 'chart' }, g));
  }

  // Lines with a shaded band (e.g. 95 % intervals) over an even x axis, decimal ticks:
  // series = [{name, values, lo, hi}] (null values are gaps), labels = x labels.
  function bandChart(node, labels, series, opts = {}) {
    const W = 540, H = opts.height || 220, L = 58, R = 10, T = 10, B = 26;
    const all = series.flatMap((x) => [...x.values, ...(x.lo || []), ...(x.hi || [])]).filter((v) => v != null && Number.isFinite(v));
    let lo = Math.min(0, ...all), hi = Math.max(...all, 1e-12);
    if (hi === lo) hi = lo + 1;
    const n = Math.max(labels.length, 2);
    const x = (i) => L + ((W - L - R) * i) / (n - 1);
    const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
    const digits = opts.digits == null ? 3 : opts.digits;
    const g = [];
    for (let k = 0; k <= 4; k++) {
      const v = lo + ((hi - lo) * k) / 4;
      g.push(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
      g.push(s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, v.toFixed(digits)));
    }
    const every = Math.max(1, Math.ceil(labels.length / 6));
    labels.forEach((l, i) => {
      if (i % every === 0) g.push(s('text', { x: x(i), y: H - 8, 'text-anchor': 'middle', class: 'tick' }, l));
    });
    const ok = (v) => v != null && Number.isFinite(v);
    series.forEach((ser, si) => {
      if (ser.lo && ser.hi) {
        const idx = ser.values.map((_, i) => i).filter((i) => ok(ser.lo[i]) && ok(ser.hi[i]));
        if (idx.length) {
          const up = idx.map((i) => x(i).toFixed(1) + ' ' + y(ser.hi[i]).toFixed(1));
          const down = idx.slice().reverse().map((i) => x(i).toFixed(1) + ' ' + y(ser.lo[i]).toFixed(1));
          g.push(s('path', { d: 'M' + up.join(' L') + ' L' + down.join(' L') + ' Z', fill: color(si), 'fill-opacity': 0.15, class: 'band' }));
        }
      }
      let d = '';
      let pen = false;
      ser.values.forEach((v, i) => {
        if (!ok(v)) {
          pen = false;
          return;
        }
        d += (pen ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(v).toFixed(1) + ' ';
        pen = true;
      });
      if (d) g.push(s('path', { d, fill: 'none', stroke: color(si), 'stroke-width': 1.8, class: 'series', 'data-name': ser.name }, s('title', {}, ser.name)));
      // a dot per point: a single point (an experiment's first bucket) is visible too
      ser.values.forEach((v, i) => {
        if (ok(v)) g.push(s('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.5, fill: color(si), class: 'point' }, s('title', {}, `${ser.name} ${labels[i]}: ${v.toFixed(digits + 1)}`)));
      });
    });
    clear(node, s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.label || 'chart' }, g), legend(series.map((x) => x.name)));
  }

  return {
    api,
    get: (p) => api('GET', p),
    post: (p, b) => api('POST', p, b),
    h, s, clear, price, day, time, fixed, hue, notice, key, setKey, askForKey, ApiError,
    lineChart, barChart, areaChart, bandChart, color,
  };
})();
