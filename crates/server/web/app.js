// Shared by every console: the session (token in sessionStorage, never the
// password), the JSON API, WIB time formatting, the header bar (clock, language,
// connection indicator) and the one WebSocket client (docs/protocol.md).
import { t, applyI18n, setLang, getLang, onLang } from './i18n.js';

export { t, applyI18n, setLang, getLang, onLang };

const TZ = 'Asia/Jakarta';

// ------------------------------------------------------------------ session

export function session() {
  try { return JSON.parse(sessionStorage.getItem('satria.session') || 'null'); } catch { return null; }
}

export function saveSession(s) { sessionStorage.setItem('satria.session', JSON.stringify(s)); }

export function clearSession() {
  Object.keys(sessionStorage).filter((k) => k.startsWith('satria.')).forEach((k) => sessionStorage.removeItem(k));
}

/** The session of a page for `roles`; sends anyone else to the login page. */
export function requireRole(roles) {
  const s = session();
  if (!s || !roles.includes(s.user.role) || (s.expires_at_ms && s.expires_at_ms < Date.now())) {
    location.replace('/');
    throw new Error('not logged in');
  }
  return s;
}

/** The page of a role (Pattas and Salinmas pages live in their folders). */
export function pageFor(role) {
  if (role === 'dispatcher' || role === 'admin') return '/dispatch.html';
  if (role === 'crew') return '/crew.html';
  if (role === 'hospital') return '/hospital.html';
  if (role.startsWith('pattas')) return '/pattas/';
  if (role.startsWith('salinmas')) return '/salinmas/';
  return null;
}

export class ApiError extends Error {
  constructor(status, body) {
    super((getLang() === 'id' ? body?.message_id : body?.message) || body?.message || `HTTP ${status}`);
    this.status = status; this.code = body?.code; this.body = body;
  }
}

// ------------------------------------------------------------------ cluster nodes

// In a cluster every node serves the same region and honours the same
// session token. A page keeps the origins of the region's nodes (from
// `GET /cluster/nodes`, docs/http.md), talks to one of them (`base`, the page's
// own origin at first), and moves on to the next when that one stops answering.
// On a single node the list is the page's origin alone.
const NODES_KEY = 'satria.nodes';
const BASE_KEY = 'satria.base';

/** The origins to try, the page's own first. */
export function nodeOrigins() {
  let list;
  try { list = JSON.parse(sessionStorage.getItem(NODES_KEY) || '[]'); } catch { list = []; }
  return [location.origin, ...list.filter((o) => o !== location.origin)];
}

let base = nodeOrigins().includes(sessionStorage.getItem(BASE_KEY)) ? sessionStorage.getItem(BASE_KEY) : location.origin;

/** The origin the page talks to now. */
export function currentBase() { return base; }

/** Moves to the next node of the list (after the current one stopped answering). */
function nextBase() {
  const list = nodeOrigins();
  base = list[(list.indexOf(base) + 1) % list.length];
  sessionStorage.setItem(BASE_KEY, base);
  return base;
}

/** Asks the current node for the region's nodes and keeps their origins. */
export async function refreshNodes() {
  try {
    const r = await fetch(`${base}/cluster/nodes`, { headers: { Accept: 'application/json' } });
    if (!r.ok) return;
    const v = await r.json();
    const list = (v.nodes || []).map((n) => n.addr).filter(Boolean).map((a) => { try { return new URL(a).origin; } catch { return null; } }).filter(Boolean);
    sessionStorage.setItem(NODES_KEY, JSON.stringify(list));
  } catch { /* keep the list we have */ }
}

/**
 * One JSON API call with the session's bearer token, to the current node. A
 * read that finds the node gone is tried on the next ones; a change is not
 * (its fate on the lost node is unknown): it fails as offline, and the next
 * call goes to the next node.
 */
export async function api(path, { method = 'GET', body } = {}) {
  const s = session();
  const headers = { Accept: 'application/json' };
  if (s) headers.Authorization = `Bearer ${s.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
  const tries = method === 'GET' ? nodeOrigins().length : 1;
  let r;
  for (let i = 0; !r; i += 1) {
    try {
      r = await fetch(`${base}${path}`, init);
    } catch {
      nextBase();
      if (i + 1 >= tries) {
        throw new ApiError(0, {
          code: 'offline',
          message: 'The server cannot be reached; try again.',
          message_id: 'Server tidak dapat dihubungi; coba lagi.',
        });
      }
    }
  }
  if (r.status === 401 && s) { clearSession(); location.replace('/'); }
  if (r.status === 204) return null;
  const v = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, v);
  return v;
}

export async function logout() {
  try { await api('/api/auth/logout', { method: 'POST' }); } catch { /* the token is dropped anyway */ }
  clearSession();
  location.replace('/');
}

// ------------------------------------------------------------------ time (WIB, 24 h)

const fmtTime = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const fmtDate = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric' });

/** `HH:MM:SS` in WIB of an instant: epoch ms, or an RFC 3339 string as the server sends. */
export function clock(v) { return v == null ? '—' : fmtTime.format(new Date(v)); }
export function dateWib(v) { return fmtDate.format(new Date(v)); }

// The server writes every instant as RFC 3339 in UTC (docs/http.md, "Times").
// The dispatch consoles compute with them (time since the call, deadlines
// left), so their live state holds epoch milliseconds: `msTimes` converts the
// instants of a dispatch answer or WebSocket frame once, where they arrive.
// Only the named instant fields, and only strings in RFC 3339 form: a unit id
// or a note that happens to look like a date is never touched.
const TIME_KEYS = new Set([
  'ack_deadline', 'answered_at', 'assigned_at', 'at', 'booked_at', 'capacity_updated_at', 'deadline',
  'device_at', 'earliest', 'ended_at', 'expires_at', 'handover_at', 'handover_device_at', 'latest',
  'received', 'received_at', 'scheduled_for', 'sent_at', 'status_at', 'status_device_at', 'updated_at',
  'accepted_at', 'acknowledged_at',
]);
const RFC3339 = /^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/;

/** `v` with every RFC 3339 instant under a time key turned into epoch ms (in place). */
export function msTimes(v) {
  if (Array.isArray(v)) { for (const x of v) msTimes(x); return v; }
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string' && TIME_KEYS.has(k) && RFC3339.test(x)) v[k] = Date.parse(x);
      else if (x && typeof x === 'object') msTimes(x);
    }
  }
  return v;
}

/** A dispatch API call whose answer's instants the console computes with (see `msTimes`). */
export async function dispatchApi(path, opts) { return msTimes(await api(path, opts)); }

/** Now, as the server reads an instant: RFC 3339 in UTC. */
export function nowRfc3339() { return new Date().toISOString(); }

/** `m:ss` or `h:mm:ss` of a duration in seconds. */
export function dur(s) {
  if (s == null || !Number.isFinite(s)) return '—';
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? h + ':' : ''}${mm}:${String(x).padStart(2, '0')}`;
}

export function km(m) { return m == null ? '—' : (m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`); }

// ------------------------------------------------------------------ DOM helpers

export const $ = (sel, root = document) => root.querySelector(sel);

/** `h('div.cls', {attrs}, children...)`: text is always text, never HTML. */
export function h(tag, attrs = {}, ...kids) {
  let id = null;
  const hash = tag.indexOf('#');
  if (hash >= 0) {
    const rest = tag.slice(hash + 1); const dot = rest.indexOf('.');
    id = dot >= 0 ? rest.slice(0, dot) : rest;
    tag = tag.slice(0, hash) + (dot >= 0 ? rest.slice(dot) : '');
  }
  const [name, ...cls] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (id) el.id = id;
  if (cls.length) el.className = cls.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Replaces the children of `el`, skipping null and false. */
export function fill(el, ...kids) {
  el.replaceChildren(...kids.flat().filter((k) => k != null && k !== false));
}

export function toast(msg, kind = 'info') {
  let box = $('#toasts');
  if (!box) { box = h('div#toasts'); document.body.append(box); }
  const el = h(`div.toast.${kind}`, { role: 'status' }, msg);
  box.append(el);
  setTimeout(() => el.remove(), 6000);
}

/** The header bar of a console: title, user, clock, connection, language, logout. */
export function header(titleKey, s) {
  const bar = h('header.bar', {},
    h('span.brand', {}, 'SATRIA 119'),
    h('span.title', { 'data-i18n': titleKey }),
    h('span.user', {}, `${s.user.username}${s.user.unit ? ' · ' + s.user.unit : ''}${s.user.hospital ? ' · ' + s.user.hospital : ''}`),
    h('span.spacer'),
    h('span#clock.clock', { title: 'WIB' }),
    h('span#conn.conn.offline', { role: 'status', 'aria-live': 'polite', 'data-i18n': 'conn_offline' }),
    h('button#lang.small', { type: 'button', 'data-i18n': 'lang', onclick: () => setLang(getLang() === 'id' ? 'en' : 'id') }),
    h('button#logout.small', { type: 'button', 'data-i18n': 'logout', onclick: logout }),
  );
  document.body.prepend(bar);
  const tick = () => { $('#clock').textContent = `${clock(Date.now())} WIB`; };
  tick(); setInterval(tick, 1000);
  applyI18n();
}

let connLostTimer = null;
export function setConn(state) {
  const el = $('#conn');
  if (!el) return;
  el.className = `conn ${state}`;
  el.dataset.i18n = `conn_${state}`;
  el.dataset.state = state;
  el.textContent = t(`conn_${state}`);
  // Lost for more than two seconds: a banner across the page, not only the pill,
  // so nobody works on a screen that has stopped following the server.
  clearTimeout(connLostTimer);
  if (state === 'online') { $('#conn-lost')?.remove(); return; }
  connLostTimer = setTimeout(() => {
    if ($('#conn-lost')) return;
    const b = h('div#conn-lost.banner.lost', { role: 'alert' }, h('span', { 'data-i18n': 'conn_lost' }, t('conn_lost')));
    $('.bar')?.after(b) ?? document.body.prepend(b);
  }, 2000);
}

// ------------------------------------------------------------------ WebSocket

/** Close code of a socket whose session ended; its goodbye codes. */
const SESSION_ENDED = 4401;
const SESSION_END_CODES = ['session_revoked', 'logged_out', 'session_expired'];

/** Forgets the session and shows the login screen with the reason (a goodbye or error frame). */
function endSession(f) {
  clearSession();
  sessionStorage.setItem('satria.ended', JSON.stringify({ message: f.message, message_id: f.message_id }));
  location.replace('/');
}

let idCounter = 0;
/** A client_id unique per message of the account: device, time, counter. */
export function clientId(prefix = 'w') {
  let dev = localStorage.getItem('satria.device');
  if (!dev) { dev = Math.random().toString(36).slice(2, 10); localStorage.setItem('satria.device', dev); }
  idCounter += 1;
  return `${prefix}-${dev}-${Date.now().toString(36)}-${idCounter}`.slice(0, 64);
}

/**
 * The live connection: hello with the last seq seen, replay or snapshot, then
 * events. Keeps `last_seq` of the region stream in sessionStorage, ignores an
 * event it has already applied (by seq), reconnects with backoff and resumes
 * from its last seq. A fresh page holds no state, so its first hello asks for a
 * snapshot (a seq the server never issued, docs/protocol.md section 1).
 */
export class Live {
  constructor(handlers) {
    this.h = handlers;
    this.key = `satria.last_seq.${session()?.user?.username}`;
    this.lastSeq = null; // null: this page holds no state yet
    this.pending = new Map();
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.online = false;
  }

  get storedSeq() { return Number(sessionStorage.getItem(this.key) || 0); }

  connect() {
    if (this.stopped) return;
    setConn(this.attempt === 0 ? 'offline' : 'reconnecting');
    const ws = new WebSocket(`${currentBase().replace(/^http/, 'ws')}/ws`);
    this.ws = ws;
    ws.onopen = () => {
      const last = this.lastSeq == null ? Number.MAX_SAFE_INTEGER : this.lastSeq;
      ws.send(JSON.stringify({ type: 'hello', token: session()?.token, last_seq: last }));
    };
    ws.onmessage = (m) => {
      let f; try { f = msTimes(JSON.parse(m.data)); } catch { return; }
      this.frame(f);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.online = false;
      this.ws = null;
      // Unanswered commands: the caller keeps them (same client_id) for the next connection.
      for (const [id, p] of this.pending) p.reject({ code: 'offline', message: 'offline', client_id: id });
      this.pending.clear();
      // The session ended (revoked, logged out, expired; close code 4401, or a
      // hello refused as unauthenticated): reconnecting cannot help, so go back
      // to the login screen and say why (docs/protocol.md, "Closing").
      if (ev.code === SESSION_ENDED || this.ended) {
        this.stopped = true;
        endSession(this.ended || { code: 'session_expired' });
        return;
      }
      this.ended = null;
      if (this.stopped) return;
      // Any node of the region serves this page as well: after a failed or
      // lost connection try the next one, resuming from the last seq seen.
      nextBase();
      this.attempt += 1;
      setConn(this.attempt > 6 ? 'offline' : 'reconnecting');
      const delay = Math.min(15000, 500 * 2 ** Math.min(this.attempt - 1, 5)) * (0.75 + Math.random() * 0.5);
      setTimeout(() => this.connect(), delay);
      this.h.onDisconnect?.();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  /** Drops the socket now (tests and the crew's offline toggle). */
  drop() { this.ws?.close(); }

  frame(f) {
    switch (f.type) {
      case 'welcome':
        this.online = true; this.attempt = 0; this.user = f.user;
        setConn('online');
        refreshNodes();
        this.h.onWelcome?.(f);
        if (this.lastSeq != null && f.mode === 'replay') this.h.onResume?.();
        break;
      case 'snapshot':
        // A snapshot replaces everything, its seq too (it may be lower: another journal).
        this.lastSeq = null;
        this.setSeq(f.seq);
        this.h.onSnapshot?.(f.state, f.seq);
        break;
      case 'event':
        if (f.stream === 'positions') { this.h.onEvent?.(f.event, f); break; }
        if (this.lastSeq != null && f.seq <= this.lastSeq) break; // seen: applied once
        this.setSeq(f.seq);
        this.h.onEvent?.(f.event, f);
        break;
      case 'incident':
        this.h.onIncident?.(f.incident);
        break;
      case 'ack': case 'error': {
        if (f.type === 'error' && !f.client_id && f.code === 'unauthenticated') this.ended = f;
        const p = f.client_id && this.pending.get(f.client_id);
        if (p) { this.pending.delete(f.client_id); f.type === 'ack' ? p.resolve(f) : p.reject(f); }
        else if (f.type === 'error') this.h.onError?.(f);
        break;
      }
      case 'goodbye':
        // A session's end is final; any other goodbye (shutdown, lagging,
        // access log unavailable) is followed by a reconnect with backoff.
        if (SESSION_END_CODES.includes(f.code)) this.ended = f;
        this.ws?.close();
        break;
      default: break;
    }
  }

  setSeq(seq) {
    if (this.lastSeq == null || seq > this.lastSeq) {
      this.lastSeq = seq;
      sessionStorage.setItem(this.key, String(seq));
    }
  }

  /** Sends a command; resolves with its ack, rejects with its error frame. */
  command(command, id = clientId()) {
    return new Promise((resolve, reject) => {
      if (!this.ws || !this.online) { reject({ code: 'offline', message: 'offline', client_id: id }); return; }
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ type: 'command', client_id: id, command }));
    });
  }
}

// ------------------------------------------------------------------ state

/** What a console holds, applied from the snapshot and then from each event. */
export class Store {
  constructor() { this.reset({ units: [], incidents: [], referrals: [], hospitals: [] }); }

  reset(st) {
    this.units = new Map(st.units.map((u) => [u.id, u]));
    this.incidents = new Map(st.incidents.map((i) => [i.id, i]));
    this.referrals = new Map(st.referrals.map((r) => [r.id, r]));
    this.hospitals = new Map(st.hospitals.map((x) => [x.id, x]));
  }

  assignment(inc, unit) {
    const i = this.incidents.get(inc);
    if (!i) return null;
    return [...i.assignments].reverse().find((a) => a.unit === unit) || null;
  }

  history(inc, kind, e, unit = null, detail = '') {
    const i = this.incidents.get(inc);
    if (i) i.history.push({ at: e.at ?? Date.now(), incident: inc, kind, unit, detail });
  }

  unitFree(id) {
    const u = this.units.get(id);
    if (u) { u.status = 'available'; u.incident = null; }
  }

  apply(e) {
    const at = e.at ?? e.received ?? Date.now();
    switch (e.type) {
      case 'unit_registered': this.units.set(e.unit.id, e.unit); break;
      case 'unit_moved': { const u = this.units.get(e.unit); if (u) u.last_fix = { at: e.at, received: e.received, device_at: e.device_at }; break; }
      case 'unit_status_changed': {
        const u = this.units.get(e.unit);
        if (u) { u.status = e.status; u.status_at = at; if (u.incident) this.history(u.incident, 'unit_status_changed', e, e.unit, e.status); }
        break;
      }
      case 'unit_out_of_service': { const u = this.units.get(e.unit); if (u) { u.status = 'out_of_service'; u.status_at = at; } break; }
      case 'unit_back_in_service': { const u = this.units.get(e.unit); if (u) { u.status = 'available'; u.status_at = at; } break; }
      case 'incident_created': this.incidents.set(e.incident.id, e.incident); break;
      case 'incident_updated': {
        const i = this.incidents.get(e.incident);
        if (i) Object.assign(i, { triage: e.triage, category: e.category, patients: e.patients, notes: e.notes, address: e.address });
        break;
      }
      case 'unit_assigned': {
        const i = this.incidents.get(e.incident);
        if (i) { i.assignments.push({ unit: e.unit, assigned_at: e.at, ack_deadline: e.ack_deadline, automatic: e.automatic, state: { state: 'pending' } }); i.status = 'dispatched'; }
        this.history(e.incident, 'unit_assigned', e, e.unit);
        const u = this.units.get(e.unit);
        if (u) { u.status = 'notified'; u.status_at = at; u.incident = e.incident; }
        break;
      }
      case 'assignment_acknowledged': {
        const a = this.assignment(e.incident, e.unit); if (a) a.state = { state: 'acknowledged' };
        const u = this.units.get(e.unit); if (u) { u.status = 'en_route'; u.status_at = at; }
        this.history(e.incident, 'assignment_acknowledged', e, e.unit);
        break;
      }
      case 'assignment_declined': case 'assignment_timed_out': case 'assignment_cancelled': case 'assignment_completed': {
        const st = { assignment_declined: 'declined', assignment_timed_out: 'timed_out', assignment_cancelled: 'cancelled', assignment_completed: 'completed' }[e.type];
        const a = this.assignment(e.incident, e.unit); if (a) a.state = { state: st, reason: e.reason };
        this.unitFree(e.unit);
        this.history(e.incident, e.type, e, e.unit, e.reason || '');
        break;
      }
      case 'incident_merged': { const i = this.incidents.get(e.from); if (i) { i.status = 'merged'; i.merged_into = e.into; i.ended_at = at; } break; }
      case 'incident_cancelled': case 'incident_closed': {
        const i = this.incidents.get(e.incident);
        if (i) { i.status = e.type === 'incident_closed' ? 'closed' : 'cancelled'; i.ended_at = at; }
        break;
      }
      case 'incident_archived': {
        // Ended long ago: it leaves the live lists (GET /api/incidents/{id} still reads it).
        for (const id of [e.incident, ...(e.merged || [])]) this.incidents.delete(id);
        for (const r of e.referrals || []) this.referrals.delete(r);
        break;
      }
      case 'hospital_capacity_updated': {
        const x = this.hospitals.get(e.hospital);
        if (x) x.capacity = { free_igd_beds: e.free_igd_beds, free_icu_beds: e.free_icu_beds, status: e.status, updated_at: at };
        break;
      }
      case 'referral_sent': this.referrals.set(e.referral.id, e.referral); break;
      case 'referral_accepted': case 'referral_declined': case 'referral_expired': case 'referral_cancelled': {
        const r = this.referrals.get(e.referral);
        const st = { referral_accepted: 'accepted', referral_declined: 'declined', referral_expired: 'expired', referral_cancelled: 'cancelled' }[e.type];
        if (r) { r.status = { state: st, reason: e.reason }; r.answered_at = at; if (e.officer) r.officer_answer = e.officer; }
        break;
      }
      case 'pre_arrival_notice_sent': { const r = this.referrals.get(e.referral); if (r) r.pre_arrival = { at, eta_s: e.eta_s, distance_m: e.distance_m }; break; }
      case 'handover_recorded': { const r = this.referrals.get(e.referral); if (r) { r.status = { state: 'handed_over' }; r.handover_at = at; } break; }
      default: break;
    }
  }
}

export function triageColor(tr) {
  return { merah: '#d7263d', kuning: '#f4c430', hijau: '#2e9e44', hitam: '#222' }[tr] || '#888';
}

export function statusColor(st) {
  return {
    available: '#2e9e44', notified: '#f08c00', en_route: '#1c7ed6', on_scene: '#ae3ec9', at_patient: '#ae3ec9',
    transporting: '#e8590c', at_destination: '#0c8599', transfer_of_care: '#0c8599', out_of_service: '#868e96',
  }[st] || '#555';
}

export function igdColor(st) { return { open: '#2e9e44', full: '#d7263d', diversion: '#f08c00' }[st] || '#888'; }

/** One short beep, only after the user allowed sound (a click created the context). */
let audio = null;
export function allowSound() {
  if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
  audio.resume?.();
  return true;
}
export function soundAllowed() { return audio != null; }
export function beep(freq = 880, ms = 180) {
  if (!audio) return;
  const o = audio.createOscillator(); const g = audio.createGain();
  o.frequency.value = freq; g.gain.value = 0.15;
  o.connect(g).connect(audio.destination);
  o.start(); o.stop(audio.currentTime + ms / 1000);
}
