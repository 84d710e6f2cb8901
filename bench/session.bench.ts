/**
 * Session figures through the real renderer in Chromium, the real app core
 * (web host), its session host process and the real sandbox (in its own
 * process, bench/sandboxProcess.ts, as the remote side would be): a remote
 * output flood (`head -c N /dev/zero | tr '\0' x`) until xterm has parsed its
 * last byte, through the built-in data-channel client and, when
 * SESSION_MANAGER_PLUGIN names one, through session-manager-plugin, side by
 * side with the same flood from a local pty written straight into an xterm in
 * the same page; keystroke-to-echo latency during a flood, with the bytes that
 * sat in the socket queues ahead of it; RSS of the session host and the
 * renderer, idle and at the flood's peak; and Connect click → first byte of
 * the remote shell, per backend in both modes, each against its like-for-like
 * scripted start run just before it: direct mode against SDK StartSession +
 * the same client, broker mode against the app's own BrokerClient (fresh
 * proof, Invoke) + the same client, no UI either way.
 *
 * Chromium runs with WebGL off, so TerminalView falls back to xterm's DOM
 * renderer, as the app does on a machine without WebGL (headless Chromium's
 * WebGL is SwiftShader, software, and parses a flood several times slower
 * than the DOM renderer; ROLESHELL_BENCH_SESSION_WEBGL=1 measures it).
 * ROLESHELL_BENCH_SESSION_FLOOD_MB sets the flood size (default 8; the
 * latency run's flood is three times that, so every keystroke lands in it);
 * ROLESHELL_BENCH_SESSION_CONNECT_ONLY=1 runs only the connect rows;
 * ROLESHELL_TRACE_CONNECT=1 prints every connect's hops on one clock;
 * ROLESHELL_BENCH_SESSION_CHROME_TRACE=dir writes a Chromium performance trace
 * (timeline, CPU profile, the page's hops as user-timing marks) of each app
 * run's last connect, to see what the renderer does between click and first byte.
 */
import { SSMClient, StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as pty from 'node-pty';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { HIGH_WATERMARK_BYTES, LOW_WATERMARK_BYTES } from '../app/api/flowControl';
import { BrokerClient } from '../app/brokerClient/brokerClient';
import { traceHop } from '../app/session/connectTrace';
import { DataChannelClient } from '../app/session/dataChannel/client';
import { chromiumLaunchOptions } from '../e2e/chromium';
import { startHost } from '../e2e/host/server';
import type { Sandbox } from '../sandbox/src/index';
import { clientConfig, permissionSetCredentials, signIn } from '../sandbox/src/testing/sdk';
import { startSandboxProcess, type SandboxProcess } from './sandboxProcess';
import type { BenchRow } from './types';

/** ROLESHELL_BENCH_SESSION_WEBGL=1 leaves WebGL on: headless Chromium then draws through SwiftShader (software). */
const WEBGL = process.env.ROLESHELL_BENCH_SESSION_WEBGL === '1';
/** ROLESHELL_BENCH_SESSION_CONNECT_ONLY=1: only the click-to-first-byte rows (no floods), for quick runs. */
const CONNECT_ONLY = process.env.ROLESHELL_BENCH_SESSION_CONNECT_ONLY === '1';
/** ROLESHELL_BENCH_SESSION_CHROME_TRACE=dir: a Chromium performance trace of each app's last timed connect, in dir. */
const CHROME_TRACE_DIR = process.env.ROLESHELL_BENCH_SESSION_CHROME_TRACE ?? '';
let traceCount = 0;
const FLOOD_MB = Number(process.env.ROLESHELL_BENCH_SESSION_FLOOD_MB) || 8;
const FLOOD_BYTES = Math.round(FLOOD_MB * 1024 * 1024);
const plugin = process.env.SESSION_MANAGER_PLUGIN ?? '';
const ACCOUNT_ID = '222222222222';
const target = {
  accountName: 'prod-workloads',
  permissionSet: 'AdministratorAccess',
  instanceName: 'prod-web-1',
  instanceId: 'i-0a1b2c3d4e5f60001',
  linuxUser: 'ops-admin',
};
const STARTS = 5;
/** The end marker is split in the command so the echoed command line cannot match. */
const floodCommandOf = (bytes: number) => `head -c ${bytes} /dev/zero | tr '\\0' x; echo FLOOD""DONE`;
const floodCommand = floodCommandOf(FLOOD_BYTES);
/** The latency run's flood is longer, so every keystroke lands while it runs. */
const ECHO_FLOOD_BYTES = 3 * FLOOD_BYTES;

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const median = (values: number[]) => percentile(values, 50);
/** A row's value must be a number (JSON has no NaN): a figure with no samples reads 0 and says so. */
const finite = (value: number) => (Number.isFinite(value) ? value : 0);
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/**
 * In the page before the app loads: taps the web host's socket (our listener runs before the app's, so it
 * sees each output frame as it arrives), records clicks on menu items and keydowns, and offers helpers
 * that wait until xterm has parsed a marker (via the terminal element's `roleshellTerminal` handle).
 * Passed as source text: tsx's transform would otherwise add helpers that do not exist in the page.
 */
const tapScript = `(() => {
  const bench = (window.__bench = { frames: 0, bytes: 0, firstFrameAfterClick: undefined, clickAt: undefined,
    keyAt: {}, echoArrived: {}, tail: '', doneArrivedAt: undefined, watch: [], afterClick: '', trace: [],
    startCallIds: new Set() });
  const decoder = new TextDecoder();
  const preamble = 'Starting session with SessionId: ';
  bench.remoteStarted = (text) => {
    const t = text.trimStart();
    if (preamble.startsWith(t)) return false;
    if (!t.startsWith(preamble)) return true;
    return t.slice(preamble.length).replace(/^\\S\\S*[\\r\\n]*/, '').length > 0;
  };
  // Also a user-timing mark, so a Chromium trace (ROLESHELL_BENCH_SESSION_CHROME_TRACE) shows each hop.
  const hop = (name) => { bench.trace.push([performance.timeOrigin + performance.now(), name]); performance.mark(name); };
  // Main-thread tasks over 50 ms while a connect is timed: what a frame waits behind.
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        if (bench.clickAt !== undefined && bench.firstFrameAfterClick === undefined)
          bench.trace.push([performance.timeOrigin + entry.startTime, 'renderer: long task ' + entry.duration.toFixed(0) + ' ms']);
    }).observe({ type: 'longtask' });
  } catch {}
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        if (!(event.data instanceof ArrayBuffer)) {
          if (bench.clickAt === undefined || bench.firstFrameAfterClick !== undefined) return;
          const message = JSON.parse(event.data);
          if (message.type === 'result' && bench.startCallIds.has(message.id)) hop('renderer: session.start answered');
          else if (message.type === 'event' && message.name === 'session.state') hop('renderer: state ' + message.payload.status);
          return;
        }
        const frame = new Uint8Array(event.data);
        const data = frame.subarray(1 + frame[0]);
        const now = performance.now();
        bench.frames++;
        bench.bytes += data.length;
        // The first byte from the remote shell: session-manager-plugin first prints its own
        // "Starting session with SessionId: …" line, before it has dialled anything, so that line does not count.
        if (bench.clickAt !== undefined && bench.firstFrameAfterClick === undefined) {
          bench.afterClick += decoder.decode(data);
          if (bench.remoteStarted(bench.afterClick)) {
            bench.firstFrameAfterClick = now;
            hop('renderer: first remote byte');
            bench.onFirstByte?.();
          }
        }
        const text = bench.tail + decoder.decode(data);
        if (bench.doneArrivedAt === undefined && text.includes('FLOODDONE')) bench.doneArrivedAt = now;
        // A key counts only once it has been pressed: the same letter in earlier output is not its echo.
        for (const key of bench.watch) {
          if (bench.echoArrived[key] === undefined && bench.keyAt[key] !== undefined && text.includes(key))
            bench.echoArrived[key] = now;
        }
        bench.tail = text.slice(-16);
      });
    }
    send(data) {
      if (typeof data === 'string' && data.includes('"session.start"') && bench.clickAt !== undefined) {
        bench.startCallIds.add(JSON.parse(data).id);
        hop('renderer: session.start sent');
      }
      return super.send(data);
    }
  };
  document.addEventListener('click', (event) => {
    if (event.target instanceof Element && event.target.closest('[role="menuitem"]')) {
      bench.clickAt = performance.now();
      hop('renderer: click');
    }
  }, true);
  document.addEventListener('keydown', (event) => { bench.keyAt[event.key] = performance.now(); }, true);
  /**
   * The way back: the next click on a link (the side navigation's Instances) until the frame that shows the
   * instance table is painted (a task posted from that frame's animation callback runs after its paint).
   */
  bench.armReturn = () => {
    bench.returnMs = undefined;
    document.addEventListener('click', (event) => {
      if (!(event.target instanceof Element && event.target.closest('a'))) return;
      const start = event.timeStamp;
      const frame = () => {
        const table = document.querySelector('table[aria-label="Instances"]');
        if (!table || table.offsetParent === null || !table.querySelector('tbody tr')) return requestAnimationFrame(frame);
        setTimeout(() => { bench.returnMs = performance.now() - start; });
      };
      requestAnimationFrame(frame);
    }, { capture: true, once: true });
  };
  /**
   * Resolves once the first remote byte after the click has arrived (rejects after timeoutMs): awaited
   * in the page, so the bench does not poll the page (each poll is a DevTools round trip through the
   * browser process and a task on the page's main thread, CPU the scripted baseline does not pay).
   */
  bench.firstByte = (timeoutMs) => new Promise((resolve, reject) => {
    if (bench.firstFrameAfterClick !== undefined) return resolve();
    const timer = setTimeout(() => reject(new Error('no remote byte within ' + timeoutMs + ' ms')), timeoutMs);
    bench.onFirstByte = () => { clearTimeout(timer); bench.onFirstByte = undefined; resolve(); };
  });
  bench.terminalText = () => {
    const element = [...document.querySelectorAll('[data-testid="terminal"]')].find((e) => e.offsetParent !== null);
    return element?.roleshellTerminal?.text() ?? '';
  };
  bench.renderer = () => {
    const element = [...document.querySelectorAll('[data-testid="terminal"]')].find((e) => e.offsetParent !== null);
    return element?.roleshellTerminal?.renderer() ?? 'none';
  };
  /**
   * Notes when xterm has parsed each watched text, from the terminal's own write callback (the handle's
   * onParsed): reading the whole buffer every frame instead took the page's main thread from xterm's
   * parser under load, until a flood never finished.
   */
  bench.parsedAt = {};
  bench.parsedWatch = ['FLOODDONE'];
  bench.hookParsed = () => {
    const element = [...document.querySelectorAll('[data-testid="terminal"]')].find((e) => e.offsetParent !== null);
    const parsedDecoder = new TextDecoder();
    let parsedTail = '';
    element.roleshellTerminal.onParsed((data) => {
      const text = parsedTail + parsedDecoder.decode(data, { stream: true });
      const now = performance.now();
      for (const key of bench.parsedWatch) {
        const pressed = key === 'FLOODDONE' || bench.keyAt[key] !== undefined;
        if (bench.parsedAt[key] === undefined && pressed && text.includes(key)) bench.parsedAt[key] = now;
      }
      parsedTail = text.slice(-16);
    });
  };
  /** Resolves with performance.now() when xterm had parsed text (watched from hookParsed). */
  bench.parsed = (text, timeoutMs) => new Promise((resolve, reject) => {
    const deadline = performance.now() + timeoutMs;
    const check = () => {
      if (bench.parsedAt[text] !== undefined) resolve(bench.parsedAt[text]);
      else if (performance.now() > deadline) reject(new Error('not parsed in time: ' + text + ' (' + bench.bytes +
        ' bytes in ' + bench.frames + ' frames reached the page; the end marker ' +
        (bench.doneArrivedAt === undefined ? 'never arrived' : 'arrived but xterm never showed it') +
        '; the terminal ends with ' + JSON.stringify(bench.terminalText().trimEnd().slice(-80)) + ')'));
      else setTimeout(check, 20);
    };
    check();
  });
})()`;

/** One connect's hops in the page, on the wall clock the core, session host and sandbox trace on too. */
function printTrace(trace: Array<[number, string]>): void {
  for (const [t, hop] of trace) process.stderr.write(`[connect-trace] ${t.toFixed(2)} page ${hop}\n`);
}

/** Local pty → loopback WebSocket → an xterm (same build, DOM renderer) overlaid on the app's terminal in the same page. */
const localXtermScript = `async function (url) {
  const container = document.createElement('div');
  const pane = [...document.querySelectorAll('[data-testid="terminal"]')].find((e) => e.offsetParent !== null);
  const box = pane.getBoundingClientRect();
  Object.assign(container.style, { position: 'fixed', left: box.left + 'px', top: box.top + 'px',
    width: box.width + 'px', height: box.height + 'px', zIndex: 1000, background: '#101418' });
  document.body.appendChild(container);
  const terminal = new Terminal({ scrollback: 5000, fontSize: 13,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace' });
  terminal.open(container);
  // Same renderer as the app's terminal: WebGL when the app got it, else xterm's DOM renderer.
  if (pane.roleshellTerminal.renderer() === 'webgl' && window.WebglAddon) terminal.loadAddon(new WebglAddon.WebglAddon());
  terminal.resize(pane.roleshellTerminal.size().cols, pane.roleshellTerminal.size().rows);
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  let written = 0, unacked = 0, start = 0, bytes = 0;
  const result = await new Promise((resolve) => {
    socket.onopen = () => { start = performance.now(); socket.send('go'); };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') {
        // The pty has exited: everything is sent; resolve once xterm has parsed what is queued.
        terminal.write('', () => resolve({ bytes, ms: performance.now() - start }));
        return;
      }
      const data = new Uint8Array(event.data);
      bytes += data.length;
      terminal.write(data, () => {
        unacked += data.length;
        if (unacked >= 5000) { socket.send(String(unacked)); unacked = 0; }
      });
    };
  });
  socket.close();
  terminal.dispose();
  container.remove();
  return result;
}`;

interface ProcessInfo {
  pid: number;
  ppid: number;
  rssKb: number;
  args: string;
}

async function processes(): Promise<ProcessInfo[]> {
  const { stdout } = await run('ps', ['-eo', 'pid=,ppid=,rss=,args=']);
  return stdout
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => !!match)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), rssKb: Number(m[3]), args: m[4]! }));
}

/** RSS (MB) of this bench's session host process and of its largest Chromium renderer process. */
async function memory(): Promise<{ hostMb: number; rendererMb: number }> {
  const all = await processes();
  const descendants = new Set<number>([process.pid]);
  for (let changed = true; changed;) {
    changed = false;
    for (const p of all) {
      if (!descendants.has(p.pid) && descendants.has(p.ppid)) {
        descendants.add(p.pid);
        changed = true;
      }
    }
  }
  const mine = all.filter((p) => descendants.has(p.pid));
  const host = mine.filter((p) => /hostMain|sessionHost/.test(p.args));
  const renderers = mine.filter((p) => p.args.includes('--type=renderer'));
  return {
    hostMb: Math.max(0, ...host.map((p) => p.rssKb)) / 1024,
    rendererMb: Math.max(0, ...renderers.map((p) => p.rssKb)) / 1024,
  };
}

/**
 * Kernel socket queues on loopback (`ss -tn`: Recv-Q + Send-Q of both ends) for the connections to each
 * port, sampled every 200 ms until stopped; returns the largest total seen per port, in bytes.
 */
function sampleSocketQueues(ports: Record<string, number>): { stop(): Promise<Record<string, number>> } {
  const peak: Record<string, number> = Object.fromEntries(Object.keys(ports).map((name) => [name, 0]));
  return sampleUntilStopped(200, peak, async () => {
    const { stdout } = await run('ss', ['-tnH', 'state', 'established']).catch(() => ({ stdout: '' }));
    const totals: Record<string, number> = {};
    for (const line of stdout.split('\n')) {
      const [recvQ, sendQ, local, peer] = line.trim().split(/\s+/);
      if (!peer) continue;
      for (const [name, port] of Object.entries(ports)) {
        if (local!.endsWith(`:${port}`) || peer.endsWith(`:${port}`))
          totals[name] = (totals[name] ?? 0) + Number(recvQ) + Number(sendQ);
      }
    }
    for (const [name, total] of Object.entries(totals)) peak[name] = Math.max(peak[name] ?? 0, total);
  });
}

/** Samples memory every 250 ms until stopped; returns the peaks. */
function sampleMemory(): { stop(): Promise<{ hostMb: number; rendererMb: number }> } {
  const peak = { hostMb: 0, rendererMb: 0 };
  return sampleUntilStopped(250, peak, async () => {
    const now = await memory();
    peak.hostMb = Math.max(peak.hostMb, now.hostMb);
    peak.rendererMb = Math.max(peak.rendererMb, now.rendererMb);
  });
}

/** Runs `sample` every `intervalMs` until stopped; `stop` resolves with `peak` once the last sample is in. */
function sampleUntilStopped<T>(
  intervalMs: number,
  peak: T,
  sample: () => Promise<void>,
): { stop(): Promise<T> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      await sample();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

interface ReturnTrips {
  /** Click on Instances (from Sessions) → the frame showing the table painted. */
  wallMs: number[];
  /** The renderer main thread's CPU time (trace `tdur`) in its tasks from that click to the paint. */
  cpuMs: number[];
}

interface ConnectFigures {
  renderer: string;
  clickToFirstByteMs: number[];
  returnTrip: ReturnTrips;
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string; data?: { type?: string } };
}

/**
 * CPU time of the renderer main thread's top-level tasks from the click's task to the painted frame
 * (`wallMs` after the click, plus a frame): the thread that dispatched the click, its tasks' thread time.
 */
function mainThreadCpuAfterClick(trace: Buffer, wallMs: number): number {
  const events = (JSON.parse(trace.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const click = events.find((e) => e.name === 'EventDispatch' && e.args?.data?.type === 'click');
  if (!click) return NaN;
  const onThread = events.filter((e) => e.pid === click.pid && e.tid === click.tid && e.ph === 'X');
  const tasks = onThread.filter((e) => e.name === 'ThreadControllerImpl::RunTask' || e.name === 'RunTask');
  const clickTask = tasks.find((t) => t.ts <= click.ts && t.ts + (t.dur ?? 0) >= click.ts);
  const from = clickTask?.ts ?? click.ts;
  const to = click.ts + (wallMs + 16) * 1000;
  return tasks.filter((t) => t.ts >= from && t.ts <= to).reduce((sum, t) => sum + (t.tdur ?? 0), 0) / 1000;
}

interface AppFigures extends ConnectFigures {
  flood: { bytes: number; ms: number };
  echoMs: number[];
  echoTyped: number;
  /** Peak bytes in the kernel's socket queues during the echo run: the data channel's, the web host's. */
  socketQueues: Record<string, number>;
  idle: { hostMb: number; rendererMb: number };
  peak: { hostMb: number; rendererMb: number };
  local?: { bytes: number; ms: number };
}

/** How the app starts a session: through the broker Lambda, or ssm:StartSession with the permission set's credentials. */
type Mode = 'broker' | 'direct';

/** ROLESHELL_TRACE_CONNECT=1: each connect's hops (renderer, core, session host, sandbox) on stderr. */
const tracing = process.env.ROLESHELL_TRACE_CONNECT === '1';
const pageTraces: Array<Array<[number, string]>> = [];

/**
 * One connect from the Instances screen. With `returnTrip`, the click back to Instances (from Sessions,
 * after the previous connect) is timed first: wall time to the painted table, and the renderer main
 * thread's CPU time from a Chromium trace of it (steadier than wall time on a shared machine).
 */
async function connect(page: Page, returnTrip?: ReturnTrips): Promise<void> {
  const instancesLink = page
    .getByRole('navigation', { name: 'Views' })
    .getByRole('link', { name: /^Instances\b/ });
  if (returnTrip) {
    const browser = page.context().browser()!;
    await page.evaluate('window.__bench.armReturn()');
    await browser.startTracing(page, { categories: ['toplevel', 'devtools.timeline'] });
    await instancesLink.click();
    await page.waitForFunction('window.__bench.returnMs !== undefined', undefined, { timeout: 30_000 });
    const trace = await browser.stopTracing();
    const wallMs = (await page.evaluate('window.__bench.returnMs')) as number;
    returnTrip.wallMs.push(wallMs);
    returnTrip.cpuMs.push(mainThreadCpuAfterClick(trace, wallMs));
  } else await instancesLink.click();
  const row = page
    .getByRole('table', { name: 'Instances' })
    .getByRole('row')
    .filter({
      has: page.getByRole('link', { name: `${target.instanceName}: show details`, exact: true }),
    })
    .filter({ hasText: target.accountName })
    .first();
  await row
    .getByRole('button', { name: `More ways to connect to ${target.instanceName}`, exact: true })
    .click();
  await page.evaluate(
    'window.__bench.clickAt = undefined; window.__bench.firstFrameAfterClick = undefined; window.__bench.afterClick = ""; window.__bench.trace = []',
  );
  const item = page.getByRole('menuitem', {
    name: `${target.linuxUser} — ${target.permissionSet}`,
    exact: true,
  });
  await item.waitFor();
  await item.click();
  await page.evaluate('window.__bench.firstByte(60000)');
}

async function closeActiveTab(page: Page): Promise<void> {
  const title = `${target.linuxUser}@${target.instanceName}`;
  await page
    .getByRole('button', { name: `Close ${title}` })
    .first()
    .click();
}

/** One app (web host + session host) with the given session backend, measured in a fresh browser. */
async function measureApp(
  sandbox: RemoteSandbox,
  dir: string,
  backendEnv: Record<string, string>,
  options: { mode: Mode; withLocal?: boolean; connectOnly?: boolean },
): Promise<ConnectFigures | AppFigures> {
  const home = await mkdtemp(path.join(dir, 'home-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    ROLESHELL_START_URL: sandbox.startUrl,
    ROLESHELL_SSO_REGION: sandbox.region,
    ROLESHELL_AWS_ENDPOINT: sandbox.endpoint,
    ROLESHELL_REGIONS: 'eu-west-1,us-east-1',
    ...backendEnv,
  };
  // Direct mode: no broker configured, so the app calls ssm:StartSession with the permission set's credentials.
  if (options.mode === 'broker') env.ROLESHELL_BROKER_ARN = sandbox.brokerFunctionArn;
  else delete env.ROLESHELL_BROKER_ARN;
  const host = await startHost({ dataDir: await mkdtemp(path.join(dir, 'data-')), env, log: () => {} });
  // WebGL off: TerminalView's WebGL addon throws and it uses the DOM renderer, its real fallback.
  const browser: Browser = await chromium.launch({
    ...chromiumLaunchOptions,
    args: [...chromiumLaunchOptions.args, ...(WEBGL ? [] : ['--disable-webgl', '--disable-webgl2'])],
  });
  try {
    // bypassCSP: the in-page timing code is evaluated from strings, which the app's CSP forbids.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    await context.addInitScript(tapScript);
    const page = await context.newPage();
    await page.goto(host.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: /^Signed in (as \S+ )?to / }).waitFor({ timeout: 60_000 });
    await page
      .getByRole('status')
      .filter({ hasText: /^\d+ instances? in \d+ accounts?$/ })
      .waitFor({ timeout: 60_000 });

    // Click → first output byte at the renderer, a few times (each tab closed before the next).
    const clickToFirstByteMs: number[] = [];
    const returnTrip: ReturnTrips = { wallMs: [], cpuMs: [] };
    for (let i = 0; i < STARTS; i++) {
      const traced = CHROME_TRACE_DIR !== '' && i === STARTS - 1;
      if (traced)
        await browser.startTracing(page, {
          path: path.join(CHROME_TRACE_DIR, `connect-${options.mode}-${traceCount++}.json`),
          categories: [
            'devtools.timeline',
            'disabled-by-default-devtools.timeline',
            'v8.execute',
            'blink.user_timing',
            'toplevel',
            'disabled-by-default-v8.cpu_profiler',
          ],
        });
      // From the second connect on the page is on Sessions (the last tab just closed): time the way back.
      await connect(page, i > 0 && !traced ? returnTrip : undefined);
      if (traced) await browser.stopTracing();
      clickToFirstByteMs.push(
        (await page.evaluate('window.__bench.firstFrameAfterClick - window.__bench.clickAt')) as number,
      );
      if (tracing) pageTraces.push((await page.evaluate('window.__bench.trace')) as Array<[number, string]>);
      if (i < STARTS - 1) {
        await page.waitForTimeout(500);
        await closeActiveTab(page);
        await page.waitForTimeout(500);
      }
    }
    await page.waitForFunction('window.__bench.terminalText().trim().length > 0', undefined, {
      timeout: 30_000,
    });
    const renderer = (await page.evaluate('window.__bench.renderer()')) as string;
    if (options.connectOnly) {
      await closeActiveTab(page);
      await page.waitForTimeout(500);
      return { renderer, clickToFirstByteMs, returnTrip };
    }
    await page.evaluate('window.__bench.hookParsed()');
    await page.waitForTimeout(2000);
    const idle = await memory();

    // Throughput: Enter → xterm has parsed the end marker.
    const terminal = page.locator('[data-testid="terminal-pane"]:visible [data-testid="terminal"]');
    await terminal.click();
    await page.keyboard.type(floodCommand);
    const sampler = sampleMemory();
    await page.evaluate(
      'window.__bench.doneArrivedAt = undefined; window.__bench.tail = ""; window.__bench.parsedAt = {}',
    );
    await page.keyboard.press('Enter');
    const floodEnd = (await page.evaluate('window.__bench.parsed("FLOODDONE", 600000)')) as number;
    const peak = await sampler.stop();
    const floodMs = floodEnd - ((await page.evaluate('window.__bench.keyAt.Enter')) as number);

    // Keystroke → echo parsed by xterm, during a longer flood: letters not yet on screen, after a `#` so
    // the line the shell reads once the flood ends is a comment. Keys are sent from here (Date.now() as each
    // press is sent, so time the renderer is too busy to take the input counts) and the page notes, on the
    // wall clock, when xterm has parsed each one (its write callback).
    const onScreen = (await page.evaluate('window.__bench.terminalText()')) as string;
    const keys = [...'ABCGHIJKMPQRSTUVWYZbfgijklmnpqsuwy'].filter((key) => !onScreen.includes(key));
    await page.evaluate(`window.__bench.watch = ${JSON.stringify(keys)}; window.__bench.echoArrived = {};
      window.__bench.parsedWatch = ['FLOODDONE', ...window.__bench.watch]; window.__bench.parsedAt = {};
      for (const key of window.__bench.watch) delete window.__bench.keyAt[key];
      window.__bench.doneArrivedAt = undefined; window.__bench.tail = ''`);
    await page.keyboard.type(floodCommandOf(ECHO_FLOOD_BYTES));
    const queues = sampleSocketQueues({
      dataChannel: Number(new URL(sandbox.endpoint).port),
      webHost: host.port,
    });
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    await page.keyboard.type('#');
    const sentAt: Record<string, number> = {};
    for (const key of keys) {
      sentAt[key] = Date.now();
      await page.keyboard.press(key);
      await page.waitForTimeout(30);
    }
    await page.evaluate('window.__bench.parsed("FLOODDONE", 600000)');
    const socketQueues = await queues.stop();
    // Parse times on the wall clock, to set against Date.now() at each press.
    const seen = (await page.evaluate(
      `({ parsed: Object.fromEntries(Object.entries(window.__bench.parsedAt).map(([k, v]) => [k, performance.timeOrigin + v])),
          arrived: window.__bench.echoArrived, done: window.__bench.doneArrivedAt })`,
    )) as { parsed: Record<string, number>; arrived: Record<string, number>; done: number };
    // Only echoes that reached the renderer while the flood was still running count.
    const echoMs = keys
      .filter((key) => typeof seen.parsed[key] === 'number' && seen.arrived[key]! < seen.done)
      .map((key) => seen.parsed[key]! - sentAt[key]!);
    await page.keyboard.press('Enter');

    let local: { bytes: number; ms: number } | undefined;
    if (options.withLocal) local = await localPtyIntoXterm(page);
    await closeActiveTab(page);
    await page.waitForTimeout(500);
    return {
      renderer,
      clickToFirstByteMs,
      returnTrip,
      flood: { bytes: FLOOD_BYTES, ms: floodMs },
      echoMs,
      echoTyped: keys.length,
      socketQueues,
      idle,
      peak,
      ...(local ? { local } : {}),
    };
  } finally {
    await browser.close();
    await host.close();
  }
}

/** The same flood from a local pty, sent over loopback to an xterm in the page, with the same watermarks. */
async function localPtyIntoXterm(page: Page): Promise<{ bytes: number; ms: number }> {
  await page.addScriptTag({ path: require.resolve('@xterm/xterm/lib/xterm.js') });
  if (WEBGL) await page.addScriptTag({ path: require.resolve('@xterm/addon-webgl/lib/addon-webgl.js') });
  await page.addStyleTag({ path: require.resolve('@xterm/xterm/css/xterm.css') });
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  server.on('connection', (socket) => {
    socket.once('message', () => {
      const shell = pty.spawn('bash', ['-c', floodCommand], { cols: 160, rows: 40, encoding: null });
      let unacked = 0;
      let paused = false;
      shell.onData((data) => {
        socket.send(data);
        unacked += data.length;
        if (!paused && unacked > HIGH_WATERMARK_BYTES) {
          paused = true;
          shell.pause();
        }
      });
      socket.on('message', (ack) => {
        unacked = Math.max(0, unacked - Number(String(ack)));
        if (paused && unacked < LOW_WATERMARK_BYTES) {
          paused = false;
          shell.resume();
        }
      });
      shell.onExit(() => socket.send('exit'));
    });
  });
  try {
    return (await page.evaluate(`(${localXtermScript})(${JSON.stringify(`ws://127.0.0.1:${port}`)})`)) as {
      bytes: number;
      ms: number;
    };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** How a scripted start reaches its first output byte once StartSession has answered. */
type FirstByte = (started: {
  SessionId?: string;
  StreamUrl?: string;
  TokenValue?: string;
}) => Promise<() => void>;

/** The built-in client dials the stream; resolves at its first output, with a way to close it. */
const builtInFirstByte: FirstByte = async (started) => {
  const client = await DataChannelClient.open(started.StreamUrl!, started.TokenValue!);
  await withTimeout(new Promise<void>((resolve) => client.once('output', () => resolve())));
  return () => client.close();
};

/** session-manager-plugin under node-pty, spawned as the app's plugin backend spawns it (no shell, response in the environment). */
const pluginFirstByte =
  (sandbox: RemoteSandbox): FirstByte =>
  async (started) => {
    const responseEnv = 'AWS_SSM_START_SESSION_RESPONSE_BENCH';
    const child = pty.spawn(
      plugin,
      [
        responseEnv,
        'eu-west-1',
        'StartSession',
        '',
        JSON.stringify({ Target: target.instanceId }),
        sandbox.endpoint,
      ],
      {
        name: 'xterm-256color',
        cols: 160,
        rows: 40,
        env: { PATH: process.env.PATH ?? '', HOME: os.homedir(), [responseEnv]: JSON.stringify(started) },
      },
    );
    // Its own "Starting session with SessionId: …" line comes before it has dialled: the first remote byte is after it.
    let text = '';
    await withTimeout(
      new Promise<void>((resolve) =>
        child.onData((data) => {
          text += data;
          if (remoteStarted(text)) resolve();
        }),
      ),
    );
    return () => child.kill();
  };

function withTimeout(promise: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no output within 60 s')), 60_000);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Whether output holds a byte from the remote shell (session-manager-plugin's own first line does not count). */
function remoteStarted(text: string): boolean {
  const preamble = 'Starting session with SessionId: ';
  const trimmed = text.trimStart();
  if (preamble.startsWith(trimmed)) return false;
  if (!trimmed.startsWith(preamble)) return true;
  return trimmed.slice(preamble.length).replace(/^\S\S*[\r\n]*/, '').length > 0;
}

/**
 * The scripted baseline, no UI: in direct mode SDK StartSession with the permission set's credentials (as the
 * issue names it); in broker mode the same Invoke the app makes (its own BrokerClient: a fresh identity proof,
 * then Lambda Invoke), then the given client. Credentials are fetched and clients made once, before the timed
 * starts, as the app holds them once signed in.
 */
async function scriptedStarts(sandbox: RemoteSandbox, firstByte: FirstByte, mode: Mode): Promise<number[]> {
  // The sdk helpers read only the endpoints a RemoteSandbox has.
  const endpoints = sandbox as unknown as Sandbox;
  const { accessToken } = await signIn(endpoints);
  const credentials = await permissionSetCredentials(
    endpoints,
    accessToken,
    ACCOUNT_ID,
    target.permissionSet,
  );
  const ssm = new SSMClient(clientConfig(endpoints, 'eu-west-1', credentials));
  const broker = new BrokerClient({ functionArn: sandbox.brokerFunctionArn, endpoint: sandbox.endpoint });
  const roleCredentials = {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken!,
    expiration: credentials.expiration!.getTime(),
  };
  const location = { region: 'eu-west-1', accountId: ACCOUNT_ID };
  const times: number[] = [];
  try {
    for (let i = 0; i < STARTS; i++) {
      const start = performance.now();
      traceHop(`renderer: click (scripted ${mode})`);
      const started =
        mode === 'direct'
          ? await ssm.send(
              new StartSessionCommand({
                Target: target.instanceId,
                DocumentName: `RoleShell-${target.permissionSet}`,
              }),
            )
          : (await broker.startSession(roleCredentials, { ...location, instanceId: target.instanceId }))
              .session;
      const close = await firstByte(started);
      traceHop('renderer: first remote byte');
      times.push(performance.now() - start);
      close();
      if (mode === 'direct') await ssm.send(new TerminateSessionCommand({ SessionId: started.SessionId }));
      else await broker.terminateSession(roleCredentials, { ...location, sessionId: started.SessionId! });
    }
  } finally {
    ssm.destroy();
    broker.destroy();
  }
  return times;
}

/**
 * What holds an echo back during a flood: every byte the remote shell wrote before it, between the pty and
 * xterm, is parsed first. The app's own share is bounded by flow control (the high watermark plus one batch,
 * and the web host's socket); while it is paused, the data channel's TCP queues (mostly the agent's kernel
 * send queue, which the client cannot shrink: it can only stop reading) and the agent's own unsent buffer
 * fill. Those bytes over this run's parse rate are the wait the row explains.
 */
function echoBound(figures: AppFigures, parsedMBps: number): string {
  const upstream = figures.socketQueues.dataChannel ?? 0;
  const app = figures.socketQueues.webHost ?? 0;
  const waitMs = parsedMBps > 0 ? upstream / 1e6 / parsedMBps / 1e-3 : NaN;
  return (
    `target < 50 ms; bounded by the bytes ahead of the echo: up to ${round(upstream / 1e6, 2)} MB in the data ` +
    `channel's TCP queues (agent side; the client only stops reading) plus the agent's unsent output, vs ` +
    `${round(app / 1e3)} kB on the app's side of flow control (web host socket; ≤ ${HIGH_WATERMARK_BYTES / 1000} kB ` +
    `unacknowledged + one batch), parsed at ${round(parsedMBps, 2)} MB/s ≈ ${finite(round(waitMs))} ms`
  );
}

/** Each mode's click-to-first-byte against its like-for-like scripted start, same backend, same run. */
function connectRows(
  name: string,
  run: { scripted: Record<Mode, number[]>; direct: ConnectFigures; broker: ConnectFigures },
): BenchRow[] {
  return (['direct', 'broker'] as const).map((mode) => {
    const app = median(run[mode].clickToFirstByteMs);
    const script = median(run.scripted[mode]);
    const baseline =
      mode === 'direct'
        ? `SDK StartSession + ${name}, no UI`
        : `the app's own broker Invoke (BrokerClient, fresh proof) + ${name}, no UI`;
    return {
      figure: `Connect click → first remote byte at the renderer, ${mode} mode, ${name} (median of ${STARTS})`,
      value: finite(round(app)),
      unit: 'ms',
      comparedTo: `${round(app / script, 2)}× ${baseline} (${round(script)} ms); target ≤ 1.1×`,
    };
  });
}

/** Sessions → Instances after a connect, over both modes' app runs of one backend. */
function returnTripRow(name: string, run: { direct: ConnectFigures; broker: ConnectFigures }): BenchRow {
  const wall = [...run.direct.returnTrip.wallMs, ...run.broker.returnTrip.wallMs];
  const cpu = [...run.direct.returnTrip.cpuMs, ...run.broker.returnTrip.cpuMs].filter(Number.isFinite);
  return {
    figure: `Sessions → Instances after a connect, click → table painted, ${name} (median of ${wall.length})`,
    value: finite(round(median(wall))),
    unit: 'ms',
    comparedTo: `renderer main thread CPU ${finite(round(median(cpu)))} ms (median of ${cpu.length}, Chromium trace)`,
  };
}

/** What the bench and the sdk helpers read of a sandbox: its endpoints (signIn, clientConfig use no more). */
type RemoteSandbox = Pick<SandboxProcess, 'endpoint' | 'region' | 'startUrl' | 'brokerFunctionArn' | 'close'>;

export default async function sessionBench(): Promise<BenchRow[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-session-bench-'));
  const sandbox = await startSandboxProcess();
  try {
    const hasPlugin = plugin !== '' && existsSync(plugin);
    type Backend = 'built-in client' | 'session-manager-plugin';
    const backends: Array<{ name: Backend; env: Record<string, string>; firstByte: FirstByte }> = [
      { name: 'built-in client', env: { ROLESHELL_SESSION_BACKEND: 'builtIn' }, firstByte: builtInFirstByte },
      ...(hasPlugin
        ? [
            {
              name: 'session-manager-plugin' as const,
              env: { SESSION_MANAGER_PLUGIN: plugin, ROLESHELL_SESSION_BACKEND: 'auto' },
              firstByte: pluginFirstByte(sandbox),
            },
          ]
        : []),
    ];
    // Per backend and mode, the scripted start runs just before the app's, so both see the same machine.
    const measured = new Map<
      Backend,
      { scripted: Record<Mode, number[]>; direct: ConnectFigures; broker: AppFigures }
    >();
    for (const backend of backends) {
      const scriptedDirect = await scriptedStarts(sandbox, backend.firstByte, 'direct');
      const direct = await measureApp(sandbox, dir, backend.env, { mode: 'direct', connectOnly: true });
      const scriptedBroker = await scriptedStarts(sandbox, backend.firstByte, 'broker');
      const broker = (await measureApp(sandbox, dir, backend.env, {
        mode: 'broker',
        withLocal: backend.name === 'built-in client',
        connectOnly: CONNECT_ONLY,
      })) as AppFigures;
      measured.set(backend.name, {
        scripted: { direct: scriptedDirect, broker: scriptedBroker },
        direct,
        broker,
      });
    }
    process.stderr.write(
      `session bench raw figures: ${JSON.stringify(Object.fromEntries(measured.entries()))}\n`,
    );
    if (tracing) for (const trace of pageTraces) printTrace(trace);
    if (CONNECT_ONLY)
      return [...measured.entries()].flatMap(([name, run]) => [
        ...connectRows(name, run),
        returnTripRow(name, run),
      ]);
    const builtIn = measured.get('built-in client')!.broker;
    const local = builtIn.local!;
    const localRate = mbps(local.bytes, local.ms);
    const rows: BenchRow[] = [];
    const size = `${FLOOD_MB} MiB`;
    rows.push({
      figure: `local pty → xterm in the same page (${size} flood, ${builtIn.renderer} renderer)`,
      value: finite(round(localRate, 2)),
      unit: 'MB/s',
      comparedTo: 'the baseline for the two rows below (loopback WebSocket, same watermarks)',
    });
    for (const name of ['built-in client', 'session-manager-plugin'] as const) {
      const run = measured.get(name);
      if (!run) {
        rows.push({
          figure: `remote flood → xterm parsed, ${name} (skipped)`,
          value: 0,
          unit: '',
          comparedTo: 'skipped: set SESSION_MANAGER_PLUGIN to a session-manager-plugin binary',
        });
        continue;
      }
      const figures = run.broker;
      const rate = mbps(figures.flood.bytes, figures.flood.ms);
      rows.push(
        {
          figure: `remote flood → xterm parsed, ${name} (${size}, ${figures.renderer} renderer)`,
          value: finite(round(rate, 2)),
          unit: 'MB/s',
          comparedTo: `${round(rate / localRate, 2)}× the local pty; target ≥ 0.8×`,
        },
        ...(figures.echoMs.length === 0
          ? [
              {
                // Say so rather than print 0 ms: no echo was seen while the flood was still running.
                figure: `keystroke → echo parsed during the flood, ${name} (not measured)`,
                value: 0,
                unit: '',
                comparedTo: `not measured: 0 of ${figures.echoTyped} keystrokes were seen echoed before the flood ended`,
              },
            ]
          : [
              {
                figure: `keystroke → echo parsed during the flood, ${name} (median)`,
                value: finite(round(median(figures.echoMs))),
                unit: 'ms',
                comparedTo: `${figures.echoMs.length} of ${figures.echoTyped} keystrokes echoed while the flood ran`,
              },
              {
                figure: `keystroke → echo parsed during the flood, ${name} (p99)`,
                value: finite(round(percentile(figures.echoMs, 99))),
                unit: 'ms',
                comparedTo: echoBound(figures, rate),
              },
            ]),
        ...connectRows(name, run),
        returnTripRow(name, run),
        {
          figure: `session host RSS at the flood's peak, ${name}`,
          value: round(figures.peak.hostMb),
          unit: 'MB',
          comparedTo: `idle ${round(figures.idle.hostMb)} MB (+${round(figures.peak.hostMb - figures.idle.hostMb)} MB); target < +100 MB`,
        },
        {
          figure: `renderer RSS at the flood's peak, ${name}`,
          value: round(figures.peak.rendererMb),
          unit: 'MB',
          comparedTo: `idle ${round(figures.idle.rendererMb)} MB (+${round(figures.peak.rendererMb - figures.idle.rendererMb)} MB); target < +100 MB`,
        },
      );
    }
    return rows;
  } finally {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  }
}
