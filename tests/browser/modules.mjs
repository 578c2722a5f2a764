// The Pattas and Salinmas pages against a running Satria server, in headless
// Chromium driven by playwright-core (run by tests/server/browser_modules.rs).
//
// env: SATRIA_URL; SATRIA_PATTAS, SATRIA_MITRA, SATRIA_HOUSEHOLD, SATRIA_COLLECTOR,
// SATRIA_SALINMAS_OFFICER as "user:password" (the household and collector
// bound to a Salinmas account and KSM in Sokanegara); SATRIA_CHROMIUM
// (default /usr/bin/chromium), SATRIA_ARTIFACTS (screenshots).
// Prints "ok <check>" per check and "module flow passed"; exits 1 on failure.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = (k, d) => process.env[k] ?? d;
const BASE = env('SATRIA_URL', 'http://127.0.0.1:8119');
const cred = (k) => { const v = env(k, ''); const i = v.indexOf(':'); return { user: v.slice(0, i), pass: v.slice(i + 1) }; };
const PATTAS = cred('SATRIA_PATTAS'), MITRA = cred('SATRIA_MITRA'), HOUSE = cred('SATRIA_HOUSEHOLD'), KSM = cred('SATRIA_COLLECTOR'), SOFF = cred('SATRIA_SALINMAS_OFFICER');
const ART = env('SATRIA_ARTIFACTS', join(process.cwd(), '../../target/browser-artifacts'));
const T = 15000;

mkdirSync(ART, { recursive: true });
const ok = (name, detail = '') => console.log(`ok ${name}${detail ? ' — ' + detail : ''}`);
function must(cond, what) { if (!cond) throw new Error(`check failed: ${what}`); }
const shot = (page, name) => page.screenshot({ path: join(ART, `${name}.png`), fullPage: true });

const browser = await chromium.launch({
  executablePath: env('SATRIA_CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
let errors = 0;
const pages = [];
try {
  const newPage = async (viewport = { width: 1440, height: 900 }) => {
    // bypassCSP: playwright's waitForFunction polls with eval, which the pages' CSP forbids
    const ctx = await browser.newContext({ viewport, bypassCSP: true });
    const page = await ctx.newPage();
    page.setDefaultTimeout(T);
    page.on('pageerror', (e) => { errors += 1; console.error(`page error (${page.url()}): ${e.message}`); });
    page.on('console', (m) => { if (m.type() === 'error') console.error(`console (${page.url()}): ${m.text()}`); });
    pages.push(page);
    return page;
  };
  const login = async (page, c, path, ready) => {
    await page.goto(`${BASE}/`);
    await page.fill('#username', c.user);
    await page.fill('#password', c.pass);
    await page.click('#login-btn');
    await page.waitForURL(`**${path}`);
    await page.waitForFunction((k) => window[k] === true, ready);
  };
  const text = async (page, sel) => (await page.locator(sel).first().textContent()).trim();
  const PHONE = { width: 390, height: 844 };
  /** At phone width nothing runs off the side: no horizontal scroll. */
  const fitsPhone = async (page, what, name) => {
    const before = page.viewportSize();
    await page.setViewportSize(PHONE);
    await page.waitForTimeout(100);
    const m = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, w: window.innerWidth }));
    must(m.sw <= m.w, `${what}: no horizontal scroll on a 390 px phone (page ${m.sw} px wide)`);
    if (name) await shot(page, name);
    await page.setViewportSize(before);
  };

  // ------------------------------------------------------------ Pattas officer
  const pt = await newPage();
  await login(pt, PATTAS, '/pattas/', 'satriaPattasReady');
  must((await text(pt, '.bar .title')).includes('Pendampingan'), 'the title is in Bahasa Indonesia');
  ok('pattas login', 'pattas_officer → /pattas/');

  // A NIK that is not 16 digits: the server's message, in Bahasa Indonesia.
  await pt.fill('#b-nik', '12345');
  await pt.fill('#b-name', 'Sukarti (uji browser)');
  await pt.fill('#b-dob', '1956-03-14');
  await pt.selectOption('#b-sex', 'P');
  await pt.selectOption('#b-bpjs', 'pbi');
  await pt.fill('#b-desa', 'Kedungwuluh');
  await pt.fill('#b-kec', 'Purwokerto Barat');
  await pt.fill('#b-rt', '3');
  await pt.fill('#b-rw', '02');
  await pt.fill('#b-phone', '0812-3456-7890');
  await pt.fill('#b-cond', 'gagal ginjal kronis');
  await pt.check('#b-dtks');
  await pt.click('#ben-form button[type=submit]');
  await pt.waitForFunction(() => document.querySelector('#ben-error')?.textContent.trim().length > 0);
  const msg = await text(pt, '#ben-error');
  console.log(`validation message: ${msg}`);
  must(/NIK/i.test(msg), 'the message names the NIK');
  ok('server validation message', msg);

  await pt.fill('#b-nik', '3302015403560001');
  await pt.click('#ben-form button[type=submit]');
  await pt.waitForSelector('#ben-list tr[data-ben]');
  must((await text(pt, '#ben-list')).includes('3302015403560001'), 'the new beneficiary is listed');
  must((await pt.inputValue('#case-ben')).length > 0, 'the case form takes the new beneficiary');
  ok('beneficiary registered');

  await pt.check('#case-needs-transport');
  await pt.check('#case-needs-waiting_costs');
  await pt.fill('#case-desc', 'cuci darah dua kali seminggu, butuh antar jemput');
  await pt.click('#case-form button[type=submit]');
  await pt.waitForSelector('#detail[data-status="reported"]');
  await pt.waitForSelector('#case-list tr[data-status="reported"]');
  ok('case reported', await text(pt, '#detail h2'));

  await pt.click('#do-verify');
  await pt.waitForSelector('#detail[data-status="verified"]');
  await pt.waitForSelector('#case-list tr[data-status="verified"]');
  must((await text(pt, '#history')).length > 0, 'the history lists the changes');
  await shot(pt, 'pattas-officer');
  ok('case verified');

  // English on the shared toggle: the page's own strings and the server's.
  await pt.click('#lang');
  await pt.waitForFunction(() => document.querySelector('.bar .title')?.textContent.includes('Patient assistance'));
  must((await text(pt, '#beneficiaries h2')) === 'Beneficiaries', 'section titles switch to English');
  must((await text(pt, '#detail-status')).toLowerCase().includes('verified'), 'status labels switch to English');
  await pt.fill('#b-nik', '3302015403560001');
  await pt.fill('#b-name', 'Dua kali');
  await pt.click('#ben-form button[type=submit]');
  await pt.waitForFunction(() => document.querySelector('#ben-error')?.textContent.trim().length > 0);
  console.log(`english message: ${await text(pt, '#ben-error')}`);
  await shot(pt, 'pattas-english');
  await pt.click('#lang');
  await pt.waitForFunction(() => document.querySelector('.bar .title')?.textContent.includes('Pendampingan'));
  ok('english toggle');

  // Assistance in Rupiah starts the assistance; a free transport is booked
  // through dispatch, shows its status and is cancelled again.
  await pt.selectOption('#a-kind', 'waiting_costs');
  await pt.fill('#a-amount', '150000');
  await pt.click('#assist-form button[type=submit]');
  await pt.waitForSelector('#detail[data-status="in_assistance"]');
  must((await text(pt, '#assist-list')).includes('Rp 150.000'), 'the amount is shown in Rupiah');
  ok('assistance recorded', 'Rp 150.000');
  const when = new Date(Date.now() + 7 * 3600e3 + 3 * 3600e3).toISOString().slice(0, 16);
  // The pickup is placed by desa name, not by coordinates: the form starts at
  // the beneficiary's desa, a name not in the list is refused with a message,
  // and a desa found by typing part of its name places the pickup at its centre.
  must((await pt.inputValue('#t-desa')).startsWith('Kedungwuluh'), 'the pickup desa starts at the beneficiary\'s desa');
  must(!(await pt.locator('#t-lat').isVisible()), 'no coordinates to type unless the exact point is opened');
  await pt.fill('#t-desa', 'Desa Yang Tidak Ada');
  await pt.fill('#t-date', when.slice(0, 10));
  await pt.fill('#t-time', when.slice(11, 16));
  await pt.fill('#t-purpose', 'hemodialisis');
  await pt.click('#transport-form button[type=submit]');
  await pt.waitForFunction(() => document.querySelector('#transport-error')?.textContent.trim().length > 0);
  must((await text(pt, '#transport-error')).includes('desa'), 'an unknown desa is refused with a message naming it');
  must(await pt.locator('#transport-list tr[data-tid]').count() === 0, 'nothing is booked for an unknown desa');
  const options = await pt.$$eval('#t-desa-list option', (os) => os.map((o) => o.value));
  const pick = options.find((o) => o.startsWith('Sokanegara,'));
  must(pick, `Sokanegara is in the pickup desa list (${options.length} desa)`);
  await pt.fill('#t-desa', pick);
  await pt.fill('#t-addr', 'Jl. Gerilya 12');
  await pt.fill('#t-date', when.slice(0, 10));
  await pt.fill('#t-time', when.slice(11, 16));
  await pt.fill('#t-purpose', 'hemodialisis');
  await pt.click('#transport-form button[type=submit]');
  const trow = pt.locator('#transport-list tr[data-tid]').first();
  await trow.waitFor();
  const tid = await trow.getAttribute('data-tid');
  must((await text(pt, `#transport-list tr[data-tid="${tid}"]`)).includes('Jl. Gerilya 12, Sokanegara'), 'the booked pickup shows the address and its desa');
  ok('transport booked', `${tid} at ${when} WIB from ${pick}, state ${await trow.getAttribute('data-state')}`);
  await pt.fill(`[data-cancel="${tid}"]`, 'jadwal diundur');
  await pt.click(`#transport-list tr[data-tid="${tid}"] button`);
  await pt.waitForSelector(`#transport-list tr[data-tid="${tid}"][data-state="cancelled"]`);
  const hist = await text(pt, '#history');
  for (const raw of ['transport_booked', 'transport_cancelled', 'assistance_started', 'assistance_recorded']) {
    must(!hist.includes(raw), `the history shows no raw key (${raw}): ${hist}`);
  }
  must(hist.includes('Transportasi dipesan') && hist.includes('Transportasi dibatalkan'), 'the history says what happened in Bahasa Indonesia');
  await shot(pt, 'pattas-transport');
  ok('transport cancelled');

  // ------------------------------------------------------------ Pattas mitra
  const mt = await newPage();
  await login(mt, MITRA, '/pattas/', 'satriaPattasReady');
  must(await mt.locator('#reports').count() === 0, 'a mitra has no reports');
  await mt.fill('#b-nik', '3302010101800002');
  await mt.fill('#b-name', 'Darsono (uji mitra)');
  await mt.fill('#b-dob', '1980-01-01');
  await mt.selectOption('#b-sex', 'L');
  await mt.selectOption('#b-bpjs', 'none');
  await mt.fill('#b-desa', 'Sokanegara');
  await mt.fill('#b-rt', '1');
  await mt.fill('#b-rw', '1');
  await mt.fill('#b-cond', 'stroke');
  await mt.click('#ben-form button[type=submit]');
  await mt.waitForSelector('#ben-list tr[data-ben]');
  await mt.fill('#case-ben', '');
  await mt.fill('#case-nik', '3302010101800002');
  await mt.check('#case-needs-civil_registration');
  await mt.fill('#case-desc', 'belum punya KTP elektronik');
  await mt.click('#case-form button[type=submit]');
  await mt.waitForSelector('#detail[data-status="reported"]');
  must(await mt.locator('#do-verify').count() === 0, 'a mitra cannot verify');
  must(await mt.locator('#case-list tr[data-id]').count() === 1, 'a mitra lists only its own case');
  await shot(mt, 'pattas-mitra');
  ok('mitra reported by NIK', 'own cases only, no officer actions');

  // ------------------------------------------------------------ Salinmas household
  const hh = await newPage();
  await login(hh, HOUSE, '/salinmas/', 'satriaSalinmasReady');
  must((await hh.inputValue('#p-lat')).startsWith('-7.4'), 'the pickup form starts at the account location');
  await hh.click('#lang');
  await hh.waitForFunction(() => document.querySelector('.bar .title')?.textContent.includes('Waste bank'));
  must((await text(hh, '#request h2')) === 'Request a pickup', 'the Salinmas page switches to English');
  await hh.click('#lang');
  await hh.waitForFunction(() => document.querySelector('.bar .title')?.textContent.includes('Bank Sampah'));
  ok('salinmas english toggle');
  await hh.check('#p-cats-organic');
  await hh.check('#p-cats-plastic');
  await hh.fill('#p-kg', '12');
  await hh.fill('#p-notes', 'di depan pagar');
  await hh.click('#pickup-form button[type=submit]');
  const row = hh.locator('#pickup-list tr[data-status="requested"]').first();
  await row.waitFor();
  const pickup = await row.getAttribute('data-id');
  await shot(hh, 'salinmas-household');
  ok('household pickup requested', `#${pickup}`);

  // ------------------------------------------------------------ Salinmas collector
  // the collector works from a phone
  const kc = await newPage(PHONE);
  await login(kc, KSM, '/salinmas/', 'satriaSalinmasReady');
  await kc.waitForSelector(`#open-list tr[data-id="${pickup}"]`);
  await fitsPhone(kc, 'the collector page');
  const btn = await kc.locator(`[data-accept="${pickup}"]`).boundingBox();
  must(btn && btn.x >= 0 && btn.x + btn.width <= PHONE.width, `the collector's accept button is on screen (${JSON.stringify(btn)})`);
  await kc.click(`[data-accept="${pickup}"]`);
  await kc.waitForSelector(`#mine [data-id="${pickup}"]`);
  ok('collector accepted', `#${pickup}`);
  await kc.waitForSelector(`#route-list li[data-pickup="${pickup}"]`);
  console.log(`route: ${await text(kc, '#route-list')}`);
  await shot(kc, 'salinmas-collector');
  ok('route lists the pickup');

  // The household sees its pickup accepted.
  await hh.reload();
  await hh.waitForFunction(() => window.satriaSalinmasReady === true);
  await hh.waitForSelector(`#pickup-list tr[data-id="${pickup}"][data-status="accepted"]`);

  // Weighed and collected: the household is credited at the day's prices.
  await kc.fill(`[data-weight="${pickup}:organic"]`, '3.5');
  await kc.fill(`[data-weight="${pickup}:plastic"]`, '2');
  await kc.click(`[data-collect="${pickup}"]`);
  await kc.waitForSelector(`#mine [data-id="${pickup}"]`, { state: 'detached' });
  await hh.reload();
  await hh.waitForFunction(() => window.satriaSalinmasReady === true);
  await hh.waitForSelector(`#pickup-list tr[data-id="${pickup}"][data-status="collected"]`);
  const bal = await text(hh, '#balance-rp');
  must(bal !== 'Rp 0' && bal.startsWith('Rp'), `the household is credited (${bal})`);
  await shot(hh, 'salinmas-household-credited');
  ok('collected and credited', bal);

  // ------------------------------------------------------------ Salinmas officer
  const so = await newPage();
  await login(so, SOFF, '/salinmas/', 'satriaSalinmasReady');
  await so.waitForSelector('#price-list tr[data-category="plastic"]');
  must((await text(so, '#account-list')).includes('Rumah Uji Browser'), 'the officer lists the account');
  must((await text(so, '#price-list')).includes('Rp'), 'prices in Rupiah');
  await shot(so, 'salinmas-officer');
  ok('salinmas officer page');

  for (const [page, what, name] of [[pt, 'the Pattas officer page', 'pattas-officer-phone'], [hh, 'the household page', 'salinmas-household-phone'],
    [so, 'the Salinmas officer page', 'salinmas-officer-phone'], [kc, 'the collector page after collecting', 'salinmas-collector-phone']]) {
    await fitsPhone(page, what, name);
  }
  ok('phone width', 'Pattas and Salinmas pages fit a 390 px phone; the collector accepts on screen');

  must(errors === 0, 'no page errors');
  console.log('module flow passed');
} catch (e) {
  console.error(e);
  for (const [i, p] of pages.entries()) { try { await shot(p, `modules-failure-${i}`); } catch { /* closed */ } }
  process.exitCode = 1;
} finally {
  await browser.close();
}
