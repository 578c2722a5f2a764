// The crew app across a node's death, in headless Chromium: the app is loaded
// from node A of a two-node cluster; node A is killed (SIGKILL); the app must
// come back online through node B by itself and receive, and acknowledge, an
// assignment the dispatcher makes through node B.
//
// env: SATRIA_URL_A, SATRIA_URL_B, SATRIA_CREW and SATRIA_DISPATCHER as
// "user:password", SATRIA_KILL_PID (node A's process), SATRIA_CHROMIUM,
// SATRIA_ARTIFACTS. Prints "ok <check>" per check and "browser failover
// passed"; exits 1 on failure.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = (k, d) => process.env[k] ?? d;
const A = env('SATRIA_URL_A');
const B = env('SATRIA_URL_B');
const cred = (k) => { const v = env(k, ''); const i = v.indexOf(':'); return { user: v.slice(0, i), pass: v.slice(i + 1) }; };
const CREW = cred('SATRIA_CREW'), DISP = cred('SATRIA_DISPATCHER');
const ART = env('SATRIA_ARTIFACTS', join(process.cwd(), '../../target/browser-artifacts'));
const T = 15000;
// The takeover waits for the lease's TTL; the test's nodes use 1.5 s.
const TAKEOVER = 60000;

mkdirSync(ART, { recursive: true });
const ok = (name, detail = '') => console.log(`ok ${name}${detail ? ' — ' + detail : ''}`);
function must(cond, what) { if (!cond) throw new Error(`check failed: ${what}`); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` in the page until it holds (the page's own CSP stays on, so
 * playwright's eval-based waitForFunction cannot be used). */
async function until(page, pred, arg, timeout, what) {
  const end = Date.now() + timeout;
  while (!(await page.evaluate(pred, arg))) {
    must(Date.now() < end, what);
    await sleep(100);
  }
}

/** A dispatcher's HTTP call to node B, retried while B answers 503 (no leader yet). */
async function onB(token, path, body) {
  const until = Date.now() + TAKEOVER;
  for (;;) {
    const r = await fetch(`${B}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (r.status === 503 && Date.now() < until) { await sleep(200); continue; }
    const v = await r.json().catch(() => null);
    must(r.ok, `POST ${path} on node B: ${r.status} ${JSON.stringify(v)}`);
    return v;
  }
}

const browser = await chromium.launch({
  executablePath: env('SATRIA_CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
let crew;
try {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, bypassCSP: false });
  crew = await ctx.newPage();
  crew.setDefaultTimeout(T);
  crew.on('pageerror', (e) => console.error(`page error: ${e.message}`));

  await crew.goto(`${A}/`);
  await crew.fill('#username', CREW.user);
  await crew.fill('#password', CREW.pass);
  await crew.click('#login-btn');
  await crew.waitForURL('**/crew.html');
  await crew.waitForSelector('#conn[data-state="online"]');
  const shown = (await crew.textContent('#conn')).trim();
  ok('the crew app is online on node A', `"${shown}"`);

  // The indicator's every state from now on, as the crew would have seen it.
  await crew.evaluate(() => {
    window.seenStates = [];
    const conn = document.querySelector('#conn');
    new MutationObserver(() => window.seenStates.push(conn.dataset.state)).observe(conn, { attributes: true });
  });
  // The app learns the region's nodes once it is connected.
  await until(crew, (b) => (sessionStorage.getItem('satria.nodes') || '').includes(b), B, T, 'the crew app never learned node B');

  process.kill(Number(env('SATRIA_KILL_PID')), 'SIGKILL');
  await until(crew, () => window.seenStates.some((s) => s !== 'online'), null, T, 'the crew app never noticed node A had gone');
  await until(
    crew,
    () => window.seenStates.some((s) => s !== 'online') && document.querySelector('#conn').dataset.state === 'online',
    null,
    TAKEOVER,
    'the crew app did not come back online through node B',
  );
  must(await crew.isVisible('#conn'), 'the connection indicator is visible');
  const again = (await crew.textContent('#conn')).trim();
  must(again === shown, `the indicator reads "${shown}" again, not "${again}"`);
  ok('node A killed: the crew app lost it and is online again by itself', `states ${await crew.evaluate(() => window.seenStates.join(' → '))}`);

  // The dispatcher, on node B, creates an incident and assigns the crew's unit.
  const login = await onB(null, '/api/auth/login', { username: DISP.user, password: DISP.pass });
  const inc = await onB(login.token, '/api/incidents', {
    caller_name: 'Bu Rahayu', caller_phone: '081390001234', lat: -7.4246, lon: 109.2396,
    address: { desa: 'Sokanegara' }, triage: 'kuning', category: 'medical', patients: 1, notes: 'pingsan di pasar',
  });
  const me = await crew.evaluate(() => JSON.parse(sessionStorage.getItem('satria.session')).user.unit);
  await onB(login.token, `/api/incidents/${inc.id}/assign`, { unit_id: me });
  ok('node B leads and takes the dispatcher\'s commands', `incident #${inc.id}, unit ${me}`);

  await crew.waitForSelector(`#assignment:has-text("#${inc.id}")`, { timeout: T });
  must((await crew.textContent('#assignment')).includes('Bu Rahayu'), 'the crew sees the caller');
  await crew.waitForSelector('#newjob', { state: 'visible' });
  await crew.click('#newjob-ack');
  await crew.waitForSelector('#my-status[data-status="en_route"]');
  must(!(await crew.isVisible('#newjob')), 'acknowledged: the alert is gone');
  await crew.screenshot({ path: join(ART, 'failover-crew.png') });
  ok('the assignment made on node B reaches the crew, who acknowledges it through node B');
  console.log('browser failover passed');
} catch (e) {
  console.error(e.stack || String(e));
  if (crew) await crew.screenshot({ path: join(ART, 'failover-failure.png') }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
