/**
 * The broker's decisions, independent of Lambda and of how AWS is reached:
 * validate the request, verify the caller through STS, map the permission set
 * to its Linux user, authorize the target, start/list/terminate sessions and
 * audit every decision. resumeSession and terminateSession act only on the
 * caller's own sessions.
 */
import type { AuditRecord, AuditSink } from './audit';
import {
  authorizeTarget,
  PERMISSION_SETS_TAG,
  tagAllowsPermissionSet,
  targetNotConnected,
} from './authorization';
import type { BrokerConfig } from './config';
import { mapWithConcurrency } from './concurrency';
import {
  brokerActions,
  brokerRequestSchema,
  MAX_BATCH_ENTRIES,
  type BrokerFailure,
  type BrokerResponse,
  type BrokerTarget,
  type IdentityProof,
  type ListTargetsBatchRequest,
  type ListTargetsBatchResult,
  type ListTargetsRequest,
  type ListTargetsResult,
  type ResumeSessionRequest,
  type ResumeSessionResult,
  type StartSessionRequest,
  type StartSessionResult,
  type TerminateSessionRequest,
  type TerminateSessionResult,
} from './contract';
import { awsErrorName, BrokerError, toBrokerError } from './errors';
import { parseCallerIdentity, type Caller, type StsIdentity } from './identityProof/callerIdentity';
import {
  checkIdentityProof,
  MAX_PROOF_AGE_MS,
  MAX_PROOF_BYTES,
  proofByteSize,
  unqualifiedFunctionArn,
  type CheckedProof,
} from './identityProof/verify';
import { MemoryProofReplayStore, type ProofReplayStore } from './identityProof/proofReplayStore';
import { RoleOriginCheck } from './identityProof/roleOrigin';
import { proofRequestFor, requestDigest } from './identityProof/sign';
import { PermissionSetMapping, type Mapping } from './mapping';
import type { MemberAccess, MemberAccount } from './memberAccount';
import type { TaggedInstance } from './memberAccount';
import { TtlCache } from './ttlCache';
import { roleSessionNameFor } from './roleSessionName';

/**
 * How many proofs of one batch are verified, and how many of its accounts are
 * listed, at once: enough to hide round trips, few enough not to flood STS or
 * a member account's API limits from one invocation.
 */
export const BATCH_FAN_OUT = 8;

/**
 * One invocation's instance listings, shared by its entries: each (account,
 * user, region) is listed once however many permission sets ask for it. Lives
 * for one invocation only, so every listing is current.
 */
type Listings = Map<string, Promise<TaggedInstance[]>>;

/** A lookup's outcome, held back (never thrown) until the caller is known. */
type Settled<T> = { value: T } | { error: unknown };
const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
const valueOf = <T>(settled: Settled<T>): T => {
  if ('error' in settled) throw settled.error;
  return settled.value;
};

/** What startSession reads before it may act: the document mapping and the target's tags. */
type TargetLookups = [Settled<Mapping>, Settled<Record<string, string> | undefined>];

/** Lookups started while STS was still checking the proof, for the caller its access key was last. */
interface Prefetch {
  caller: Caller;
  member: MemberAccount;
  lookups: Promise<TargetLookups>;
}

/** How long the broker remembers whose a verified access key was (a key names one role session for life). */
const KNOWN_KEY_TTL_MS = 15 * 60 * 1000;

const sameCaller = (a: Caller, b: Caller) =>
  a.arn === b.arn && a.userId === b.userId && a.accountId === b.accountId && a.partition === b.partition;

export interface InvocationContext {
  requestId: string;
  /** context.invokedFunctionArn; its qualifier (alias/version) is dropped for the audience check. */
  functionArn: string;
}

export type BrokerLog = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface BrokerDeps {
  config: BrokerConfig;
  /** Sends a checked proof to STS and returns what STS says (identityProof/replay.ts). */
  replayIdentityProof(proof: CheckedProof): Promise<StsIdentity>;
  memberAccess: MemberAccess;
  audit: AuditSink;
  /** Where used single-use proofs are remembered; default one in-memory store per broker. */
  proofReplayStore?: ProofReplayStore;
  now?: () => Date;
  log?: BrokerLog;
}

/** SSM's Reason field is 1-256 chars. */
export function sessionReason(user: string, permissionSet: string): string {
  return `RoleShell for ${user} via ${permissionSet}`.slice(0, 256);
}

type AuditFields = Omit<AuditRecord, 'audit' | 'time' | 'requestId' | 'action' | 'outcome'>;

function callerFields(caller: Caller): AuditFields {
  return {
    user: caller.user,
    userId: caller.userId,
    account: caller.accountId,
    permissionSet: caller.permissionSet,
  };
}

/** Actions whose proof is accepted once: each starts something. */
const SINGLE_USE_ACTIONS: ReadonlySet<string> = new Set(['startSession', 'resumeSession']);

export function createBroker(deps: BrokerDeps) {
  const { config } = deps;
  const now = deps.now ?? (() => new Date());
  const log: BrokerLog = deps.log ?? (() => {});
  const mapping = new PermissionSetMapping(config, () => now().getTime());
  const replayStore = deps.proofReplayStore ?? new MemoryProofReplayStore(10_000, () => now().getTime());
  /**
   * Access key ID -> the caller STS named for it and whose role passed the origin check. Only a
   * hint for what to read while STS checks the next proof: nothing is decided from it.
   */
  const knownKeys = new TtlCache<Caller>(2000, () => now().getTime());
  // The caller's role is read in its own account, as the member target role.
  const roleOrigin = new RoleOriginCheck(
    async (caller) => (await openMember(caller, undefined)).getRole(caller.roleName),
    config.roleCacheSeconds * 1000,
    () => now().getTime(),
  );

  async function audit(
    ctx: InvocationContext,
    action: string,
    outcome: AuditRecord['outcome'],
    fields: AuditFields,
  ): Promise<void> {
    await deps.audit.write({
      audit: 'roleshell-broker',
      time: now().toISOString(),
      requestId: ctx.requestId,
      action,
      outcome,
      ...fields,
    });
  }

  /** The decision must be on record before it takes effect. */
  async function auditOrFail(
    ctx: InvocationContext,
    action: string,
    outcome: AuditRecord['outcome'],
    fields: AuditFields,
  ): Promise<void> {
    try {
      await audit(ctx, action, outcome, fields);
    } catch (error) {
      log('error', 'audit record could not be written', { error: String(error), outcome });
      throw new BrokerError(
        'Internal',
        `The broker could not record the audit trail, so nothing was done; give your administrator request id ${ctx.requestId}.`,
        `audit write failed: ${String(error)}`,
      );
    }
  }

  function checkRegion(region: string): void {
    if (!config.regions.includes(region)) {
      throw new BrokerError(
        'InvalidRequest',
        `Region ${region} is not served by this broker (it serves ${config.regions.join(', ')}).`,
      );
    }
  }

  /** The digest of the request as received: what its proof must have been signed for. */
  function digestOf(req: Parameters<typeof proofRequestFor>[0]): string {
    try {
      return requestDigest(proofRequestFor(req));
    } catch (error) {
      throw new BrokerError(
        'InvalidRequest',
        'The request is not valid: a field holds a line break or comma.',
        `request has no canonical form: ${(error as Error).message}`,
      );
    }
  }

  /** Static checks: audience, bound request, age, STS host. No I/O. */
  function checkProof(identity: IdentityProof, requestDigest: string, ctx: InvocationContext): CheckedProof {
    return checkIdentityProof(identity, {
      audience: unqualifiedFunctionArn(ctx.functionArn),
      extraStsEndpoints: config.extraStsEndpoints,
      requestDigest,
      now: now(),
    });
  }

  /** STS says who signed the checked proof. */
  async function callerOf(checked: CheckedProof): Promise<Caller> {
    return parseCallerIdentity(await deps.replayIdentityProof(checked));
  }

  /** Static checks, then STS says who signed it. */
  async function verifyProof(
    identity: IdentityProof,
    requestDigest: string,
    ctx: InvocationContext,
  ): Promise<{ caller: Caller; checked: CheckedProof }> {
    const checked = checkProof(identity, requestDigest, ctx);
    return { caller: await callerOf(checked), checked };
  }

  /** The document mapping and the target's tags and SSM facts, read at once, none thrown. */
  function targetLookups(
    member: MemberAccount,
    req: StartSessionRequest,
    permissionSet: string,
  ): Promise<TargetLookups> {
    return Promise.all([
      settle(mapping.resolve(member, req.region, permissionSet)),
      settle(targetTags(member, req.region, req.instanceId)),
    ]);
  }

  /**
   * The target's tags; {} for an instance SSM manages that has none (the tagging API knows
   * only tagged resources), undefined for one that does not exist. SSM is asked only then.
   */
  async function targetTags(
    member: MemberAccount,
    region: string,
    instanceId: string,
  ): Promise<Record<string, string> | undefined> {
    const tags = await member.instanceTags(region, instanceId);
    if (tags) return tags;
    return (await member.describeManagedInstance(region, instanceId)) ? {} : undefined;
  }

  /**
   * Starts startSession's reads while STS checks the proof, when the proof's access key was
   * verified before (as whom it then was) and that caller's member account is already open
   * (cached credentials: no AssumeRole for an unverified request). Nothing read here is used,
   * thrown or reported unless STS names that same caller; otherwise it is dropped.
   */
  function prefetchStart(req: StartSessionRequest, checked: CheckedProof): Prefetch | undefined {
    const hinted = knownKeys.get(checked.accessKeyId);
    if (!hinted || !deps.memberAccess.opened) return undefined;
    const accountId = targetAccountOf(hinted, req.accountId);
    if (!accountId) return undefined;
    const member = deps.memberAccess.opened(accountId, hinted.partition, roleSessionNameFor(hinted.user));
    if (!member) return undefined;
    return { caller: hinted, member, lookups: targetLookups(member, req, hinted.permissionSet) };
  }

  /**
   * Claimed only after STS vouched for the proof, so forged proofs cannot fill
   * the store; kept until the proof would be refused as too old.
   */
  async function useOnce(checked: CheckedProof): Promise<void> {
    const expiresAt = new Date(checked.signedAt.getTime() + MAX_PROOF_AGE_MS + 1000);
    if (!(await replayStore.claim(checked.signature, expiresAt))) {
      throw new BrokerError(
        'IdentityRejected',
        'This identity proof was already used; every session request needs a fresh one. Retry.',
        'proof replayed: its signature was already used',
      );
    }
  }

  /** The account a request targets: the one it names, else the caller's; another one only with crossAccount. */
  function targetAccountOf(caller: Caller, requestedAccount: string | undefined): string | undefined {
    const accountId = requestedAccount ?? caller.accountId;
    return accountId === caller.accountId || config.crossAccount ? accountId : undefined;
  }

  async function openMember(caller: Caller, requestedAccount: string | undefined): Promise<MemberAccount> {
    const accountId = targetAccountOf(caller, requestedAccount);
    if (!accountId) {
      throw new BrokerError(
        'AccessDenied',
        `Your permission set can reach instances in its own account (${caller.accountId}) only.`,
        `cross-account target ${requestedAccount} refused`,
      );
    }
    return deps.memberAccess(accountId, caller.partition, roleSessionNameFor(caller.user));
  }

  async function startSession(
    req: StartSessionRequest,
    caller: Caller,
    ctx: InvocationContext,
    fields: AuditFields,
    prefetch: Prefetch | undefined,
  ): Promise<StartSessionResult> {
    const member = await openMember(caller, req.accountId);
    fields.targetAccount = member.accountId;
    // The reads made during verification count only if they were made for this very caller and account.
    const prefetched =
      prefetch &&
      sameCaller(prefetch.caller, caller) &&
      prefetch.member.accountId === member.accountId &&
      prefetch.member.sessionArn === member.sessionArn
        ? prefetch.lookups
        : undefined;
    // The document lookup and the target's tags are independent: one round trip, not two.
    const [mappedOrError, tagsOrError] =
      (await prefetched) ?? (await targetLookups(member, req, caller.permissionSet));
    // An unmapped permission set is refused first, as when the calls ran one after the other.
    const mapped: Mapping = valueOf(mappedOrError);
    const tags = valueOf(tagsOrError);
    fields.documentName = mapped.documentName;
    fields.linuxUser = mapped.linuxUser;

    authorizeTarget({ instanceId: req.instanceId, tags }, caller.permissionSet);

    await auditOrFail(ctx, 'startSession', 'allowed', fields);
    let session;
    try {
      session = await member.startSession(req.region, {
        target: req.instanceId,
        documentName: mapped.documentName,
        reason: sessionReason(caller.user, caller.permissionSet),
      });
    } catch (error) {
      if (awsErrorName(error) === 'TargetNotConnected') throw targetNotConnected(req.instanceId);
      throw error;
    }
    fields.sessionId = session.SessionId;
    try {
      await auditOrFail(ctx, 'startSession', 'started', fields);
    } catch (error) {
      // Fail closed: a session the trail does not show must not stay open.
      await member.terminateSession(req.region, session.SessionId).catch((terminateError: unknown) =>
        log('error', 'could not terminate unaudited session', {
          sessionId: session.SessionId,
          error: String(terminateError),
        }),
      );
      throw error;
    }
    return {
      ok: true,
      session: { SessionId: session.SessionId, StreamUrl: session.StreamUrl, TokenValue: session.TokenValue },
      target: { instanceId: req.instanceId, region: req.region, accountId: member.accountId },
      linuxUser: mapped.linuxUser,
      documentName: mapped.documentName,
    };
  }

  async function listTargets(
    req: Pick<ListTargetsRequest, 'region' | 'regions'>,
    caller: Caller,
    ctx: InvocationContext,
    fields: AuditFields,
    listings: Listings = new Map(),
  ): Promise<ListTargetsResult> {
    const regions = [...new Set(req.regions ?? (req.region ? [req.region] : config.regions))];
    regions.forEach(checkRegion);
    const member = await openMember(caller, undefined);
    const listed = (region: string) => {
      const key = `${member.accountId}|${roleSessionNameFor(caller.user)}|${region}`;
      let listing = listings.get(key);
      if (!listing) {
        listing = member.listTaggedInstances(region);
        listings.set(key, listing);
      }
      return listing;
    };
    // A region's document mapping, or its AccessDenied (any other failure is thrown).
    const mappedIn = (region: string) =>
      mapping.resolve(member, region, caller.permissionSet).catch((error: unknown) => {
        if (error instanceof BrokerError && error.code === 'AccessDenied') return error;
        throw error;
      });
    // Listed first, mapped only where this permission set can see instances: a region with none
    // has nothing to connect to, so its session document is not read (one GetDocument per region
    // and permission set was most of a "load all"'s calls). A region without the document shows
    // none of its instances, as before.
    const perRegion = await Promise.all(
      regions.map(async (region) => {
        const visible = (await listed(region)).filter((instance) =>
          tagAllowsPermissionSet(instance.tags[PERMISSION_SETS_TAG], caller.permissionSet),
        );
        const mapped = visible.length > 0 ? await mappedIn(region) : undefined;
        if (!mapped || mapped instanceof BrokerError) return { region, mapped, targets: [] };
        const targets: BrokerTarget[] = visible.map((instance) => ({
          instanceId: instance.instanceId,
          name: instance.tags.Name ?? instance.computerName ?? instance.instanceId,
          region,
          accountId: member.accountId,
          platform: instance.platform,
          pingStatus: instance.pingStatus,
          tags: instance.tags,
          linuxUser: mapped.linuxUser,
          documentName: mapped.documentName,
        }));
        return { region, mapped, targets };
      }),
    );
    // The answer names the permission set's Linux user (or refuses it as unmapped) even when no
    // region had anything to list: then the remaining regions are read in order until one maps.
    const found = perRegion.map((entry) => entry.mapped);
    let firstMapped = found.find((m): m is Mapping => m !== undefined && !(m instanceof BrokerError));
    let denied = found.find((m): m is BrokerError => m instanceof BrokerError);
    for (const entry of perRegion) {
      if (firstMapped) break;
      if (entry.mapped !== undefined) continue;
      const mapped = await mappedIn(entry.region);
      if (mapped instanceof BrokerError) denied ??= mapped;
      else firstMapped = mapped;
    }
    if (!firstMapped)
      throw denied ?? new BrokerError('AccessDenied', 'No Linux user is mapped for your permission set.');
    const targets = perRegion.flatMap((entry) => entry.targets);
    fields.documentName = firstMapped.documentName;
    fields.linuxUser = firstMapped.linuxUser;
    fields.targetCount = targets.length;
    await auditOrFail(ctx, 'listTargets', 'listed', fields);
    return {
      ok: true,
      permissionSet: caller.permissionSet,
      linuxUser: firstMapped.linuxUser,
      documentName: firstMapped.documentName,
      targets,
    };
  }

  /**
   * Many (account, permission set) proofs in one invocation. Each entry is
   * verified on its own (its proof, and that it is for the account it names),
   * answered on its own and audited on its own: a bad proof or an unmapped
   * permission set refuses only its entry. Entries of one account share its
   * listing per region.
   */
  async function listTargetsBatch(
    req: ListTargetsBatchRequest,
    ctx: InvocationContext,
    oversized: ReadonlySet<number>,
  ): Promise<ListTargetsBatchResult> {
    const regions = [...new Set(req.regions ?? config.regions)];
    regions.forEach(checkRegion);
    const listings: Listings = new Map();
    const answer = async (
      entry: { accountId: string; identity: IdentityProof },
      index: number,
    ): Promise<ListTargetsResult | BrokerFailure> => {
      const fields: AuditFields = { batchEntry: index, targetAccount: entry.accountId };
      try {
        if (oversized.has(index))
          throw new BrokerError(
            'IdentityRejected',
            'The identity proof is too large.',
            `identity proof over ${MAX_PROOF_BYTES} bytes`,
          );
        // Bound to this entry of this batch: the batch's regions and the entry's account.
        const digest = digestOf({ action: req.action, regions: req.regions, accountId: entry.accountId });
        const { caller } = await verifyProof(entry.identity, digest, ctx);
        Object.assign(fields, callerFields(caller));
        if (caller.accountId !== entry.accountId)
          throw new BrokerError(
            'IdentityRejected',
            `This identity proof is for account ${caller.accountId}, not ${entry.accountId}.`,
            `batch entry names account ${entry.accountId}, proof is from ${caller.accountId}`,
          );
        await roleOrigin.verify(caller);
        return await listTargets({ regions }, caller, ctx, fields, listings);
      } catch (thrown) {
        return refuse(ctx, 'listTargets', fields, thrown);
      }
    };
    // Entries of one account share its listings (and its AssumeRole) even when they run at once.
    const entries = await mapWithConcurrency(req.entries, BATCH_FAN_OUT, answer);
    return { ok: true, entries };
  }

  /**
   * The caller's own live session, or why not: the ID must start with the
   * caller's role session name and DescribeSessions must name the broker's
   * session as that user as its owner (a session the broker did not start for
   * this user is refused even with the right prefix).
   */
  async function ownSession(
    req: TerminateSessionRequest | ResumeSessionRequest,
    caller: Caller,
    fields: AuditFields,
  ): Promise<MemberAccount> {
    const sessionName = roleSessionNameFor(caller.user);
    const notYours = new BrokerError('AccessDenied', `Session ${req.sessionId} is not one of your sessions.`);
    if (!req.sessionId.startsWith(`${sessionName}-`))
      throw new BrokerError(
        notYours.code,
        notYours.message,
        'session ID does not start with the caller session name',
      );
    const member = await openMember(caller, req.accountId);
    fields.targetAccount = member.accountId;
    const session = await member.describeSession(req.region, req.sessionId);
    if (!session) throw sessionGone(req.sessionId, 'session not found among active sessions');
    fields.instanceId = session.target;
    if (session.owner !== member.sessionArn) {
      throw new BrokerError(
        notYours.code,
        notYours.message,
        `session owner ${session.owner} is not ${member.sessionArn}`,
      );
    }
    return member;
  }

  function sessionGone(sessionId: string, reason: string): BrokerError {
    return new BrokerError(
      'TargetNotFound',
      `Session ${sessionId} was not found or has already ended.`,
      reason,
    );
  }

  async function terminateSession(
    req: TerminateSessionRequest,
    caller: Caller,
    ctx: InvocationContext,
    fields: AuditFields,
  ): Promise<TerminateSessionResult> {
    const member = await ownSession(req, caller, fields);
    await auditOrFail(ctx, 'terminateSession', 'terminated', fields);
    await member.terminateSession(req.region, req.sessionId);
    return { ok: true, sessionId: req.sessionId };
  }

  /** Audits a refusal (best effort: the refusal stands either way) and words it for the caller. */
  async function refuse(
    ctx: InvocationContext,
    action: string,
    fields: AuditFields,
    thrown: unknown,
  ): Promise<BrokerFailure> {
    const error = toBrokerError(thrown, ctx.requestId);
    const outcome = error.code === 'Internal' || error.code === 'Throttled' ? 'failed' : 'denied';
    if (error.code === 'Internal')
      log('error', 'request failed', { requestId: ctx.requestId, reason: error.reason });
    try {
      await audit(ctx, action, outcome, { ...fields, code: error.code, reason: error.reason });
    } catch (auditError) {
      log('error', 'audit record for a refusal could not be written', {
        error: String(auditError),
        code: error.code,
      });
    }
    return { ok: false, error: { code: error.code, message: error.message } };
  }

  async function resumeSession(
    req: ResumeSessionRequest,
    caller: Caller,
    ctx: InvocationContext,
    fields: AuditFields,
  ): Promise<ResumeSessionResult> {
    const member = await ownSession(req, caller, fields);
    // On record before the new token exists: it opens the same shell again.
    await auditOrFail(ctx, 'resumeSession', 'resumed', fields);
    const session = await member.resumeSession(req.region, req.sessionId);
    if (!session) throw sessionGone(req.sessionId, 'ResumeSession: DoesNotExistException');
    return {
      ok: true,
      session: { SessionId: session.SessionId, StreamUrl: session.StreamUrl, TokenValue: session.TokenValue },
    };
  }

  async function handle(event: unknown, ctx: InvocationContext): Promise<BrokerResponse> {
    // Capped: the caller chooses this string and it lands in the audit trail.
    const action =
      typeof event === 'object' &&
      event !== null &&
      typeof (event as { action?: unknown }).action === 'string'
        ? (event as { action: string }).action.slice(0, 64)
        : 'unknown';
    const fields: AuditFields = {};
    try {
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        throw new BrokerError('InvalidRequest', 'The request must be a JSON object.');
      }
      if (!(brokerActions as readonly string[]).includes(action)) {
        throw new BrokerError(
          'InvalidRequest',
          `Unknown action; use one of ${brokerActions.join(', ')}.`,
          `unknown action ${action}`,
        );
      }
      // Size first: nothing else reads an oversized proof.
      if (proofByteSize((event as { identity?: unknown }).identity) > MAX_PROOF_BYTES) {
        throw new BrokerError(
          'IdentityRejected',
          'The identity proof is too large.',
          `identity proof over ${MAX_PROOF_BYTES} bytes`,
        );
      }
      // A batch's oversized proofs refuse only their own entries, and are not parsed either.
      const oversized = new Set<number>();
      let request = event;
      if (action === 'listTargetsBatch') {
        const entries = (event as { entries?: unknown }).entries;
        if (Array.isArray(entries)) {
          if (entries.length > MAX_BATCH_ENTRIES)
            throw new BrokerError(
              'InvalidRequest',
              `A batch may carry at most ${MAX_BATCH_ENTRIES} entries; split it.`,
              `batch of ${entries.length} entries`,
            );
          request = {
            ...event,
            entries: entries.map((entry: unknown, index) => {
              const identity = (entry as { identity?: unknown } | null)?.identity;
              if (proofByteSize(identity) <= MAX_PROOF_BYTES) return entry;
              oversized.add(index);
              return { ...(entry as object), identity: { method: '', url: '', headers: {}, body: '' } };
            }),
          };
        }
      }
      const parsed = brokerRequestSchema.safeParse(request);
      if (!parsed.success) {
        const issues = parsed.error.issues
          .map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`)
          .join('; ');
        throw new BrokerError('InvalidRequest', `The request is not valid: ${issues}`);
      }
      const req = parsed.data;
      if ('region' in req && req.region !== undefined) {
        fields.region = req.region;
        checkRegion(req.region);
      }
      if (req.action === 'listTargets') req.regions?.forEach(checkRegion);
      if (req.action === 'startSession') fields.instanceId = req.instanceId;
      if (req.action === 'terminateSession' || req.action === 'resumeSession')
        fields.sessionId = req.sessionId;

      if (req.action === 'listTargetsBatch') return await listTargetsBatch(req, ctx, oversized);

      const checked = checkProof(req.identity, digestOf(req), ctx);
      // Reads only, for whom the key was last; held back until STS has named the caller.
      const prefetch = req.action === 'startSession' ? prefetchStart(req, checked) : undefined;
      const caller = await callerOf(checked);
      Object.assign(fields, callerFields(caller));
      await roleOrigin.verify(caller);
      knownKeys.set(checked.accessKeyId, caller, now().getTime() + KNOWN_KEY_TTL_MS);
      if (SINGLE_USE_ACTIONS.has(req.action)) await useOnce(checked);
      switch (req.action) {
        case 'startSession':
          return await startSession(req, caller, ctx, fields, prefetch);
        case 'listTargets':
          return await listTargets(req, caller, ctx, fields);
        case 'terminateSession':
          return await terminateSession(req, caller, ctx, fields);
        case 'resumeSession':
          return await resumeSession(req, caller, ctx, fields);
      }
    } catch (thrown) {
      return refuse(ctx, action, fields, thrown);
    }
  }

  return { handle };
}

export type Broker = ReturnType<typeof createBroker>;
