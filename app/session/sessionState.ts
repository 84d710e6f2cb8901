/**
 * A session's life as the user sees it. Only the moves listed here are
 * possible; anything else is a bug in the caller and throws, so a late event
 * (output after close, a resume after the user closed the tab) cannot revive
 * a session.
 */
export const sessionStatuses = ['starting', 'connected', 'disconnected', 'reconnecting', 'closed'] as const;
export type SessionStatus = (typeof sessionStatuses)[number];

const moves: Record<SessionStatus, readonly SessionStatus[]> = {
  starting: ['connected', 'closed'],
  connected: ['disconnected', 'closed'],
  disconnected: ['reconnecting', 'closed'],
  reconnecting: ['connected', 'disconnected', 'closed'],
  // "Reconnect" after a close starts a fresh session in the same tab.
  closed: ['starting'],
};

export class InvalidTransition extends Error {
  override name = 'InvalidTransition';
}

export interface SessionStateView {
  status: SessionStatus;
  /** Why the session closed (or dropped), in words for the user. */
  reason?: string;
}

export class SessionState {
  private current: SessionStateView = { status: 'starting' };

  constructor(private readonly onChange: (state: SessionStateView) => void = () => {}) {}

  get status(): SessionStatus {
    return this.current.status;
  }

  get view(): SessionStateView {
    return { ...this.current };
  }

  canMove(to: SessionStatus): boolean {
    return moves[this.current.status].includes(to);
  }

  /** Moves to `to`; throws InvalidTransition for a move the table does not allow. */
  move(to: SessionStatus, reason?: string): void {
    if (!this.canMove(to))
      throw new InvalidTransition(`a ${this.current.status} session cannot become ${to}`);
    this.current = reason === undefined ? { status: to } : { status: to, reason };
    this.onChange(this.view);
  }

  /** Closes unless already closed (the first reason wins). Returns whether it closed now. */
  close(reason: string): boolean {
    if (this.current.status === 'closed') return false;
    this.move('closed', reason);
    return true;
  }
}
