/**
 * Invalidation that is never lost: each pattern (or tag) is deleted from the store, and until the
 * store has confirmed it, it stays pending here, retried with backoff, and this instance serves
 * no key it matches (for a tag: no entry of a wrapper with tags) from the store. Requests for a
 * pattern already pending are merged; a request made while a delete of the same pattern is
 * running is covered only by the next one (the running delete may have passed keys written
 * afterwards).
 */
import { createGlobMatcher } from '../glob.js';
import type { IndexAnswer, IndexedStore, Store, TaggingStore } from '../stores/store.js';
import type { Log } from '../util/logger.js';
import { attempt, chain, isThenable, within } from '../util/maybe-promise.js';
import type { Emitter, EventSource, InvalidationKind } from './events.js';
import type { StoreGuard } from './guard.js';
import { Scope, Scopes } from './scopes.js';
import type { Telemetry } from './telemetry.js';

/** A trailing `:*` whose `:` and `*` are not escaped. */
const TRAILING_COLON_STAR = /(?<!\\)(?:\\\\)*:\*$/;
const GLOB_SPECIAL = /[*?[\\]/;
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 2000;

/**
 * What an invalidation of the full-key `pattern` deletes, each part as one delete: the pattern,
 * and the key without its trailing `:*` (which the pattern also covers). A part without wildcards
 * is one key (`literal`), deleted as a key; any other part is a pattern delete.
 */
export function partsOf(
  pattern: string,
): { readonly pattern: string; readonly literal: boolean }[] {
  const parts = [pattern];
  if (TRAILING_COLON_STAR.test(pattern)) parts.push(pattern.slice(0, -2));
  return parts.map((part) => ({ pattern: part, literal: !GLOB_SPECIAL.test(part) }));
}

/** What an invalidator needs from its cache. */
export interface InvalidatorOptions {
  readonly store: Store;
  /** The store's key index, asked before a pattern delete walks the keyspace. */
  readonly index: (Store & IndexedStore) | undefined;
  readonly guard: StoreGuard;
  readonly events: Emitter;
  readonly logger: Log;
  /** Longest wait for one delete attempt, ms. */
  readonly attemptTimeoutMs: number;
  /** Most patterns kept pending; beyond it they merge into `everything` (the cache's whole prefix). */
  readonly maxPending: number;
  /** The pattern matching every key of the cache. */
  readonly everything: string;
  /** Marks in-process computations and refreshes of matching keys as overtaken. */
  abandon(pattern: string): void;
  /** Traces each delete attempt for whoever listens. */
  readonly telemetry: Telemetry;
  /** The key templates of the cache's `cacheable` wrappers that a full pattern can match. */
  templatesOf(pattern: string): readonly string[];
  /** The store's tags, when it has them. */
  readonly tagging: (Store & TaggingStore) | undefined;
  /**
   * Marks in-process computations of entries that may carry tags as overtaken (a tag
   * invalidation may concern any of them: their tags are known only once they are computed).
   */
  abandonTagged(): void;
  /** Drops keys a tag invalidation removed from what this instance holds (its tier, its memory). */
  forget(keys: readonly string[]): void;
  /** The key templates of the cache's `cacheable` wrappers with tags. */
  taggedTemplates(): readonly string[];
}

/** One request's share of a pattern: told how each delete that started after it ended. */
interface Ticket {
  /** When it was requested, epoch ms. */
  readonly at: number;
  confirm(count: number): void;
  fail(error: unknown): void;
}

/**
 * A requested invalidation. Each method answers with a number when a synchronous store answered
 * at once, else a promise.
 */
export interface Requested {
  /** How many keys were removed, once the store confirmed every pattern (through any retries). */
  confirmed(): number | Promise<number>;
  /**
   * How many keys the first delete attempt removed, or that attempt's error (thrown, or the
   * promise rejects); the invalidation then stays pending and is retried.
   */
  attempted(): number | Promise<number>;
}

/** A number, or a promise of one that settles later. */
interface Eventually {
  settled: boolean;
  value?: number;
  error?: unknown;
  resolve?: () => void;
}

interface Pending {
  readonly kind: InvalidationKind;
  /** The full pattern, or the full tag. */
  readonly pattern: string;
  /** The key without the trailing `:*`, which the pattern also covers. */
  readonly base: string | undefined;
  readonly matches: (key: string) => boolean;
  source: EventSource;
  /** Requests not yet covered by a delete that started after them. */
  waiting: Ticket[];
  /** Requests covered by the delete running now, if one runs. */
  running: Ticket[] | undefined;
  /** Failed attempts so far. */
  failures: number;
  retry: NodeJS.Timeout | undefined;
}

/** What a request held by a deferral scope answers: nothing is removed until the scope ends. */
const HELD: Requested = { confirmed: () => 0, attempted: () => 0 };

/** Whether a key matches a full-key pattern; a trailing `:*` also covers the key without it. */
export function patternMatcher(pattern: string): (key: string) => boolean {
  const [inPattern, inBase] = partsOf(pattern).map((part) => createGlobMatcher(part.pattern)) as [
    (key: string) => boolean,
    ((key: string) => boolean) | undefined,
  ];
  return inBase === undefined ? inPattern : (key) => inPattern(key) || inBase(key);
}

/** How one delete attempt ended. */
type Attempted = { readonly count: number } | { readonly error: unknown };

/** Deletes patterns from the store, durably (see the module comment). */
export class Invalidator {
  readonly #options: InvalidatorOptions;
  readonly #pending = new Map<string, Pending>();
  /** Why the index could not answer, each reason logged once. */
  readonly #unanswered = new Set<string>();
  readonly #scopes = new Scopes();
  /** How many of the pending entries are tags. */
  #pendingTags = 0;

  constructor(options: InvalidatorOptions) {
    this.#options = options;
  }

  /** How many patterns await the store's confirmation. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Pending invalidations: how many patterns await the store's confirmation, how many of them
   * failed at least once (retrying), and since when the oldest unconfirmed request waits (epoch
   * ms; `undefined` when none).
   */
  pendingSummary(): { pending: number; retrying: number; oldestAt: number | undefined } {
    let retrying = 0;
    let oldestAt: number | undefined;
    for (const entry of this.#pending.values()) {
      if (entry.failures > 0) retrying += 1;
      for (const ticket of [entry.running?.[0], entry.waiting[0]]) {
        if (ticket !== undefined && (oldestAt === undefined || ticket.at < oldestAt)) {
          oldestAt = ticket.at;
        }
      }
    }
    return { pending: this.#pending.size, retrying, oldestAt };
  }

  /**
   * Whether a tag invalidation awaits the store's confirmation, or is held by the caller's
   * deferral scope: then no entry of a wrapper with tags is served from the store (any of them
   * may carry the tag).
   */
  blocksTagged(): boolean {
    return this.#pendingTags > 0 || this.#scopes.current()?.holdsTags === true;
  }

  /** Whether `key` matches an invalidation not yet confirmed (then it is not served from the store). */
  blocks(key: string): boolean {
    if (this.#scopes.current()?.matches(key) === true) return true;
    if (this.#pending.size === 0) return false;
    for (const entry of this.#pending.values()) {
      if (entry.matches(key)) return true;
    }
    return false;
  }

  /**
   * Requests the deletion of full-key `patterns` (a trailing `:*` also covers the key without
   * it) and of the entries carrying full `tags` (each tag is stamped, then its entries deleted:
   * see `TaggingStore`). Computations of matching keys in this instance (for tags: of every
   * entry that may carry tags) are overtaken at once. Answers with how many keys were removed
   * once the store confirmed every pattern and tag: directly on a synchronous store that
   * succeeds at once, else a promise that waits through retries.
   */
  request(
    patterns: readonly string[],
    source: EventSource,
    tags: readonly string[] = [],
  ): Requested {
    const scope = this.#scopes.current();
    if (scope !== undefined) {
      scope.add(patterns, source);
      scope.addTags(tags, source);
      return HELD;
    }
    // Every pattern is requested before anything is answered: one failing delete must not keep
    // the others from being tried.
    return answered([
      ...patterns.map((pattern) => this.#requestOne('pattern', pattern, source)),
      ...tags.map((tag) => this.#requestOne('tag', tag, source)),
    ]);
  }

  /**
   * Runs `fn`, holding every invalidation requested inside it (see scopes.ts); once it resolves,
   * requests them and waits up to `waitMs` for the store's confirmation (they go on in the
   * background, durably, after that). If `fn` throws, nothing is requested. Inside another
   * scope, `fn` simply runs: the outermost scope holds everything.
   */
  async defer<T>(fn: () => T | PromiseLike<T>, waitMs: number): Promise<Awaited<T>> {
    if (this.#scopes.current() !== undefined) return await fn();
    const scope = new Scope(patternMatcher);
    const value = await this.#scopes.run(scope, async () => await fn());
    const held = scope.bySource();
    if (held.size > 0) {
      const confirmed = [...held].map(([source, { patterns, tags }]) =>
        this.request(patterns, source, tags).confirmed(),
      );
      // A failure is the invalidator's to log and retry: the transaction has committed, `fn`'s
      // value stands.
      await within(Promise.all(confirmed), waitMs).catch(() => undefined);
    }
    return value;
  }

  /**
   * Waits up to `timeoutMs` for every pending invalidation to be confirmed, then stops retrying;
   * answers with the patterns still unconfirmed (logged: their keys stay stale until their TTL).
   */
  async drain(timeoutMs: number): Promise<string[]> {
    const until = Date.now() + timeoutMs;
    while (this.#pending.size > 0 && Date.now() < until) {
      for (const entry of this.#pending.values()) {
        if (entry.retry !== undefined && entry.running === undefined) {
          clearTimeout(entry.retry);
          this.#start(entry);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const left = [...this.#pending.values()].map(
      (entry) => `${entry.kind === 'tag' ? 'tag ' : ''}${entry.pattern}`,
    );
    for (const entry of this.#pending.values()) clearTimeout(entry.retry);
    this.#pending.clear();
    this.#pendingTags = 0;
    if (left.length > 0) {
      this.#options.logger.error(
        `[Cache] ERROR: closing with ${left.length} unconfirmed ${left.length === 1 ? 'invalidation' : 'invalidations'} (${left.join(', ')}); other processes may serve those keys until their TTL ends`,
      );
    }
    return left;
  }

  #requestOne(
    kind: InvalidationKind,
    requested: string,
    source: EventSource,
  ): { confirmed: Eventually; attempted: Eventually } {
    const id = idOf(kind, requested);
    // Beyond the limit, anything new merges into one pattern covering every key of the cache.
    const overflow = this.#pending.size >= this.#options.maxPending && !this.#pending.has(id);
    const type: InvalidationKind = overflow ? 'pattern' : kind;
    const pattern = overflow ? this.#options.everything : requested;
    let base: string | undefined;
    if (type === 'tag') {
      this.#options.abandonTagged();
    } else {
      base = partsOf(pattern)[1]?.pattern;
      this.#options.abandon(pattern);
      if (base !== undefined) this.#options.abandon(base);
    }
    let entry = this.#pending.get(idOf(type, pattern));
    if (entry === undefined) {
      entry = {
        kind: type,
        pattern,
        base,
        matches: type === 'tag' ? never : patternMatcher(pattern),
        source,
        waiting: [],
        running: undefined,
        failures: 0,
        retry: undefined,
      };
      this.#pending.set(idOf(type, pattern), entry);
      if (type === 'tag') this.#pendingTags += 1;
    }
    entry.source = source;
    const confirmed = eventually();
    const attempted = eventually();
    entry.waiting.push({
      at: Date.now(),
      confirm: (count) => {
        settle(confirmed, count);
        settle(attempted, count);
      },
      fail: (error) => settle(attempted, undefined, error),
    });
    // A delete starts now unless one is running (it starts again when that one ends) or a retry
    // is scheduled (it covers this request).
    if (entry.running === undefined && entry.retry === undefined) this.#start(entry);
    return { confirmed, attempted };
  }

  /** One delete attempt covering every request waiting on `entry`. */
  #start(entry: Pending): void {
    entry.retry = undefined;
    entry.running = entry.waiting;
    entry.waiting = [];
    const { events } = this.#options;
    if (entry.failures > 0 && events.has('invalidationRetry')) {
      events.emit('invalidationRetry', {
        source: entry.source,
        kind: entry.kind,
        pattern: entry.pattern,
        attempt: entry.failures + 1,
      });
    }
    const run = () => this.#delete(entry);
    const outcome = attempt<Attempted>(
      () =>
        chain(
          this.#options.telemetry.invalidate(
            entry.source,
            entry.kind,
            entry.pattern,
            entry.failures + 1,
            run,
          ),
          (count) => ({ count }),
        ),
      (error: unknown) => ({ error }),
    );
    if (isThenable(outcome)) outcome.then((result) => this.#finish(entry, result));
    else this.#finish(entry, outcome);
  }

  #delete(entry: Pending): number | PromiseLike<number> {
    if (entry.kind === 'tag') return this.#deleteTag(entry.pattern);
    const { base, source } = entry;
    return chain(this.#deleteOne(entry.pattern, source), (removed) =>
      base === undefined
        ? removed
        : chain(this.#deleteOne(base, source), (count) => removed + count),
    );
  }

  /**
   * Deletes what one pattern matches: a key without wildcards is one delete, anything else a
   * pattern delete. Outside the breaker: an open breaker must not drop an invalidation, and
   * background retries must not keep the breaker open for the reads.
   */
  #deleteOne(pattern: string, source: EventSource): number | PromiseLike<number> {
    const { store, guard, index, attemptTimeoutMs } = this.#options;
    if (!GLOB_SPECIAL.test(pattern)) {
      return chain(
        guard.bound(() => store.delete(pattern)),
        (gone): number => (gone ? 1 : 0),
      );
    }
    const scan = () => guard.bound(() => store.deletePattern(pattern), attemptTimeoutMs);
    if (index === undefined) return scan();
    return chain(
      guard.bound(() => index.deleteTracked(pattern), attemptTimeoutMs),
      (answer: IndexAnswer) => {
        if ('removed' in answer) return answer.removed;
        this.#reportScan(pattern, answer, source);
        return scan();
      },
    );
  }

  /**
   * Stamps the tag and deletes its entries, outside the breaker like pattern deletes; the keys
   * removed leave this instance's tier at once.
   */
  #deleteTag(tag: string): number | PromiseLike<number> {
    const { guard, tagging, attemptTimeoutMs } = this.#options;
    if (tagging === undefined) {
      throw new Error(`the store has no tags, so the tag ${tag} cannot be invalidated`);
    }
    return chain(
      guard.bound(() => tagging.invalidateTag(tag), attemptTimeoutMs),
      ({ removed, keys }) => {
        this.#options.forget(keys);
        return removed;
      },
    );
  }

  /**
   * A pattern the index could not answer: a `scan` event, and, when the index is not kept at all,
   * one log line per reason (a pattern the index is merely unfit for is normal: debug only).
   */
  #reportScan(
    pattern: string,
    answer: { readonly unanswered: string; readonly disabled?: boolean },
    source: EventSource,
  ): void {
    const { events, logger } = this.#options;
    const reason = answer.unanswered;
    if (answer.disabled === true && !this.#unanswered.has(reason)) {
      this.#unanswered.add(reason);
      logger.warn(`[Cache] NO KEY INDEX: ${reason}`);
    }
    if (events.has('scan')) events.emit('scan', { source, pattern, reason });
  }

  /** An entry whose requests were all confirmed leaves the pending ones. */
  #settled(entry: Pending): void {
    this.#pending.delete(idOf(entry.kind, entry.pattern));
    if (entry.kind === 'tag') this.#pendingTags -= 1;
  }

  #finish(entry: Pending, result: Attempted): void {
    const covered = entry.running ?? [];
    entry.running = undefined;
    const tag = entry.kind === 'tag';
    const { events, logger } = this.#options;
    if ('count' in result) {
      if (entry.failures > 0) {
        logger.warn(
          `[Cache] INVALIDATION CONFIRMED: ${tag ? 'tag ' : ''}${entry.pattern} after ${entry.failures + 1} attempts`,
        );
      }
      if (events.has('invalidate')) {
        events.emit('invalidate', {
          source: entry.source,
          kind: entry.kind,
          pattern: entry.pattern,
          count: result.count,
          attempts: entry.failures + 1,
          templates: tag
            ? this.#options.taggedTemplates()
            : this.#options.templatesOf(entry.pattern),
        });
      }
      entry.failures = 0;
      for (const ticket of covered) ticket.confirm(result.count);
      if (entry.waiting.length > 0) this.#start(entry);
      else this.#settled(entry);
      return;
    }
    entry.failures += 1;
    for (const ticket of covered) ticket.fail(result.error);
    entry.waiting = covered.concat(entry.waiting);
    if (entry.failures === 1) {
      logger.warn(
        tag
          ? `[Cache] INVALIDATION PENDING: invalidating the tag ${entry.pattern} failed; retrying until the store confirms it, and serving no entry of a wrapper with tags from the store meanwhile`
          : `[Cache] INVALIDATION PENDING: deleting ${entry.pattern} failed; retrying until the store confirms it, and serving no matching key from the store meanwhile`,
        result.error,
      );
      if (events.has('invalidationPending')) {
        events.emit('invalidationPending', {
          source: entry.source,
          kind: entry.kind,
          pattern: entry.pattern,
          error: result.error,
        });
      }
      if (events.has('error')) {
        events.emit('error', {
          source: entry.source,
          operation: 'invalidate',
          key: entry.pattern,
          error: result.error,
        });
      }
    }
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (entry.failures - 1));
    entry.retry = setTimeout(() => this.#start(entry), delay * (0.5 + Math.random() / 2));
    entry.retry.unref?.();
  }
}

/** The answer to a request of several patterns or tags: the sums of their outcomes. */
function answered(slots: readonly { confirmed: Eventually; attempted: Eventually }[]): Requested {
  return {
    confirmed: () => sum(slots.map((slot) => outcomeOf(slot.confirmed))),
    attempted: () => sum(slots.map((slot) => outcomeOf(slot.attempted))),
  };
}

/** The pending map's key of a pattern or a tag (a full pattern never starts with `#`). */
function idOf(kind: InvalidationKind, pattern: string): string {
  return kind === 'tag' ? `#${pattern}` : pattern;
}

/** A tag matches no key by itself (see `blocksTagged`). */
function never(): boolean {
  return false;
}

function eventually(): Eventually {
  return { settled: false };
}

/** Settles `slot` once (later calls are ignored): with `value`, or with `error` if given. */
function settle(slot: Eventually, value: number | undefined, error?: unknown): void {
  if (slot.settled) return;
  slot.settled = true;
  if (value === undefined) slot.error = error;
  else slot.value = value;
  slot.resolve?.();
}

/** The slot's number if it settled already, else a promise of it. */
function outcomeOf(slot: Eventually): number | Promise<number> {
  if (slot.settled) {
    if (slot.value !== undefined) return slot.value;
    throw slot.error;
  }
  return new Promise<number>((resolve, reject) => {
    slot.resolve = () => (slot.value === undefined ? reject(slot.error) : resolve(slot.value));
  });
}

/** The sum of numbers, as a number when all are, else as a promise. */
function sum(counts: readonly (number | Promise<number>)[]): number | Promise<number> {
  if (counts.every((count) => typeof count === 'number')) {
    return (counts as number[]).reduce((total, n) => total + n, 0);
  }
  return Promise.all(counts).then((all) => all.reduce((total, n) => total + n, 0));
}
