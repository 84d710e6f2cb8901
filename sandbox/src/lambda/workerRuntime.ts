/**
 * The code that runs inside each function's worker thread, like the Lambda
 * Node.js runtime's bootstrap: load the bundled handler once (cold start), then
 * answer invocations one at a time. Kept as CommonJS source text because the
 * worker loads the esbuild CJS bundle with `require`.
 */
export const WORKER_RUNTIME_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');

function serializeError(e) {
  const isObj = e !== null && typeof e === 'object';
  return {
    errorType: (isObj && e.name) || 'Error',
    errorMessage: isObj && e.message !== undefined ? String(e.message) : String(e),
    trace: isObj && e.stack ? String(e.stack).split('\n') : [],
  };
}

let handler;
try {
  const mod = require(workerData.bundle);
  handler = mod[workerData.handler];
  if (typeof handler !== 'function') {
    const err = new Error(workerData.moduleName + '.' + workerData.handler + ' is undefined or not exported');
    err.name = 'Runtime.HandlerNotFound';
    throw err;
  }
  parentPort.postMessage({ type: 'ready' });
} catch (e) {
  const error = serializeError(e);
  if (!String(error.errorType).startsWith('Runtime.')) {
    error.errorMessage = error.errorType + ': ' + error.errorMessage;
    error.errorType = 'Runtime.ImportModuleError';
  }
  parentPort.postMessage({ type: 'initError', error });
}

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
    parentPort.postMessage({ type: 'result', id: m.id, payload: result === undefined ? 'null' : JSON.stringify(result) });
  } catch (e) {
    parentPort.postMessage({ type: 'error', id: m.id, error: serializeError(e) });
  }
});
`;
