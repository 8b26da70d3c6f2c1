/**
 * `quickpost-cache/otel`: OpenTelemetry metrics and spans for a cache. `@opentelemetry/api` is an
 * optional peer dependency, loaded only by this entry.
 *
 * OpenTelemetry has no stable semantic conventions for caches, so the names live in this
 * library's own namespace, `quickpost_cache.*` (lowercase, `.`-separated, `_` within a word, as
 * the naming rules ask of a system-specific namespace), and follow the general conventions where
 * they apply: durations are histograms in seconds named `….duration`, counters are plural with a
 * `{unit}` annotation, failures carry `error.type`, and the function's name is `code.function.name`.
 */
import {
  type Attributes,
  context,
  type MeterProvider,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { attachInstrument, type Cache, isCache } from './cache.js';
import type { EventSource } from './core/events.js';
import { InvalidOptionError } from './errors.js';
import type { Store } from './stores/store.js';
import { isThenable } from './util/maybe-promise.js';

/** Options of {@link instrumentCache}. */
export interface InstrumentOptions {
  /**
   * Where the metrics go.
   * @default the global MeterProvider (`metrics.getMeterProvider()` of `@opentelemetry/api`)
   */
  meterProvider?: MeterProvider | undefined;
  /**
   * Where the spans go.
   * @default the global TracerProvider (`trace.getTracerProvider()` of `@opentelemetry/api`)
   */
  tracerProvider?: TracerProvider | undefined;
}

/** The instrumentation scope's name: the meter and the tracer. */
const SCOPE = 'quickpost-cache';

/** Attribute names (the first two are this library's, the others OpenTelemetry's general ones). */
const TEMPLATE = 'quickpost_cache.template';
const RESULT = 'quickpost_cache.result';
const OPERATION = 'quickpost_cache.operation';
const ERROR_TYPE = 'error.type';
const FUNCTION = 'code.function.name';

/** What a read found. */
type ReadResult = 'hit' | 'stale' | 'miss';

/** Bucket bounds (seconds) of the load-duration histogram: 1 ms to 10 s. */
const LOAD_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Records a cache's work as OpenTelemetry metrics and spans, until the function it answers is
 * called. Metrics (each with `quickpost_cache.template`, the key template, except for the manual
 * API):
 *
 * - `quickpost_cache.requests` (counter, `{request}`): reads, by `quickpost_cache.result`:
 *   `hit`, `stale` or `miss`;
 * - `quickpost_cache.load.duration` (histogram, `s`): runs of the cached function, with
 *   `error.type` when it failed;
 * - `quickpost_cache.invalidations` (counter, `{invalidation}`) and
 *   `quickpost_cache.keys_removed` (counter, `{key}`): confirmed invalidations and the keys they
 *   removed, counted for each template the pattern can match;
 * - `quickpost_cache.errors` (counter, `{error}`): store operations that failed, by
 *   `quickpost_cache.operation` and `error.type`.
 *
 * Spans (kind internal): `load <template>` around each run of a cached function, current while
 * it runs (so spans of the database calls it makes are its children), and `invalidate <patterns>`
 * around each attempt at deleting a pattern. A failure sets the span's status to error, records
 * the exception and sets `error.type`.
 *
 * @example
 * const stop = instrumentCache(cache); // the global providers of @opentelemetry/api
 */
export function instrumentCache(cache: Cache<Store>, options: InstrumentOptions = {}): () => void {
  if (!isCache(cache)) {
    throw new InvalidOptionError('cache', '`instrumentCache` needs a cache made by createCache');
  }
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const requests = meter.createCounter('quickpost_cache.requests', {
    description: 'Reads of cached values, by result: hit, stale (served while refreshed) or miss',
    unit: '{request}',
  });
  const loadDuration = meter.createHistogram('quickpost_cache.load.duration', {
    description: 'Duration of the runs of cached functions (on misses and refreshes)',
    unit: 's',
    advice: { explicitBucketBoundaries: LOAD_BUCKETS },
  });
  const invalidations = meter.createCounter('quickpost_cache.invalidations', {
    description: 'Invalidations confirmed by the store, for each key template they can match',
    unit: '{invalidation}',
  });
  const keysRemoved = meter.createCounter('quickpost_cache.keys_removed', {
    description: 'Keys removed by confirmed invalidations, for each key template they can match',
    unit: '{key}',
  });
  const errors = meter.createCounter('quickpost_cache.errors', {
    description: 'Store operations that failed and that the cache carried on without',
    unit: '{error}',
  });

  // The attributes of reads, made once per wrapper: hits are the hot path.
  const readAttributes = new WeakMap<EventSource, Record<ReadResult, Attributes>>();
  const read =
    (result: ReadResult) =>
    ({ source }: { source: EventSource }) => {
      let byResult = readAttributes.get(source);
      if (byResult === undefined) {
        const base = templateOf(source);
        byResult = {
          hit: { ...base, [RESULT]: 'hit' },
          stale: { ...base, [RESULT]: 'stale' },
          miss: { ...base, [RESULT]: 'miss' },
        };
        readAttributes.set(source, byResult);
      }
      requests.add(1, byResult[result]);
    };
  const detachers = [
    cache.on('hit', read('hit')),
    cache.on('stale', read('stale')),
    cache.on('miss', read('miss')),
    cache.on('load', (event) => {
      const attributes = templateOf(event.source);
      if ('error' in event) attributes[ERROR_TYPE] = errorType(event.error);
      loadDuration.record(event.durationMs / 1000, attributes);
    }),
    cache.on('invalidate', ({ count, templates }) => {
      for (const attributes of templates.length === 0 ? [{}] : templates.map(asTemplate)) {
        invalidations.add(1, attributes);
        keysRemoved.add(count, attributes);
      }
    }),
    cache.on('error', ({ source, operation, error }) => {
      errors.add(1, {
        ...templateOf(source),
        [OPERATION]: operation,
        [ERROR_TYPE]: errorType(error),
      });
    }),
  ];

  const detach = attachInstrument(cache, {
    load: (message, run) =>
      traced(
        tracer.startSpan(spanName('load', message.source), {
          kind: SpanKind.INTERNAL,
          attributes: {
            ...templateOf(message.source),
            [FUNCTION]: message.source.name,
            'quickpost_cache.key': message.key,
          },
        }),
        run,
      ),
    invalidate: (message, run) =>
      traced(
        tracer.startSpan(spanName('invalidate', message.source), {
          kind: SpanKind.INTERNAL,
          attributes: {
            [FUNCTION]: message.source.name,
            [message.kind === 'tag' ? 'quickpost_cache.tag' : 'quickpost_cache.pattern']:
              message.pattern,
            'quickpost_cache.invalidation.attempt': message.attempt,
          },
        }),
        run,
        (span, removed) => span.setAttribute('quickpost_cache.keys_removed', removed),
      ),
  });
  if (detach === undefined) {
    for (const off of detachers) off();
    throw new InvalidOptionError(
      'cache',
      '`instrumentCache` got a cache from another copy of quickpost-cache (one loaded with `require`, the other with `import`?): load `quickpost-cache` and `quickpost-cache/otel` the same way',
    );
  }
  return () => {
    detach();
    for (const off of detachers) off();
  };
}

/** The key template as an attribute; none for the manual API. */
function templateOf(source: EventSource): Attributes {
  return source.template === '' ? {} : { [TEMPLATE]: source.template };
}

function asTemplate(template: string): Attributes {
  return { [TEMPLATE]: template };
}

/** `load posts:{{slug}}`: the operation and the templates as written (low cardinality). */
function spanName(operation: string, source: EventSource): string {
  return source.template === '' ? operation : `${operation} ${source.template}`;
}

/** `error.type`: the error's class name, or `_OTHER` for a thrown non-error. */
function errorType(error: unknown): string {
  return error instanceof Error ? error.name : '_OTHER';
}

/**
 * Runs `run` with `span` current, and ends the span when `run`'s result settles (at once for a
 * plain value); `done` sees a successful result first.
 */
function traced<T>(span: Span, run: () => T, done?: (span: Span, result: Awaited<T>) => void): T {
  const fail = (error: unknown) => {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    span.setAttribute(ERROR_TYPE, errorType(error));
    span.end();
  };
  let result: T;
  try {
    result = context.with(trace.setSpan(context.active(), span), run);
  } catch (error) {
    fail(error);
    throw error;
  }
  if (isThenable(result)) {
    result.then((value) => {
      done?.(span, value as Awaited<T>);
      span.end();
    }, fail);
  } else {
    done?.(span, result as Awaited<T>);
    span.end();
  }
  return result;
}
