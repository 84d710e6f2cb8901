/**
 * What every view may ask of the app shell: switch views and set the status
 * line. Kept in a context so views do not import App.tsx.
 */
import { createContext, useContext } from 'react';
import type { ViewId } from './screens';

export interface Shell {
  navigate(view: ViewId): void;
  /** Sets a transient status message; `null` clears it. */
  setStatus(text: string | null): void;
}

export const ShellContext = createContext<Shell>({ navigate: () => {}, setStatus: () => {} });

export function useShell(): Shell {
  return useContext(ShellContext);
}
