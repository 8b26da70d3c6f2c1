import {
  type AtomicStore,
  atomicOf,
  type IndexedStore,
  indexOf,
  type LeasingReadStore,
  leasingReadOf,
  type NotifyingStore,
  notificationsOf,
  type Store,
  type TaggingStore,
  taggingOf,
} from '../stores/store.js';

/** A method of a store that chaos can be injected into. */
export type ChaosMethod =
  | 'get'
  | 'set'
  | 'delete'
  | 'deletePattern'
  | 'setIfAbsent'
  | 'compareAndSet'
  | 'compareAndDelete'
  | 'track'
  | 'deleteTracked'
  | 'tag'
  | 'invalidateTag';

/** Which calls a rule applies to: `key` is the key (or the pattern, for pattern deletes). */
export type ChaosFilter = (key: string) => boolean;

/** A call held by {@link ChaosStore.hold} until the test releases it. */
export interface HeldCall {
  /** Resolves once a matching call was made (and, for a held reply, answered by the store). */
  readonly reached: Promise<void>;
  /** Lets the held call go on; releasing before it is reached lets it pass without stopping. */
  release(): void;
}

/** Options of {@link ChaosStore.hold}. */
export interface HoldOptions {
  /**
   * `'reply'` (default): the wrapped store runs the call at once and its answer is held, like a
   * reply delayed on the network. `'request'`: the call reaches the store only when released.
   */
  phase?: 'request' | 'reply';
  /** Holds only calls whose key (and, for a held reply, answer) match. */
  when?: (key: string, answer: unknown) => boolean;
}

interface Rule {
  readonly methods: ReadonlySet<ChaosMethod>;
  readonly when: ChaosFilter | undefined;
}

interface FailRule extends Rule {
  readonly error: unknown;
}

interface DelayRule extends Rule {
  readonly ms: () => number;
}

interface Hold extends HeldCall {
  readonly method: ChaosMethod;
  readonly phase: 'request' | 'reply';
  readonly when: ((key: string, answer: unknown) => boolean) | undefined;
  used: boolean;
  arrive(): void;
  readonly released: Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Wraps any store so that tests can make its calls fail, hang, slow down, or stop at a chosen
 * point: a store-agnostic fault injector for tests of code built on the cache. The wrapper always
 * answers with promises, and has the optional atomic, key-index and change-notification methods
 * exactly when the wrapped store has them (so leases, the index and the in-process tier stay on
 * or off as they would be). It has no batches (`batch`): the cache sends each operation on its
 * own, through the rules of its method.
 *
 * @example
 * const store = new ChaosStore(new MemoryStore());
 * const cache = createCache({ store });
 * store.fail('get');             // every GET rejects
 * store.hang(['set']);           // every SET never answers (a frozen server)
 * store.delay('get', 5);         // answers 5 ms late
 * const held = store.hold('compareAndSet');   // the next fill is applied, its reply held
 * await held.reached; …; held.release();
 * store.heal();
 */
export class ChaosStore<S extends Store = Store> implements Store {
  /** Always answers with promises. */
  readonly sync = false;
  /** The wrapped store. */
  readonly inner: S;
  /** How many calls each method received. */
  readonly calls: Record<ChaosMethod, number> = {
    get: 0,
    set: 0,
    delete: 0,
    deletePattern: 0,
    setIfAbsent: 0,
    compareAndSet: 0,
    compareAndDelete: 0,
    track: 0,
    deleteTracked: 0,
    tag: 0,
    invalidateTag: 0,
  };
  /** Present when the wrapped store has atomic writes (then leases stay on). */
  readonly setIfAbsent?: AtomicStore['setIfAbsent'];
  /** Present when the wrapped store has atomic writes. */
  readonly compareAndSet?: AtomicStore['compareAndSet'];
  /** Present when the wrapped store has atomic writes. */
  readonly compareAndDelete?: AtomicStore['compareAndDelete'];
  /**
   * Present when the wrapped store has a leasing read. It is a read: rules and counts for `get`
   * apply to it.
   */
  readonly getOrLease?: LeasingReadStore['getOrLease'];
  /** Present when the wrapped store has a key index (then invalidations use it). */
  readonly track?: IndexedStore['track'];
  /** Present when the wrapped store has a key index. */
  readonly deleteTracked?: IndexedStore['deleteTracked'];
  /** Present when the wrapped store has tags (`key` in rules is the entry's key). */
  readonly tag?: TaggingStore['tag'];
  /** Present when the wrapped store has tags (`key` in rules is the tag). */
  readonly invalidateTag?: TaggingStore['invalidateTag'];
  /** Present when the wrapped store has change notifications (passed through as they are). */
  readonly watch?: NotifyingStore['watch'];
  #failing: FailRule[] = [];
  #hanging: Rule[] = [];
  #delays: DelayRule[] = [];
  #holds: Hold[] = [];

  constructor(inner: S) {
    this.inner = inner;
    const atomic = atomicOf(inner);
    if (atomic !== undefined) {
      this.setIfAbsent = (key, value, ttlMs) =>
        this.#call('setIfAbsent', key, () => atomic.setIfAbsent(key, value, ttlMs));
      this.compareAndSet = (key, expected, value, ttlMs) =>
        this.#call('compareAndSet', key, () => atomic.compareAndSet(key, expected, value, ttlMs));
      this.compareAndDelete = (key, expected) =>
        this.#call('compareAndDelete', key, () => atomic.compareAndDelete(key, expected));
    }
    const leasing = leasingReadOf(inner);
    if (leasing !== undefined) {
      this.getOrLease = (key, lease, ttlMs) =>
        this.#call('get', key, () => leasing.getOrLease(key, lease, ttlMs));
    }
    const notifying = notificationsOf(inner);
    if (notifying !== undefined)
      this.watch = (prefix, listener) => notifying.watch(prefix, listener);
    const tagging = taggingOf(inner);
    if (tagging !== undefined) {
      this.tag = (key, tags, ttlMs, since) =>
        this.#call('tag', key, () => tagging.tag(key, tags, ttlMs, since));
      this.invalidateTag = (tag) =>
        this.#call('invalidateTag', tag, () => tagging.invalidateTag(tag));
    }
    const index = indexOf(inner);
    if (index !== undefined) {
      this.track = (key, ttlMs) => this.#call('track', key, () => index.track(key, ttlMs));
      this.deleteTracked = (pattern) =>
        this.#call('deleteTracked', pattern, () => index.deleteTracked(pattern));
    }
  }

  /** Makes calls of `methods` reject with `error` (the store is not called). */
  fail(
    methods: ChaosMethod | readonly ChaosMethod[],
    options: { error?: unknown; when?: ChaosFilter } = {},
  ): this {
    this.#failing.push({
      methods: toSet(methods),
      when: options.when,
      error: options.error ?? new Error('chaos: store is down'),
    });
    return this;
  }

  /** Makes calls of `methods` never answer (the store is not called), like a frozen server. */
  hang(methods: ChaosMethod | readonly ChaosMethod[], options: { when?: ChaosFilter } = {}): this {
    this.#hanging.push({ methods: toSet(methods), when: options.when });
    return this;
  }

  /** Delays the answers of `methods` by `ms` (a number, or a function drawn per call). */
  delay(
    methods: ChaosMethod | readonly ChaosMethod[],
    ms: number | (() => number),
    options: { when?: ChaosFilter } = {},
  ): this {
    this.#delays.push({
      methods: toSet(methods),
      when: options.when,
      ms: typeof ms === 'number' ? () => ms : ms,
    });
    return this;
  }

  /** Stops the next matching call of `method` until the returned handle is released. */
  hold(method: ChaosMethod, options: HoldOptions = {}): HeldCall {
    let arrive!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hold: Hold = {
      method,
      phase: options.phase ?? 'reply',
      when: options.when,
      used: false,
      reached,
      released,
      arrive,
      release,
    };
    this.#holds.push(hold);
    return hold;
  }

  /** Removes every fault and releases every hold. */
  heal(): void {
    this.#failing = [];
    this.#hanging = [];
    this.#delays = [];
    for (const hold of this.#holds) hold.release();
    this.#holds = [];
  }

  get(key: string): Promise<string | null | undefined> {
    return this.#call('get', key, () => this.inner.get(key));
  }

  set(key: string, value: string, ttlMs: number): Promise<unknown> {
    return this.#call('set', key, () => this.inner.set(key, value, ttlMs));
  }

  delete(key: string): Promise<boolean> {
    return this.#call('delete', key, () => this.inner.delete(key));
  }

  deletePattern(pattern: string): Promise<number> {
    return this.#call('deletePattern', pattern, () => this.inner.deletePattern(pattern));
  }

  /** Runs one call through the rules, in order: fail, hang, held request, store, held reply, delay. */
  async #call<T>(method: ChaosMethod, key: string, run: () => T | Promise<T>): Promise<T> {
    this.calls[method] += 1;
    const failing = this.#failing.find((rule) => applies(rule, method, key));
    if (failing !== undefined) throw failing.error;
    if (this.#hanging.some((rule) => applies(rule, method, key))) {
      return new Promise<T>(() => undefined);
    }
    const request = this.#claimHold(method, 'request', key, undefined);
    if (request !== undefined) {
      request.arrive();
      await request.released;
    }
    const answer = await run();
    const reply = this.#claimHold(method, 'reply', key, answer);
    if (reply !== undefined) {
      reply.arrive();
      await reply.released;
    }
    const delay = this.#delays.find((rule) => applies(rule, method, key));
    if (delay !== undefined) await sleep(delay.ms());
    return answer;
  }

  #claimHold(
    method: ChaosMethod,
    phase: 'request' | 'reply',
    key: string,
    answer: unknown,
  ): Hold | undefined {
    const hold = this.#holds.find(
      (candidate) =>
        !candidate.used &&
        candidate.method === method &&
        candidate.phase === phase &&
        (candidate.when === undefined || candidate.when(key, answer)),
    );
    if (hold !== undefined) hold.used = true;
    return hold;
  }
}

function toSet(methods: ChaosMethod | readonly ChaosMethod[]): ReadonlySet<ChaosMethod> {
  return new Set(typeof methods === 'string' ? [methods] : methods);
}

function applies(rule: Rule, method: ChaosMethod, key: string): boolean {
  return rule.methods.has(method) && (rule.when === undefined || rule.when(key));
}
