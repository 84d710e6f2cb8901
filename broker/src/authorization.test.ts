import { describe, expect, it } from 'vitest';
import { authorizeTarget, tagAllowsPermissionSet } from './authorization';
import type { BrokerError } from './errors';

describe('tagAllowsPermissionSet', () => {
  it('matches a listed name or *, exactly', () => {
    expect(tagAllowsPermissionSet('Developer, ReadOnly', 'ReadOnly')).toBe(true);
    expect(tagAllowsPermissionSet('*', 'Anything')).toBe(true);
    expect(tagAllowsPermissionSet('Developer', 'developer')).toBe(false);
    expect(tagAllowsPermissionSet('Developer2', 'Developer')).toBe(false);
    expect(tagAllowsPermissionSet('', 'Developer')).toBe(false);
    expect(tagAllowsPermissionSet(undefined, 'Developer')).toBe(false);
  });
});

describe('authorizeTarget', () => {
  const code = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      return (error as BrokerError).code;
    }
    return 'allowed';
  };
  const tags = { 'roleshell:permission-sets': 'Developer' };

  it('allows a tagged instance whatever its connectivity (StartSession judges that)', () => {
    expect(code(() => authorizeTarget({ instanceId: 'i-1', tags }, 'Developer'))).toBe('allowed');
  });

  it('refuses with the right code', () => {
    expect(code(() => authorizeTarget({ instanceId: 'i-1', tags: undefined }, 'Developer'))).toBe(
      'TargetNotFound',
    );
    expect(code(() => authorizeTarget({ instanceId: 'i-1', tags: {} }, 'Developer'))).toBe('AccessDenied');
    expect(code(() => authorizeTarget({ instanceId: 'i-1', tags }, 'ReadOnly'))).toBe('AccessDenied');
  });
});
