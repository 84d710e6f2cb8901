/**
 * The contract between the renderer and the app core: every call with its
 * zod-validated input and its output type, and every event. Each domain keeps
 * its calls in its own file under `calls/`; this file only joins them.
 */
import type { z } from 'zod';
import type { CallResult } from './errors';
export * from './define';
import { settingsCalls, settingsEvents } from './calls/settings';
import { authCalls, authEvents } from './calls/auth';
import { browseCalls, browseEvents } from './calls/browse';
import { sessionCalls, sessionEvents } from './calls/session';

export const calls = { ...settingsCalls, ...authCalls, ...browseCalls, ...sessionCalls } as const;
export const events = { ...settingsEvents, ...authEvents, ...browseEvents, ...sessionEvents } as const;

export type Calls = typeof calls;
export type CallName = keyof Calls;
export type CallInput<K extends CallName> = z.input<Calls[K]['input']>;
/** The input after validation, as handlers receive it. */
export type ParsedCallInput<K extends CallName> = z.output<Calls[K]['input']>;
export type CallOutput<K extends CallName> = NonNullable<Calls[K]['output']>[0];

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = NonNullable<Events[E]['payload']>[0];

/**
 * `window.roleshell`: the one object the preload (or the e2e shim) exposes.
 * `call` resolves with the wire result rather than throwing, because an Error
 * crossing contextBridge keeps only its message; `renderer/src/bridge.ts` turns
 * `{ ok: false }` back into an ApiError with code and field issues.
 */
export interface RoleShellBridge {
  call<K extends CallName>(name: K, input: CallInput<K>): Promise<CallResult<CallOutput<K>>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** Session output for this window's own sessions, as bytes (tab id, data). */
  onOutput(listener: (id: string, data: Uint8Array) => void): () => void;
}
