/**
 * The lint rule that keeps app/ runtime code (and with it Node, the AWS SDK
 * and the tokens) out of the renderer bundle, run through the project's own
 * eslint.config.js on sources placed at several depths of renderer/.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => m.message);
}

const depths = [
  ['renderer/src/Fixture.tsx', '../../'],
  ['renderer/src/Browse/Fixture.tsx', '../../../'],
  ['renderer/src/Browse/parts/deep/Fixture.tsx', '../../../../../'],
] as const;

describe('renderer → app boundary', () => {
  it.each(depths)('refuses app runtime code from %s', async (file, up) => {
    const runtime = `import { identityCenterFor } from '${up}app/auth/identityCenter';\nexport const x = identityCenterFor;\n`;
    expect(await boundaryErrors(file, runtime)).toEqual([expect.stringMatching(/only app\/api types/)]);
    // Even a type from outside app/api: the renderer's view of the core is the API module.
    const foreignType = `import type { TokenSet } from '${up}app/auth/types';\nexport type T = TokenSet;\n`;
    expect(await boundaryErrors(file, foreignType)).toEqual([expect.stringMatching(/only app\/api types/)]);
    const apiRuntime = `import { settingsCalls } from '${up}app/api/calls/settings';\nexport const c = settingsCalls;\n`;
    expect(await boundaryErrors(file, apiRuntime)).toEqual([expect.stringMatching(/use `import type`/)]);
  });

  it.each(depths)('allows app/api types and ApiError from %s', async (file, up) => {
    const allowed = [
      `import type { AuthView } from '${up}app/api/calls/auth';`,
      `import { ApiError } from '${up}app/api/errors';`,
      `export type V = AuthView;`,
      `export const E = ApiError;`,
      '',
    ].join('\n');
    expect(await boundaryErrors(file, allowed)).toEqual([]);
  });

  it('refuses Node modules at any depth', async () => {
    const code = `import { readFile } from 'node:fs/promises';\nexport const r = readFile;\n`;
    expect(await boundaryErrors('renderer/src/A/B/Fixture.tsx', code)).toEqual([
      expect.stringMatching(/no Node access/),
    ]);
  });
});
