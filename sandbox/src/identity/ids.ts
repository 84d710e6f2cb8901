/** Identifiers shaped like AWS's: access keys, role IDs, permission-set role suffixes, session IDs. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i++) out += BASE32[(bytes[i % bytes.length] ?? 0) % 32];
  return out;
}

/** Temporary credentials' key IDs start with ASIA (long-term ones with AKIA). */
export const newTemporaryAccessKeyId = () => `ASIA${base32(randomBytes(16), 16)}`;

export const newSecretAccessKey = () => randomBytes(30).toString('base64');

/** Session tokens are long opaque base64 blobs; real ones start with IQoJb3JpZ2luX2Vj. */
export const newSessionToken = () => `IQoJb3JpZ2luX2Vj${randomBytes(360).toString('base64')}`;

/** Stable unique ID of a role (AROA…), derived from its account and name. */
export function roleIdFor(accountId: string, roleName: string): string {
  return `AROA${base32(createHash('sha256').update(`${accountId}/role/${roleName}`).digest(), 17)}`;
}

/** The 16-hex suffix of AWSReservedSSO_<PermissionSet>_<suffix>, stable per account and permission set. */
export function permissionSetRoleSuffix(
  identityStoreId: string,
  accountId: string,
  permissionSet: string,
): string {
  return createHash('sha256')
    .update(`${identityStoreId}/${accountId}/${permissionSet}`)
    .digest('hex')
    .slice(0, 16);
}

export const newRequestId = () => randomUUID();

export const newOpaqueToken = (bytes = 32) => randomBytes(bytes).toString('base64url');

export const randomHex = (length: number) =>
  randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
