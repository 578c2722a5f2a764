// Log in, keep the token (never the password) in sessionStorage, go to the
// page of the role.
import { t, applyI18n, setLang, getLang, saveSession, session, pageFor, ApiError, $ } from './app.js';

applyI18n();
$('#lang').addEventListener('click', () => setLang(getLang() === 'id' ? 'en' : 'id'));

// Sent back here because a session ended while a console was open: say why, once.
try {
  const ended = JSON.parse(sessionStorage.getItem('satria.ended') || 'null');
  sessionStorage.removeItem('satria.ended');
  if (ended) $('#login-error').textContent = (getLang() === 'id' ? ended.message_id : ended.message) || ended.message || '';
} catch { /* nothing to show */ }

const s = session();
if (s && pageFor(s.user.role) && (!s.expires_at_ms || s.expires_at_ms > Date.now())) location.replace(pageFor(s.user.role));

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('#login-error').textContent = '';
  const username = $('#username').value.trim();
  const pw = $('#password');
  try {
    const r = await fetch('/api/auth/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password: pw.value }),
    });
    const v = await r.json().catch(() => null);
    pw.value = '';
    if (!r.ok) throw new ApiError(r.status, v);
    const page = pageFor(v.user.role);
    // Pattas and Salinmas pages exist only once their modules ship them.
    const exists = page && (!page.endsWith('/') || (await fetch(page, { method: 'HEAD' })).ok);
    if (!exists) { $('#login-error').textContent = t('no_console'); return; }
    saveSession({ token: v.token, expires_at_ms: Date.parse(v.expires_at), user: v.user });
    location.assign(page);
  } catch (err) {
    $('#login-error').textContent = err.status === 401 ? t('login_failed') : err.message;
  }
});
