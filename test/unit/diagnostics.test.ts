import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  channelNames,
  createCache,
  type EventMessage,
  type InvalidateMessage,
  type LoadMessage,
  MemoryStore,
} from '../../src/index.js';
import { ChaosStore } from '../../src/testing/index.js';
import { AsyncMemoryStore, quietLogger } from '../helpers/stores.js';

type Phase = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';

/** Unsubscribes what a test subscribed. */
const unsubscribes: (() => void)[] = [];
afterEach(() => {
  for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
});

/** Records every event of a tracing channel as `phase`, with a copy of the message then. */
function recordTrace<M extends object>(name: string): { phase: Phase; message: M }[] {
  const seen: { phase: Phase; message: M }[] = [];
  const channel = diagnostics.tracingChannel<unknown, M>(name);
  const record = (phase: Phase) => (message: M) => seen.push({ phase, message: { ...message } });
  const handlers = {
    start: record('start'),
    end: record('end'),
    asyncStart: record('asyncStart'),
    asyncEnd: record('asyncEnd'),
    error: record('error'),
  };
  channel.subscribe(handlers);
  unsubscribes.push(() => channel.unsubscribe(handlers));
  return seen;
}

describe('diagnostics channels', () => {
  it('trace each load of an async function on quickpost-cache:load: start, end, asyncStart, asyncEnd', async () => {
    const seen = recordTrace<LoadMessage>(channelNames.load);
    const cache = createCache({ store: new AsyncMemoryStore() });
    const getPost = cache.cacheable(async (slug: string) => ({ slug }), {
      key: 'posts:{{slug}}',
      context: (slug) => ({ slug }),
      name: 'getPost',
    });
    await getPost('a');
    await getPost('a'); // a hit: no load
    expect(seen.map(({ phase }) => phase)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    const [start, , asyncStart] = seen;
    expect(start?.message).toEqual({
      cache,
      source: expect.objectContaining({ name: 'getPost', template: 'posts:{{slug}}' }),
      key: 'quickpost:posts:a',
    });
    expect(asyncStart?.message.result).toEqual({ slug: 'a' });
  });

  it('trace a synchronous function synchronously: the wrapper still answers a plain value', () => {
    const seen = recordTrace<LoadMessage>(channelNames.load);
    const cache = createCache({ store: new MemoryStore() });
    const square = cache.cacheable((n: number) => n * n, {
      key: 'sq:{{n}}',
      context: (n) => ({ n }),
    });
    expect(square(3)).toBe(9);
    expect(seen.map(({ phase }) => phase)).toEqual(['start', 'end']);
    expect(seen[1]?.message.result).toBe(9);
  });

  it('publish a failed load on the error channel, thrown or rejected', async () => {
    const seen = recordTrace<LoadMessage>(channelNames.load);
    const cache = createCache({ store: new MemoryStore() });
    const broken = new Error('db down');
    const syncFails = cache.cacheable(
      (): number => {
        throw broken;
      },
      { key: 'sync' },
    );
    const asyncFails = cache.cacheable(async (): Promise<number> => Promise.reject(broken), {
      key: 'async',
    });
    expect(() => syncFails()).toThrow(broken);
    expect(seen.map(({ phase }) => phase)).toEqual(['start', 'error', 'end']);
    seen.length = 0;
    await expect(asyncFails()).rejects.toBe(broken);
    expect(seen.map(({ phase }) => phase)).toEqual([
      'start',
      'end',
      'error',
      'asyncStart',
      'asyncEnd',
    ]);
    expect(seen[2]?.message.error).toBe(broken);
  });

  it('run the function with the stores bound to the start channel (how APM tools set their context)', async () => {
    const storage = new AsyncLocalStorage<string>();
    const start = diagnostics.tracingChannel<unknown, LoadMessage>(channelNames.load).start;
    start.bindStore(storage, (message) => `span for ${message.key}`);
    unsubscribes.push(() => start.unbindStore(storage));
    const cache = createCache({ store: new AsyncMemoryStore() });
    const seenInside: (string | undefined)[] = [];
    const get = cache.cacheable(
      async (slug: string) => {
        seenInside.push(storage.getStore());
        await new Promise((resolve) => setTimeout(resolve, 1));
        seenInside.push(storage.getStore());
        return slug;
      },
      { key: 'posts:{{slug}}', context: (slug) => ({ slug }) },
    );
    expect(storage.getStore()).toBeUndefined();
    await get('a');
    expect(seenInside).toEqual(['span for quickpost:posts:a', 'span for quickpost:posts:a']);
    expect(storage.getStore()).toBeUndefined();
  });

  it('trace each attempt of an invalidation on quickpost-cache:invalidate, with the keys removed or the error', async () => {
    const seen = recordTrace<InvalidateMessage>(channelNames.invalidate);
    const store = new ChaosStore(new MemoryStore());
    const cache = createCache({ store, logger: quietLogger, invalidationWait: 0 });
    const get = cache.cacheable(async (slug: string) => slug, {
      key: 'posts:{{slug}}:body',
      context: (slug) => ({ slug }),
    });
    await get('a');
    const update = cache.invalidating(async (_slug: string) => 'saved', {
      patterns: ['posts:{{slug}}:*'],
      context: (slug) => ({ slug }),
      name: 'updatePost',
    });
    const refused = new Error('READONLY');
    store.fail(['deletePattern', 'deleteTracked'], { error: refused });
    expect(await update('a')).toBe('saved');
    await vi.waitFor(() => expect(seen.some(({ phase }) => phase === 'error')).toBe(true));
    store.heal();
    await vi.waitFor(() =>
      expect(seen.filter(({ phase }) => phase === 'asyncEnd')).toHaveLength(2),
    );
    const first = seen.filter(({ message }) => message.attempt === 1);
    const second = seen.filter(({ message }) => message.attempt === 2);
    expect(first.map(({ phase }) => phase)).toEqual([
      'start',
      'end',
      'error',
      'asyncStart',
      'asyncEnd',
    ]);
    expect(first[2]?.message).toMatchObject({
      cache,
      pattern: 'quickpost:posts:a:*',
      error: refused,
      source: expect.objectContaining({ name: 'updatePost' }),
    });
    expect(second.map(({ phase }) => phase)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(second[3]?.message.result).toBe(1);
  });

  it('publish hits, stale values and misses on their channels, with the cache', async () => {
    vi.useFakeTimers();
    try {
      const messages: string[] = [];
      for (const name of ['hit', 'stale', 'miss'] as const) {
        const listener = (message: unknown) => {
          const { cache: from, source, key } = message as EventMessage<typeof name>;
          messages.push(`${name} ${source.template} ${key} ${from === cache}`);
        };
        diagnostics.subscribe(channelNames[name], listener);
        unsubscribes.push(() => diagnostics.unsubscribe(channelNames[name], listener));
      }
      const cache = createCache({ store: new AsyncMemoryStore(), stats: false });
      const get = cache.cacheable(async () => 1, { key: 'k', ttl: 1, staleTtl: 60 });
      await get();
      await get();
      await vi.advanceTimersByTimeAsync(2000);
      await get();
      expect(messages).toEqual([
        'miss k quickpost:k true',
        'hit k quickpost:k true',
        'stale k quickpost:k true',
      ]);
    } finally {
      vi.useRealTimers();
    }
  });
});
