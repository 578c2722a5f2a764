// The hospital emergency board: incoming referrals with the patient summary the
// hospital needs, accept or decline with a reason, the pre-arrival list with
// live ETAs, and the hospital's free IGD/ICU beds and IGD status.
import { t, applyI18n, onLang, requireRole, header, api, Live, Store, $, h, clock, dur, km, toast, fill, clientId, allowSound, soundAllowed, beep } from './app.js';

const s = requireRole(['hospital']);
header('hospital_title', s);
const hid = s.user.hospital;
const store = new Store();
let capFilled = false;

// A new referral rings: the IGD board is often watched from across the room.
// Browsers play sound only after a person touched the page, so the board asks.
const rung = new Set();
window.satriaHospital = { rings: 0 }; // read by the browser test
function ringNew() {
  for (const r of store.referrals.values()) {
    if (r.to !== hid || r.status.state !== 'pending' || rung.has(r.id)) continue;
    rung.add(r.id);
    window.satriaHospital.rings += 1;
    if (soundAllowed()) { beep(880, 300); setTimeout(() => beep(1175, 300), 350); }
  }
}
function enableSound() { if (!soundAllowed()) { allowSound(); beep(660, 120); } $('#sound-ask').hidden = true; }
$('#sound-ask-btn').addEventListener('click', enableSound);
document.addEventListener('pointerdown', enableSound, { once: true, capture: true });

const live = new Live({
  onSnapshot: (st) => { store.reset(st); for (const r of store.referrals.values()) rung.add(r.id); render(); },
  onEvent: (e) => { store.apply(e); if (e.type === 'referral_sent') ringNew(); render(); },
});
live.connect();
window.satriaLive = live;
window.satriaStore = store;

function years(dob) {
  const d = new Date(dob); if (Number.isNaN(d.getTime())) return '';
  return Math.floor((Date.now() - d.getTime()) / (365.25 * 86400000));
}

function render() {
  const me = store.hospitals.get(hid);
  const refs = [...store.referrals.values()].filter((r) => r.to === hid).sort((a, b) => b.sent_at - a.sent_at);
  const pending = refs.filter((r) => r.status.state === 'pending');
  const others = refs.filter((r) => r.status.state !== 'pending').slice(0, 20);
  // The board redraws every second (the countdowns): what a person is typing in a
  // decline reason survives it, with the cursor where it was.
  const typed = new Map([...document.querySelectorAll('[data-reason]')].map((i) => [i.dataset.reason, i.value]));
  const focus = document.activeElement?.dataset?.reason;
  const caret = focus != null ? document.activeElement.selectionStart : null;
  fill($('#incoming'), 
    ...(pending.length ? pending.map(card) : [h('p.muted', {}, t('none'))]),
    ...others.map((r) => h('div.muted', { dataset: { ref: r.id, state: r.status.state } }, `${clock(r.sent_at)} ${r.number} · ${r.patient.nik ? r.patient.name : t('unidentified')} · ${refState(r.status.state)}`)),
  );
  for (const i of document.querySelectorAll('[data-reason]')) {
    if (typed.has(i.dataset.reason)) i.value = typed.get(i.dataset.reason);
    if (i.dataset.reason === focus) { i.focus(); i.setSelectionRange(caret, caret); }
  }
  const coming = refs.filter((r) => r.status.state === 'accepted');
  fill($('#prearrival'), 
    h('tr', {}, h('th', {}, t('referral')), h('th', {}, t('patient')), h('th', {}, 'Unit'), h('th.num', {}, t('eta')), h('th.num', {}, t('distance')), h('th.num', {}, t('updated'))),
    ...coming.map((r) => {
      const p = r.pre_arrival;
      const eta = p?.eta_s != null ? p.eta_s - (Date.now() - p.at) / 1000 : null;
      return h('tr', { dataset: { ref: r.id, triage: r.triage || '' } }, h('td', {}, r.triage ? h(`span.badge.tr-${r.triage}`, {}, t(`tr_${r.triage}`)) : null, ` ${r.number}`),
        h('td', {}, `${r.patient.nik ? r.patient.name : t('unidentified')}, ${r.form.diagnosis_icd10} · ${r.form.reason}`), h('td', {}, r.unit_call_sign || r.unit || '—'),
        h('td.num', {}, eta != null ? dur(Math.max(0, eta)) : '—'), h('td.num', {}, km(p?.distance_m)), h('td.num.muted', {}, p ? clock(p.at) : '—'));
    }),
  );
  if (me && !capFilled) {
    $('#igd').value = me.capacity?.free_igd_beds ?? ''; $('#icu').value = me.capacity?.free_icu_beds ?? '';
    $('#igd-status').value = me.capacity?.status || 'open'; capFilled = true;
  }
  const at = me?.capacity?.updated_at;
  $('#cap-info').textContent = me ? `${me.name} · ${at ? `${t('last_published')} ${clock(at)} WIB (${dur((Date.now() - at) / 1000)} ${t('ago')})` : t('never_published')}` : '';
}
onLang(render);

function refState(st) { return t({ pending: 'referral_pending', accepted: 'referral_accepted', declined: 'referral_declined_s', expired: 'referral_expired_s', cancelled: 'referral_cancelled_s', handed_over: 'referral_handed_over' }[st] || st); }

function card(r) {
  const c = r.form.condition || {};
  const vitals = [c.gcs != null ? `GCS ${c.gcs}` : null, c.bp_systolic_mmhg ? `TD ${c.bp_systolic_mmhg}/${c.bp_diastolic_mmhg}` : null, c.pulse_per_min ? `N ${c.pulse_per_min}` : null,
    c.breathing_per_min ? `RR ${c.breathing_per_min}` : null, c.temperature_c ? `S ${c.temperature_c}°C` : null].filter(Boolean).join(' · ');
  const left = (r.deadline - Date.now()) / 1000;
  return h(`div.card${r.triage ? `.tri-${r.triage}` : ''}`, { dataset: { ref: r.id, state: r.status.state, triage: r.triage || '' } },
    r.triage ? h(`span.badge.tr-${r.triage}`, {}, t(`tr_${r.triage}`)) : null, ' ',
    h('b', {}, `${r.number} `), h('span.muted', {}, `${clock(r.sent_at)} · ${t(`rt_${r.form.referral_type}`)}`),
    h('div.complaint', {}, r.form.reason),
    h('div', {}, `${t('unit')}: ${r.unit_call_sign || r.unit || '—'}${r.pre_arrival?.eta_s != null ? ` · ${t('eta')} ${dur(Math.max(0, r.pre_arrival.eta_s - (Date.now() - r.pre_arrival.at) / 1000))}` : ''}`),
    h('div', {}, `${t('patient')}: `, r.patient.nik ? `${r.patient.name} (${r.patient.sex === 'male' ? 'L' : 'P'}, ${years(r.patient.date_of_birth)} th)`
      : h('b.unidentified', {}, `${t('unidentified')} (${r.patient.sex === 'male' ? 'L' : 'P'})`)),
    h('div', {}, `${t('diagnosis')}: ${r.form.diagnosis_icd10} · ${r.form.reason}`),
    h('div.muted', {}, `${t('consciousness')}: ${c.consciousness ? t(`avpu_${c.consciousness}`) : '—'} ${vitals}`),
    c.history_exam ? h('div.muted', {}, c.history_exam) : null,
    h('div.muted', {}, `${t('from_facility')}: ${r.form.from} · ${t('officer')}: ${r.form.officer}`),
    h('div', {}, h('b', {}, `${t('answer_within')} ${left > 0 ? dur(left) : '0:00'}`)),
    h('div.row', {},
      h('button.primary', { type: 'button', 'data-action': 'accept', onclick: () => answer(r, true) }, t('accept')),
      h('input', { placeholder: t('reason'), 'data-reason': r.id }),
      h('button.danger', { type: 'button', 'data-action': 'decline', onclick: () => answer(r, false) }, t('decline'))),
  );
}

async function answer(r, accept) {
  const reason = document.querySelector(`[data-reason="${r.id}"]`)?.value.trim();
  if (!accept && !reason) { toast(t('reason'), 'error'); return; }
  try {
    await live.command(accept ? { type: 'accept_referral', referral: r.id, officer: s.user.username } : { type: 'decline_referral', referral: r.id, reason }, clientId('rs'));
  } catch (f) { toast(f.message_id || f.message, 'error'); }
}

$('#capacity').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await live.command({ type: 'update_hospital_capacity', hospital: hid, free_igd_beds: Number($('#igd').value), free_icu_beds: Number($('#icu').value), status: $('#igd-status').value }, clientId('rs'));
    toast(t('saved'));
  } catch (f) { toast(f.message_id || f.message, 'error'); }
});
setInterval(render, 1000); // the countdowns
applyI18n();
