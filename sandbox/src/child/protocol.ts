/**
 * Messages between the app core and the sandbox running as its child process
 * (entry.ts). Structured-clone-safe plain objects, so the same messages travel
 * over Node's `fork` IPC and Electron's `utilityProcess` port.
 */

/** Core → sandbox. `start` is the first message; `close` ends the process after a clean shutdown. */
export type ToSandbox =
  | {
      type: 'start';
      /** Org file (YAML). */
      org: string;
      /** Folder handler modules are relative to (a checkout's root); default: above the org file. */
      root?: string;
      /** The broker already bundled (a packaged app ships it instead of sources and esbuild). */
      brokerBundle?: string;
    }
  | { type: 'close' };

/** Sandbox → core. */
export type FromSandbox =
  | {
      type: 'ready';
      endpoint: string;
      region: string;
      startUrl: string;
      brokerFunctionArn: string;
      /** The regions the org's instances live in. */
      regions: string[];
    }
  | { type: 'failed'; message: string }
  | { type: 'log'; line: string };
