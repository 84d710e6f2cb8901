/**
 * Updates: off unless an https update server is configured for a packaged app; when on,
 * electron-updater's generic provider at that URL, with its download and signature checks
 * left as they are.
 */
import { describe, expect, it, vi } from 'vitest';
import { updateConfigFrom } from '../app/updates/updateConfig';
import { startUpdates } from './updates';

describe('updateConfigFrom', () => {
  const config = (url: string | undefined, packaged = true) =>
    updateConfigFrom({ env: url === undefined ? {} : { ROLESHELL_UPDATE_URL: url }, packaged });

  it('is off by default', () => {
    expect(config(undefined)).toEqual({
      enabled: false,
      reason: expect.stringContaining('no update server'),
    });
    expect(config('  ')).toMatchObject({ enabled: false });
  });

  it('is on for an https URL in a packaged app', () => {
    expect(config('https://updates.corp.example/roleshell/')).toEqual({
      enabled: true,
      url: 'https://updates.corp.example/roleshell/',
    });
  });

  it('refuses http, credentials in the URL, a non-URL, and an unpackaged app', () => {
    expect(config('http://updates.corp.example/')).toEqual({
      enabled: false,
      reason: expect.stringMatching(/must be https/),
    });
    expect(config('https://user:pw@updates.corp.example/')).toMatchObject({
      enabled: false,
      reason: expect.stringMatching(/credentials/),
    });
    expect(config('updates.corp.example')).toMatchObject({
      enabled: false,
      reason: expect.stringMatching(/not a URL/),
    });
    expect(config('https://updates.corp.example/', false)).toMatchObject({
      enabled: false,
      reason: 'not a packaged app',
    });
  });
});

function fakeUpdater() {
  const verifyUpdateCodeSignature = vi.fn();
  return {
    setFeedURL: vi.fn(),
    checkForUpdatesAndNotify: vi.fn(() => Promise.resolve(null)),
    on: vi.fn(),
    autoDownload: false,
    autoInstallOnAppQuit: false,
    allowDowngrade: true,
    allowPrerelease: true,
    logger: null as unknown,
    verifyUpdateCodeSignature,
    original: { verifyUpdateCodeSignature },
  };
}

describe('startUpdates', () => {
  it('loads no updater and checks nothing when off', async () => {
    const load = vi.fn();
    const log = vi.fn();
    await startUpdates({ enabled: false, reason: 'no update server configured' }, log, load);
    expect(load).not.toHaveBeenCalled();
    expect(log).toHaveBeenCalledWith('updates: off (no update server configured)');
  });

  it('checks the configured generic server, never downgrading, signature checks untouched', async () => {
    const updater = fakeUpdater();
    const log = vi.fn();
    await startUpdates(
      { enabled: true, url: 'https://updates.corp.example/roleshell/' },
      log,
      async () => updater as never,
    );
    expect(updater.setFeedURL).toHaveBeenCalledWith({
      provider: 'generic',
      url: 'https://updates.corp.example/roleshell/',
    });
    expect(updater.checkForUpdatesAndNotify).toHaveBeenCalledTimes(1);
    expect(updater).toMatchObject({ autoDownload: true, allowDowngrade: false, allowPrerelease: false });
    expect(updater.verifyUpdateCodeSignature).toBe(updater.original.verifyUpdateCodeSignature);
    expect(updater.on).toHaveBeenCalledWith('error', expect.any(Function));
  });

  it('logs a failed check instead of throwing', async () => {
    const updater = fakeUpdater();
    updater.checkForUpdatesAndNotify.mockRejectedValueOnce(new Error('ENOTFOUND'));
    const log = vi.fn();
    await startUpdates(
      { enabled: true, url: 'https://updates.corp.example/' },
      log,
      async () => updater as never,
    );
    expect(log).toHaveBeenCalledWith(
      'updates: the check failed',
      expect.objectContaining({ message: 'ENOTFOUND' }),
    );
  });
});
