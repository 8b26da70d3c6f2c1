/**
 * `quickpost-cache/otel` with the OpenTelemetry SDK's in-memory exporters, and the README's
 * Prometheus recipe scraped over HTTP.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCache, MemoryStore } from '../../src/index.js';
import { instrumentCache } from '../../src/otel.js';
import { ChaosStore } from '../../src/testing/index.js';
import { freePort } from '../helpers/redis-servers.js';
import { AsyncMemoryStore, quietLogger } from '../helpers/stores.js';

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

/** Providers that keep every metric and span in memory. */
function telemetry() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(spans)],
  });
  /** The metric named `name` as last collected, or `undefined`. */
  const metric = async (name: string): Promise<MetricData | undefined> => {
    exporter.reset();
    await reader.forceFlush();
    return exporter
      .getMetrics()
      .at(-1)
      ?.scopeMetrics.flatMap((scope) => scope.metrics)
      .find((found) => found.descriptor.name === name);
  };
  /** `attributes → value` of a counter's data points. */
  const counts = async (name: string) =>
    ((await metric(name))?.dataPoints ?? []).map((point) => ({
      attributes: point.attributes,
      value: point.value as number,
    }));
  return { meterProvider, tracerProvider, spans, metric, counts };
}

describe('quickpost-cache/otel', () => {
  it('counts reads by template and result (hit, stale, miss); the manual API has no template', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const { meterProvider, counts, metric } = telemetry();
      const cache = createCache({ store: new AsyncMemoryStore() });
      instrumentCache(cache, { meterProvider });
      const get = cache.cacheable(async (slug: string) => slug, {
        key: 'posts:{{slug}}',
        context: (slug) => ({ slug }),
        ttl: 1,
        staleTtl: 60,
      });
      await get('a');
      await get('a');
      await get('a');
      vi.setSystemTime(Date.now() + 2000);
      await get('a');
      await cache.get('manual:key');
      expect(await counts('quickpost_cache.requests')).toEqual(
        expect.arrayContaining([
          {
            attributes: {
              'quickpost_cache.template': 'posts:{{slug}}',
              'quickpost_cache.result': 'miss',
            },
            value: 1,
          },
          {
            attributes: {
              'quickpost_cache.template': 'posts:{{slug}}',
              'quickpost_cache.result': 'hit',
            },
            value: 2,
          },
          {
            attributes: {
              'quickpost_cache.template': 'posts:{{slug}}',
              'quickpost_cache.result': 'stale',
            },
            value: 1,
          },
          { attributes: { 'quickpost_cache.result': 'miss' }, value: 1 },
        ]),
      );
      expect((await counts('quickpost_cache.requests')).length).toBe(4);
      expect((await metric('quickpost_cache.requests'))?.descriptor.unit).toBe('{request}');
    } finally {
      vi.useRealTimers();
    }
  });

  it('records load durations in seconds, with error.type for failed loads', async () => {
    const { meterProvider, metric } = telemetry();
    const cache = createCache({ store: new AsyncMemoryStore() });
    instrumentCache(cache, { meterProvider });
    const get = cache.cacheable(
      async (slug: string) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (slug === 'bad') throw new TypeError('bad row');
        return slug;
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
    );
    await get('a');
    await get('b');
    await expect(get('bad')).rejects.toThrow('bad row');
    const durations = await metric('quickpost_cache.load.duration');
    expect(durations?.descriptor.unit).toBe('s');
    const points = (durations?.dataPoints ?? []) as DataPoint<Histogram>[];
    const ok = points.find((point) => !('error.type' in point.attributes));
    const failed = points.find((point) => 'error.type' in point.attributes);
    expect(ok?.attributes).toEqual({ 'quickpost_cache.template': 'posts:{{slug}}' });
    expect(ok?.value.count).toBe(2);
    // Each load waited 5 ms at least: seconds, not milliseconds.
    expect(ok?.value.min).toBeGreaterThanOrEqual(0.004);
    expect(ok?.value.max).toBeLessThan(5);
    expect(ok?.value.buckets.boundaries).toEqual([
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]);
    expect(failed?.attributes).toEqual({
      'quickpost_cache.template': 'posts:{{slug}}',
      'error.type': 'TypeError',
    });
    expect(failed?.value.count).toBe(1);
  });

  it('counts invalidations and the keys they removed per template, and store errors', async () => {
    const { meterProvider, counts } = telemetry();
    const store = new ChaosStore(new MemoryStore());
    const cache = createCache({ store, logger: quietLogger, breaker: false });
    instrumentCache(cache, { meterProvider });
    const getPost = cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    const getComments = cache.cacheable(async (slug: string) => [slug], {
      key: 'posts:{{slug}}:comments',
      context: (slug) => ({ slug }),
    });
    await getPost('a');
    await getComments('a');
    const update = cache.invalidating(async (_slug: string) => undefined, {
      patterns: ['posts:{{slug}}:*'],
      context: (slug) => ({ slug }),
    });
    await update('a');
    await cache.deletePattern('other:*');
    const post = { 'quickpost_cache.template': 'posts:{{slug}}' };
    const comments = { 'quickpost_cache.template': 'posts:{{slug}}:comments' };
    expect(await counts('quickpost_cache.invalidations')).toEqual(
      expect.arrayContaining([
        { attributes: post, value: 1 },
        { attributes: comments, value: 1 },
        { attributes: {}, value: 1 },
      ]),
    );
    expect(await counts('quickpost_cache.keys_removed')).toEqual(
      expect.arrayContaining([
        { attributes: post, value: 2 },
        { attributes: comments, value: 2 },
        { attributes: {}, value: 0 },
      ]),
    );
    store.fail('get');
    await getPost('b');
    expect(await counts('quickpost_cache.errors')).toEqual([
      {
        attributes: { ...post, 'quickpost_cache.operation': 'get', 'error.type': 'Error' },
        value: 1,
      },
    ]);
  });

  it('traces each load in a span that is current while the function runs', async () => {
    const { tracerProvider, spans } = telemetry();
    const cache = createCache({ store: new AsyncMemoryStore() });
    instrumentCache(cache, { tracerProvider });
    const tracer = tracerProvider.getTracer('app');
    const getPost = cache.cacheable(
      async function getPost(slug: string) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        // Like a database call's span, made by the database client's instrumentation.
        tracer.startSpan('SELECT posts').end();
        return slug;
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
    );
    await tracer.startActiveSpan('GET /posts/a', async (request) => {
      await getPost('a');
      await getPost('a'); // a hit: no load, no span
      request.end();
    });
    const [select, load, request] = spans.getFinishedSpans();
    expect([select?.name, load?.name, request?.name]).toEqual([
      'SELECT posts',
      'load posts:{{slug}}',
      'GET /posts/a',
    ]);
    expect(load?.kind).toBe(SpanKind.INTERNAL);
    expect(load?.attributes).toEqual({
      'quickpost_cache.template': 'posts:{{slug}}',
      'quickpost_cache.key': 'quickpost:posts:a',
      'code.function.name': 'getPost',
    });
    expect(load?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(select?.parentSpanContext?.spanId).toBe(load?.spanContext().spanId);
    expect(load?.status.code).toBe(SpanStatusCode.UNSET);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('marks the span of a failed load as an error, thrown or rejected', async () => {
    const { tracerProvider, spans } = telemetry();
    const cache = createCache({ store: new MemoryStore() });
    instrumentCache(cache, { tracerProvider });
    const syncFails = cache.cacheable(
      (): number => {
        throw new RangeError('out of range');
      },
      { key: 'sync' },
    );
    const asyncFails = cache.cacheable(async (): Promise<number> => Promise.reject('a string'), {
      key: 'async',
    });
    expect(() => syncFails()).toThrow(RangeError);
    await expect(asyncFails()).rejects.toBe('a string');
    const [sync, rejected] = spans.getFinishedSpans();
    expect(sync?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'out of range' });
    expect(sync?.attributes['error.type']).toBe('RangeError');
    expect(sync?.events.map((event) => event.name)).toEqual(['exception']);
    expect(rejected?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'a string' });
    expect(rejected?.attributes['error.type']).toBe('_OTHER');
  });

  it('traces each attempt of an invalidation, failed ones as errors', async () => {
    const { tracerProvider, spans } = telemetry();
    const store = new ChaosStore(new MemoryStore());
    const cache = createCache({ store, logger: quietLogger, invalidationWait: 0 });
    instrumentCache(cache, { tracerProvider });
    const getPost = cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    await getPost('a');
    const update = cache.invalidating(async function updatePost(_slug: string) {}, {
      patterns: ['posts:{{slug}}'],
      context: (slug) => ({ slug }),
    });
    store.fail('delete');
    await update('a');
    await vi.waitFor(() => expect(spans.getFinishedSpans()).toHaveLength(2));
    store.heal();
    await vi.waitFor(() => expect(spans.getFinishedSpans()).toHaveLength(3));
    const [, failed, confirmed] = spans.getFinishedSpans();
    expect(failed?.name).toBe('invalidate posts:{{slug}}');
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes).toMatchObject({
      'quickpost_cache.pattern': 'quickpost:posts:a',
      'quickpost_cache.invalidation.attempt': 1,
      'code.function.name': 'updatePost',
    });
    expect(confirmed?.status.code).toBe(SpanStatusCode.UNSET);
    expect(confirmed?.attributes).toMatchObject({
      'quickpost_cache.invalidation.attempt': 2,
      'quickpost_cache.keys_removed': 1,
    });
  });

  it('stops recording once the function it answers is called', async () => {
    const { meterProvider, tracerProvider, spans, counts } = telemetry();
    const cache = createCache({ store: new AsyncMemoryStore() });
    const stop = instrumentCache(cache, { meterProvider, tracerProvider });
    const get = cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
    });
    await get('a');
    stop();
    await get('b');
    await get('b');
    expect(await counts('quickpost_cache.requests')).toEqual([
      { attributes: expect.objectContaining({ 'quickpost_cache.result': 'miss' }), value: 1 },
    ]);
    expect(spans.getFinishedSpans()).toHaveLength(1);
  });

  it('refuses what is not a cache', () => {
    expect(() => instrumentCache({} as never)).toThrow(/needs a cache made by createCache/);
  });

  it('serves the metrics to Prometheus with the README recipe', async () => {
    const port = await freePort();
    const exporter = new PrometheusExporter({ host: '127.0.0.1', port });
    try {
      const meterProvider = new MeterProvider({ readers: [exporter] });
      const cache = createCache({ store: new AsyncMemoryStore() });
      instrumentCache(cache, { meterProvider });
      const get = cache.cacheable(async (slug: string) => slug, {
        key: 'posts:{{slug}}',
        context: (slug) => ({ slug }),
      });
      await get('a');
      await get('a');
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toContain(
        'quickpost_cache_requests_total{quickpost_cache_template="posts:{{slug}}",quickpost_cache_result="hit",otel_scope_name="quickpost-cache"} 1',
      );
      expect(text).toContain(
        'quickpost_cache_load_duration_count{quickpost_cache_template="posts:{{slug}}",otel_scope_name="quickpost-cache"} 1',
      );
    } finally {
      await exporter.shutdown();
    }
  });
});
