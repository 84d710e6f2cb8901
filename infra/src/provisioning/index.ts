/**
 * Linux-user provisioning: the RoleShell command document that runs
 * provision-linux-users.sh with the configured mapping, for the State Manager
 * association on tagged instances.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InfraConfig } from '../config';

export const provisioningScriptPath = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'provision-linux-users.sh',
);

export const PROVISIONING_DOCUMENT = 'RoleShell-ProvisionLinuxUsers';

/** The script's input: one `<linux user>|<sudo>` line per distinct mapped user. */
export function provisioningSpec(config: InfraConfig): string {
  const users = new Map<string, Set<string> | 'ALL' | undefined>();
  for (const set of Object.values(config.permissionSets)) {
    const current = users.get(set.linuxUser);
    // Two permission sets may share a Linux user: it gets the union of their rules.
    if (current === 'ALL' || set.sudo === 'all') users.set(set.linuxUser, 'ALL');
    else if (set.sudo !== undefined) users.set(set.linuxUser, new Set([...(current ?? []), ...set.sudo]));
    else users.set(set.linuxUser, current);
  }
  return [...users]
    .map(
      ([user, sudo]) => `${user}|${sudo === undefined ? '-' : sudo === 'ALL' ? 'ALL' : [...sudo].join(',')}`,
    )
    .join('\n');
}

/** Single-quotes a value for bash. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const HEREDOC_END = 'ROLESHELL_PROVISIONING_SCRIPT';

/**
 * The document's command lines. The agent runs them with `sh` (dash on Debian
 * and Ubuntu), so the bash script travels in a quoted heredoc, unexpanded.
 */
export function provisioningCommands(
  config: InfraConfig,
  script = readFileSync(provisioningScriptPath, 'utf8'),
) {
  const lines = script.replace(/\n$/, '').split('\n');
  if (lines.includes(HEREDOC_END))
    throw new Error(`the provisioning script may not contain a line ${HEREDOC_END}`);
  return [
    `export ROLESHELL_USERS=${shellQuote(provisioningSpec(config))}`,
    `exec bash -s <<'${HEREDOC_END}'`,
    ...lines,
    HEREDOC_END,
  ];
}

/** Content of the aws:runShellScript command document (schema 2.2). */
export function provisioningDocumentContent(config: InfraConfig) {
  return {
    schemaVersion: '2.2',
    description: 'RoleShell: create the Linux users permission sets map to, with their sudo rules',
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: 'provisionLinuxUsers',
        precondition: { StringEquals: ['platformType', 'Linux'] },
        inputs: {
          timeoutSeconds: '300',
          runCommand: provisioningCommands(config),
        },
      },
    ],
  };
}
