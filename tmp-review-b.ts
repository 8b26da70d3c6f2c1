import { createCache, MemoryStore, type Store, type AtomicStore } from './src/index.js';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Async wrapper over MemoryStore, with a switch to make value fills (CAS of an entry) reject. */
class AsyncStore implements Store, AtomicStore {
  inner = new MemoryStore();
  failFill = false;
  get(k: string) { return Promise.resolve(this.inner.get(k)); }
  set(k: string, v: string, t: number) { return Promise.resolve(this.inner.set(k, v, t)); }
  delete(k: string) { return Promise.resolve(this.inner.delete(k)); }
  deletePattern(p: string) { return Promise.resolve(this.inner.deletePattern(p)); }
  setIfAbsent(k: string, v: string, t: number) { return Promise.resolve(this.inner.setIfAbsent(k, v, t)); }
  compareAndSet(k: string, e: string, v: string, t: number | undefined) {
    if (this.failFill && v.charCodeAt(0) === 1) return Promise.reject(new Error('fill failed'));
    return Promise.resolve(this.inner.compareAndSet(k, e, v, t));
  }
  compareAndDelete(k: string, e: string) { return Promise.resolve(this.inner.compareAndDelete(k, e)); }
}

async function t5() {
  // A hung function holds its lease forever (extended every ttl/2): every other instance waits `wait`.
  const store = new MemoryStore();
  const a = createCache({ store, logger: quiet, lease: { ttl: 100, wait: 200 } });
  const b = createCache({ store, logger: quiet, lease: { ttl: 100, wait: 200 } });
  a.cacheable(async () => { await new Promise(() => {}); }, { key: 'h' })();
  const getB = b.cacheable(async () => 'b', { key: 'h' });
  await sleep(1000);
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) await getB();
  console.log('T5 3 calls on instance B, 1 s after A hung (lease ttl 100 ms):', Math.round(performance.now() - t0), 'ms; key still holds lease:', store.get('quickpost:h')?.charCodeAt(0) === 2);
}

async function t6() {
  // failed fill leaves the lease marker in place: joiners pay fn + wait + fn; other callers wait `wait`
  const store = new AsyncStore();
  const a = createCache({ store, logger: quiet, lease: { wait: 300 } });
  store.failFill = true;
  let runs = 0;
  const get = a.cacheable(async () => { runs++; await sleep(50); return 'v'; }, { key: 'f' });
  const t0 = performance.now();
  const starter = get();
  await sleep(1);
  const joiner = get();
  await starter;
  const tStarter = performance.now() - t0;
  await joiner;
  console.log(`T6 failed fill: starter ${Math.round(tStarter)} ms, joiner ${Math.round(performance.now() - t0)} ms (fn 50 ms, timeout 150), runs=${runs}, marker left:`, store.inner.get('quickpost:f')?.charCodeAt(0) === 2);
  store.failFill = false;
  const t1 = performance.now();
  await get();
  console.log(`T6 next call after store healthy again: ${Math.round(performance.now() - t1)} ms`);
}

async function t7() {
  // SWR: after a failed refresh, the claimed stale value is served as a fresh "hit" and not refreshed for lease.ttl
  const store = new MemoryStore();
  const c = createCache({ store, logger: quiet });
  const events: string[] = [];
  c.on('hit', () => events.push('hit')); c.on('stale', () => events.push('stale')); c.on('refresh', () => events.push('refresh'));
  let fail = false; let n = 0;
  const get = c.cacheable(async () => { if (fail) throw new Error('db'); return ++n; }, { key: 's', ttl: 0.05, staleTtl: 60 });
  await get();
  await sleep(80);
  fail = true;
  await get(); await sleep(10);
  await get(); await get();
  console.log('T7 events after a failed stale refresh:', events.join(','));
}

async function t8() {
  // early refresh with staleTtl 0 that outlives the physical TTL: dropped and reported as "invalidated"
  const store = new MemoryStore();
  const c = createCache({ store, logger: quiet });
  const ev: string[] = [];
  c.on('skip', (e) => ev.push('skip:' + e.reason)); c.on('refresh', (e) => ev.push('refresh:' + e.reason)); c.on('miss', () => ev.push('miss'));
  let slow = false;
  const get = c.cacheable(async () => { await sleep(slow ? 300 : 100); return 1; }, { key: 'e', ttl: 0.2, earlyRefresh: 50 });
  await get(); slow = true;
  await get();
  await sleep(400);
  await get();
  console.log('T8 events:', ev.join(', '));
}

await t5();
