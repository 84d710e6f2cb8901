/**
 * Connect through the real renderer, real core and session host, against the
 * real sandbox: a shell as the permission set's Linux user, in a tab that
 * survives screen switches, resized, closed without leaving anything behind,
 * resumed after the sandbox drops its data channel, and ended by app
 * shutdown. Runs with the built-in data-channel client, and again with
 * session-manager-plugin under node-pty when SESSION_MANAGER_PLUGIN names a
 * plugin binary.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect, test } from '../fixtures';
import {
  activePane,
  closeTab,
  connectAs,
  expectShellSize,
  expectTerminal,
  run,
  showScreen,
  tab,
  terminalSize,
  terminalText,
  waitForStatus,
} from './connectFlow';
import { signIn, startTestSandbox, type TestSandbox } from './loginFlow';

let sandbox: TestSandbox | undefined;
test.afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const plugin = process.env.SESSION_MANAGER_PLUGIN ?? '';
const backends = [
  { name: 'built-in client', env: { ROLESHELL_SESSION_BACKEND: 'builtIn' }, skip: undefined },
  {
    name: 'session-manager-plugin',
    env: { SESSION_MANAGER_PLUGIN: plugin, ROLESHELL_SESSION_BACKEND: 'auto' },
    skip:
      plugin && existsSync(plugin)
        ? undefined
        : 'set SESSION_MANAGER_PLUGIN to a session-manager-plugin binary to run this backend',
  },
] as const;

const admin = {
  accountName: 'prod-workloads',
  permissionSet: 'AdministratorAccess',
  instanceName: 'prod-web-1',
  linuxUser: 'ops-admin',
};
const readOnly = { ...admin, permissionSet: 'ReadOnly', linuxUser: 'auditor' };

/** Command lines of the plugin processes started for a tab (the response's env var is named after it). */
function pluginProcessesFor(tabId: string): string[] {
  const marker = `AWS_SSM_START_SESSION_RESPONSE_${tabId.replace(/[^A-Za-z0-9]/g, '_')}`;
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(marker));
}

function activeSessions(s: TestSandbox): string[] {
  return s.sandbox.sessions
    .list()
    .filter((session) => s.sandbox.sessions.isActive(session))
    .map((session) => session.sessionId);
}

for (const backend of backends) {
  test.describe(`connect (${backend.name})`, () => {
    test.skip(!!backend.skip, backend.skip ?? '');

    test('whoami is the mapped user for two permission sets on one instance; title, header, resize, screen switches, a flood', async ({
      launchApp,
    }) => {
      test.setTimeout(300_000); // the flood goes through the DOM or WebGL renderer of a loaded machine
      sandbox = await startTestSandbox();
      const { page } = await launchApp({ env: { ...sandbox.env, ...backend.env } });
      await page.setViewportSize({ width: 1280, height: 800 });
      await signIn(page);

      const first = await connectAs(page, admin);
      // Title and header name the user before the shell is up, and after.
      await expect(tab(page, 'ops-admin@prod-web-1')).toBeVisible();
      const header = first.getByTestId('session-header');
      for (const text of [
        'prod-workloads',
        'AdministratorAccess',
        'eu-west-1',
        'i-0a1b2c3d4e5f60001',
        'ops-admin',
      ])
        await expect(header).toContainText(text);
      await waitForStatus(first, 'connected');
      await expect(header.getByTestId('session-linux-user')).toHaveText('ops-admin');
      await expect(first.getByTestId('session-status')).toContainText(backend.name);
      const firstId = (await first.getAttribute('data-session-id'))!;
      if (backend.name === 'session-manager-plugin') {
        // Spawned directly; the StartSession response (with its token) is in the environment, never in argv.
        const [commandLine] = pluginProcessesFor(firstId);
        expect(commandLine).toContain(`${plugin} AWS_SSM_START_SESSION_RESPONSE_`);
        expect(commandLine).toContain('StartSession');
        expect(commandLine).not.toMatch(/TokenValue|StreamUrl|wss?:\/\//);
      }
      await run(page, first, 'echo "I am $(whoami)"');
      await expectTerminal(first, /I am ops-admin/);
      await page.screenshot({ path: test.info().outputPath('connected.png') });

      // A resize reaches the remote shell (debounced).
      await page.setViewportSize({ width: 1000, height: 640 });
      await expect.poll(async () => (await terminalSize(first)).cols).toBeLessThan(120);
      await expectShellSize(page, first);

      // Settings and back: the same terminal, its scrollback intact.
      await run(page, first, 'for i in $(seq 1 200); do echo "line-$i"; done');
      await expectTerminal(first, /line-200/);
      await showScreen(page, 'Settings');
      await expect(activePane(page)).toHaveCount(0);
      await showScreen(page, 'Sessions');
      await expect(first).toBeVisible();
      expect(await terminalText(first)).toMatch(/line-1\n[\s\S]*line-200/);

      // A second permission set on the same instance: its own tab, its own Linux user.
      const second = await connectAs(page, readOnly);
      await waitForStatus(second, 'connected');
      // Its terminal was opened and fitted ahead of the click where it was parked, and the session started
      // at that size: the shell has the size the pane shows (or gets it as a resize if the window changed).
      await expectShellSize(page, second);
      await run(page, second, 'echo "I am $(whoami)"');
      await expectTerminal(second, /I am auditor/);
      // A flood through flow control (10+ pauses at the high watermark) finishes, and the shell answers after it.
      await run(page, second, `head -c 1000000 /dev/zero | tr '\\0' x; echo; echo FLOOD""DONE`);
      await expectTerminal(second, /FLOODDONE/, 180_000);
      await run(page, second, 'echo "typed-$((20+22))"');
      await expectTerminal(second, /typed-42/);
      await expect(tab(page, 'auditor@prod-web-1')).toHaveAttribute('aria-selected', 'true');
      await tab(page, 'ops-admin@prod-web-1').click();
      await expectTerminal(activePane(page), /I am ops-admin/);

      // exit closes the tab's session with the reason, and offers Reconnect.
      await run(page, activePane(page), 'exit');
      const closed = page.locator('[data-testid="terminal-pane"][aria-label="ops-admin@prod-web-1"]');
      await waitForStatus(closed, 'closed');
      await expect(closed.getByTestId('session-status')).toContainText(/Closed: .+/);
      await expect(closed.getByRole('button', { name: 'Reconnect' })).toBeVisible();

      // Closing the other tab mid-session leaves no active session in the sandbox, and no process behind.
      const secondId = (await second.getAttribute('data-session-id'))!;
      await closeTab(page, 'auditor@prod-web-1');
      await expect.poll(() => activeSessions(sandbox!), { timeout: 15_000 }).toEqual([]);
      await expect.poll(() => [...pluginProcessesFor(firstId), ...pluginProcessesFor(secondId)]).toEqual([]);
    });

    test('app shutdown terminates every open session', async ({ launchApp }) => {
      sandbox = await startTestSandbox();
      const app = await launchApp({ env: { ...sandbox.env, ...backend.env } });
      await signIn(app.page);
      await waitForStatus(await connectAs(app.page, admin), 'connected');
      await waitForStatus(await connectAs(app.page, readOnly), 'connected');
      expect(activeSessions(sandbox)).toHaveLength(2);
      await app.close();
      await expect.poll(() => activeSessions(sandbox!), { timeout: 15_000 }).toEqual([]);
    });
  });
}

test.describe('connect: a dropped data channel (built-in client)', () => {
  test('is resumed by the built-in client with the shell state intact', async ({ launchApp }) => {
    sandbox = await startTestSandbox();
    // Broker mode: the broker's resumeSession (ssm:ResumeSession as the target role) issues the fresh token.
    const { page } = await launchApp({ env: { ...sandbox.env, ROLESHELL_SESSION_BACKEND: 'builtIn' } });
    await signIn(page);
    const pane = await connectAs(page, admin);
    await waitForStatus(pane, 'connected');
    await run(page, pane, 'export MARK=kept-$((6*7)); echo "set $MARK"');
    await expectTerminal(pane, /set kept-42/);

    // The sandbox's agent cuts the socket without a close frame, as a dead network path would.
    const [sessionId] = activeSessions(sandbox);
    expect(sandbox.sandbox.dropDataChannel(sessionId!)).toBe(true);
    // Typing is only taken while connected: wait for the resume itself, not a status that may predate the drop.
    const resumes = () => sandbox!.sandbox.cloudTrail().filter((e) => e.eventName === 'ResumeSession');
    await expect.poll(() => resumes().length, { timeout: 15_000 }).toBe(1);
    await waitForStatus(pane, 'connected');
    await run(page, pane, 'echo "after $MARK"');
    await expectTerminal(pane, /after kept-42/);
    expect(resumes()).toHaveLength(1);
  });
});
