import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'coverage/**'] },
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
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      // The renderer has no Node: it reaches the app only through window.roleshell. From any depth of
      // renderer/, app/ is reachable only through app/api, for types (`import type`); the one runtime
      // import is app/api/errors (ApiError, plain TypeScript the bridge rebuilds errors with).
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
              regex: '^(\\.\\./)+app/api(/(?!errors$).*)?$',
              allowTypeImports: true,
              message: 'The renderer may import only types from app/api (use `import type`).',
            },
          ],
        },
      ],
    },
  },
);
