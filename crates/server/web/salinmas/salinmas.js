// Salinmas console (issue 6): a household requests pickups and sees its
// balance; a collector group (KSM) accepts, collects or rejects the pickups of
// its kelurahan and follows the day's route; an officer keeps prices, accounts,
// collectors and payouts and reads the weight report. Bahasa Indonesia by
// default, English on the shared toggle; the strings live here.
import { t, getLang, onLang, requireRole, header, api, $, h, fill, toast, clock, dateWib, dur } from '/app.js';

const L = {
  id: {
    title: 'Salinmas — Bank Sampah', request: 'Minta penjemputan', lat: 'Lintang', lon: 'Bujur', address: 'Alamat',
    categories: 'Jenis sampah', est_kg: 'Perkiraan (kg)', date: 'Tanggal', from_time: 'Mulai (WIB)', to_time: 'Sampai (WIB)',
    notes: 'Catatan', send: 'Kirim', my_pickups: 'Penjemputan saya', window: 'Waktu (WIB)', status: 'Status', cancel: 'Batalkan',
    reason: 'Alasan', balance: 'Saldo', ledger: 'Mutasi saldo', amount: 'Jumlah', kind: 'Jenis', at: 'Waktu',
    open_pickups: 'Permintaan terbuka', accept: 'Terima', accepted: 'Jadwal saya', collect: 'Catat timbangan', reject: 'Tolak',
    weights: 'Berat (kg) per jenis', route: 'Rute penjemputan per hari', to_date: 'Sampai', from_date: 'Dari', show: 'Tampilkan', eta: 'ETA', drive: 'perjalanan', total: 'Total',
    prices: 'Harga per kg', category: 'Jenis', price: 'Harga/kg (Rp)', valid_from: 'Berlaku mulai', save: 'Simpan', history: 'Riwayat',
    accounts: 'Rekening warga', new_account: 'Rekening baru', name: 'Nama', kelurahan: 'Kelurahan', rt: 'RT', rw: 'RW', phone: 'Telepon',
    members: 'Jumlah anggota', household: 'rumah tangga', dasawisma: 'dasawisma', collectors: 'Kelompok pengumpul (KSM)',
    new_collector: 'KSM baru', kelurahan_list: 'Kelurahan layanan (pisahkan dengan koma)', payouts: 'Pencairan saldo', account: 'Rekening',
    method: 'Cara', reference: 'Referensi', pay: 'Cairkan', report: 'Laporan timbangan', week: 'Minggu', kg: 'kg',
    active_accounts: 'Rekening aktif', credits: 'Kredit', none: 'tidak ada', saved: 'Tersimpan', need_reason: 'Isi alasan dulu',
    need_cat: 'Pilih minimal satu jenis', need_weight: 'Isi minimal satu berat', requested_ok: 'Permintaan terkirim', credit: 'Kredit',
    collected_pickups: 'Penjemputan selesai', no_route: 'Tidak ada penjemputan pada tanggal ini', start: 'dari awal',
    cat_organic: 'organik', cat_compost: 'kompos', cat_plastic: 'plastik', cat_paper: 'kertas', cat_metal: 'logam', cat_glass: 'kaca', cat_residue: 'residu',
    ps_requested: 'diminta', ps_accepted: 'diterima', ps_collected: 'dijemput', ps_cancelled: 'dibatalkan', ps_rejected: 'ditolak',
    pm_cash: 'tunai', pm_bank_transfer: 'transfer bank', pm_e_wallet: 'dompet digital',
    lk_credit: 'kredit', lk_payout: 'pencairan',
  },
  en: {
    title: 'Salinmas — Waste bank', request: 'Request a pickup', lat: 'Latitude', lon: 'Longitude', address: 'Address',
    categories: 'Waste categories', est_kg: 'Estimate (kg)', date: 'Date', from_time: 'From (WIB)', to_time: 'To (WIB)',
    notes: 'Notes', send: 'Send', my_pickups: 'My pickups', window: 'Window (WIB)', status: 'Status', cancel: 'Cancel',
    reason: 'Reason', balance: 'Balance', ledger: 'Ledger', amount: 'Amount', kind: 'Kind', at: 'Time',
    open_pickups: 'Open requests', accept: 'Accept', accepted: 'My schedule', collect: 'Record weights', reject: 'Reject',
    weights: 'Weight (kg) per category', route: "Pickup route of the day", to_date: 'To', from_date: 'From', show: 'Show', eta: 'ETA', drive: 'drive', total: 'Total',
    prices: 'Prices per kg', category: 'Category', price: 'Price/kg (Rp)', valid_from: 'Valid from', save: 'Save', history: 'History',
    accounts: 'Accounts', new_account: 'New account', name: 'Name', kelurahan: 'Kelurahan', rt: 'RT', rw: 'RW', phone: 'Phone',
    members: 'Members', household: 'household', dasawisma: 'dasawisma', collectors: 'Collector groups (KSM)',
    new_collector: 'New KSM', kelurahan_list: 'Kelurahan served (comma separated)', payouts: 'Payouts', account: 'Account',
    method: 'Method', reference: 'Reference', pay: 'Pay out', report: 'Weight report', week: 'Week', kg: 'kg',
    active_accounts: 'Active accounts', credits: 'Credits', none: 'none', saved: 'Saved', need_reason: 'Enter a reason first',
    need_cat: 'Pick at least one category', need_weight: 'Enter at least one weight', requested_ok: 'Request sent', credit: 'Credit',
    collected_pickups: 'Collected pickups', no_route: 'No pickups on this date', start: 'from start',
    cat_organic: 'organic', cat_compost: 'compost', cat_plastic: 'plastic', cat_paper: 'paper', cat_metal: 'metal', cat_glass: 'glass', cat_residue: 'residue',
    ps_requested: 'requested', ps_accepted: 'accepted', ps_collected: 'collected', ps_cancelled: 'cancelled', ps_rejected: 'rejected',
    pm_cash: 'cash', pm_bank_transfer: 'bank transfer', pm_e_wallet: 'e-wallet',
    lk_credit: 'credit', lk_payout: 'payout',
  },
};
const tr = (k) => L[getLang()][k] ?? L.id[k] ?? t(k);
const CATEGORIES = ['organic', 'compost', 'plastic', 'paper', 'metal', 'glass', 'residue'];
const METHODS = ['cash', 'bank_transfer', 'e_wallet'];

const s = requireRole(['salinmas_officer', 'salinmas_household', 'salinmas_collector', 'admin']);
const role = s.user.role === 'admin' ? 'salinmas_officer' : s.user.role;
const subject = s.user.subject;
header('salinmas_title', s);
// These pages use the REST API only: no live connection to show.
$('#conn')?.remove();
document.body.dataset.role = role;

const rp = (n) => `Rp ${new Intl.NumberFormat('id-ID').format(n ?? 0)}`;
const kgf = (n) => `${new Intl.NumberFormat('id-ID', { maximumFractionDigits: 3 }).format(n ?? 0)} kg`;
// Instants arrive as RFC 3339 strings in UTC (`2026-03-02T01:00:00.000Z`); shown in WIB.
const wib = (t) => (t == null ? '—' : `${dateWib(t)} ${clock(t).slice(0, 5)}`);
const dayWib = (plus = 0) => new Date(Date.now() + 7 * 3600e3 + plus * 86400e3).toISOString().slice(0, 10);
/** `YYYY-MM-DD` in WIB of an RFC 3339 instant (the form of a date input). */
const ymdWib = (t) => new Date(Date.parse(t) + 7 * 3600e3).toISOString().slice(0, 10);
const hm = (t) => clock(t).slice(0, 5);
const win = (p) => `${ymdWib(p.window_start)} ${hm(p.window_start)}–${ymdWib(p.window_end) === ymdWib(p.window_start) ? '' : ymdWib(p.window_end) + ' '}${hm(p.window_end)}`;
const cat = (c) => tr(`cat_${c}`);
const val = (id) => ($(`#${id}`)?.value ?? '').trim();

const keep = new Map();
// Times as text HH:MM: a time input would show AM/PM in an English browser; WIB is 24 h.
const HHMM = { inputmode: 'numeric', pattern: '([01][0-9]|2[0-3]):[0-5][0-9]', maxlength: 5, placeholder: '08:00', size: 5 };
function input(id, key, attrs = {}, kind = 'input') {
  const el = h(kind, { id, name: id, ...attrs });
  if (keep.has(id)) { if (attrs.type === 'checkbox') el.checked = keep.get(id); else el.value = keep.get(id); }
  const save = () => keep.set(id, attrs.type === 'checkbox' ? el.checked : el.value);
  el.addEventListener('input', save); el.addEventListener('change', save);
  return h('label', {}, h('span', {}, tr(key)), el);
}
function select(id, key, options, { onchange, ...attrs } = {}) {
  const el = h('select', { id, name: id, ...attrs }, ...options.map(([v, text]) => h('option', { value: v }, text)));
  if (keep.has(id)) el.value = keep.get(id);
  el.addEventListener('change', () => { keep.set(id, el.value); onchange?.(); });
  return h('label', {}, h('span', {}, tr(key)), el);
}
function catChecks(id, list = CATEGORIES) {
  return h('div.checks', { id }, ...list.map((c) => {
    const key = `${id}-${c}`;
    const box = h('input', { type: 'checkbox', value: c, id: key, checked: keep.get(key) || null });
    box.addEventListener('change', () => keep.set(key, box.checked));
    return h('label', {}, box, cat(c));
  }));
}
const checkedIn = (id) => [...document.querySelectorAll(`#${id} input:checked`)].map((b) => b.value);
function fail(errId, e) { const m = e?.message || String(e); const el = $(`#${errId}`); if (el) el.textContent = m; toast(m, 'error'); }
function clearErr(errId) { const el = $(`#${errId}`); if (el) el.textContent = ''; }
const statusPill = (st) => h('span.pill', { dataset: { status: st } }, tr(`ps_${st}`));

const data = { account: null, pickups: [], ledger: null, prices: null, collector: null, open: [], mine: [], route: null, accounts: [], collectors: [], kelurahan: [], report: null };

// ------------------------------------------------------------------ household

function householdView() {
  const a = data.account;
  if (a && !keep.has('p-lat')) { keep.set('p-lat', String(a.lat)); keep.set('p-lon', String(a.lon)); keep.set('p-addr', a.address); }
  if (!keep.has('p-date')) { keep.set('p-date', dayWib(1)); keep.set('p-start', '08:00'); keep.set('p-end', '11:00'); }
  const led = data.ledger;
  return [
    h('section.card#request', {},
      h('h2', {}, tr('request')),
      a ? h('div.muted', {}, `${a.name} · ${a.kelurahan} RT ${a.rt}/RW ${a.rw}`) : null,
      h('form#pickup-form', { onsubmit: requestPickup, novalidate: true },
        h('div.row', {}, input('p-lat', 'lat', { type: 'number', step: 'any' }), input('p-lon', 'lon', { type: 'number', step: 'any' })),
        input('p-addr', 'address'),
        h('div', {}, tr('categories')), catChecks('p-cats'),
        h('div.row', {}, input('p-kg', 'est_kg', { type: 'number', step: '0.1', min: 0 }), input('p-date', 'date', { type: 'date' }),
          input('p-start', 'from_time', HHMM), input('p-end', 'to_time', HHMM)),
        input('p-notes', 'notes'),
        h('div#pickup-error.form-error', { role: 'alert' }),
        h('button.primary', { type: 'submit' }, tr('send')))),
    h('section.card#balance', {},
      h('h2', {}, tr('balance')),
      h('div.big#balance-rp', {}, rp(led?.balance_rp)),
      h('h3', {}, tr('ledger')),
      h('table#ledger', {}, h('tr', {}, h('th', {}, tr('at')), h('th', {}, tr('kind')), h('th.num', {}, tr('amount')), h('th.num', {}, tr('balance'))),
        ...(led?.entries || []).map((e) => h('tr', {}, h('td', {}, wib(e.at)), h('td', {}, tr(`lk_${e.kind}`) === `lk_${e.kind}` ? e.kind : tr(`lk_${e.kind}`)),
          h('td.num', {}, rp(e.amount_rp)), h('td.num', {}, rp(e.balance_rp))))),
      pricesTable(false)),
    h('section.card.wide#my-pickups', {},
      h('h2', {}, tr('my_pickups')),
      h('table#pickup-list', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, tr('window')), h('th', {}, tr('categories')), h('th.num', {}, tr('est_kg')),
        h('th', {}, tr('status')), h('th.num', {}, tr('credit')), h('th', {})),
        ...data.pickups.map((p) => h('tr', { dataset: { id: p.id, status: p.status } }, h('td', {}, p.id), h('td', {}, win(p)),
          h('td', {}, p.categories.map(cat).join(', ')), h('td.num', {}, kgf(p.estimated_kg)), h('td', {}, statusPill(p.status), p.reason ? ` ${p.reason}` : ''),
          h('td.num', {}, p.credit_rp != null ? rp(p.credit_rp) : '—'),
          h('td', {}, ['requested', 'accepted'].includes(p.status) ? [h('input', { placeholder: tr('reason'), 'data-reason': p.id, size: 12 }),
            h('button.small.danger', { type: 'button', onclick: () => closePickup(p.id, 'cancel') }, tr('cancel'))] : ''))))),
  ];
}

async function requestPickup(e) {
  e.preventDefault(); clearErr('pickup-error');
  const categories = checkedIn('p-cats');
  if (!categories.length) { fail('pickup-error', tr('need_cat')); return; }
  const d = val('p-date');
  const body = {
    lat: Number(val('p-lat')), lon: Number(val('p-lon')), address: val('p-addr'), categories,
    estimated_kg: Number(val('p-kg')), window_start: `${d}T${val('p-start')}`, window_end: `${d}T${val('p-end')}`,
  };
  if (val('p-notes')) body.notes = val('p-notes');
  try {
    const p = await api('/api/salinmas/pickups', { method: 'POST', body });
    toast(`${tr('requested_ok')}: #${p.id}`);
    CATEGORIES.forEach((c) => keep.delete(`p-cats-${c}`)); keep.delete('p-kg'); keep.delete('p-notes');
    await load();
  } catch (err) { fail('pickup-error', err); }
}

async function closePickup(id, action) {
  const reason = document.querySelector(`[data-reason="${id}"]`)?.value.trim();
  if (!reason) { toast(tr('need_reason'), 'error'); return; }
  try { await api(`/api/salinmas/pickups/${id}/${action}`, { method: 'POST', body: { reason } }); toast(tr('saved')); await load(); } catch (e) { toast(e.message, 'error'); }
}

// ------------------------------------------------------------------ collector

function collectorView() {
  if (!keep.has('r-date')) keep.set('r-date', dayWib(0));
  const r = data.route;
  return [
    h('section.card.wide#open', {},
      h('h2', {}, `${tr('open_pickups')}${data.collector ? ' · ' + data.collector.kelurahan.join(', ') : ''}`),
      h('table#open-list', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, tr('kelurahan')), h('th', {}, tr('address')), h('th', {}, tr('window')),
        h('th', {}, tr('categories')), h('th.num', {}, tr('est_kg')), h('th', {})),
        ...data.open.map((p) => h('tr', { dataset: { id: p.id } }, h('td', {}, p.id), h('td', {}, p.kelurahan), h('td', {}, p.address), h('td', {}, win(p)),
          h('td', {}, p.categories.map(cat).join(', ')), h('td.num', {}, kgf(p.estimated_kg)),
          h('td', {}, h('input', { type: 'date', 'data-accept-date': p.id, value: ymdWib(p.window_start) }),
            h('button.small.primary', { type: 'button', 'data-accept': p.id, onclick: () => acceptPickup(p.id) }, tr('accept')),
            h('input', { placeholder: tr('reason'), 'data-reason': p.id, size: 10 }),
            h('button.small.danger', { type: 'button', onclick: () => closePickup(p.id, 'reject') }, tr('reject'))))))),
    h('section.card.wide#mine', {},
      h('h2', {}, tr('accepted')),
      h('div#collect-error.form-error', { role: 'alert' }),
      ...(data.mine.length ? data.mine.map((p) => h('div.card', { dataset: { id: p.id } },
        h('b', {}, `#${p.id} · ${p.date} · ${p.address}`), h('span.muted', {}, ` ${win(p)} · ${kgf(p.estimated_kg)}`),
        h('div.row', {}, h('span', {}, tr('weights')), ...p.categories.map((c) => h('label', {}, h('span', {}, cat(c)),
          h('input', { type: 'number', step: '0.1', min: 0, size: 6, 'data-weight': `${p.id}:${c}` })))),
        h('div.actions', {},
          h('button.primary', { type: 'button', 'data-collect': p.id, onclick: () => collectPickup(p) }, tr('collect')),
          h('input', { placeholder: tr('reason'), 'data-reason': p.id, size: 14 }),
          h('button.danger', { type: 'button', onclick: () => closePickup(p.id, 'reject') }, tr('reject'))))) : [h('p.muted', {}, tr('none'))])),
    h('section.card.wide#route', {},
      h('h2', {}, tr('route')),
      h('form.row#route-form', { onsubmit: (e) => { e.preventDefault(); loadRoute(); } }, input('r-date', 'date', { type: 'date' }), h('button', { type: 'submit' }, tr('show'))),
      r && r.stops.length ? h('ol.route#route-list', {}, ...r.stops.map((st) => h('li', { dataset: { pickup: st.pickup_id } },
        h('b', {}, `#${st.pickup_id} ${st.address}`), ` · ${hm(st.window_start)}–${hm(st.window_end)} WIB · ${tr('eta')} +${dur(st.eta_s)} (${tr('drive')} ${dur(st.drive_s)})`))) :
        h('p.muted#route-empty', {}, tr('no_route')),
      r && r.stops.length ? h('div.muted', {}, `${tr('total')}: ${dur(r.total_s)} (${tr('drive')} ${dur(r.total_drive_s)})`) : null),
  ];
}

async function acceptPickup(id) {
  const d = document.querySelector(`[data-accept-date="${id}"]`)?.value;
  try {
    await api(`/api/salinmas/pickups/${id}/accept`, { method: 'POST', body: d ? { scheduled_date: d } : {} });
    toast(tr('saved'));
    if (d) keep.set('r-date', d);
    await load();
  } catch (e) { toast(e.message, 'error'); }
}

async function collectPickup(p) {
  clearErr('collect-error');
  const weights = p.categories.map((c) => ({ category: c, kg: Number(document.querySelector(`[data-weight="${p.id}:${c}"]`)?.value || 0) })).filter((w) => w.kg > 0);
  if (!weights.length) { fail('collect-error', tr('need_weight')); return; }
  try {
    const r = await api(`/api/salinmas/pickups/${p.id}/collect`, { method: 'POST', body: { weights } });
    toast(`${tr('saved')}: ${rp(r.credit_rp ?? r.pickup?.credit_rp)}`); await load();
  } catch (e) { fail('collect-error', e); }
}

async function loadRoute() {
  const d = val('r-date') || keep.get('r-date');
  try { data.route = await api(`/api/salinmas/routes/${subject}?date=${d}`); render(); } catch (e) { toast(e.message, 'error'); }
}

// ------------------------------------------------------------------ officer

function pricesTable(editable) {
  const p = data.prices;
  return h('div#prices', {},
    h('h3', {}, `${tr('prices')}${p ? ' · ' + p.date : ''}`),
    h('table#price-list', {}, h('tr', {}, h('th', {}, tr('category')), h('th.num', {}, tr('price')), h('th', {}, tr('valid_from'))),
      ...(p?.current || []).map((x) => h('tr', { dataset: { category: x.category } }, h('td', {}, cat(x.category)), h('td.num', {}, rp(x.price_per_kg_rp)), h('td', {}, x.valid_from)))),
    editable ? h('form.row#price-form', { onsubmit: setPrice, novalidate: true },
      select('pr-cat', 'category', CATEGORIES.map((c) => [c, cat(c)])), input('pr-price', 'price', { type: 'number', min: 0 }),
      input('pr-from', 'valid_from', { type: 'date' }), h('button.primary', { type: 'submit' }, tr('save'))) : null,
    editable ? h('div#price-error.form-error', { role: 'alert' }) : null,
    editable && p?.history?.length ? h('details', {}, h('summary', {}, tr('history')),
      h('table', {}, ...p.history.map((x) => h('tr', {}, h('td', {}, cat(x.category)), h('td.num', {}, rp(x.price_per_kg_rp)), h('td', {}, x.valid_from), h('td', {}, x.set_by))))) : null);
}

function officerView() {
  if (!keep.has('pr-from')) keep.set('pr-from', dayWib(1));
  if (!keep.has('w-from')) { keep.set('w-from', dayWib(-30)); keep.set('w-to', dayWib(0)); }
  const kel = data.kelurahan.map((k) => [k.name, `${k.name} (${k.kecamatan})`]);
  const rep = data.report;
  return [
    h('section.card#officer-prices', {}, h('h2', {}, tr('prices')), pricesTable(true)),
    h('section.card#payouts', {},
      h('h2', {}, tr('payouts')),
      h('form#payout-form', { onsubmit: payout, novalidate: true },
        h('div.row', {}, select('po-acc', 'account', [['', '—'], ...data.accounts.map((a) => [String(a.id), `#${a.id} ${a.name}`])], { onchange: showLedger }),
          input('po-amount', 'amount', { type: 'number', min: 1 }), select('po-method', 'method', METHODS.map((m) => [m, tr(`pm_${m}`)])),
          input('po-ref', 'reference')),
        h('div#payout-error.form-error', { role: 'alert' }),
        h('button.primary', { type: 'submit' }, tr('pay'))),
      data.ledger ? h('div', {}, `${tr('balance')} #${data.ledger.account_id}: `, h('b#payout-balance', {}, rp(data.ledger.balance_rp))) : null),
    h('section.card#accounts', {},
      h('h2', {}, tr('accounts')),
      h('table#account-list', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, tr('name')), h('th', {}, tr('kelurahan')), h('th', {}, tr('address')), h('th', {}, tr('phone'))),
        ...data.accounts.map((a) => h('tr', { dataset: { id: a.id } }, h('td', {}, a.id), h('td', {}, `${a.name} (${tr(a.kind)})`), h('td', {}, `${a.kelurahan} ${a.rt}/${a.rw}`), h('td', {}, a.address), h('td', {}, a.phone)))),
      h('h3', {}, tr('new_account')),
      h('form#account-form', { onsubmit: createAccount, novalidate: true },
        h('div.row', {}, select('ac-kind', 'kind', [['household', tr('household')], ['dasawisma', tr('dasawisma')]]), input('ac-name', 'name'),
          select('ac-kel', 'kelurahan', kel)),
        h('div.row', {}, input('ac-rt', 'rt', { size: 3 }), input('ac-rw', 'rw', { size: 3 }), input('ac-addr', 'address'), input('ac-phone', 'phone', { type: 'tel' })),
        h('div.row', {}, input('ac-lat', 'lat', { type: 'number', step: 'any' }), input('ac-lon', 'lon', { type: 'number', step: 'any' }), input('ac-members', 'members', { type: 'number', min: 1 })),
        h('div#account-error.form-error', { role: 'alert' }),
        h('button.primary', { type: 'submit' }, tr('save')))),
    h('section.card#collectors', {},
      h('h2', {}, tr('collectors')),
      h('table#collector-list', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, tr('name')), h('th', {}, tr('kelurahan')), h('th', {}, tr('phone'))),
        ...data.collectors.map((c) => h('tr', { dataset: { id: c.id } }, h('td', {}, c.id), h('td', {}, c.name), h('td', {}, c.kelurahan.join(', ')), h('td', {}, c.phone)))),
      h('h3', {}, tr('new_collector')),
      h('form#collector-form', { onsubmit: createCollector, novalidate: true },
        h('div.row', {}, input('co-name', 'name'), input('co-kel', 'kelurahan_list'), input('co-phone', 'phone', { type: 'tel' })),
        h('div#collector-error.form-error', { role: 'alert' }),
        h('button.primary', { type: 'submit' }, tr('save')))),
    h('section.card.wide#weights', {},
      h('h2', {}, tr('report')),
      h('form.row#report-form', { onsubmit: (e) => { e.preventDefault(); loadReport(); } },
        input('w-from', 'from_date', { type: 'date' }), input('w-to', 'to_date', { type: 'date' }), h('button', { type: 'submit' }, tr('show'))),
      h('div#report-error.form-error', { role: 'alert' }),
      rep ? h('div', {},
        h('div', {}, `${tr('active_accounts')}: ${rep.active_accounts}`),
        h('table#report-weights', {}, h('tr', {}, h('th', {}, tr('week')), h('th', {}, tr('kelurahan')), h('th', {}, tr('category')), h('th.num', {}, tr('kg'))),
          ...rep.weights.map((w) => h('tr', {}, h('td', {}, w.week), h('td', {}, w.kelurahan), h('td', {}, cat(w.category)), h('td.num', {}, kgf(w.kg))))),
        h('table#report-kelurahan', {}, h('tr', {}, h('th', {}, tr('kelurahan')), h('th.num', {}, tr('active_accounts')), h('th.num', {}, tr('collected_pickups')), h('th.num', {}, tr('credits'))),
          ...rep.kelurahan.map((k) => h('tr', {}, h('td', {}, k.kelurahan), h('td.num', {}, k.active_accounts), h('td.num', {}, k.collected_pickups), h('td.num', {}, rp(k.credits_earned_rp)))))) : null),
  ];
}

async function setPrice(e) {
  e.preventDefault(); clearErr('price-error');
  try {
    await api('/api/salinmas/prices', { method: 'POST', body: { category: val('pr-cat'), price_per_kg_rp: Math.round(Number(val('pr-price'))), valid_from: val('pr-from') } });
    toast(tr('saved')); keep.delete('pr-price'); await load();
  } catch (err) { fail('price-error', err); }
}

async function createAccount(e) {
  e.preventDefault(); clearErr('account-error');
  const body = { kind: val('ac-kind'), name: val('ac-name'), kelurahan: val('ac-kel'), rt: val('ac-rt'), rw: val('ac-rw'), address: val('ac-addr'),
    lat: Number(val('ac-lat')), lon: Number(val('ac-lon')), phone: val('ac-phone') };
  if (val('ac-members')) body.members = Number(val('ac-members'));
  try {
    const a = await api('/api/salinmas/accounts', { method: 'POST', body });
    toast(`${tr('saved')}: #${a.id}`);
    for (const k of [...keep.keys()]) if (k.startsWith('ac-')) keep.delete(k);
    await load();
  } catch (err) { fail('account-error', err); }
}

async function createCollector(e) {
  e.preventDefault(); clearErr('collector-error');
  const body = { name: val('co-name'), kelurahan: val('co-kel').split(',').map((x) => x.trim()).filter(Boolean), phone: val('co-phone') };
  try {
    const c = await api('/api/salinmas/collectors', { method: 'POST', body });
    toast(`${tr('saved')}: #${c.id}`);
    for (const k of [...keep.keys()]) if (k.startsWith('co-')) keep.delete(k);
    await load();
  } catch (err) { fail('collector-error', err); }
}

async function showLedger() {
  const id = val('po-acc');
  try { data.ledger = id ? await api(`/api/salinmas/accounts/${id}/ledger`) : null; render(); } catch (e) { toast(e.message, 'error'); }
}

async function payout(e) {
  e.preventDefault(); clearErr('payout-error');
  const id = val('po-acc');
  if (!id) { fail('payout-error', tr('account')); return; }
  const body = { amount_rp: Math.round(Number(val('po-amount'))), method: val('po-method') };
  if (val('po-ref')) body.reference = val('po-ref');
  try {
    await api(`/api/salinmas/accounts/${id}/payouts`, { method: 'POST', body });
    toast(tr('saved')); keep.delete('po-amount'); keep.delete('po-ref');
    data.ledger = await api(`/api/salinmas/accounts/${id}/ledger`); render();
  } catch (err) { fail('payout-error', err); }
}

async function loadReport() {
  clearErr('report-error');
  try { data.report = await api(`/api/salinmas/reports/weights?from=${val('w-from')}&to=${val('w-to')}`); render(); } catch (e) { fail('report-error', e); }
}

// ------------------------------------------------------------------ page

function render() {
  const title = $('.bar .title');
  if (title) { title.removeAttribute('data-i18n'); title.textContent = tr('title'); }
  document.title = `${tr('title')} — Satria`;
  const view = role === 'salinmas_household' ? householdView() : role === 'salinmas_collector' ? collectorView() : officerView();
  fill($('#app'), ...view);
}
onLang(render);

async function load() {
  try {
    if (role === 'salinmas_household') {
      const [a, p, l, pr] = await Promise.all([api(`/api/salinmas/accounts/${subject}`), api('/api/salinmas/pickups'),
        api(`/api/salinmas/accounts/${subject}/ledger`), api('/api/salinmas/prices')]);
      Object.assign(data, { account: a.account || a, pickups: p, ledger: l, prices: pr });
    } else if (role === 'salinmas_collector') {
      const [c, open, mine] = await Promise.all([api(`/api/salinmas/collectors/${subject}`), api('/api/salinmas/pickups?status=requested'),
        api('/api/salinmas/pickups?status=accepted')]);
      Object.assign(data, { collector: c, open, mine: mine.filter((p) => String(p.collector_id) === String(subject)) });
      data.route = await api(`/api/salinmas/routes/${subject}?date=${keep.get('r-date') || dayWib(0)}`);
    } else {
      const [pr, ac, co, kel] = await Promise.all([api('/api/salinmas/prices'), api('/api/salinmas/accounts'), api('/api/salinmas/collectors'), api('/api/salinmas/kelurahan')]);
      Object.assign(data, { prices: pr, accounts: ac, collectors: co, kelurahan: kel });
    }
  } catch (e) { toast(e.message, 'error'); }
  render();
}

render();
await load();
if (role === 'salinmas_officer') await loadReport();
window.satriaSalinmasReady = true;
