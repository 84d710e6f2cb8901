/** State events change a tab (and its details) only when they say something new: otherwise the same objects come back, so React skips the render. */
import { describe, expect, it } from 'vitest';
import type { SessionStateEvent } from '../../../app/api/calls/session';
import { withDetails, withState, type TabDetails } from './tabState';
import type { SessionTab } from './types';

const request = {
  accountId: '222222222222',
  accountName: 'prod-workloads',
  permissionSet: 'AdministratorAccess',
  linuxUser: 'ops-admin',
  region: 'eu-west-1',
  instanceId: 'i-0a1b2c3d4e5f60001',
  instanceName: 'prod-web-1',
};
const starting: SessionTab = { id: 'tab-1', title: 'ops-admin@prod-web-1', status: 'starting', request };
const other: SessionTab = { ...starting, id: 'tab-2' };
const event = (over: Partial<SessionStateEvent>): SessionStateEvent => ({
  id: 'core-1',
  status: 'starting',
  ...over,
});

describe('withState', () => {
  it('returns the same list for an event that changes nothing (the first "starting")', () => {
    const tabs = [starting, other];
    expect(withState(tabs, 'tab-1', event({}))).toBe(tabs);
  });

  it('replaces only the tab whose status, reason or user changed', () => {
    const tabs = [starting, other];
    const connected = withState(tabs, 'tab-1', event({ status: 'connected', linuxUser: 'ssm-ops' }));
    expect(connected).not.toBe(tabs);
    expect(connected[0]).toMatchObject({ status: 'connected', title: 'ssm-ops@prod-web-1' });
    expect(connected[1]).toBe(other);
    const closed = withState(connected, 'tab-1', event({ status: 'closed', reason: 'The session ended.' }));
    expect(closed[0]).toMatchObject({
      status: 'closed',
      reason: 'The session ended.',
      title: 'ops-admin@prod-web-1',
    });
    // A reason is cleared when the next event has none.
    expect(withState(closed, 'tab-1', event({ status: 'reconnecting' }))[0]!.reason).toBeUndefined();
  });

  it('leaves the list as it is for a tab it does not hold', () => {
    const tabs = [starting];
    expect(withState(tabs, 'tab-9', event({ status: 'connected' }))).toBe(tabs);
  });
});

describe('withDetails', () => {
  const none: ReadonlyMap<string, TabDetails> = new Map();

  it('keeps the same map without details, or when they repeat', () => {
    expect(withDetails(none, 'tab-1', event({}))).toBe(none);
    const known = withDetails(
      none,
      'tab-1',
      event({ status: 'connected', sessionId: 's-1', backend: 'dataChannel' }),
    );
    expect(known.get('tab-1')).toEqual({ sessionId: 's-1', backend: 'dataChannel' });
    expect(
      withDetails(known, 'tab-1', event({ status: 'connected', sessionId: 's-1', backend: 'dataChannel' })),
    ).toBe(known);
  });

  it('records new details (a Reconnect starts another session) in a new map', () => {
    const known = withDetails(none, 'tab-1', event({ sessionId: 's-1', backend: 'plugin' }));
    const again = withDetails(known, 'tab-1', event({ sessionId: 's-2', backend: 'plugin' }));
    expect(again).not.toBe(known);
    expect(again.get('tab-1')).toEqual({ sessionId: 's-2', backend: 'plugin' });
    expect(known.get('tab-1')).toEqual({ sessionId: 's-1', backend: 'plugin' });
  });
});
