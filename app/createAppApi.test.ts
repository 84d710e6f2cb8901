import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatchCall } from './api/dispatch';
import { createAppApi, type AppApi } from './createAppApi';
import { checkedExternalUrl, isAllowedExternalUrl } from './externalUrl';

let dataDir: string;
let api: AppApi;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-api-'));
  api = createAppApi({ dataDir, env: { ROLESHELL_SSO_REGION: 'eu-west-1' }, mode: 'web' });
});
afterEach(async () => {
  await api.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('createAppApi', () => {
  it('answers getAppInfo and getSettings through dispatchCall', async () => {
    const info = await dispatchCall(api.handlers, 'getAppInfo', undefined);
    expect(info).toEqual({
      ok: true,
      value: expect.objectContaining({
        name: 'RoleShell',
        mode: 'web',
        dataDir,
        version: expect.any(String),
      }),
    });
    const settings = await dispatchCall(api.handlers, 'getSettings', undefined);
    expect(settings).toMatchObject({
      ok: true,
      value: { settings: { ssoRegion: 'eu-west-1' }, overriddenBy: { ssoRegion: 'ROLESHELL_SSO_REGION' } },
    });
  });

  it('saves settings and tells every subscriber', async () => {
    const seen: unknown[] = [];
    const unsubscribe = api.subscribe((event, payload) => seen.push([event, payload]));
    const result = await dispatchCall(api.handlers, 'saveSettings', {
      startUrl: 'https://x.awsapps.com/start',
    });
    expect(result.ok).toBe(true);
    expect(seen).toEqual([
      [
        'settings.changed',
        expect.objectContaining({
          settings: expect.objectContaining({ startUrl: 'https://x.awsapps.com/start' }),
        }),
      ],
    ]);
    unsubscribe();
    await dispatchCall(api.handlers, 'saveSettings', { regions: ['us-east-1'] });
    expect(seen).toHaveLength(1);
  });

  it('rejects a non-https start URL with a field issue and writes nothing', async () => {
    const result = await dispatchCall(api.handlers, 'saveSettings', {
      startUrl: 'http://x.awsapps.com/start',
    });
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'InvalidInput',
        message: expect.stringContaining('https://'),
        fields: [{ path: 'startUrl', message: expect.stringContaining('must begin with https://') }],
      },
    });
    await expect(stat(path.join(dataDir, 'settings.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects unknown fields and malformed values with their paths', async () => {
    const result = await dispatchCall(api.handlers, 'saveSettings', {
      regions: ['eu-west-1', 'Mars'],
      colour: 'red',
    });
    expect(result.ok).toBe(false);
    const fields = result.ok ? [] : (result.error.fields ?? []);
    expect(fields.map((f) => f.path).sort()).toEqual(['', 'regions.1']);
  });

  it('turns a changed env-overridden field into an InvalidInput field issue', async () => {
    const result = await dispatchCall(api.handlers, 'saveSettings', { ssoRegion: 'us-east-1' });
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'InvalidInput', fields: [{ path: 'ssoRegion' }] },
    });
    const onDisk = await readFile(path.join(dataDir, 'settings.json'), 'utf8').catch(() => null);
    expect(onDisk).toBeNull();
  });
});

describe('checkedExternalUrl', () => {
  const startUrl = 'https://my-org.awsapps.com/start';
  it.each([
    ['https://my-org.awsapps.com/start/#/device?user_code=ABCD-EFGH', true],
    ['https://device.sso.eu-west-1.amazonaws.com/?user_code=ABCD-EFGH', true],
    ['https://device.sso.us-gov-west-1.amazonaws.com/', true],
    ['https://device.sso.cn-north-1.amazonaws.com.cn/', true],
    // Another organisation's portal is not the user's: a phishing page could sit there.
    ['https://someone-else.awsapps.com/start/#/device', false],
    ['https://device.sso.eu-west-1.amazonaws.com.evil.example/', false],
    ['http://my-org.awsapps.com/start', false],
    ['https://my-org.awsapps.com:444/start', false],
    ['https://evil.example/awsapps.com', false],
    ['https://awsapps.com.evil.example/', false],
    ['https://user:pw@my-org.awsapps.com/', false],
    ['file:///etc/passwd', false],
    ['javascript:alert(1)', false],
    ['not a url', false],
  ])('%s → %s', (url, allowed) => {
    expect(isAllowedExternalUrl(url, { startUrl })).toBe(allowed);
  });

  it('allows no portal at all when no start URL is configured', () => {
    expect(isAllowedExternalUrl('https://my-org.awsapps.com/start')).toBe(false);
  });

  it('returns the normalised URL it checked, which is what the browser is given', () => {
    expect(checkedExternalUrl('https://MY-ORG.awsapps.com/start/#/device', { startUrl })).toBe(
      'https://my-org.awsapps.com/start/#/device',
    );
    // A backslash is a path separator to the URL parser: the host checked is my-org.awsapps.com, and
    // the browser gets exactly that, not a string another parser might read as a user@host.
    expect(checkedExternalUrl('https://my-org.awsapps.com\\@evil.example/', { startUrl })).toBe(
      'https://my-org.awsapps.com/@evil.example/',
    );
  });
});
