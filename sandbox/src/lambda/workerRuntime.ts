/**
 * The code that runs inside each function's worker thread, like the Lambda
 * Node.js runtime's bootstrap: import the bundled handler (an ES module, as
 * deployed) once — the cold start — then answer invocations one at a time.
 * Kept as source text so the worker needs no TypeScript loader.
 *
 * stdout/stderr are collected here and sent with the invocation's result (or
 * every LOG_FLUSH_MS meanwhile): a write is accepted at once, as Lambda's
 * pipe accepts it, instead of a worker stdio write waiting for the main
 * thread to take each chunk (a cross-thread round trip per log line).
 */
export const WORKER_RUNTIME_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');

const LOG_FLUSH_MS = 20;
const pendingLogs = [];
let flushTimer;
function takeLogs() {
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = undefined;
  const text = pendingLogs.join('');
  pendingLogs.length = 0;
  return text;
}
function flushLogs() {
  const text = takeLogs();
  if (text) parentPort.postMessage({ type: 'log', text });
}
for (const stream of [process.stdout, process.stderr]) {
  stream.write = function write(chunk, encoding, callback) {
    if (typeof encoding === 'function') callback = encoding, encoding = undefined;
    pendingLogs.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    if (!flushTimer) flushTimer = setTimeout(flushLogs, LOG_FLUSH_MS);
    if (typeof callback === 'function') process.nextTick(callback);
    return true;
  };
}

function serializeError(e) {
  const isObj = e !== null && typeof e === 'object';
  return {
    errorType: (isObj && e.name) || 'Error',
    errorMessage: isObj && e.message !== undefined ? String(e.message) : String(e),
    trace: isObj && e.stack ? String(e.stack).split('\n') : [],
  };
}

let handler;
(async () => {
  try {
    const mod = await import(require('node:url').pathToFileURL(workerData.bundle).href);
    handler = mod[workerData.handler];
    if (typeof handler !== 'function') {
      const err = new Error(workerData.moduleName + '.' + workerData.handler + ' is undefined or not exported');
      err.name = 'Runtime.HandlerNotFound';
      throw err;
    }
    flushLogs();
    parentPort.postMessage({ type: 'ready' });
  } catch (e) {
    const error = serializeError(e);
    if (!String(error.errorType).startsWith('Runtime.')) {
      error.errorMessage = error.errorType + ': ' + error.errorMessage;
      error.errorType = 'Runtime.ImportModuleError';
    }
    flushLogs();
    parentPort.postMessage({ type: 'initError', error });
  }
})();

parentPort.on('message', async (m) => {
  const deadline = Date.now() + m.timeoutMs;
  const context = {
    awsRequestId: m.awsRequestId,
    invokedFunctionArn: m.invokedFunctionArn,
    functionName: workerData.functionName,
    functionVersion: '$LATEST',
    memoryLimitInMB: String(workerData.memorySize),
    logGroupName: '/aws/lambda/' + workerData.functionName,
    logStreamName: workerData.logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(JSON.parse(m.payload), context);
    const payload = result === undefined ? 'null' : JSON.stringify(result);
    parentPort.postMessage({ type: 'result', id: m.id, payload, logs: takeLogs() });
  } catch (e) {
    parentPort.postMessage({ type: 'error', id: m.id, error: serializeError(e), logs: takeLogs() });
  }
});
`;
