/**
 * Messages between the app core and the session host process, checked with
 * zod on arrival on both sides: a confused or compromised peer gets its
 * message dropped (and logged by type only), never half-applied. Terminal
 * bytes travel as Uint8Array (structured clone), never as JSON text.
 */
import * as z from 'zod';

const id = z.string().min(1).max(64);
const bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'bytes');
const size = { cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(1000) };

/** What a data-channel backend needs: the StartSession answer, nothing else. */
const openDataChannel = z.object({
  type: z.literal('open'),
  id,
  backend: z.literal('dataChannel'),
  streamUrl: z.string().regex(/^wss?:\/\//),
  tokenValue: z.string().min(1),
  ...size,
});

/** session-manager-plugin under node-pty: the response goes in `env[responseEnvName]`, never in argv. */
const openPlugin = z.object({
  type: z.literal('open'),
  id,
  backend: z.literal('plugin'),
  pluginPath: z.string().min(1),
  startSessionResponse: z.object({ SessionId: z.string(), StreamUrl: z.string(), TokenValue: z.string() }),
  region: z.string().min(1),
  instanceId: z.string().min(1),
  ssmEndpoint: z.string().min(1),
  /** Environment for the plugin: already stripped of AWS credentials in broker mode. */
  env: z.record(z.string(), z.string()),
  ...size,
});

export const coreToHost = z.discriminatedUnion('type', [
  z.discriminatedUnion('backend', [openDataChannel, openPlugin]),
  z.object({ type: z.literal('input'), id, data: z.string().max(1 << 20) }),
  z.object({ type: z.literal('resize'), id, ...size }),
  z.object({ type: z.literal('ack'), id, bytes: z.number().int().nonnegative() }),
  /** A renderer (re)attached: flow control starts from zero. */
  z.object({ type: z.literal('reattach'), id }),
  /** A fresh token for a dropped data channel (from ResumeSession). */
  z.object({ type: z.literal('resume'), id, tokenValue: z.string().min(1) }),
  /** End the session from this side (terminate flag / kill the plugin) and drop the backend. */
  z.object({ type: z.literal('close'), id }),
  z.object({ type: z.literal('shutdown') }),
]);
export type CoreToHost = z.infer<typeof coreToHost>;
export type OpenMessage = Extract<CoreToHost, { type: 'open' }>;

export const hostToCore = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('opened'), id, pid: z.number().int().optional() }),
  z.object({ type: z.literal('output'), id, data: bytes }),
  /** The socket dropped; the session lives: send `resume` with a new token. */
  z.object({ type: z.literal('disconnected'), id, reason: z.string() }),
  z.object({ type: z.literal('resumed'), id }),
  z.object({ type: z.literal('resumeFailed'), id, message: z.string() }),
  /** The session is over (shell exited, plugin ended or crashed, open failed). */
  z.object({ type: z.literal('closed'), id, reason: z.string(), failed: z.boolean() }),
]);
export type HostToCore = z.infer<typeof hostToCore>;

/** The host process as the core sees it, whichever way it was spawned. */
export interface HostProcess {
  send(message: CoreToHost): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null) => void): void;
  /** Forcefully ends the process (SIGKILL). */
  kill(): void;
  readonly pid: number | undefined;
}

/** Starts a host process: `child_process.fork` in web mode and tests, `utilityProcess.fork` under Electron. */
export type HostSpawner = () => HostProcess;

/** The host's own end of the channel. */
export interface HostTransport {
  send(message: HostToCore): void;
  onMessage(listener: (message: unknown) => void): void;
}
