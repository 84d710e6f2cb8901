/**
 * The broker's audit trail: one JSON line per decision. The sink is injectable;
 * the default writes to stdout, which Lambda ships to CloudWatch Logs.
 */
import type { BrokerErrorCode } from './errors';

export type AuditOutcome = 'allowed' | 'started' | 'denied' | 'failed' | 'listed' | 'terminated' | 'resumed';

export interface AuditRecord {
  audit: 'roleshell-broker';
  time: string;
  requestId: string;
  action: string;
  outcome: AuditOutcome;
  /** Error code for denied/failed. */
  code?: BrokerErrorCode;
  /** Why, in words, for the administrator. */
  reason?: string;
  user?: string;
  userId?: string;
  account?: string;
  permissionSet?: string;
  region?: string;
  instanceId?: string;
  targetAccount?: string;
  documentName?: string;
  linuxUser?: string;
  sessionId?: string;
  /** Number of targets returned (listTargets). */
  targetCount?: number;
}

export interface AuditSink {
  /** Resolves once the record is durably handed off; rejects if it could not be written. */
  write(record: AuditRecord): Promise<void>;
}

type WritableLike = { write(chunk: string, callback: (error?: Error | null) => void): boolean };

/** Writes each record as one JSON line; resolves when the stream accepted it. */
export function streamAuditSink(stream: WritableLike = process.stdout): AuditSink {
  return {
    write: (record) =>
      new Promise((resolve, reject) => {
        stream.write(`${JSON.stringify(record)}\n`, (error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Collects records in memory (tests, benchmarks). */
export function memoryAuditSink(): AuditSink & { records: AuditRecord[] } {
  const records: AuditRecord[] = [];
  return {
    records,
    write: async (record) => {
      records.push(structuredClone(record));
    },
  };
}
