/**
 * Which tab a session's events belong to. A tab is made at the click, under
 * its own key, before the core has answered `session.start` with the session's
 * id (the session starts while the tab and its terminal are built); events for
 * an id the renderer does not know yet are kept until that answer, and events
 * for a closed tab's session are dropped.
 */
export interface EarlyEvents<State> {
  states: State[];
  output: Uint8Array[];
}

export class SessionRoutes<State> {
  /** The core's session id → the tab's key (kept after the tab closes, so late events are dropped). */
  private readonly keys = new Map<string, string>();
  /** Tab key → the core's session id, for open tabs whose start has been answered. */
  private readonly ids = new Map<string, string>();
  private readonly open = new Set<string>();
  private readonly early = new Map<string, EarlyEvents<State>>();

  /** A tab opened under `key`; its start is on its way to the core. */
  opened(key: string): void {
    this.open.add(key);
  }

  /**
   * The core answered `key`'s start with `id`. Returns what arrived for it
   * before, to apply in order — or undefined when the tab was closed meanwhile
   * (the caller then closes the session).
   */
  answered(key: string, id: string): EarlyEvents<State> | undefined {
    this.keys.set(id, key);
    const pending = this.early.get(id) ?? { states: [], output: [] };
    this.early.delete(id);
    if (!this.open.has(key)) return undefined;
    this.ids.set(key, id);
    return pending;
  }

  /** The session id of an open tab, once the core has answered. */
  idOf(key: string): string | undefined {
    return this.ids.get(key);
  }

  /** The open tab a state event belongs to; undefined when it is kept for later or dropped. */
  state(id: string, event: State): string | undefined {
    return this.route(id, (entry) => entry.states.push(event));
  }

  /** The open tab output belongs to; undefined when it is kept for later or dropped. */
  output(id: string, data: Uint8Array): string | undefined {
    return this.route(id, (entry) => entry.output.push(data));
  }

  /** The tab closed: its session's later events are dropped. */
  closed(key: string): void {
    this.open.delete(key);
    this.ids.delete(key);
  }

  private route(id: string, keep: (entry: EarlyEvents<State>) => void): string | undefined {
    const key = this.keys.get(id);
    if (key === undefined) {
      const entry = this.early.get(id) ?? { states: [], output: [] };
      this.early.set(id, entry);
      keep(entry);
      return undefined;
    }
    return this.open.has(key) ? key : undefined;
  }
}
