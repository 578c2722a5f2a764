// One flow across three browser contexts (dispatcher, crew, hospital) against a
// running Satria server, in headless Chromium driven by playwright-core.
//
// env: SATRIA_URL, SATRIA_DISPATCHER / SATRIA_CREW / SATRIA_HOSPITAL as
// "user:password", SATRIA_CREW_UNIT, SATRIA_FLEET (units expected on the map),
// SATRIA_CHROMIUM (default /usr/bin/chromium), SATRIA_ARTIFACTS (screenshots).
// Prints "ok <check>" per check and "browser flow passed"; exits 1 on failure.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = (k, d) => process.env[k] ?? d;
const BASE = env('SATRIA_URL', 'http://127.0.0.1:8119');
const cred = (k) => { const v = env(k, ''); const i = v.indexOf(':'); return { user: v.slice(0, i), pass: v.slice(i + 1) }; };
const DISP = cred('SATRIA_DISPATCHER'), CREW = cred('SATRIA_CREW'), HOSP = cred('SATRIA_HOSPITAL');
const UNIT = env('SATRIA_CREW_UNIT', 'PSC-01');
const FLEET = Number(env('SATRIA_FLEET', '0'));
const ART = env('SATRIA_ARTIFACTS', join(process.cwd(), '../../target/browser-artifacts'));
const T = 15000; // the longest any step may wait for the page

mkdirSync(ART, { recursive: true });
let checks = 0;
const ok = (name, detail = '') => { checks += 1; console.log(`ok ${name}${detail ? ' — ' + detail : ''}`); };
function must(cond, what) { if (!cond) throw new Error(`check failed: ${what}`); }
const shot = (page, name) => page.screenshot({ path: join(ART, `${name}.png`) });

const browser = await chromium.launch({
  executablePath: env('SATRIA_CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  // playwright gives the browser a fresh temporary profile (--user-data-dir) itself
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const pages = [];
try {
  const newPage = async (opts = {}) => {
    // bypassCSP: playwright's waitForFunction polls with eval, which the pages' CSP forbids
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, bypassCSP: true, ...opts });
    const page = await ctx.newPage();
    page.setDefaultTimeout(T);
    page.on('pageerror', (e) => console.error(`page error (${page.url()}): ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') console.error(`console (${page.url()}): ${m.text()}`); });
    pages.push(page);
    return page;
  };
  const login = async (page, c, path) => {
    await page.goto(`${BASE}/`);
    await page.fill('#username', c.user);
    await page.fill('#password', c.pass);
    await page.click('#login-btn');
    await page.waitForURL(`**${path}`);
    await page.waitForSelector('#conn[data-state="online"]');
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
    must(!stored.includes(c.pass), 'the password is never stored');
    must(stored.includes('satria.session'), 'the token is kept in sessionStorage');
  };

  // ------------------------------------------------------------ log in, three roles
  const disp = await newPage();
  const t0 = Date.now();
  await login(disp, DISP, '/dispatch.html');
  const crew = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await login(crew, CREW, '/crew.html');
  const hosp = await newPage();
  await login(hosp, HOSP, '/hospital.html');
  ok('login routes each role', 'dispatcher → /dispatch.html, crew → /crew.html, hospital → /hospital.html');

  // ------------------------------------------------------------ crew, idle: only what is valid now
  for (const sel of ['#ack', '#decline', '#nav', '#decline-form']) {
    must(!(await crew.isVisible(sel)), `${sel} is not shown while the crew has no assignment`);
  }
  must(await crew.isVisible('#no-status'), 'an idle crew is told there is no status to report');
  must((await crew.locator('#status-btns button:visible').count()) === 0, 'no status button while idle');
  // A queued action the server refuses (left over from an earlier shift) is shown
  // with its reason, leaves the queue, and the queue goes on.
  await crew.evaluate((u) => {
    const user = JSON.parse(sessionStorage.getItem('satria.session')).user.username;
    localStorage.setItem(`satria.queue.${user}`, JSON.stringify([
      { client_id: 'stale-ack-1', command: { type: 'acknowledge_assignment', incident: 999999, unit: u }, tries: 0 },
    ]));
  }, UNIT);
  await crew.reload();
  await crew.waitForSelector('#conn[data-state="online"]');
  await crew.waitForSelector('#refusals .refusal', { state: 'visible' });
  const refusal = (await crew.textContent('#refusals .refusal')).trim();
  must(refusal.includes('Terima tugas') && refusal.includes('999999'), `the refusal says what was refused and why: ${refusal}`);
  await crew.waitForSelector('#queue[data-count="0"]', { state: 'attached' });
  must(!(await crew.isVisible('#ack')), 'still nothing to acknowledge');
  await crew.click('#refusals .refusal button');
  must(!(await crew.isVisible('#refusals .refusal')), 'the crew dismisses the refusal');
  ok('crew idle, a refused queued action', `no action buttons while idle; "${refusal}" shown, out of the queue`);

  // ------------------------------------------------------------ the map within 2 s
  await disp.waitForFunction((n) => window.satriaMap?.roadsDrawnAt != null && window.satriaMap.units.length >= n, FLEET, { timeout: T });
  const m = await disp.evaluate(() => {
    const c = document.querySelector('#map');
    const ctx = c.getContext('2d');
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 0; i < d.length; i += 16) if (!(d[i] === 0xe9 && d[i + 1] === 0xee && d[i + 2] === 0xf2)) painted += 1;
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource').find((r) => r.name.includes('/api/map/roads'));
    return { stats: window.satriaMap.stats, bytes: res?.encodedBodySize, raw: res?.decodedBodySize, drawn: window.satriaMap.roadsDrawnAt, first: window.satriaMap.firstDrawAt, nav: nav ? nav.startTime : 0, painted, units: window.satriaMap.units.length, lines: window.satriaMap.points };
  });
  console.log(`map: ${JSON.stringify(m)}`);
  must(m.painted > 500, `the map canvas has drawn pixels (${m.painted})`);
  must(m.units >= FLEET, `all ${FLEET} units are on the map (${m.units})`);
  must(m.drawn - m.nav < 2000, `the map is drawn within 2 s of opening (${Math.round(m.drawn - m.nav)} ms)`);
  ok('map drawn', `roads and ${m.units} units drawn ${Math.round(m.drawn - m.nav)} ms after the console opened (first paint ${Math.round(m.first - m.nav)} ms, ${m.lines} road points)`);
  await shot(disp, '01-dispatcher-map');
  // the legend says what the symbols mean; no label is drawn over another
  const legend = await disp.textContent('#legend');
  for (const w of ['siaga', 'menuju lokasi', 'buka', 'penuh', 'merah', 'kuning']) must(legend.includes(w), `the legend explains "${w}": ${legend}`);
  const overlaps = await disp.evaluate(() => { const r = window.satriaMap.labelRects || []; let n = 0; for (let i = 0; i < r.length; i += 1) for (let j = i + 1; j < r.length; j += 1) if (r[i].x0 < r[j].x1 && r[j].x0 < r[i].x1 && r[i].y0 < r[j].y1 && r[j].y0 < r[i].y1) n += 1; return { n, shown: r.length }; });
  must(overlaps.n === 0 && overlaps.shown > 0, `labels do not overprint (${JSON.stringify(overlaps)})`);
  ok('legend and labels', `legend: units, hospitals, incidents; ${overlaps.shown} labels, none over another`);

  // ------------------------------------------------------------ sound asked for at once
  must(await disp.isVisible('#sound-ask'), 'the console asks for sound as it opens');
  must((await disp.textContent('#sound-ask')).includes('Aktifkan suara'), 'the question is readable');
  await disp.click('#sound-ask-btn');
  must(!(await disp.isVisible('#sound-ask')), 'sound allowed: the question is gone');
  ok('sound asked', 'the dispatcher is asked to allow alarm sound when the console opens; one click answers');

  // ------------------------------------------------------------ language toggle
  must((await disp.textContent('.bar .title')) === 'Konsol Dispatcher', 'Bahasa Indonesia by default');
  await disp.click('#lang');
  must((await disp.textContent('.bar .title')) === 'Dispatcher console', 'English after the toggle');
  must((await disp.textContent('#conn')) === 'connected', 'the indicator follows the language');
  await disp.reload();
  await disp.waitForSelector('#conn[data-state="online"]');
  must((await disp.textContent('.bar .title')) === 'Dispatcher console', 'the language is remembered');
  await disp.click('#lang');
  must((await disp.textContent('.bar .title')) === 'Konsol Dispatcher', 'back to Bahasa Indonesia');
  const clock = await disp.textContent('#clock');
  must(/^\d{2}:\d{2}:\d{2} WIB$/.test(clock), `24-hour WIB clock (${clock})`);
  ok('language toggle', 'id → en → remembered over a reload → id; clock ' + clock);

  // ------------------------------------------------------------ intake, keyboard first
  const base = await disp.evaluate((u) => window.satriaStore.units.get(u).base, UNIT);
  await disp.keyboard.press('/');
  await disp.keyboard.type('Karang');
  await disp.waitForSelector('#place-list li');
  await disp.keyboard.press('ArrowDown');
  await disp.keyboard.press('Enter');
  must(await disp.evaluate(() => document.querySelector('#loc-text').dataset.lat != null), 'a place from the search sets the location');
  // then a click on the map, 600 m from the crew's base, sets it exactly
  const scene = { lat: base.lat + 0.004, lon: base.lon + 0.004 };
  await disp.evaluate((s) => window.satriaMap.centerOn(s.lat, s.lon, 20000), scene);
  await disp.waitForTimeout(100);
  const box = await disp.locator('#map').boundingBox();
  const [px, py] = await disp.evaluate((s) => window.satriaMap.px(s.lat, s.lon), scene);
  await disp.mouse.click(box.x + px, box.y + py);
  await disp.focus('#caller-name');
  await disp.keyboard.press('Alt+2'); // kuning
  await disp.keyboard.type('Bu Sri');
  await disp.keyboard.press('Tab');
  await disp.keyboard.type('081234567890');
  await disp.fill('#address', 'depan warung');
  await disp.selectOption('#category', 'medical');
  await disp.fill('#notes', 'sesak napas, sadar');
  await disp.keyboard.press('Control+Enter');
  await disp.waitForSelector('#detail h2:has-text("#")');
  const incident = await disp.evaluate(() => window.satriaStore && [...window.satriaStore.incidents.keys()].sort((a, b) => b - a)[0]);
  must((await disp.textContent('#detail')).includes('Bu Sri'), 'the new incident shows its caller');
  const desa = await disp.evaluate((id) => window.satriaStore.incidents.get(id).address?.desa, incident);
  must(desa, 'a map click keeps the desa the call is in');
  ok('incident created', `#${incident}, kuning, located by search then a map click in desa ${desa}`);

  // a second call from the same place: the server flags it, the console links to the first
  await disp.mouse.click(box.x + px + 25, box.y + py + 25); // about 150 m away, off the marker
  await disp.fill('#caller-name', 'Pak Darto');
  await disp.fill('#caller-phone', '081298765432');
  await disp.keyboard.press('Alt+3'); // hijau
  await disp.click('#create');
  await disp.waitForSelector('#dup-link');
  must((await disp.textContent('#dup-link')) === `#${incident}`, 'the warning links to the other incident');
  await shot(disp, '02-dispatcher-duplicate');
  await disp.click('#dup-link');
  await disp.waitForSelector(`#detail h2:has-text("#${incident} ")`);
  ok('duplicate warning', `the second call was flagged as a possible duplicate of #${incident}; the link opens it`);

  // ------------------------------------------------------------ recommend, assign with one key
  await disp.waitForSelector(`#recs li[data-unit="${UNIT}"]`);
  const recs = await disp.$$eval('#recs li', (ls) => ls.map((l) => ({ unit: l.dataset.unit, text: l.textContent })));
  const n = recs.findIndex((r) => r.unit === UNIT);
  must(n >= 0 && n < 9, `${UNIT} is among the first nine recommendations`);
  must(/ETA/.test(recs[n].text) && /k?m/.test(recs[n].text), 'a recommendation shows ETA and distance');
  await disp.locator('body').focus();
  await disp.evaluate(() => document.activeElement?.blur());
  await disp.keyboard.press(String(n + 1));
  await disp.waitForSelector('#assigned');
  await disp.waitForFunction(() => (window.satriaMap.routes || []).length > 0);
  ok('unit assigned', `key ${n + 1} assigned ${UNIT}; route drawn (${await disp.evaluate(() => window.satriaMap.routes[0].road ? 'on roads' : 'straight line')})`);
  // a second press does not send a second unit without asking
  await disp.evaluate(() => document.activeElement?.blur());
  await disp.keyboard.press('1');
  await disp.waitForSelector('#assign-confirm', { state: 'visible' });
  const ask = (await disp.textContent('#assign-confirm p')).trim();
  must(ask.includes('sudah ditangani'), `the dispatcher is asked first: ${ask}`);
  await disp.keyboard.press('Escape');
  must(!(await disp.isVisible('#assign-confirm')), 'Esc: nothing sent');
  const active = await disp.evaluate((id) => window.satriaStore.incidents.get(id).assignments.filter((a) => ['pending', 'acknowledged'].includes(a.state.state)).length, incident);
  must(active === 1, `still one unit on #${incident} (${active})`);
  // the unit board names the unit by call sign and links its incident
  const row = disp.locator(`#units tr[data-unit="${UNIT}"]`);
  must((await row.locator('a.inc-link').textContent()) === `#${incident}`, 'the busy unit links its incident');
  must(!(await row.textContent()).includes(UNIT) || (await row.locator('td').first().textContent()).trim() !== UNIT, 'shown by call sign');
  await disp.waitForSelector('#timeline tr');
  const tl = await disp.textContent('#timeline');
  for (const english of ['Kuning', 'Medical', 'by dispatcher', 'OnScene']) must(!tl.includes(english), `no English in the Bahasa timeline: ${tl}`);
  ok('no second unit by accident', `pressing 1 again asked "${ask}"; Esc sent nothing`);
  await shot(disp, '03-dispatcher-assigned');

  // ------------------------------------------------------------ crew: acknowledge and move
  await crew.waitForSelector(`#assignment:has-text("#${incident}")`);
  await crew.waitForSelector('#ack', { state: 'visible' });
  must(await crew.isVisible('#decline') && await crew.isVisible('#nav'), 'accept, decline and navigation are shown with an assignment');
  must((await crew.locator('#status-btns button:visible').count()) === 0, 'no status before the assignment is acknowledged');
  must((await crew.getAttribute('#nav', 'href')).startsWith('geo:'), 'a geo: navigation link');
  must((await crew.textContent('#assignment')).includes('Bu Sri'), 'the crew sees the caller');
  await shot(crew, '04-crew-assignment');
  // the new job covers the crew's screen, with the time left to acknowledge
  await crew.waitForSelector('#newjob', { state: 'visible' });
  const job = await crew.textContent('#newjob');
  must(job.includes('Tugas baru') && job.includes(`#${incident}`) && job.includes(desa), `the new job fills the screen with the desa: ${job.trim().slice(0, 120)}`);
  must(/^[0-9]:[0-5][0-9]$/.test((await crew.textContent('#newjob-countdown')).trim()), 'the acknowledgement countdown runs');
  await crew.click('#newjob-ack');
  await crew.waitForSelector('#my-status[data-status="en_route"]');
  must(!(await crew.isVisible('#newjob')), 'acknowledged: the alert is gone');
  must(!(await crew.isVisible('#ack')), 'acknowledged: the accept button is gone');
  const offered = await crew.locator('#status-btns button:visible').allTextContents();
  must(offered.length === 1 && offered[0].includes('tiba di lokasi'), `en route, the crew is offered only "tiba di lokasi": ${offered}`);
  // the simulated drive (offered on a demo server) reports positions along the route;
  // the dispatcher's map moves the unit
  must(await crew.isVisible('#simulate'), 'a demo server offers the simulated drive');
  await crew.check('#simulate');
  await disp.waitForFunction((u) => window.satriaStore.units.get(u).last_fix != null, UNIT);
  await crew.uncheck('#simulate');
  const fix = await disp.evaluate((u) => window.satriaStore.units.get(u).last_fix.at, UNIT);
  ok('position reports', `simulated drive: the dispatcher sees ${UNIT} at ${fix.lat.toFixed(5)}, ${fix.lon.toFixed(5)}`);
  await crew.click('[data-status="on_scene"]');
  await crew.waitForSelector('#my-status[data-status="on_scene"]');
  await disp.waitForFunction((u) => window.satriaStore.units.get(u).status === 'on_scene', UNIT);
  must(await disp.evaluate(() => document.querySelector('#t-arrival').textContent !== '—'), 'the arrival timer runs');
  ok('crew acknowledged', 'acknowledged, en route, on scene; the dispatcher sees it live');

  // offline: the action waits in the queue with its device time and is applied once
  await crew.context().setOffline(true);
  await crew.evaluate(() => window.satriaLive.drop());
  await crew.waitForSelector('#conn:not([data-state="online"])');
  await crew.waitForSelector('#conn-lost', { state: 'visible' });
  must((await crew.textContent('#conn-lost')).includes('terputus'), 'a banner says the connection is lost');
  await crew.click('[data-status="at_patient"]');
  must((await crew.getAttribute('#queue', 'data-count')) === '1', 'the action is queued while offline');
  const queued = await crew.evaluate(() => window.satriaCrew.queue()[0]);
  must(/Z$/.test(queued.command.device_at) && Date.parse(queued.command.device_at) > t0 - 60e3 && queued.client_id, 'the queued action keeps its device time (RFC 3339, UTC) and client_id');
  await crew.context().setOffline(false);
  await crew.waitForSelector('#queue[data-count="0"]', { state: 'attached', timeout: 30000 });
  must(!(await crew.isVisible('#conn-lost')), 'back online: the banner is gone');
  await crew.waitForSelector('#my-status[data-status="at_patient"]');
  // sent again with the same client_id: the server answers duplicate and applies nothing
  const again = await crew.evaluate((q) => window.satriaLive.command(q.command, q.client_id), queued);
  must(again.duplicate === true, 'a resend of the same client_id is a duplicate');
  ok('offline queue', `queued as ${queued.client_id}, sent on reconnect, applied once`);

  // ------------------------------------------------------------ referral
  await disp.click('#ref-box summary');
  // the destinations come ranked, best first, with drive time and free beds
  await disp.waitForSelector('#ref-to optgroup option', { state: 'attached' });
  const ranked = await disp.$$eval('#ref-to optgroup:first-child option', (os) => os.map((o) => o.textContent));
  must(ranked.length > 0 && ranked[0].startsWith('1. ') && /IGD/.test(ranked[0]), `hospitals ranked in the form: ${ranked.slice(0, 3)}`);
  must((await disp.inputValue('#ref-to')) === (await disp.getAttribute('#ref-to optgroup:first-child option', 'value')), 'the best one is chosen');
  // The crew on scene fills the referral itself, with the vital signs it measured.
  await crew.waitForSelector('#crew-ref', { state: 'visible' });
  await crew.click('#crew-ref summary');
  await crew.selectOption('#cr-to', env('SATRIA_HOSPITAL_ID', ''));
  await crew.fill('#cr-name', 'Sri Wahyuni');
  await crew.click('#cr-send');
  must((await crew.textContent('#cr-error')).includes('NIK'), 'the form says what is missing before sending');
  await crew.fill('#cr-nik', '3302010101800001');
  await crew.fill('#cr-dob', '1980-01-01');
  await crew.fill('#cr-icd', 'J96.0');
  await crew.fill('#cr-gcs', '14');
  await crew.fill('#cr-bps', '100');
  await crew.fill('#cr-bpd', '60');
  await crew.fill('#cr-pulse', '118');
  await crew.fill('#cr-findings', 'SpO2 86%');
  await crew.fill('#cr-reason', 'gagal napas, perlu ICU');
  await crew.click('#cr-send');
  await disp.waitForSelector('#referrals [data-state="pending"]');
  await crew.waitForSelector('#crew-ref', { state: 'hidden' });
  must((await crew.textContent('#referral-box')).includes('menunggu jawaban'), 'the crew sees its referral waiting for the hospital');
  ok('referral sent', 'the crew referred the patient from the scene (SISRUTE shape, with vitals); the dispatcher sees it');

  await hosp.waitForSelector('#incoming .card[data-state="pending"]');
  const card = await hosp.textContent('#incoming .card');
  must(card.includes('Sri Wahyuni') && card.includes('J96.0'), 'the hospital sees the patient summary');
  must(card.includes('GCS 14') && card.includes('TD 100/60'), `the hospital sees the crew's vital signs: ${card}`);
  must(card.includes('kuning') && card.includes('gagal napas') && card.includes('Satria 01'), `the IGD sees the triage colour, the complaint and the unit's call sign: ${card}`);
  const number = (await hosp.textContent('#incoming .card b')).trim();
  must((await disp.textContent('#referrals')).includes(number) && (await crew.textContent('#referral-box')).includes(number), `one referral number on every console (${number})`);
  must(!(await hosp.textContent('body')).includes('081234567890'), 'the hospital never sees the caller');
  await shot(hosp, '05-hospital-incoming');
  // typing a reason survives the board's redraws (it redraws every second)
  await hosp.fill('#incoming .card [data-reason]', 'IGD penuh');
  await hosp.waitForTimeout(1500);
  must((await hosp.inputValue('#incoming .card [data-reason]')) === 'IGD penuh', 'what the IGD types is kept across redraws');
  must((await hosp.textContent('#incoming .card')).includes('Jawab dalam'), 'the time left to answer is shown');
  await hosp.fill('#incoming .card [data-reason]', '');
  await hosp.click('#incoming .card [data-action="accept"]');
  await hosp.waitForSelector('#prearrival tr[data-ref]');
  await disp.waitForSelector('#referrals [data-state="accepted"]');
  await hosp.fill('#igd', '3');
  await hosp.fill('#icu', '1');
  await hosp.selectOption('#igd-status', 'full');
  await hosp.click('#publish');
  await disp.waitForFunction((h) => window.satriaStore.hospitals.get(h).capacity.free_igd_beds === 3, env('SATRIA_HOSPITAL_ID', ''));
  await disp.waitForSelector(`#hospitals tr[data-hospital="${env('SATRIA_HOSPITAL_ID', '')}"] td:has-text("3")`);
  await hosp.waitForFunction(() => /terakhir diumumkan \d{2}:\d{2}(:\d{2})? WIB/.test(document.querySelector('#cap-info').textContent));
  must(await hosp.isVisible('#cap-info'), 'the free-bed form says when it was last published');
  must(await hosp.evaluate(() => window.satriaHospital.rings) === 1, 'the new referral rang once');
  ok('hospital accepted', 'accepted; pre-arrival list; capacity published and shown on the dispatcher board');

  // ------------------------------------------------------------ reconnect resumes from last_seq
  const before = await disp.evaluate(() => window.satriaLive.lastSeq);
  await disp.evaluate(() => window.satriaLive.drop());
  await crew.click('[data-status="transporting"]');
  await crew.waitForSelector('#my-status[data-status="transporting"]');
  await disp.waitForSelector('#conn[data-state="online"]');
  await disp.waitForFunction((u) => window.satriaStore.units.get(u).status === 'transporting', UNIT);
  const after = await disp.evaluate(() => window.satriaLive.lastSeq);
  must(after > before, 'the dispatcher resumed past its last seq');
  await crew.waitForFunction(() => window.satriaCrew.ui.routeTo === 'hospital' && window.satriaCrew.ui.route);
  const hospNav = await crew.getAttribute('#nav', 'href');
  const hospPos = await disp.evaluate((h) => window.satriaStore.hospitals.get(h).position, env('SATRIA_HOSPITAL_ID', ''));
  must(hospNav.startsWith(`geo:${hospPos.lat.toFixed(6)},${hospPos.lon.toFixed(6)}`), `while transporting the navigation goes to the hospital (${hospNav})`);
  const hospName = await disp.evaluate((h) => window.satriaStore.hospitals.get(h).name, env('SATRIA_HOSPITAL_ID', ''));
  await crew.waitForSelector('#destination', { state: 'visible' });
  must((await crew.textContent('#destination .dest-name')) === hospName, 'the destination hospital is named');
  const first = await crew.evaluate(() => [...document.querySelectorAll('main.phone > .card')].find((c) => !c.hidden && c.id !== 'unit-card')?.id);
  must(first === 'destination', `the destination comes first on the crew's screen (${first})`);
  ok('route to hospital', `the crew's route and geo: link switch to the accepted hospital; "${hospName}" on top`);
  ok('reconnect resumes', `dispatcher dropped at seq ${before}, resumed to ${after}, saw the missed status`);

  // ------------------------------------------------------------ handover
  await crew.click('[data-status="at_destination"]');
  await crew.waitForSelector('#my-status[data-status="at_destination"]');
  await crew.click('[data-status="transfer_of_care"]');
  await crew.waitForSelector('#my-status[data-status="transfer_of_care"]');
  await disp.waitForSelector('#referrals [data-state="handed_over"]');
  await hosp.waitForSelector('#incoming [data-state="handed_over"]');
  await crew.click('[data-status="available"]');
  await crew.waitForSelector('#my-status[data-status="available"]');
  await shot(crew, '06-crew-available');
  await shot(disp, '07-dispatcher-timeline');
  await shot(hosp, '08-hospital-board');
  ok('handover', 'the crew handed over; the dispatcher and the hospital see it; the unit is available');

  // ------------------------------------------------------------ a crew declines, with a reason
  const second = await disp.evaluate((first) => [...window.satriaStore.incidents.keys()].filter((i) => i !== first).sort((a, b) => b - a)[0], incident);
  must(second != null, 'the second call is an open incident');
  await disp.click(`#incidents li[data-id="${second}"]`);
  await disp.waitForSelector(`#recs li[data-unit="${UNIT}"]`);
  const k = await disp.$$eval('#recs li', (ls, u) => ls.findIndex((l) => l.dataset.unit === u), UNIT);
  must(k >= 0 && k < 9, `${UNIT} is recommended for #${second}`);
  await disp.evaluate(() => document.activeElement?.blur());
  await disp.keyboard.press(String(k + 1));
  await crew.waitForSelector(`#assignment:has-text("#${second}")`);
  await crew.waitForSelector('#newjob', { state: 'visible' });
  await crew.click('#newjob-decline');
  await crew.waitForSelector('#decline-form:not([hidden])');
  await crew.click('#decline-send'); // no reason yet: refused on the page, nothing sent
  must(!(await crew.isHidden('#decline-form')), 'a decline needs a reason');
  await crew.click('#decline-reasons button:first-child');
  const preset = await crew.inputValue('#decline-text');
  must(preset === 'Kendaraan rusak', `a preset fills the reason (${preset})`);
  await crew.fill('#decline-text', `${preset}, ban bocor`);
  await crew.click('#decline-send');
  await crew.waitForSelector('#decline-form[hidden]', { state: 'attached' });
  const declinedAlert = `.alert[data-key^="nounit-${second}-"]`;
  await disp.waitForSelector(declinedAlert, { state: 'visible' });
  const alertText = await disp.textContent(declinedAlert);
  must(alertText.includes('Kendaraan rusak, ban bocor'), `the dispatcher sees the reason (${alertText.trim()})`);
  must(alertText.includes('menunggu unit'), `the alert says the call waits for a unit (${alertText.trim()})`);
  await crew.waitForSelector('#ack', { state: 'hidden' });
  await shot(crew, '09-crew-declined');
  ok('decline with a reason', `the crew declined #${second} with a preset reason it edited; the dispatcher was alerted with it`);

  // ------------------------------------------------------------ the call list and alerts come from the state
  await disp.reload();
  await disp.waitForSelector('#conn[data-state="online"]');
  await disp.waitForSelector(declinedAlert, { state: 'visible' });
  const waitingRow = disp.locator(`#incidents li[data-id="${second}"]`);
  must((await waitingRow.textContent()).includes('menunggu unit'), 'the declined call is listed as waiting for a unit');
  // a merah call with no unit goes to the top of the list
  const merah = await disp.evaluate(async () => {
    const s = JSON.parse(sessionStorage.getItem('satria.session'));
    const r = await fetch('/api/incidents', { method: 'POST', headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ caller_name: 'Pak Darto', caller_phone: '081390002222', lat: -7.5080, lon: 109.2940, address: 'Jl. Raya Sokaraja', triage: 'merah', category: 'accident', patients: 2, notes: '' }) });
    return (await r.json()).id;
  });
  await disp.waitForFunction((id) => document.querySelector('#incidents li')?.dataset.id === String(id), merah);
  const order = await disp.$$eval('#incidents li', (ls) => ls.map((l) => `${l.dataset.id}:${l.dataset.triage}:${l.dataset.waiting}`));
  must(order[0] === `${merah}:merah:true`, `merah without a unit first: ${order}`);
  ok('call list by urgency', `after a reload the alert for #${second} is still there; order ${order.join(' ')}`);

  // ------------------------------------------------------------ the whole incident from the console
  await disp.click(`#incidents li[data-id="${second}"]`);
  await disp.waitForSelector('#incident-actions', { state: 'visible' });
  await disp.evaluate(() => document.activeElement?.blur());
  await disp.keyboard.press('x');
  await disp.waitForSelector('#incident-action[data-action="cancel"]', { state: 'visible' });
  await disp.keyboard.press('Enter');
  must((await disp.textContent('#action-error')).length > 0, 'an empty reason is refused on the page');
  await disp.fill('#action-input', 'panggilan ganda, sudah ditangani di #' + incident);
  await disp.keyboard.press('Enter');
  await disp.waitForSelector(`#incidents li[data-id="${second}"]`, { state: 'detached' });
  ok('cancel from the console', `X, a reason, Enter: #${second} cancelled and gone from the list`);

  // ------------------------------------------------------------ a patient not yet identified
  await disp.click(`#incidents li[data-id="${merah}"]`);
  await disp.click('#ref-box summary');
  await disp.waitForSelector('#ref-to optgroup option', { state: 'attached' });
  await disp.selectOption('#ref-to', env('SATRIA_HOSPITAL_ID', ''));
  await disp.check('#ref-unknown');
  must(await disp.isDisabled('#ref-nik'), 'no NIK asked for a patient not yet identified');
  await disp.fill('#ref-icd', 'S06.0');
  await disp.fill('#ref-reason', 'cedera kepala, tidak sadar, tanpa identitas');
  await disp.click('#ref-form button[type="submit"]');
  await hosp.waitForSelector('#incoming .card:has-text("tanpa identitas")');
  const unknownCard = await hosp.textContent('#incoming .card:has-text("tanpa identitas")');
  must(unknownCard.includes('Identitas belum diketahui') && unknownCard.includes('merah'), `the IGD sees an unidentified merah patient: ${unknownCard}`);
  ok('unidentified patient', 'referred without NIK, name or date of birth; the IGD sees "Identitas belum diketahui"');
  console.log(`browser flow passed: ${checks} checks in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} catch (e) {
  console.error(`FAILED: ${e.stack || e}`);
  for (const [i, p] of pages.entries()) await p.screenshot({ path: join(ART, `failure-${i}.png`) }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
