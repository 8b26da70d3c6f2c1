// The published declarations (dist/index.d.ts), resolved through package.json `exports`.
import { createCache, type MemoryStore, type Store } from 'quickpost-cache';
import { describe, expectTypeOf, it } from 'vitest';

describe('published declarations', () => {
  it('keep the template and sync/async typing of the source', () => {
    const cache = createCache();
    const square = cache.cacheable((n: number) => n * n, {
      key: 'sq:{{n}}',
      context: (n) => ({ n }),
    });
    expectTypeOf(square).toEqualTypeOf<(n: number) => number>();
    // @ts-expect-error the template needs {{n}}
    cache.cacheable((n: number) => n, { key: 'sq:{{n}}', context: () => ({}) });
    expectTypeOf(cache.store).toEqualTypeOf<MemoryStore>();
    // @ts-expect-error internals used by the wrappers are not part of the published API
    cache.reader;
    // @ts-expect-error internals used by the wrappers are not part of the published API
    cache.invalidate;
    const remote = createCache({ store: {} as Store });
    expectTypeOf(remote.get<number>('k')).toEqualTypeOf<Promise<number | undefined>>();
  });
});
