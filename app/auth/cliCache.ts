/**
 * Reads the AWS CLI's SSO token cache (`~/.aws/sso/cache/*.json`) so a user who
 * just ran `aws sso login` for the same start URL can skip a second sign-in.
 * Read-only: RoleShell never writes the CLI's cache.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClientRegistration, TokenSet } from './types';

export interface CliCacheEntry {
  file: string;
  startUrl: string;
  region: string;
  tokens: TokenSet;
  /** Present when the CLI stored its client registration (needed to refresh). */
  registration?: ClientRegistration;
}

/** `https://x.awsapps.com/start/` and `…/start#/` name the same portal. */
export function normalizeStartUrl(url: string): string {
  return url.trim().replace(/#.*$/, '').replace(/\/+$/, '').toLowerCase();
}

/** The CLI writes `2026-01-01T00:00:00Z`; old versions wrote `2026-01-01T00:00:00UTC`. */
function parseCliTime(value: unknown): number | undefined {
  if (typeof value === 'number') return value > 1e12 ? value : value * 1000;
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value.replace(/UTC$/, 'Z'));
  return Number.isNaN(ms) ? undefined : ms;
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The best usable entry for `startUrl`: an access token with at least
 * `minValidityMs` left, or a refresh token with a still-valid registration.
 * Unreadable or foreign files are skipped silently (the cache holds other
 * tools' files too).
 */
export async function findCliCacheEntry(options: {
  home: string;
  startUrl: string;
  now: number;
  minValidityMs?: number;
}): Promise<CliCacheEntry | undefined> {
  const dir = path.join(options.home, '.aws', 'sso', 'cache');
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  } catch {
    return undefined;
  }
  const wanted = normalizeStartUrl(options.startUrl);
  const minValidity = options.minValidityMs ?? 5 * 60_000;
  let best: CliCacheEntry | undefined;
  for (const file of files) {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    const startUrl = asString(data.startUrl);
    const region = asString(data.region);
    const accessToken = asString(data.accessToken);
    const expiresAt = parseCliTime(data.expiresAt);
    if (!startUrl || !region || !accessToken || !expiresAt || normalizeStartUrl(startUrl) !== wanted)
      continue;
    const clientId = asString(data.clientId);
    const clientSecret = asString(data.clientSecret);
    const registrationExpiresAt = parseCliTime(data.registrationExpiresAt);
    const registration =
      clientId && clientSecret && registrationExpiresAt && registrationExpiresAt > options.now
        ? { region, clientId, clientSecret, expiresAt: registrationExpiresAt }
        : undefined;
    const refreshToken = asString(data.refreshToken);
    const accessUsable = expiresAt - options.now >= minValidity;
    const refreshUsable = !!refreshToken && !!registration;
    if (!accessUsable && !refreshUsable) continue;
    const entry: CliCacheEntry = {
      file: path.join(dir, file),
      startUrl,
      region,
      // The CLI does not record when the token was issued; assume the usual hour.
      tokens: {
        accessToken,
        ...(refreshToken ? { refreshToken } : {}),
        issuedAt: expiresAt - 3600_000,
        expiresAt,
      },
      ...(registration ? { registration } : {}),
    };
    if (!best || entry.tokens.expiresAt > best.tokens.expiresAt) best = entry;
  }
  return best;
}
