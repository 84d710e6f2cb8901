/**
 * The renderer's only way into the app core: a typed wrapper over
 * `window.roleshell` (installed by the Electron preload, or by the e2e/web
 * host's shim). API failures come back as `{ ok: false }` and are thrown here
 * as ApiError, keeping their code and per-field issues for inline display.
 */
import type {
  CallInput,
  CallName,
  CallOutput,
  EventName,
  EventPayload,
  RoleShellBridge,
} from '../../app/api/calls';
import { ApiError } from '../../app/api/errors';

export { ApiError };
export type { FieldIssue } from '../../app/api/errors';

declare global {
  interface Window {
    roleshell?: RoleShellBridge;
  }
}

/** Calls whose input may be undefined can be called with the name alone. */
type CallArgs<K extends CallName> =
  undefined extends CallInput<K> ? [input?: CallInput<K>] : [input: CallInput<K>];

function bridge(): RoleShellBridge {
  const found = window.roleshell;
  if (!found) {
    throw new ApiError('Unavailable', 'RoleShell’s app core is not connected. Start the app with npm start.');
  }
  return found;
}

export async function call<K extends CallName>(name: K, ...args: CallArgs<K>): Promise<CallOutput<K>> {
  const result = await bridge().call(name, args[0] as CallInput<K>);
  if (!result.ok) throw ApiError.fromShape(result.error);
  return result.value;
}

export function on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
  return bridge().on(event, listener);
}

/** Turns anything thrown by `call` into a message for the user. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return 'Something went wrong. Details are in the RoleShell log.';
}
