/** Test function: holds its worker for `event.ms` and says which worker thread ran it, when, and with which Node flags. */
import { threadId } from 'node:worker_threads';

export async function handler(event: { ms?: number }) {
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, event.ms ?? 0));
  return { threadId, start, end: Date.now(), execArgv: process.execArgv };
}
