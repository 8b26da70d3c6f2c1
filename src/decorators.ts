/**
 * `@Cacheable` and `@InvalidateCache`: `cacheable` and `invalidating` as method decorators, in
 * both forms TypeScript compiles — TypeScript 5 standard decorators, and the legacy
 * `experimentalDecorators` that NestJS uses — told apart at run time by their arguments.
 */
import type { Cache } from './cache.js';
import type { ValueSchema } from './core/schema.js';
import { cacheable, type DefaultRequestContext, invalidating } from './defaults.js';
import { InvalidOptionError } from './errors.js';
import type { Store } from './stores/store.js';
import type {
  ContextFor,
  NoAmbient,
  TemplateContext,
  ValidPattern,
  ValidTemplate,
} from './template/index.js';
import type { CacheableBaseOptions, CacheableOptions } from './wrappers/cacheable.js';
import type { InvalidatingOptions } from './wrappers/invalidating.js';

/**
 * A method decorator of this library, usable as a TypeScript 5 standard decorator and as a legacy
 * (`experimentalDecorators`) one. `Args` are the parameters the `context` function reads: the
 * method's must start with them. `V` is what the options expect the method's promise to resolve
 * to. Decorated methods return a promise (the cache may answer with one).
 */
export interface CacheMethodDecorator<Args extends unknown[], V> {
  /** The TypeScript 5 (TC39) form: replaces the method. */
  <This, A extends [...Args, ...unknown[]], R extends PromiseLike<V>>(
    method: (this: This, ...args: A) => R,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: A) => R>,
  ): (this: This, ...args: A) => R;
  /** The legacy form (`experimentalDecorators`): replaces the descriptor's method. */
  <A extends [...Args, ...unknown[]], R extends PromiseLike<V>>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<(...args: A) => R>,
  ): void;
}

/** The `context` function of a decorator: annotate its parameters (the method's first ones). */
type DecoratorContext<Args extends unknown[], T extends string, Ambient> = (
  ...args: Args
) => TemplateContext<T, Ambient>;

/** The `context` option of `@Cacheable`: required when the template has placeholders the request context does not provide. */
export type CacheableDecoratorContextOption<
  Args extends unknown[],
  T extends string,
  Ambient,
> = ContextFor<
  T,
  {
    required: {
      /**
       * Receives the method's arguments and returns a value for each placeholder of `key`.
       * Annotate its parameters: a decorator's options are checked before the method is seen,
       * then the method's parameters are checked against them.
       *
       * @example context: (slug: string) => ({ slug })
       */
      context: DecoratorContext<Args, T, Ambient>;
    };
    none: { context?: DecoratorContext<Args, T, NoAmbient> };
    runtime: { context?: DecoratorContext<Args, T, NoAmbient> | undefined };
    ambient: { context?: DecoratorContext<Args, T, Ambient> | undefined };
  },
  'key',
  Ambient
>;

/**
 * Options of `@Cacheable`: those of `cacheable` and `cache`. `schema` and `shouldCache` are typed
 * by their own parameter (`V`), which the method's result must match.
 */
export type CacheableDecoratorOptions<
  T extends string,
  Args extends unknown[],
  V,
  Ambient,
  G extends string = never,
> = Omit<CacheableBaseOptions<unknown>, 'schema' | 'shouldCache'> & {
  /**
   * Key template such as `posts:{{slug}}`; the cache's prefix is put in front of it. A malformed
   * template is a compile error naming the problem.
   */
  key: ValidTemplate<T>;
  /**
   * Checks values read from the cache (a zod schema or any Standard Schema); a value that fails
   * is a miss: it is deleted and recomputed.
   */
  schema?: ValueSchema<V> | undefined;
  /**
   * Decides per result whether to store it.
   * @example shouldCache: (post: Post | null) => post !== null
   */
  shouldCache?: ((value: V) => boolean) | undefined;
  /**
   * Tags of every entry, as templates rendered from the context like the key (`context` must
   * give their placeholders too): `['author:{{author_id}}']`.
   */
  tags?: readonly ValidTemplate<G>[] | undefined;
  /**
   * Tags known only from the value (rendered; see `renderTag`); annotate its parameters.
   * @example tagsFromResult: (posts: Post[]) => posts.map((post) => renderTag('post:{{slug}}', post))
   */
  tagsFromResult?: ((value: V, ...args: Args) => readonly string[]) | undefined;
} & CacheableDecoratorContextOption<Args, [G] extends [never] ? T : T | G, Ambient>;

/** The `context` / `contextFromResult` options of `@InvalidateCache`. */
export type InvalidateCacheContextOption<Args extends unknown[], V, P extends string, Ambient> =
  | {
      /** Returns the patterns' values from the method's arguments; annotate its parameters. */
      context: DecoratorContext<Args, P, Ambient>;
      contextFromResult?: never;
    }
  | {
      /**
       * Returns the patterns' values from the method's result (awaited) and arguments; annotate
       * its parameters.
       */
      contextFromResult: (result: V, ...args: Args) => TemplateContext<P, Ambient>;
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

/** Options of `@InvalidateCache`: those of `invalidating` and `cache`. */
export type InvalidateCacheOptions<
  P extends string,
  Args extends unknown[],
  V,
  Ambient,
  G extends string = never,
> = Omit<
  InvalidatingOptions<unknown[], unknown, string>,
  'patterns' | 'tags' | 'tagsFromResult' | 'context' | 'contextFromResult'
> & {
  /**
   * Patterns to delete once the method's promise resolved, as templates: `posts:{{slug}}:*`. A
   * pattern ending in `:*` also deletes the key without that suffix. At least one of `patterns`,
   * `tags` and `tagsFromResult` is needed.
   */
  patterns?: readonly ValidPattern<P>[] | undefined;
  /** Tags whose entries to delete, as templates rendered like keys: `['post:{{slug}}']`. */
  tags?: readonly ValidTemplate<G>[] | undefined;
  /** Tags known only from the method's result (rendered; see `renderTag`); annotate its parameters. */
  tagsFromResult?: ((result: V, ...args: Args) => readonly string[]) | undefined;
} & InvalidateCacheContextOption<Args, V, [G] extends [never] ? P : P | G, Ambient>;

/**
 * Caches the results of the decorated method, as `cacheable` does for a function: under the key
 * template `key`, filled from `context(...args)` and the cache's request context. Without `cache`,
 * on the default cache (`configureCache`) of each call. Every instance of the class shares the
 * entries (the key is all that tells calls apart). Works as a standard and as a legacy
 * (`experimentalDecorators`) decorator.
 *
 * @example
 * class PostService {
 *   @Cacheable({ key: 'posts:{{slug}}', context: (slug: string) => ({ slug }), ttl: 600 })
 *   async getPost(slug: string): Promise<Post> { … }
 * }
 */
export function Cacheable<
  const T extends string,
  S extends Store,
  Ambient extends object = NoAmbient,
  Args extends unknown[] = [],
  V = unknown,
  const G extends string = never,
>(
  options: CacheableDecoratorOptions<T, Args, V, Ambient, G> & {
    /** The cache to use; without it, the default cache of each call. */
    cache: Cache<S, Ambient>;
  },
): CacheMethodDecorator<Args, V>;
export function Cacheable<
  const T extends string,
  Args extends unknown[] = [],
  V = unknown,
  const G extends string = never,
>(
  options: CacheableDecoratorOptions<T, Args, V, DefaultRequestContext, G> & {
    cache?: undefined;
  },
): CacheMethodDecorator<Args, V>;
export function Cacheable(options: object): CacheMethodDecorator<unknown[], unknown> {
  return methodDecorator('@Cacheable', (method) =>
    cacheable(method, options as CacheableOptions<unknown[], unknown, string> & { cache: never }),
  );
}

/**
 * Invalidates `patterns` (and `tags`) once the decorated method's promise resolved, as `invalidating` does for
 * a function; a method that throws or rejects invalidates nothing. Without `cache`, on the
 * default cache (`configureCache`) of each call. Works as a standard and as a legacy
 * (`experimentalDecorators`) decorator.
 *
 * @example
 * class PostService {
 *   @InvalidateCache({ patterns: ['posts:{{slug}}:*'], context: (slug: string) => ({ slug }) })
 *   async updatePost(slug: string, data: PostInput): Promise<Post> { … }
 * }
 */
export function InvalidateCache<
  S extends Store,
  const P extends string = never,
  Ambient extends object = NoAmbient,
  Args extends unknown[] = [],
  V = unknown,
  const G extends string = never,
>(
  options: InvalidateCacheOptions<P, Args, V, Ambient, G> & {
    /** The cache to use; without it, the default cache of each call. */
    cache: Cache<S, Ambient>;
  },
): CacheMethodDecorator<Args, V>;
export function InvalidateCache<
  const P extends string = never,
  Args extends unknown[] = [],
  V = unknown,
  const G extends string = never,
>(
  options: InvalidateCacheOptions<P, Args, V, DefaultRequestContext, G> & { cache?: undefined },
): CacheMethodDecorator<Args, V>;
export function InvalidateCache(options: object): CacheMethodDecorator<unknown[], unknown> {
  return methodDecorator('@InvalidateCache', (method) =>
    invalidating(
      method,
      options as InvalidatingOptions<unknown[], unknown, string> & { cache: never },
    ),
  );
}

type Method = (...args: unknown[]) => unknown;

/**
 * A decorator that replaces a method by `wrap(method)`, in the form its arguments show: a
 * standard decorator gets `(method, context)` with `context.kind`, a legacy one
 * `(prototype or class, name, descriptor)`.
 */
function methodDecorator(
  name: string,
  wrap: (method: Method) => Method,
): CacheMethodDecorator<unknown[], unknown> {
  const decorator = (...args: unknown[]): unknown => {
    const [first, second, third] = args;
    if (args.length === 2 && typeof second === 'object' && second !== null && 'kind' in second) {
      const { kind } = second as ClassMemberDecoratorContext;
      if (kind !== 'method' || typeof first !== 'function') throw notAMethod(name, kind);
      return wrap(first as Method);
    }
    const descriptor = third as PropertyDescriptor | undefined;
    if (args.length === 3 && typeof descriptor?.value === 'function') {
      descriptor.value = wrap(descriptor.value as Method);
      return undefined;
    }
    throw notAMethod(name, descriptor === undefined ? 'property' : 'accessor');
  };
  return decorator as CacheMethodDecorator<unknown[], unknown>;
}

function notAMethod(name: string, kind: string): InvalidOptionError {
  return new InvalidOptionError(
    name,
    `${name} decorates methods only (got a ${kind}); wrap other functions with cacheable() or invalidating()`,
  );
}
