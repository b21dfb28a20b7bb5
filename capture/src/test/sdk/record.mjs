// Records what real PostHog SDKs send, for the capture replay test (CaptureReplayTest).
// Run: cd capture/src/test/sdk && npm ci && node record.mjs > ../resources/sdk-requests.jsonl
// A recording server answers as PostHog does; posthog-node and posthog-js (in headless Chromium,
// through playwright-core) send to it with each encoding they have. Every request is written as one
// JSON line: method, path with query, the headers that matter, the body in base64, the server's
// receive time, and what the SDK was asked to send (the driver's own list, so the test checks the
// decoded events against intent, not against a second decoder).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { PostHog } from 'posthog-node';
import { chromium } from 'playwright-core';
import LZString from 'lz-string';
import zlib from 'node:zlib';

// The expectation, computed here independently of the Java decoder: PostHog's rules as
// docs/capture.md states them (token -> project by the local rule, distinct_id precedence,
// offset / sent_at skew / timestamp / now).
function decodeBody(r) {
  const [p, qs] = r.path.split('?');
  const q = new URLSearchParams(qs || '');
  let bytes = Buffer.from(r.body_base64, 'base64');
  let compression = q.get('compression');
  let field = false;
  if (r.method === 'GET') { bytes = Buffer.from(q.get('data'), 'utf8'); field = true; }
  else if ((r.headers['content-type'] || '').startsWith('application/x-www-form-urlencoded')) {
    const f = new URLSearchParams(bytes.toString('latin1'));
    bytes = Buffer.from(f.get('data'), 'utf8'); compression = compression || f.get('compression'); field = true;
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return zlib.gunzipSync(bytes).toString('utf8');
  if (compression === 'lz64') return LZString.decompressFromBase64(bytes.toString('latin1'));
  if (compression === 'base64' || (field && !/^\s*[\[{]/.test(bytes.toString('latin1')))) return Buffer.from(bytes.toString('latin1'), 'base64').toString('utf8');
  return bytes.toString('utf8');
}
function ms(s) { return new Date(s).getTime(); }
function expected(r) {
  const payload = JSON.parse(decodeBody(r));
  let events, token = null, sentAt = null;
  if (Array.isArray(payload)) events = payload;
  else if (Array.isArray(payload.batch)) { events = payload.batch; token = payload.api_key || payload.token; sentAt = payload.sent_at; }
  else events = [payload];
  const q = new URLSearchParams(r.path.split('?')[1] || '');
  if (!sentAt && /^\d{12,16}$/.test(q.get('_') || '') && Number(q.get('_')) >= Date.parse('2021-01-01T00:00:00Z')) {
    sentAt = new Date(Number(q.get('_'))).toISOString(); // the query's _ is the send time
  }
  token = token || events.map((e) => e.api_key || e.token || e.$token || (e.properties || {}).token).find((t) => t);
  const now = r.received_at_ms;
  return events.map((e) => {
    const props = e.properties || {};
    const distinct = [e.distinct_id, e.$distinct_id, props.distinct_id].find((v) => v !== undefined && v !== null);
    let ts;
    if (e.offset !== undefined) ts = now - e.offset;
    else if (e.timestamp && sentAt && props.$ignore_sent_at !== true) ts = ms(e.timestamp) - (ms(sentAt) - now);
    else if (e.timestamp) ts = ms(e.timestamp);
    else ts = now;
    if (ts - now > 23 * 3600 * 1000) ts = now;
    const out = { project: token.replace(/^phc_local_/, ''), event: e.event, distinct_id: String(distinct), timestamp: new Date(ts).toISOString() };
    if (e.uuid) out.uuid = e.uuid;
    for (const k of ['$set', '$set_once']) {
      if (e[k] || props[k]) out[k] = { ...(props[k] || {}), ...(e[k] || {}) }; // top-level wins
    }
    return out;
  });
}

const requests = [];
let scenario = null;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const cors = {
      'Access-Control-Allow-Origin': req.headers.origin || '*',
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    };
    if (req.url.startsWith('/page')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><body><script src="/posthog.js"></script></body></html>');
      return;
    }
    if (req.url.startsWith('/posthog.js')) {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      res.end(fs.readFileSync(path.resolve('node_modules/posthog-js/dist/array.full.no-external.js')));
      return;
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(200, cors);
      res.end();
      return;
    }
    const p = req.url.split('?')[0];
    if (p.startsWith('/favicon')) { res.writeHead(404); res.end(); return; }
    if (p.startsWith('/flags') || p.startsWith('/decide') || p.startsWith('/array') || p.startsWith('/static')) {
      res.writeHead(200, { 'content-type': 'application/json', ...cors });
      res.end(JSON.stringify({ featureFlags: {}, sessionRecording: false, supportedCompression: ['gzip-js', 'gzip'], config: { enable_collect_everything: true } }));
      return;
    }
    const body = Buffer.concat(chunks);
    const keep = {};
    for (const h of ['content-type', 'content-encoding', 'user-agent', 'origin']) {
      if (req.headers[h] !== undefined) keep[h] = req.headers[h];
    }
    requests.push({ scenario: scenario.name, method: req.method, path: req.url, headers: keep,
      body_base64: body.toString('base64'), received_at_ms: Date.now() });
    res.writeHead(200, { 'content-type': 'application/json', ...cors });
    res.end('{"status":1}');
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const host = `http://127.0.0.1:${server.address().port}`;
const intents = [];
function intend(name, events) { intents.push({ scenario: name, events }); }

async function node(name, options) {
  scenario = { name };
  const ph = new PostHog('phc_local_acme', { host, flushAt: options.flushAt, flushInterval: 0, ...options.extra });
  const sent = [];
  ph.capture({ distinctId: 'node-user-1', event: 'signup', properties: { plan: 'pro', $set: { email: 'a@example.com' } } });
  sent.push({ event: 'signup', distinct_id: 'node-user-1' });
  ph.capture({ distinctId: 'node-user-1', event: 'purchase', properties: { amount: 12.5, 'ünï': 'cödé ✓' }, timestamp: new Date('2026-11-30T10:00:00.000Z') });
  sent.push({ event: 'purchase', distinct_id: 'node-user-1', timestamp: '2026-11-30T10:00:00.000Z' });
  ph.identify({ distinctId: 'node-user-2', properties: { name: 'Ada' } });
  sent.push({ event: '$identify', distinct_id: 'node-user-2' });
  ph.alias({ distinctId: 'node-user-2', alias: 'node-anon-9' });
  sent.push({ event: '$create_alias', distinct_id: 'node-user-2' });
  await ph.shutdown();
  intend(name, sent);
}

await node('posthog-node, gzip, batches of 20', { flushAt: 20, extra: {} });
await node('posthog-node, uncompressed, one event a request', { flushAt: 1, extra: { disableCompression: true } });

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
async function browserScenario(name, init) {
  scenario = { name };
  const page = await browser.newPage();
  await page.goto(`${host}/page`);
  await page.evaluate(({ host, init }) => {
    window.posthog.init('phc_local_globex', { api_host: host, autocapture: false, capture_pageview: false,
      capture_pageleave: false, disable_session_recording: true, opt_out_useragent_filter: true, advanced_disable_flags: true, request_batching: init.batching, ...init.config });
    window.posthog.identify('browser-user-1', { plan: 'team' }, { first_seen: 'today' });
    window.posthog.capture('clicked', { button: 'buy', nested: { a: [1, 2, { b: null }] } });
    window.posthog.capture('$pageview', { $current_url: 'https://example.com/a?b=c' });
  }, { host, init });
  await page.waitForTimeout(init.wait || 4000);
  await page.close();
  intend(name, [
    { event: '$identify', distinct_id: 'browser-user-1' },
    { event: 'clicked', distinct_id: 'browser-user-1' },
    { event: '$pageview', distinct_id: 'browser-user-1' },
  ]);
}
await browserScenario('posthog-js, gzip-js, batched', { batching: true, config: {} });
await browserScenario('posthog-js, uncompressed, batched', { batching: true, config: { disable_compression: true } });
await browserScenario('posthog-js, gzip-js, unbatched', { batching: false, config: {} });
await browser.close();

// posthog-js before 1.x's gzip: lz64 form bodies and base64 form bodies (what old snippets still send)
async function legacyForm(name, compression, encode) {
  scenario = { name };
  const events = [
    { event: 'legacy', properties: { distinct_id: 'legacy-user', token: 'phc_local_initech', $lib: 'web', x: 'ÿ€' }, timestamp: '2026-11-30T09:00:00.000Z' },
  ];
  const data = encode(JSON.stringify(events));
  const form = new URLSearchParams({ data, compression }).toString();
  await fetch(`${host}/e/?ver=1.20.0&_=${Date.now()}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  intend(name, [{ event: 'legacy', distinct_id: 'legacy-user', timestamp: '2026-11-30T09:00:00.000Z' }]);
}
await legacyForm('legacy posthog-js, lz64 form', 'lz64', (s) => LZString.compressToBase64(s));
await legacyForm('legacy posthog-js, base64 form', 'base64', (s) => Buffer.from(s, 'utf8').toString('base64'));
scenario = { name: 'legacy posthog-js, GET with data=' };
{
  const ev = { event: 'legacy-get', properties: { distinct_id: 'legacy-user', token: 'phc_local_initech' } };
  const data = Buffer.from(JSON.stringify(ev), 'utf8').toString('base64');
  await fetch(`${host}/e/?data=${encodeURIComponent(data)}&ip=1&_=${Date.now()}`);
  intend('legacy posthog-js, GET with data=', [{ event: 'legacy-get', distinct_id: 'legacy-user' }]);
}

server.close();
for (const r of requests) {
  const intent = intents.find((i) => i.scenario === r.scenario);
  process.stdout.write(JSON.stringify({ ...r, expected: expected(r), scenario_events: intent ? intent.events : [] }) + '\n');
}
