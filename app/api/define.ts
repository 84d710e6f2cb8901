import type { z } from 'zod';

/** A call: its input schema (validated at the main-process boundary) and its output type. */
export interface CallSpec<I extends z.ZodType = z.ZodType, O = unknown> {
  input: I;
  /** Phantom: carries the output type only (a tuple, so `void` survives NonNullable). */
  readonly output?: [O];
}

export function defineCall<O>() {
  return <I extends z.ZodType>(input: I): CallSpec<I, O> => ({ input });
}

/** An event: a phantom payload type only. */
export type EventSpec<P> = { readonly payload?: [P] };
export function defineEvent<P>(): EventSpec<P> {
  return {};
}
