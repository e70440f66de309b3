// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const SQL_KEYWORDS = /\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|WHERE|SET|VALUES|ALTER|DROP|CREATE)\b/;

/** SQL must go through slonik's `sql` tag (bound parameters); building it from strings is refused. */
const noSqlStringBuilding = [
  {
    selector: `BinaryExpression[operator='+'] > Literal[value=${SQL_KEYWORDS}]`,
    message: 'SQL built by string concatenation: use the slonik `sql` tag with bound values.',
  },
  {
    selector: `:not(TaggedTemplateExpression) > TemplateLiteral[expressions.length>0] > TemplateElement[value.raw=${SQL_KEYWORDS}]`,
    message: 'SQL built by string interpolation: use the slonik `sql` tag with bound values.',
  },
  {
    selector: "CallExpression[callee.object.name='String'][callee.property.name='raw']",
    message: 'String.raw is not a SQL builder: use the slonik `sql` tag.',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.stack/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-restricted-syntax': ['error', ...noSqlStringBuilding],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', {
        object: 'process',
        property: 'env',
        message: 'Read configuration through core/config.ts (parsed once with zod) and pass it down.',
      }],
    },
  },
  {
    // core/config.ts reads the environment; the Jest global setup and the benchmark hand their own DSNs
    // to their child processes through it (and each test file its own rate-limit scope); test/support/processes.ts and
    // stack/start.ts add a child's own variables (a bot pod's tenant) to it.
    files: ['core/config.ts', 'test/global-setup.ts', 'test/support/per-file-env.ts', 'bench/run.ts', 'test/support/processes.ts', 'stack/start.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Layering (docs/architecture.md): core/ is shared by every process and imports none of them.
    files: ['core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{
          group: ['**/activities/**', '**/workflows/**', '**/api/**', '**/bot-pods/**', '**/stack/**', '**/worker/**', '**/operator/**', '**/test/**', '**/bench/**'],
          message: 'core/ imports nothing of the project outside core/.',
        }],
      }],
    },
  },
  {
    // The api, the bot pods and the local stack start workflows by name: workflow and activity code only as types.
    files: ['api/**/*.ts', 'bot-pods/**/*.ts', 'stack/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{
          group: ['**/activities/**', '**/workflows/**'],
          allowTypeImports: true,
          message: 'Only the worker runs workflow and activity code: import their types only (import type).',
        }],
      }],
    },
  },
  {
    // The operator serves the tenant reconcile's Kubernetes activities (only it holds Kubernetes
    // credentials): those it may run; any other activity or workflow code only as types.
    files: ['operator/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{
          regex: '(^|/)(workflows/|activities/(?!bot-tenant/))',
          allowTypeImports: true,
          message: 'The operator runs only the activities of activities/bot-tenant/: import other workflow and activity code as types only.',
        }],
      }],
    },
  },
  {
    // A promise nobody awaits loses its failure (and, in a workflow, its ordering): type-aware rules
    // where work runs on its own, in workflows, activities, the worker and the bot pod. Scoped to
    // these folders, so the type information is built only for them and lint time stays low.
    files: ['workflows/**/*.ts', 'activities/**/*.ts', 'worker/**/*.ts', 'bot-pods/**/*.ts', 'operator/**/*.ts'],
    languageOptions: {
      parserOptions: {
        // `<folder>/example.ts`: the snippets test/lint-rules.test.ts lints, which exist on no disk.
        projectService: { allowDefaultProject: ['*/example.ts'], defaultProject: 'tsconfig.json' },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Workflow code is replayed: only @temporalio/workflow, core contracts and activity *types* may be imported.
    files: ['workflows/**/*.ts', 'bench/floor/workflows.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: builtinModules.map((name) => ({ name, message: 'Node built-ins are not deterministic: not in workflow code.' })),
        patterns: [
          { group: ['node:*'], message: 'Node built-ins are not deterministic: not in workflow code.' },
          {
            regex: '^(?!@temporalio/workflow$|@temporalio/common$|\\.{1,2}/)',
            message: 'Workflow code imports only @temporalio/workflow, core/ contracts and activity types.',
          },
          {
            group: ['**/activities/**', '**/api/**', '**/bot-pods/**', '**/stack/**', '**/core/db/**', '**/core/config*', '**/core/object-store*'],
            allowTypeImports: true,
            message: 'Workflow code may import only the types of activities, never their code.',
          },
        ],
      }],
    },
  },
);
