/**
 * Web mode only: one bad WebSocket frame must close that one socket with a
 * clear close code, never end the host. Each case speaks raw TCP to the real
 * host process (handshake by hand, then the offending bytes), then checks that
 * a normal connection is still answered.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import WebSocket from 'ws';
import { expect, target, test } from '../fixtures';

test.skip(target !== 'web', 'the WebSocket host exists in web mode only');

/** Opens the host's WebSocket by hand and returns the raw socket after the 101. */
async function rawUpgrade(appUrl: string): Promise<{ socket: net.Socket; received: () => Buffer }> {
  const url = new URL(appUrl);
  const socket = net.connect(Number(url.port), url.hostname);
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (buffered = Buffer.concat([buffered, chunk])));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    [
      `GET /__roleshell/ws?token=${url.searchParams.get('token')} HTTP/1.1`,
      `Host: ${url.host}`,
      `Origin: ${url.origin}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n'),
  );
  await expect.poll(() => buffered.indexOf('\r\n\r\n')).toBeGreaterThan(0);
  expect(buffered.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  const headerEnd = buffered.indexOf('\r\n\r\n') + 4;
  return { socket, received: () => buffered.subarray(headerEnd) };
}

/** Waits for the server's close frame (unmasked, opcode 8) and returns its status code. */
async function closeCodeOf(received: () => Buffer): Promise<number> {
  await expect.poll(() => received().length).toBeGreaterThanOrEqual(4);
  const frame = received();
  expect(frame[0]).toBe(0x88);
  return frame.readUInt16BE(2);
}

function masked(payload: Buffer): Buffer {
  const mask = randomBytes(4);
  return Buffer.concat([mask, Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!))]);
}

/** A normal client: getAppInfo is answered. */
async function hostStillAnswers(appUrl: string): Promise<void> {
  const url = new URL(appUrl);
  const ws = new WebSocket(`ws://${url.host}/__roleshell/ws?token=${url.searchParams.get('token')}`, {
    origin: url.origin,
  });
  try {
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const answer = new Promise<{ type: string; id: number; result: { ok: boolean } }>((resolve) =>
      ws.on('message', (data) => {
        const message = JSON.parse(String(data));
        if (message.type === 'result') resolve(message);
      }),
    );
    ws.send(JSON.stringify({ type: 'call', id: 7, name: 'getAppInfo' }));
    expect(await answer).toMatchObject({ type: 'result', id: 7, result: { ok: true } });
  } finally {
    ws.close();
  }
}

test('a text frame with invalid UTF-8 closes that socket with 1007 and the host keeps serving', async ({
  launchApp,
}) => {
  const app = await launchApp();
  const { socket, received } = await rawUpgrade(app.url);
  // FIN + text, masked, 3 bytes: ff fe fd is not UTF-8.
  socket.write(Buffer.concat([Buffer.from([0x81, 0x83]), masked(Buffer.from([0xff, 0xfe, 0xfd]))]));
  expect(await closeCodeOf(received)).toBe(1007);
  socket.destroy();
  await hostStillAnswers(app.url);
  expect(app.logs.join('\n')).toMatch(/WebSocket closed after a bad frame: .*UTF-8/i);
});

test('a message over 1 MiB closes that socket with 1009 and the host keeps serving', async ({
  launchApp,
}) => {
  const app = await launchApp();
  const { socket, received } = await rawUpgrade(app.url);
  // FIN + binary, masked, 64-bit length of 2 MiB: refused from the header alone.
  const header = Buffer.alloc(10);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(2 * 1024 * 1024), 2);
  socket.write(Buffer.concat([header, randomBytes(4), randomBytes(1024)]));
  expect(await closeCodeOf(received)).toBe(1009);
  socket.destroy();
  await hostStillAnswers(app.url);
});
