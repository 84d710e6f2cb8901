/**
 * Single-use proofs: a proof that starts or resumes a session is accepted once.
 * The store remembers each used proof's signature until the proof would be
 * refused as too old anyway, so it never needs to hold more than one proof
 * window of entries.
 *
 * The in-memory store covers one Lambda execution environment. Concurrent
 * environments do not share it: a proof replayed to another one within its
 * window is not caught here. A store shared by all environments (DynamoDB:
 * conditional put on the signature, TTL on `expiresAt`) implements the same
 * interface and closes that gap (broker/README.md).
 */
import { BrokerError } from '../errors';

export interface ProofReplayStore {
  /**
   * Records the proof named by `signature` as used until `expiresAt`. Resolves
   * true the first time, false when it was already used (a replay). Must be
   * atomic: of two concurrent claims of one signature, one gets false.
   */
  claim(signature: string, expiresAt: Date): Promise<boolean>;
}

export class MemoryProofReplayStore implements ProofReplayStore {
  private readonly used = new Map<string, number>();

  constructor(
    /** Entries held at most; past it the store refuses rather than forgets a live entry. */
    private readonly capacity = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(signature: string, expiresAt: Date): Promise<boolean> {
    const now = this.now();
    const until = this.used.get(signature);
    if (until !== undefined && until > now) return false;
    if (this.used.size >= this.capacity) this.sweep(now);
    if (this.used.size >= this.capacity) {
      // Evicting a live entry would let its proof be replayed; refusing is the safe side.
      throw new BrokerError(
        'Throttled',
        'The broker is handling too many sessions right now; try again in a minute.',
        `proof replay store full (${this.capacity} live entries)`,
      );
    }
    this.used.delete(signature);
    this.used.set(signature, expiresAt.getTime());
    return true;
  }

  get size(): number {
    return this.used.size;
  }

  private sweep(now: number): void {
    for (const [signature, until] of this.used) if (until <= now) this.used.delete(signature);
  }
}
