import { z } from 'zod';
import { type CacheRuntime, EMPTY_CONTEXT } from '../core/runtime.js';
import { InvalidationError, InvalidOptionError } from '../errors.js';
import type { Store } from '../stores/store.js';
import {
  type ContextFor,
  type NoAmbient,
  type Renderer,
  renderer,
  renderFrom,
  type TemplateContext,
  type ValidPattern,
  type ValidTemplate,
  widenPattern,
} from '../template/index.js';
import { attempt, chain, isAsyncFunction, isThenable, within } from '../util/maybe-promise.js';
import { checkOptions, type OptionSpecs, optionalFunction, sharedSpecs } from '../util/options.js';
import { looksLike, nameOf, type WrappedFunction, withAmbient } from './shared.js';

/**
 * Where the placeholder values of the patterns come from: the arguments, or the result too, and
 * the request context (of type `Ambient`) for those they leave out.
 */
export type InvalidatingContextOption<
  A extends unknown[],
  R,
  P extends string,
  Ambient = NoAmbient,
> =
  | {
      /** Returns the patterns' placeholder values from the mutation's arguments. */
      context: (...args: A) => TemplateContext<P, Ambient>;
      contextFromResult?: never;
    }
  | {
      /**
       * Returns the patterns' placeholder values from the mutation's result (awaited) and
       * arguments; for values only known afterwards, such as a created post's slug. If it throws
       * or leaves a value out, the wrapper rejects with `InvalidationError` (`reason:
       * 'contextFromResult'`, carrying the result) and invalidates every key the patterns could
       * match (placeholders widened to `*`) instead.
       */
      contextFromResult: (result: Awaited<R>, ...args: A) => TemplateContext<P, Ambient>;
      context?: never;
    }
  | ContextFor<
      P,
      {
        required: never;
        none: { context?: never; contextFromResult?: never };
        runtime: { context?: never; contextFromResult?: never };
        ambient: { context?: never; contextFromResult?: never };
      },
      'pattern',
      Ambient
    >;

/**
 * Options of `invalidating`: which patterns to delete once the mutation succeeds. `Ambient` is
 * the type of the cache's request context's values.
 */
export type InvalidatingOptions<
  A extends unknown[],
  R,
  P extends string,
  Ambient = NoAmbient,
  G extends string = never,
> = {
  /**
   * Patterns to delete, as templates: `posts:{{slug}}:*`. Their own `*`, `?`, `[...]` are
   * wildcards; rendered values are literal. A pattern ending in `:*` also deletes the key
   * without that suffix (`posts:a:*` deletes `posts:a` too). A malformed pattern is a compile
   * error naming the problem. At least one of `patterns`, `tags` and `tagsFromResult` is needed.
   */
  patterns?: readonly ValidPattern<P>[] | undefined;
  /**
   * Tags whose entries to delete, as templates rendered like keys (no wildcards): `['post:{{slug}}']`
   * removes exactly the entries of `cacheable` wrappers that carry `post:<slug>`.
   */
  tags?: readonly ValidTemplate<G>[] | undefined;
  /**
   * Tags known only from the mutation's result (awaited) and arguments: rendered tags, written
   * as `tagsFromResult` of `cacheable` writes them (see `renderTag`). If it throws, the wrapper
   * rejects with `InvalidationError` (`reason: 'tagsFromResult'`, carrying the result) and
   * invalidates every entry of the `cacheable` wrappers with tags instead.
   */
  tagsFromResult?: ((result: Awaited<R>, ...args: A) => readonly string[]) | undefined;
  /**
   * Log the context, patterns and INVALIDATE counts through the cache's logger.
   * @default the cache's `debug`
   */
  debug?: boolean | undefined;
  /**
   * Name shown in debug lines and events (`source.name`).
   * @default the function's name, else `invalidating(<patterns>)`, such as `invalidating(posts:{{slug}}:*, posts:list:*)`
   */
  name?: string | undefined;
  /**
   * After the mutation succeeded: `'report'` returns its result once the store confirmed the
   * invalidation, or after the cache's `invalidationWait` (it goes on in the background);
   * `'throw'` waits for the first delete attempt and, if it failed, rejects with
   * `InvalidationError` carrying the result (the invalidation still goes on in the background).
   * @default the cache's `invalidationErrors` ('report')
   */
  invalidationErrors?: 'report' | 'throw' | undefined;
  /**
   * Throw `InvalidOptionError` at the first call, before the mutation runs, when a pattern
   * matches the keys of no `cacheable` template of the cache (or puts a placeholder where a
   * template has a differently named one), instead of logging it once.
   * @default the cache's `strict` (false)
   */
  strict?: boolean | undefined;
} & InvalidatingContextOption<A, R, [G] extends [never] ? P : P | G, Ambient>;

/** Each option of `invalidating`: its check and what it must be. */
const invalidatingOptionSpecs = {
  patterns: {
    schema: z.array(z.string()).min(1).optional(),
    expect: "must be a non-empty array of pattern strings such as ['posts:{{slug}}:*']",
  },
  tags: {
    schema: z.array(z.string()).min(1).optional(),
    expect: "must be a non-empty array of tag templates such as ['post:{{slug}}']",
  },
  tagsFromResult: {
    schema: optionalFunction<(result: unknown, ...args: unknown[]) => readonly string[]>(),
    expect: 'must be a function',
  },
  context: {
    schema: optionalFunction<(...args: unknown[]) => never>(),
    expect: 'must be a function',
  },
  contextFromResult: {
    schema: optionalFunction<(result: unknown, ...args: unknown[]) => never>(),
    expect: 'must be a function',
  },
  debug: sharedSpecs.debug,
  name: sharedSpecs.name,
  invalidationErrors: {
    schema: z.enum(['report', 'throw']).optional(),
    expect: "must be 'report' or 'throw'",
  },
  strict: sharedSpecs.strict,
} as const satisfies OptionSpecs<
  { patterns?: readonly string[] | undefined; tags?: readonly string[] | undefined } & Omit<
    InvalidatingOptions<unknown[], unknown, string, NoAmbient, string>,
    'patterns' | 'tags'
  >
>;

/** Patterns and tags rendered for one call, with the context they came from. */
interface Rendered {
  readonly context: object;
  readonly patterns: string[];
  readonly tags: string[];
}

/** What the checks that need no cache found: the compiled patterns and how to fill them. */
export interface CheckedInvalidating {
  readonly patterns: readonly Renderer[];
  /** The compiled tag templates. */
  readonly tags: readonly Renderer[];
  /** Every placeholder name of the patterns, once each. */
  readonly placeholders: readonly string[];
  /**
   * The patterns have placeholders and there is neither `context` nor `contextFromResult`: only
   * a request context can fill them.
   */
  readonly needsRequestContext: boolean;
}

/**
 * The checks of `invalidating` that do not depend on the cache: the function, the options and the
 * patterns. Throws `InvalidOptionError` or `TemplateSyntaxError`.
 */
export function checkInvalidating(fn: unknown, options: unknown): CheckedInvalidating {
  if (typeof fn !== 'function') {
    throw new InvalidOptionError(
      'fn',
      'invalidating() needs a function to wrap as its first argument',
    );
  }
  checkOptions(invalidatingOptionSpecs, options, 'invalidating');
  const given = options as {
    patterns?: readonly string[];
    tags?: readonly string[];
    tagsFromResult?: unknown;
    context?: unknown;
    contextFromResult?: unknown;
  };
  if (
    given.patterns === undefined &&
    given.tags === undefined &&
    given.tagsFromResult === undefined
  ) {
    throw new InvalidOptionError(
      'patterns',
      "`patterns` (or `tags`, or `tagsFromResult`) is required: a non-empty array of pattern strings such as ['posts:{{slug}}:*']",
    );
  }
  if (given.context !== undefined && given.contextFromResult !== undefined) {
    throw new InvalidOptionError(
      'contextFromResult',
      '`context` and `contextFromResult` cannot both be given; use `contextFromResult`, which also receives the arguments',
    );
  }
  const patterns = (given.patterns ?? []).map((pattern) => renderer(pattern, 'pattern'));
  const tags = (given.tags ?? []).map((tag) => renderer(tag, 'key'));
  const placeholders = [
    ...new Set([...patterns, ...tags].flatMap((template) => template.placeholders)),
  ];
  return {
    patterns,
    tags,
    placeholders,
    needsRequestContext:
      placeholders.length > 0 &&
      given.context === undefined &&
      given.contextFromResult === undefined,
  };
}

/** Builds an `invalidating` wrapper on `cache`; see `Cache.invalidating`. */
export function wrapInvalidating<
  S extends Store,
  A extends unknown[],
  R,
  P extends string,
  Ambient = NoAmbient,
  G extends string = never,
>(
  cache: CacheRuntime<S>,
  fn: (...args: A) => R,
  options: InvalidatingOptions<A, R, P, Ambient, G>,
): WrappedFunction<A, R, S> {
  const { patterns, tags, placeholders, needsRequestContext } = checkInvalidating(fn, options);
  const { ambient } = cache;
  const tagsFromResult = options.tagsFromResult as
    | ((result: unknown, ...args: A) => readonly string[])
    | undefined;
  if (tags.length > 0 || tagsFromResult !== undefined) {
    cache.requireTags('`tags` and `tagsFromResult` need');
  }
  // With a request context, values left out of `context` may come from it: checked per call.
  if (needsRequestContext && ambient === undefined) {
    throw new InvalidOptionError(
      'context',
      `\`context\` (or \`contextFromResult\`) is required: the patterns have placeholders (${placeholders.map((n) => `{{${n}}}`).join(', ')}) (or give the cache a \`requestContext\` that provides them)`,
    );
  }
  const fromArgs = options.context as ((...args: A) => object) | undefined;
  const fromResult = options.contextFromResult as
    | ((result: unknown, ...args: A) => object)
    | undefined;
  const targets = describeTargets(options);
  const name = nameOf(fn, options.name, 'invalidating', targets);
  const debug = options.debug ?? cache.debug;
  if (debug) cache.listenForDebug();
  // Tags are key templates, so valid patterns too: the debug lines find their placeholders.
  const source = { name, template: targets, debug };
  const onError = options.invalidationErrors ?? cache.invalidationErrors;
  const strict = options.strict ?? cache.strict;
  const givenPatterns: readonly string[] = options.patterns ?? [];
  for (const pattern of givenPatterns) cache.registry.addPattern(pattern);
  let checked = false;
  /**
   * At the first call (so that templates of wrappers made after this one count): patterns that
   * match no template's keys, or put one value where keys hold another, are logged once, or
   * thrown before the mutation runs with `strict`.
   */
  const checkPatterns = () => {
    if (checked) return;
    const findings = givenPatterns.flatMap((pattern) => cache.registry.check(pattern));
    if (findings.length > 0 && strict) {
      const first = findings[0] as (typeof findings)[number];
      throw new InvalidOptionError(
        'patterns',
        `the pattern ${first.pattern} of ${name} ${first.problem}; fix the pattern, or pass \`strict: false\``,
      );
    }
    checked = true;
    for (const { pattern, problem } of findings) {
      cache.logger.warn(`[Cache] WARNING: the pattern ${pattern} of ${name} ${problem}`);
    }
  };
  const async = !cache.isSync || isAsyncFunction(fn);

  const render = (context: object, origin: 'context' | 'contextFromResult'): Rendered => ({
    context,
    patterns: patterns.map((pattern) =>
      cache.fullKey(renderFrom(pattern, context, ambient, origin, name)),
    ),
    tags: tags.map((tag) => cache.fullKey(renderFrom(tag, context, ambient, origin, name))),
  });
  /** The tags `tagsFromResult` gives for the result, full; throws what it throws. */
  const resultTags = (value: unknown, args: A): string[] =>
    tagsFromResult === undefined ? [] : cache.fullTags(tagsFromResult(value, ...args), name);
  /**
   * After a successful mutation: renders the patterns if they depend on the result, requests the
   * invalidation, waits up to `invalidationWait` for the store to confirm it, and answers with
   * the mutation's value. An invalidation not confirmed by then goes on in the background (see
   * invalidation.ts) and is reported, or, with `invalidationErrors: 'throw'`, raised as an
   * InvalidationError carrying the result.
   */
  const invalidate = (early: Rendered | undefined, value: unknown, args: A): unknown => {
    let rendered: Rendered;
    try {
      rendered =
        early ??
        render((fromResult as NonNullable<typeof fromResult>)(value, ...args), 'contextFromResult');
    } catch (error) {
      return misrendered(value, error, 'contextFromResult');
    }
    try {
      const more = resultTags(value, args);
      if (more.length > 0)
        rendered = { ...rendered, tags: [...new Set([...rendered.tags, ...more])] };
    } catch (error) {
      return misrendered(value, error, 'tagsFromResult');
    }
    if (cache.events.has('mutation')) {
      cache.events.emit('mutation', {
        source,
        patterns: rendered.patterns,
        tags: rendered.tags,
        context: withAmbient(rendered.context, placeholders, ambient),
      });
    }
    const requested = cache.invalidator.request(rendered.patterns, source, rendered.tags);
    if (onError === 'throw') {
      // Waits for the first attempt; its failure is the InvalidationError.
      return attempt(
        () => chain(requested.attempted(), () => value),
        (error) => unconfirmed(rendered, value, error),
      );
    }
    const confirmed = requested.confirmed();
    if (typeof confirmed === 'number' || !async) return value;
    return within(confirmed, cache.invalidationWaitMs).then(() => value);
  };

  /** With `'throw'`: the mutation happened but the first attempt at its invalidation failed. */
  const unconfirmed = (rendered: Rendered, value: unknown, error: unknown): never => {
    throw new InvalidationError(rendered.patterns, value, error, 'store', rendered.tags);
  };

  /**
   * `contextFromResult` or `tagsFromResult` threw (or the context left a placeholder without a
   * value) after the mutation happened. That is a bug in the caller's code, not a store failure
   * to log and carry on after: the caller gets an InvalidationError carrying the mutation's
   * result (whatever `invalidationErrors` says), and, so that the bug leaves nothing stale, every
   * key the patterns could match is invalidated instead (placeholders widened to `*`), and, when
   * the wrapper has tags, every entry of the `cacheable` wrappers with tags (it goes on in the
   * background like any invalidation).
   */
  const misrendered = (
    value: unknown,
    error: unknown,
    reason: 'contextFromResult' | 'tagsFromResult',
  ): never => {
    const widened = [
      ...new Set([
        ...givenPatterns.map((pattern) => cache.fullKey(widenPattern(pattern))),
        ...(tags.length > 0 || tagsFromResult !== undefined ? cache.taggedPatterns() : []),
      ]),
    ];
    cache.invalidator.request(widened, source);
    throw new InvalidationError(widened, value, error, reason);
  };

  const wrapper = function (this: unknown, ...args: A): unknown {
    let early: Rendered | undefined;
    let result: unknown;
    try {
      checkPatterns();
      if (fromResult === undefined) {
        // Rendered before the mutation runs, so a bad context cannot leave a mutation done but
        // its invalidation undone.
        early = render(fromArgs === undefined ? EMPTY_CONTEXT : fromArgs(...args), 'context');
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
  return looksLike(wrapper, fn, name) as WrappedFunction<A, R, S>;
}

/** What an `invalidating` wrapper removes, for its default name and its events' source. */
export function describeTargets(options: {
  readonly patterns?: readonly string[] | undefined;
  readonly tags?: readonly string[] | undefined;
  readonly tagsFromResult?: unknown;
}): string {
  const targets = [...(options.patterns ?? []), ...(options.tags ?? [])];
  if (options.tagsFromResult !== undefined) targets.push('tagsFromResult');
  return targets.join(', ');
}
