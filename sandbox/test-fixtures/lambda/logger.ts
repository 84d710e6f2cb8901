/** Test function: writes log lines, waiting for each write's callback as the broker's audit sink does. */
export async function handler(event: { lines?: number }) {
  for (let i = 0; i < (event.lines ?? 0); i++) {
    await new Promise<void>((resolve, reject) =>
      process.stdout.write(`line ${i}\n`, (error) => (error ? reject(error) : resolve())),
    );
  }
  console.error('done');
  return { written: event.lines ?? 0 };
}
