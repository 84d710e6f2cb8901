/**
 * The broker's Invoke contract (architecture.md, "Broker contract"): the request
 * schema and the response shapes. The launcher's broker client imports these
 * types so both sides agree on one definition.
 */
import * as z from 'zod/mini';
import './zodMessages';
import type { BrokerErrorCode } from './errors';

export const INSTANCE_ID_PATTERN = /^(i|mi)-[0-9a-f]{8,17}$/;

/** A signed STS GetCallerIdentity request, sent instead of credentials. */
export const identityProofSchema = z.object({
  method: z.string(),
  url: z.string(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
});
export type IdentityProof = z.infer<typeof identityProofSchema>;

const instanceId = z
  .string()
  .check(z.regex(INSTANCE_ID_PATTERN, 'must be an instance ID like i-0123456789abcdef0'));
const accountId = z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account ID'));
/** Region names are checked against the configured allow list after parsing. */
const region = z.string().check(z.minLength(1), z.maxLength(32));

const listTargetsRequest = z.object({
  action: z.literal('listTargets'),
  identity: identityProofSchema,
  /** One region, or several; default every region the broker serves. */
  region: z.optional(region),
  regions: z.optional(z.array(region).check(z.minLength(1), z.maxLength(32))),
});

const startSessionRequest = z.object({
  action: z.literal('startSession'),
  identity: identityProofSchema,
  region,
  instanceId,
  /** Account of the instance; default the caller's own. Others only with crossAccount. */
  accountId: z.optional(accountId),
});

const sessionId = z.string().check(z.regex(/^[\w+=,.@-]{1,96}$/, 'must be an SSM session ID'));

const terminateSessionRequest = z.object({
  action: z.literal('terminateSession'),
  identity: identityProofSchema,
  region,
  sessionId,
  accountId: z.optional(accountId),
});

/** A new data-channel token for the caller's own live session (after a dropped connection). */
const resumeSessionRequest = z.object({
  action: z.literal('resumeSession'),
  identity: identityProofSchema,
  region,
  sessionId,
  accountId: z.optional(accountId),
});

export const brokerRequestSchema = z.discriminatedUnion('action', [
  listTargetsRequest,
  startSessionRequest,
  terminateSessionRequest,
  resumeSessionRequest,
]);
export type BrokerRequest = z.infer<typeof brokerRequestSchema>;
export type ListTargetsRequest = z.infer<typeof listTargetsRequest>;
export type StartSessionRequest = z.infer<typeof startSessionRequest>;
export type TerminateSessionRequest = z.infer<typeof terminateSessionRequest>;
export type ResumeSessionRequest = z.infer<typeof resumeSessionRequest>;
export const brokerActions = ['listTargets', 'startSession', 'terminateSession', 'resumeSession'] as const;

export interface BrokerTarget {
  instanceId: string;
  name: string;
  region: string;
  accountId: string;
  platform: string;
  pingStatus: string;
  tags: Record<string, string>;
  linuxUser: string;
  documentName: string;
}

export interface ListTargetsResult {
  ok: true;
  permissionSet: string;
  linuxUser: string;
  documentName: string;
  targets: BrokerTarget[];
}

export interface StartSessionResult {
  ok: true;
  session: { SessionId: string; StreamUrl: string; TokenValue: string };
  target: { instanceId: string; region: string; accountId: string };
  linuxUser: string;
  documentName: string;
}

export interface TerminateSessionResult {
  ok: true;
  sessionId: string;
}

export interface ResumeSessionResult {
  ok: true;
  session: { SessionId: string; StreamUrl: string; TokenValue: string };
}

export interface BrokerFailure {
  ok: false;
  error: { code: BrokerErrorCode; message: string };
}

export type BrokerResponse =
  ListTargetsResult | StartSessionResult | TerminateSessionResult | ResumeSessionResult | BrokerFailure;
