/**
 * Test helper: the real app API (the object main/ and the web host bind) on a
 * throwaway data folder, called the way the renderer calls it, plus sign-in as
 * a named sandbox user through the sandbox's real approval page.
 */
import type { Sandbox } from '../../sandbox/src/index';
import { approveOnPage } from '../../sandbox/src/testing/sdk';
import type { AuthView } from '../api/calls/auth';
import { dispatchCall } from '../api/dispatch';
import { createAppApi, type AppApi } from '../createAppApi';

export interface AppUnderTest {
  app: AppApi;
  call<T = unknown>(name: string, input?: unknown): Promise<T>;
  /** Starts the device flow, approves it as `user` on the sandbox's page, waits for signedIn. */
  signInAs(sandbox: Sandbox, user: string): Promise<AuthView>;
  close(): Promise<void>;
}

export function startApp(dataDir: string, env: NodeJS.ProcessEnv): AppUnderTest {
  const app = createAppApi({ dataDir, env: { HOME: dataDir, ...env }, mode: 'web', log: () => {} });
  const call = async <T>(name: string, input?: unknown): Promise<T> => {
    const result = await dispatchCall(app.handlers, name, input);
    if (!result.ok) throw Object.assign(new Error(result.error.message), result.error);
    return result.value as T;
  };
  return {
    app,
    call,
    async signInAs(sandbox, user) {
      const pending = await call<AuthView>('auth.signIn');
      if (pending.state.status !== 'awaitingApproval')
        throw new Error(`not awaiting approval: ${pending.state.status}`);
      await approveOnPage(sandbox, pending.state.verificationUriComplete!, user);
      for (let i = 0; i < 200; i++) {
        const view = await call<AuthView>('auth.getView');
        if (view.state.status === 'signedIn') return view;
        if (view.state.status === 'signedOut' && view.state.message) throw new Error(view.state.message);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${user} did not get signed in`);
    },
    close: () => app.close(),
  };
}

/** The environment pointing the app at a sandbox, as `npm run web` with the sandbox does. */
export function sandboxEnv(sandbox: Sandbox, endpoint = sandbox.endpoint): NodeJS.ProcessEnv {
  return {
    ROLESHELL_START_URL: sandbox.startUrl,
    ROLESHELL_SSO_REGION: sandbox.region,
    ROLESHELL_AWS_ENDPOINT: endpoint,
    ROLESHELL_BROKER_ARN: sandbox.brokerFunctionArn,
    ROLESHELL_REGIONS: 'eu-west-1,us-east-1',
  };
}
