import { z } from 'zod';
import { tick } from '../core/read/flights.js';
import { type CacheRuntime, EMPTY_CONTEXT } from '../core/runtime.js';
import type { ValueSchema } from '../core/schema.js';
import { InvalidOptionError } from '../errors.js';
import type { Store } from '../stores/store.js';
import {
  type ContextFor,
  type NoAmbient,
  type Renderer,
  renderer,
  renderFrom,
  type TemplateContext,
  type ValidTemplate,
} from '../template/index.js';
import type { Duration } from '../util/duration.js';
import { isAsyncFunction, isThenable } from '../util/maybe-promise.js';
import {
  checkOptions,
  durationSpec,
  type OptionSpecs,
  optionalFunction,
  sharedSpecs,
} from '../util/options.js';
import { looksLike, nameOf, type WrappedFunction, withAmbient } from './shared.js';

/** Options of `cacheable` that do not depend on the key template. */
export interface CacheableBaseOptions<R> {
  /**
   * Time to live of entries: a number of seconds, or a duration such as `'10m'`.
   * @default the cache's `ttl` (300 s)
   */
  ttl?: Duration | undefined;
  /**
   * Stale-while-revalidate grace (a number of seconds, or a duration such as `'1h'`): for this
   * long after `ttl`, the old value is still served (at once) while one caller refreshes it in the
   * background. A failing refresh keeps the stale value and is reported. An invalidation removes
   * stale values too.
   * @default 0
   */
  staleTtl?: Duration | undefined;
  /**
   * Shortens each entry's TTL by a random fraction up to this (0–1), so entries written together
   * do not expire together.
   * @default 0
   */
  jitter?: number | undefined;
  /**
   * Probabilistic early refresh (XFetch, Vattani et al., VLDB 2015): a hit may refresh the value
   * in the background before it expires, more likely as expiry nears and the longer the value took
   * to compute. `true` is β = 1; a number sets β (higher refreshes earlier).
   * @default false
   */
  earlyRefresh?: boolean | number | undefined;
  /**
   * Log this wrapper's context, key, HIT / MISS / SET through the cache's logger.
   * @default the cache's `debug`
   */
  debug?: boolean | undefined;
  /**
   * Name shown in debug lines and events (`source.name`).
   * @default the function's name, else `cacheable(<key>)`, such as `cacheable(posts:{{slug}})`
   */
  name?: string | undefined;
  /**
   * Checks values read from the cache (a zod schema or any Standard Schema). A value that fails
   * is a miss: it is deleted and recomputed. The schema's output is what the wrapper returns.
   */
  schema?: ValueSchema<NoInfer<Awaited<R>>> | undefined;
  /**
   * `false` keeps this wrapper's values out of the cache's in-process tier (`l1`): every hit then
   * reads the store.
   * @default true (when the cache has `l1`)
   */
  l1?: boolean | undefined;
  /**
   * Decides per result whether to store it; `null` and `undefined` are cached unless this says no.
   * @example shouldCache: (post) => post !== null
   */
  shouldCache?: ((value: NoInfer<Awaited<R>>) => boolean) | undefined;
}

/**
 * Turns the wrapped function's arguments into the values of the key template's placeholders
 * (those the request context, of type `Ambient`, provides may be left out).
 */
export type ContextExtractor<A extends unknown[], T extends string, Ambient = NoAmbient> = (
  ...args: A
) => TemplateContext<T, Ambient>;

/**
 * The `context` option: required when the template has placeholders the request context (of
 * type `Ambient`) does not provide, optional otherwise.
 */
export type CacheableContextOption<
  A extends unknown[],
  T extends string,
  Ambient = NoAmbient,
> = ContextFor<
  T,
  {
    required: {
      /**
       * Receives the call's arguments and returns a value for each placeholder of `key`; its
       * result is checked against the template at compile time. Required when the template has
       * placeholders. A missing or `undefined` value throws `MissingContextValueError` at the
       * call, before the function runs.
       *
       * @example context: (req, slug) => ({ slug })
       */
      context: ContextExtractor<A, T, Ambient>;
    };
    none: { context?: ContextExtractor<A, T> };
    runtime: { context?: ContextExtractor<A, T> | undefined };
    ambient: { context?: ContextExtractor<A, T, Ambient> | undefined };
  },
  'key',
  Ambient
>;

/**
 * Options of `cacheable`: the key template, how to fill it, and caching behaviour. `Ambient` is
 * the type of the cache's request context's values.
 */
export type CacheableOptions<
  A extends unknown[],
  R,
  T extends string,
  Ambient = NoAmbient,
  G extends string = never,
> = CacheableBaseOptions<R> & {
  /**
   * Key template such as `posts:{{slug}}`; the cache's prefix is put in front of it. A malformed
   * template is a compile error naming the problem.
   */
  key: ValidTemplate<T>;
  /**
   * Tags of every entry, as templates rendered from the context like the key (`context` must
   * give their placeholders too): `['author:{{author_id}}']`. `cache.invalidateTags` and
   * `invalidating`'s `tags` remove exactly the entries carrying a tag. Needs a store with tags
   * (MemoryStore, RedisStore, NodeRedisStore).
   */
  tags?: readonly ValidTemplate<G>[] | undefined;
  /**
   * Tags known only from the value, such as the posts a list shows: rendered tags (the cache's
   * prefix is put in front). Values in them must be written as templates render them: use
   * `renderTag('post:{{id}}', { id })` unless they are plain letters, digits, `-`, `_` and `.`.
   * @example tagsFromResult: (page) => page.posts.map((post) => `post:${post.id}`)
   */
  tagsFromResult?: ((value: Awaited<R>, ...args: A) => readonly string[]) | undefined;
} & CacheableContextOption<A, [G] extends [never] ? T : T | G, Ambient>;

/** Each option of `cacheable`: its check and what it must be. */
const cacheableOptionSpecs = {
  key: {
    schema: z.string().optional(),
    expect: "must be a key template string such as 'posts:{{slug}}'",
  },
  context: {
    schema: optionalFunction<ContextExtractor<unknown[], string>>(),
    expect: 'must be a function',
  },
  ttl: sharedSpecs.ttl,
  staleTtl: durationSpec('seconds', 'zero or more', '1h'),
  jitter: { schema: z.number().min(0).max(1).optional(), expect: 'must be a fraction from 0 to 1' },
  earlyRefresh: {
    schema: z.union([z.boolean(), z.number().nonnegative()]).optional(),
    expect: 'must be true, false or a non-negative β',
  },
  debug: sharedSpecs.debug,
  name: sharedSpecs.name,
  schema: {
    schema: z
      .custom<ValueSchema>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as ValueSchema)['~standard']?.validate === 'function',
      )
      .optional(),
    expect: 'must be a Standard Schema such as a zod schema',
  },
  shouldCache: {
    schema: optionalFunction<(value: unknown) => boolean>(),
    expect: 'must be a function',
  },
  l1: { schema: z.boolean().optional(), expect: 'must be true or false' },
  tags: {
    schema: z.array(z.string()).optional(),
    expect: "must be an array of tag templates such as ['author:{{author_id}}']",
  },
  tagsFromResult: {
    schema: optionalFunction<(value: unknown, ...args: unknown[]) => readonly string[]>(),
    expect: 'must be a function',
  },
} as const satisfies OptionSpecs<CacheableOptions<unknown[], unknown, string, NoAmbient, string>>;

/** What the checks that need no cache found: the compiled key template and how to fill it. */
export interface CheckedCacheable {
  readonly render: Renderer;
  /** The compiled tag templates. */
  readonly tags: readonly Renderer[];
  /** The template has placeholders and there is no `context`: only a request context can fill them. */
  readonly needsRequestContext: boolean;
}

/**
 * The checks of `cacheable` that do not depend on the cache: the function, the options and the
 * key template. Throws `InvalidOptionError` or `TemplateSyntaxError`.
 */
export function checkCacheable(fn: unknown, options: unknown): CheckedCacheable {
  if (typeof fn !== 'function') {
    throw new InvalidOptionError(
      'fn',
      'cacheable() needs a function to wrap as its first argument',
    );
  }
  checkOptions(cacheableOptionSpecs, options, 'cacheable');
  const { key, context, tags } = options as {
    key?: string;
    context?: unknown;
    tags?: readonly string[];
  };
  if (key === undefined) {
    throw new InvalidOptionError(
      'key',
      "`key` is required: a key template string such as 'posts:{{slug}}'",
    );
  }
  const render = renderer(key, 'key');
  const tagRenderers = (tags ?? []).map((tag) => renderer(tag, 'key'));
  const placeholders =
    render.placeholders.length + tagRenderers.flatMap((t) => t.placeholders).length;
  return {
    render,
    tags: tagRenderers,
    needsRequestContext: context === undefined && placeholders > 0,
  };
}

/** Builds a `cacheable` wrapper on `cache`; see `Cache.cacheable`. */
export function wrapCacheable<
  S extends Store,
  A extends unknown[],
  R,
  T extends string,
  Ambient = NoAmbient,
  G extends string = never,
>(
  cache: CacheRuntime<S>,
  fn: (...args: A) => R,
  options: CacheableOptions<A, R, T, Ambient, G>,
): WrappedFunction<A, R, S> {
  const { render: template, tags: tagTemplates, needsRequestContext } = checkCacheable(fn, options);
  const { ambient } = cache;
  const fromResult = options.tagsFromResult as
    | ((value: unknown, ...args: A) => readonly string[])
    | undefined;
  const tagged = tagTemplates.length > 0 || fromResult !== undefined;
  if (tagged) cache.requireTags('`tags` and `tagsFromResult` need');
  // With a request context, values left out of `context` may come from it: checked per call.
  if (needsRequestContext && ambient === undefined) {
    throw new InvalidOptionError(
      'context',
      `\`context\` is required: the key template "${options.key}" has placeholders (${template.placeholders.map((name) => `{{${name}}}`).join(', ')}) and \`context\` tells how to fill them from the arguments (or give the cache a \`requestContext\` that provides them)`,
    );
  }
  cache.registry.addTemplate(options.key);
  const extract = options.context as ((...args: A) => object) | undefined;
  const debug = options.debug ?? cache.debug;
  if (debug) cache.listenForDebug();
  const name = nameOf(fn, options.name, 'cacheable', options.key);
  const render = (context: object) => renderFrom(template, context, ambient, 'context', name);
  /** The full tags of a value: the templates rendered from the call's context, then the value's. */
  const tagsOf = (args: readonly unknown[], value: unknown): readonly string[] => {
    const context =
      tagTemplates.length === 0 || extract === undefined ? EMPTY_CONTEXT : extract(...(args as A));
    const tags = tagTemplates.map((tag) =>
      cache.fullKey(renderFrom(tag, context, ambient, 'context', name)),
    );
    if (fromResult === undefined) return tags;
    return [...new Set([...tags, ...cache.fullTags(fromResult(value, ...(args as A)), name)])];
  };
  if (tagged) cache.addTaggedTemplate(options.key);
  const plan = cache.plan({
    source: { name, template: options.key, debug },
    ttl: options.ttl,
    staleTtl: options.staleTtl,
    jitter: options.jitter,
    earlyRefresh: options.earlyRefresh,
    schema: options.schema,
    shouldCache: options.shouldCache,
    l1: options.l1,
    tags: tagged ? tagsOf : undefined,
  });
  const { reader } = cache;
  // Known to answer with promises: then every call goes the async way, hits included.
  let async = !cache.isSync || isAsyncFunction(fn);

  /** The `lookup` event, with the values the request context gave the template. */
  const lookup = (key: string, context: object): void => {
    cache.events.emit('lookup', {
      source: plan.source,
      key,
      context: withAmbient(context, template.placeholders, ambient),
    });
  };

  const wrapper = function (this: unknown, ...args: A): unknown {
    if (async) {
      let context: object;
      let key: string;
      try {
        context = extract === undefined ? EMPTY_CONTEXT : extract(...args);
        key = cache.fullKey(render(context));
      } catch (error) {
        return Promise.reject(error);
      }
      if (cache.events.has('lookup')) lookup(key, context);
      return reader.read({ key, plan, fn, thisArg: this, args, arrived: tick() });
    }
    const context = extract === undefined ? EMPTY_CONTEXT : extract(...args);
    const key = cache.fullKey(render(context));
    if (cache.events.has('lookup')) lookup(key, context);
    const result = reader.readSync({ key, plan, fn, thisArg: this, args, arrived: tick() });
    if (isThenable(result)) async = true;
    return result;
  };
  return looksLike(wrapper, fn, name) as WrappedFunction<A, R, S>;
}
