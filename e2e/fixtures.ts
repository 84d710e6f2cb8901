/**
 * The e2e fixture: `launchApp()` starts a throwaway RoleShell for one test.
 *
 * Web target (default): runs the host (`e2e/host/cli.ts`) as a child process
 * with its own data folder, port and token, and opens its URL in a fresh
 * browser context. Electron target (`ROLESHELL_E2E_TARGET=electron`, after
 * `npm run build`): launches dist/main/main.cjs with Playwright's `_electron`
 * and uses its first window. Either way the specs see the same app.
 *
 * Everything started is stopped after the test; host logs and a screenshot of
 * each app window are attached to a failing test.
 */
import { test as base, expect, type Browser, type Page, type TestInfo } from '@playwright/test';
import { _electron, type ElectronApplication } from 'playwright-core';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const target: 'web' | 'electron' =
  process.env.ROLESHELL_E2E_TARGET === 'electron' ? 'electron' : 'web';

export interface LaunchOptions {
  /** Extra environment for the app (settings overrides such as ROLESHELL_START_URL). */
  env?: Record<string, string>;
  /** Reuse a data folder (otherwise a new temporary one, removed after the test). */
  dataDir?: string;
}

export interface LaunchedApp {
  page: Page;
  dataDir: string;
  /** The host's URL including its token (web target only; '' for Electron). */
  url: string;
  /** Stops the app and starts it again on the same data folder; `page` is the new window. */
  restart(): Promise<void>;
  close(): Promise<void>;
  /** Everything the app process printed so far. */
  logs: string[];
  /** The app core's process (the web host, or Electron's main process). */
  readonly pid: number;
}

interface Running {
  page: Page;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export const test = base.extend<{ launchApp: (options?: LaunchOptions) => Promise<LaunchedApp> }>({
  launchApp: async ({ browser }, use, testInfo) => {
    const launched: LaunchedApp[] = [];
    const tempDirs: string[] = [];
    await use(async (options = {}) => {
      const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'roleshell-e2e-')));
      if (!options.dataDir) tempDirs.push(dataDir);
      const logs: string[] = [];
      const env = { ...options.env, ROLESHELL_DATA_DIR: dataDir };
      let running = await start(browser, env, logs);
      const app: LaunchedApp = {
        get page() {
          return running.page;
        },
        get url() {
          return running.url;
        },
        get pid() {
          return running.pid;
        },
        dataDir,
        logs,
        async restart() {
          await running.stop();
          running = await start(browser, env, logs);
        },
        close: () => running.stop(),
      };
      launched.push(app);
      return app;
    });
    await attachLogsOnFailure(testInfo, launched);
    await Promise.all(launched.map((app) => app.close()));
    await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  },
});

export { expect };

function start(browser: Browser, env: Record<string, string>, logs: string[]): Promise<Running> {
  return target === 'electron' ? startElectron(env, logs) : startWeb(browser, env, logs);
}

async function startWeb(browser: Browser, env: Record<string, string>, logs: string[]): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'e2e/host/cli.ts')], {
    cwd: repoRoot,
    env: { ...baseEnv(), ...env, ROLESHELL_WEB_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await waitForUrl(child, logs);
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (message) => logs.push(`[browser ${message.type()}] ${message.text()}`));
  page.on('pageerror', (error) => logs.push(`[browser error] ${error.message}`));
  await page.goto(url);
  let stopped: Promise<void> | undefined;
  return {
    page,
    url,
    pid: child.pid!,
    stop() {
      stopped ??= (async () => {
        await context.close();
        await stopChild(child);
      })();
      return stopped;
    },
  };
}

async function startElectron(env: Record<string, string>, logs: string[]): Promise<Running> {
  let app: ElectronApplication;
  try {
    app = await _electron.launch({
      args: [path.join(repoRoot, 'dist/main/main.cjs')],
      cwd: repoRoot,
      env: { ...baseEnv(), ...env },
    });
  } catch (error) {
    throw new Error(
      `Could not launch Electron (ROLESHELL_E2E_TARGET=electron needs an Electron binary and npm run build): ${String(error)}`,
    );
  }
  app.process().stdout?.on('data', (chunk: Buffer) => logs.push(...lines(chunk)));
  app.process().stderr?.on('data', (chunk: Buffer) => logs.push(...lines(chunk)));
  const page = await app.firstWindow();
  let stopped: Promise<void> | undefined;
  return {
    page,
    url: '',
    pid: app.process().pid!,
    stop() {
      stopped ??= app.close();
      return stopped;
    },
  };
}

/** The app sees only a clean environment plus the test's overrides, never the developer's own settings. */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'DISPLAY', 'XAUTHORITY', 'NODE_OPTIONS'];
  const env: Record<string, string> = {};
  for (const name of keep) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function lines(chunk: Buffer): string[] {
  return chunk.toString('utf8').split('\n').filter(Boolean);
}

function waitForUrl(child: ChildProcess, logs: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let found = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      for (const line of lines(chunk)) {
        logs.push(line);
        const match = /RoleShell is running at (\S+)/.exec(line);
        if (match && !found) {
          found = true;
          resolve(match[1]!);
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => logs.push(...lines(chunk)));
    child.once('exit', (code, signal) => {
      if (!found)
        reject(
          new Error(`The host exited before serving (code ${code}, signal ${signal}):\n${logs.join('\n')}`),
        );
    });
    child.once('error', reject);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function attachLogsOnFailure(testInfo: TestInfo, apps: LaunchedApp[]): Promise<void> {
  if (testInfo.status === testInfo.expectedStatus) return;
  for (const [index, app] of apps.entries()) {
    await testInfo.attach(`roleshell-app-${index + 1}.log`, {
      body: app.logs.join('\n'),
      contentType: 'text/plain',
    });
    // What the window showed when the test failed (if it is still open).
    const screenshot = await app.page.screenshot({ timeout: 5_000 }).catch(() => null);
    if (screenshot) {
      await testInfo.attach(`roleshell-app-${index + 1}.png`, { body: screenshot, contentType: 'image/png' });
    }
  }
}
