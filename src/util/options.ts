import { inspect } from 'node:util';
import type { z } from 'zod';
import { InvalidOptionError } from '../errors.js';

/**
 * Runs `schema` over `options` and turns the first problem into an {@link InvalidOptionError}
 * whose message names the option, says what it must be and shows what it got.
 */
export function checkOptions(
  schema: z.ZodType,
  options: unknown,
  sentences: Record<string, string>,
  where: string,
): void {
  const result = schema.safeParse(options);
  if (result.success) return;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys((schema as z.ZodObject).shape ?? {}).join('`, `');
    throw new InvalidOptionError(
      String(issue.keys[0]),
      `\`${issue.keys[0]}\` is not an option of ${where}; known options are \`${known}\``,
    );
  }
  if (issue.path.length === 0) {
    throw new InvalidOptionError(
      '',
      `${where} options must be an object, got ${describe(options)}`,
    );
  }
  const option = issue.path.join('.');
  const value = issue.path.reduce<unknown>(
    (parent, segment) => (parent as Record<PropertyKey, unknown>)?.[segment],
    options,
  );
  const rule = sentences[option] ?? sentences[String(issue.path[0])];
  const sentence =
    rule === undefined && issue.code === 'custom'
      ? issue.message
      : `${rule ?? issue.message}, got ${describe(value)}`;
  throw new InvalidOptionError(option, `\`${option}\` ${sentence}`);
}

/** A short, safe rendering of a value for error messages. */
export function describe(value: unknown): string {
  return inspect(value, { depth: 0, breakLength: Number.POSITIVE_INFINITY, maxStringLength: 60 });
}
