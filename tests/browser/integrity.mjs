// The journal-integrity banner as a person sees it (issue 14 item 4): a server
// started on a hash-chain break that an operator accepted shows a red banner on
// every console (dispatcher, crew phone, hospital board, Pattas), readable, in
// Bahasa Indonesia and in English on the toggle; only an admin gets the button,
// and once the admin acknowledges, the banner is gone for everyone.
//
// env: SATRIA_URL, SATRIA_PASSWORD (all accounts), SATRIA_ROW (the accepted
// row), SATRIA_CHROMIUM, SATRIA_ARTIFACTS. Prints "ok <check>" per check and
// "integrity banner passed"; exits 1 on failure.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = (k, d) => process.env[k] ?? d;
const BASE = env('SATRIA_URL', 'http://127.0.0.1:8119');
const PASSWORD = env('SATRIA_PASSWORD', '');
const ROW = env('SATRIA_ROW', '');
const ART = env('SATRIA_ARTIFACTS', join(process.cwd(), '../../target/browser-artifacts'));
const T = 15000;

mkdirSync(ART, { recursive: true });
const ok = (name, detail = '') => console.log(`ok ${name}${detail ? ' — ' + detail : ''}`);
function must(cond, what) { if (!cond) throw new Error(`check failed: ${what}`); }

const browser = await chromium.launch({
  executablePath: env('SATRIA_CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const open = async (user, path, viewport = { width: 1280, height: 800 }) => {
    const ctx = await browser.newContext({ viewport, bypassCSP: true });
    const page = await ctx.newPage();
    page.setDefaultTimeout(T);
    page.on('pageerror', (e) => console.error(`page error (${page.url()}): ${e.message}`));
    await page.goto(`${BASE}/`);
    await page.fill('#username', user);
    await page.fill('#password', PASSWORD);
    await page.click('#login-btn');
    await page.waitForURL(`**${path}`);
    return page;
  };
  const banner = (page) => page.locator('#integrity-banner');
  /** The banner is on screen, at the top, and says which row broke. */
  const seesBanner = async (page, who) => {
    await banner(page).waitFor({ state: 'visible' });
    const box = await banner(page).boundingBox();
    must(box && box.y < 5 && box.height > 10, `${who}: the banner is at the top of the page (${JSON.stringify(box)})`);
    const text = (await banner(page).innerText()).trim();
    must(text.includes(`baris ${ROW}`), `${who}: the banner names row ${ROW} in Bahasa Indonesia ("${text}")`);
    return text;
  };

  const consoles = [
    ['dispatcher1', '/dispatch.html', undefined],
    ['crew1', '/crew.html', { width: 390, height: 844 }],
    ['hospital1', '/hospital.html', undefined],
    ['mitra', '/pattas/', { width: 390, height: 844 }],
  ];
  const pages = [];
  for (const [user, path, viewport] of consoles) {
    const page = await open(user, path, viewport);
    const text = await seesBanner(page, user);
    must(await page.locator('#integrity-ack').count() === 0, `${user}: only an admin may acknowledge`);
    ok(`banner on ${path}`, text);
    pages.push([user, path, page]);
  }
  await pages[0][2].screenshot({ path: join(ART, 'integrity-banner.png') });

  // English on the toggle.
  const disp = pages[0][2];
  await disp.click('#lang');
  await disp.waitForFunction(() => /row/i.test(document.querySelector('#integrity-banner')?.innerText || ''));
  must((await banner(disp).innerText()).includes(ROW), 'the English banner names the row');
  ok('banner in English', (await banner(disp).innerText()).trim());
  await disp.click('#lang');

  // The admin acknowledges; the banner goes at once for the admin and for
  // everyone else on their next look.
  const admin = await open('admin', '/dispatch.html');
  await seesBanner(admin, 'admin');
  const ack = admin.locator('#integrity-ack');
  must(await ack.isVisible(), 'the admin sees the acknowledge button');
  await ack.click();
  await banner(admin).waitFor({ state: 'detached' });
  ok('admin acknowledged');
  for (const [user, path, page] of pages) {
    await page.reload();
    await page.waitForURL(`**${path}`);
    await page.waitForLoadState('networkidle');
    must(!(await banner(page).isVisible()), `${user}: no banner after the acknowledgement`);
  }
  ok('banner gone for every console');
  console.log('integrity banner passed');
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
