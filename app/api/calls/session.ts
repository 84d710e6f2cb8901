/**
 * Session calls: start a shell on an instance as a permission set, type into
 * it, resize it, acknowledge output (flow control), close it. Output itself
 * is not an event: it streams as bytes to the one connection that owns the
 * session (`RoleShellBridge.onOutput`). No token or credential crosses here.
 */
import * as z from 'zod';
import { defineCall, defineEvent } from '../define';
import type { SessionStatus } from '../../session/sessionState';

export type { SessionStatus } from '../../session/sessionState';

const id = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, { message: 'Not a session tab id' });
const size = {
  cols: z.number().int().min(2).max(1000),
  rows: z.number().int().min(1).max(1000),
};

export const connectRequestSchema = z
  .object({
    accountId: z.string().regex(/^\d{12}$/, { message: 'An AWS account ID has 12 digits' }),
    accountName: z.string().max(100),
    permissionSet: z.string().regex(/^[\w+=,.@-]{1,32}$/, { message: 'Not a permission set name' }),
    linuxUser: z.string().max(64),
    region: z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/, { message: 'Not a region' }),
    instanceId: z.string().regex(/^(i|mi)-[0-9a-f]{8,17}$/, { message: 'Not an instance ID' }),
    instanceName: z.string().max(256),
  })
  .strict();

/** What a tab connects to: one shape for the core, the renderer and the schema that checks it. */
export type ConnectRequest = z.output<typeof connectRequestSchema>;

/** A session's state as the renderer shows it. */
export interface SessionStateEvent {
  /** The tab's id (RoleShell's own; not the SSM session id). */
  id: string;
  status: SessionStatus;
  reason?: string;
  /** The Linux user the broker (or the session document) says the shell runs as. */
  linuxUser?: string;
  /** The SSM session id, once started. */
  sessionId?: string;
  backend?: 'plugin' | 'dataChannel';
}

export const sessionCalls = {
  /** Starts a session in a new tab; progress and the end arrive as `session.state` for this tab. */
  'session.start': defineCall<{ id: string }>()(
    z.object({ request: connectRequestSchema, ...size }).strict(),
  ),
  /** A fresh session in a closed tab (the Reconnect button). */
  'session.reconnect': defineCall<void>()(z.object({ id, ...size }).strict()),
  'session.input': defineCall<void>()(
    z
      .object({
        id,
        data: z
          .string()
          .min(1)
          .max(1 << 20),
      })
      .strict(),
  ),
  'session.resize': defineCall<void>()(z.object({ id, ...size }).strict()),
  /** Bytes the terminal has written (from xterm's write callback), in batches. */
  'session.ack': defineCall<void>()(
    z
      .object({
        id,
        bytes: z
          .number()
          .int()
          .min(1)
          .max(1 << 30),
      })
      .strict(),
  ),
  /** The renderer's terminal for this tab starts counting from zero. */
  'session.attach': defineCall<void>()(z.object({ id }).strict()),
  /** A Connect is likely soon (the window is up): start the session host now, so the first click does not wait for it. */
  'session.prepare': defineCall<void>()(z.object({}).strict()),
  /** Ends the session (terminated through the broker or SSM) and forgets the tab. */
  'session.close': defineCall<void>()(z.object({ id }).strict()),
};

export const sessionEvents = {
  'session.state': defineEvent<SessionStateEvent>(),
};
