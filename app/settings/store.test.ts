import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors';
import { dispatchCall } from '../api/dispatch';
import { createAppApi } from '../createAppApi';
import { createSettingsStore, nodeSettingsFs, type SettingsFs } from './store';
import { defaultSettings, sessionModeFor, targetRegions } from './schema';

let dataDir: string;
const settingsFile = () => path.join(dataDir, 'settings.json');

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-settings-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('settings store', () => {
  it('starts from defaults when there is no file, and creates the file on save', async () => {
    const store = createSettingsStore({ dataDir, env: {} });
    const view = await store.load();
    expect(view.settings).toEqual(defaultSettings);
    expect(view.problem).toBeNull();
    const saved = await store.save({ startUrl: 'https://my-org.awsapps.com/start', regions: ['eu-west-1'] });
    expect(saved.settings.startUrl).toBe('https://my-org.awsapps.com/start');
    const onDisk = JSON.parse(await readFile(settingsFile(), 'utf8'));
    expect(onDisk).toMatchObject({ startUrl: 'https://my-org.awsapps.com/start', regions: ['eu-west-1'] });
    // A second store (the app restarted) reads what the first wrote.
    expect(createSettingsStore({ dataDir, env: {} }).current().regions).toEqual(['eu-west-1']);
  });

  it('lets environment variables override fields without writing them to the file', async () => {
    await writeFile(
      settingsFile(),
      JSON.stringify({ startUrl: 'https://file.awsapps.com/start', ssoRegion: 'eu-west-1' }),
    );
    const env = {
      ROLESHELL_START_URL: 'https://env.awsapps.com/start',
      ROLESHELL_REGIONS: 'eu-west-1, us-east-1 ,',
      ROLESHELL_AWS_ENDPOINT: 'http://127.0.0.1:4566',
      SESSION_MANAGER_PLUGIN: '/opt/smp/session-manager-plugin',
      ROLESHELL_BROKER_ARN: '',
    };
    const store = createSettingsStore({ dataDir, env });
    const view = await store.load();
    expect(view.settings).toMatchObject({
      startUrl: 'https://env.awsapps.com/start',
      ssoRegion: 'eu-west-1',
      regions: ['eu-west-1', 'us-east-1'],
      awsEndpoint: 'http://127.0.0.1:4566',
      sessionManagerPluginPath: '/opt/smp/session-manager-plugin',
      brokerArn: '',
    });
    expect(view.overriddenBy).toEqual({
      startUrl: 'ROLESHELL_START_URL',
      regions: 'ROLESHELL_REGIONS',
      awsEndpoint: 'ROLESHELL_AWS_ENDPOINT',
      sessionManagerPluginPath: 'SESSION_MANAGER_PLUGIN',
    });

    // Repeating the overridden value is fine; the file keeps its own value.
    await store.save({ startUrl: 'https://env.awsapps.com/start', ssoRegion: 'us-west-2' });
    const onDisk = JSON.parse(await readFile(settingsFile(), 'utf8'));
    expect(onDisk.startUrl).toBe('https://file.awsapps.com/start');
    expect(onDisk.ssoRegion).toBe('us-west-2');
    expect(onDisk.regions).toEqual([]);

    // Changing an overridden field is refused with a field issue naming the variable.
    const error = await store.save({ startUrl: 'https://other.awsapps.com/start' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).fields).toEqual([
      { path: 'startUrl', message: expect.stringContaining('ROLESHELL_START_URL') },
    ]);
  });

  it('reports an invalid environment value and ignores it', async () => {
    const store = createSettingsStore({ dataDir, env: { ROLESHELL_START_URL: 'http://insecure.example' } });
    const view = await store.load();
    expect(view.settings.startUrl).toBe('');
    expect(view.overriddenBy).toEqual({});
    expect(view.envProblems).toEqual([
      { path: 'startUrl', message: expect.stringMatching(/ROLESHELL_START_URL.*https:\/\//) },
    ]);
  });

  it('reports a malformed file, keeps it untouched on load, and moves it aside (saying so) on save', async () => {
    const broken = '{ "startUrl": "https://my-org.awsapps.com/start", oops }';
    await writeFile(settingsFile(), broken);
    const store = createSettingsStore({ dataDir, env: {}, now: () => new Date('2026-11-30T09:15:00.000Z') });
    const view = await store.load();
    expect(view.problem).toMatch(/settings\.json is not valid JSON/);
    expect(view.settings).toEqual(defaultSettings);
    expect(await readFile(settingsFile(), 'utf8')).toBe(broken);

    const saved = await store.save({ ssoRegion: 'eu-central-1' });
    const keptAs = `${settingsFile()}.bad-2026-11-30T09-15-00-000Z`;
    expect(saved.notice).toBe(`The previous settings file could not be read; it was kept as ${keptAs}.`);
    expect(saved.problem).toBeNull();
    expect(await readFile(keptAs, 'utf8')).toBe(broken);
    expect(JSON.parse(await readFile(settingsFile(), 'utf8')).ssoRegion).toBe('eu-central-1');
  });

  it('leaves a malformed file in place when the save that would replace it fails', async () => {
    await writeFile(settingsFile(), 'not json');
    const failingFs: SettingsFs = {
      ...nodeSettingsFs,
      async writeFileDurably() {
        throw Object.assign(new Error('read-only file system'), { code: 'EROFS' });
      },
    };
    const store = createSettingsStore({ dataDir, env: {}, fs: failingFs });
    const error = await store.save({ ssoRegion: 'eu-central-1' }).catch((e: unknown) => e);
    expect((error as ApiError).message).toMatch(/EROFS.*nothing was changed/);
    expect(await readdir(dataDir)).toEqual(['settings.json']);
    expect(await readFile(settingsFile(), 'utf8')).toBe('not json');
  });

  it('treats a well-formed file with an invalid value as malformed, naming the field', async () => {
    await writeFile(settingsFile(), JSON.stringify({ startUrl: 'http://my-org.awsapps.com/start' }));
    const view = await createSettingsStore({ dataDir, env: {} }).load();
    expect(view.problem).toMatch(/invalid value "startUrl": The start URL must begin with https:\/\//);
    await writeFile(settingsFile(), '[1, 2]');
    expect((await createSettingsStore({ dataDir, env: {} }).load()).problem).toMatch(
      /must hold a JSON object/,
    );
  });

  it('keeps keys it does not know (written by a newer version)', async () => {
    await writeFile(settingsFile(), JSON.stringify({ futureSetting: { a: 1 }, ssoRegion: 'eu-west-1' }));
    await createSettingsStore({ dataDir, env: {} }).save({
      brokerArn: 'arn:aws:lambda:eu-west-1:123456789012:function:RoleShellBroker',
    });
    expect(JSON.parse(await readFile(settingsFile(), 'utf8'))).toMatchObject({
      futureSetting: { a: 1 },
      ssoRegion: 'eu-west-1',
      brokerArn: 'arn:aws:lambda:eu-west-1:123456789012:function:RoleShellBroker',
    });
  });

  it('writes a temp file, fsyncs it, then renames it over the settings file', async () => {
    const steps: string[] = [];
    const recordingFs: SettingsFs = {
      ...nodeSettingsFs,
      async writeFileDurably(file, data) {
        steps.push(`write ${path.basename(file).replace(/tmp-.*/, 'tmp')}`);
        await nodeSettingsFs.writeFileDurably(file, data);
      },
      async rename(from, to) {
        // At rename time the temp file holds the complete new contents.
        steps.push(`rename ${path.basename(from).replace(/tmp-.*/, 'tmp')} -> ${path.basename(to)}`);
        expect(JSON.parse(await readFile(from, 'utf8')).ssoRegion).toBe('ap-southeast-2');
        await nodeSettingsFs.rename(from, to);
      },
    };
    await createSettingsStore({ dataDir, env: {}, fs: recordingFs }).save({ ssoRegion: 'ap-southeast-2' });
    expect(steps).toEqual(['write settings.json.tmp', 'rename settings.json.tmp -> settings.json']);
  });

  it('leaves the old file intact and no temp file behind when the save dies before the rename', async () => {
    const original = JSON.stringify({ startUrl: 'https://before.awsapps.com/start' });
    await writeFile(settingsFile(), original);
    const crashingFs: SettingsFs = {
      ...nodeSettingsFs,
      async writeFileDurably(file, data) {
        // Half the data reaches the temp file, then the disk fails.
        await nodeSettingsFs.writeFileDurably(file, data.slice(0, data.length / 2));
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    };
    const store = createSettingsStore({ dataDir, env: {}, fs: crashingFs });
    const error = await store.save({ startUrl: 'https://after.awsapps.com/start' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toMatch(/Could not save settings .*ENOSPC.*nothing was changed/);
    expect(await readFile(settingsFile(), 'utf8')).toBe(original);
    expect(await readdir(dataDir)).toEqual(['settings.json']);
  });

  it('runs concurrent saves one after the other so neither is lost', async () => {
    const store = createSettingsStore({ dataDir, env: {} });
    await Promise.all([
      store.save({ ssoRegion: 'eu-west-2' }),
      store.save({ regions: ['us-east-2'] }),
      store.save({ sessionManagerPluginPath: '/usr/local/bin/session-manager-plugin' }),
    ]);
    expect(JSON.parse(await readFile(settingsFile(), 'utf8'))).toMatchObject({
      ssoRegion: 'eu-west-2',
      regions: ['us-east-2'],
      sessionManagerPluginPath: '/usr/local/bin/session-manager-plugin',
    });
  });
});

describe('settings schema helpers', () => {
  it('picks the session mode per start URL, broker by default when a broker is configured', () => {
    const withBroker = {
      ...defaultSettings,
      startUrl: 'https://a.awsapps.com/start',
      brokerArn: 'arn:aws:lambda:eu-west-1:123456789012:function:B',
    };
    expect(sessionModeFor(withBroker)).toBe('broker');
    expect(sessionModeFor({ ...withBroker, modes: { 'https://a.awsapps.com/start': 'direct' } })).toBe(
      'direct',
    );
    expect(sessionModeFor({ ...defaultSettings, startUrl: 'https://b.awsapps.com/start' })).toBe('direct');
  });

  it('looks for instances in the IdC region when no regions are listed', () => {
    expect(targetRegions({ ...defaultSettings, ssoRegion: 'eu-west-1' })).toEqual(['eu-west-1']);
    expect(targetRegions({ ...defaultSettings, regions: ['us-east-1', 'ap-south-1'] })).toEqual([
      'us-east-1',
      'ap-south-1',
    ]);
  });
});

describe('start URL validation', () => {
  const accepted = [
    'https://my-org.awsapps.com/start',
    'https://d-1234567890.awsapps.com/start/',
    'https://my-org.awsapps.com/start/#/',
    'https://my-org.awsapps.cn/start',
    'https://start.us-gov-home.awsapps.com/directory/d-9067a1b2c3',
    'https://my-org.us-gov-home.awsapps.com/start',
    'https://ssoins-7223a1b2c3d4e5f6.portal.us-east-1.app.aws',
    'https://ssoins-7223a1b2c3d4e5f6.portal.eu-west-1.app.aws/',
    'https://ssoins-111111h2222j33pp.eu-west-1.portal.amazonaws.com',
  ];
  it.each(accepted)('saves %s', async (startUrl) => {
    const store = createSettingsStore({ dataDir, env: {} });
    expect((await store.save({ startUrl })).settings.startUrl).toBe(startUrl);
  });

  const refused: [string, string, RegExp][] = [
    [
      'another site',
      'https://example.com/',
      /example\.com is not an IAM Identity Center address\. .*awsapps\.com\/start/,
    ],
    [
      'a typo',
      'https://my-org.awsaps.com/start',
      /my-org\.awsaps\.com is not .* Did you mean my-org\.awsapps\.com\?/,
    ],
    ['a dropped letter', 'https://my-org.awsapps.co/start', /Did you mean my-org\.awsapps\.com\?/],
    [
      'a 3,000-character host',
      `https://${'a'.repeat(3000)}.awsapps.com/start`,
      /too long \(3\d{3} characters; at most 512\)/,
    ],
    ['plain http', 'http://my-org.awsapps.com/start', /must begin with https:\/\//],
    [
      'no /start',
      'https://my-org.awsapps.com/',
      /path \/ is not an AWS access portal path: use https:\/\/<name>\.awsapps\.com\/start/,
    ],
    ['a port', 'https://my-org.awsapps.com:8443/start', /must not name a port/],
    ['credentials', 'https://user:pw@my-org.awsapps.com/start', /must not contain a user name or password/],
    [
      'a look-alike host',
      'https://my-org.awsapps.com.evil.example/start',
      /is not an IAM Identity Center address/,
    ],
    ['no scheme', 'my-org.awsapps.com/start', /Enter the start URL your administrator gave you/],
  ];
  it.each(refused)(
    'refuses %s through saveSettings, saying what is wrong and writing nothing',
    async (_what, startUrl, message) => {
      const app = createAppApi({ dataDir, env: {}, mode: 'web', log: () => {} });
      try {
        const result = await dispatchCall(app.handlers, 'saveSettings', { startUrl });
        expect(result).toEqual({
          ok: false,
          error: {
            code: 'InvalidInput',
            message: expect.any(String),
            fields: [{ path: 'startUrl', message: expect.stringMatching(message) }],
          },
        });
        expect(await readdir(dataDir)).not.toContain('settings.json');
      } finally {
        await app.close();
      }
    },
  );

  it('reports a malformed start URL from the environment, naming the variable', async () => {
    const view = await createSettingsStore({
      dataDir,
      env: { ROLESHELL_START_URL: 'https://example.com/' },
    }).load();
    expect(view.envProblems).toEqual([
      {
        path: 'startUrl',
        message: expect.stringMatching(/ROLESHELL_START_URL is ignored: example\.com is not/),
      },
    ]);
  });
});

describe('start URLs kept', () => {
  it('keeps per-start-URL modes only for start URLs signed in to, and the configured one', async () => {
    const store = createSettingsStore({ dataDir, env: {} });
    const a = 'https://a.awsapps.com/start';
    const b = 'https://b.awsapps.com/start';
    const typo = 'https://tpyo.awsapps.com/start';
    await store.save({ startUrl: typo, modes: { [typo]: 'direct' } });
    await store.save({ startUrl: a, modes: { [typo]: 'direct', [a]: 'direct' } });
    // The typo was never signed in to: once it is no longer the configured URL its entry goes.
    expect(store.current().modes).toEqual({ [a]: 'direct' });
    await store.recordSignIn(a);
    await store.save({ startUrl: b, modes: { [a]: 'direct', [b]: 'broker' } });
    expect(store.current().modes).toEqual({ [a]: 'direct', [b]: 'broker' });
    expect(store.current().usedStartUrls).toEqual([a]);
    await store.recordSignIn(b);
    await store.recordSignIn(a);
    const onDisk = JSON.parse(await readFile(settingsFile(), 'utf8'));
    expect(onDisk.usedStartUrls).toEqual([a, b]);
    // The renderer cannot write the list itself.
    await expect(store.save({ usedStartUrls: [typo] } as never)).rejects.toThrow();
  });

  it('remembers at most 20 start URLs, most recent first', async () => {
    const store = createSettingsStore({ dataDir, env: {} });
    for (let i = 0; i < 25; i++) await store.recordSignIn(`https://org-${i}.awsapps.com/start`);
    const used = store.current().usedStartUrls;
    expect(used).toHaveLength(20);
    expect(used[0]).toBe('https://org-24.awsapps.com/start');
  });
});
