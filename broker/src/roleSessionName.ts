/**
 * The name the broker gives the member-account role session: both
 * RoleSessionName and SourceIdentity, so CloudTrail and SSM session IDs carry
 * the IdC user (architecture.md, "Attribution").
 */
import { createHash } from 'node:crypto';

const ALLOWED = /[\w+=,.@-]/;
const MIN = 2;
const MAX = 64;
const HASH_CHARS = 8;

/**
 * Maps an IdC user name to 2-64 chars of [\w+=,.@-]. Names already in that form
 * pass unchanged; anything altered (replaced chars, padded, truncated) gets a
 * short hash of the original so two different users never share a name.
 */
export function roleSessionNameFor(user: string): string {
  const replaced = [...user].map((ch) => (ALLOWED.test(ch) ? ch : '-')).join('');
  if (replaced === user && user.length >= MIN && user.length <= MAX) return user;
  const hash = createHash('sha256').update(user, 'utf8').digest('hex').slice(0, HASH_CHARS);
  const head = replaced.slice(0, MAX - HASH_CHARS - 1);
  // SourceIdentity may not start with "aws:"; ':' is never allowed here, so the prefix cannot occur.
  return `${head}-${hash}`;
}
