/** Handlers for the session calls (`app/api/calls/session.ts`): each call acts only on its caller's own tabs. */
import type { CallHandlers } from '../api/dispatch';
import { ApiError } from '../api/errors';
import type { AppContext } from '../appContext';
import type { IdentityCenter } from '../auth/identityCenter';
import { AwsSessionStarter } from './awsStarter';
import { SessionHost } from './host/sessionHost';
import type { HostSpawner } from './host/protocol';
import { OpenSessionsFile } from './openSessions';
import { chooseBackend, loginShellPath } from './pluginLookup';
import { SessionManager, SessionNotFound } from './sessionManager';
import { traceHop } from './connectTrace';

export interface SessionHandlerOptions {
  resourcesDir: string;
  spawnHost?: HostSpawner;
}

export function createSessionHandlers(
  ctx: AppContext,
  center: IdentityCenter,
  options: SessionHandlerOptions,
): Pick<
  CallHandlers,
  | 'session.start'
  | 'session.reconnect'
  | 'session.input'
  | 'session.resize'
  | 'session.ack'
  | 'session.attach'
  | 'session.prepare'
  | 'session.close'
> {
  const host = new SessionHost(options.spawnHost, (message) => ctx.log(message));
  const starter = new AwsSessionStarter(center, ctx.env);
  const records = new OpenSessionsFile(ctx.dataDir);
  const manager = new SessionManager({
    host,
    starter,
    records,
    chooseBackend: () => {
      const settings = ctx.settings.current();
      return chooseBackend({
        configuredPath: settings.sessionManagerPluginPath,
        preferBuiltIn: settings.sessionBackend === 'builtIn',
        resourcesDir: options.resourcesDir,
        searchPath: () => loginShellPath(ctx.env),
      });
    },
    emit: (owner, event) => ctx.emitTo(owner, 'session.state', event),
    sendOutput: (owner, id, data) => ctx.sendOutput(owner, id, data),
    log: ctx.log,
  });

  // What a crashed run left open is terminated once the user is signed in (the first start at the latest).
  let leftovers: Promise<void> | undefined;
  const sweepLeftovers = () => {
    leftovers ??= manager
      .terminateLeftovers((record) => center.config()?.startUrl === record.startUrl)
      .finally(() => {
        leftovers = undefined;
      });
    return leftovers;
  };
  // Nobody is signed in to own them any more: open sessions end before the tokens go.
  center.beforeSignOut(async () => {
    await manager.endAll('Signed out.');
    starter.dispose();
  });
  ctx.onConnectionClosed((connectionId) => void manager.closeOwnedBy(connectionId));
  ctx.onClose(async () => {
    await manager.closeAll();
    starter.dispose();
    await host.shutdown();
  });

  const guard = <T>(run: () => T): T => {
    try {
      return run();
    } catch (error) {
      if (error instanceof SessionNotFound) throw new ApiError('NotFound', error.message);
      throw error;
    }
  };

  return {
    async 'session.start'({ request, cols, rows }, caller) {
      traceHop('core: session.start handler');
      void sweepLeftovers();
      return { id: manager.start(caller.connectionId, request, { cols, rows }) };
    },
    async 'session.reconnect'({ id, cols, rows }, caller) {
      guard(() => manager.reconnect(caller.connectionId, id, { cols, rows }));
    },
    async 'session.input'({ id, data }, caller) {
      guard(() => manager.input(caller.connectionId, id, data));
    },
    async 'session.resize'({ id, cols, rows }, caller) {
      guard(() => manager.resize(caller.connectionId, id, cols, rows));
    },
    async 'session.ack'({ id, bytes }, caller) {
      guard(() => manager.ack(caller.connectionId, id, bytes));
    },
    async 'session.attach'({ id }, caller) {
      guard(() => manager.attach(caller.connectionId, id));
    },
    async 'session.prepare'() {
      host.warm();
    },
    async 'session.close'({ id }, caller) {
      await manager.close(caller.connectionId, id);
    },
  };
}
