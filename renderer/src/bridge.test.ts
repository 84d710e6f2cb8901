import { afterEach, describe, expect, it } from 'vitest';
import type { RoleShellBridge } from '../../app/api/calls';
import { ApiError, call, errorMessage, on } from './bridge';

// The renderer tests run in Node: stand in a window whose roleshell records what crosses it.
const page = globalThis as unknown as { window?: { roleshell?: RoleShellBridge } };

function install(bridge: RoleShellBridge | undefined) {
  page.window = { roleshell: bridge };
}

afterEach(() => {
  delete page.window;
});

describe('renderer bridge', () => {
  it('returns the value of a successful call and passes the input through', async () => {
    const seen: unknown[] = [];
    install({
      call: async (name, input) => {
        seen.push([name, input]);
        return { ok: true, value: { name: 'RoleShell' } } as never;
      },
      on: () => () => {},
      onOutput: () => () => {},
    });
    await expect(call('getAppInfo')).resolves.toEqual({ name: 'RoleShell' });
    await call('saveSettings', { ssoRegion: 'eu-west-1' });
    expect(seen).toEqual([
      ['getAppInfo', undefined],
      ['saveSettings', { ssoRegion: 'eu-west-1' }],
    ]);
  });

  it('throws an ApiError carrying the code and field issues of a failed call', async () => {
    install({
      call: async () =>
        ({
          ok: false,
          error: {
            code: 'InvalidInput',
            message: 'bad url',
            fields: [{ path: 'startUrl', message: 'bad url' }],
          },
        }) as never,
      on: () => () => {},
      onOutput: () => () => {},
    });
    const error = await call('saveSettings', { startUrl: 'http://x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'InvalidInput', fields: [{ path: 'startUrl', message: 'bad url' }] });
    expect(errorMessage(error)).toBe('bad url');
    expect(errorMessage(new TypeError('x is undefined'))).toBe(
      'Something went wrong. Details are in the RoleShell log.',
    );
  });

  it('says clearly when no app core is connected', async () => {
    install(undefined);
    const error = await call('getAppInfo').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'Unavailable', message: expect.stringContaining('not connected') });
  });

  it('subscribes to events and returns the unsubscribe function', () => {
    const listeners: Array<[string, unknown]> = [];
    const unsubscribe = () => {};
    install({
      call: async () => ({ ok: true, value: undefined }) as never,
      on: (event, listener) => (listeners.push([event, listener]), unsubscribe),
      onOutput: () => () => {},
    });
    const listener = () => {};
    expect(on('settings.changed', listener)).toBe(unsubscribe);
    expect(listeners).toEqual([['settings.changed', listener]]);
  });
});
