/**
 * The content of a permission set's Session Manager document
 * (`RoleShell-<PermissionSet>`): a Standard_Stream shell whose
 * runAsDefaultUser is the mapped Linux user. The broker reads the Linux user
 * back from this document, so this is the one place the mapping is written.
 */
import { documentNameFor, type InfraConfig, type LoggingConfig } from './config';

export interface SessionDocumentContent {
  schemaVersion: '1.0';
  description: string;
  sessionType: 'Standard_Stream';
  inputs: {
    runAsEnabled: true;
    runAsDefaultUser: string;
    idleSessionTimeout: string;
    maxSessionDuration: string;
    shellProfile: { linux: string; windows: string };
    s3BucketName?: string;
    s3KeyPrefix?: string;
    s3EncryptionEnabled: boolean;
    cloudWatchLogGroupName?: string;
    cloudWatchEncryptionEnabled: boolean;
    cloudWatchStreamingEnabled?: boolean;
    kmsKeyId?: string;
  };
}

export interface SessionDocument {
  permissionSet: string;
  name: string;
  linuxUser: string;
  content: SessionDocumentContent;
}

function mergeLogging(defaults: LoggingConfig, own: LoggingConfig | undefined): LoggingConfig {
  return {
    cloudWatch: own?.cloudWatch ?? defaults.cloudWatch,
    s3: own?.s3 ?? defaults.s3,
  };
}

export function sessionDocumentFor(config: InfraConfig, permissionSet: string): SessionDocument {
  const set = config.permissionSets[permissionSet];
  if (set === undefined) throw new Error(`permission set ${permissionSet} is not in the configuration`);
  const defaults = config.sessionDefaults;
  const logging = mergeLogging(defaults.logging, set.logging);
  const kmsKeyId = set.kmsKeyId ?? defaults.kmsKeyId;
  const cloudWatch = logging.cloudWatch;
  const s3 = logging.s3;
  return {
    permissionSet,
    name: documentNameFor(config, permissionSet),
    linuxUser: set.linuxUser,
    content: {
      schemaVersion: '1.0',
      description: `RoleShell session as ${set.linuxUser} (${permissionSet})`,
      sessionType: 'Standard_Stream',
      inputs: {
        runAsEnabled: true,
        runAsDefaultUser: set.linuxUser,
        idleSessionTimeout: String(set.idleSessionTimeoutMinutes ?? defaults.idleSessionTimeoutMinutes),
        maxSessionDuration: String(set.maxSessionDurationMinutes ?? defaults.maxSessionDurationMinutes),
        shellProfile: { linux: set.shellProfile ?? defaults.shellProfile, windows: '' },
        ...(s3?.bucketName !== undefined ? { s3BucketName: s3.bucketName } : {}),
        ...(s3?.keyPrefix !== undefined ? { s3KeyPrefix: s3.keyPrefix } : {}),
        s3EncryptionEnabled: s3?.encryptionRequired ?? true,
        ...(cloudWatch?.logGroupName !== undefined
          ? { cloudWatchLogGroupName: cloudWatch.logGroupName }
          : {}),
        cloudWatchEncryptionEnabled: cloudWatch?.encryptionRequired ?? true,
        ...(cloudWatch?.logGroupName !== undefined
          ? { cloudWatchStreamingEnabled: cloudWatch.streaming }
          : {}),
        ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
      },
    },
  };
}

/** Every mapped permission set's document, in configuration order. */
export function sessionDocuments(config: InfraConfig): SessionDocument[] {
  return Object.keys(config.permissionSets).map((name) => sessionDocumentFor(config, name));
}
