/**
 * What a cache tells the outside about its work, beyond its events: loads (runs of a cached
 * function) and invalidation attempts go through the diagnostics channels of `node:diagnostics_channel`
 * (the convention APM tools subscribe to) and through the instruments attached to the cache
 * (`quickpost-cache/otel`), and loads are timed for the `load` event. Each costs nothing unless
 * someone listens: a channel's `hasSubscribers` and the event's listeners are checked before any
 * message is built.
 */
import diagnostics from 'node:diagnostics_channel';
import { isThenable } from '../util/maybe-promise.js';
import type { Emitter, EventSource, InvalidationKind } from './events.js';
import type { Maybe } from './read/call.js';

/** The names of the cache's diagnostics channels. */
export const channelNames = {
  /** Tracing channel (`tracing:quickpost-cache:load:start`, …): one run of a cached function. */
  load: 'quickpost-cache:load',
  /** Tracing channel: one attempt at deleting an invalidation's pattern from the store. */
  invalidate: 'quickpost-cache:invalidate',
  /** A fresh value was served (the `hit` event). */
  hit: 'quickpost-cache:hit',
  /** A stale value was served while it is refreshed (the `stale` event). */
  stale: 'quickpost-cache:stale',
  /** Nothing usable was cached (the `miss` event). */
  miss: 'quickpost-cache:miss',
} as const;

/**
 * The context of a trace on the `quickpost-cache:load` tracing channel: one run of a cached
 * function. `result` (the function's value) or `error` (what it threw or rejected with) is set
 * before `end` (synchronous functions) or `asyncStart` (asynchronous ones).
 */
export interface LoadMessage<C = unknown> {
  /** The cache running it. */
  readonly cache: C;
  /** The wrapper (name and key template), or the manual API for `getOrSet`. */
  readonly source: EventSource;
  /** The full key being computed. */
  readonly key: string;
  result?: unknown;
  error?: unknown;
}

/**
 * The context of a trace on the `quickpost-cache:invalidate` tracing channel: one attempt at
 * deleting the keys that match `pattern`. `result` (how many keys the store removed) or `error`
 * is set before `asyncStart` (or `end`, on a synchronous store). A failed attempt is retried: each
 * retry is a trace of its own, with `attempt` counting from 1.
 */
export interface InvalidateMessage<C = unknown> {
  /** The cache invalidating. */
  readonly cache: C;
  /** The `invalidating` wrapper (its name, its patterns as written), or the manual API. */
  readonly source: EventSource;
  /** `'tag'`: `pattern` is a tag, and the attempt deletes the entries carrying it. */
  readonly kind: InvalidationKind;
  /** The full pattern (prefix included), with its placeholders' values rendered; or the full tag. */
  readonly pattern: string;
  /** 1 for the first attempt, then 2, 3, … for retries. */
  readonly attempt: number;
  result?: number;
  error?: unknown;
}

/**
 * Runs the operations of one cache that an instrument wants to wrap (to make a span current while
 * they run, say). Each method must call `run` once and return what it returns.
 */
export interface Instrument<C = unknown> {
  /** One run of a cached function. */
  load(message: LoadMessage<C>, run: () => unknown): unknown;
  /** One attempt at deleting a pattern; `run` answers how many keys were removed. */
  invalidate(message: InvalidateMessage<C>, run: () => Maybe<number>): Maybe<number>;
}

type Tracing<M extends object> = diagnostics.TracingChannel<unknown, M>;

const loadChannel: Tracing<LoadMessage> = diagnostics.tracingChannel(channelNames.load);
const invalidateChannel: Tracing<InvalidateMessage> = diagnostics.tracingChannel(
  channelNames.invalidate,
);

/** The plain channels that carry events, by event name. */
export const eventChannels = {
  hit: diagnostics.channel(channelNames.hit),
  stale: diagnostics.channel(channelNames.stale),
  miss: diagnostics.channel(channelNames.miss),
} as const;

/**
 * Whether any of a tracing channel's five channels has subscribers. (`TracingChannel` has
 * `hasSubscribers` only from Node 20.13.)
 */
function traced(channel: Tracing<object>): boolean {
  return (
    channel.start.hasSubscribers ||
    channel.end.hasSubscribers ||
    channel.asyncStart.hasSubscribers ||
    channel.asyncEnd.hasSubscribers ||
    channel.error.hasSubscribers
  );
}

/**
 * Runs `run` as one trace on `channel`, like `TracingChannel.traceSync` when it answers a value
 * and like `tracePromise` when it answers a promise, without turning a value into a promise:
 * a synchronous function's wrapper stays synchronous. The stores bound to `start` (an APM's
 * AsyncLocalStorage) are current while `run` runs.
 */
function trace<T, M extends { result?: T; error?: unknown }>(
  channel: Tracing<M>,
  message: M,
  run: () => Maybe<T>,
): Maybe<T> {
  return channel.start.runStores(message, () => {
    try {
      const result = run();
      if (isThenable(result)) {
        result.then(
          (value) => {
            message.result = value;
            channel.asyncStart.publish(message);
            channel.asyncEnd.publish(message);
          },
          (error: unknown) => {
            message.error = error;
            channel.error.publish(message);
            channel.asyncStart.publish(message);
            channel.asyncEnd.publish(message);
          },
        );
      } else {
        message.result = result;
      }
      return result;
    } catch (error) {
      message.error = error;
      channel.error.publish(message);
      throw error;
    } finally {
      channel.end.publish(message);
    }
  });
}

/** Loads and invalidation attempts of one cache, as seen from outside (see the module comment). */
export class Telemetry {
  readonly #owner: unknown;
  readonly #events: Emitter;
  #instruments: readonly Instrument[] = [];

  /** `owner` is the public cache, named in every message. */
  constructor(owner: unknown, events: Emitter) {
    this.#owner = owner;
    this.#events = events;
  }

  /** Attaches an instrument; answers the function that detaches it. */
  attach(instrument: Instrument): () => void {
    this.#instruments = [...this.#instruments, instrument];
    return () => {
      this.#instruments = this.#instruments.filter((attached) => attached !== instrument);
    };
  }

  /**
   * Runs one load (`invoke` calls the cached function): timed for the `load` event, traced on the
   * load channel, wrapped by the instruments. Answers what `invoke` answers, the same promise
   * included.
   */
  load(source: EventSource, key: string, invoke: () => unknown): unknown {
    const timed = this.#events.has('load');
    const instruments = this.#instruments;
    const onChannel = traced(loadChannel);
    if (!timed && !onChannel && instruments.length === 0) return invoke();
    let run = invoke;
    if (onChannel || instruments.length > 0) {
      const message: LoadMessage = { cache: this.#owner, source, key };
      if (onChannel) run = () => trace(loadChannel, message, invoke);
      for (const instrument of instruments) {
        const inner = run;
        run = () => instrument.load(message, inner);
      }
    }
    if (!timed) return run();
    const started = performance.now();
    let result: unknown;
    try {
      result = run();
    } catch (error) {
      this.#loaded(source, key, started, { error });
      throw error;
    }
    if (isThenable(result)) {
      result.then(
        () => this.#loaded(source, key, started),
        (error: unknown) => this.#loaded(source, key, started, { error }),
      );
    } else {
      this.#loaded(source, key, started);
    }
    return result;
  }

  /**
   * Runs one attempt at deleting `pattern` (`run` answers how many keys went): traced on the
   * invalidate channel and wrapped by the instruments.
   */
  invalidate(
    source: EventSource,
    kind: InvalidationKind,
    pattern: string,
    attempt: number,
    run: () => Maybe<number>,
  ): Maybe<number> {
    const instruments = this.#instruments;
    const onChannel = traced(invalidateChannel);
    if (!onChannel && instruments.length === 0) return run();
    const message: InvalidateMessage = { cache: this.#owner, source, kind, pattern, attempt };
    let wrapped = onChannel ? () => trace(invalidateChannel, message, run) : run;
    for (const instrument of instruments) {
      const inner = wrapped;
      wrapped = () => instrument.invalidate(message, inner);
    }
    return wrapped();
  }

  /** Emits the `load` event of a load that began at `started` and ended now, with its failure. */
  #loaded(
    source: EventSource,
    key: string,
    started: number,
    failure?: { readonly error: unknown },
  ): void {
    const durationMs = performance.now() - started;
    this.#events.emit(
      'load',
      failure === undefined
        ? { source, key, durationMs }
        : { source, key, durationMs, error: failure.error },
    );
  }
}
