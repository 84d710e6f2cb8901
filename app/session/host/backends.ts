/**
 * The two ways a session runs, behind one interface: RoleShell's built-in
 * data-channel client, and AWS's session-manager-plugin under node-pty. Both
 * live in the session host process only.
 */
import * as pty from 'node-pty';
import { DataChannelClient, describeChannelClosed } from '../dataChannel';
import type { OpenMessage } from './protocol';

export interface BackendEvents {
  output(data: Buffer): void;
  disconnected(reason: string): void;
  closed(reason: string, failed: boolean): void;
}

export interface SessionBackend {
  readonly pid?: number;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  /** Flow control: stop reading from the source until resumeOutput(). */
  pauseOutput(): void;
  resumeOutput(): void;
  /** Redials a dropped data channel (built-in client only). */
  resume?(tokenValue: string): Promise<void>;
  /** Ends the session from this side and releases everything. */
  close(): void;
}

export async function openBackend(message: OpenMessage, events: BackendEvents): Promise<SessionBackend> {
  return message.backend === 'dataChannel' ? openDataChannel(message, events) : openPlugin(message, events);
}

async function openDataChannel(
  message: Extract<OpenMessage, { backend: 'dataChannel' }>,
  events: BackendEvents,
): Promise<SessionBackend> {
  const client = await DataChannelClient.open(message.streamUrl, message.tokenValue, {
    size: { cols: message.cols, rows: message.rows },
  });
  client.on('output', (chunk) => events.output(chunk));
  client.on('disconnected', ({ code, reason }) =>
    events.disconnected(reason || `the connection to the instance dropped (code ${code})`),
  );
  client.on('closed', (closed) => {
    // What the plugin prints at the end, so the terminal reads the same with either backend.
    events.output(Buffer.from(describeChannelClosed(closed).replace(/\n/g, '\r\n')));
    events.closed(closed.Output || 'The session ended.', false);
  });
  if (client.customerMessage) events.output(Buffer.from(`${client.customerMessage}\r\n`));
  let closing = false;
  return {
    write: (data) => client.sendInput(data),
    resize: (cols, rows) => client.resize(cols, rows),
    pauseOutput: () => client.pauseOutput(),
    resumeOutput: () => client.resumeOutput(),
    resume: (token) => client.resume(token),
    // The core terminates the session through the broker (or SSM); here the socket just closes.
    close() {
      if (closing) return;
      closing = true;
      client.close();
    },
  };
}

/** The plugin's first argument names the environment variable that holds the StartSession response. */
export const RESPONSE_ENV_PREFIX = 'AWS_SSM_START_SESSION_RESPONSE_';

function openPlugin(
  message: Extract<OpenMessage, { backend: 'plugin' }>,
  events: BackendEvents,
): Promise<SessionBackend> {
  const responseEnv = `${RESPONSE_ENV_PREFIX}${message.id.replace(/[^A-Za-z0-9]/g, '_')}`;
  // Spawned directly, not through a shell; the token is in the environment, not on the command line.
  const child = pty.spawn(
    message.pluginPath,
    [
      responseEnv,
      message.region,
      'StartSession',
      '',
      JSON.stringify({ Target: message.instanceId }),
      message.ssmEndpoint,
    ],
    {
      name: 'xterm-256color',
      cols: message.cols,
      rows: message.rows,
      env: { ...message.env, [responseEnv]: JSON.stringify(message.startSessionResponse) },
    },
  );
  let closing = false;
  child.onData((data) => events.output(Buffer.from(data, 'utf8')));
  child.onExit(({ exitCode, signal }) => {
    if (closing) {
      events.closed('The session was closed.', false);
    } else if (exitCode === 0) {
      events.closed('The session ended.', false);
    } else {
      events.closed(
        `session-manager-plugin stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${exitCode}`}).`,
        true,
      );
    }
  });
  return Promise.resolve({
    pid: child.pid,
    write: (data) => child.write(data),
    resize: (cols, rows) => child.resize(cols, rows),
    // node-pty stops reading the pty, so the plugin blocks on its writes and stops reading its socket.
    pauseOutput: () => child.pause(),
    resumeOutput: () => child.resume(),
    close() {
      if (closing) return;
      closing = true;
      child.kill();
    },
  });
}
