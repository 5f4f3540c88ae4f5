import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeGracefully, listen } from '../../src/server/http.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, tokenFor } from '../support/gateway.ts';
import { createWorld, insertRow, type World } from '../support/world.ts';
import { startRealtimeGateway } from '../support/realtime.ts';

// Debian's chromium; `.ci/run` installs it. Elsewhere the browser case runs where the browser is.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const browserAvailable = existsSync(CHROMIUM) || process.env.CI === 'true';

let db: TestDatabase;
let world: World;
let server: Server;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  const token = await tokenFor(world.a.member, world.a.id);
  const api = createTestGateway(db, { graphiqlHeaders: { Authorization: `Bearer ${token}` } });
  server = await listen(api.yoga, '127.0.0.1', 0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  if (server) await closeGracefully(server, 1_000);
  await db?.close();
});

describe('GraphiQL', () => {
  it('is a page that names no outside URL, whose files the gateway serves', async () => {
    const html = await (await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('renderYogaGraphiQL');
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      const response = await fetch(`${base}${asset[1]}`);
      expect(response.status, asset[1]).toBe(200);
    }
    expect((await fetch(`${base}/graphiql/0.0.0/yoga-graphiql.umd.js`)).status).toBe(404);
  });

  it.runIf(browserAvailable)('runs the demo query in a real headless browser, offline, and shows the data', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const outside: string[] = [];
      page.on('request', (request) => {
        const url = request.url();
        if (!url.startsWith(base) && !url.startsWith('data:') && !url.startsWith('blob:')) outside.push(url);
      });
      const failures: string[] = [];
      page.on('pageerror', (error) => failures.push(error.message));
      await page.goto(`${base}/graphql`);
      // The editors load asynchronously; run once the demo query is in.
      await expect.poll(async () => page.locator('.graphiql-query-editor').innerText(), { timeout: 30_000 }).toContain('viewer');
      await page.locator('.graphiql-execute-button').click();
      const result = page.locator('.result-window');
      await expect.poll(async () => result.innerText(), { timeout: 30_000 }).toContain(world.a.member.email);
      expect(await result.innerText()).toMatch(/"role":\s*"MEMBER"/);
      if (process.env.GRAPHIQL_SCREENSHOT) await page.screenshot({ path: process.env.GRAPHIQL_SCREENSHOT });
      expect(outside).toEqual([]);
      expect(failures).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it.runIf(browserAvailable)('runs a subscription and shows each change as it is committed', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const realtime = await startRealtimeGateway(db, { graphiqlHeaders: { Authorization: `Bearer ${token}` } });
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const query = 'subscription { statusChanged { kind operation status } }';
      await page.goto(`${realtime.url}/graphql`);
      const editor = page.locator('.graphiql-query-editor');
      await expect.poll(async () => editor.innerText(), { timeout: 30_000 }).toContain('viewer');
      // Replace the demo query as a user would: select it all, then type (inserted whole, so no bracket is auto-closed).
      await editor.locator('.monaco-editor').first().click();
      await page.keyboard.press('Control+A');
      await page.keyboard.insertText(query);
      await expect.poll(async () => editor.innerText(), { timeout: 10_000 }).toContain('statusChanged');
      await page.locator('.graphiql-execute-button').click();
      await expect.poll(() => realtime.hub.stats.subscribers, { timeout: 30_000 }).toBe(1);
      const id = await insertRow(db.owner, 'analyses', { tenant_id: world.a.id, user_id: world.a.member.id, type: 'TEXT_ANALYSIS', input: 'seen' });
      const result = page.locator('.result-window');
      await expect.poll(async () => result.innerText(), { timeout: 30_000 }).toMatch(/"operation":\s*"INSERT"[\s\S]*"status":\s*"PENDING"/);
      await db.owner.query(`update public.analyses set status = 'PROCESSING' where id = $1`, [id]);
      await expect.poll(async () => result.innerText(), { timeout: 30_000 }).toMatch(/"status":\s*"PROCESSING"/);
      if (process.env.GRAPHIQL_SCREENSHOT) await page.screenshot({ path: process.env.GRAPHIQL_SCREENSHOT.replace(/\.png$/, '-subscription.png') });
    } finally {
      await browser.close();
      await realtime.close();
    }
  }, 120_000);
});
