/**
 * The one place a call from the renderer enters the app core: the name must be
 * a known call, the input must pass its schema, and any failure leaves as an
 * ApiErrorShape. Both `main/` (ipcMain) and the e2e host (WebSocket) use it, so
 * the two paths cannot drift.
 */
import type { z } from 'zod';
import { ApiError, type CallResult, type FieldIssue } from './errors';
import {
  calls,
  type CallName,
  type CallOutput,
  type ParsedCallInput,
  type EventName,
  type EventPayload,
} from './calls';

/** Who made a call: each renderer connection (Electron window, web-host socket) has its own id. */
export interface Caller {
  connectionId: string;
}

export type CallHandlers = {
  [K in CallName]: (input: ParsedCallInput<K>, caller: Caller) => Promise<CallOutput<K>>;
};

export type EventSink = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(calls, name);
}

export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

export async function dispatchCall(
  handlers: CallHandlers,
  name: unknown,
  input: unknown,
  log: (message: string, error: unknown) => void = () => {},
  caller: Caller = { connectionId: 'internal' },
): Promise<CallResult<unknown>> {
  if (!isCallName(name)) {
    return {
      ok: false,
      error: { code: 'InvalidInput', message: `Unknown call: ${String(name).slice(0, 64)}` },
    };
  }
  const parsed = calls[name].input.safeParse(input);
  if (!parsed.success) {
    const fields = fieldIssues(parsed.error);
    return {
      ok: false,
      error: { code: 'InvalidInput', message: fields[0]?.message ?? 'Invalid input', fields },
    };
  }
  try {
    const handler = handlers[name] as (input: unknown, caller: Caller) => Promise<unknown>;
    return { ok: true, value: await handler(parsed.data, caller) };
  } catch (error) {
    if (error instanceof ApiError) return { ok: false, error: error.toShape() };
    // Unknown errors may carry anything (an AWS message quoting a request): log it here, send a generic message.
    log(`call ${name} failed`, error);
    return {
      ok: false,
      error: { code: 'Internal', message: 'Something went wrong. Details are in the RoleShell log.' },
    };
  }
}
