// The dispatcher console: the live map, keyboard-first intake, recommendations
// and one-key assignment, the unit's route, timers, alerts, boards, referrals.
import {
  t, applyI18n, onLang, requireRole, header, api, dispatchApi, Live, Store, $, h, clock, dur, km, toast, fill,
  triageColor, statusColor, igdColor, allowSound, soundAllowed, beep,
} from './app.js';
import { MapView, unitPos } from './map.js';

const s = requireRole(['dispatcher', 'admin']);
header('dispatch_title', s);

const store = new Store();
const ui = { selected: null, recs: [], triage: 'merah', loc: null, places: [], sugg: [], suggIdx: 0, routes: new Map(), timeline: [], alertsSeen: new Set() };

// ------------------------------------------------------------------ map
const map = new MapView($('#map'), {
  onClick: (lat, lon) => {
    // A click keeps the desa it falls in (the nearest desa/kelurahan centre), so the
    // crew is told a place name, not only coordinates.
    const desa = nearestDesa(lat, lon);
    setLocation(lat, lon, desa ? `${desa.name}, ${desa.kecamatan} (${lat.toFixed(5)}, ${lon.toFixed(5)})` : `${lat.toFixed(5)}, ${lon.toFixed(5)}`, desa?.name || '');
  },
  onPick: (kind, id) => { if (kind === 'incident') select(id); },
});
window.satriaMap = map; // read by the browser test (first draw, features)
map.load().then(() => { renderLegend(); syncMap(); }).catch((e) => toast(`${t('error')}: ${e.message}`, 'error'));

/** What the symbols on the map mean: units by status, hospitals by IGD status,
 * incidents by triage colour. */
function renderLegend() {
  const dot = (c) => h('span.lg-dot', { style: `background:${c}` });
  const sq = (c) => h('span.lg-sq', { style: `background:${c}` });
  const tri = (c) => h('span.lg-tri', { style: `border-bottom-color:${c}` });
  fill($('#legend'),
    h('div', {}, h('b', {}, t('units')), ...['available', 'notified', 'en_route', 'on_scene', 'transporting', 'out_of_service'].map((st) => h('span.lg', {}, dot(statusColor(st)), t(`st_${st}`)))),
    h('div', {}, h('b', {}, t('hospitals')), ...['open', 'full', 'diversion'].map((st) => h('span.lg', {}, sq(igdColor(st)), t(st)))),
    h('div', {}, h('b', {}, t('legend_incidents')), ...['merah', 'kuning', 'hijau', 'hitam'].map((tr) => h('span.lg', {}, tri(triageColor(tr)), t(`tr_${tr}`)))));
}
api('/api/map/places').then((v) => { ui.places = v.places; }).catch(() => {});

/** The desa or kelurahan whose centre is nearest, within 5 km. */
function nearestDesa(lat, lon) {
  let best = null; let bestD = 5000;
  for (const p of ui.places) {
    if (p.kind !== 'desa' && p.kind !== 'kelurahan') continue;
    const d = Math.hypot((p.lat - lat) * 110574, (p.lon - lon) * 111320 * Math.cos((lat * Math.PI) / 180));
    if (d < bestD) { best = p; bestD = d; }
  }
  return best;
}

function syncMap() {
  const open = [...store.incidents.values()].filter((i) => i.status === 'open' || i.status === 'dispatched');
  map.set({
    units: [...store.units.values()], incidents: open, selected: ui.selected,
    hospitalCapacity: new Map([...store.hospitals.values()].map((x) => [x.id, x.capacity])),
    routes: [...ui.routes.values()], marker: ui.loc,
  });
  if (!map.layers.length && !map.fitted && store.hospitals.size) {
    for (const x of store.hospitals.values()) map.hospitals.set(x.id, { id: x.id, name: x.name, lat: x.position.lat, lon: x.position.lon });
    map.fitPoints();
  }
}

// ------------------------------------------------------------------ live
const live = new Live({
  onSnapshot: (st) => { store.reset(st); renderAll(); },
  onEvent: (e) => {
    store.apply(e);
    onEventAlerts(e);
    if (['unit_assigned', 'assignment_acknowledged', 'unit_status_changed', 'assignment_completed'].includes(e.type) && e.incident === ui.selected) loadRoute(e.incident);
    if (e.type === 'unit_status_changed' || e.type === 'assignment_completed') { const u = store.units.get(e.unit); if (u?.incident === ui.selected || e.incident === ui.selected) loadTimeline(); }
    if ((e.incident ?? e.referral?.incident) === ui.selected) loadTimeline();
    scheduleRender();
  },
  onError: (f) => toast(f.message_id || f.message, 'error'),
});
live.connect();
window.satriaLive = live;
window.satriaStore = store;

let renderPending = false;
function scheduleRender() { if (!renderPending) { renderPending = true; requestAnimationFrame(() => { renderPending = false; renderAll(); }); } }

function renderAll() { syncMap(); renderIncidents(); renderDetail(); renderUnits(); renderHospitals(); }
onLang(() => { renderAll(); renderRefForm(); renderLegend(); });

// ------------------------------------------------------------------ intake
function setLocation(lat, lon, label, desa = '') {
  ui.loc = { lat, lon, desa, label };
  $('#loc-text').removeAttribute('data-i18n');
  $('#loc-text').textContent = `📍 ${label}`;
  $('#loc-text').dataset.lat = lat; $('#loc-text').dataset.lon = lon;
  syncMap();
}

function setTriage(v) {
  ui.triage = v;
  document.querySelectorAll('#triage button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.v === v)));
}
setTriage('merah');
document.querySelectorAll('#triage button').forEach((b) => b.addEventListener('click', () => setTriage(b.dataset.v)));

const norm = (x) => x.toLowerCase().normalize('NFKD').replace(/[^a-z0-9 ]/g, '');
$('#place').addEventListener('input', () => {
  const q = norm($('#place').value.trim());
  const list = $('#place-list');
  if (q.length < 2) { list.hidden = true; return; }
  const starts = [], contains = [];
  for (const p of ui.places) {
    const n = norm(p.name);
    if (n.startsWith(q)) starts.push(p); else if (n.includes(q)) contains.push(p);
    if (starts.length > 12) break;
  }
  ui.sugg = [...starts, ...contains].slice(0, 12); ui.suggIdx = 0;
  renderSugg();
});
function renderSugg() {
  const list = $('#place-list');
  fill(list, ...ui.sugg.map((p, i) => h(`li${i === ui.suggIdx ? '.sel' : ''}`, { role: 'option', onmousedown: (e) => { e.preventDefault(); pickPlace(p); } },
    `${p.name} `, h('span.muted', {}, `(${p.kind}, ${p.kecamatan})`))));
  list.hidden = !ui.sugg.length;
}
function pickPlace(p) {
  $('#place').value = `${p.name}, ${p.kecamatan}`;
  $('#place-list').hidden = true;
  setLocation(p.lat, p.lon, `${p.name}, ${p.kecamatan}`, p.kind === 'desa' || p.kind === 'kelurahan' ? p.name : '');
  map.centerOn(p.lat, p.lon, Math.max(map.scale, 8000));
  $('#caller-name').focus();
}
$('#place').addEventListener('keydown', (e) => {
  if ($('#place-list').hidden) return;
  if (e.key === 'ArrowDown') { ui.suggIdx = Math.min(ui.sugg.length - 1, ui.suggIdx + 1); renderSugg(); e.preventDefault(); }
  if (e.key === 'ArrowUp') { ui.suggIdx = Math.max(0, ui.suggIdx - 1); renderSugg(); e.preventDefault(); }
  if (e.key === 'Enter' && ui.sugg[ui.suggIdx]) { pickPlace(ui.sugg[ui.suggIdx]); e.preventDefault(); }
  if (e.key === 'Escape') $('#place-list').hidden = true;
});
$('#place').addEventListener('blur', () => setTimeout(() => { $('#place-list').hidden = true; }, 150));

$('#intake').addEventListener('submit', (e) => { e.preventDefault(); createIncident(); });
$('#intake').addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.ctrlKey) { e.preventDefault(); createIncident(); } });

async function createIncident() {
  $('#intake-error').textContent = '';
  if (!ui.loc) { $('#intake-error').textContent = t('no_location'); $('#place').focus(); return; }
  const body = {
    caller_name: $('#caller-name').value.trim(), caller_phone: $('#caller-phone').value.trim(),
    lat: ui.loc.lat, lon: ui.loc.lon,
    address: { desa: ui.loc.desa || '', rt_rw: '', landmark: $('#address').value.trim(), text: ui.loc.label },
    triage: ui.triage, category: $('#category').value, patients: Number($('#patients').value || 1), notes: $('#notes').value.trim(),
  };
  $('#create').disabled = true;
  try {
    const inc = await dispatchApi('/api/incidents', { method: 'POST', body });
    store.incidents.set(inc.id, { ...store.incidents.get(inc.id), ...inc });
    const dup = $('#dup');
    if (inc.possible_duplicate_of != null) {
      const other = inc.possible_duplicate_of;
      dup.replaceChildren(`⚠ ${t('duplicate_warning')} `, h('a', { href: `#incident-${other}`, id: 'dup-link', onclick: (ev) => { ev.preventDefault(); select(other); } }, `#${other}`));
      dup.hidden = false;
    } else dup.hidden = true;
    ['#caller-name', '#caller-phone', '#address', '#notes', '#place'].forEach((x) => { $(x).value = ''; });
    ui.loc = null; $('#loc-text').dataset.i18n = 'click_map'; $('#loc-text').textContent = t('click_map');
    await select(inc.id);
    $('#recs')?.focus();
  } catch (err) {
    $('#intake-error').textContent = err.message;
  } finally { $('#create').disabled = false; }
}

// ------------------------------------------------------------------ keyboard
document.addEventListener('keydown', (e) => {
  const inField = ['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement?.tagName);
  if (e.altKey && ['1', '2', '3', '4'].includes(e.key)) { setTriage(['merah', 'kuning', 'hijau', 'hitam'][Number(e.key) - 1]); e.preventDefault(); return; }
  if (inField) return;
  if (e.key === '/') { $('#place').focus(); e.preventDefault(); return; }
  if (document.activeElement?.closest?.('#assign-confirm, #incident-action')) return;
  if (ui.selected && !e.ctrlKey && !e.altKey && !e.metaKey && ACTION_KEYS[e.key]) { openAction(ACTION_KEYS[e.key]); e.preventDefault(); return; }
  if (ui.selected && ui.recs.length && (e.key === 'Enter' || /^[1-9]$/.test(e.key))) {
    const n = e.key === 'Enter' ? 0 : Number(e.key) - 1;
    if (ui.recs[n]) { assign(ui.recs[n].unit_id); e.preventDefault(); }
  }
});

// ------------------------------------------------------------------ incidents
const TRIAGE_RANK = { merah: 0, kuning: 1, hijau: 2, hitam: 3 };

/** No crew has taken the call yet: no assignment acknowledged (or done). */
function waitingForUnit(i) {
  return !i.assignments.some((a) => ['acknowledged', 'completed'].includes(a.state.state));
}

/** When the incident last changed: its last timeline entry, else the call. */
function lastChangeAt(i) {
  return i.history.reduce((m, x) => Math.max(m, x.at || 0), i.received_at);
}

/** Open calls by urgency, then age: a merah call waiting for a unit first, then
 * by triage colour, calls still waiting before handled ones, the oldest first. */
function openIncidents() {
  const urgent = (i) => (i.triage === 'merah' && waitingForUnit(i) ? 0 : 1);
  return [...store.incidents.values()]
    .filter((i) => i.status === 'open' || i.status === 'dispatched')
    .sort((a, b) => urgent(a) - urgent(b) || TRIAGE_RANK[a.triage] - TRIAGE_RANK[b.triage]
      || Number(waitingForUnit(b)) - Number(waitingForUnit(a)) || a.received_at - b.received_at);
}

function renderIncidents() {
  const now = Date.now();
  fill($('#incidents'), ...openIncidents().map((i) => {
    const waiting = waitingForUnit(i);
    const units = i.assignments.filter((a) => ['pending', 'acknowledged'].includes(a.state.state)).map((a) => store.units.get(a.unit)?.call_sign || a.unit);
    return h(`li${i.id === ui.selected ? '.sel' : ''}${waiting ? '.waiting' : ''}`, { dataset: { id: i.id, triage: i.triage, waiting: String(waiting) }, onclick: () => select(i.id) },
      h(`span.badge.tr-${i.triage}`, {}, t(`tr_${i.triage}`)), ` #${i.id} `, t(`cat_${i.category}`), ' · ', i.address?.text || '',
      h('div', {}, waiting ? h('b.waiting-label', {}, `${t('waiting_for_unit')} ${dur((now - i.received_at) / 1000)}`) : h('span', {}, `${t(`inc_${i.status}`)} · ${units.join(', ')}`)),
      h('div.muted', {}, `${clock(i.received_at)} · ${t('since_call')} ${dur((now - i.received_at) / 1000)} · ${t('last_status')} ${dur((now - lastChangeAt(i)) / 1000)} ${t('ago')}`));
  }));
}

async function select(id) {
  // A question or action form about the previous incident does not stay open.
  if (ui.selected !== id) { $('#assign-confirm')?.remove(); fill($('#incident-action-slot')); }
  ui.selected = id; ui.recs = []; ui.timeline = [];
  if (!store.incidents.has(id)) {
    try { store.incidents.set(id, await dispatchApi(`/api/incidents/${id}`)); } catch (e) { toast(e.message, 'error'); return; }
  }
  const i = store.incidents.get(id);
  map.centerOn(i.location.lat, i.location.lon);
  renderAll();
  renderRefForm();
  await Promise.all([loadRecs(), loadTimeline(), loadRoute(id)]);
}

async function loadRecs() {
  const id = ui.selected;
  const i = store.incidents.get(id);
  if (!i || !(i.status === 'open' || i.status === 'dispatched')) { ui.recs = []; renderDetail(); return; }
  try { const r = await dispatchApi(`/api/incidents/${id}/recommendations`); if (ui.selected === id) ui.recs = r.candidates || []; } catch { ui.recs = []; }
  renderDetail();
}

async function loadTimeline() {
  const id = ui.selected; if (id == null) return;
  try { const tl = await dispatchApi(`/api/incidents/${id}/timeline`); if (ui.selected === id) { ui.timeline = Array.isArray(tl) ? tl : (tl.entries || tl.timeline || []); renderDetail(); } } catch { /* keep */ }
}

async function loadRoute(id) {
  const i = store.incidents.get(id);
  const a = i && [...i.assignments].reverse().find((x) => ['pending', 'acknowledged'].includes(x.state.state));
  if (!a) { ui.routes.delete(id); syncMap(); return; }
  try {
    const r = await dispatchApi(`/api/incidents/${id}/route?unit=${encodeURIComponent(a.unit)}`);
    ui.routes.set(id, { ...r, color: '#1c7ed6' });
    syncMap(); renderDetail();
  } catch { /* no route */ }
}

/** Assigns, asking first when the incident already has a unit on it: a second
 * press of a digit must not send a second ambulance by accident. */
async function assign(unitId, confirmed = false) {
  const id = ui.selected;
  const i = store.incidents.get(id);
  const active = i ? i.assignments.filter((a) => ['pending', 'acknowledged'].includes(a.state.state)) : [];
  if (!confirmed && active.length) {
    const names = active.map((a) => store.units.get(a.unit)?.call_sign || a.unit).join(', ');
    const unit = store.units.get(unitId)?.call_sign || unitId;
    const box = h('div.confirm#assign-confirm', { role: 'alertdialog' },
      h('p', {}, `#${id} ${t('already_has_unit')} ${names}. ${t('send_also')} ${unit}?`),
      h('div.row', {},
        h('button.primary#assign-yes', { type: 'button', onclick: () => { box.remove(); assign(unitId, true); } }, `${t('yes_send')} ${unit}`),
        h('button#assign-no', { type: 'button', onclick: () => box.remove() }, t('decline_back'))));
    // Outside #detail, which every live update redraws: the question stays until answered.
    $('#assign-confirm')?.remove();
    $('#detail-dialogs').prepend(box);
    box.addEventListener('keydown', (e) => { if (e.key === 'Escape') { box.remove(); e.stopPropagation(); } });
    $('#assign-no').focus();
    return;
  }
  try {
    await api(`/api/incidents/${id}/assign`, { method: 'POST', body: { unit_id: unitId } });
    toast(`${t('assign')}: ${unitId} → #${id}`);
    await loadRecs(); await loadRoute(id);
  } catch (e) { toast(e.message, 'error'); }
}

function timers(i, now = Date.now()) {
  const first = i.assignments.map((a) => a.assigned_at).sort((a, b) => a - b)[0];
  const arrived = i.history.filter((x) => x.kind === 'unit_status_changed' && /on_?scene/i.test(x.detail)).map((x) => x.at).sort((a, b) => a - b)[0];
  return { call: (now - i.received_at) / 1000, dispatch: first ? (now - first) / 1000 : null, arrival: arrived ? (now - arrived) / 1000 : null };
}

function renderDetail() {
  const box = $('#detail');
  const i = store.incidents.get(ui.selected);
  if (!i) { fill(box, h('p.muted', { 'data-i18n': 'select_incident' }, t('select_incident'))); return; }
  const tm = timers(i);
  const route = ui.routes.get(i.id);
  const active = i.assignments.filter((a) => ['pending', 'acknowledged'].includes(a.state.state));
  fill(box, 
    h('h2', {}, `#${i.id} `, h(`span.badge.tr-${i.triage}`, {}, t(`tr_${i.triage}`)), ` ${t(`inc_${i.status}`)}`),
    i.possible_duplicate_of != null ? h('div.warn', {}, `⚠ ${t('duplicate_warning')} `, h('a', { href: '#', onclick: (e) => { e.preventDefault(); select(i.possible_duplicate_of); } }, `#${i.possible_duplicate_of}`)) : null,
    h('div', {}, `${t(`cat_${i.category}`)} · ${i.patients} · ${i.address?.text || ''} ${i.address?.landmark || ''}`),
    h('div.muted', {}, `${t('caller')}: ${i.caller_name} ${i.caller_phone}`),
    i.notes ? h('div', {}, i.notes) : null,
    h('div.timers#timers', {},
      h('span', {}, h('b', { id: 't-call' }, dur(tm.call)), ` ${t('since_call')}`),
      h('span', {}, h('b', { id: 't-dispatch' }, dur(tm.dispatch)), ` ${t('since_dispatch')}`),
      h('span', {}, h('b', { id: 't-arrival' }, dur(tm.arrival)), ` ${t('since_arrival')}`)),
    active.length ? h('div#assigned', {}, ...active.map((a) => {
      const u = store.units.get(a.unit);
      return h('div', {}, h('span.badge', { dataset: { status: u?.status } }, u ? t(`st_${u.status}`) : ''), ` ${u?.call_sign || a.unit} · ${t(`as_${a.state.state}`)}`,
        route && route.unit === a.unit ? ` · ${t('route')} ${km(route.distance_m)}${route.time_s != null ? ' · ' + dur(route.time_s) : ''}` : '');
    })) : null,
    h('h2', {}, t('recommendations'), ' ', h('span.muted', {}, t('assign_hint'))),
    h('ul.list.rec#recs', { tabindex: 0 }, ...ui.recs.slice(0, 9).map((c, n) => h('li', { dataset: { unit: c.unit_id }, onclick: () => assign(c.unit_id) },
      h('span', {}, h('span.key', {}, String(n + 1)), ` ${c.call_sign} `, h('span.muted', {}, c.unit_type)),
      h('span.num', {}, `${t('eta')} ${dur(c.eta_s)} · ${km(c.distance_m)}`),
      h('button.small', { type: 'button', onclick: (e) => { e.stopPropagation(); assign(c.unit_id); } }, t('assign'))))),
    h('div#referrals', {}, ...[...store.referrals.values()].filter((r) => r.incident === i.id).map((r) => h('div', { dataset: { ref: r.id, state: r.status.state } },
      `${t('referral')} ${r.number} → ${store.hospitals.get(r.to)?.name || r.to}: `, h('b', {}, refState(r.status.state)), r.status.reason ? ` (${r.status.reason})` : ''))),
    h('h2', {}, t('timeline')),
    h('div.row#incident-actions', {}, ...ACTIONS.map((a) => h('button.small', { type: 'button', dataset: { action: a.kind }, onclick: () => openAction(a.kind) },
      `${t(a.label)} `, h('kbd', {}, a.key)))),
    h('table#timeline', {}, ...(ui.timeline.length ? ui.timeline : i.history).map((x) => h('tr', {}, h('td', {}, clock(x.at)), h('td', {}, t(`ev_${x.kind}`)),
      h('td', {}, x.unit ? (store.units.get(x.unit)?.call_sign || x.unit) : ''), h('td', {}, detailText(x))))),
  );
  box.querySelectorAll('.badge[data-status]').forEach((b) => { b.style.background = statusColor(b.dataset.status); });
}

/** The referral form, built once per selected incident so typing survives live updates. */
function renderRefForm() {
  const i = store.incidents.get(ui.selected);
  const box = $('#ref-slot');
  if (!i) { fill(box, ); return; }
  const hospitals = [...store.hospitals.values()];
  fill(box, 
    h('details#ref-box', {},
      h('summary', {}, t('send_referral')),
      h('form#ref-form', {},
        h('label', {}, t('referral_to'), h('select#ref-to', {}, ...hospitals.map((x) => h('option', { value: x.id }, `${x.name} (${t(x.capacity?.status || 'open')}, IGD ${x.capacity?.free_igd_beds ?? '—'})`)))),
        h('div.muted#ref-rank-note', {}, t('ranking_hospitals')),
        h('label.inline', {}, h('input#ref-unknown', { type: 'checkbox', onchange: (e) => { for (const id of ['#ref-name', '#ref-nik', '#ref-dob']) { $(id).disabled = e.target.checked; $(id).required = !e.target.checked; } } }), ` ${t('unidentified')}`),
        h('div.row', {}, h('label', {}, t('patient_name'), h('input#ref-name', { required: true })), h('label', {}, t('nik'), h('input#ref-nik', { required: true, pattern: '[0-9]{16}', inputmode: 'numeric' }))),
        h('div.row', {}, h('label', {}, t('sex'), h('select#ref-sex', {}, h('option', { value: 'male' }, t('male')), h('option', { value: 'female' }, t('female')))),
          h('label', {}, t('dob'), h('input#ref-dob', { type: 'date', required: true }))),
        h('div.row', {}, h('label', {}, t('diagnosis'), h('input#ref-icd', { required: true, placeholder: 'S06.0' })),
          h('label', {}, t('consciousness'), h('select#ref-avpu', {}, ...['alert', 'voice', 'pain', 'unresponsive'].map((v) => h('option', { value: v }, t(`avpu_${v}`)))))),
        h('label', {}, t('reason'), h('input#ref-reason', { required: true })),
        h('button.primary', { type: 'submit' }, t('send_referral'))),
    ));
  rankHospitals(i.id);
  $('#ref-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const cur = store.incidents.get(ui.selected);
    const a = cur?.assignments.filter((x) => ['pending', 'acknowledged'].includes(x.state.state))[0];
    sendReferral(cur, a?.unit);
  });
}

/** Fills the destination list from the server's recommendation: the ranked
 * hospitals first, numbered, with drive time and free beds, the first one chosen;
 * the excluded ones after them with their reason (the dispatcher may still choose
 * one: the crew on scene knows things the table does not). */
async function rankHospitals(id) {
  let rec;
  try { rec = await dispatchApi(`/api/incidents/${id}/hospitals`); } catch { $('#ref-rank-note').textContent = ''; return; }
  const sel = $('#ref-to');
  if (!sel || ui.selected !== id) return;
  const name = (hid) => store.hospitals.get(hid)?.name || hid;
  const why = (x) => ({ diversion: t('diversion'), unreachable: t('unreachable'), already_tried: t('already_tried'), lacks: `${t('lacks')} ${x.capability || ''}` }[x.reason] || x.reason);
  fill(sel,
    h('optgroup', { label: t('recommended') }, ...rec.ranked.map((o, k) => h('option', { value: o.hospital },
      `${k + 1}. ${o.name} · ${dur(o.eta_s)} · IGD ${o.free_igd_beds ?? '—'}${o.free_icu_beds != null ? ` · ICU ${o.free_icu_beds}` : ''} (${t(o.status)})`))),
    rec.excluded.length ? h('optgroup', { label: t('not_recommended') }, ...rec.excluded.map((x) => h('option', { value: x.hospital }, `${name(x.hospital)} — ${why(x.reason)}`))) : null);
  if (rec.ranked[0]) sel.value = rec.ranked[0].hospital;
  $('#ref-rank-note').textContent = rec.ranked.length ? '' : t('no_hospital_fits');
}

function refState(st) { return t({ pending: 'referral_pending', accepted: 'referral_accepted', declined: 'referral_declined_s', expired: 'referral_expired_s', cancelled: 'referral_cancelled_s', handed_over: 'referral_handed_over' }[st] || st); }

async function sendReferral(i, unit) {
  const body = {
    incident: i.id, to: $('#ref-to').value, unit: unit || undefined,
    form: {
      from: 'PSC 119 Banyumas', referral_type: 'emergency', reason: $('#ref-reason').value.trim(), diagnosis_icd10: $('#ref-icd').value.trim().toUpperCase(),
      officer: s.user.username, findings: '',
      condition: { history_exam: i.notes || '-', consciousness: $('#ref-avpu').value, gcs: null, bp_systolic_mmhg: null, bp_diastolic_mmhg: null, pulse_per_min: null, temperature_c: null, breathing_per_min: null, pain_score: null, allergies: '' },
    },
    patient: $('#ref-unknown').checked
      ? { nik: '', name: '', sex: $('#ref-sex').value, date_of_birth: '', address: i.address?.text || '', contact: i.caller_phone || '' }
      : { nik: $('#ref-nik').value.trim(), name: $('#ref-name').value.trim(), sex: $('#ref-sex').value, date_of_birth: $('#ref-dob').value, address: i.address?.text || '', contact: i.caller_phone || '' },
  };
  try {
    const r = await dispatchApi('/api/referrals', { method: 'POST', body });
    store.referrals.set(r.id, r);
    toast(`${t('referral')} ${r.number}`);
    renderDetail();
  } catch (e) { toast(e.message, 'error'); }
}

// ------------------------------------------------------------------ boards
const ORDER = ['notified', 'en_route', 'on_scene', 'at_patient', 'transporting', 'at_destination', 'transfer_of_care', 'available', 'out_of_service'];
function renderUnits() {
  const now = Date.now();
  const units = [...store.units.values()].sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status) || a.call_sign.localeCompare(b.call_sign));
  const counts = {}; units.forEach((u) => { counts[u.status] = (counts[u.status] || 0) + 1; });
  fill($('#units-board'), 
    h('div.muted', {}, ORDER.filter((k) => counts[k]).map((k) => `${t(`st_${k}`)}: ${counts[k]}`).join(' · ')),
    h('table#units', {},
      h('tr', {}, h('th', {}, t('units')), h('th', {}, t('status')), h('th.num', {}, t('in_status')), h('th', {}, t('incident')), h('th.num', {}, t('position_age'))),
      ...units.filter((u) => u.status !== 'available' || units.length <= 80).map((u) => h('tr', { dataset: { unit: u.id, status: u.status } },
        h('td', { title: u.id }, h('span.badge', { dataset: { c: statusColor(u.status) } }, ' '), ` ${u.call_sign}`),
        h('td', {}, t(`st_${u.status}`)),
        h('td.num', {}, u.status_at ? dur((now - u.status_at) / 1000) : '—'),
        h('td', {}, u.incident != null ? h('a.inc-link', { href: `#incident-${u.incident}`, onclick: (ev) => { ev.preventDefault(); select(u.incident); } }, `#${u.incident}`) : ''),
        h('td.num.muted', {}, u.last_fix ? `${dur((now - u.last_fix.received) / 1000)} ${t('ago')}` : '—')))),
  );
  document.querySelectorAll('#units .badge').forEach((b) => { b.style.background = b.dataset.c; });
}

function renderHospitals() {
  const now = Date.now();
  fill($('#hospitals-board'), h('table#hospitals', {},
    h('tr', {}, h('th', {}, t('hospitals')), h('th.num', {}, 'IGD'), h('th.num', {}, 'ICU'), h('th', {}, t('status')), h('th.num', {}, t('updated'))),
    ...[...store.hospitals.values()].map((x) => h('tr', { dataset: { hospital: x.id } },
      h('td', {}, x.name), h('td.num', {}, x.capacity?.free_igd_beds ?? '—'), h('td.num', {}, x.capacity?.free_icu_beds ?? '—'),
      h('td', {}, h('span.badge', { dataset: { c: igdColor(x.capacity?.status) } }, t(x.capacity?.status || 'open'))),
      h('td.num.muted', {}, x.capacity?.updated_at ? `${dur((now - x.capacity.updated_at) / 1000)} ${t('ago')}` : '—')))));
  document.querySelectorAll('#hospitals .badge').forEach((b) => { b.style.background = b.dataset.c; });
}

// ------------------------------------------------------------------ alerts
// Alerts are derived from the state every second, so they survive a reload and
// every dispatcher who logs in sees them; dismissing one hides it on this screen
// until its cause changes (its key carries the cause).
const dismissed = new Set();
const sounded = new Set();
let alertList = [];
function callSign(id) { return store.units.get(id)?.call_sign || id; }
function deriveAlerts(now = Date.now()) {
  const out = [];
  for (const i of store.incidents.values()) {
    if (!(i.status === 'open' || i.status === 'dispatched')) continue;
    const lost = i.assignments.filter((a) => ['declined', 'timed_out'].includes(a.state.state));
    const active = i.assignments.some((a) => ['pending', 'acknowledged', 'completed'].includes(a.state.state));
    if (lost.length && !active) {
      const a = lost[lost.length - 1];
      const why = a.state.state === 'declined' ? `${t('decline')}: ${callSign(a.unit)}${a.state.reason ? ` (${a.state.reason})` : ''}` : `${t('ack_timeout')}: ${callSign(a.unit)}`;
      out.push({ key: `nounit-${i.id}-${lost.length}`, at: lastChangeAt(i), urgent: i.triage === 'merah', text: `#${i.id} ${t(`tr_${i.triage}`)} ${t('waiting_for_unit')} — ${why}` });
    } else if (waitingForUnit(i) && !i.assignments.length && now - i.received_at > 60000) {
      out.push({ key: `unassigned-${i.id}`, at: i.received_at, urgent: i.triage === 'merah', text: `#${i.id} ${t(`tr_${i.triage}`)} ${t('waiting_for_unit')} ${dur((now - i.received_at) / 1000)}` });
    }
    for (const a of i.assignments) if (a.state.state === 'pending' && now > a.ack_deadline) out.push({ key: `to-${i.id}-${a.unit}`, at: a.ack_deadline, urgent: true, text: `${t('ack_timeout')}: ${callSign(a.unit)} #${i.id}` });
  }
  for (const r of store.referrals.values()) {
    const later = [...store.referrals.values()].some((x) => x.incident === r.incident && x.id > r.id);
    if (!later && ['declined', 'expired'].includes(r.status.state)) out.push({ key: `ref-${r.id}-${r.status.state}`, at: r.answered_at || r.deadline, urgent: true, text: `${t(r.status.state === 'declined' ? 'referral_declined' : 'referral_expired')}: ${r.number}${r.status.reason ? ` (${r.status.reason})` : ''}` });
    if (r.status.state === 'pending' && now > r.deadline) out.push({ key: `re-${r.id}`, at: r.deadline, urgent: true, text: `${t('referral_expired')}: ${r.number}` });
  }
  for (const u of store.units.values()) {
    if (['en_route', 'transporting'].includes(u.status) && (!u.last_fix || now - u.last_fix.received > 120000) && now - u.status_at > 120000) out.push({ key: `st-${u.id}-${u.status_at}`, at: u.status_at, urgent: false, text: `${t('stale_position')}: ${u.call_sign}` });
  }
  return out.sort((a, b) => Number(b.urgent) - Number(a.urgent) || b.at - a.at);
}
function checkAlerts() {
  alertList = deriveAlerts().filter((a) => !dismissed.has(a.key));
  for (const a of alertList) if (!sounded.has(a.key)) { sounded.add(a.key); if (soundAllowed()) beep(a.urgent ? 990 : 660); }
  fill($('#alerts'), ...alertList.slice(0, 8).map((a) => h(`div.alert${a.urgent ? '.urgent' : ''}`, { dataset: { key: a.key } }, `${clock(a.at)} ${a.text} `,
    h('button.small', { type: 'button', title: t('dismiss'), onclick: () => { dismissed.add(a.key); checkAlerts(); } }, '×'))));
}
function onEventAlerts() { checkAlerts(); }

/** The timeline's detail in words: the server writes status and call details as
 * names (`OnScene`, `Kuning Medical, 1 patient(s)`), the console shows them in the
 * dispatcher's language. */
function snake(x) { return String(x).replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase(); }
function detailText(x) {
  const d = x.detail || '';
  if (x.kind === 'unit_status_changed' && /^[A-Za-z_]+$/.test(d)) return t(`st_${snake(d)}`);
  const m = x.kind === 'incident_created' && /^(\w+) (\w+)(?:, (\d+))?/.exec(d);
  if (m) return [t(`tr_${snake(m[1])}`), t(`cat_${snake(m[2])}`), m[3] ? `${m[3]} ${t('patients').toLowerCase()}` : ''].filter(Boolean).join(' · ');
  if (x.kind === 'unit_assigned' && (d === 'automatic' || d === 'by dispatcher')) return t(d === 'automatic' ? 'assigned_automatic' : 'assigned_by_dispatcher');
  return d;
}

// ------------------------------------------------------------------ incident actions
const ACTIONS = [
  { kind: 'close', key: 'C', label: 'close_incident', field: 'outcome' },
  { kind: 'cancel', key: 'X', label: 'cancel_incident', field: 'reason' },
  { kind: 'merge', key: 'M', label: 'merge_incident', field: 'into' },
  { kind: 'reassign', key: 'R', label: 'reassign_unit', field: 'unit' },
];
const ACTION_KEYS = Object.fromEntries(ACTIONS.flatMap((a) => [[a.key.toLowerCase(), a.kind], [a.key, a.kind]]));

/** Opens the small form of one action on the selected incident: Enter sends, Esc closes. */
function openAction(kind) {
  const a = ACTIONS.find((x) => x.kind === kind);
  const i = store.incidents.get(ui.selected);
  const slot = $('#incident-action-slot');
  if (!a || !i || !slot) return;
  const input = kind === 'reassign'
    ? h('select#action-input', {}, ...[...store.units.values()].filter((u) => u.incident != null && u.incident !== i.id).map((u) => h('option', { value: u.id }, `${u.call_sign} (#${u.incident}, ${t(`st_${u.status}`)})`)))
    : h('input#action-input', { required: true, maxlength: 1000, inputmode: kind === 'merge' ? 'numeric' : 'text', placeholder: t(`action_${kind}_ph`) });
  const form = h('form#incident-action', { dataset: { action: kind }, novalidate: true },
    h('label', {}, `${t(a.label)} #${i.id}`, input),
    h('p.error#action-error', { role: 'alert' }),
    h('div.row', {}, h('button.primary', { type: 'submit' }, t(a.label)), h('button', { type: 'button', onclick: () => fill(slot) }, t('decline_back'))));
  form.addEventListener('keydown', (e) => { if (e.key === 'Escape') { fill(slot); e.stopPropagation(); } });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = input.value.trim();
    if (!v) { $('#action-error').textContent = t('action_needs_value'); return; }
    try {
      if (kind === 'close') await api(`/api/incidents/${i.id}/close`, { method: 'POST', body: { outcome: v } });
      if (kind === 'cancel') await api(`/api/incidents/${i.id}/cancel`, { method: 'POST', body: { reason: v } });
      if (kind === 'merge') await api(`/api/incidents/${i.id}/merge`, { method: 'POST', body: { into: Number(v.replace(/^#/, '')) } });
      if (kind === 'reassign') await live.command({ type: 'reassign_unit', unit: v, to: i.id, reason: t('reassigned_by_dispatcher') });
      toast(`${t(a.label)}: #${i.id}`);
      fill(slot);
    } catch (err) { $('#action-error').textContent = err.message_id || err.message || String(err); }
  });
  fill(slot, form);
  input.focus();
}

// Sound: browsers play it only after a person has interacted with the page, so
// the console asks at once, in a banner, and takes the first click or key press
// anywhere as the answer; alarms are audible from the first call on.
function enableSound() {
  if (soundAllowed()) return;
  allowSound(); beep(660, 120);
  $('#sound').dataset.i18n = 'sound_on'; $('#sound').textContent = t('sound_on');
  $('#sound-ask').hidden = true;
}
$('#sound').addEventListener('click', enableSound);
$('#sound-ask-btn').addEventListener('click', enableSound);
document.addEventListener('pointerdown', enableSound, { once: true, capture: true });
document.addEventListener('keydown', enableSound, { once: true, capture: true });
$('#sound-ask').hidden = soundAllowed();

setInterval(() => {
  checkAlerts();
  const i = store.incidents.get(ui.selected);
  if (i) { const tm = timers(i); if ($('#t-call')) { $('#t-call').textContent = dur(tm.call); $('#t-dispatch').textContent = dur(tm.dispatch); $('#t-arrival').textContent = dur(tm.arrival); } }
}, 1000);
setInterval(() => { renderUnits(); renderHospitals(); renderIncidents(); }, 5000);
applyI18n();
