/**
 * A debug trace of one connect's hops (renderer call → core → broker or SSM →
 * session host → data channel → first output), on stderr when
 * ROLESHELL_TRACE_CONNECT=1, each line stamped with the wall clock in ms
 * (performance.timeOrigin + now), so lines from the core, the session host and
 * the sandbox can be merged into one timeline (bench/session.bench.ts prints the
 * page's side). Names hops only: never terminal data, tokens or credentials.
 */
const enabled = process.env.ROLESHELL_TRACE_CONNECT === '1';

export function traceHop(hop: string): void {
  if (!enabled) return;
  const now = (performance.timeOrigin + performance.now()).toFixed(2);
  process.stderr.write(`[connect-trace] ${now} ${process.pid} ${hop}\n`);
}
