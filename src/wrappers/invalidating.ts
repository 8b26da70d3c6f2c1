import { z } from 'zod';
import { type CacheCore, EMPTY_CONTEXT } from '../cache/core.js';
import { optionRules } from '../cache/options.js';
import { InvalidationError, InvalidOptionError } from '../errors.js';
import type { Store } from '../stores/store.js';
import {
  type CompiledTemplate,
  type ContextFor,
  compilePattern,
  type TemplateContext,
  type ValidPattern,
} from '../template/index.js';
import { attempt, chain, isAsyncFunction, isThenable } from '../util/maybe-promise.js';
import { checkOptions } from '../util/options.js';
import { looksLike, type WrappedFunction } from './shared.js';

/** Where the placeholder values of the patterns come from: the arguments, or the result too. */
export type InvalidatingContextOption<A extends unknown[], R, P extends string> =
  | {
      /** Returns the patterns' placeholder values from the mutation's arguments. */
      context: (...args: A) => TemplateContext<P>;
      contextFromResult?: never;
    }
  | {
      /**
       * Returns the patterns' placeholder values from the mutation's result (awaited) and
       * arguments; for values only known afterwards, such as a created post's slug.
       */
      contextFromResult: (result: Awaited<R>, ...args: A) => TemplateContext<P>;
      context?: never;
    }
  | ContextFor<
      P,
      {
        required: never;
        none: { context?: never; contextFromResult?: never };
        runtime: { context?: never; contextFromResult?: never };
      },
      'pattern'
    >;

/** Options of `invalidating`: which patterns to delete once the mutation succeeds. */
export type InvalidatingOptions<A extends unknown[], R, P extends string> = {
  /**
   * Patterns to delete, as templates: `posts:{{slug}}:*`. Their own `*`, `?`, `[...]` are
   * wildcards; rendered values are literal. A pattern ending in `:*` also deletes the key
   * without that suffix (`posts:a:*` deletes `posts:a` too). A malformed pattern is a compile
   * error naming the problem.
   */
  patterns: readonly ValidPattern<P>[];
  /**
   * Log the context, patterns and INVALIDATE counts through the cache's logger.
   * @default the cache's `debug`
   */
  debug?: boolean | undefined;
  /**
   * Name shown in debug lines.
   * @default the function's name
   */
  name?: string | undefined;
  /**
   * When the mutation succeeded but the deletes failed: `'report'` returns the result and
   * reports; `'throw'` rejects with `InvalidationError` carrying the result.
   * @default the cache's `invalidationErrors` ('report')
   */
  invalidationErrors?: 'report' | 'throw' | undefined;
} & InvalidatingContextOption<A, R, P>;

const invalidatingOptionsSchema = z.strictObject({
  patterns: z.array(z.string()).min(1),
  context: optionRules.func[0],
  contextFromResult: optionRules.func[0],
  debug: optionRules.debug[0],
  name: optionRules.name[0],
  invalidationErrors: z.enum(['report', 'throw']).optional(),
});

const invalidatingSentences: Record<string, string> = {
  patterns: "must be a non-empty array of pattern strings such as ['posts:{{slug}}:*']",
  context: optionRules.func[1],
  contextFromResult: optionRules.func[1],
  debug: optionRules.debug[1],
  name: optionRules.name[1],
  invalidationErrors: "must be 'report' or 'throw'",
};

/** Patterns rendered for one call, with the context they came from. */
interface Rendered {
  readonly context: object;
  readonly patterns: string[];
}

/** Builds an `invalidating` wrapper on `cache`; see `Cache.invalidating`. */
export function wrapInvalidating<S extends Store, A extends unknown[], R, P extends string>(
  cache: CacheCore<S>,
  fn: (...args: A) => R,
  options: InvalidatingOptions<A, R, P>,
): WrappedFunction<A, R, S> {
  if (typeof fn !== 'function') {
    throw new InvalidOptionError(
      'fn',
      'invalidating() needs a function to wrap as its first argument',
    );
  }
  checkOptions(invalidatingOptionsSchema, options, invalidatingSentences, 'invalidating');
  const patterns: CompiledTemplate[] = options.patterns.map((pattern) =>
    compilePattern<string>(pattern),
  );
  const fromArgs = options.context as ((...args: A) => object) | undefined;
  const fromResult = options.contextFromResult as
    | ((result: unknown, ...args: A) => object)
    | undefined;
  checkContextOptions(patterns, fromArgs, fromResult);
  const name = options.name ?? (fn.name || 'anonymous');
  const debug = options.debug ?? cache.debug;
  if (debug) cache.listenForDebug();
  const source = { name, template: options.patterns.join(', '), debug };
  const onError = options.invalidationErrors ?? cache.invalidationErrors;
  const async = !cache.isSync || isAsyncFunction(fn);

  const render = (context: object): Rendered => ({
    context,
    patterns: patterns.map((pattern) => cache.fullKey(pattern(context as TemplateContext<string>))),
  });
  /**
   * After a successful mutation: renders the patterns if they depend on the result, deletes, and
   * answers with the mutation's value. A failure here (the store, or rendering from the result)
   * never silently replaces that value: the mutation has happened, so it is reported (or, with
   * `invalidationErrors: 'throw'`, raised as an InvalidationError that carries the result).
   */
  const invalidate = (early: Rendered | undefined, value: unknown, args: A): unknown => {
    let rendered = early;
    return chain(
      attempt(
        () => {
          rendered ??= render((fromResult as NonNullable<typeof fromResult>)(value, ...args));
          if (cache.hasListeners('mutation')) {
            cache.emit('mutation', {
              source,
              patterns: rendered.patterns,
              context: rendered.context,
            });
          }
          return chain(cache.invalidate(rendered.patterns, source), () => true);
        },
        (error) => {
          const patternsText = rendered?.patterns.join(', ') ?? 'its patterns';
          if (onError === 'throw')
            throw new InvalidationError(rendered?.patterns ?? [], value, error);
          cache.logger.error(
            `[Cache] ERROR: ${name} succeeded but invalidating ${patternsText} failed; those entries may be stale until their TTL ends`,
            error,
          );
          if (cache.hasListeners('error')) {
            cache.emit('error', { source, operation: 'invalidate', key: patternsText, error });
          }
          return false;
        },
      ),
      () => value,
    );
  };

  const wrapper = function (this: unknown, ...args: A): unknown {
    let early: Rendered | undefined;
    let result: unknown;
    try {
      if (fromResult === undefined) {
        // Rendered before the mutation runs, so a bad context cannot leave a mutation done but
        // its invalidation undone.
        early = render(fromArgs === undefined ? EMPTY_CONTEXT : fromArgs(...args));
      }
      result = Reflect.apply(fn, this, args);
    } catch (error) {
      if (async) return Promise.reject(error);
      throw error;
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then((value) => invalidate(early, value, args));
    }
    if (!async) return invalidate(early, result, args);
    try {
      return Promise.resolve(invalidate(early, result, args));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return looksLike(wrapper, fn, options.name) as WrappedFunction<A, R, S>;
}

function checkContextOptions(
  patterns: readonly CompiledTemplate[],
  fromArgs: unknown,
  fromResult: unknown,
): void {
  if (fromArgs !== undefined && fromResult !== undefined) {
    throw new InvalidOptionError(
      'contextFromResult',
      '`context` and `contextFromResult` cannot both be given; use `contextFromResult`, which also receives the arguments',
    );
  }
  const names = [...new Set(patterns.flatMap((pattern) => pattern.placeholders))];
  if (names.length > 0 && fromArgs === undefined && fromResult === undefined) {
    throw new InvalidOptionError(
      'context',
      `\`context\` (or \`contextFromResult\`) is required: the patterns have placeholders (${names.map((n) => `{{${n}}}`).join(', ')})`,
    );
  }
}
