// The journal-integrity banner (issue 14): while the engine runs on a hash-chain
// break that an operator accepted (`--accept-broken-chain`), every console shows
// it, in Bahasa Indonesia or English on the language toggle, until an admin
// acknowledges it. Reads GET /api/integrity; an admin gets the button for
// POST /api/integrity/acknowledge.
import { session, getLang, onLang } from '/app.js';

const EVERY_MS = 30_000;
let status = null;

function authHeaders() {
  const s = session();
  return s ? { Accept: 'application/json', Authorization: `Bearer ${s.token}` } : null;
}

function render() {
  let el = document.getElementById('integrity-banner');
  const b = status?.banner;
  if (!b) { el?.remove(); return; }
  if (!el) {
    el = document.createElement('div');
    el.id = 'integrity-banner';
    el.setAttribute('role', 'alert');
    // Through the CSSOM: the consoles' CSP allows no inline style attributes.
    Object.assign(el.style, {
      background: '#b00020', color: '#fff', padding: '.5em 1em', fontWeight: '600',
      display: 'flex', gap: '1em', alignItems: 'center', justifyContent: 'space-between',
    });
    document.body.prepend(el);
  }
  const en = getLang() === 'en';
  el.replaceChildren();
  const text = document.createElement('span');
  text.textContent = en ? b.message : b.message_id;
  el.append(text);
  if (session()?.user?.role === 'admin') {
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.id = 'integrity-ack';
    btn.textContent = en ? 'Acknowledge' : 'Konfirmasi';
    btn.addEventListener('click', acknowledge);
    el.append(btn);
  }
}

async function poll() {
  const headers = authHeaders();
  if (!headers) return;
  try {
    const r = await fetch('/api/integrity', { headers });
    if (r.ok) { status = await r.json(); render(); }
  } catch { /* offline: the next poll tries again */ }
}

async function acknowledge() {
  const headers = authHeaders();
  if (!headers) return;
  try {
    const r = await fetch('/api/integrity/acknowledge', { method: 'POST', headers });
    if (r.ok) { status = await r.json(); render(); }
  } catch { /* the banner stays; the admin may try again */ }
}

onLang(render);
poll();
setInterval(poll, EVERY_MS);
