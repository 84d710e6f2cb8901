/**
 * What every screen may ask of the app shell: switch screens and set the
 * status line. Kept in a context so screens do not import App.tsx.
 */
import { createContext, useContext } from 'react';

export interface Shell {
  /** Shows another registered screen (an id from screens.tsx). */
  navigate(screenId: string): void;
  /** Sets the status line; `null` clears it. */
  setStatus(text: string | null): void;
}

export const ShellContext = createContext<Shell>({ navigate: () => {}, setStatus: () => {} });

export function useShell(): Shell {
  return useContext(ShellContext);
}
