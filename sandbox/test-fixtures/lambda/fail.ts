/** Test function: throws, or sleeps past its timeout, or exits the runtime, as the event asks. */
class BrokenThing extends Error {
  override name = 'BrokenThing';
}

export async function handler(event: { mode?: string }) {
  if (event.mode === 'sleep') await new Promise((r) => setTimeout(r, 60_000));
  if (event.mode === 'exit') process.exit(3);
  throw new BrokenThing('the handler failed on purpose');
}
