// The crew app (phone-sized): the current assignment with its route, a geo:
// hand-off to the phone's navigation, acknowledge/decline, big status buttons,
// position reports, and an offline queue: actions taken without a connection
// keep their device time and their client_id, and are sent on reconnect, so
// the server applies each once.
import { t, getLang, applyI18n, onLang, requireRole, header, dispatchApi, nowRfc3339, Live, Store, $, h, clock, dur, km, toast, fill, clientId, allowSound, soundAllowed, beep } from './app.js';
import { MapView, unitPos } from './map.js';

const s = requireRole(['crew']);
header('crew_title', s);
const unitId = s.user.unit;
const store = new Store();
const ui = { incident: null, route: null, sim: null };
const QKEY = `satria.queue.${s.user.username}`;

const map = new MapView($('#minimap'), { compact: true });
map.load().then(() => follow()).catch(() => {});
window.satriaMap = map;

// ------------------------------------------------------------------ offline queue
function queue() { try { const q = JSON.parse(localStorage.getItem(QKEY) || '[]'); return Array.isArray(q) ? q : []; } catch { return []; } }
function saveQueue(q) { localStorage.setItem(QKEY, JSON.stringify(q)); renderQueue(); }
function renderQueue() {
  const n = queue().length;
  $('#queue').textContent = n ? `${n} ${t(live?.online ? 'queued_sending' : 'queued')}` : '';
  $('#queue').dataset.count = String(n);
}
function unqueue(item) { saveQueue(queue().filter((x) => x.client_id !== item.client_id)); }

/** The statuses a crew may report next (`UnitStatus::crew_next` in the dispatch
 * crate; a server test holds the two tables equal). */
const CREW_NEXT = {"en_route":["on_scene"],"on_scene":["at_patient","available"],"at_patient":["transporting","available"],"transporting":["at_destination"],"at_destination":["transfer_of_care"],"transfer_of_care":["available"],"available":[],"notified":[],"out_of_service":[]};

/** Answers that mean "not now, maybe later": the command keeps its client_id and
 * is sent again (the server applies it once). Anything else is final. */
const RETRY_LATER = new Set(['busy', 'storage', 'unavailable', 'access_log_unavailable', 'no_answer']);
const ANSWER_MS = 15000;
const MAX_TRIES = 3;

/** Applies once: the command and its client_id are queued first, then sent; an
 * ack removes it, a refusal removes it and tells the crew why, a lost connection
 * leaves it for the next flush. Nothing stays in the queue for ever: a command
 * the server has not taken after three tries is dropped and shown as not sent. */
function act(command) {
  const item = { client_id: clientId('crew'), command, tries: 0, at: Date.now() };
  saveQueue([...queue(), item]);
  flush();
}

/** The command's answer, or a rejection: `offline`, `no_answer` after 15 s, or the
 * server's error frame. */
function answerTo(item) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { live.pending.delete(item.client_id); reject({ code: 'no_answer' }); }, ANSWER_MS);
    live.command(item.command, item.client_id).then(
      (a) => { clearTimeout(timer); resolve(a); },
      (e) => { clearTimeout(timer); reject(e); },
    );
  });
}

/** What the action was, in words, for a refusal the crew has to read. */
function actionLabel(c) {
  switch (c?.type) {
    case 'acknowledge_assignment': return t('acknowledge');
    case 'decline_assignment': return t('decline');
    case 'report_status': return `${t('status')}: ${t(`st_${c.status}`)}`;
    case 'send_referral': return t('send_referral');
    default: return c?.type || '?';
  }
}

/** Shows a refused or dropped action until the crew dismisses it. */
function showRefusal(item, f) {
  const reason = f.code === 'gave_up' ? t('queue_gave_up') : (getLang() === 'en' ? f.message : f.message_id) || f.message || f.code;
  const row = h('div.alert.refusal', { role: 'alert' },
    h('b', {}, `${t('refused_action')}: ${actionLabel(item.command)}`), ' — ', h('span', {}, reason), ' ',
    h('button.small', { type: 'button', onclick: (ev) => ev.target.closest('.refusal').remove() }, t('dismiss')));
  $('#refusals').append(row);
  toast(`${actionLabel(item.command)}: ${reason}`, 'error');
}

let flushing = false;
let retryTimer = null;
async function flush() {
  if (flushing || !live.online) return;
  flushing = true;
  clearTimeout(retryTimer);
  try {
    for (const item of queue()) {
      if (!item || typeof item !== 'object' || !item.client_id || !item.command) { unqueue(item || {}); continue; }
      try {
        await answerTo(item);
        unqueue(item);
      } catch (f) {
        if (f.code === 'offline') break; // kept: sent again on reconnect
        if (RETRY_LATER.has(f.code)) {
          const tries = (item.tries || 0) + 1;
          if (tries < MAX_TRIES) {
            saveQueue(queue().map((x) => (x.client_id === item.client_id ? { ...x, tries } : x)));
            retryTimer = setTimeout(flush, 5000);
            break; // the order of a crew's actions matters: later ones wait for this one
          }
          showRefusal(item, { code: 'gave_up' });
        } else {
          showRefusal(item, f);
        }
        unqueue(item);
      }
    }
  } finally { flushing = false; renderQueue(); render(); }
}

// ------------------------------------------------------------------ live
const live = new Live({
  // The simulated drive is a practice tool: only on a demo or training server.
  onWelcome: (w) => { $('#sim-row').hidden = !['demo', 'training'].includes(w.service); setTimeout(flush, 0); },
  onSnapshot: (st) => { store.reset(st); pickIncident(); render(); },
  onEvent: (e) => {
    store.apply(e);
    if (e.type === 'unit_assigned' || e.type === 'assignment_acknowledged') pickIncident();
    if ((e.type === 'unit_status_changed' || e.type === 'referral_accepted') && ui.incident != null && (toHospital() ? 'hospital' : 'incident') !== ui.routeTo) loadRoute();
    render();
  },
  onIncident: (i) => { store.incidents.set(i.id, i); ui.incident = i.id; loadRoute(); render(); },
});
live.connect();
window.satriaLive = live;
window.satriaStore = store;
window.satriaCrew = { queue, flush, ui };

function me() { return store.units.get(unitId); }

function pickIncident() {
  const u = me();
  const id = u?.incident ?? null;
  if (id !== ui.incident) { ui.incident = id; ui.route = null; if (id != null) loadRoute(); }
}

/** The patient is carried to the hospital once the unit is transporting. */
function toHospital() { return ['transporting', 'at_destination', 'transfer_of_care'].includes(me()?.status); }

async function loadRoute() {
  if (ui.incident == null) return;
  const dest = toHospital() ? 'hospital' : 'incident';
  try {
    ui.route = await dispatchApi(`/api/incidents/${ui.incident}/route?unit=${encodeURIComponent(unitId)}&to=${dest}`);
    ui.routeTo = dest;
    render();
  } catch { if (dest === 'hospital') { ui.route = null; render(); } /* offline or no referral: keep what we have */ }
}

function follow() {
  const u = me(); const i = store.incidents.get(ui.incident);
  const p = i ? i.location : (u ? unitPos(u) : null);
  if (p) map.centerOn(p.lat, p.lon, Math.max(map.scale, 12000));
}

function render() {
  const u = me();
  fill($('#unit-card'), h('b', {}, u ? `${u.call_sign} (${u.id})` : unitId), ' · ', h('span#my-status', { dataset: { status: u?.status } }, u ? t(`st_${u.status}`) : ''));
  const i = store.incidents.get(ui.incident);
  const a = i && [...i.assignments].reverse().find((x) => x.unit === unitId);
  if (!i || !u?.incident) {
    fill($('#assignment'), h('p.muted', {}, t('no_assignment')));
    $('#nav').hidden = true; $('#ackrow').hidden = true; $('#decline-form').hidden = true;
  } else {
    fill($('#assignment'), 
      h('div', {}, h(`span.badge.tr-${i.triage}`, {}, t(`tr_${i.triage}`)), ` #${i.id} · ${t(`cat_${i.category}`)} · ${i.patients}`),
      h('div#inc-address', {}, placeText(i)),
      h('div.muted', {}, `${t('caller')}: ${i.caller_name} ${i.caller_phone}`),
      i.notes ? h('div', {}, i.notes) : null,
      a ? h('div.muted', {}, `${t(`as_${a.state.state}`)} · ${clock(a.assigned_at)}`) : null,
      ui.route ? h('div', {}, `${t('route')}: ${km(ui.route.distance_m)}${ui.route.time_s != null ? ' · ' + dur(ui.route.time_s) : ''}`) : null,
    );
    const nav = $('#nav');
    const [la, lo] = ui.routeTo === 'hospital' && ui.route?.to ? ui.route.to : [i.location.lat, i.location.lon];
    nav.href = `geo:${la.toFixed(6)},${lo.toFixed(6)}?q=${la.toFixed(6)},${lo.toFixed(6)}`;
    nav.hidden = false;
    $('#ackrow').hidden = !(a && a.state.state === 'pending');
    if ($('#ackrow').hidden) $('#decline-form').hidden = true;
  }
  renderNewJob(i, a);
  renderDestination(i);
  renderReferralForm(i, a);
  // Only the statuses the crew may report now, counted from the last one still
  // waiting in the queue (offline, a crew goes on reporting).
  const queuedStatus = [...queue()].reverse().find((x) => x.command?.type === 'report_status')?.command.status;
  const next = CREW_NEXT[queuedStatus || u?.status] || [];
  let shown = 0;
  document.querySelectorAll('#status-btns button').forEach((b) => {
    b.hidden = !next.includes(b.dataset.status);
    if (!b.hidden) shown += 1;
  });
  $('#no-status').hidden = shown > 0 || !$('#ackrow').hidden;
  const refs = [...store.referrals.values()].filter((r) => r.unit === unitId && ['pending', 'accepted'].includes(r.status.state));
  fill($('#referral-box'), ...refs.map((r) => h('div', { dataset: { ref: r.id } }, `${t('referral')} ${r.number} → ${store.hospitals.get(r.to)?.name || r.to}: ${t(r.status.state === 'accepted' ? 'referral_accepted' : 'referral_pending')}`)));
  map.set({ units: u ? [u] : [], incidents: i ? [i] : [], routes: ui.route ? [{ ...ui.route, color: '#1c7ed6' }] : [], hospitalCapacity: new Map([...store.hospitals.values()].map((x) => [x.id, x.capacity])) });
  renderQueue();
}
onLang(render);

/** Where the call is, in the words a crew navigates by: desa, landmark, then the rest. */
function placeText(i) {
  const a = i.address || {};
  const parts = [a.desa, a.landmark, a.rt_rw ? `RT/RW ${a.rt_rw}` : '', a.text].filter(Boolean);
  // the desa is often the start of the searched place's text: say it once
  return parts.filter((x, k) => !parts.some((y, j) => j !== k && y.length > x.length && y.includes(x))).filter((x, k, all) => all.indexOf(x) === k).join(' · ');
}

// ------------------------------------------------------------------ a new job cannot be missed
// A pending assignment covers the whole screen with the call, the time left to
// acknowledge, and the two answers; it rings and vibrates until answered.
let ringing = null;
function renderNewJob(i, a) {
  const pending = i && a && a.state.state === 'pending' && ui.declining !== i.id;
  const box = $('#newjob');
  if (!pending) {
    box.hidden = true;
    clearInterval(ringing); ringing = null;
    return;
  }
  fill($('#newjob-body'),
    h('p', {}, h(`span.badge.tr-${i.triage}`, {}, t(`tr_${i.triage}`)), ` #${i.id} · ${t(`cat_${i.category}`)}`),
    h('p.newjob-place', {}, placeText(i)),
    i.notes ? h('p', {}, i.notes) : null);
  const left = Math.max(0, Math.round((a.ack_deadline - Date.now()) / 1000));
  $('#newjob-countdown').textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  if (box.hidden) {
    box.hidden = false;
    $('#newjob-ack').focus();
    const ring = () => { if (soundAllowed()) { beep(988, 250); setTimeout(() => beep(784, 250), 300); } navigator.vibrate?.([400, 150, 400]); };
    ring();
    clearInterval(ringing); ringing = setInterval(ring, 4000);
  }
}
$('#newjob-ack').addEventListener('click', () => $('#ack').click());
$('#newjob-decline').addEventListener('click', () => { ui.declining = ui.incident; render(); $('#decline').click(); });
// Sound needs one touch on the page first; the crew's first tap anywhere allows it.
document.addEventListener('pointerdown', () => { if (!soundAllowed()) allowSound(); }, { once: true, capture: true });
setInterval(() => { if (!$('#newjob').hidden) render(); }, 1000);

/** Transporting: the destination hospital comes first, above everything else. */
function renderDestination(i) {
  const box = $('#destination');
  const ref = i && [...store.referrals.values()].filter((r) => r.incident === i.id && r.unit === unitId && r.status.state === 'accepted').pop();
  if (!toHospital() || !i) { box.hidden = true; return; }
  const name = ref ? (store.hospitals.get(ref.to)?.name || ref.to) : t('destination_unknown');
  fill(box, h('div.muted', {}, t('destination')), h('div.dest-name', {}, name),
    ui.route && ui.routeTo === 'hospital' ? h('div', {}, `${km(ui.route.distance_m)}${ui.route.time_s != null ? ' · ' + dur(ui.route.time_s) : ''}`) : null);
  box.hidden = false;
}

// ------------------------------------------------------------------ referral from the scene
// Once the crew has taken the job, it can refer the patient itself, with the vital
// signs it measures; the hospitals are listed nearest first (the dispatcher's form
// ranks them by capability and beds as well).
let refFormFor = null;
function renderReferralForm(i, a) {
  const box = $('#crew-ref');
  const live = i && a && a.state.state === 'acknowledged';
  const sent = i && [...store.referrals.values()].some((r) => r.incident === i.id && ['pending', 'accepted'].includes(r.status.state));
  box.hidden = !live || sent;
  if (box.hidden || refFormFor === i.id) return;
  refFormFor = i.id;
  const d = (x) => Math.hypot(x.position.lat - i.location.lat, (x.position.lon - i.location.lon) * Math.cos((i.location.lat * Math.PI) / 180));
  const hospitals = [...store.hospitals.values()].filter((x) => x.capacity?.status !== 'diversion').sort((p, q) => d(p) - d(q));
  fill($('#cr-to'), ...hospitals.map((x) => h('option', { value: x.id }, `${x.name} (IGD ${x.capacity?.free_igd_beds ?? '—'})`)));
  $('#cr-reason').value = i.notes || '';
}
const num = (id) => { const v = $(id).value.trim(); return v === '' ? null : Number(v); };
$('#cr-unknown').addEventListener('change', (e) => { for (const id of ['#cr-name', '#cr-nik', '#cr-dob']) $(id).disabled = e.target.checked; });
$('#crew-ref-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const i = store.incidents.get(ui.incident);
  const err = (k) => { $('#cr-error').textContent = t(k); };
  if (!i) return;
  const unknown = $('#cr-unknown').checked;
  if (!unknown && !$('#cr-name').value.trim()) { err('need_patient_name'); $('#cr-name').focus(); return; }
  if (!unknown && !/^[0-9]{16}$/.test($('#cr-nik').value.trim())) { err('need_nik'); $('#cr-nik').focus(); return; }
  if (!unknown && !$('#cr-dob').value) { err('need_dob'); $('#cr-dob').focus(); return; }
  if (!$('#cr-icd').value.trim()) { err('need_icd'); $('#cr-icd').focus(); return; }
  if (!$('#cr-reason').value.trim()) { err('need_reason'); $('#cr-reason').focus(); return; }
  $('#cr-error').textContent = '';
  act({
    type: 'send_referral', incident: i.id, to: $('#cr-to').value, unit: unitId,
    form: {
      from: `PSC 119 Banyumas (${me()?.call_sign || unitId})`, referral_type: 'emergency', reason: $('#cr-reason').value.trim(),
      diagnosis_icd10: $('#cr-icd').value.trim().toUpperCase(), officer: s.user.username, findings: $('#cr-findings').value.trim(),
      condition: {
        history_exam: i.notes || '-', consciousness: $('#cr-avpu').value, gcs: num('#cr-gcs'), bp_systolic_mmhg: num('#cr-bps'), bp_diastolic_mmhg: num('#cr-bpd'),
        pulse_per_min: num('#cr-pulse'), temperature_c: num('#cr-temp'), breathing_per_min: num('#cr-rr'), pain_score: null, allergies: '',
      },
    },
    patient: unknown
      ? { nik: '', name: '', sex: $('#cr-sex').value, date_of_birth: '', address: placeText(i), contact: i.caller_phone || '' }
      : { nik: $('#cr-nik').value.trim(), name: $('#cr-name').value.trim(), sex: $('#cr-sex').value, date_of_birth: $('#cr-dob').value, address: placeText(i), contact: i.caller_phone || '' },
  });
  $('#crew-ref').open = false;
  toast(t('referral_queued'));
});

// ------------------------------------------------------------------ actions
$('#ack').addEventListener('click', () => {
  if (ui.incident == null || $('#ackrow').hidden) return; // nothing to acknowledge
  act({ type: 'acknowledge_assignment', incident: ui.incident, unit: unitId, device_at: nowRfc3339() });
  $('#ackrow').hidden = true;
});
// Declining asks for a reason on the page itself (a preset the crew can edit,
// or their own words); the dispatcher sees it with the next recommendation.
$('#decline').addEventListener('click', () => {
  $('#decline-form').hidden = false;
  $('#decline-text').focus();
});
document.querySelectorAll('#decline-reasons button').forEach((b) => b.addEventListener('click', () => {
  $('#decline-text').value = b.textContent;
  $('#decline-text').focus();
}));
$('#decline-cancel').addEventListener('click', () => { $('#decline-form').hidden = true; ui.declining = null; render(); });
$('#decline-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const reason = $('#decline-text').value.trim();
  if (!reason) { toast(t('decline_reason_needed'), 'error'); $('#decline-text').focus(); return; }
  if (ui.incident == null) return;
  act({ type: 'decline_assignment', incident: ui.incident, unit: unitId, reason, device_at: nowRfc3339() });
  $('#decline-text').value = '';
  $('#decline-form').hidden = true;
});
document.querySelectorAll('#status-btns button').forEach((b) => b.addEventListener('click', () => {
  if (b.hidden) return;
  act({ type: 'report_status', unit: unitId, status: b.dataset.status, device_at: nowRfc3339() });
  render();
}));

// ------------------------------------------------------------------ position
function sendPosition(lat, lon) {
  if (!live.online) return; // positions are live data: not queued
  live.command({ type: 'update_position', unit: unitId, at: { lat, lon }, device_at: nowRfc3339() }).catch(() => {});
}

$('#simulate').addEventListener('change', (e) => {
  clearInterval(ui.sim); ui.sim = null;
  if (!e.target.checked) return;
  let k = 0;
  ui.sim = setInterval(() => {
    const path = ui.route?.path; if (!path || path.length < 2) return;
    // walk along the route at about 40 km/h: 11 m per second
    const pts = densify(path, 11); k = Math.min(k + 1, pts.length - 1);
    sendPosition(pts[k][0], pts[k][1]);
  }, 1000);
});
function densify(path, stepM) {
  const out = [path[0]];
  for (let i = 1; i < path.length; i += 1) {
    const [a, b] = [path[i - 1], path[i]];
    const d = Math.hypot((b[0] - a[0]) * 111320, (b[1] - a[1]) * 110400);
    const n = Math.max(1, Math.ceil(d / stepM));
    for (let j = 1; j <= n; j += 1) out.push([a[0] + ((b[0] - a[0]) * j) / n, a[1] + ((b[1] - a[1]) * j) / n]);
  }
  return out;
}
let watch = null;
$('#gps').addEventListener('change', (e) => {
  if (watch != null) { navigator.geolocation.clearWatch(watch); watch = null; }
  if (e.target.checked && navigator.geolocation) {
    watch = navigator.geolocation.watchPosition((p) => sendPosition(p.coords.latitude, p.coords.longitude), () => {}, { enableHighAccuracy: true, maximumAge: 5000 });
  }
});
window.addEventListener('online', flush);
renderQueue();
applyI18n();
