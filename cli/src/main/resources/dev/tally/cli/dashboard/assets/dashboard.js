// Tally's live dashboard: fetches the JSON endpoints every few seconds and redraws in plain SVG.
// Every value from the server is set as text (textContent, attributes), never parsed as HTML:
// event names and dead-letter reasons are whatever a client sent.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

function el(name, attrs, text) {
  const e = name.startsWith('svg:') ? document.createElementNS(SVG, name.slice(4))
                                     : document.createElement(name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const fmt = new Intl.NumberFormat('en-US');
// What each bar showed once it was complete: a later change is a late event's revision.
const completeSeen = new Map();
const revised = new Map();
const ms = (iso) => (iso == null ? null : Date.parse(iso));
const hms = (iso) => (iso == null ? '–' : new Date(iso).toISOString().slice(11, 19) + 'Z');
const ymdhm = (iso) => (iso == null ? 'no event time' : new Date(iso).toISOString().slice(0, 16).replace('T', ' ') + 'Z');

async function get(path) {
  const r = await fetch(path, { cache: 'no-store' });
  let body;
  try {
    body = await r.json();
  } catch (e) {
    throw new Error(path + ': ' + r.status + ', not JSON (' + e.message + ')'); // e.g. cut off
  }
  if (!r.ok) throw new Error(path + ': ' + (body.error || r.status));
  return body;
}

function lagText(wallIso, iso) {
  if (iso == null) return '';
  const s = (ms(wallIso) - ms(iso)) / 1000;
  return ' (' + (s >= 0 ? s.toFixed(1) + ' s behind' : (-s).toFixed(1) + ' s ahead') + ')';
}

function renderFreshness(f) {
  const now = f.now;
  $('generation').textContent = now.generation ? 'generation ' + now.generation : 'no active generation';
  $('wall').textContent = hms(now.wall_clock);
  $('complete').textContent = hms(now.complete_through) + lagText(now.wall_clock, now.complete_through);
  $('final').textContent = hms(now.final_through) + lagText(now.wall_clock, now.final_through);
  const st = $('staleness');
  st.textContent = now.staleness_seconds == null ? '–' : Number(now.staleness_seconds).toFixed(1) + ' s';
  st.classList.toggle('stale', now.staleness_seconds != null && Number(now.staleness_seconds) > 60);
  st.dataset.seconds = now.staleness_seconds == null ? '' : String(now.staleness_seconds);

  const svg = $('strip');
  svg.replaceChildren();
  const W = svg.clientWidth || 1000, H = svg.clientHeight || 120, L = 44, B = 16;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const pts = f.samples.filter((s) => s.at != null);
  if (pts.length < 2) {
    svg.append(el('svg:text', { x: L, y: H / 2, class: 'axis' }, 'collecting samples …'));
    return;
  }
  const t0 = ms(pts[0].at), t1 = ms(pts[pts.length - 1].at);
  const lag = (s, key) => (s[key] == null ? null : (ms(s.at) - ms(s[key])) / 1000);
  let max = 1;
  for (const s of pts) for (const k of ['complete_through', 'final_through']) {
    const v = lag(s, k);
    if (v != null && v > max) max = v;
  }
  const x = (t) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - 8);
  const y = (v) => 6 + (1 - Math.max(0, v) / max) * (H - B - 6);
  for (const frac of [0, 0.5, 1]) {
    svg.append(el('svg:text', { x: 2, y: y(max * frac) + 3, class: 'axis' }, (max * frac).toFixed(0) + ' s'));
  }
  svg.append(el('svg:text', { x: L, y: H - 3, class: 'axis' }, hms(pts[0].at)));
  svg.append(el('svg:text', { x: W - 4, y: H - 3, class: 'axis', 'text-anchor': 'end' }, hms(pts[pts.length - 1].at)));
  const gap = 3 * f.sample_every_seconds * 1000;
  for (const [key, cls] of [['complete_through', 'lag-complete'], ['final_through', 'lag-final']]) {
    let run = [], prev = null;
    const flush = () => {
      if (run.length > 1) svg.append(el('svg:polyline', { class: cls, points: run.join(' ') }));
      run = [];
    };
    for (const s of pts) {
      const v = lag(s, key), t = ms(s.at);
      if (v == null || (prev != null && t - prev > gap)) flush(); // a stall of the dashboard or database
      if (v != null) run.push(x(t).toFixed(1) + ',' + y(v).toFixed(1));
      prev = t;
    }
    flush();
  }
}

function renderCharts(minutes, now) {
  const from = ms(minutes.from), to = ms(minutes.to), slots = Math.round((to - from) / 60000);
  const groups = new Map();
  for (const r of minutes.rows) {
    const k = JSON.stringify([r.project, r.event]);
    if (!groups.has(k)) groups.set(k, { project: r.project, event: r.event, rows: [], events: 0 });
    const g = groups.get(k);
    g.rows.push(r);
    g.events += r.events;
  }
  const select = $('project');
  const chosen = select.value;
  const projects = [...new Set(minutes.rows.map((r) => r.project))].sort();
  const known = [...select.options].map((o) => o.value);
  for (const p of projects) if (!known.includes(p)) select.append(el('option', { value: p }, p));

  const box = $('charts');
  box.replaceChildren();
  const list = [...groups.values()].filter((g) => !chosen || g.project === chosen)
    .sort((a, b) => b.events - a.events || (a.project + a.event).localeCompare(b.project + b.event));
  if (list.length === 0) box.append(el('p', { class: 'muted' }, 'no minute windows in the last hour yet'));
  const W = 380, H = 90, B = 12;
  for (const g of list) {
    const card = el('div', { class: 'chart' });
    card.append(el('h3', {}, g.project + ' · ' + g.event));
    const last = g.rows[g.rows.length - 1];
    card.append(el('div', { class: 'sub' },
      fmt.format(g.events) + ' events in the hour · newest minute ' + hms(last.window_start) + ': '
      + fmt.format(last.events) + ' events, ' + fmt.format(last.persons) + ' persons (' + last.state + ')'));
    const svg = el('svg:svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none',
      'data-project': g.project, 'data-event': g.event, 'data-events': g.events });
    const max = Math.max(1, ...g.rows.map((r) => r.events));
    const bw = W / slots;
    const y = (v) => (H - B) * (1 - v / max);
    for (const r of g.rows) {
      const i = Math.round((ms(r.window_start) - from) / 60000);
      const rect = el('svg:rect', { x: (i * bw + 0.5).toFixed(2), y: y(r.events).toFixed(2),
        width: Math.max(1, bw - 1).toFixed(2), height: Math.max(0.5, (H - B) - y(r.events)).toFixed(2),
        class: r.state, 'data-minute': r.window_start, 'data-events': r.events,
        'data-persons': r.persons, 'data-state': r.state });
      const key = JSON.stringify([r.project, r.event, r.window_start]);
      const seen = completeSeen.get(key);
      if (seen && (seen.events !== r.events || seen.persons !== r.persons)) {
        revised.set(key, seen.events + ' → ' + r.events + ' events, ' + seen.persons + ' → ' + r.persons
          + ' persons after it was complete (late events within the allowed lateness)');
      }
      if (r.state !== 'open') completeSeen.set(key, { events: r.events, persons: r.persons });
      if (revised.has(key)) {
        rect.classList.add('revised');
        rect.setAttribute('data-revised', 'true');
      }
      rect.append(el('svg:title', {}, hms(r.window_start) + '  ' + fmt.format(r.events) + ' events, '
        + fmt.format(r.persons) + ' distinct persons, ' + r.state
        + (revised.has(key) ? '; revised: ' + revised.get(key) : '')));
      svg.append(rect);
      svg.append(el('svg:circle', { class: 'persons', cx: (i * bw + bw / 2).toFixed(2),
        cy: y(r.persons).toFixed(2), r: 1.6 }));
    }
    for (const [key, cls] of [['complete_through', 'complete-through'], ['final_through', 'final-through']]) {
      const t = ms(now[key]);
      if (t != null && t >= from && t <= to) {
        const xx = (((t - from) / 60000) * bw).toFixed(2);
        svg.append(el('svg:line', { class: cls, x1: xx, x2: xx, y1: 0, y2: H - B }));
      }
    }
    svg.append(el('svg:text', { x: 1, y: H - 1, class: 'axis' }, hms(minutes.from)));
    svg.append(el('svg:text', { x: W - 1, y: H - 1, class: 'axis', 'text-anchor': 'end' }, hms(minutes.to)));
    svg.append(el('svg:text', { x: 1, y: 9, class: 'axis' }, fmt.format(max) + '/min'));
    card.append(svg);
    box.append(card);
  }
}

function renderLedger(ledger) {
  const body = $('ledger').tBodies[0];
  body.replaceChildren();
  const row = (label, r, cls) => {
    const tr = el('tr', { class: cls || '', 'data-hour': r.hour || '', 'data-balanced': r.balanced });
    tr.append(el('td', {}, label));
    for (const k of ['consumed', 'aggregated', 'duplicates', 'too_late', 'dead_lettered']) {
      tr.append(el('td', { 'data-field': k }, fmt.format(r[k])));
    }
    tr.append(el('td', { class: r.balanced ? 'ok' : 'bad' }, r.balanced ? '✓' : '✗ not balanced'));
    body.append(tr);
  };
  row('all hours', ledger.total, 'total');
  for (const h of ledger.hours) row(ymdhm(h.hour), h);
  const b = $('balanced');
  b.textContent = ledger.total.balanced ? '✓ balanced' : '✗ NOT BALANCED';
  b.className = ledger.total.balanced ? 'ok' : 'bad';
}

function renderDead(dead) {
  const reasons = $('reasons');
  reasons.replaceChildren();
  if (dead.unavailable) reasons.append(el('p', { class: 'muted' }, dead.unavailable));
  for (const [reason, n] of Object.entries(dead.reasons || {})) {
    reasons.append(el('div', {}, fmt.format(n) + ' × ' + reason));
  }
  const body = $('dead').tBodies[0];
  body.replaceChildren();
  for (const d of dead.newest) {
    const tr = el('tr');
    tr.append(el('td', {}, hms(d.at)), el('td', {}, d.reason), el('td', {}, d.source));
    body.append(tr);
  }
  if (dead.newest.length === 0 && !dead.unavailable) {
    const tr = el('tr');
    tr.append(el('td', { colspan: 3, class: 'muted' }, 'none'));
    body.append(tr);
  }
}

async function refresh() {
  try {
    const [minutes, freshness, ledger, dead] = await Promise.all([
      get('/api/minutes?minutes=60'), get('/api/freshness'), get('/api/ledger?hours=24'),
      get('/api/dead-letters?limit=15').catch((e) => ({ newest: [], reasons: {}, unavailable: e.message })),
    ]);
    renderFreshness(freshness);
    renderCharts(minutes, minutes);
    renderLedger(ledger);
    renderDead(dead);
    $('banner').hidden = true;
    $('updated').textContent = 'updated ' + hms(freshness.now.wall_clock) + ' · every ' + REFRESH_MS / 1000 + ' s';
    document.body.dataset.ready = 'true';
    document.body.dataset.minutesFrom = minutes.from;
    document.body.dataset.finalThrough = minutes.final_through || '';
  } catch (e) {
    $('banner').hidden = false;
    $('banner').textContent = 'cannot refresh (showing the last data): ' + e.message;
  }
}

$('project').addEventListener('change', refresh);
refresh();
setInterval(refresh, REFRESH_MS);
