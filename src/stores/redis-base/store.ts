import { InvalidOptionError } from '../../errors.js';
import { type CacheLogger, type Log, RepeatFilter, toLog } from '../../util/logger.js';
import { levelOf, levelsOf } from '../levels.js';
import type {
  AtomicStore,
  BatchingStore,
  BatchOperation,
  ChangeListener,
  IndexAnswer,
  IndexedStore,
  LeasingReadStore,
  LoggingStore,
  NotifyingStore,
  Store,
  TagAnswer,
  TaggingStore,
} from '../store.js';
import { TAG_STAMP_TTL_MS } from '../tags.js';
import type { DriverBatch, RedisDriver, ScriptKeys, ServerDriver } from './driver.js';
import { SCRIPTS, type ScriptName, SHAS } from './scripts.js';
import { serverTable } from './slots.js';
import { watchServers } from './tracking.js';

/** The index's verdict when it is kept. */
const KEPT = { unkept: undefined } as const;
/** The index's verdict when the store was made with `index: false`. */
const UNKEPT_BY_OPTION = { unkept: 'the store was made with index: false' } as const;

/** Keys recorded in one index by one call of its script, at most (Lua unpacks them all at once). */
const TRACKS_PER_CALL = 1000;

const noop = () => undefined;
/** Whether a script answered 1 (it wrote or deleted). */
const isOne = (reply: unknown) => reply === 1;

/** Keys unlinked per UNLINK on a standalone server. */
const UNLINK_BATCH = 1000;

/** Identical connection errors are logged once per this many ms. */
const REPEATED_ERROR_WINDOW_MS = 60_000;

/** Tuning of pattern deletes. */
export interface RedisStoreTuning {
  /**
   * The `COUNT` hint of each `SCAN` call: keys examined per call. Larger is fewer round trips,
   * smaller is shorter pauses for other clients.
   * @default 1000
   */
  scanCount?: number | undefined;
  /**
   * The key index, which makes a pattern delete cost what it matches instead of a walk of the
   * keyspace. It lives in Redis as sorted sets beside the entries, so Redis must never evict it:
   * `'auto'` reads `maxmemory` and `maxmemory-policy` once and keeps the index only when Redis
   * cannot evict (no `maxmemory`, or `noeviction`); `true` keeps it (you vouch that Redis never
   * evicts); `false` always scans.
   * @default 'auto'
   */
  index?: 'auto' | boolean | undefined;
}

/**
 * How a store takes the client of its library: checks one passed in, or opens its own.
 * @internal
 */
export interface ClientKind<Client, Owned extends Client> {
  /** The store's class name, for messages. */
  readonly name: string;
  /** The client library's name, for messages. */
  readonly library: string;
  /** The options it needs, for the error when it gets none. */
  readonly accepts: string;
  /** Checks a client passed in (throwing InvalidOptionError) and returns it. */
  accept(client: unknown): Client;
  /**
   * Opens the connection of options without `client` (`{ url }`, `{ redis }`), sending each
   * error it reports (a failed reconnection) to `onError` with the server's `host:port`.
   */
  open(options: object, onError: (address: string, error: unknown) => void): Owned;
  /** Ends a connection the store opened. */
  close(owned: Owned): Promise<unknown>;
  /** The store's commands on a client. */
  driver(client: Client): RedisDriver;
}

/** The tuning, checked, with its defaults applied; the options must be an object. */
function checkTuning(
  options: unknown,
  kind: ClientKind<unknown, unknown>,
): RedisStoreTuning & {
  scanCount: number;
  index: 'auto' | boolean;
} {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', `${kind.name} needs ${kind.accepts} options`);
  }
  const tuning = options as RedisStoreTuning;
  const scanCount = tuning.scanCount ?? 1000;
  if (!Number.isInteger(scanCount) || scanCount < 1) {
    throw new InvalidOptionError(
      'scanCount',
      `\`scanCount\` must be a positive integer, got ${scanCount}`,
    );
  }
  const index = tuning.index ?? 'auto';
  if (index !== 'auto' && typeof index !== 'boolean') {
    throw new InvalidOptionError(
      'index',
      `\`index\` must be 'auto', true or false, got ${JSON.stringify(index)}`,
    );
  }
  return { scanCount, index };
}

/**
 * What the Redis stores share, whatever the client library: every store operation, written once
 * on the commands a driver sends (see driver.ts).
 *
 * - `set` is one `SET key value PX ttl`: the value and its expiry are written atomically.
 * - `delete` is `UNLINK`, which frees memory in a background thread instead of blocking Redis.
 * - `deletePattern` walks the keyspace with `SCAN MATCH … COUNT` (never `KEYS`, which blocks
 *   every other client for the whole walk) and unlinks what each step returns; on a Cluster it
 *   scans every master, since a Cluster client's own scan reaches one node only.
 */
export abstract class RedisBaseStore<C>
  implements
    Store,
    AtomicStore,
    LeasingReadStore,
    IndexedStore,
    BatchingStore,
    NotifyingStore,
    LoggingStore,
    TaggingStore
{
  /** Always answers with promises (so caches on it have promise-typed results). */
  readonly sync = false;
  /** The client in use: yours, or the one the store opened. */
  readonly client: C;
  /** Ends the connection the store opened; none for a client passed in. */
  readonly #close: (() => Promise<unknown>) | undefined;
  readonly #driver: RedisDriver;
  /** The store's class name, for messages. */
  readonly #name: string;
  readonly #scanCount: number;
  readonly #indexSetting: 'auto' | boolean;
  /** Whether the index is kept: `undefined`, or why not; settled once, then for good. */
  #indexVerdict: Promise<string | undefined> | undefined;
  /** The verdict once it has settled (`unkept` is `undefined` when the index is kept). */
  #indexSettled: { readonly unkept: string | undefined } | undefined;
  /** Why the index was given up for good after it was in use (a user without scripts). */
  #indexRefused: string | undefined;
  /** Set once the server rejected `SET … NX GET` (Redis before 7): then two commands do it. */
  #noSetNxGet = false;
  /** Whether it was logged that tagged values are not stored (no index). */
  #tagsUnkeptLogged = false;
  /** Where errors of the connections the store opened go: the first cache's logger. */
  #log: Log | undefined;
  readonly #repeats = new RepeatFilter(REPEATED_ERROR_WINDOW_MS);

  /** @internal */
  protected constructor(options: RedisStoreTuning, kind: ClientKind<unknown, unknown>) {
    const tuning = checkTuning(options, kind);
    if ('client' in options) {
      this.client = kind.accept(options.client) as C;
    } else {
      const owned = kind.open(options, (address, error) =>
        this.#connectionError(
          'the connection the store opened',
          address,
          `${kind.library} reconnects by itself`,
          error,
        ),
      );
      this.#close = () => kind.close(owned);
      // A store opens its own connection only when the client type C admits it (see the
      // stores' options types).
      this.client = owned as C;
    }
    this.#driver = kind.driver(this.client);
    this.#name = kind.name;
    this.#scanCount = tuning.scanCount;
    this.#indexSetting = tuning.index;
  }

  /** Closes the connection if the store opened it; a client you passed in stays open. */
  async close(): Promise<void> {
    await this.#close?.();
  }

  /**
   * Takes the logger of the first cache made on this store, for errors of the connections the
   * store opened (until then, `console`).
   */
  useLogger(logger: CacheLogger): void {
    this.#log ??= toLog(logger);
  }

  /**
   * An error of a connection the store opened, usually a failed reconnection attempt: logged
   * (never left unhandled), identical ones once a minute. The cache treats failed calls meanwhile
   * as misses.
   */
  #connectionError(what: string, address: string, reconnects: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const held = this.#repeats.pass(`${what} ${address} ${message}`);
    if (held === undefined) return;
    (this.#log ?? toLog(console)).warn(
      `[Cache] REDIS: ${what} (${address}) failed: ${message}; ${reconnects} (identical errors are logged once a minute${held > 0 ? `; ${held} more since the last` : ''})`,
      error,
    );
  }

  get(key: string): Promise<string | null> {
    return this.#driver.get(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#driver.set(key, value, wholeMs(ttlMs));
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#driver.unlink(key)) > 0;
  }

  async deletePattern(pattern: string): Promise<number> {
    const { servers, cluster } = serverTable(await this.#driver.topology());
    const removed = await Promise.all(
      servers.map((server) => this.#deleteOnServer(server, pattern, cluster)),
    );
    return removed.reduce((sum, n) => sum + n, 0);
  }

  /**
   * The text under `key`; when absent, writes `lease` for `ttlMs` and answers `null`, in one
   * command (`SET key lease NX GET PX ttl`). On a server before Redis 7, which rejects `NX`
   * with `GET`, a `GET` then a `SET NX` do the same in two round trips.
   */
  getOrLease(key: string, lease: string, ttlMs: number): Promise<string | null> {
    return this.#getOrLease(key, lease, ttlMs, this.#driver);
  }

  /** {@link getOrLease}, its `SET … NX GET` sent through `via` (the driver, or a batch). */
  #getOrLease(
    key: string,
    lease: string,
    ttlMs: number,
    via: Pick<DriverBatch, 'setNxGet'>,
  ): Promise<string | null> {
    if (this.#noSetNxGet) return this.#getThenLease(key, lease, ttlMs);
    return via.setNxGet(key, lease, wholeMs(ttlMs)).catch((error: unknown) => {
      if (!(error instanceof Error && /syntax error/i.test(error.message))) throw error;
      this.#noSetNxGet = true;
      return this.#getThenLease(key, lease, ttlMs);
    });
  }

  /** {@link getOrLease} before Redis 7: a `GET`, then a `SET NX` if the key was absent. */
  async #getThenLease(key: string, lease: string, ttlMs: number): Promise<string | null> {
    // Between the two, another client may write the key and delete it again: ask again, a few times.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const found = await this.#driver.get(key);
      if (found !== null) return found;
      if (await this.setIfAbsent(key, lease, ttlMs)) return null;
    }
    throw new Error(`${key} kept changing between GET and SET NX; read it again`);
  }

  /**
   * A lone leasing read and its index record on a standalone server, in one script: the key's
   * text, or `null` once the lease is written and the key recorded under each of its levels.
   * One command instead of two (see `leaseAndTrack` in scripts.ts). Runs `GET` and `SET` inside
   * the script, so Redis before 7 needs no fallback.
   */
  #leaseAndTrack(
    key: string,
    lease: string,
    leaseTtlMs: number,
    trackTtlMs: number,
  ): Promise<string | null> {
    const levels = levelsOf(key);
    const keys: [string, ...string[]] = [key];
    const args = [lease, String(wholeMs(leaseTtlMs)), String(wholeMs(trackTtlMs))];
    for (const level of levels) {
      keys.push(indexKeyOf(level));
      args.push(key.slice(level.length));
    }
    return this.#script('leaseAndTrack', keys, args) as Promise<string | null>;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.#driver.setNx(key, value, wholeMs(ttlMs))) === 'OK';
  }

  compareAndSet(
    key: string,
    expected: string,
    value: string,
    ttlMs: number | undefined,
  ): Promise<boolean> {
    return this.#compareAndSet(key, expected, value, ttlMs, this.#driver);
  }

  /**
   * {@link compareAndSet}, its script sent through `via` (the driver, or a batch) by its text:
   * an `EVALSHA` that found Redis without the script (restarted, flushed, failed over) would be
   * sent again after its `NOSCRIPT` answer, behind commands sent after it, and the cache answers
   * a miss once its fill is sent, counting on what it sends next to come after the fill.
   */
  #compareAndSet(
    key: string,
    expected: string,
    value: string,
    ttlMs: number | undefined,
    via: Pick<DriverBatch, 'eval'>,
  ): Promise<boolean> {
    const ttl = ttlMs === undefined ? '' : String(wholeMs(ttlMs));
    return via.eval(SCRIPTS.compareAndSet, key, [expected, value, ttl]).then(isOne);
  }

  compareAndDelete(key: string, expected: string): Promise<boolean> {
    return this.#script('compareAndDelete', key, [expected]).then(isOne);
  }

  /**
   * Records `key` under each level of the index (see levels.ts), all at once: one round trip,
   * whatever the Cluster slots of the index keys. A no-op when the index is not kept.
   */
  async track(key: string, ttlMs: number): Promise<void> {
    if ((await this.#indexUnkept()) !== undefined) return;
    const batch = this.#driver.batch();
    let recorded: Promise<void>[];
    try {
      recorded = this.#record([{ key, ttlMs }], batch);
    } finally {
      batch.send();
    }
    await recorded[0];
  }

  /**
   * Sends the operations together, in one batch of the client: on a standalone server one write,
   * on a Cluster one write per master (each command goes with those of the same master, and never
   * in a multi-key command across slots), with one promise per operation settled by its own
   * reply. The `track`s of a batch are recorded together, one script call per index key, once the
   * store knows whether it keeps the index (until then each is sent after that is known). A
   * script Redis does not know yet is loaded and run on its own.
   */
  batch(operations: readonly BatchOperation[]): Promise<unknown>[] {
    const settled = this.#indexNow();
    const [first, second] = operations;
    // A lone leasing read beside its index record, on a standalone server: one script.
    if (
      operations.length === 2 &&
      first?.op === 'track' &&
      second?.op === 'getOrLease' &&
      first.key === second.key &&
      settled !== undefined &&
      settled.unkept === undefined &&
      !this.#driver.cluster
    ) {
      const read = this.#leaseAndTrack(second.key, second.lease, second.ttlMs, first.ttlMs).catch(
        (error: unknown) => {
          // Refused the index keys: the index is given up, and the read goes on without it.
          if (!this.#refusesIndex(error)) throw error;
          return this.#getOrLease(second.key, second.lease, second.ttlMs, this.#driver);
        },
      );
      return [read.then(noop), read];
    }
    const tracks: { readonly key: string; readonly ttlMs: number }[] = [];
    const batch = this.#driver.batch();
    let answers: (Promise<unknown> | number)[];
    let recorded: Promise<void>[];
    try {
      answers = operations.map((operation): Promise<unknown> | number => {
        if (operation.op === 'get') return batch.get(operation.key);
        if (operation.op === 'getOrLease') {
          return this.#getOrLease(operation.key, operation.lease, operation.ttlMs, batch);
        }
        if (operation.op === 'compareAndSet') {
          const { key, expected, value, ttlMs } = operation;
          return this.#compareAndSet(key, expected, value, ttlMs, batch);
        }
        if (settled === undefined) return this.track(operation.key, operation.ttlMs);
        if (settled.unkept !== undefined) return Promise.resolve();
        // A track's answer comes once every track of the batch is queued: its place among them.
        return tracks.push(operation) - 1;
      });
      recorded = this.#record(tracks, batch);
    } finally {
      batch.send();
    }
    return answers.map((answer) =>
      typeof answer === 'number' ? (recorded[answer] as Promise<void>) : answer,
    );
  }

  /**
   * Records keys under each of their levels through `batch`: one script call per index key for
   * all the keys it gets (at most {@link TRACKS_PER_CALL} each), whatever the Cluster slots of
   * the index keys. One promise per key, settled once all of its levels are recorded.
   */
  #record(
    keys: readonly { readonly key: string; readonly ttlMs: number }[],
    batch: DriverBatch,
  ): Promise<void>[] {
    /** Per index key, its members and their times to live, in pairs, as the script takes them. */
    const byIndex = new Map<string, string[]>();
    /** Per key, where each of its levels went: the index key and the member's place there. */
    const places = keys.map(({ key, ttlMs }) =>
      levelsOf(key).map((level): [index: string, place: number] => {
        const index = indexKeyOf(level);
        let pairs = byIndex.get(index);
        if (pairs === undefined) {
          pairs = [];
          byIndex.set(index, pairs);
        }
        pairs.push(key.slice(level.length), String(wholeMs(ttlMs)));
        return [index, pairs.length / 2 - 1];
      }),
    );
    const calls = new Map<string, Promise<unknown>[]>();
    for (const [index, pairs] of byIndex) {
      const sent: Promise<unknown>[] = [];
      for (let i = 0; i < pairs.length; i += 2 * TRACKS_PER_CALL) {
        sent.push(this.#script('track', index, pairs.slice(i, i + 2 * TRACKS_PER_CALL), batch));
      }
      calls.set(index, sent);
    }
    return places.map((levels) =>
      Promise.all(
        levels.map(
          ([index, place]) =>
            (calls.get(index) as Promise<unknown>[])[Math.floor(place / TRACKS_PER_CALL)],
        ),
      ).then(noop, (error: unknown) => {
        if (!this.#refusesIndex(error)) throw error;
      }),
    );
  }

  /**
   * Whether `error` is Redis refusing the index to this user (`NOPERM`: no scripts, or no access
   * to the index keys); if so, the index is given up for good, and pattern deletes scan.
   */
  #refusesIndex(error: unknown): boolean {
    if (!(error instanceof Error && error.message.startsWith('NOPERM'))) return false;
    this.#indexRefused = `the Redis user may not run the index's script or reach its keys (${error.message}); grant EVALSHA and EVAL (+@scripting) and the keys under <prefix>|index|`;
    return true;
  }

  /**
   * Deletes the keys of one index level that match `pattern`: the index's own `ZSCAN … MATCH`
   * filters on the server, so only matches travel; then they are unlinked. Members of deleted
   * keys are left for the index's pruning: removing them here could remove one that a new lease
   * has just tracked again, and a later invalidation would miss that key.
   */
  async deleteTracked(pattern: string): Promise<IndexAnswer> {
    const keys = new Set<string>();
    const unanswered = await this.#tracked(pattern, (page) => {
      for (const key of page) keys.add(key);
    });
    return unanswered ?? { removed: await this.#unlinkAll([...keys]) };
  }

  /**
   * Records `key` under each of `tags` (one script per tag, each on the server owning the tag, all
   * at once) and answers whether none of them was invalidated at or after `since`. Each tag's
   * stamp and the time the script read are both that server's clock, and the computation's start
   * is put on that clock by subtracting the time elapsed since `since`, measured here when the
   * reply arrived: an upper bound of the time elapsed on the server (give or take the clocks'
   * rates, which the margin covers), so the start it gives is not later than the real one. No
   * clocks of different machines are ever compared. Answers
   * `false` when the index is not kept (Redis may evict a tag, and with it the keys recorded
   * under it), so tagged values are then not stored (logged once).
   */
  async tag(key: string, tags: readonly string[], ttlMs: number, since: number): Promise<boolean> {
    const unkept = await this.#indexUnkept();
    if (unkept !== undefined) {
      this.#tagsUnkept(unkept);
      return false;
    }
    const ttl = String(wholeMs(ttlMs));
    const life = String(TAG_STAMP_TTL_MS);
    const clean = await Promise.all(
      tags.map(async (tag) => {
        const [now, stamp] = (await this.#script('tag', tagKeyOf(tag), [key, ttl, life])) as [
          number,
          number,
        ];
        // Both are whole ms, each up to 1 ms early, and clocks run at slightly different rates
        // (up to 0.05% under NTP): a stamp within 2 ms + 0.1% of the elapsed time counts.
        const elapsed = performance.now() - since;
        return stamp < 0 || stamp + 2 + elapsed / 1000 <= now - elapsed;
      }),
    );
    return clean.every(Boolean);
  }

  /**
   * Stamps `tag` and reads the keys recorded under it (one script on the tag's server), unlinks
   * them (grouped by server on a Cluster), then forgets each one not recorded again since. A
   * failure before the unlinks end leaves every record in place, so a retry finds them again.
   */
  async invalidateTag(tag: string): Promise<TagAnswer> {
    const tagKey = tagKeyOf(tag);
    const reply = (await this.#script('invalidateTag', tagKey, [
      String(TAG_STAMP_TTL_MS),
    ])) as string[];
    const keys: string[] = [];
    const records: string[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      const key = reply[i] as string;
      if (key === '') continue;
      keys.push(key);
      records.push(key, reply[i + 1] as string);
    }
    const removed = keys.length === 0 ? 0 : await this.#unlinkAll(keys);
    if (records.length > 0) {
      // Best effort: a record left behind only costs the next invalidation an extra unlink.
      await this.#script('untag', tagKey, records).catch(() => undefined);
    }
    return { removed, keys };
  }

  /** Logs once that tagged values are not stored, and why. */
  #tagsUnkept(reason: string): void {
    if (this.#tagsUnkeptLogged) return;
    this.#tagsUnkeptLogged = true;
    (this.#log ?? toLog(console)).warn(
      `[Cache] TAGS OFF: values of wrappers with tags are not stored, because tags live in the key index, which is not kept: ${reason}`,
    );
  }

  /**
   * @internal For the command line: finds the keys an invalidation of `pattern` looks at, the
   * way `deleteTracked` and then `deletePattern` find them, and deletes nothing. `found` gets each
   * batch: index members (which may name keys deleted since: they are pruned later), or one SCAN
   * reply per call on each master (a key may come twice). Says whether the index answered.
   */
  async findKeys(
    pattern: string,
    found: (keys: readonly string[]) => void,
  ): Promise<{ readonly from: 'index' } | { readonly from: 'scan'; readonly reason: string }> {
    const unanswered = await this.#tracked(pattern, found);
    if (unanswered === undefined) return { from: 'index' };
    await this.scanKeys(pattern, found);
    return { from: 'scan', reason: unanswered.unanswered };
  }

  /**
   * @internal For the command line: walks the keys matching `pattern` with SCAN on every master
   * (all masters at once), calling `found` with each reply, once per SCAN call (a key may come
   * twice).
   */
  async scanKeys(pattern: string, found: (keys: readonly string[]) => void): Promise<void> {
    const { servers } = serverTable(await this.#driver.topology());
    await Promise.all(
      servers.map(async (server) => {
        for await (const keys of this.#scan(server, pattern)) found(keys);
      }),
    );
  }

  /**
   * Passes the keys of one index level that match `pattern` to `found`, page by page: the
   * index's own `ZSCAN … MATCH` filters on the server, so only matches travel. Answers why not
   * when the index cannot answer the pattern.
   */
  async #tracked(
    pattern: string,
    found: (keys: string[]) => void,
  ): Promise<Exclude<IndexAnswer, { readonly removed: number }> | undefined> {
    const unkept = await this.#indexUnkept();
    if (unkept !== undefined) return { unanswered: unkept, disabled: true };
    const level = levelOf(pattern);
    if (level === undefined) {
      return {
        unanswered:
          'the pattern has a wildcard right after the prefix, so no index level holds its keys',
      };
    }
    const index = indexKeyOf(level);
    // Stars alone match every member, the empty one (the key equal to its level) included; ZSCAN
    // treats only a single `*` that way (`**` skips an empty member), so send that.
    const rest = pattern.slice(level.length);
    const memberPattern = /^\*+$/.test(rest) ? '*' : rest;
    let cursor = '0';
    do {
      const [next, page] = await this.#driver.zscan(index, cursor, memberPattern, this.#scanCount);
      cursor = next;
      const keys: string[] = [];
      for (let i = 0; i < page.length; i += 2) keys.push(level + (page[i] as string));
      found(keys);
    } while (cursor !== '0');
    return undefined;
  }

  /**
   * Reports every change of a key starting with `prefix`, through Redis's server-assisted
   * client-side caching in broadcasting mode: one connection of its own per server (each master
   * of a Cluster), opened with RESP2, that enables `CLIENT TRACKING on REDIRECT <itself> BCAST
   * PREFIX <prefix>` and subscribes to `__redis__:invalidate`. Your client is left untouched.
   * Tracking belongs to a connection, so after any drop it is set up anew on a new connection,
   * and the listener hears `lost` at the drop and `ready` once every server reports again.
   * Resolves once the connections are being opened; the returned function closes them.
   */
  async watch(prefix: string, listener: ChangeListener): Promise<() => Promise<void>> {
    const { servers } = serverTable(await this.#driver.topology());
    return watchServers(servers, prefix, listener, (server, error) =>
      this.#connectionError(
        "the in-process tier's tracking connection",
        server.address,
        'a new one is opened by itself',
        error,
      ),
    );
  }

  /**
   * Unlinks keys: in batches on a server; on a Cluster, grouped by the master that owns each key's
   * slot and sent as single-key UNLINKs in one round trip per master (a multi-key UNLINK across
   * slots fails with CROSSSLOT, and one command per key through the Cluster client is one write
   * per key).
   */
  async #unlinkAll(keys: string[]): Promise<number> {
    const { servers, owner, cluster } = serverTable(await this.#driver.topology());
    if (!cluster) {
      const [server] = servers as [ServerDriver];
      let removed = 0;
      for (let i = 0; i < keys.length; i += UNLINK_BATCH) {
        removed += await server.unlink(keys.slice(i, i + UNLINK_BATCH));
      }
      return removed;
    }
    const byMaster = new Map<ServerDriver, string[]>();
    for (const key of keys) {
      const node = owner(key);
      const batch = byMaster.get(node);
      if (batch === undefined) byMaster.set(node, [key]);
      else batch.push(key);
    }
    const removed = await Promise.all([...byMaster].map(([node, batch]) => node.unlinkEach(batch)));
    return removed.reduce((sum, n) => sum + n, 0);
  }

  /** Why the index is not kept, or `undefined` when it is; asks Redis once when `'auto'`. */
  #indexUnkept(): Promise<string | undefined> {
    const settled = this.#indexNow();
    if (settled !== undefined) return Promise.resolve(settled.unkept);
    this.#indexVerdict ??= this.#readEvictionPolicy().then(
      (unkept) => {
        this.#indexSettled = { unkept };
        return unkept;
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        // Not allowed to ask (ACL, managed Redis): decided for good. Anything else (Redis down):
        // asked again next time, and until then nothing is tracked nor answered from the index.
        if (/^(NOPERM|ERR unknown command)/.test(message)) {
          const unkept = `could not read Redis's eviction policy (${message}); pass index: true to ${this.#name} if Redis never evicts keys`;
          this.#indexSettled = { unkept };
          return unkept;
        }
        this.#indexVerdict = undefined;
        throw error;
      },
    );
    return this.#indexVerdict;
  }

  /** Whether the index is kept, when that is known without asking Redis; `undefined` if not. */
  #indexNow(): { readonly unkept: string | undefined } | undefined {
    if (this.#indexRefused !== undefined) return { unkept: this.#indexRefused };
    if (this.#indexSetting === 'auto') return this.#indexSettled;
    return this.#indexSetting ? KEPT : UNKEPT_BY_OPTION;
  }

  /** `undefined` when no server can evict keys; else why the index cannot be trusted. */
  async #readEvictionPolicy(): Promise<string | undefined> {
    const { servers } = serverTable(await this.#driver.topology());
    for (const server of servers) {
      const maxmemory = await server.configGet('maxmemory');
      const policy = await server.configGet('maxmemory-policy');
      if (maxmemory !== '0' && policy !== 'noeviction') {
        return `Redis may evict keys (maxmemory ${maxmemory}, maxmemory-policy ${policy}), and an evicted index would lose invalidations; pattern deletes scan instead (run the cache's Redis with noeviction, or pass index: true if it never evicts)`;
      }
    }
    return undefined;
  }

  /**
   * EVALSHA (through `via`: the driver, or a batch), loading the script with EVAL the first time
   * a server has not seen it.
   */
  #script(
    name: ScriptName,
    key: ScriptKeys,
    args: readonly string[],
    via: Pick<DriverBatch, 'evalsha'> = this.#driver,
  ): Promise<unknown> {
    return via.evalsha(SHAS[name], key, args).catch((error: unknown) => {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return this.#driver.eval(SCRIPTS[name], key, args);
    });
  }

  /**
   * Scans one server and unlinks each batch as it comes. SCAN may return a key twice; UNLINK
   * counts only keys it actually removed, so the total is exact. On a Cluster node, keys of one
   * batch live in different slots, and a multi-key UNLINK across slots fails with CROSSSLOT: they
   * are unlinked one by one, in one round trip per batch.
   */
  async #deleteOnServer(server: ServerDriver, pattern: string, perKey: boolean): Promise<number> {
    let removed = 0;
    for await (const keys of this.#scan(server, pattern)) {
      if (keys.length === 0) continue;
      removed += await (perKey ? server.unlinkEach(keys) : server.unlink(keys));
    }
    return removed;
  }

  /**
   * Walks one server with `SCAN MATCH pattern COUNT scanCount`, yielding each reply (empty ones
   * too), never `KEYS`, which blocks every other client for the whole walk.
   */
  async *#scan(server: ServerDriver, pattern: string): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, pattern, this.#scanCount);
      cursor = next;
      yield keys;
    } while (cursor !== '0');
  }
}

/** The Redis key of an index level: apart from the cache's keys (`|` is never in a prefix). */
function indexKeyOf(level: string): string {
  const first = level.indexOf(':');
  return `${level.slice(0, first)}|index|${level.slice(first + 1)}`;
}

/**
 * The Redis key of a tag (a full tag, prefix included), apart from the cache's keys like the
 * index's. The tag is put between `{` and `}`: on a Cluster the tag alone picks the slot, so tags
 * spread over the masters. Whatever the tag holds, the key is one key in one slot.
 */
function tagKeyOf(tag: string): string {
  const first = tag.indexOf(':');
  return `${tag.slice(0, first)}|tag|{${tag.slice(first + 1)}}`;
}

/** PX takes whole milliseconds, at least 1. */
function wholeMs(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}
