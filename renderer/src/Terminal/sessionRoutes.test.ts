import { describe, expect, it } from 'vitest';
import { SessionRoutes } from './sessionRoutes';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('SessionRoutes', () => {
  it('keeps what arrives before the start is answered and hands it over in order', () => {
    const routes = new SessionRoutes<string>();
    routes.opened('tab-1');
    expect(routes.idOf('tab-1')).toBeUndefined();
    expect(routes.state('s-1', 'starting')).toBeUndefined();
    expect(routes.output('s-1', bytes('$ '))).toBeUndefined();
    expect(routes.state('s-1', 'connected')).toBeUndefined();
    const pending = routes.answered('tab-1', 's-1');
    expect(pending?.states).toEqual(['starting', 'connected']);
    expect(pending?.output.map((chunk) => new TextDecoder().decode(chunk))).toEqual(['$ ']);
    expect(routes.idOf('tab-1')).toBe('s-1');
    // From now on events go straight to the tab.
    expect(routes.output('s-1', bytes('x'))).toBe('tab-1');
    expect(routes.state('s-1', 'closed')).toBe('tab-1');
  });

  it('routes each session to its own tab', () => {
    const routes = new SessionRoutes<string>();
    routes.opened('tab-1');
    routes.opened('tab-2');
    routes.answered('tab-2', 's-2');
    routes.answered('tab-1', 's-1');
    expect(routes.output('s-1', bytes('a'))).toBe('tab-1');
    expect(routes.output('s-2', bytes('b'))).toBe('tab-2');
  });

  it('a tab closed before its start was answered: the answer says so, and later events are dropped', () => {
    const routes = new SessionRoutes<string>();
    routes.opened('tab-1');
    routes.state('s-1', 'starting');
    routes.closed('tab-1');
    expect(routes.answered('tab-1', 's-1')).toBeUndefined();
    expect(routes.idOf('tab-1')).toBeUndefined();
    expect(routes.state('s-1', 'closed')).toBeUndefined();
    expect(routes.output('s-1', bytes('late'))).toBeUndefined();
    // Nothing is kept for it: a later answer for the same id finds nothing early.
    routes.opened('tab-1');
    expect(routes.answered('tab-1', 's-1')).toEqual({ states: [], output: [] });
  });

  it('after a tab closes its session has no id to send calls with and its events are dropped', () => {
    const routes = new SessionRoutes<string>();
    routes.opened('tab-1');
    routes.answered('tab-1', 's-1');
    routes.closed('tab-1');
    expect(routes.idOf('tab-1')).toBeUndefined();
    expect(routes.output('s-1', bytes('late'))).toBeUndefined();
  });
});
