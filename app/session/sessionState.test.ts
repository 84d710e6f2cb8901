import { describe, expect, it } from 'vitest';
import { InvalidTransition, SessionState, type SessionStateView } from './sessionState';

describe('SessionState', () => {
  it('walks starting → connected → disconnected → reconnecting → connected → closed, reporting each move', () => {
    const seen: SessionStateView[] = [];
    const state = new SessionState((view) => seen.push(view));
    expect(state.status).toBe('starting');
    state.move('connected');
    state.move('disconnected', 'network lost');
    state.move('reconnecting');
    state.move('connected');
    state.close('The shell exited.');
    expect(seen).toEqual([
      { status: 'connected' },
      { status: 'disconnected', reason: 'network lost' },
      { status: 'reconnecting' },
      { status: 'connected' },
      { status: 'closed', reason: 'The shell exited.' },
    ]);
  });

  it('refuses moves the table does not allow', () => {
    const state = new SessionState();
    expect(() => state.move('reconnecting')).toThrow(InvalidTransition);
    expect(() => state.move('disconnected')).toThrow('a starting session cannot become disconnected');
    state.move('connected');
    expect(() => state.move('starting')).toThrow(InvalidTransition);
    expect(state.status).toBe('connected');
  });

  it('a failed reconnect may drop again or close; a start can fail straight to closed', () => {
    const state = new SessionState();
    state.move('connected');
    state.move('disconnected');
    state.move('reconnecting');
    state.move('disconnected', 'still down');
    state.move('reconnecting');
    state.close('The session could not be resumed.');
    expect(state.view).toEqual({ status: 'closed', reason: 'The session could not be resumed.' });
    const failed = new SessionState();
    failed.close('AccessDenied');
    expect(failed.status).toBe('closed');
  });

  it('the first close reason wins; a closed session only starts again (Reconnect)', () => {
    const state = new SessionState();
    expect(state.close('first')).toBe(true);
    expect(state.close('second')).toBe(false);
    expect(state.view.reason).toBe('first');
    expect(() => state.move('connected')).toThrow(InvalidTransition);
    state.move('starting');
    expect(state.view).toEqual({ status: 'starting' });
  });
});
