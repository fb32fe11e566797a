/**
 * The agent inbox in headless Chromium (Debian's chromium, driven by playwright-core): a customer
 * message from the simulator appears in the list within a second of being published, the agent
 * answers from the reply box (which shows the encoding and segments as they type), the answer
 * reaches the simulator and its tick turns to delivered.
 *
 * With PARLEY_INBOX_SCREENSHOT=path the page is also saved as a PNG (the README's screenshot).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTwoWayHarness } from '../../support/two-way.ts';
import type { Harness } from '../../support/daemon.ts';
import type { Simulator } from '../../../src/simulator/index.ts';
import { call, startApiDaemon, type ApiDaemon } from '../../support/api.ts';

const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';

let h: Harness;
let sim: Simulator;
let api: ApiDaemon;
let browser: BrowserContext | undefined;
let profile: string | undefined;

beforeEach(async () => {
  h = await createTwoWayHarness();
  sim = await h.startSim({ receiptDelayMs: 50 });
  api = await startApiDaemon(h, sim);
});
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  if (profile) rmSync(profile, { recursive: true, force: true });
  profile = undefined;
  await h.close();
});

async function launch(): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)`);
  profile = mkdtempSync(join(tmpdir(), 'parley-inbox-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1180, height: 640 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

describe('the agent inbox in a browser', () => {
  it('an MO appears within a second, the agent answers, the answer is delivered and its tick says so', async () => {
    // Some history, so the list has more than one conversation.
    await call(api.base, api.tokens.send, 'POST', '/v1/messages', { id: 'promo-1', to: '+14155550601', text: 'Spring sale: 20% off everything this week.' });
    await call(api.base, api.tokens.send, 'POST', '/v1/messages', { id: 'promo-2', to: '+14155550602', text: 'Your order 1042 has shipped.' });
    await h.until('history delivered', async () => (await h.schema.db.selectFrom('messages').select('id').where('status', '=', 'delivered').execute()).length === 2);

    browser = await launch();
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${api.base}/inbox/`);
    await page.fill('#token', api.tokens.agent);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#live.on', { timeout: 10_000 });
    await page.waitForSelector('.conversation[data-id]', { timeout: 10_000 });
    expect(await page.locator('.conversation').count()).toBe(2);

    const customer = '14155550603';
    expect(await sim.injectReply({ from: customer, to: '12345', text: 'Hi, can I change my delivery address?' }).acked).toBe(true);
    // From the moment the daemon publishes the customer's message, the page has one second.
    await h.until('inbound published', async () => (await h.redis.xlen(h.keys.inbound)) === 1, 10_000);
    const row = page.locator('.conversation[data-unanswered="true"]', { hasText: 'change my delivery address' });
    await row.waitFor({ timeout: 1000 });
    // Unanswered conversations come first.
    expect(await page.locator('.conversation').first().getAttribute('data-unanswered')).toBe('true');

    await row.click();
    await page.locator('.entry.in', { hasText: 'change my delivery address' }).waitFor({ timeout: 5000 });
    await page.click('#assign');
    await page.locator('#details', { hasText: 'assigned to alice' }).waitFor({ timeout: 5000 });

    // The reply box counts as the SMPP layer will split.
    await page.fill('#reply', 'Привет');
    await expect.poll(() => page.textContent('#counter')).toContain('UCS-2 · 1 segment');
    await page.fill('#reply', 'x'.repeat(161));
    await expect.poll(() => page.textContent('#counter')).toContain('GSM-7 · 2 segments');
    const answer = 'Of course: reply with the new address and we will update it.';
    await page.fill('#reply', answer);
    await expect.poll(() => page.textContent('#counter')).toContain('GSM-7 · 1 segment');
    await page.click('#send');

    await h.until('answer on the simulator', () => sim.arrivals.some((a) => a.text === answer && a.destination === customer && a.source === '12345'), 10_000);
    const tick = page.locator('.entry.out', { hasText: answer }).locator('.tick');
    await tick.waitFor({ timeout: 5000 });
    await expect.poll(() => tick.getAttribute('data-status'), { timeout: 10_000 }).toBe('delivered');
    expect(await tick.textContent()).toBe('✓✓');
    // Answered now: no longer first in the list as unanswered.
    await expect.poll(() => page.locator('.conversation[data-unanswered="true"]').count(), { timeout: 5000 }).toBe(0);
    expect(pageErrors).toEqual([]);

    const shot = process.env.PARLEY_INBOX_SCREENSHOT;
    if (shot) {
      // One more customer waiting, to show an unanswered conversation at the top of the list.
      expect(await sim.injectReply({ from: '14155550602', to: '12345', text: 'Where is my parcel?' }).acked).toBe(true);
      await page.locator('.conversation[data-unanswered="true"]').waitFor({ timeout: 5000 });
      await page.fill('#reply', 'Thanks! Your parcel arrives on Friday – tracking PX-1042.');
      await page.screenshot({ path: shot });
    }
  });
});
