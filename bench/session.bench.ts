/**
 * Session figures through the real renderer in Chromium, the real app core
 * (web host), its session host process and the sandbox's data-channel agent:
 *  - flood throughput (`head -c N /dev/zero | tr '\0' x`) until xterm has parsed
 *    it, through the built-in client, through session-manager-plugin under
 *    node-pty (when SESSION_MANAGER_PLUGIN is set), and from a local pty straight
 *    into the same TerminalView (the baseline; the ratio is the figure);
 *  - keystroke → echo latency while a flood runs (median, p99);
 *  - "Connect as" click → first byte of the shell, against a scripted
 *    SDK baseline (GetRoleCredentials + broker startSession + the same backend);
 *  - memory of the session host process and the renderer during the flood.
 * FLOOD_MB (default 32) sets the flood size.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTokenCommand,
  RegisterClientCommand,
  SSOOIDCClient,
  StartDeviceAuthorizationCommand,
} from '@aws-sdk/client-sso-oidc';
import { GetRoleCredentialsCommand, SSOClient } from '@aws-sdk/client-sso';
import { build } from 'esbuild';
import * as pty from 'node-pty';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { BrokerClient } from '../app/brokerClient/brokerClient';
import { DataChannelClient } from '../app/session/dataChannel';
import { chromiumLaunchOptions } from '../e2e/chromium';
import { startHost } from '../e2e/host/server';
import { startSandbox, type Sandbox } from '../sandbox/src/index';
import type { BenchRow } from './types';

const here = path.dirname(fileURLToPath(import.meta.url));
const FLOOD_BYTES = Number(process.env.FLOOD_MB ?? 32) * 1024 * 1024;
const ECHO_SAMPLES = 30;
const plugin =
  process.env.SESSION_MANAGER_PLUGIN && existsSync(process.env.SESSION_MANAGER_PLUGIN)
    ? process.env.SESSION_MANAGER_PLUGIN
    : '';
const floodCommand = `head -c ${FLOOD_BYTES} /dev/zero | tr '\\0' x; echo FLOOD-$((1+1))DONE`;
const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const epochNow = () => performance.timeOrigin + performance.now();

// In-page code is source text (tsx's helpers do not exist in the page).
const activeTerminal = `document.querySelector('[data-testid="terminal-pane"]:not([style*="none"]) [data-testid="terminal"]')`;
const floodDone = `(${activeTerminal}?.roleshellTerminal?.text() ?? document.getElementById('terminal')?.roleshellTerminal?.text() ?? '').includes('FLOOD-2DONE')`;

interface AppRun {
  throughputMBps: number;
  clickToFirstByteMs: number;
  echoMs: number[];
  hostMemoryMB: { idle: number; peak: number };
  rendererMemoryMB: { idle: number; peak: number };
}

async function sessionHostRssMB(): Promise<number> {
  // The web host runs in this process; its session host is a child running hostMain.
  const out = execFileSync('ps', ['-o', 'pid=,rss=,args=', '--ppid', String(process.pid)], {
    encoding: 'utf8',
  });
  const line = out.split('\n').find((l) => l.includes('hostMain'));
  return line ? Number(line.trim().split(/\s+/)[1]) / 1024 : 0;
}

async function rendererHeapMB(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  await cdp.detach();
  return (metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0) / 1024 / 1024;
}

async function runApp(
  browser: Browser,
  sandbox: Sandbox,
  dir: string,
  backendEnv: Record<string, string>,
): Promise<AppRun> {
  const host = await startHost({
    dataDir: path.join(dir, `data-${Object.values(backendEnv).join('-').replace(/\W/g, '')}`),
    env: {
      HOME: dir,
      PATH: process.env.PATH ?? '',
      ROLESHELL_START_URL: sandbox.startUrl,
      ROLESHELL_SSO_REGION: sandbox.region,
      ROLESHELL_AWS_ENDPOINT: sandbox.endpoint,
      ROLESHELL_BROKER_ARN: sandbox.brokerFunctionArn,
      ROLESHELL_REGIONS: 'eu-west-1',
      ...backendEnv,
    },
    log: () => {},
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
  try {
    const page = await context.newPage();
    await page.goto(host.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('signed-in').waitFor({ timeout: 60_000 });
    const accounts = page.getByTestId('account-list');
    await accounts.getByRole('button', { name: /^prod-workloads\b/ }).click();
    await accounts
      .getByTestId('permission-sets')
      .getByRole('button', { name: 'AdministratorAccess', exact: true })
      .click();
    const connect = page
      .getByTestId('target-row')
      .filter({ hasText: 'prod-web-1' })
      .first()
      .getByRole('button', { name: 'Connect as ops-admin' });
    await connect.waitFor();
    await page.evaluate(
      `window.__firstByte = new Promise((resolve) => { const off = window.roleshell.onOutput(() => { off(); resolve(performance.timeOrigin + performance.now()); }); })`,
    );
    const clicked = epochNow();
    await connect.click();
    const firstByte = (await page.evaluate('window.__firstByte')) as number;
    const pane = page.locator('[data-testid="terminal-pane"]:visible');
    await pane.getByTestId('session-status').and(page.locator('[data-status="connected"]')).waitFor();
    await page.waitForFunction(`${activeTerminal}?.roleshellTerminal?.text().includes('$')`);
    await pane.getByTestId('terminal').click();
    const idleHost = await sessionHostRssMB();
    const idleRenderer = await rendererHeapMB(page);

    // Flood: Enter → the end marker parsed by xterm.
    let peakHost = idleHost;
    let peakRenderer = idleRenderer;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakHost = Math.max(peakHost, await sessionHostRssMB());
        peakRenderer = Math.max(peakRenderer, await rendererHeapMB(page));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    await page.keyboard.type(floodCommand);
    const floodStart = performance.now();
    await page.keyboard.press('Enter');
    await page.waitForFunction(floodDone, undefined, { timeout: 15 * 60_000, polling: 100 });
    const floodMs = performance.now() - floodStart;

    // Keystrokes while a flood runs: each "Q" until its echo reaches the renderer.
    await page.keyboard.type(`head -c ${FLOOD_BYTES * 4} /dev/zero | tr '\\0' x`);
    await page.keyboard.press('Enter');
    await page.waitForTimeout(500);
    await page.evaluate(
      `window.__echo = []; window.roleshell.onOutput((id, data) => { if (data.includes(81)) window.__echo.push(performance.timeOrigin + performance.now()); })`,
    );
    const echoMs: number[] = [];
    for (let i = 0; i < ECHO_SAMPLES; i++) {
      const before = (await page.evaluate('window.__echo.length')) as number;
      const sent = epochNow();
      await page.keyboard.press('Shift+KeyQ');
      const arrived = await page
        .waitForFunction(`window.__echo.length > ${before} && window.__echo[${before}]`, undefined, {
          timeout: 10_000,
          polling: 'raf',
        })
        .then((handle) => handle.jsonValue() as Promise<number>)
        .catch(() => undefined);
      if (arrived) echoMs.push(arrived - sent);
      await page.waitForTimeout(50);
    }
    await page.keyboard.press('Control+C');
    sampling = false;
    await sampler;
    return {
      throughputMBps: FLOOD_BYTES / 1024 / 1024 / (floodMs / 1000),
      clickToFirstByteMs: firstByte - clicked,
      echoMs,
      hostMemoryMB: { idle: idleHost, peak: peakHost },
      rendererMemoryMB: { idle: idleRenderer, peak: peakRenderer },
    };
  } finally {
    await context.close();
    await host.close();
  }
}

/** The same TerminalView fed by a local pty over a loopback WebSocket. */
async function runLocalPty(browser: Browser): Promise<number> {
  const bundle = await build({
    entryPoints: [path.join(here, 'sessionBench/localPtyPage.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
    outdir: path.join(here, 'out'),
    logLevel: 'silent',
  });
  const js = bundle.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const css = bundle.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  const server = createServer((request, response) => {
    if (request.url === '/page.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          `<!doctype html><style>${css} body{margin:0} #terminal{width:1200px;height:640px}</style><div id="terminal"></div><script src="/page.js"></script>`,
        );
  });
  const wss = new WebSocketServer({ server, path: '/pty' });
  let started = 0;
  wss.on('connection', (socket) => {
    started = performance.now();
    const child = pty.spawn('/bin/sh', ['-c', floodCommand], {
      cols: 160,
      rows: 40,
      env: { PATH: process.env.PATH ?? '' },
    });
    child.onData((data) => socket.send(Buffer.from(data, 'utf8'), { binary: true }));
    socket.on('close', () => child.kill());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(floodDone, undefined, { timeout: 15 * 60_000, polling: 100 });
    return FLOOD_BYTES / 1024 / 1024 / ((performance.now() - started) / 1000);
  } finally {
    await context.close();
    wss.close();
    server.close();
  }
}

/** Scripted baseline: no UI — GetRoleCredentials, broker startSession, open the channel, first byte. */
async function scriptedFirstByte(sandbox: Sandbox): Promise<number> {
  const oidc = new SSOOIDCClient({ region: sandbox.region, endpoint: sandbox.endpoint });
  const sso = new SSOClient({ region: sandbox.region, endpoint: sandbox.endpoint });
  const registration = await oidc.send(
    new RegisterClientCommand({ clientName: 'bench', clientType: 'public' }),
  );
  const device = await oidc.send(
    new StartDeviceAuthorizationCommand({
      clientId: registration.clientId,
      clientSecret: registration.clientSecret,
      startUrl: sandbox.startUrl,
    }),
  );
  let accessToken: string | undefined;
  for (let i = 0; i < 60 && !accessToken; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    accessToken = await oidc
      .send(
        new CreateTokenCommand({
          clientId: registration.clientId,
          clientSecret: registration.clientSecret,
          grantType: 'urn:ietf:params:oauth:grant-type:device_code',
          deviceCode: device.deviceCode,
        }),
      )
      .then((out) => out.accessToken)
      .catch(() => undefined);
  }
  const broker = new BrokerClient({ functionArn: sandbox.brokerFunctionArn, endpoint: sandbox.endpoint });
  try {
    const start = performance.now();
    const out = await sso.send(
      new GetRoleCredentialsCommand({
        accessToken,
        accountId: '222222222222',
        roleName: 'AdministratorAccess',
      }),
    );
    const c = out.roleCredentials!;
    const credentials = {
      accessKeyId: c.accessKeyId!,
      secretAccessKey: c.secretAccessKey!,
      sessionToken: c.sessionToken!,
      expiration: c.expiration!,
    };
    const started = await broker.startSession(credentials, {
      region: 'eu-west-1',
      instanceId: 'i-0a1b2c3d4e5f60001',
      accountId: '222222222222',
    });
    let elapsed: number;
    if (plugin) {
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: os.tmpdir(),
        AWS_SSM_START_SESSION_RESPONSE_BENCH: JSON.stringify(started.session),
      };
      const child = pty.spawn(
        plugin,
        [
          'AWS_SSM_START_SESSION_RESPONSE_BENCH',
          'eu-west-1',
          'StartSession',
          '',
          JSON.stringify({ Target: 'i-0a1b2c3d4e5f60001' }),
          sandbox.endpoint,
        ],
        { cols: 80, rows: 24, env },
      );
      elapsed = await new Promise<number>((resolve) => {
        const sub = child.onData(() => {
          sub.dispose();
          resolve(performance.now() - start);
        });
      });
      child.kill();
    } else {
      const client = await DataChannelClient.open(started.session.StreamUrl, started.session.TokenValue);
      elapsed = await new Promise<number>((resolve) =>
        client.once('output', () => resolve(performance.now() - start)),
      );
      client.close();
    }
    await broker.terminateSession(credentials, {
      region: 'eu-west-1',
      sessionId: started.session.SessionId,
      accountId: '222222222222',
    });
    return elapsed;
  } finally {
    broker.destroy();
    oidc.destroy();
    sso.destroy();
  }
}

export default async function sessionBench(): Promise<BenchRow[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-session-bench-'));
  const sandbox = await startSandbox({ approve: 'alice' });
  const browser = await chromium.launch(chromiumLaunchOptions);
  try {
    const local = await runLocalPty(browser);
    const builtIn = await runApp(browser, sandbox, dir, { ROLESHELL_SESSION_BACKEND: 'builtIn' });
    const withPlugin = plugin
      ? await runApp(browser, sandbox, dir, { SESSION_MANAGER_PLUGIN: plugin })
      : undefined;
    const baseline = await scriptedFirstByte(sandbox);
    const mb = FLOOD_BYTES / 1024 / 1024;
    const rows: BenchRow[] = [
      {
        figure: `flood ${mb} MB → parsed by xterm: local pty straight in (baseline)`,
        value: round(local),
        unit: 'MB/s',
        comparedTo: 'same TerminalView, no session',
      },
      {
        figure: `flood ${mb} MB → parsed by xterm: built-in client`,
        value: round(builtIn.throughputMBps),
        unit: 'MB/s',
        comparedTo: `${round(builtIn.throughputMBps / local, 2)}× local pty (target ≥ 0.8×)`,
      },
    ];
    if (withPlugin)
      rows.push({
        figure: `flood ${mb} MB → parsed by xterm: session-manager-plugin under node-pty`,
        value: round(withPlugin.throughputMBps),
        unit: 'MB/s',
        comparedTo: `${round(withPlugin.throughputMBps / local, 2)}× local pty (target ≥ 0.8×)`,
      });
    else
      rows.push({
        figure: 'flood through session-manager-plugin',
        value: 0,
        unit: '-',
        comparedTo: 'skipped: set SESSION_MANAGER_PLUGIN to a plugin binary',
      });
    for (const [name, run] of [
      ['built-in client', builtIn],
      ['plugin', withPlugin],
    ] as const) {
      if (!run) continue;
      rows.push(
        {
          figure: `keystroke → echo during a flood, ${name} (median of ${run.echoMs.length})`,
          value: round(percentile(run.echoMs, 50)),
          unit: 'ms',
          comparedTo: 'target p99 < 50 ms',
        },
        {
          figure: `keystroke → echo during a flood, ${name} (p99)`,
          value: round(percentile(run.echoMs, 99)),
          unit: 'ms',
          comparedTo: `target < 50 ms; ${ECHO_SAMPLES - run.echoMs.length} lost`,
        },
        {
          figure: `"Connect as" click → first shell byte, ${name}`,
          value: round(run.clickToFirstByteMs),
          unit: 'ms',
          comparedTo: `${round(run.clickToFirstByteMs / baseline, 2)}× scripted SDK start (${round(baseline)} ms; target ≤ 1.1×)`,
        },
        {
          figure: `session host memory during the flood, ${name} (peak above idle)`,
          value: round(run.hostMemoryMB.peak - run.hostMemoryMB.idle),
          unit: 'MB',
          comparedTo: `idle ${round(run.hostMemoryMB.idle)} MB; target < 100 MB above idle`,
        },
        {
          figure: `renderer JS heap during the flood, ${name} (peak above idle)`,
          value: round(run.rendererMemoryMB.peak - run.rendererMemoryMB.idle),
          unit: 'MB',
          comparedTo: `idle ${round(run.rendererMemoryMB.idle)} MB; target < 100 MB above idle`,
        },
      );
    }
    return rows;
  } finally {
    await browser.close();
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  }
}
