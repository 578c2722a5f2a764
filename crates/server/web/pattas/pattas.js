// Pattas console (issue 6): officers register beneficiaries, take and follow
// cases (verify, reject, assist, close, assistance, free transport through
// dispatch) and read the reports; a mitra reports cases, registers
// beneficiaries and follows its own cases. Bahasa Indonesia by default,
// English on the shared toggle; the strings live here (i18n.js is shared).
import { t, getLang, onLang, requireRole, header, api, $, h, fill, toast, clock, dateWib } from '/app.js';

const L = {
  id: {
    title: 'Pattas — Pendampingan Pasien', beneficiaries: 'Penerima manfaat', search: 'Cari', search_ph: 'Nama atau NIK',
    register: 'Daftarkan penerima manfaat', nik: 'NIK (16 digit)', name: 'Nama', dob: 'Tanggal lahir', sex: 'Jenis kelamin',
    desa: 'Desa/kelurahan', kecamatan: 'Kecamatan', rt: 'RT', rw: 'RW', phone: 'Telepon', dtks: 'Terdaftar DTKS', bpjs: 'BPJS',
    conditions: 'Kondisi (pisahkan dengan koma)', save: 'Simpan', report_case: 'Laporkan kasus', beneficiary_id: 'ID penerima manfaat',
    or_nik: 'atau NIK', needs: 'Kebutuhan', description: 'Uraian', send: 'Kirim', cases: 'Kasus', all: 'semua', refresh: 'Muat ulang',
    status: 'Status', reported: 'Dilaporkan', overdue: 'terlambat', case: 'Kasus', history: 'Riwayat', verify: 'Verifikasi',
    reject: 'Tolak', assist: 'Mulai pendampingan', close: 'Tuntaskan', reason: 'Alasan', summary: 'Ringkasan penutupan', note: 'Catatan',
    assistance: 'Bantuan', add_assistance: 'Catat bantuan', kind: 'Jenis', amount: 'Jumlah (Rp)', date: 'Tanggal', notes: 'Catatan',
    transport: 'Transportasi gratis', book: 'Pesan transportasi', pickup: 'Penjemputan', lat: 'Lintang', lon: 'Bujur', pickup_desa: 'Desa/kelurahan penjemputan (ketik untuk mencari)',
    exact_point: 'Titik jemput tepat (opsional; tanpa ini: pusat desa)', pick_desa: 'Pilih desa/kelurahan penjemputan dari daftar, atau isi titik jemput tepat',
    address: 'Alamat', destination: 'Rumah sakit tujuan', other: 'Lainnya (isi nama & koordinat)', dest_name: 'Nama tujuan',
    scheduled: 'Jadwal (WIB)', pickup_time: 'Jam jemput (WIB, 24 jam)', purpose: 'Keperluan', cancel: 'Batalkan', cancelled: 'dibatalkan', unit: 'Unit',
    reports: 'Laporan', from: 'Dari', to: 'Sampai', show: 'Tampilkan', by_status: 'Kasus per status', by_desa: 'Kasus per desa',
    by_kind: 'Bantuan per jenis', by_month: 'Bantuan per bulan', total: 'Jumlah', count: 'Banyak', month: 'Bulan',
    select_case: 'Pilih kasus dari daftar', none: 'tidak ada', saved: 'Tersimpan', registered: 'Penerima manfaat terdaftar',
    case_reported: 'Kasus dilaporkan', need_reason: 'Isi alasan dulu', need_summary: 'Isi ringkasan dulu', use: 'Pakai',
    late_by: 'terlambat', step_verify: 'verifikasi', step_first_assistance: 'bantuan pertama', outside: 'di luar Banyumas',
    my_cases: 'Kasus saya', by: 'oleh', yes: 'ya', no: 'tidak', need_needs: 'Pilih minimal satu kebutuhan',
    ts_scheduled: 'terjadwal', ts_assigned: 'unit ditugaskan', ts_en_route: 'menuju lokasi', ts_on_scene: 'di lokasi jemput',
    ts_transporting: 'mengantar', ts_completed: 'selesai', ts_cancelled: 'dibatalkan', ts_unknown: 'tidak diketahui',
  },
  en: {
    title: 'Pattas — Patient assistance', beneficiaries: 'Beneficiaries', search: 'Search', search_ph: 'Name or NIK',
    register: 'Register a beneficiary', nik: 'NIK (16 digits)', name: 'Name', dob: 'Date of birth', sex: 'Sex',
    desa: 'Desa/kelurahan', kecamatan: 'Kecamatan', rt: 'RT', rw: 'RW', phone: 'Phone', dtks: 'Listed in DTKS', bpjs: 'BPJS',
    conditions: 'Conditions (comma separated)', save: 'Save', report_case: 'Report a case', beneficiary_id: 'Beneficiary id',
    or_nik: 'or NIK', needs: 'Needs', description: 'Description', send: 'Send', cases: 'Cases', all: 'all', refresh: 'Refresh',
    status: 'Status', reported: 'Reported', overdue: 'overdue', case: 'Case', history: 'History', verify: 'Verify',
    reject: 'Reject', assist: 'Start assistance', close: 'Close', reason: 'Reason', summary: 'Closing summary', note: 'Note',
    assistance: 'Assistance', add_assistance: 'Record assistance', kind: 'Kind', amount: 'Amount (Rp)', date: 'Date', notes: 'Notes',
    transport: 'Free transport', book: 'Book transport', pickup: 'Pickup', lat: 'Latitude', lon: 'Longitude', pickup_desa: 'Pickup desa/kelurahan (type to search)',
    exact_point: 'Exact pickup point (optional; without it: the desa centre)', pick_desa: 'Choose the pickup desa/kelurahan from the list, or give the exact pickup point',
    address: 'Address', destination: 'Destination hospital', other: 'Other (enter name & coordinates)', dest_name: 'Destination name',
    scheduled: 'Scheduled (WIB)', pickup_time: 'Pickup time (WIB, 24 h)', purpose: 'Purpose', cancel: 'Cancel', cancelled: 'cancelled', unit: 'Unit',
    reports: 'Reports', from: 'From', to: 'To', show: 'Show', by_status: 'Cases by status', by_desa: 'Cases by desa',
    by_kind: 'Assistance by kind', by_month: 'Assistance by month', total: 'Total', count: 'Count', month: 'Month',
    select_case: 'Pick a case from the list', none: 'none', saved: 'Saved', registered: 'Beneficiary registered',
    case_reported: 'Case reported', need_reason: 'Enter a reason first', need_summary: 'Enter a summary first', use: 'Use',
    late_by: 'late by', step_verify: 'verification', step_first_assistance: 'first assistance', outside: 'outside Banyumas',
    my_cases: 'My cases', by: 'by', yes: 'yes', no: 'no', need_needs: 'Pick at least one need',
    ts_scheduled: 'scheduled', ts_assigned: 'unit assigned', ts_en_route: 'en route', ts_on_scene: 'at pickup',
    ts_transporting: 'transporting', ts_completed: 'completed', ts_cancelled: 'cancelled', ts_unknown: 'unknown',
  },
};
const tr = (k) => L[getLang()][k] ?? L.id[k] ?? t(k);

// Banyumas hospitals with known coordinates (fixtures/banyumas/hospitals.csv).
const HOSPITALS = [
  ['3302026', 'RSUD Prof. Dr. Margono Soekarjo', -7.43743, 109.26738], ['3302015', 'RSUD Banyumas', -7.52987, 109.29243],
  ['3302191', 'RSUD Ajibarang', -7.41281, 109.07925], ['3302030', 'RS Wijayakusuma', -7.41509, 109.24558],
  ['3302041', 'RS Santa Elisabeth Purwokerto', -7.41647, 109.23975], ['3302143', 'RS Hidayah Purwokerto', -7.42667, 109.25806],
  ['3302154', 'RS Bunda', -7.42903, 109.25351], ['3302180', 'RS Sinar Kasih', -7.42562, 109.26183],
  ['3302213', 'RS Wiradadi Husada', -7.45912, 109.27184], ['3302224', 'RS Siaga Medika Banyumas', -7.52553, 109.29341],
  ['3302229', 'RS Dadi Keluarga', -7.44782, 109.25302], ['3302232', 'RS Hermina Purwokerto', -7.42057, 109.20264],
];

const s = requireRole(['pattas_officer', 'pattas_mitra', 'admin']);
const officer = s.user.role !== 'pattas_mitra';
header('pattas_title', s);
// These pages use the REST API only: no live connection to show.
$('#conn')?.remove();
document.body.dataset.role = s.user.role;

const rp = (n) => `Rp ${new Intl.NumberFormat('id-ID').format(n ?? 0)}`;
// Instants arrive as RFC 3339 strings in UTC; shown as WIB date and HH:MM.
const wib = (at) => (at == null ? '—' : `${dateWib(at)} ${clock(at).slice(0, 5)}`);
const todayWib = () => new Date(Date.now() + 7 * 3600e3).toISOString().slice(0, 10);
const label = (list, v) => { const x = (list || []).find((o) => o.value === v); return x ? (getLang() === 'id' ? x.label_id : x.label) : v; };
const val = (id) => $(`#${id}`).value.trim();

let meta = { needs: [], statuses: [], actions: [], bpjs: [], sex: [], desa: [] };
let cases = [];
let overdue = new Map();
let selected = null;
let detail = null;
let bens = [];
let report = null;
// Form values survive a language re-render.
const keep = new Map();

function field(id, key, attrs = {}, kind = 'input') {
  const prev = keep.get(id);
  const el = h(kind, { id, name: id, ...attrs });
  if (prev != null) { if (attrs.type === 'checkbox') el.checked = prev; else el.value = prev; }
  el.addEventListener('input', () => keep.set(id, attrs.type === 'checkbox' ? el.checked : el.value));
  el.addEventListener('change', () => keep.set(id, attrs.type === 'checkbox' ? el.checked : el.value));
  return h('label', {}, h('span', {}, tr(key)), el);
}
function select(id, key, options, { onchange, ...attrs } = {}) {
  const el = h('select', { id, name: id, ...attrs }, ...options.map(([v, text]) => h('option', { value: v }, text)));
  if (keep.has(id)) el.value = keep.get(id);
  el.addEventListener('change', () => { keep.set(id, el.value); onchange?.(); });
  return h('label', {}, h('span', {}, tr(key)), el);
}
function checks(name, list) {
  return h('div.checks', { id: name }, ...list.map((o) => {
    const id = `${name}-${o.value}`;
    const box = h('input', { type: 'checkbox', id, value: o.value, checked: keep.get(id) || null });
    box.addEventListener('change', () => keep.set(id, box.checked));
    return h('label', {}, box, getLang() === 'id' ? o.label_id : o.label);
  }));
}
const checked = (name) => [...document.querySelectorAll(`#${name} input:checked`)].map((b) => b.value);
function fail(errId, e) { const m = e?.message || String(e); const el = $(`#${errId}`); if (el) el.textContent = m; toast(m, 'error'); }
function clearErr(errId) { const el = $(`#${errId}`); if (el) el.textContent = ''; }

// ------------------------------------------------------------------ sections

function beneficiarySection() {
  return h('section.card#beneficiaries', {},
    h('h2', {}, tr('beneficiaries')),
    h('form#ben-search.row', { onsubmit: (e) => { e.preventDefault(); searchBens(); } },
      h('input#ben-q', { placeholder: tr('search_ph'), value: keep.get('ben-q') || '', oninput: (e) => keep.set('ben-q', e.target.value) }),
      h('button', { type: 'submit' }, tr('search'))),
    h('table#ben-list', {},
      h('tr', {}, h('th', {}, 'ID'), h('th', {}, tr('name')), h('th', {}, 'NIK'), h('th', {}, tr('desa')), h('th', {})),
      ...bens.map((b) => h('tr', { dataset: { ben: b.id } }, h('td', {}, b.id), h('td', {}, b.name, b.banyumas_resident ? null : h('span.pill', {}, tr('outside'))),
        h('td', {}, b.nik), h('td', {}, `${b.desa}, ${b.kecamatan}`),
        h('td', {}, h('button.small', { type: 'button', onclick: () => { keep.set('case-ben', String(b.id)); keep.set('case-nik', ''); render(); $('#case-ben').focus(); } }, tr('report_case')))))),
    h('h3', {}, tr('register')),
    h('form#ben-form', { onsubmit: registerBen, novalidate: true },
      h('div.row', {}, field('b-nik', 'nik', { inputmode: 'numeric', maxlength: 16 }), field('b-name', 'name')),
      h('div.row', {}, field('b-dob', 'dob', { type: 'date' }),
        select('b-sex', 'sex', meta.sex.map((o) => [o.value, getLang() === 'id' ? o.label_id : o.label])),
        select('b-bpjs', 'bpjs', meta.bpjs.map((o) => [o.value, getLang() === 'id' ? o.label_id : o.label]))),
      h('div.row', {}, field('b-desa', 'desa', { list: 'desa-list' }), field('b-kec', 'kecamatan'), field('b-rt', 'rt', { size: 3 }), field('b-rw', 'rw', { size: 3 })),
      h('datalist#desa-list', {}, ...meta.desa.map((d) => h('option', { value: d.desa }, d.kecamatan))),
      h('div.row', {}, field('b-phone', 'phone', { type: 'tel' }), field('b-cond', 'conditions'), field('b-dtks', 'dtks', { type: 'checkbox' })),
      h('div#ben-error.form-error', { role: 'alert' }),
      h('button.primary', { type: 'submit' }, tr('save'))));
}

function caseFormSection() {
  return h('section.card#report', {},
    h('h2', {}, tr('report_case')),
    h('form#case-form', { onsubmit: reportCase, novalidate: true },
      h('div.row', {}, field('case-ben', 'beneficiary_id', { type: 'number', min: 1 }), field('case-nik', 'or_nik', { inputmode: 'numeric', maxlength: 16 })),
      h('div', {}, h('span', {}, tr('needs'))), checks('case-needs', meta.needs),
      field('case-desc', 'description', { rows: 3 }, 'textarea'),
      h('div#case-error.form-error', { role: 'alert' }),
      h('button.primary', { type: 'submit' }, tr('send'))));
}

function casesSection() {
  const statusOpts = [['', tr('all')], ...meta.statuses.map((o) => [o.value, getLang() === 'id' ? o.label_id : o.label])];
  return h('section.card.wide#cases', {},
    h('h2', {}, officer ? tr('cases') : tr('my_cases')),
    h('div.row', {}, select('case-status', 'status', statusOpts, { onchange: loadCases }),
      h('button', { type: 'button', onclick: loadCases }, tr('refresh'))),
    h('table#case-list', {},
      h('tr', {}, h('th', {}, '#'), h('th', {}, tr('name')), h('th', {}, tr('desa')), h('th', {}, tr('needs')), h('th', {}, tr('status')),
        h('th', {}, tr('reported')), h('th', {}, tr('overdue'))),
      ...cases.map((c) => {
        const od = overdue.get(c.id) || c.overdue;
        return h(`tr${od ? '.overdue' : ''}${selected === c.id ? '.sel' : ''}`, { dataset: { id: c.id, status: c.status }, onclick: () => openCase(c.id) },
          h('td', {}, c.id), h('td', {}, c.beneficiary_name), h('td', {}, c.desa),
          h('td', {}, c.needs.map((n) => label(meta.needs, n)).join(', ')),
          h('td', {}, h('span.pill', { dataset: { status: c.status } }, label(meta.statuses, c.status))),
          h('td', {}, wib(c.reported_at)),
          h('td', {}, od ? h('span.pill.late', {}, `${tr(`step_${od.step}`)} · ${tr('late_by')} ${Math.round(od.late_by_ms / 3600e3)} h`) : ''));
      })));
}

function detailSection() {
  if (!detail) return h('section.card.wide#detail', {}, h('h2', {}, tr('case')), h('p.muted', {}, tr('select_case')));
  const c = detail; const b = c.beneficiary;
  const st = c.status;
  const act = [];
  if (officer && st === 'reported') {
    act.push(h('button.primary#do-verify', { type: 'button', onclick: () => transition('verify', {}) }, tr('verify')),
      h('input#reject-reason', { placeholder: tr('reason') }),
      h('button.danger#do-reject', { type: 'button', onclick: () => { const r = val('reject-reason'); if (!r) return toast(tr('need_reason'), 'error'); transition('reject', { reason: r }); } }, tr('reject')));
  }
  if (officer && st === 'verified') act.push(h('button.primary#do-assist', { type: 'button', onclick: () => transition('assist', {}) }, tr('assist')));
  if (officer && st === 'in_assistance') {
    act.push(h('input#close-summary', { placeholder: tr('summary') }),
      h('button.primary#do-close', { type: 'button', onclick: () => { const r = val('close-summary'); if (!r) return toast(tr('need_summary'), 'error'); transition('close', { summary: r }); } }, tr('close')));
  }
  const canAct = officer && (st === 'verified' || st === 'in_assistance');
  return h('section.card.wide#detail', { dataset: { id: c.id, status: st } },
    h('h2', {}, `${tr('case')} #${c.id} · `, h('span.pill#detail-status', { dataset: { status: st } }, label(meta.statuses, st))),
    h('div', {}, h('b', {}, b.name), ` · NIK ${b.nik} · ${b.desa}, ${b.kecamatan} RT ${b.rt}/RW ${b.rw}${b.phone ? ' · ' + b.phone : ''}`),
    h('div', {}, `${tr('needs')}: ${c.needs.map((n) => label(meta.needs, n)).join(', ')}`),
    h('div.muted', {}, c.description),
    c.rejection_reason ? h('div', {}, `${tr('reason')}: ${c.rejection_reason}`) : null,
    c.closing_summary ? h('div', {}, `${tr('summary')}: ${c.closing_summary}`) : null,
    h('div.actions', {}, ...act),
    h('div#detail-error.form-error', { role: 'alert' }),
    h('h3', {}, tr('assistance')),
    h('table#assist-list', {}, h('tr', {}, h('th', {}, tr('date')), h('th', {}, tr('kind')), h('th.num', {}, tr('amount')), h('th', {}, tr('notes')), h('th', {}, tr('by'))),
      ...c.assistance.map((a) => h('tr', {}, h('td', {}, a.date), h('td', {}, label(meta.needs, a.kind)), h('td.num', {}, rp(a.amount_rp)), h('td', {}, a.notes), h('td', {}, a.officer)))),
    canAct ? h('form#assist-form.row', { onsubmit: addAssistance, novalidate: true },
      select('a-kind', 'kind', meta.needs.map((o) => [o.value, getLang() === 'id' ? o.label_id : o.label])),
      field('a-amount', 'amount', { type: 'number', min: 0, step: 1000 }), field('a-date', 'date', { type: 'date', value: todayWib() }),
      field('a-notes', 'notes'), h('button', { type: 'submit' }, tr('add_assistance'))) : null,
    h('h3', {}, tr('transport')),
    h('table#transport-list', {}, h('tr', {}, h('th', {}, 'ID'), h('th', {}, tr('scheduled')), h('th', {}, tr('pickup')), h('th', {}, tr('destination')), h('th', {}, tr('status')), h('th', {}, tr('unit')), h('th', {})),
      ...c.transports.map((x) => h('tr', { dataset: { tid: x.transport_id, state: x.state } }, h('td', {}, x.transport_id), h('td', {}, wib(x.scheduled_for)), h('td', {}, x.pickup?.address || ''),
        h('td', {}, x.destination.name), h('td', {}, tr(`ts_${x.state}`) === `ts_${x.state}` ? x.state : tr(`ts_${x.state}`)), h('td', {}, x.live?.unit_id || '—'),
        h('td', {}, officer && !x.cancelled_at ? [h('input', { placeholder: tr('reason'), 'data-cancel': x.transport_id, size: 12 }),
          h('button.small.danger', { type: 'button', onclick: () => cancelTransport(x.transport_id) }, tr('cancel'))] : (x.cancel_reason || ''))))),
    canAct ? transportForm(b) : null,
    h('h3', {}, tr('history')),
    h('ul.list#history', {}, ...c.history.map((e) => h('li', {}, `${wib(e.at)} · ${label(meta.actions, e.action)} · ${e.actor}${e.details?.reason ? ' · ' + e.details.reason : ''}${e.details?.note ? ' · ' + e.details.note : ''}`))));
}

// A pickup is placed by its desa/kelurahan (found by name, the list from
// /api/pattas/meta with each desa's centre) or, when the crew needs it, an
// exact point; nobody has to know a latitude.
const desaLabel = (d) => `${d.desa}, ${d.kecamatan}`;
function findDesa(text) {
  const t = (text || '').trim().toLowerCase();
  if (!t) return null;
  const exact = meta.desa.find((d) => desaLabel(d).toLowerCase() === t);
  if (exact) return exact;
  const byName = meta.desa.filter((d) => d.desa.toLowerCase() === t);
  return byName.length === 1 ? byName[0] : null;
}

function transportForm(b) {
  const hospitalOpts = [...HOSPITALS.map(([id, name]) => [id, name]), ['', tr('other')]];
  if (!keep.has('t-addr')) keep.set('t-addr', `RT ${b.rt}/RW ${b.rw} ${b.desa}`);
  if (!keep.has('t-desa')) { const d = findDesa(b.kecamatan ? `${b.desa}, ${b.kecamatan}` : b.desa); keep.set('t-desa', d ? desaLabel(d) : b.desa); }
  if (!keep.has('t-date')) keep.set('t-date', todayWib());
  return h('form#transport-form', { onsubmit: bookTransport, novalidate: true },
    h('div.row', {}, field('t-desa', 'pickup_desa', { list: 't-desa-list', autocomplete: 'off', size: 32 }), field('t-addr', 'address')),
    h('datalist#t-desa-list', {}, ...meta.desa.map((d) => h('option', { value: desaLabel(d) }))),
    h('details#t-point', { open: (keep.get('t-lat') || keep.get('t-lon')) ? true : null }, h('summary', {}, tr('exact_point')),
      h('div.row', {}, field('t-lat', 'lat', { type: 'number', step: 'any', min: -7.85, max: -7.05 }), field('t-lon', 'lon', { type: 'number', step: 'any', min: 108.7, max: 109.65 }))),
    h('div.row', {}, select('t-dest', 'destination', hospitalOpts, { onchange: () => render() })),
    (keep.get('t-dest') === '') ? h('div.row', {}, field('t-dname', 'dest_name'), field('t-dlat', 'lat', { type: 'number', step: 'any' }), field('t-dlon', 'lon', { type: 'number', step: 'any' })) : null,
    h('div.row', {}, field('t-date', 'date', { type: 'date' }), field('t-time', 'pickup_time', { inputmode: 'numeric', pattern: '([01][0-9]|2[0-3]):[0-5][0-9]', maxlength: 5, placeholder: '08:00', size: 5 }), field('t-purpose', 'purpose'), field('t-notes', 'notes')),
    h('div#transport-error.form-error', { role: 'alert' }),
    h('button.primary', { type: 'submit' }, tr('book')));
}

function reportSection() {
  const r = report;
  return h('section.card.wide#reports', {},
    h('h2', {}, tr('reports')),
    h('form#report-form.row', { onsubmit: (e) => { e.preventDefault(); loadReports(); } },
      field('r-from', 'from', { type: 'date' }), field('r-to', 'to', { type: 'date' }), h('button', { type: 'submit' }, tr('show'))),
    h('div#report-error.form-error', { role: 'alert' }),
    r ? h('div.mod', {},
      h('div', {}, h('h3', {}, `${tr('by_status')} (${tr('total')} ${r.cases.total}, ${tr('overdue')} ${r.cases.overdue})`),
        h('table#rep-status', {}, ...Object.entries(r.cases.by_status).map(([k, v]) => h('tr', {}, h('td', {}, label(meta.statuses, k)), h('td.num', {}, v))))),
      h('div', {}, h('h3', {}, tr('by_desa')),
        h('table#rep-desa', {}, h('tr', {}, h('th', {}, tr('desa')), h('th', {}, tr('kecamatan')), h('th.num', {}, tr('total'))),
          ...r.cases.by_desa.map((d) => h('tr', {}, h('td', {}, d.desa), h('td', {}, d.kecamatan), h('td.num', {}, d.total))))),
      h('div', {}, h('h3', {}, `${tr('by_kind')} (${rp(r.assist.total.amount_rp)})`),
        h('table#rep-kind', {}, h('tr', {}, h('th', {}, tr('kind')), h('th.num', {}, tr('count')), h('th.num', {}, tr('amount'))),
          ...Object.entries(r.assist.by_kind).map(([k, v]) => h('tr', {}, h('td', {}, label(meta.needs, k)), h('td.num', {}, v.count), h('td.num', {}, rp(v.amount_rp)))))),
      h('div', {}, h('h3', {}, tr('by_month')),
        h('table#rep-month', {}, h('tr', {}, h('th', {}, tr('month')), h('th', {}, tr('kind')), h('th.num', {}, tr('count')), h('th.num', {}, tr('amount'))),
          ...r.assist.by_month.map((m) => h('tr', {}, h('td', {}, m.month), h('td', {}, label(meta.needs, m.kind)), h('td.num', {}, m.count), h('td.num', {}, rp(m.amount_rp))))))) : null);
}

function render() {
  const title = $('.bar .title');
  if (title) { title.removeAttribute('data-i18n'); title.textContent = tr('title'); }
  document.title = `${tr('title')} — Satria`;
  fill($('#app'), beneficiarySection(), caseFormSection(), casesSection(), detailSection(), officer ? reportSection() : null);
}
onLang(render);

// ------------------------------------------------------------------ actions

async function searchBens() {
  keep.set('ben-q', $('#ben-q').value);
  const q = $('#ben-q').value.trim();
  try { bens = await api(`/api/pattas/beneficiaries?limit=50${q ? '&q=' + encodeURIComponent(q) : ''}`); render(); } catch (e) { toast(e.message, 'error'); }
}

async function registerBen(e) {
  e.preventDefault(); clearErr('ben-error');
  const body = {
    nik: val('b-nik'), name: val('b-name'), date_of_birth: val('b-dob'), sex: val('b-sex'), desa: val('b-desa'),
    rt: val('b-rt'), rw: val('b-rw'), dtks: $('#b-dtks').checked, bpjs: val('b-bpjs'),
    conditions: val('b-cond').split(',').map((x) => x.trim()).filter(Boolean),
  };
  if (val('b-kec')) body.kecamatan = val('b-kec');
  if (val('b-phone')) body.phone = val('b-phone');
  try {
    const b = await api('/api/pattas/beneficiaries', { method: 'POST', body });
    toast(`${tr('registered')}: ${b.name} (ID ${b.id})`);
    for (const k of [...keep.keys()]) if (k.startsWith('b-')) keep.delete(k);
    keep.set('case-ben', String(b.id)); keep.set('ben-q', b.nik);
    bens = [b]; render();
  } catch (err) { fail('ben-error', err); }
}

async function reportCase(e) {
  e.preventDefault(); clearErr('case-error');
  const needs = checked('case-needs');
  if (!needs.length) { fail('case-error', tr('need_needs')); return; }
  const body = { needs, description: val('case-desc'), reported_via: 'web' };
  if (val('case-ben')) body.beneficiary_id = Number(val('case-ben'));
  else if (val('case-nik')) body.nik = val('case-nik');
  try {
    const c = await api('/api/pattas/cases', { method: 'POST', body });
    toast(`${tr('case_reported')}: #${c.id}`);
    for (const k of [...keep.keys()]) if (k.startsWith('case-') && k !== 'case-status') keep.delete(k);
    await loadCases(); await openCase(c.id);
    if (officer) loadReports();
  } catch (err) { fail('case-error', err); }
}

async function loadCases() {
  const st = $('#case-status')?.value || keep.get('case-status') || '';
  try {
    cases = await api(`/api/pattas/cases?limit=200${st ? '&status=' + st : ''}`);
    const od = await api('/api/pattas/cases/overdue');
    overdue = new Map(od.cases.map((c) => [c.id, c.overdue]));
    render();
  } catch (e) { toast(e.message, 'error'); }
}

async function openCase(id) {
  selected = id;
  try { detail = await api(`/api/pattas/cases/${id}`); render(); } catch (e) { toast(e.message, 'error'); }
}

async function transition(action, body) {
  clearErr('detail-error');
  try {
    await api(`/api/pattas/cases/${detail.id}/${action}`, { method: 'POST', body });
    toast(tr('saved'));
    await loadCases(); await openCase(detail.id);
    if (officer) loadReports();
  } catch (e) { fail('detail-error', e); }
}

async function addAssistance(e) {
  e.preventDefault(); clearErr('detail-error');
  const body = { kind: val('a-kind'), amount_rp: Math.round(Number(val('a-amount') || 0)), date: val('a-date') };
  if (val('a-notes')) body.notes = val('a-notes');
  try {
    await api(`/api/pattas/cases/${detail.id}/assistance`, { method: 'POST', body });
    toast(tr('saved')); ['a-amount', 'a-notes'].forEach((k) => keep.delete(k));
    await loadCases(); await openCase(detail.id);
    loadReports();
  } catch (err) { fail('detail-error', err); }
}

async function bookTransport(e) {
  e.preventDefault(); clearErr('transport-error');
  const hid = val('t-dest');
  const hosp = HOSPITALS.find((x) => x[0] === hid);
  const destination = hosp ? { hospital_id: hosp[0], name: hosp[1], lat: hosp[2], lon: hosp[3] }
    : { name: val('t-dname'), lat: Number(val('t-dlat')), lon: Number(val('t-dlon')) };
  // No offset: the server reads the time as WIB (24 h, typed as HH:MM).
  const desa = findDesa(val('t-desa'));
  const exact = val('t-lat') !== '' && val('t-lon') !== '';
  if (!desa && !exact) { fail('transport-error', new Error(tr('pick_desa'))); return; }
  const at = exact ? { lat: Number(val('t-lat')), lon: Number(val('t-lon')) } : { lat: desa.lat, lon: desa.lon };
  // The crew reads the address: it names the desa when the typed one does not.
  const address = desa && !val('t-addr').toLowerCase().includes(desa.desa.toLowerCase())
    ? `${val('t-addr')}, ${desaLabel(desa)}`.replace(/^, /, '') : val('t-addr');
  const body = {
    pickup: { ...at, address },
    destination, scheduled_for: `${val('t-date')}T${val('t-time')}`, purpose: val('t-purpose'),
  };
  if (val('t-notes')) body.notes = val('t-notes');
  try {
    const x = await api(`/api/pattas/cases/${detail.id}/transports`, { method: 'POST', body });
    toast(`${tr('saved')}: ${x.transport_id}`);
    ['t-time', 't-purpose', 't-notes', 't-lat', 't-lon'].forEach((k) => keep.delete(k));
    await openCase(detail.id);
  } catch (err) { fail('transport-error', err); }
}

async function cancelTransport(tid) {
  const reason = document.querySelector(`[data-cancel="${CSS.escape(tid)}"]`)?.value.trim();
  if (!reason) { toast(tr('need_reason'), 'error'); return; }
  try {
    await api(`/api/pattas/cases/${detail.id}/transports/${encodeURIComponent(tid)}/cancel`, { method: 'POST', body: { reason } });
    toast(tr('saved')); await openCase(detail.id);
  } catch (e) { fail('detail-error', e); }
}

async function loadReports() {
  clearErr('report-error');
  const qs = new URLSearchParams();
  if (val('r-from')) qs.set('from', val('r-from'));
  if (val('r-to')) qs.set('to', val('r-to'));
  try {
    const [c, a] = await Promise.all([api(`/api/pattas/reports/cases?${qs}`), api(`/api/pattas/reports/assistance?${qs}`)]);
    report = { cases: c, assist: a }; render();
  } catch (e) { fail('report-error', e); }
}

// ------------------------------------------------------------------ start

render();
try { meta = await api('/api/pattas/meta'); } catch (e) { toast(e.message, 'error'); }
render();
await loadCases();
if (officer) await loadReports();
// The live status of booked transports comes with the case view: refresh it,
// but not while the officer is typing (a re-render would drop the caret).
setInterval(() => { if (detail && detail.transports.some((x) => !x.cancelled_at) && !document.activeElement?.closest('input, select, textarea')) openCase(detail.id); }, 15000);
window.satriaPattasReady = true;
