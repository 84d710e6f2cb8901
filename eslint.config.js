import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'test-results/**',
      'playwright-report/**',
      'coverage/**',
      'infra/cdk.out/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // electron-builder hooks are CommonJS.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The local sandbox runs as its own process from its own bundle (app/auth/localSandbox.ts):
    // the app core and main may share its types, never load its code.
    files: ['app/**/*.ts', 'main/**/*.ts'],
    ignores: ['**/*.test.ts', 'app/testing/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)sandbox/(?!src/child/protocol$)',
              message: 'app/ and main/ never load the sandbox; start it with app/auth/localSandbox.ts.',
            },
            {
              regex: '(^|/)sandbox/src/child/protocol$',
              allowTypeImports: true,
              message: 'Only the sandbox process protocol types may be imported.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      // The renderer has no Node: it reaches the app only through window.roleshell. From any depth of
      // renderer/, app/ is reachable only through app/api, for types (`import type`); the one runtime
      // imports are app/api/errors (ApiError, plain TypeScript the bridge rebuilds errors with) and
      // app/api/flowControl (the watermark numbers the renderer acknowledges by, shared with the session host).
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'electron', '@aws-sdk/*', 'node-pty', 'ws'],
              message: 'The renderer has no Node access; use window.roleshell.',
            },
            {
              regex: '^(\\.\\./)+app(/(?!api(/|$)).*)?$',
              message: 'The renderer may import only app/api types.',
            },
            {
              regex: '^(\\.\\./)+app/api(/(?!(errors|flowControl)$).*)?$',
              allowTypeImports: true,
              message: 'The renderer may import only types from app/api (use `import type`).',
            },
          ],
        },
      ],
    },
  },
);
