import { describe, expect, it } from 'vitest';
import { BrokerConfigError, documentNameFor, loadBrokerConfig } from './config';

const env = (config: unknown) => ({
  ROLESHELL_BROKER_CONFIG: typeof config === 'string' ? config : JSON.stringify(config),
});

describe('loadBrokerConfig', () => {
  it('fills defaults around the required fields', () => {
    const config = loadBrokerConfig(env({ targetRoleName: 'RoleShellTarget', regions: ['eu-west-1'] }));
    expect(config).toEqual({
      targetRoleName: 'RoleShellTarget',
      regions: ['eu-west-1'],
      documentPrefix: 'RoleShell-',
      documentOverrides: new Map(),
      crossAccount: false,
      extraStsEndpoints: [],
      mappingCacheSeconds: 300,
      roleCacheSeconds: 300,
      stsTimeoutSeconds: 5,
    });
  });

  it('normalizes extra STS endpoints to their origin', () => {
    const config = loadBrokerConfig(
      env({
        targetRoleName: 'T',
        regions: ['eu-west-1'],
        extraStsEndpoints: ['http://127.0.0.1:4566/', 'https://sts.example.test'],
      }),
    );
    expect(config.extraStsEndpoints).toEqual(['http://127.0.0.1:4566', 'https://sts.example.test']);
  });

  it('says the variable is missing', () => {
    expect(() => loadBrokerConfig({})).toThrow(/ROLESHELL_BROKER_CONFIG is not set/);
  });

  it('says the JSON does not parse', () => {
    expect(() => loadBrokerConfig(env('{"targetRoleName":'))).toThrow(/not valid JSON/);
  });

  it('keeps overrides for permission sets named like Object built-ins, and nothing else', () => {
    const config = loadBrokerConfig({
      ROLESHELL_BROKER_CONFIG:
        '{"targetRoleName":"T","regions":["eu-west-1"],"documentOverrides":{"__proto__":"Proto-Shell","constructor":"Ctor-Shell"}}',
    });
    expect(documentNameFor(config, '__proto__')).toBe('Proto-Shell');
    expect(documentNameFor(config, 'constructor')).toBe('Ctor-Shell');
    expect(documentNameFor(config, 'toString')).toBe('RoleShell-toString');
    expect(documentNameFor(config, 'hasOwnProperty')).toBe('RoleShell-hasOwnProperty');
    expect(() =>
      loadBrokerConfig(env({ targetRoleName: 'T', regions: ['eu-west-1'], documentOverrides: [] })),
    ).toThrow(/documentOverrides: must be an object/);
  });

  it('names every bad field', () => {
    let error: unknown;
    try {
      loadBrokerConfig(
        env({
          targetRoleName: 'bad role',
          regions: ['moon-1'],
          extraStsEndpoints: ['http://127.0.0.1:1/path'],
          mappingCacheSeconds: -1,
          documentOverrides: { Dev: 'x' },
          surprise: true,
        }),
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BrokerConfigError);
    const message = (error as Error).message;
    for (const field of [
      'targetRoleName',
      'regions.0',
      'extraStsEndpoints.0',
      'mappingCacheSeconds',
      'documentOverrides.Dev',
      'surprise',
    ]) {
      expect(message).toContain(field);
    }
  });

  it('requires at least one region', () => {
    expect(() => loadBrokerConfig(env({ targetRoleName: 'T', regions: [] }))).toThrow(
      /regions: must list at least one region/,
    );
  });
});

describe('documentNameFor', () => {
  it('uses the prefix unless the permission set is overridden', () => {
    const config = loadBrokerConfig(
      env({
        targetRoleName: 'T',
        regions: ['eu-west-1'],
        documentPrefix: 'RS-',
        documentOverrides: { Admin: 'Ops-Shell' },
      }),
    );
    expect(documentNameFor(config, 'Support_Tier1')).toBe('RS-Support_Tier1');
    expect(documentNameFor(config, 'Admin')).toBe('Ops-Shell');
  });
});
