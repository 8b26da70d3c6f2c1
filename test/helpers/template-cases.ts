/**
 * Templates and what the grammar says of them in each mode: `'ok'`, or a phrase that both the
 * runtime error (`parseTemplate`) and the type-level error (`TemplateError`) contain. The unit test
 * runs the parser on this list and the type test runs the compiler on it, so the two grammars are
 * checked against one table.
 */
export const templateCases = [
  // Valid everywhere.
  { template: 'posts:{{slug}}', key: 'ok', pattern: 'ok' },
  { template: 'a:{{x}}:{{y}}', key: 'ok', pattern: 'ok' },
  { template: '{{a}}/{{b}}', key: 'ok', pattern: 'ok' },
  { template: 'posts:all', key: 'ok', pattern: 'ok' },
  { template: '{{a}}', key: 'ok', pattern: 'ok' },
  { template: '{{a}}:{{a}}', key: 'ok', pattern: 'ok' },
  { template: 'v2-{{a}}.json', key: 'ok', pattern: 'ok' },
  { template: 'x:{{_a1}}:{{B_2}}', key: 'ok', pattern: 'ok' },
  { template: '{{a}}:-{{b}}', key: 'ok', pattern: 'ok' },
  { template: '{{a}}é{{b}}', key: 'ok', pattern: 'ok' },
  { template: 'posts:{{slug}}:comments:{{page}}', key: 'ok', pattern: 'ok' },
  // Wildcards: patterns only.
  { template: 'posts:*', key: 'wildcard', pattern: 'ok' },
  { template: 'posts:{{slug}}:*', key: 'wildcard', pattern: 'ok' },
  { template: 'p:?', key: 'wildcard', pattern: 'ok' },
  { template: 'p:[a-z]', key: 'wildcard', pattern: 'ok' },
  { template: 'p:[^a]:{{x}}', key: 'wildcard', pattern: 'ok' },
  { template: 'p:\\*', key: 'wildcard', pattern: 'ok' },
  { template: 'p:a\\b', key: 'wildcard', pattern: 'ok' },
  { template: '{{a}}*{{b}}', key: 'wildcard', pattern: 'ok' },
  // Malformed everywhere.
  { template: '', key: 'cannot be empty', pattern: 'cannot be empty' },
  { template: 'posts:{{slug', key: 'never closed', pattern: 'never closed' },
  { template: 'posts:{{slug}', key: 'never closed', pattern: 'never closed' },
  { template: 'posts:{{}}', key: 'needs a name', pattern: 'needs a name' },
  {
    template: '{{1a}}',
    key: 'not a valid placeholder name',
    pattern: 'not a valid placeholder name',
  },
  {
    template: '{{a-b}}',
    key: 'not a valid placeholder name',
    pattern: 'not a valid placeholder name',
  },
  {
    template: '{{a.b}}',
    key: 'not a valid placeholder name',
    pattern: 'not a valid placeholder name',
  },
  {
    template: '{{ a }}',
    key: 'not a valid placeholder name',
    pattern: 'not a valid placeholder name',
  },
  {
    template: '{{{a}}',
    key: 'not a valid placeholder name',
    pattern: 'not a valid placeholder name',
  },
  {
    template: '{{a{{b}}',
    key: 'not a valid placeholder name',
    pattern: 'not a valid placeholder name',
  },
  {
    template: '{{*}}',
    key: 'not a valid placeholder name',
    pattern: 'not a valid placeholder name',
  },
  { template: 'posts:{slug}', key: 'lone', pattern: 'lone' },
  { template: 'posts:slug}}', key: 'lone', pattern: 'lone' },
  { template: 'posts:{{slug}}}', key: 'lone', pattern: 'lone' },
  { template: 'posts:{{slug}}{', key: 'lone', pattern: 'lone' },
  { template: 'posts: {{slug}}', key: 'whitespace', pattern: 'whitespace' },
  { template: 'posts:\t{{slug}}', key: 'whitespace', pattern: 'whitespace' },
  { template: 'posts:\n', key: 'whitespace', pattern: 'whitespace' },
  { template: 'posts:\u00a0x', key: 'whitespace', pattern: 'whitespace' },
  { template: 'posts:\u2028', key: 'whitespace', pattern: 'whitespace' },
  { template: 'posts:\u0000', key: 'whitespace', pattern: 'whitespace' },
  { template: 'posts:\u007f:*', key: 'whitespace', pattern: 'whitespace' },
  { template: '{{a}}{{b}}', key: 'need a separator', pattern: 'need a separator' },
  { template: 'x:{{a}}{{b}}', key: 'need a separator', pattern: 'need a separator' },
  { template: '{{a}}-{{b}}', key: 'need a separator', pattern: 'need a separator' },
  { template: '{{a}}.{{b}}', key: 'need a separator', pattern: 'need a separator' },
  { template: '{{a}}%{{b}}', key: 'need a separator', pattern: 'need a separator' },
  { template: '{{a}}~{{b}}', key: 'need a separator', pattern: 'need a separator' },
  { template: '{{a}}_{{b}}', key: 'need a separator', pattern: 'need a separator' },
  { template: 'x:{{a}}.v2.{{b}}', key: 'need a separator', pattern: 'need a separator' },
  { template: '{{a}}:{{b}}{{c}}', key: 'need a separator', pattern: 'need a separator' },
] as const;

/** One row of {@link templateCases}. */
export type TemplateCase = (typeof templateCases)[number];
