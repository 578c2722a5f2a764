// Bahasa Indonesia by default; English on a toggle remembered in localStorage.
const DICT = {
  id: {
    app: 'Satria — PSC 119 Banyumas',
    login_title: 'Masuk', username: 'Nama pengguna', password: 'Kata sandi', login: 'Masuk',
    logout: 'Keluar', login_failed: 'Nama pengguna atau kata sandi salah',
    no_console: 'Peran ini tidak punya konsol di sini', lang: 'English',
    conn_online: 'terhubung', conn_reconnecting: 'menyambung ulang', conn_offline: 'terputus',
    dispatch_title: 'Konsol Dispatcher', crew_title: 'Aplikasi Kru', hospital_title: 'Papan IGD Rumah Sakit',
    intake: 'Panggilan baru', location: 'Lokasi', search_place: 'Cari desa/kelurahan, puskesmas, RS…',
    click_map: 'atau klik peta', triage: 'Triase', category: 'Kategori', caller_name: 'Nama penelepon',
    caller_phone: 'Telepon penelepon', notes: 'Catatan', patients: 'Jumlah pasien', address: 'Alamat / patokan',
    create_incident: 'Buat insiden', incidents: 'Insiden aktif', recommendations: 'Rekomendasi unit',
    assign: 'Tugaskan', assign_hint: 'Enter atau 1–9 untuk menugaskan', units: 'Unit', hospitals: 'Rumah sakit',
    timeline: 'Linimasa', alerts: 'Peringatan', enable_sound: 'Aktifkan suara', sound_on: 'Suara aktif',
    duplicate_warning: 'Kemungkinan duplikat dari insiden', since_call: 'sejak panggilan', since_dispatch: 'sejak penugasan',
    since_arrival: 'sejak tiba', eta: 'ETA', distance: 'jarak', no_location: 'Pilih lokasi dulu',
    referral: 'Rujukan', send_referral: 'Kirim rujukan', referral_to: 'Rumah sakit tujuan',
    patient_name: 'Nama pasien', nik: 'NIK (16 digit)', sex: 'Jenis kelamin', male: 'Laki-laki', female: 'Perempuan',
    dob: 'Tanggal lahir', diagnosis: 'Diagnosis (ICD-10)', reason: 'Alasan', officer: 'Petugas perujuk',
    consciousness: 'Kesadaran', from_facility: 'Asal rujukan',
    free_igd: 'IGD kosong', free_icu: 'ICU kosong', igd_status: 'Status IGD', updated: 'diperbarui', ago: 'lalu',
    open: 'buka', full: 'penuh', diversion: 'dialihkan', unknown: '—',
    ack_timeout: 'Batas konfirmasi terlewati', referral_declined: 'Rujukan ditolak', referral_expired: 'Rujukan tidak dijawab',
    stale_position: 'Posisi unit basi', select_incident: 'Pilih insiden', no_assignment: 'Tidak ada penugasan',
    current_assignment: 'Penugasan saat ini', acknowledge: 'Terima tugas', decline: 'Tolak', decline_reason: 'Alasan menolak',
    decline_send: 'Kirim penolakan', decline_back: 'Kembali', decline_reason_needed: 'Tulis atau pilih alasan menolak',
    dr_vehicle: 'Kendaraan rusak', dr_crew: 'Kru tidak lengkap', dr_equipment: 'Alat atau BBM kurang', dr_busy: 'Masih menangani pasien lain',
    navigate: 'Navigasi', simulate: 'Simulasi perjalanan', gps: 'GPS perangkat', queued: 'antre (offline)', queued_sending: 'antre, sedang dikirim',
    refused_action: 'Ditolak server', queue_gave_up: 'tidak terkirim setelah tiga kali dicoba; laporkan lewat radio',
    dismiss: 'Tutup', no_status_now: 'Belum ada status untuk dilaporkan',
    assigned_automatic: 'otomatis', assigned_by_dispatcher: 'oleh dispatcher',
    legend_incidents: 'Insiden', conn_lost: 'Koneksi ke server terputus: layar ini tidak mengikuti perubahan. Menyambung ulang…',
    new_job: 'Tugas baru', ack_within: 'Konfirmasi dalam', destination: 'Tujuan', destination_unknown: 'rumah sakit belum ditentukan',
    waiting_for_unit: 'menunggu unit', last_status: 'status terakhir', already_has_unit: 'sudah ditangani', send_also: 'Kirim juga',
    yes_send: 'Ya, kirim', in_status: 'lama status', position_age: 'umur posisi', incident: 'Insiden',
    cancel_incident: 'Batalkan insiden', merge_incident: 'Gabungkan ke', reassign_unit: 'Alihkan unit ke sini',
    action_close_ph: 'hasil, mis. pasien diantar ke RSUD', action_cancel_ph: 'alasan, mis. panggilan palsu',
    action_merge_ph: 'nomor insiden tujuan, mis. 12', action_reassign_ph: 'unit',
    action_needs_value: 'Isi dulu kolom ini', reassigned_by_dispatcher: 'dialihkan oleh dispatcher',
    sound_ask: 'Suara alarm belum aktif: klik di mana saja atau tekan tombol ini agar panggilan merah terdengar.',
    st_available: 'siaga', st_notified: 'ditugaskan', st_en_route: 'menuju lokasi', st_on_scene: 'tiba di lokasi',
    st_at_patient: 'bersama pasien', st_transporting: 'mengantar pasien', st_at_destination: 'tiba di RS',
    st_transfer_of_care: 'serah terima', st_out_of_service: 'tidak bertugas',
    incoming_referrals: 'Rujukan masuk', accept: 'Terima', pre_arrival: 'Pasien dalam perjalanan', publish: 'Umumkan',
    capacity: 'Kapasitas', referral_accepted: 'diterima', referral_pending: 'menunggu jawaban', referral_handed_over: 'serah terima selesai',
    referral_declined_s: 'ditolak', referral_expired_s: 'kedaluwarsa', referral_cancelled_s: 'dibatalkan',
    cat_accident: 'kecelakaan', cat_medical: 'medis', cat_maternal: 'maternal', cat_inter_facility_transfer: 'antar fasilitas', cat_information: 'informasi',
    tr_merah: 'merah', tr_kuning: 'kuning', tr_hijau: 'hijau', tr_hitam: 'hitam',
    inc_open: 'terbuka', inc_dispatched: 'ditangani', inc_closed: 'selesai', inc_cancelled: 'batal', inc_merged: 'digabung',
    as_pending: 'menunggu konfirmasi', as_acknowledged: 'dikonfirmasi', as_declined: 'ditolak', as_timed_out: 'waktu habis', as_cancelled: 'dibatalkan', as_completed: 'selesai',
    saved: 'tersimpan', error: 'Galat', close_incident: 'Tutup insiden', outcome: 'Hasil', map_loading: 'memuat peta…',
    route: 'Rute', patient: 'Pasien', caller: 'Penelepon', status: 'Status', none: 'tidak ada',
    rt_emergency: 'gawat darurat', rt_non_emergency: 'tidak gawat darurat', rt_partial: 'parsial',
    ev_incident_created: 'panggilan diterima', ev_unit_assigned: 'unit ditugaskan', ev_assignment_acknowledged: 'tugas diterima kru',
    ev_assignment_declined: 'tugas ditolak kru', ev_assignment_timed_out: 'batas konfirmasi lewat', ev_assignment_cancelled: 'penugasan dibatalkan',
    ev_assignment_completed: 'penugasan selesai', ev_unit_status_changed: 'status unit', ev_incident_updated: 'insiden diubah',
    ev_referral_sent: 'rujukan dikirim', ev_referral_accepted: 'rujukan diterima', ev_referral_declined: 'rujukan ditolak',
    ev_referral_expired: 'rujukan kedaluwarsa', ev_handover_recorded: 'serah terima pasien', ev_pre_arrival_notice_sent: 'pemberitahuan pra-kedatangan',
    ev_incident_closed: 'insiden ditutup', ev_incident_cancelled: 'insiden dibatalkan', ev_incident_merged: 'insiden digabung',
    ev_unit_registered: 'unit didaftarkan', ev_unit_moved: 'posisi unit', ev_unit_out_of_service: 'unit tidak bertugas',
    ev_unit_back_in_service: 'unit kembali bertugas', ev_next_unit_proposed: 'unit berikutnya diusulkan',
    ev_hospital_capacity_updated: 'kapasitas RS diperbarui', ev_referral_cancelled: 'rujukan dibatalkan',
    ev_referral_escalation_failed: 'tidak ada RS lain untuk rujukan', ev_transport_booked: 'transport terjadwal dipesan',
    ev_transport_dispatched: 'transport terjadwal dikirim', ev_transport_cancelled: 'transport terjadwal dibatalkan',
    avpu_alert: 'Sadar penuh (A)', avpu_voice: 'Respons suara (V)', avpu_pain: 'Respons nyeri (P)', avpu_unresponsive: 'Tidak respons (U)',
  },
  en: {
    app: 'Satria — PSC 119 Banyumas',
    login_title: 'Log in', username: 'Username', password: 'Password', login: 'Log in',
    logout: 'Log out', login_failed: 'Wrong username or password',
    no_console: 'This role has no console here', lang: 'Bahasa Indonesia',
    conn_online: 'connected', conn_reconnecting: 'reconnecting', conn_offline: 'disconnected',
    dispatch_title: 'Dispatcher console', crew_title: 'Crew app', hospital_title: 'Hospital emergency board',
    intake: 'New call', location: 'Location', search_place: 'Search desa/kelurahan, puskesmas, hospital…',
    click_map: 'or click the map', triage: 'Triage', category: 'Category', caller_name: 'Caller name',
    caller_phone: 'Caller phone', notes: 'Notes', patients: 'Patients', address: 'Address / landmark',
    create_incident: 'Create incident', incidents: 'Open incidents', recommendations: 'Recommended units',
    assign: 'Assign', assign_hint: 'Enter or 1–9 to assign', units: 'Units', hospitals: 'Hospitals',
    timeline: 'Timeline', alerts: 'Alerts', enable_sound: 'Enable sound', sound_on: 'Sound on',
    duplicate_warning: 'Possible duplicate of incident', since_call: 'since call', since_dispatch: 'since dispatch',
    since_arrival: 'since arrival', eta: 'ETA', distance: 'distance', no_location: 'Choose a location first',
    referral: 'Referral', send_referral: 'Send referral', referral_to: 'Destination hospital',
    patient_name: 'Patient name', nik: 'NIK (16 digits)', sex: 'Sex', male: 'Male', female: 'Female',
    dob: 'Date of birth', diagnosis: 'Diagnosis (ICD-10)', reason: 'Reason', officer: 'Referring officer',
    consciousness: 'Consciousness', from_facility: 'Referred from',
    free_igd: 'Free ED beds', free_icu: 'Free ICU beds', igd_status: 'ED status', updated: 'updated', ago: 'ago',
    open: 'open', full: 'full', diversion: 'diversion', unknown: '—',
    ack_timeout: 'Acknowledgement timeout', referral_declined: 'Referral declined', referral_expired: 'Referral unanswered',
    stale_position: 'Stale unit position', select_incident: 'Select an incident', no_assignment: 'No assignment',
    current_assignment: 'Current assignment', acknowledge: 'Acknowledge', decline: 'Decline', decline_reason: 'Reason for declining',
    decline_send: 'Send decline', decline_back: 'Back', decline_reason_needed: 'Write or choose a reason for declining',
    dr_vehicle: 'Vehicle broken down', dr_crew: 'Crew incomplete', dr_equipment: 'Short of equipment or fuel', dr_busy: 'Still with another patient',
    navigate: 'Navigate', simulate: 'Simulate drive', gps: 'Device GPS', queued: 'queued (offline)', queued_sending: 'queued, sending',
    refused_action: 'Refused by the server', queue_gave_up: 'not sent after three tries; report it by radio',
    dismiss: 'Dismiss', no_status_now: 'No status to report yet',
    assigned_automatic: 'automatic', assigned_by_dispatcher: 'by the dispatcher',
    legend_incidents: 'Incidents', conn_lost: 'Connection to the server lost: this screen is not following changes. Reconnecting…',
    new_job: 'New job', ack_within: 'Acknowledge within', destination: 'Destination', destination_unknown: 'hospital not decided yet',
    waiting_for_unit: 'waiting for a unit', last_status: 'last status', already_has_unit: 'already has', send_also: 'Send also',
    yes_send: 'Yes, send', in_status: 'in status', position_age: 'position age', incident: 'Incident',
    cancel_incident: 'Cancel incident', merge_incident: 'Merge into', reassign_unit: 'Reassign a unit here',
    action_close_ph: 'outcome, e.g. patient taken to RSUD', action_cancel_ph: 'reason, e.g. hoax call',
    action_merge_ph: 'incident number to merge into, e.g. 12', action_reassign_ph: 'unit',
    action_needs_value: 'Fill this in first', reassigned_by_dispatcher: 'reassigned by the dispatcher',
    sound_ask: 'Alarm sound is off: click anywhere or press this button so merah calls are heard.',
    st_available: 'available', st_notified: 'notified', st_en_route: 'en route', st_on_scene: 'on scene',
    st_at_patient: 'at patient', st_transporting: 'transporting', st_at_destination: 'at hospital',
    st_transfer_of_care: 'handover', st_out_of_service: 'out of service',
    incoming_referrals: 'Incoming referrals', accept: 'Accept', pre_arrival: 'Patients on the way', publish: 'Publish',
    capacity: 'Capacity', referral_accepted: 'accepted', referral_pending: 'awaiting answer', referral_handed_over: 'handed over',
    referral_declined_s: 'declined', referral_expired_s: 'expired', referral_cancelled_s: 'cancelled',
    cat_accident: 'accident', cat_medical: 'medical', cat_maternal: 'maternal', cat_inter_facility_transfer: 'inter-facility', cat_information: 'information',
    tr_merah: 'red', tr_kuning: 'yellow', tr_hijau: 'green', tr_hitam: 'black',
    inc_open: 'open', inc_dispatched: 'dispatched', inc_closed: 'closed', inc_cancelled: 'cancelled', inc_merged: 'merged',
    as_pending: 'awaiting ack', as_acknowledged: 'acknowledged', as_declined: 'declined', as_timed_out: 'timed out', as_cancelled: 'cancelled', as_completed: 'completed',
    saved: 'saved', error: 'Error', close_incident: 'Close incident', outcome: 'Outcome', map_loading: 'loading map…',
    route: 'Route', patient: 'Patient', caller: 'Caller', status: 'Status', none: 'none',
    rt_emergency: 'emergency', rt_non_emergency: 'non-emergency', rt_partial: 'partial',
    ev_incident_created: 'call taken', ev_unit_assigned: 'unit assigned', ev_assignment_acknowledged: 'crew acknowledged',
    ev_assignment_declined: 'crew declined', ev_assignment_timed_out: 'acknowledgement timed out', ev_assignment_cancelled: 'assignment cancelled',
    ev_assignment_completed: 'assignment completed', ev_unit_status_changed: 'unit status', ev_incident_updated: 'incident updated',
    ev_referral_sent: 'referral sent', ev_referral_accepted: 'referral accepted', ev_referral_declined: 'referral declined',
    ev_referral_expired: 'referral expired', ev_handover_recorded: 'patient handed over', ev_pre_arrival_notice_sent: 'pre-arrival notice',
    ev_incident_closed: 'incident closed', ev_incident_cancelled: 'incident cancelled', ev_incident_merged: 'incidents merged',
    ev_unit_registered: 'unit registered', ev_unit_moved: 'unit position', ev_unit_out_of_service: 'unit out of service',
    ev_unit_back_in_service: 'unit back in service', ev_next_unit_proposed: 'next unit proposed',
    ev_hospital_capacity_updated: 'hospital capacity updated', ev_referral_cancelled: 'referral cancelled',
    ev_referral_escalation_failed: 'no other hospital for the referral', ev_transport_booked: 'scheduled transport booked',
    ev_transport_dispatched: 'scheduled transport dispatched', ev_transport_cancelled: 'scheduled transport cancelled',
    avpu_alert: 'Alert (A)', avpu_voice: 'Responds to voice (V)', avpu_pain: 'Responds to pain (P)', avpu_unresponsive: 'Unresponsive (U)',
  },
};

let lang = localStorage.getItem('satria.lang') === 'en' ? 'en' : 'id';
const listeners = [];

export function getLang() { return lang; }

/** The text of `key` in the current language. */
export function t(key) {
  return DICT[lang][key] ?? DICT.id[key] ?? key;
}

/** Fills every `[data-i18n]` (text) and `[data-i18n-ph]` (placeholder) under `root`. */
export function applyI18n(root = document) {
  document.documentElement.lang = lang;
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-ph]').forEach((el) => { el.placeholder = t(el.dataset.i18nPh); });
  root.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
}

export function setLang(l) {
  lang = l === 'en' ? 'en' : 'id';
  localStorage.setItem('satria.lang', lang);
  applyI18n();
  listeners.forEach((f) => f(lang));
}

export function onLang(f) { listeners.push(f); }
