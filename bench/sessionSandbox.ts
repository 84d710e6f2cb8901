/**
 * The session bench's sandbox in its own process (forked by session.bench.ts): the remote side (agent
 * shells, the broker's Lambda workers, STS, SSM) then does not share an event loop with the app core under
 * test or with the scripted baseline, as a real instance and AWS do not. Reports its endpoints once started
 * and closes when the bench disconnects.
 */
import { startSandbox } from '../sandbox/src/index';

const sandbox = await startSandbox({ approve: 'alice' });
process.send!({
  endpoint: sandbox.endpoint,
  region: sandbox.region,
  startUrl: sandbox.startUrl,
  brokerFunctionArn: sandbox.brokerFunctionArn,
});
process.on('disconnect', () => {
  void sandbox.close().finally(() => process.exit(0));
});
