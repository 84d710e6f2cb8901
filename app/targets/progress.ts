/**
 * Progress events coalesced to a few per second: "load all" finishes thousands
 * of units, and every event re-renders the list in the renderer. The first
 * update and the last one (loaded === total) always go out at once; in between
 * only the latest is kept and sent at most every `intervalMs`.
 */
export interface ProgressUpdate {
  loaded: number;
  total: number;
}

export interface CoalescedProgress<T extends ProgressUpdate> {
  update(progress: T): void;
  /** Sends a pending update now and stops the timer (call when the work ends, also on failure). */
  flush(): void;
}

export const PROGRESS_INTERVAL_MS = 250;

export function coalescedProgress<T extends ProgressUpdate>(
  send: (progress: T) => void,
  intervalMs = PROGRESS_INTERVAL_MS,
  now: () => number = () => performance.now(),
): CoalescedProgress<T> {
  let lastSent = Number.NEGATIVE_INFINITY;
  let pending: T | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const emit = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!pending) return;
    const progress = pending;
    pending = undefined;
    lastSent = now();
    send(progress);
  };
  return {
    update(progress) {
      pending = progress;
      const wait = lastSent + intervalMs - now();
      if (progress.loaded >= progress.total || wait <= 0) emit();
      else timer ??= setTimeout(emit, wait);
    },
    flush: emit,
  };
}
