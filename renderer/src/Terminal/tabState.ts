/**
 * A session.state event applied to the tab list and to the tabs' details. Each returns the very same
 * list or map when the event changes nothing (the core reports "starting" for a tab already shown as
 * starting; "connected" repeats the details it told before), so React skips that render: on a Connect
 * these events arrive while the session's first output is on its way to the page.
 */
import type { SessionStateEvent } from '../../../app/api/calls/session';
import type { SessionTab } from './types';

export type TabDetails = Pick<SessionStateEvent, 'sessionId' | 'backend'>;

export function withState(tabs: SessionTab[], key: string, event: SessionStateEvent): SessionTab[] {
  let changed = false;
  const next = tabs.map((tab) => {
    if (tab.id !== key) return tab;
    const title = `${event.linuxUser ?? tab.request.linuxUser}@${tab.request.instanceName}`;
    if (tab.status === event.status && tab.reason === event.reason && tab.title === title) return tab;
    changed = true;
    return { ...tab, status: event.status, reason: event.reason, title };
  });
  return changed ? next : tabs;
}

export function withDetails(
  details: ReadonlyMap<string, TabDetails>,
  key: string,
  event: SessionStateEvent,
): ReadonlyMap<string, TabDetails> {
  if (!event.sessionId && !event.backend) return details;
  const known = details.get(key);
  if (known && known.sessionId === event.sessionId && known.backend === event.backend) return details;
  return new Map(details).set(key, { sessionId: event.sessionId, backend: event.backend });
}
