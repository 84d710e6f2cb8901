/**
 * Replays a checked identity proof to STS and reads the caller STS reports.
 * Node's http client follows no redirects; the response is size-capped and the
 * whole exchange has a deadline.
 */
import http from 'node:http';
import https from 'node:https';
import { XMLParser } from 'fast-xml-parser';
import { BrokerError } from '../errors';
import type { CheckedProof } from './verify';
import type { StsIdentity } from './callerIdentity';

const MAX_RESPONSE_BYTES = 64 * 1024;

interface RawResponse {
  status: number;
  body: string;
}

/** Connection reuse for the replay; without it every call pays a new TLS handshake to STS. */
export interface ReplayAgents {
  http?: http.Agent;
  https?: https.Agent;
}

/** Keep-alive agents for a Lambda container (one per container, reused across invocations). */
export function keepAliveAgents(): ReplayAgents {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets: 8 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 8 }),
  };
}

function post(proof: CheckedProof, timeoutMs: number, agents: ReplayAgents): Promise<RawResponse> {
  const secure = proof.url.protocol === 'https:';
  const client = secure ? https : http;
  const agent = (secure ? agents.https : agents.http) ?? false;
  return new Promise((resolve, reject) => {
    const request = client.request(
      proof.url,
      { method: 'POST', headers: proof.headers, timeout: timeoutMs, agent },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            request.destroy(new Error('STS response too large'));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    const deadline = setTimeout(
      () => request.destroy(new Error(`STS did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    request.on('close', () => clearTimeout(deadline));
    request.on('timeout', () => request.destroy(new Error(`STS did not answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(proof.body);
  });
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true });

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Extracts Arn/UserId/Account from a GetCallerIdentityResponse document. */
export function parseGetCallerIdentityResponse(xml: string): StsIdentity | undefined {
  let document: Record<string, unknown>;
  try {
    document = parser.parse(xml) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const response = document.GetCallerIdentityResponse as Record<string, unknown> | undefined;
  const result = response?.GetCallerIdentityResult as Record<string, unknown> | undefined;
  const Arn = text(result?.Arn);
  const UserId = text(result?.UserId);
  const Account = text(result?.Account);
  return Arn && UserId && Account ? { Arn, UserId, Account } : undefined;
}

/** Error code from an STS query-protocol error document, e.g. SignatureDoesNotMatch. */
export function parseStsErrorCode(xml: string): string | undefined {
  try {
    const document = parser.parse(xml) as { ErrorResponse?: { Error?: { Code?: unknown } } };
    return text(document.ErrorResponse?.Error?.Code);
  } catch {
    return undefined;
  }
}

export async function replayIdentityProof(
  proof: CheckedProof,
  timeoutMs: number,
  agents: ReplayAgents = {},
): Promise<StsIdentity> {
  let response: RawResponse;
  try {
    response = await post(proof, timeoutMs, agents);
  } catch (error) {
    throw new BrokerError(
      'Internal',
      'The broker could not reach STS to check your identity; try again.',
      `STS replay failed: ${(error as Error).message}`,
    );
  }
  if (response.status === 200) {
    const identity = parseGetCallerIdentityResponse(response.body);
    if (!identity)
      throw new BrokerError(
        'Internal',
        'STS answered the identity check with something unexpected; try again.',
        'unparseable GetCallerIdentity response',
      );
    return identity;
  }
  const code = parseStsErrorCode(response.body) ?? `HTTP ${response.status}`;
  if (code === 'Throttling' || response.status === 429) {
    throw new BrokerError(
      'Throttled',
      'STS is throttling identity checks right now; try again in a few seconds.',
      `STS ${code}`,
    );
  }
  if (response.status >= 300 && response.status < 400) {
    throw new BrokerError(
      'IdentityRejected',
      'The identity proof was refused.',
      `STS answered with a redirect (${response.status}); not followed`,
    );
  }
  if (response.status >= 500) {
    throw new BrokerError(
      'Internal',
      'STS could not check your identity right now; try again.',
      `STS ${code}`,
    );
  }
  // SignatureDoesNotMatch, ExpiredToken, InvalidClientTokenId, ...: the proof is not valid.
  throw new BrokerError(
    'IdentityRejected',
    'STS did not accept the identity proof; sign in again and retry.',
    `STS rejected the proof: ${code}`,
  );
}
