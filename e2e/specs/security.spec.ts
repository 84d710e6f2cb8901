import WebSocket from 'ws';
import { expect, target, test } from '../fixtures';

/** Specs compile without DOM types; code run in the page reaches the bridge through this view of globalThis. */
type PageGlobal = {
  roleshell: Record<string, unknown> & { call(name: string, input: unknown): Promise<unknown> };
};

/** Opens a WebSocket to the host and reports how it ended: 'open' or the HTTP status of the refusal. */
function tryConnect(url: string, headers: Record<string, string>): Promise<number | 'open'> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => {
      socket.close();
      resolve('open');
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', (error) => {
      if (!String(error.message).includes('Unexpected server response')) reject(error);
    });
  });
}

test('window.roleshell has exactly the preload shape and cannot be replaced', async ({ launchApp }) => {
  const { page } = await launchApp();
  await expect(page.getByTestId('first-run')).toBeVisible();
  const shape = await page.evaluate(() => {
    const page = globalThis as unknown as { roleshell: Record<string, unknown>; require?: unknown };
    const bridge = page.roleshell;
    const keys = Object.keys(bridge).sort();
    const types = keys.map((key) => typeof bridge[key]);
    let replaced = true;
    try {
      page.roleshell = { call: () => 'fake' };
    } catch {
      replaced = false;
    }
    replaced = replaced && page.roleshell !== bridge;
    return { keys, types, replaced, hasRequire: typeof page.require };
  });
  expect(shape).toEqual({
    keys: ['call', 'on', 'onOutput'],
    types: ['function', 'function', 'function'],
    replaced: false,
    hasRequire: 'undefined',
  });
});

test('an unknown call and bad input come back as API errors, not exceptions', async ({ launchApp }) => {
  const { page } = await launchApp();
  await expect(page.getByTestId('first-run')).toBeVisible();
  const results = await page.evaluate(async () => {
    const bridge = (globalThis as unknown as PageGlobal).roleshell;
    return [
      await bridge.call('readFile', '/etc/passwd'),
      await bridge.call('saveSettings', { startUrl: 42 }),
    ];
  });
  expect(results[0]).toEqual({
    ok: false,
    error: { code: 'InvalidInput', message: 'Unknown call: readFile' },
  });
  expect(results[1]).toMatchObject({
    ok: false,
    error: { code: 'InvalidInput', fields: [{ path: 'startUrl' }] },
  });
});

test.describe('web host', () => {
  test.skip(target !== 'web', 'the loopback host exists only for the web target');

  test('refuses WebSockets without the launch token or from another origin', async ({ launchApp }) => {
    const app = await launchApp();
    const host = new URL(app.url);
    const token = host.searchParams.get('token')!;
    const wsUrl = (query: string) => `ws://${host.host}/__roleshell/ws${query}`;
    const ownOrigin = host.origin;

    expect(await tryConnect(wsUrl(''), { Origin: ownOrigin })).toBe(401);
    expect(await tryConnect(wsUrl('?token=wrong'), { Origin: ownOrigin })).toBe(401);
    expect(await tryConnect(wsUrl(`?token=${token}`), { Origin: 'http://evil.example' })).toBe(403);
    expect(await tryConnect(wsUrl(`?token=${token}`), { Origin: `http://localhost:${host.port}` })).toBe(403);
    expect(await tryConnect(wsUrl(`?token=${token}`), {})).toBe(403);
    // A rebound DNS name pointing at 127.0.0.1 carries its own Host header.
    expect(await tryConnect(wsUrl(`?token=${token}`), { Origin: ownOrigin, Host: 'evil.example' })).toBe(421);
    // The same request with the right token and origin is accepted, so the refusals above are the checks at work.
    expect(await tryConnect(wsUrl(`?token=${token}`), { Origin: ownOrigin })).toBe('open');
    expect(app.logs.some((line) => line.includes('refused WebSocket: Bad Token'))).toBe(true);
  });

  test('the app opened without its token says how to get in, and reaches nothing', async ({
    launchApp,
    browser,
  }) => {
    const app = await launchApp();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(new URL(app.url).origin);
    await expect(page.getByText('This address is missing its token').first()).toBeVisible();
    expect(app.logs.some((line) => line.includes('refused WebSocket: Bad Token'))).toBe(true);
    await context.close();
  });

  test('a page from another origin cannot drive the host', async ({ launchApp, browser }) => {
    const app = await launchApp();
    const host = new URL(app.url);
    const context = await browser.newContext();
    const page = await context.newPage();
    // Serve an "attacker" page on a different origin (a data: URL has an opaque origin).
    await page.goto('data:text/html,<title>other site</title>');
    const outcome = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const socket = new WebSocket(url);
          socket.onopen = () => resolve('open');
          socket.onerror = () => resolve('refused');
        }),
      `ws://${host.host}/__roleshell/ws?token=${host.searchParams.get('token')}`,
    );
    expect(outcome).toBe('refused');
    await context.close();
  });

  test('serves the renderer with a strict Content-Security-Policy and no inline script', async ({
    launchApp,
  }) => {
    const app = await launchApp();
    const response = await app.page.request.get(app.url);
    const csp = response.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("'unsafe-eval'");
    expect(csp).toContain("default-src 'none'");
    // An injected inline script must not run (what an XSS would try first).
    const inlineRan = await app.page.evaluate(async () => {
      const page = globalThis as unknown as {
        document: {
          createElement(tag: string): { textContent: string };
          head: { append(node: unknown): void };
        };
        inlineRan?: boolean;
      };
      const script = page.document.createElement('script');
      script.textContent = 'globalThis.inlineRan = true';
      page.document.head.append(script);
      await new Promise((resolve) => setTimeout(resolve, 50));
      return page.inlineRan === true;
    });
    expect(inlineRan).toBe(false);
    const wrongHost = await app.page.request.get(app.url, { headers: { Host: 'evil.example' } });
    expect(wrongHost.status()).toBe(421);
  });
});
