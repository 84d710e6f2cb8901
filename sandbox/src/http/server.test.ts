import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../index';

/** One raw HTTP exchange, so the framing headers are seen as sent. */
function post(endpoint: string, path: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      const req = request(`${endpoint}${path}`, { method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      req.on('error', reject);
      req.end(body);
    },
  );
}

describe('sandbox HTTP answers', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ approve: 'alice' });
  });
  afterAll(() => sandbox.close());

  it('carry a Content-Length, as AWS answers do, instead of chunked framing', async () => {
    const refused = await post(
      sandbox.endpoint,
      '/',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'Action=GetCallerIdentity&Version=2011-06-15',
    );
    expect(refused.status).toBe(403);
    expect(refused.headers['transfer-encoding']).toBeUndefined();
    expect(Number(refused.headers['content-length'])).toBe(refused.body.length);
    expect(refused.body.toString()).toContain('MissingAuthenticationToken');

    // JSON errors too.
    const unknown = await post(sandbox.endpoint, '/nowhere', {}, '');
    expect(unknown.status).toBe(404);
    expect(Number(unknown.headers['content-length'])).toBe(unknown.body.length);
  });
});
