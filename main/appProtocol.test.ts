import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appEntryUrl, isTrustedSender, rendererFileFor, resolveRendererRequest } from './appProtocol';

const dir = path.resolve('/opt/RoleShell/dist/renderer');

describe('rendererFileFor', () => {
  it('maps app URLs to files inside the renderer folder', () => {
    expect(rendererFileFor(appEntryUrl, dir)).toBe(path.join(dir, 'index.html'));
    expect(rendererFileFor('roleshell://app/', dir)).toBe(path.join(dir, 'index.html'));
    expect(rendererFileFor('roleshell://app/assets/index-abc.js?x=1', dir)).toBe(
      path.join(dir, 'assets/index-abc.js'),
    );
  });

  it('refuses other hosts, other schemes and paths escaping the folder', () => {
    expect(rendererFileFor('roleshell://other/index.html', dir)).toBeNull();
    expect(rendererFileFor('file:///etc/passwd', dir)).toBeNull();
    // The URL parser already folds dot segments at the root; whatever comes out stays inside the folder.
    expect(rendererFileFor('roleshell://app/%2e%2e/%2e%2e/main/main.cjs', dir)).toBe(
      path.join(dir, 'main/main.cjs'),
    );
    expect(rendererFileFor('roleshell://app/..%2f..%2fpackage.json', dir)).toBeNull();
    expect(rendererFileFor('not a url', dir)).toBeNull();
  });
});

describe('resolveRendererRequest', () => {
  it('answers 400 for a malformed percent-escape instead of throwing', () => {
    expect(resolveRendererRequest('roleshell://app/%E0%A4%A', dir)).toEqual({ status: 400 });
    expect(resolveRendererRequest('roleshell://app/assets/%zz.js', dir)).toEqual({ status: 400 });
    expect(rendererFileFor('roleshell://app/%E0%A4%A', dir)).toBeNull();
    expect(resolveRendererRequest('roleshell://app/a%20b.js', dir)).toEqual({
      status: 200,
      file: path.join(dir, 'a b.js'),
    });
    expect(resolveRendererRequest('roleshell://other/', dir)).toEqual({ status: 404 });
  });
});

describe('isTrustedSender', () => {
  it('trusts only the top frame on the app origin', () => {
    expect(isTrustedSender({ url: appEntryUrl, isMainFrame: true })).toBe(true);
    expect(isTrustedSender({ url: 'roleshell://app/index.html#/settings', isMainFrame: true })).toBe(true);
    expect(isTrustedSender({ url: appEntryUrl, isMainFrame: false })).toBe(false);
    expect(isTrustedSender({ url: 'https://my-org.awsapps.com/start', isMainFrame: true })).toBe(false);
    expect(isTrustedSender({ url: 'roleshell://evil/index.html', isMainFrame: true })).toBe(false);
    expect(
      isTrustedSender({ url: 'file:///opt/RoleShell/dist/renderer/index.html', isMainFrame: true }),
    ).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
  });
});
