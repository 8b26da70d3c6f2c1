/** Stable machine-readable codes carried by every error this library throws. */
export const ErrorCode = {
  /** An option given to `createCache`, a wrapper or a store is invalid. */
  InvalidOption: 'E_INVALID_OPTION',
  /** A key template or pattern cannot be parsed. */
  TemplateSyntax: 'E_TEMPLATE_SYNTAX',
  /** A placeholder of a template has no value in the context. */
  MissingContextValue: 'E_MISSING_CONTEXT_VALUE',
  /** A context value cannot be rendered into a key (null, function, symbol). */
  InvalidContextValue: 'E_INVALID_CONTEXT_VALUE',
  /** A value could not be turned into text for the store. */
  Serialization: 'E_SERIALIZATION',
  /** The store did not answer within the operation timeout, or the circuit breaker is open. */
  StoreUnavailable: 'E_STORE_UNAVAILABLE',
  /** A mutation succeeded but its invalidation was not confirmed in time (with `invalidationErrors: 'throw'`). */
  InvalidationFailed: 'E_INVALIDATION_FAILED',
  /** A cached function called itself for the key it is computing. */
  ReentrantCall: 'E_REENTRANT_CALL',
  /** A store refused a value larger than it may hold. */
  ValueTooLarge: 'E_VALUE_TOO_LARGE',
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const PREFIX = '[quickpost-cache] ';

/** Base class of every error thrown by quickpost-cache; `code` is stable across versions. */
export class CacheError extends Error {
  override name = 'CacheError';
  /** Stable identifier of the failure, one of {@link ErrorCode}. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(PREFIX + message, options);
    this.code = code;
  }
}

/** An option is missing, of the wrong type or out of range; `option` names it. */
export class InvalidOptionError extends CacheError {
  override name = 'InvalidOptionError' as const;
  /** The option's name, dotted for nested options (`patterns.1`). */
  readonly option: string;

  constructor(option: string, message: string) {
    super(ErrorCode.InvalidOption, message);
    this.option = option;
  }
}

/** A template or pattern is malformed; thrown when the wrapper is made, not per call. */
export class TemplateSyntaxError extends CacheError {
  override name = 'TemplateSyntaxError' as const;
  /** The template as written. */
  readonly template: string;
  /** Zero-based character offset of the problem in the template. */
  readonly position: number;

  constructor(template: string, position: number, problem: string) {
    super(
      ErrorCode.TemplateSyntax,
      `Invalid template "${template}" at character ${position}: ${problem}`,
    );
    this.template = template;
    this.position = position;
  }
}

/**
/**
 * Where a context came from: a wrapper's `context` or `contextFromResult` function, or the
 * caller's own argument (the manual API: `cache.get(key, context)`).
 */
export type ContextOrigin = 'context' | 'contextFromResult' | 'argument';

/**
 * Where a missing value was also looked for: nowhere else (`'none'`), or a cache's request
 * context that was not active (`'inactive'`: the call ran outside any request) or had no such
 * value (`'lacking'`).
 */
export type RequestContextState = 'none' | 'inactive' | 'lacking';

/**
 * The context lacks a value for a placeholder (or the value is `undefined`); on a cache with a
 * request context, the request context lacks it too.
 */
export class MissingContextValueError extends CacheError {
  override name = 'MissingContextValueError' as const;
  /** The template being rendered. */
  readonly template: string;
  /** The placeholder without a value. */
  readonly placeholder: string;
  /** Where the context came from; `undefined` when a compiled template was called directly. */
  readonly origin: ContextOrigin | undefined;

  /**
   * `by` names who supplied the context: the wrapper (`getPost`) for `context` and
   * `contextFromResult`, the method (`cache.get()`) for `argument`. `requestContext` says
   * whether, and how, a cache's request context was asked too.
   */
  constructor(
    template: string,
    placeholder: string,
    origin?: ContextOrigin,
    by?: string,
    requestContext: RequestContextState = 'none',
  ) {
    super(
      ErrorCode.MissingContextValue,
      `Template "${template}" needs a value for {{${placeholder}}}, ${missingFrom(placeholder, origin, by, requestContext)}`,
    );
    this.template = template;
    this.placeholder = placeholder;
    this.origin = origin;
  }
}

/** The end of a missing-value message: who gave no value, and what to do. */
function missingFrom(
  placeholder: string,
  origin: ContextOrigin | undefined,
  by: string | undefined,
  requestContext: RequestContextState,
): string {
  const of = by === undefined ? '' : ` of ${by}`;
  if (requestContext === 'inactive') {
    return `expected from the request context, but this call ran outside any request context. Fill it per request with your framework's middleware (quickpost-cache/express, /fastify, /hono or /nestjs) or \`requestContext.run(values, fn)\`, or give \`${placeholder}\` in ${sourceOf(origin, of, by)}.`;
  }
  if (requestContext === 'lacking') {
    return `but neither ${sourceOf(origin, of, by)} nor the request context has one (or it is undefined). Include \`${placeholder}\` in the values your request-context middleware (or \`run\`) gives, or in ${sourceOf(origin, of, by)}.`;
  }
  switch (origin) {
    case 'context':
      return `but the \`context\` function${of} returned none (or undefined). Return \`${placeholder}\` from \`context\`.`;
    case 'contextFromResult':
      return `but the \`contextFromResult\` function${of} returned none (or undefined) for this result. Return \`${placeholder}\` from \`contextFromResult\`, which receives the mutation's result, then its arguments.`;
    case 'argument':
      return `but the context given to ${by ?? 'the call'} has none (or undefined). Add \`${placeholder}\` to it.`;
    default:
      return `but the context has none (or undefined). Give \`${placeholder}\` a value in the context.`;
  }
}

/** Who supplied the context, as a message names it. */
function sourceOf(origin: ContextOrigin | undefined, of: string, by: string | undefined): string {
  switch (origin) {
    case 'context':
      return `the \`context\` function${of}`;
    case 'contextFromResult':
      return `the \`contextFromResult\` function${of}`;
    case 'argument':
      return `the context given to ${by ?? 'the call'}`;
    default:
      return 'the context';
  }
}

/** A context value has a type that cannot become part of a key. */
export class InvalidContextValueError extends CacheError {
  override name = 'InvalidContextValueError' as const;
  /** The template being rendered. */
  readonly template: string;
  /** The placeholder whose value was rejected. */
  readonly placeholder: string;

  constructor(template: string, placeholder: string, got: string) {
    super(
      ErrorCode.InvalidContextValue,
      `Template "${template}" cannot render {{${placeholder}}} from ${got}. Use a string, number, boolean, bigint, object or array (map null to a sentinel such as 'none').`,
    );
    this.template = template;
    this.placeholder = placeholder;
  }
}

/** A value could not be serialized (for example a circular structure); `key` is the cache key. */
export class SerializationError extends CacheError {
  override name = 'SerializationError' as const;
  /** The full cache key the value was meant for. */
  readonly key: string;

  constructor(key: string, cause: unknown) {
    super(
      ErrorCode.Serialization,
      `Could not serialize the value for "${key}": ${cause instanceof Error ? cause.message : String(cause)}. Cache JSON-compatible data (plus Date, BigInt, Map, Set) or pass a \`serializer\`.`,
      { cause },
    );
    this.key = key;
  }
}

/** The store did not answer in time, or the circuit breaker skipped it; `cause` has details. */
export class StoreUnavailableError extends CacheError {
  override name = 'StoreUnavailableError' as const;
  /** `timeout`: no answer within the operation timeout; `breaker-open`: not asked during a cool-down. */
  readonly reason: 'timeout' | 'breaker-open';

  constructor(reason: 'timeout' | 'breaker-open', timeoutMs: number, cause?: unknown) {
    super(
      ErrorCode.StoreUnavailable,
      reason === 'timeout'
        ? `The store did not answer within ${timeoutMs} ms (the \`timeout\` or \`invalidationTimeout\` option). Check that it is up and reachable, or raise the timeout.`
        : 'The store is skipped for a cool-down after repeated failures (the `breaker` option); it is asked again once the cool-down ends.',
      cause === undefined ? undefined : { cause },
    );
    this.reason = reason;
  }
}

/**
 * A mutation succeeded but its invalidation did not go as written; `result` is the mutation's
 * result, `cause` the error. `reason` `'store'`: the first delete attempt failed, thrown only
 * with `invalidationErrors: 'throw'`; the invalidation goes on in the background until the store
 * confirms it. `reason` `'contextFromResult'`: that function threw or left a placeholder without
 * a value, a bug thrown whatever `invalidationErrors` says; every key the patterns could match
 * (`patterns`, placeholders widened to `*`) is invalidated instead.
 */
export class InvalidationError extends CacheError {
  override name = 'InvalidationError' as const;
  /**
   * The full patterns whose invalidation is not confirmed (for `'contextFromResult'` and
   * `'tagsFromResult'`: the widened ones invalidated instead).
   */
  readonly patterns: readonly string[];
  /** The full tags whose invalidation is not confirmed. */
  readonly tags: readonly string[];
  /** What the mutation returned (it did happen). */
  readonly result: unknown;
  /**
   * Whether the store failed (`'store'`), or `contextFromResult` or `tagsFromResult` did (a bug
   * in that function).
   */
  readonly reason: 'store' | 'contextFromResult' | 'tagsFromResult';

  constructor(
    patterns: readonly string[],
    result: unknown,
    cause: unknown,
    reason: 'store' | 'contextFromResult' | 'tagsFromResult' = 'store',
    tags: readonly string[] = [],
  ) {
    const targets = [...patterns, ...tags.map((tag) => `the tag ${tag}`)].join(', ');
    super(
      ErrorCode.InvalidationFailed,
      reason === 'store'
        ? `The mutation succeeded but deleting ${targets} failed (see \`cause\`). It is retried in the background until the store confirms it, and this process serves none of those keys from the store meanwhile; other processes may serve them until then.`
        : `The mutation succeeded but \`${reason}\` failed (see \`cause\`), so what it invalidates could not be rendered: a bug to fix in \`${reason}\`. The mutation's result is on \`result\`. So that nothing stays stale, every key it could concern is invalidated instead: ${targets}.`,
      { cause },
    );
    this.patterns = patterns;
    this.tags = tags;
    this.result = result;
    this.reason = reason;
  }
}

/**
 * A cached function called itself, directly or not, for the very key it is computing: the inner
 * call would wait for the outer one, which waits for the inner one. Thrown by the inner call.
 */
export class ReentrantCallError extends CacheError {
  override name = 'ReentrantCallError' as const;
  /** The full cache key being computed. */
  readonly key: string;

  constructor(key: string, source: string) {
    super(
      ErrorCode.ReentrantCall,
      `\`${source}\` called itself for the key "${key}" while computing it, and would wait for its own result forever. Break the recursion, or give the inner call a different key.`,
    );
    this.key = key;
  }
}

/** A store refused an entry larger than it may hold (MemoryStore's `maxBytes`). */
export class ValueTooLargeError extends CacheError {
  override name = 'ValueTooLargeError' as const;
  /** The full cache key. */
  readonly key: string;
  /** The entry's size, as the store counts it, in bytes. */
  readonly size: number;
  /** The most the store holds, in bytes. */
  readonly limit: number;

  constructor(key: string, size: number, limit: number) {
    super(
      ErrorCode.ValueTooLarge,
      `The entry for "${key}" takes ${size} bytes, more than the store holds (${limit} bytes, MemoryStore's \`maxBytes\`). Raise \`maxBytes\`, or cache less under one key.`,
    );
    this.key = key;
    this.size = size;
    this.limit = limit;
  }
}

/** True for any error thrown by quickpost-cache, also across realms and duplicate installs. */
export function isCacheError(error: unknown): error is CacheError {
  if (error instanceof CacheError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return (
    error instanceof Error &&
    typeof code === 'string' &&
    (Object.values(ErrorCode) as string[]).includes(code)
  );
}
