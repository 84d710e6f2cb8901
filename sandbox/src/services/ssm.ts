/**
 * Systems Manager (JSON 1.1, X-Amz-Target AmazonSSM.*): StartSession,
 * TerminateSession, ResumeSession, DescribeSessions,
 * DescribeInstanceInformation, GetDocument — scoped to the caller's account and
 * the signing region, with IAM-like authorization.
 */
import { randomBytes } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { instancesIn } from '../org/instanceIndex';
import type { Org, OrgInstance } from '../org/schema';
import type { DataChannelHost } from '../dataChannel';
import { AwsError, type WireResponse } from '../http/awsError';
import { jsonBody } from '../http/context';
import { page } from '../http/pagination';
import type { SignedCall } from '../http/server';
import { IamRoles } from '../identity/iamRoles';
import { SESSION_OWNER_TAG } from '../identity/orgPolicies';
import { randomHex } from '../identity/ids';
import type { PolicyEnforcer } from '../identity/policyEnforcer';
import { assumedRoleArn, type RoleSession } from '../identity/principals';
import type { SandboxSession, SessionDocumentInputs, SessionStore } from '../sessionStore';

/** AWS's own default shell document, present in every account. */
export const DEFAULT_SESSION_DOCUMENT = 'SSM-SessionManagerRunShell';
const DEFAULT_DOCUMENT_CONTENT = {
  schemaVersion: '1.0' as const,
  description: 'Document to hold regional settings for Session Manager',
  sessionType: 'Standard_Stream' as const,
  inputs: {
    runAsEnabled: false,
    runAsDefaultUser: '',
    idleSessionTimeout: '20',
    maxSessionDuration: '',
    shellProfile: { linux: '', windows: '' },
    s3EncryptionEnabled: true,
    cloudWatchEncryptionEnabled: true,
  } satisfies SessionDocumentInputs,
};
/** The tag whose value overrides runAsDefaultUser, on the caller's session or role. */
export const RUN_AS_TAG = 'SSMSessionRunAs';
const LINUX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const DOCUMENT_EPOCH = new Date('2026-01-01T00:00:00Z');

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** SSM's JSON-protocol pagination: `NextToken` in the body, `InvalidNextToken` for a foreign one. */
function ssmPage<T>(items: T[], body: Record<string, unknown>, maxResults: number, scope: string) {
  return page(items, {
    token: str(body.NextToken),
    size: maxResults,
    scope,
    invalidTokenCode: 'InvalidNextToken',
  });
}
const epoch = (d: Date) => d.getTime() / 1000;
const invalidParams = (m: string) => new AwsError('ValidationException', m, 400);

interface DocumentView {
  name: string;
  content: {
    schemaVersion: '1.0';
    description?: string;
    sessionType: SandboxSession['sessionType'];
    inputs: SessionDocumentInputs;
  };
}

export class SsmService {
  constructor(
    private readonly org: Org,
    private readonly sessions: SessionStore,
    private readonly dataChannel: DataChannelHost,
    private readonly endpoint: () => string,
    private readonly policies: PolicyEnforcer,
  ) {}

  async handle(call: SignedCall, operation: string): Promise<WireResponse> {
    const { ctx } = call;
    ctx.trail.eventSource = 'ssm.amazonaws.com';
    ctx.trail.eventName = operation;
    const body = jsonBody(ctx);
    const region = call.scope.region;
    const session = call.caller.session;
    const out = (value: unknown): WireResponse => ({
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify(value),
    });
    switch (operation) {
      case 'StartSession':
        return out(await this.startSession(call, body, region, session));
      case 'TerminateSession':
        return out(await this.terminateSession(call, body, region, session));
      case 'ResumeSession':
        return out(await this.resumeSession(call, body, region, session));
      case 'DescribeSessions':
        return out(await this.describeSessions(call, body, region, session));
      case 'DescribeInstanceInformation':
        return out(await this.describeInstanceInformation(call, body, region, session));
      case 'GetDocument':
        return out(await this.getDocument(call, body, region, session));
      default:
        throw new AwsError(
          'UnknownOperationException',
          `Operation ${operation} is not supported by the sandbox`,
          400,
        );
    }
  }

  private arn(region: string, accountId: string, kind: string, id: string) {
    return `arn:aws:${kind === 'instance' ? 'ec2' : 'ssm'}:${region}:${accountId}:${kind}/${id}`;
  }

  private documentsByName?: {
    of: Org['sessionDocuments'];
    byName: Map<string, { content: DocumentView['content']; accounts: Set<string> }[]>;
  };

  private document(accountId: string, name: string): DocumentView | undefined {
    if (name === DEFAULT_SESSION_DOCUMENT) return { name, content: DEFAULT_DOCUMENT_CONTENT };
    // Indexed once (each document's accounts as a Set): a generated org deploys each to thousands.
    if (this.documentsByName?.of !== this.org.sessionDocuments) {
      const byName = new Map<string, { content: DocumentView['content']; accounts: Set<string> }[]>();
      for (const d of this.org.sessionDocuments)
        byName.set(d.name, [
          ...(byName.get(d.name) ?? []),
          { content: d.content, accounts: new Set(d.accounts) },
        ]);
      this.documentsByName = { of: this.org.sessionDocuments, byName };
    }
    const doc = this.documentsByName.byName.get(name)?.find((d) => d.accounts.has(accountId));
    return doc && { name, content: doc.content };
  }

  private instances(accountId: string, region: string): OrgInstance[] {
    return instancesIn(this.org, accountId, region);
  }

  private async startSession(
    call: SignedCall,
    body: Record<string, unknown>,
    region: string,
    caller: RoleSession,
  ) {
    const target = str(body.Target) ?? '';
    const documentName = str(body.DocumentName) ?? DEFAULT_SESSION_DOCUMENT;
    const reason = str(body.Reason);
    call.ctx.trail.requestParameters = { target, documentName, ...(reason !== undefined ? { reason } : {}) };
    if (target.length < 1 || target.length > 400) invalidParamsThrow('target', 'length between 1 and 400');
    if (!/^[a-zA-Z0-9_\-.:/]{3,128}$/.test(documentName))
      invalidParamsThrow('documentName', 'regular expression pattern: ^[a-zA-Z0-9_\\-.:/]{3,128}$');
    if (reason !== undefined && (reason.length < 1 || reason.length > 256 || /[\r\n]/.test(reason)))
      invalidParamsThrow('reason', 'length between 1 and 256 and regular expression pattern: ^.{1,256}$');

    const instanceArn = this.arn(region, caller.accountId, 'instance', target);
    const documentArn = this.arn(region, caller.accountId, 'document', documentName);
    const instance = this.instances(caller.accountId, region).find((i) => i.id === target);
    // IAM judges StartSession twice, as Session Manager asks it: on the instance (with its tags)
    // and on the document (ssm:SessionDocumentAccessCheck); both must allow.
    const tags = Object.entries(instance?.tags ?? {});
    const context = { 'aws:RequestedRegion': region, 'ssm:SessionDocumentAccessCheck': 'true' };
    await this.policies.authorize(caller, 'ssm:StartSession', instanceArn, {
      context: {
        ...context,
        ...Object.fromEntries(
          tags.flatMap(([k, v]) => [
            [`ssm:resourceTag/${k}`, v],
            [`aws:ResourceTag/${k}`, v],
          ]),
        ),
      },
    });
    await this.policies.authorize(caller, 'ssm:StartSession', documentArn, { context });
    const doc = this.document(caller.accountId, documentName);
    if (!doc)
      throw new AwsError('InvalidDocument', `Document with name ${documentName} does not exist.`, 400);
    if (!instance || instance.pingStatus !== 'Online' || instance.state !== 'running')
      throw new AwsError('TargetNotConnected', `${target} is not connected.`, 400);

    const runAsUser = this.runAsUser(caller, doc);
    const sessionId = `${caller.sessionName}-${randomHex(17)}`;
    const tokenValue = randomBytes(96).toString('base64');
    this.sessions.create({
      sessionId,
      target,
      accountId: caller.accountId,
      region,
      documentName,
      sessionType: doc.content.sessionType,
      inputs: doc.content.inputs,
      runAsUser,
      owner: assumedRoleArn(caller),
      ...(reason !== undefined ? { reason } : {}),
      tokens: [tokenValue],
      status: 'Connecting',
      startDate: new Date(),
    });
    const streamUrl = this.streamUrl(sessionId);
    call.ctx.trail.responseElements = { sessionId, tokenValue, streamUrl };
    return { SessionId: sessionId, TokenValue: tokenValue, StreamUrl: streamUrl };
  }

  private streamUrl(sessionId: string) {
    return `${this.endpoint().replace(/^http/, 'ws')}/v1/data-channel/${sessionId}?role=publish_subscribe`;
  }

  /**
   * Run As precedence, as Session Manager applies it: with runAsEnabled, the
   * caller's SSMSessionRunAs tag (session tag over role tag) wins over the
   * document's runAsDefaultUser; never root. Without it, ssm-user.
   */
  private runAsUser(caller: RoleSession, doc: DocumentView): string {
    if (!doc.content.inputs.runAsEnabled) return 'ssm-user';
    const roleTag = caller.permissionSet
      ? undefined
      : IamRoles.of(this.org).get(caller.accountId, caller.roleName)?.definition?.tags[RUN_AS_TAG];
    const fromTag = caller.sessionTags[RUN_AS_TAG] ?? roleTag;
    const user = fromTag ?? doc.content.inputs.runAsDefaultUser ?? '';
    if (user === 'root')
      throw new AwsError('AccessDeniedException', 'Run As is not allowed for the root user.', 400);
    if (!LINUX_USER.test(user)) {
      throw new AwsError(
        'InvalidDocument',
        user
          ? `Run As user ${user} is not a valid Linux user name.`
          : `Document ${doc.name} enables Run As but names no runAsDefaultUser and the caller has no ${RUN_AS_TAG} tag.`,
        400,
      );
    }
    return user;
  }

  /** Terminate/ResumeSession: IAM judges the session, tagged with its starter's aws:userid. */
  private async ownSession(
    call: SignedCall,
    body: Record<string, unknown>,
    region: string,
    caller: RoleSession,
    action: string,
  ) {
    const sessionId = str(body.SessionId) ?? '';
    call.ctx.trail.requestParameters = { sessionId };
    if (!/^[\w+=,.@-]{1,96}$/.test(sessionId)) invalidParamsThrow('sessionId', 'length between 1 and 96');
    const arn = this.arn(region, caller.accountId, 'session', sessionId);
    const s = this.sessions.get(sessionId);
    const mine = s && s.accountId === caller.accountId && s.region === region ? s : undefined;
    const ownerId = mine ? this.policies.ownerUserId(mine.owner) : undefined;
    await this.policies.authorize(caller, action, arn, {
      context: {
        'aws:RequestedRegion': region,
        ...(ownerId
          ? {
              [`ssm:resourceTag/${SESSION_OWNER_TAG}`]: ownerId,
              [`aws:ResourceTag/${SESSION_OWNER_TAG}`]: ownerId,
            }
          : {}),
      },
    });
    if (!mine)
      throw new AwsError('DoesNotExistException', `Session with id ${sessionId} does not exist.`, 400);
    return mine;
  }

  private async terminateSession(
    call: SignedCall,
    body: Record<string, unknown>,
    region: string,
    caller: RoleSession,
  ) {
    const s = await this.ownSession(call, body, region, caller, 'ssm:TerminateSession');
    if (this.sessions.isActive(s)) {
      this.sessions.update(s.sessionId, { status: 'Terminating' });
      await this.dataChannel.terminate(s.sessionId);
      this.sessions.update(s.sessionId, { status: 'Terminated', endDate: s.endDate ?? new Date() });
    }
    call.ctx.trail.responseElements = { sessionId: s.sessionId };
    return { SessionId: s.sessionId };
  }

  private async resumeSession(
    call: SignedCall,
    body: Record<string, unknown>,
    region: string,
    caller: RoleSession,
  ) {
    const s = await this.ownSession(call, body, region, caller, 'ssm:ResumeSession');
    if (!this.sessions.isActive(s) || s.status === 'Terminating')
      throw new AwsError(
        'DoesNotExistException',
        `Session with id ${s.sessionId} is terminated and cannot be resumed.`,
        400,
      );
    const tokenValue = randomBytes(96).toString('base64');
    this.sessions.update(s.sessionId, { tokens: [...s.tokens, tokenValue] });
    const streamUrl = this.streamUrl(s.sessionId);
    call.ctx.trail.responseElements = { sessionId: s.sessionId, tokenValue, streamUrl };
    return { SessionId: s.sessionId, TokenValue: tokenValue, StreamUrl: streamUrl };
  }

  private async describeSessions(
    call: SignedCall,
    body: Record<string, unknown>,
    region: string,
    caller: RoleSession,
  ) {
    const state = str(body.State);
    const filters = Array.isArray(body.Filters) ? (body.Filters as { key?: unknown; value?: unknown }[]) : [];
    const maxResults = body.MaxResults === undefined ? 20 : Number(body.MaxResults);
    call.ctx.trail.requestParameters = {
      state,
      filters,
      ...(body.MaxResults !== undefined ? { maxResults } : {}),
    };
    if (state !== 'Active' && state !== 'History')
      invalidParamsThrow('state', 'enum value set: [Active, History]');
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 200)
      invalidParamsThrow('maxResults', 'value between 1 and 200');
    // DescribeSessions and DescribeInstanceInformation support no resource-level permissions.
    await this.policies.authorize(caller, 'ssm:DescribeSessions', '*', {
      context: { 'aws:RequestedRegion': region },
    });
    const keys = ['InvokedAfter', 'InvokedBefore', 'Target', 'Owner', 'Status', 'SessionId', 'AccessType'];
    const tests = filters.map((f) => {
      const key = str(f.key) ?? '';
      const value = str(f.value) ?? '';
      if (!keys.includes(key)) throw new AwsError('InvalidFilterKey', `Filter key ${key} is not valid.`, 400);
      return (s: SandboxSession) => {
        switch (key) {
          case 'InvokedAfter':
            return s.startDate >= new Date(value);
          case 'InvokedBefore':
            return s.startDate <= new Date(value);
          case 'Target':
            return s.target === value;
          case 'Owner':
            return s.owner === value;
          case 'Status':
            return s.status === value;
          case 'SessionId':
            return s.sessionId === value;
          default:
            return value === 'Standard';
        }
      };
    });
    const matching = this.sessions
      .list()
      .filter((s) => s.accountId === caller.accountId && s.region === region)
      .filter((s) => (state === 'Active') === this.sessions.isActive(s))
      .filter((s) => tests.every((t) => t(s)))
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
    const scope = `sessions/${caller.accountId}/${region}/${state}/${JSON.stringify(filters)}`;
    const p = ssmPage(matching, body, maxResults, scope);
    return {
      Sessions: p.items.map((s) => ({
        SessionId: s.sessionId,
        Target: s.target,
        Status: s.status,
        StartDate: epoch(s.startDate),
        ...(s.endDate ? { EndDate: epoch(s.endDate) } : {}),
        DocumentName: s.documentName,
        Owner: s.owner,
        ...(s.reason !== undefined ? { Reason: s.reason } : {}),
        ...(s.inputs.maxSessionDuration ? { MaxSessionDuration: s.inputs.maxSessionDuration } : {}),
        OutputUrl: {},
        AccessType: 'Standard',
      })),
      ...(p.nextToken ? { NextToken: p.nextToken } : {}),
    };
  }

  private async describeInstanceInformation(
    call: SignedCall,
    body: Record<string, unknown>,
    region: string,
    caller: RoleSession,
  ) {
    const maxResults = body.MaxResults === undefined ? 50 : Number(body.MaxResults);
    const filters = Array.isArray(body.Filters)
      ? (body.Filters as { Key?: unknown; Values?: unknown }[])
      : [];
    const legacy = Array.isArray(body.InstanceInformationFilterList)
      ? (body.InstanceInformationFilterList as { key?: unknown; valueSet?: unknown }[])
      : [];
    call.ctx.trail.requestParameters = {
      ...(filters.length ? { filters } : {}),
      ...(legacy.length ? { instanceInformationFilterList: legacy } : {}),
      ...(body.MaxResults !== undefined ? { maxResults } : {}),
    };
    if (!Number.isInteger(maxResults) || maxResults < 5 || maxResults > 50)
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value '${String(body.MaxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value ${maxResults < 5 ? 'greater than or equal to 5' : 'less than or equal to 50'}`,
        400,
      );
    await this.policies.authorize(caller, 'ssm:DescribeInstanceInformation', '*', {
      context: { 'aws:RequestedRegion': region },
    });
    const all = [
      ...filters.map((f) => ({ key: str(f.Key) ?? '', values: asStrings(f.Values) })),
      ...legacy.map((f) => ({ key: str(f.key) ?? '', values: asStrings(f.valueSet) })),
    ];
    // As AWS documents: tag filters can't be combined with other filter types.
    const isTag = (key: string) => key.startsWith('tag:') || key === 'tag-key';
    if (all.some((f) => isTag(f.key)) && all.some((f) => !isTag(f.key)))
      throw new AwsError('InvalidFilter', "Tag filters can't be combined with other filter types.", 400);
    const tests = all.map(({ key, values }) => {
      if (values.length === 0)
        throw new AwsError('InvalidFilterValue', `Filter ${key} needs at least one value.`, 400);
      if (key.startsWith('tag:')) {
        const tag = key.slice(4);
        // The key is the caller's: an own tag only, never a built-in such as `constructor`.
        return (i: OrgInstance) => Object.hasOwn(i.tags, tag) && values.includes(i.tags[tag]!);
      }
      switch (key) {
        case 'tag-key':
          return (i: OrgInstance) => values.some((v) => Object.hasOwn(i.tags, v));
        case 'InstanceIds':
          return (i: OrgInstance) => values.includes(i.id);
        case 'PingStatus':
          return (i: OrgInstance) => values.includes(i.pingStatus);
        case 'PlatformTypes':
          return (i: OrgInstance) => values.includes(i.platform);
        case 'ResourceType':
          return () => values.includes('EC2Instance');
        case 'AgentVersion':
          return () => values.includes(AGENT_VERSION);
        default:
          throw new AwsError('InvalidInstanceInformationFilterValue', `Filter key ${key} is not valid.`, 400);
      }
    });
    const matching = this.instances(caller.accountId, region).filter((i) => tests.every((t) => t(i)));
    const scope = `instances/${caller.accountId}/${region}/${JSON.stringify(all)}`;
    const p = ssmPage(matching, body, maxResults, scope);
    return {
      InstanceInformationList: p.items.map((i) => ({
        InstanceId: i.id,
        PingStatus: i.pingStatus,
        LastPingDateTime: epoch(
          new Date(Math.floor(Date.now() / 60_000) * 60_000 - (i.pingStatus === 'Online' ? 0 : 86_400_000)),
        ),
        AgentVersion: AGENT_VERSION,
        IsLatestVersion: true,
        PlatformType: i.platform,
        PlatformName: i.platformName,
        PlatformVersion: i.platformVersion,
        ResourceType: 'EC2Instance',
        IPAddress: i.privateIpAddress ?? '10.0.0.10',
        ComputerName: `ip-${(i.privateIpAddress ?? '10.0.0.10').replace(/\./g, '-')}.${i.region}.compute.internal`,
        SourceId: i.id,
        SourceType: 'AWS::EC2::Instance',
      })),
      ...(p.nextToken ? { NextToken: p.nextToken } : {}),
    };
  }

  private async getDocument(
    call: SignedCall,
    body: Record<string, unknown>,
    region: string,
    caller: RoleSession,
  ) {
    const name = str(body.Name) ?? '';
    const format = str(body.DocumentFormat) ?? 'JSON';
    call.ctx.trail.requestParameters = { name, ...(body.DocumentFormat ? { documentFormat: format } : {}) };
    await this.policies.authorize(
      caller,
      'ssm:GetDocument',
      this.arn(region, caller.accountId, 'document', name),
      {
        context: { 'aws:RequestedRegion': region },
      },
    );
    if (format !== 'JSON' && format !== 'YAML')
      invalidParamsThrow('documentFormat', 'enum value set: [YAML, JSON, TEXT]');
    const doc = this.document(caller.accountId, name);
    const version = str(body.DocumentVersion);
    if (!doc || (version !== undefined && version !== '1' && version !== '$LATEST' && version !== '$DEFAULT'))
      throw new AwsError('InvalidDocument', `Document with name ${name} does not exist.`, 400);
    return {
      Name: doc.name,
      CreatedDate: epoch(DOCUMENT_EPOCH),
      DocumentVersion: '1',
      Status: 'Active',
      Content: format === 'JSON' ? JSON.stringify(doc.content, null, 2) : toYaml(doc.content),
      DocumentType: 'Session',
      DocumentFormat: format,
      Requires: [],
      AttachmentsContent: [],
    };
  }
}

const AGENT_VERSION = '3.3.1957.0';

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function invalidParamsThrow(member: string, constraint: string): never {
  throw invalidParams(
    `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have ${constraint}`,
  );
}
