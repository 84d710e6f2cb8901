/** Handlers for the sign-in calls (`app/api/calls/auth.ts`). */
import type { CallHandlers } from '../api/dispatch';
import { ApiError } from '../api/errors';
import type { AppContext } from '../appContext';
import { type IdentityCenter } from './identityCenter';

export function createAuthHandlers(
  ctx: AppContext,
  center: IdentityCenter,
): Pick<
  CallHandlers,
  | 'auth.getView'
  | 'auth.signIn'
  | 'auth.cancelSignIn'
  | 'auth.openVerificationPage'
  | 'auth.useCliSignIn'
  | 'auth.signOut'
  | 'auth.getUser'
  | 'auth.tryLocalSandbox'
> {
  const signIn = async () => {
    const connection = await center.current();
    await connection.session.startSignIn();
    return center.viewOf(connection);
  };
  return {
    'auth.getView': () => center.view(),
    'auth.signIn': signIn,
    async 'auth.cancelSignIn'() {
      const connection = await center.current();
      connection.session.cancelSignIn();
      await connection.session.waitForSignIn();
      return center.viewOf(connection);
    },
    async 'auth.openVerificationPage'() {
      const connection = await center.current();
      const state = connection.session.state;
      if (state.status !== 'awaitingApproval')
        throw new ApiError('InvalidInput', 'No sign-in is waiting for approval.');
      // The URL comes from IdC (or the sandbox), never from the renderer.
      await ctx.openExternal(state.verificationUriComplete ?? state.verificationUri, {
        startUrl: connection.config.startUrl,
        sandboxEndpoint: connection.config.endpoint,
      });
    },
    async 'auth.useCliSignIn'() {
      const connection = await center.current();
      await connection.session.useCliCache();
      return center.viewOf(connection);
    },
    async 'auth.signOut'() {
      const connection = await center.current();
      await center.prepareSignOut();
      await connection.session.signOut();
      connection.portal.clear();
      return center.viewOf(connection);
    },
    async 'auth.getUser'() {
      if (!center.config()) return null;
      const connection = await center.current();
      if (connection.session.state.status !== 'signedIn') return null;
      return (await center.idcUserOf(connection)) ?? null;
    },
    async 'auth.tryLocalSandbox'() {
      await center.useLocalSandbox();
      const connection = await center.current();
      if (connection.session.state.status === 'signedIn') return center.viewOf(connection);
      return signIn();
    },
  };
}
