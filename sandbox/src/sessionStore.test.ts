import { describe, expect, it } from 'vitest';
import { SessionStore, type SandboxSession } from './sessionStore';

const session = (n: number, status: SandboxSession['status'] = 'Connected'): SandboxSession => ({
  sessionId: `alice-${String(n).padStart(17, '0')}`,
  target: 'i-0a1b2c3d4e5f60001',
  accountId: '222222222222',
  region: 'eu-west-1',
  documentName: 'RoleShell-Developer',
  sessionType: 'Standard_Stream',
  inputs: {},
  runAsUser: 'dev',
  owner: 'arn:aws:sts::222222222222:assumed-role/RoleShellTarget/alice',
  tokens: ['token'],
  status,
  startDate: new Date(1_800_000_000_000 + n),
});

describe('SessionStore', () => {
  it('keeps a bounded history of ended sessions, forgetting the one that ended first', () => {
    const store = new SessionStore(3);
    for (let n = 0; n < 6; n++) store.create(session(n));
    // End them out of start order: 4, 0, 5, 1, then 2.
    for (const n of [4, 0, 5, 1, 2]) store.update(session(n).sessionId, { status: 'Terminated' });

    const kept = store.list().map((s) => s.sessionId);
    expect(kept).toHaveLength(4);
    // Session 3 is still active: never forgotten, however many have ended.
    expect(store.get(session(3).sessionId)?.status).toBe('Connected');
    // The three that ended last are kept; 4 and 0 ended first and are gone.
    for (const n of [5, 1, 2]) expect(store.get(session(n).sessionId)?.status).toBe('Terminated');
    for (const n of [4, 0]) expect(store.get(session(n).sessionId)).toBeUndefined();
  });

  it('counts a session once however often it is updated after it ended', () => {
    const store = new SessionStore(2);
    for (let n = 0; n < 3; n++) store.create(session(n));
    store.update(session(0).sessionId, { status: 'Terminating' });
    store.update(session(0).sessionId, { status: 'Terminated' });
    store.update(session(0).sessionId, { exitCode: 0 });
    store.update(session(1).sessionId, { status: 'Failed' });
    expect(store.list()).toHaveLength(3);

    store.update(session(2).sessionId, { status: 'Terminated' });
    expect(store.get(session(0).sessionId)).toBeUndefined();
    expect(store.list().map((s) => s.sessionId)).toEqual([session(1).sessionId, session(2).sessionId]);
  });

  it('counts a session created already ended', () => {
    const store = new SessionStore(1);
    store.create(session(0, 'Failed'));
    store.create(session(1, 'Failed'));
    expect(store.list().map((s) => s.sessionId)).toEqual([session(1).sessionId]);
  });
});
