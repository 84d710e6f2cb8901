/**
 * CloudTrail-style event log: one event per API call, shaped like CloudTrail's
 * records. Secrets never enter it: values of secret-bearing keys are replaced
 * with HIDDEN_DUE_TO_SECURITY_REASONS, as CloudTrail itself does.
 */
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { assumedRoleArn, roleArn, userIdOf, type IssuedCredentials } from './identity/principals';

export interface CloudTrailUserIdentity {
  type: 'AssumedRole' | 'IdentityCenterUser' | 'Unknown' | 'AWSService';
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  invokedBy?: string;
  onBehalfOf?: { userId: string; identityStoreArn: string };
  sessionContext?: {
    sessionIssuer: { type: 'Role'; principalId: string; arn: string; accountId: string; userName: string };
    attributes: { creationDate: string; mfaAuthenticated: 'false' };
    sourceIdentity?: string;
  };
}

export interface CloudTrailEvent {
  eventVersion: '1.09';
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  userIdentity: CloudTrailUserIdentity;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  errorCode?: string;
  errorMessage?: string;
  requestID: string;
  eventID: string;
  readOnly: boolean;
  eventType: 'AwsApiCall';
  managementEvent: true;
  recipientAccountId?: string;
}

const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';
const SECRET_KEYS = new Set(
  [
    'secretAccessKey',
    'sessionToken',
    'accessToken',
    'refreshToken',
    'idToken',
    'clientSecret',
    'deviceCode',
    'tokenValue',
    'codeVerifier',
    'code',
    'x-amz-sso_bearer_token',
    'payload',
  ].map((k) => k.toLowerCase()),
);

/** Deep copy with secret-bearing values hidden. */
export function redact<T>(value: T): T {
  if (Array.isArray(value)) return value.map(redact) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    // fromEntries defines own properties, so a `__proto__` key from a request stays a key.
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_KEYS.has(k.toLowerCase()) && v !== undefined && v !== null ? HIDDEN : redact(v),
      ]),
    ) as T;
  }
  return value;
}

/** One identity per issued key (frozen: every event of the key shares it), made at its first call. */
const identities = new WeakMap<IssuedCredentials, CloudTrailUserIdentity>();

export function roleSessionIdentity(creds: IssuedCredentials): CloudTrailUserIdentity {
  let identity = identities.get(creds);
  if (!identity) identities.set(creds, (identity = deepFreeze(sessionIdentity(creds))));
  return identity;
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value))
    if (inner && typeof inner === 'object') deepFreeze(inner as object);
  return Object.freeze(value);
}

function sessionIdentity(creds: IssuedCredentials): CloudTrailUserIdentity {
  const s = creds.session;
  return {
    type: 'AssumedRole',
    principalId: userIdOf(s),
    arn: assumedRoleArn(s),
    accountId: s.accountId,
    accessKeyId: creds.accessKeyId,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: s.roleId,
        arn: roleArn(s),
        accountId: s.accountId,
        userName: s.roleName,
      },
      attributes: { creationDate: s.createdAt.toISOString(), mfaAuthenticated: 'false' },
      ...(s.sourceIdentity ? { sourceIdentity: s.sourceIdentity } : {}),
    },
  };
}

/**
 * Events kept in memory (oldest dropped first): a long-running sandbox or a load of thousands of
 * accounts (about 20 calls per account) must not grow without bound. The trail file, when given,
 * keeps every event.
 */
export const DEFAULT_CLOUDTRAIL_CAPACITY = 50_000;

/** CloudTrail's eventTime (whole seconds), made once per second rather than per event. */
let lastSecond = -1;
let lastEventTime = '';
function eventTimeNow(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastEventTime = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return lastEventTime;
}

export class CloudTrail {
  /** A ring: `next` counts every event recorded, so the oldest kept is at `next % capacity` once full. */
  private readonly events: CloudTrailEvent[] = [];
  private next = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly file?: string,
    readonly capacity = DEFAULT_CLOUDTRAIL_CAPACITY,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`CloudTrail capacity must be a positive integer, not ${capacity}`);
  }

  record(
    event: Omit<
      CloudTrailEvent,
      'eventVersion' | 'eventID' | 'eventType' | 'managementEvent' | 'eventTime'
    > & {
      eventTime?: string;
    },
  ): CloudTrailEvent {
    const full: CloudTrailEvent = {
      eventVersion: '1.09',
      eventTime: event.eventTime ?? eventTimeNow(),
      ...event,
      requestParameters: event.requestParameters ? redact(event.requestParameters) : null,
      responseElements: event.responseElements ? redact(event.responseElements) : null,
      eventID: randomUUID(),
      eventType: 'AwsApiCall',
      managementEvent: true,
    };
    this.events[this.next % this.capacity] = full;
    this.next++;
    const api = `${full.eventSource.slice(0, full.eventSource.indexOf('.'))}:${full.eventName}`;
    this.counts.set(api, (this.counts.get(api) ?? 0) + 1);
    if (this.file) appendFileSync(this.file, `${JSON.stringify(full)}\n`);
    return full;
  }

  /** Every call recorded since the start, per `service:Operation` (`sts:GetCallerIdentity`), kept or not. */
  callCounts(): Map<string, number> {
    return new Map(this.counts);
  }

  /** The events kept, oldest first. */
  list(filter: { eventName?: string; eventSource?: string } = {}): CloudTrailEvent[] {
    const start = this.next > this.capacity ? this.next % this.capacity : 0;
    const ordered = start === 0 ? this.events : [...this.events.slice(start), ...this.events.slice(0, start)];
    return ordered.filter(
      (e) =>
        (!filter.eventName || e.eventName === filter.eventName) &&
        (!filter.eventSource || e.eventSource === filter.eventSource),
    );
  }
}
