import { createCache, MemoryStore } from './src/index.js';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function t1() {
  // getOrSet with a plain (non-async) function returning a promise on MemoryStore
  const cache = createCache({ store: new MemoryStore(), logger: quiet });
  let runs = 0;
  const compute = () => { runs += 1; return sleep(10).then(() => 'v'); };
  await Promise.all([cache.getOrSet('k', compute), cache.getOrSet('k', compute), cache.getOrSet('k', compute)]);
  await cache.getOrSet('k', compute);
  console.log('T1 getOrSet non-async promise fn: runs =', runs, 'stored =', cache.get('k'));
}

async function t2() {
  // computeOnly flight marked confirmed: late joiner after a cross-instance invalidation gets old value
  const store = new MemoryStore();
  const x = createCache({ store, logger: quiet });
  const a = createCache({ store, logger: quiet, lease: { wait: 10 } });
  const w = createCache({ store, logger: quiet });
  let row = 'v1';
  let gateX!: () => void;
  const holder = x.cacheable(async () => { await new Promise<void>((r) => (gateX = r)); return 'x'; }, { key: 'p' });
  let gateA!: () => void;
  let first = true;
  const getA = a.cacheable(async () => {
    const seen = row;
    if (first) { first = false; await new Promise<void>((r) => (gateA = r)); }
    return seen;
  }, { key: 'p' });
  const upd = w.invalidating(async () => { row = 'v2'; }, { patterns: ['p'] });
  const h = holder();
  await sleep(5);
  const early = getA();       // waits 10 ms on x's lease, then computes unleased (reads v1), blocks
  await sleep(40);
  await upd();                // invalidation returned
  const late = getA();        // arrives after the invalidation returned
  gateA();
  console.log('T2 early =', await early, ' late (arrived after invalidation) =', await late, ' row =', row);
  gateX(); await h;
}

async function t3() {
  // sync store + breaker open: manual set returns a promise; invalidation sums promises
  let throwing = false;
  const inner = new MemoryStore();
  const store = {
    sync: true as const,
    get: (k: string) => inner.get(k),
    set: (k: string, v: string, t: number) => { if (throwing) throw new Error('busy'); inner.set(k, v, t); },
    delete: (k: string) => { if (throwing) throw new Error('busy'); return inner.delete(k); },
    deletePattern: (p: string) => { if (throwing) throw new Error('busy'); return inner.deletePattern(p); },
  };
  const cache = createCache({ store, logger: quiet, breaker: { failures: 2, cooldown: 10000 } });
  throwing = true;
  for (let i = 0; i < 2; i++) { try { cache.set('a', 1); } catch {} }
  throwing = false;
  process.once('unhandledRejection', (e) => console.log('T3 unhandledRejection:', (e as Error).message));
  const r = cache.set('a', 1);
  console.log('T3 set() on sync store with breaker open returned', Object.prototype.toString.call(r));
  const n = cache.deletePattern('a*');
  console.log('T3 deletePattern() returned', JSON.stringify(n), typeof n);
  const inv = cache.invalidating(function mut() { return 42; }, { patterns: ['a*'] });
  console.log('T3 invalidating (sync) returned', inv());
  await sleep(20);
}

async function t4() {
  // escaped __proto__ bypasses the fast path
  const store = new MemoryStore();
  const cache = createCache({ store, logger: quiet });
  store.set('quickpost:k', `\x011j|9999999999999|0|{"\\u005f_proto__":{"polluted":1}}`, 60000);
  const v = cache.get('k') as Record<string, unknown>;
  console.log('T4 own keys:', Object.keys(v), 'hasOwn __proto__:', Object.hasOwn(v, '__proto__'));
  const merge = (t: any, s: any) => { for (const k of Object.keys(s)) { const val = s[k]; if (typeof val === 'object' && val) t[k] = merge(t[k] ?? {}, val); else t[k] = val; } return t; };
  merge({}, v);
  console.log('T4 polluted after naive merge:', ({} as any).polluted);
  delete (Object.prototype as any).polluted;
}

await t1(); await t2(); await t3(); await t4();
