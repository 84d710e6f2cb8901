import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { describe, expect, it } from 'vitest';
import type { IdentityProof } from '../contract';
import { BrokerError } from '../errors';
import {
  AUDIENCE_HEADER,
  canonicalRequest,
  GET_CALLER_IDENTITY_BODY,
  NONCE_HEADER,
  proofRequestFor,
  REQUEST_HEADER,
  requestDigest,
  signIdentityProof,
} from './sign';
import {
  checkIdentityProof,
  isAllowedStsOrigin,
  parseAmzDate,
  parseAuthorizationHeader,
  proofByteSize,
  unqualifiedFunctionArn,
  type ProofCheckOptions,
} from './verify';

const AUDIENCE = 'arn:aws:lambda:eu-west-1:999988887777:function:roleshell-broker';
const NOW = new Date('2026-01-30T10:15:00Z');
const credentials = { accessKeyId: 'ASIAEXAMPLEEXAMPLE01', secretAccessKey: 'secret', sessionToken: 'token' };
const REQUEST = proofRequestFor({
  action: 'startSession',
  region: 'eu-west-1',
  instanceId: 'i-0123456789abcdef0',
});
const options: ProofCheckOptions = {
  audience: AUDIENCE,
  extraStsEndpoints: ['http://127.0.0.1:4566'],
  requestDigest: requestDigest(REQUEST),
  now: NOW,
};

const sign = (overrides: Partial<Parameters<typeof signIdentityProof>[0]> = {}) =>
  signIdentityProof({
    credentials,
    region: 'eu-west-1',
    audience: AUDIENCE,
    request: REQUEST,
    signingDate: NOW,
    ...overrides,
  });

function refusal(proof: IdentityProof, opts: ProofCheckOptions = options): BrokerError {
  try {
    checkIdentityProof(proof, opts);
  } catch (error) {
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as BrokerError).code).toBe('IdentityRejected');
    return error as BrokerError;
  }
  throw new Error('proof was accepted');
}

describe('signIdentityProof', () => {
  it('signs GetCallerIdentity for the regional STS endpoint with the audience header signed', async () => {
    const proof = await sign();
    expect(proof.method).toBe('POST');
    expect(proof.url).toBe('https://sts.eu-west-1.amazonaws.com/');
    expect(proof.body).toBe(GET_CALLER_IDENTITY_BODY);
    expect(proof.headers[AUDIENCE_HEADER]).toBe(AUDIENCE);
    expect(proof.headers['x-amz-date']).toBe('20260130T101500Z');
    expect(proof.headers['x-amz-security-token']).toBe('token');
    const authorization = parseAuthorizationHeader(proof.headers.authorization!);
    expect(authorization?.service).toBe('sts');
    expect(authorization?.signedHeaders).toEqual(
      expect.arrayContaining(['host', 'x-amz-date', AUDIENCE_HEADER, REQUEST_HEADER, 'x-amz-security-token']),
    );
    expect(proof.headers[REQUEST_HEADER]).toBe(requestDigest(REQUEST));
  });

  it('signs for a given endpoint (the sandbox)', async () => {
    const proof = await sign({ endpoint: 'http://127.0.0.1:4566' });
    expect(proof.url).toBe('http://127.0.0.1:4566/');
    expect(proof.headers.host).toBe('127.0.0.1:4566');
  });

  it('is deterministic for a given date, credentials and nonce, and differs with other credentials', async () => {
    const nonce = '0123456789abcdef0123456789abcdef';
    const a = await sign({ nonce });
    expect((await sign({ nonce })).headers.authorization).toBe(a.headers.authorization);
    const b = await sign({ nonce, credentials: { ...credentials, secretAccessKey: 'other' } });
    expect(b.headers.authorization).not.toBe(a.headers.authorization);
  });

  it('gives two proofs for the same request in the same second different signatures (the nonce)', async () => {
    const [a, b] = [await sign(), await sign()];
    expect(a.headers[NONCE_HEADER]).toMatch(/^[0-9a-f]{32}$/);
    expect(a.headers[NONCE_HEADER]).not.toBe(b.headers[NONCE_HEADER]);
    expect(checkIdentityProof(a, options).signature).not.toBe(checkIdentityProof(b, options).signature);
    expect(parseAuthorizationHeader(a.headers.authorization!)?.signedHeaders).toContain(NONCE_HEADER);
  });
});

describe('the canonical request', () => {
  it('is the version line and one name:value line per field, absent fields empty', () => {
    expect(canonicalRequest(REQUEST)).toBe(
      [
        'roleshell-request/1',
        'action:startSession',
        'region:eu-west-1',
        'accountId:',
        'instanceId:i-0123456789abcdef0',
        'sessionId:',
      ].join('\n'),
    );
    // The documented example's digest, so another implementation can check itself against it.
    expect(requestDigest(REQUEST)).toBe('63d1322491c9a0e68ba589be9cc628238b85a03e6eb9d93a57ab95067a2e6535');
  });

  it('binds every field: changing any one changes the digest', () => {
    const base = {
      action: 'terminateSession',
      region: 'eu-west-1',
      accountId: '111122223333',
      instanceId: 'i-0123456789abcdef0',
      sessionId: 'alice-0123',
    };
    const digests = new Set([
      requestDigest(proofRequestFor(base)),
      requestDigest(proofRequestFor({ ...base, action: 'resumeSession' })),
      requestDigest(proofRequestFor({ ...base, region: 'us-east-1' })),
      requestDigest(proofRequestFor({ ...base, accountId: '444455556666' })),
      requestDigest(proofRequestFor({ ...base, accountId: undefined })),
      requestDigest(proofRequestFor({ ...base, instanceId: 'i-0123456789abcdef1' })),
      requestDigest(proofRequestFor({ ...base, sessionId: 'alice-0124' })),
    ]);
    expect(digests.size).toBe(7);
  });

  it('joins listTargets regions in the order given; regions wins over region', () => {
    expect(proofRequestFor({ action: 'listTargets', regions: ['eu-west-1', 'us-east-1'] }).region).toBe(
      'eu-west-1,us-east-1',
    );
    expect(
      proofRequestFor({ action: 'listTargets', region: 'eu-west-1', regions: ['us-east-1'] }).region,
    ).toBe('us-east-1');
    expect(proofRequestFor({ action: 'listTargets' }).region).toBe('');
  });

  it('refuses fields that would make two requests read alike', () => {
    expect(() => proofRequestFor({ action: 'listTargets', regions: ['eu-west-1,us-east-1'] })).toThrow(
      /comma/,
    );
    expect(() => canonicalRequest({ action: 'startSession\nregion:x' })).toThrow(/line break/);
    expect(() => canonicalRequest({ action: 'startSession', instanceId: 'i-1,i-2' })).toThrow(/comma/);
  });
});

describe('checkIdentityProof', () => {
  it('accepts a fresh proof and forwards only its signed headers', async () => {
    const proof = await sign();
    proof.headers['x-forwarded-for'] = '10.0.0.1';
    const checked = checkIdentityProof(proof, options);
    expect(checked.url.href).toBe('https://sts.eu-west-1.amazonaws.com/');
    expect(checked.body).toBe(GET_CALLER_IDENTITY_BODY);
    expect(checked.accessKeyId).toBe('ASIAEXAMPLEEXAMPLE01');
    const signedHeaders = parseAuthorizationHeader(proof.headers.authorization!)!.signedHeaders;
    expect(Object.keys(checked.headers).sort()).toEqual(
      [...signedHeaders.filter((name) => name !== 'host'), 'authorization'].sort(),
    );
    expect(checked.headers).not.toHaveProperty('x-forwarded-for');
    expect(checked.headers).not.toHaveProperty('host');
  });

  it('accepts the global endpoint and configured extra endpoints', async () => {
    const global = await sign({ region: 'us-east-1', endpoint: 'https://sts.amazonaws.com' });
    expect(checkIdentityProof(global, options).url.host).toBe('sts.amazonaws.com');
    const sandbox = await sign({ endpoint: 'http://127.0.0.1:4566' });
    expect(checkIdentityProof(sandbox, options).url.origin).toBe('http://127.0.0.1:4566');
  });

  let base: IdentityProof;
  function proofAt(url: string): IdentityProof {
    const host = new URL(url).host;
    return { ...base, url, headers: { ...base.headers, host } };
  }

  it.each([
    ['a non-STS host', 'https://sts.eu-west-1.amazonaws.com.evil.example/'],
    ['a look-alike host', 'https://sts-eu-west-1.amazonaws.com/'],
    ['plain http to STS', 'http://sts.eu-west-1.amazonaws.com/'],
    ['a non-standard port', 'https://sts.eu-west-1.amazonaws.com:8443/'],
    ['a local server not on the allow list', 'http://127.0.0.1:4567/'],
    ['another path', 'https://sts.eu-west-1.amazonaws.com/other'],
    ['a query string', 'https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity'],
    ['user info', 'https://user:pw@sts.eu-west-1.amazonaws.com/'],
    ['not a URL', 'sts.eu-west-1.amazonaws.com'],
  ])('refuses a proof URL with %s', async (_label, url) => {
    base = await sign();
    let proof: IdentityProof;
    try {
      proof = proofAt(url);
    } catch {
      proof = { ...base, url };
    }
    refusal(proof);
  });

  it('refuses a method other than POST', async () => {
    refusal({ ...(await sign()), method: 'GET' });
  });

  it.each([
    ['another action', 'Action=GetSessionToken&Version=2011-06-15'],
    ['an extra parameter', `${GET_CALLER_IDENTITY_BODY}&Extra=1`],
    ['an empty body', ''],
  ])('refuses a body with %s', async (_label, body) => {
    refusal({ ...(await sign()), body });
  });

  it('refuses a proof without the audience header', async () => {
    const proof = await sign();
    delete proof.headers[AUDIENCE_HEADER];
    expect(refusal(proof).reason).toMatch(/no x-roleshell-audience/);
  });

  it('refuses an audience header that is not signed', async () => {
    const request = new HttpRequest({
      method: 'POST',
      protocol: 'https:',
      hostname: 'sts.eu-west-1.amazonaws.com',
      path: '/',
      headers: {
        host: 'sts.eu-west-1.amazonaws.com',
        'content-type': 'application/x-www-form-urlencoded',
        [AUDIENCE_HEADER]: AUDIENCE,
      },
      body: GET_CALLER_IDENTITY_BODY,
    });
    const signer = new SignatureV4({
      credentials,
      region: 'eu-west-1',
      service: 'sts',
      sha256: Hash.bind(null, 'sha256'),
    });
    const signed = await signer.sign(request, {
      signingDate: NOW,
      unsignableHeaders: new Set([AUDIENCE_HEADER]),
    });
    const proof: IdentityProof = {
      method: 'POST',
      url: 'https://sts.eu-west-1.amazonaws.com/',
      headers: signed.headers as Record<string, string>,
      body: GET_CALLER_IDENTITY_BODY,
    };
    expect(proof.headers[AUDIENCE_HEADER]).toBe(AUDIENCE);
    expect(refusal(proof).reason).toMatch(/not in SignedHeaders/);
  });

  it('refuses a proof without the request header', async () => {
    const proof = await sign();
    delete proof.headers[REQUEST_HEADER];
    expect(refusal(proof).reason).toMatch(/no x-roleshell-request/);
  });

  it('refuses a request header that is not signed', async () => {
    const request = new HttpRequest({
      method: 'POST',
      protocol: 'https:',
      hostname: 'sts.eu-west-1.amazonaws.com',
      path: '/',
      headers: {
        host: 'sts.eu-west-1.amazonaws.com',
        'content-type': 'application/x-www-form-urlencoded',
        [AUDIENCE_HEADER]: AUDIENCE,
        [REQUEST_HEADER]: requestDigest(REQUEST),
      },
      body: GET_CALLER_IDENTITY_BODY,
    });
    const signer = new SignatureV4({
      credentials,
      region: 'eu-west-1',
      service: 'sts',
      sha256: Hash.bind(null, 'sha256'),
    });
    const signed = await signer.sign(request, {
      signingDate: NOW,
      unsignableHeaders: new Set([REQUEST_HEADER]),
    });
    const proof: IdentityProof = {
      method: 'POST',
      url: 'https://sts.eu-west-1.amazonaws.com/',
      headers: signed.headers as Record<string, string>,
      body: GET_CALLER_IDENTITY_BODY,
    };
    expect(refusal(proof).reason).toMatch(/x-roleshell-request is not in SignedHeaders/);
  });

  it('refuses a proof without a well-formed nonce', async () => {
    const without = await sign();
    delete without.headers[NONCE_HEADER];
    expect(refusal(without).reason).toMatch(/no valid x-roleshell-nonce/);
    expect(refusal(await sign({ nonce: 'short' })).reason).toMatch(/no valid x-roleshell-nonce/);
  });

  it('refuses a proof made for another request', async () => {
    const proof = await sign({ request: { ...REQUEST, instanceId: 'i-0fffffffffffffff0' } });
    const error = refusal(proof);
    expect(error.reason).toMatch(/does not match the request received/);
    expect(error.message).toMatch(/different request/);
  });

  it('reports the signature and signing time for the single-use check', async () => {
    const proof = await sign();
    const checked = checkIdentityProof(proof, options);
    expect(checked.signature).toBe(/Signature=([0-9a-f]{64})$/.exec(proof.headers.authorization!)?.[1]);
    expect(checked.signedAt).toEqual(NOW);
  });

  it('refuses a proof made for another broker', async () => {
    const error = refusal(await sign({ audience: `${AUDIENCE}-other` }));
    expect(error.message).toMatch(/another broker/);
  });

  it('accepts a qualified invoked ARN as its own audience', async () => {
    expect(unqualifiedFunctionArn(`${AUDIENCE}:live`)).toBe(AUDIENCE);
    expect(unqualifiedFunctionArn(AUDIENCE)).toBe(AUDIENCE);
  });

  it('refuses proofs older than 5 minutes', async () => {
    const stale = await sign({ signingDate: new Date(NOW.getTime() - 5 * 60_000 - 1000) });
    expect(refusal(stale).message).toMatch(/expired/);
    const edge = await sign({ signingDate: new Date(NOW.getTime() - 5 * 60_000) });
    expect(() => checkIdentityProof(edge, options)).not.toThrow();
  });

  it('refuses proofs from the future beyond 30 s of clock skew', async () => {
    const future = await sign({ signingDate: new Date(NOW.getTime() + 31_000) });
    expect(refusal(future).message).toMatch(/future/);
    const skewed = await sign({ signingDate: new Date(NOW.getTime() + 29_000) });
    expect(() => checkIdentityProof(skewed, options)).not.toThrow();
  });

  it('refuses a missing or malformed X-Amz-Date', async () => {
    const proof = await sign();
    refusal({ ...proof, headers: { ...proof.headers, 'x-amz-date': '2026-01-30T10:15:00Z' } });
    const without = await sign();
    delete without.headers['x-amz-date'];
    refusal(without);
  });

  it('refuses a missing or non-SigV4 Authorization header, or one for another service', async () => {
    const proof = await sign();
    refusal({ ...proof, headers: { ...proof.headers, authorization: 'Bearer abc' } });
    refusal({
      ...proof,
      headers: { ...proof.headers, authorization: proof.headers.authorization!.replace('/sts/', '/s3/') },
    });
    const without = await sign();
    delete without.headers.authorization;
    refusal(without);
  });

  it('refuses a header given twice in different case', async () => {
    const proof = await sign();
    refusal({ ...proof, headers: { ...proof.headers, 'X-RoleShell-Audience': AUDIENCE } });
  });

  it.each([
    ['a connection-level header', { 'transfer-encoding': 'chunked' }],
    ['a header value with a line break', { 'x-extra': 'a\r\nx-injected: 1' }],
    ['a header value with non-ASCII', { 'x-extra': 'é' }],
    ['a header name with odd characters', { 'x extra': '1' }],
  ])('refuses %s', async (_label, extra) => {
    const proof = await sign();
    refusal({ ...proof, headers: { ...proof.headers, ...extra } });
  });

  it('refuses a Host header that differs from the URL', async () => {
    const proof = await sign();
    refusal({ ...proof, headers: { ...proof.headers, host: 'evil.example' } });
  });
});

describe('helpers', () => {
  it('measures the proof as JSON bytes', () => {
    expect(proofByteSize({ a: 'é' })).toBe(Buffer.byteLength('{"a":"é"}'));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(proofByteSize(cyclic)).toBe(Number.POSITIVE_INFINITY);
  });

  it('parses X-Amz-Date strictly', () => {
    expect(parseAmzDate('20260130T101500Z')?.toISOString()).toBe('2026-01-30T10:15:00.000Z');
    expect(parseAmzDate('20260231T101500Z')).toBeUndefined();
    expect(parseAmzDate('20260130T101500')).toBeUndefined();
  });

  it('allows only public STS hosts over https plus configured origins', () => {
    expect(isAllowedStsOrigin(new URL('https://sts.us-gov-west-1.amazonaws.com/'), [])).toBe(true);
    expect(isAllowedStsOrigin(new URL('https://sts.amazonaws.com/'), [])).toBe(true);
    expect(isAllowedStsOrigin(new URL('https://iam.amazonaws.com/'), [])).toBe(false);
    expect(isAllowedStsOrigin(new URL('http://127.0.0.1:9/'), ['http://127.0.0.1:9'])).toBe(true);
  });
});
