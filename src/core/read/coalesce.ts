/**
 * Hot keys: identical reads of one key coalesce into one store read, but only while that read
 * has not been sent. A read joins the one waiting to go out; once it is sent, later readers send
 * their own. So everyone who shares a reply arrived before the request left, and the reply saw
 * every invalidation that had returned before any of them arrived (the rule of flights.ts).
 *
 * The reads held back during one turn of the event loop's queue go out together, at its end
 * (`process.nextTick`): a store that batches sends them in one round trip per server.
 */

/** A read held back until the end of the tick: its key, and how it is to be made. */
export interface HeldRead<L> {
  readonly key: string;
  /** What the first reader asked for beyond a plain read (a leasing read), if anything. */
  readonly lease: L | undefined;
}

/** A held read and the settling of its reply. */
interface Held<L> extends HeldRead<L> {
  resolve: (reply: unknown) => void;
  readonly reply: Promise<unknown>;
}

/** Store reads of one cache, held back until the current turn of the event loop's queue ends. */
export class UnsentReads<L> {
  /** The held reads by key, for joining, and in the order they came. */
  readonly #unsent = new Map<string, Held<L>>();
  #held: Held<L>[] = [];
  readonly #send: (reads: readonly HeldRead<L>[]) => readonly unknown[];
  readonly #flush = () => this.#sendAll();

  /**
   * `send` makes the store reads of one tick (bounded by the cache's timeout): one reply per
   * read, in order, each a value or a promise of its own.
   */
  constructor(send: (reads: readonly HeldRead<L>[]) => readonly unknown[]) {
    this.#send = send;
  }

  /**
   * The reply to a read of `key`: the read not yet sent, joined, or a new one, sent with the
   * others of this tick after the code queued now has run (`process.nextTick`), so that callers
   * arriving meanwhile join it. `lease` asks for more than a plain read (a read that may take the
   * key's lease); a reader joining a read already held gets what that read asked for.
   */
  read(key: string, lease?: L): Promise<unknown> {
    const unsent = this.#unsent.get(key);
    if (unsent !== undefined) return unsent.reply;
    if (this.#held.length === 0) process.nextTick(this.#flush);
    let resolve!: (reply: unknown) => void;
    const reply = new Promise<unknown>((settle) => {
      resolve = settle;
    });
    const held = { key, lease, resolve, reply };
    this.#unsent.set(key, held);
    this.#held.push(held);
    return reply;
  }

  /** Sends every held read; from now on they are sent, and later readers send their own. */
  #sendAll(): void {
    const held = this.#held;
    this.#held = [];
    for (const read of held) this.#unsent.delete(read.key);
    let replies: readonly unknown[];
    try {
      replies = this.#send(held);
    } catch (error) {
      const failed = Promise.reject(error);
      for (const read of held) read.resolve(failed);
      return;
    }
    for (let i = 0; i < held.length; i += 1) (held[i] as Held<L>).resolve(replies[i]);
  }
}
