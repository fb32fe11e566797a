// Lint exists for the rules the type checker cannot enforce: a promise nobody awaits or catches
// (no-floating-promises) and a promise handed to a callback that ignores it (no-misused-promises).
// Both need type information, hence typescript-eslint with the project service (tsconfig.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'grafana/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // `void promise` is a floating promise too: it must be handled, or carry a disable comment
      // saying why it cannot reject.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
      // Codec's Malformed is thrown without a stack on purpose: the decoder's hot path turns it
      // into a generic_nack, and capturing a stack per bad PDU would cost more than the decode.
      '@typescript-eslint/only-throw-error': [
        'error',
        { allow: [{ from: 'file', name: 'Malformed', path: 'src/smpp/pdu-decoder.ts' }] },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      // Off: SMPP text, terminal escaping and stored-text rules match control characters on purpose.
      'no-control-regex': 'off',
      // Off: an interface's async method implemented without awaiting (fakes, synchronous stores) is
      // correct; the rule would force `return Promise.resolve(...)` noise.
      '@typescript-eslint/require-await': 'off',
      // Off: stylistic; a redundant `as` costs nothing at run time and removing them touches files
      // across the tree for no behaviour change.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Off: every finding was a deliberate String() of an unknown value (parsed JSON, a Redis reply,
      // a PDU field) for a message; the rule cannot tell those from an object printed by mistake.
      '@typescript-eslint/no-base-to-string': 'off',
      // Off: interfaces here declare callbacks in method syntax (`write(x): Promise<void>`) and
      // pass them around unbound by design; none of them uses `this`.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Tests read JSON bodies (`await res.json()`, JSON.parse) as `any` and assert on them; typing
    // every response shape would only restate the assertions.
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The launcher and the inbox's browser scripts are plain JavaScript outside tsconfig.json (the
    // inbox is type-checked by its own // @ts-check against the DOM): linted without type information.
    files: ['bin/parley', 'src/api/inbox/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['bin/parley'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['src/api/inbox/*.js'],
    languageOptions: {
      globals: { window: 'readonly', document: 'readonly', fetch: 'readonly', console: 'readonly', URL: 'readonly', EventSource: 'readonly', HTMLElement: 'readonly',
        sessionStorage: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', AbortController: 'readonly', TextDecoderStream: 'readonly' },
    },
  },
);
