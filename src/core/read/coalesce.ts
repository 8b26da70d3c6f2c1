/**
 * Hot keys: identical reads of one key coalesce into one store read, but only while that read
 * has not been sent. A read joins the one waiting to go out; once it is sent, later readers send
 * their own. So everyone who shares a reply arrived before the request left, and the reply saw
 * every invalidation that had returned before any of them arrived (the rule of flights.ts).
 */

/** Store reads of one cache, each held back until the current turn of the event loop's queue ends. */
export class UnsentReads {
  readonly #unsent = new Map<string, Promise<unknown>>();
  readonly #send: (key: string) => unknown;

  /** `send` makes the actual store read (bounded by the cache's timeout). */
  constructor(send: (key: string) => unknown) {
    this.#send = send;
  }

  /**
   * The reply to a read of `key`: the read not yet sent, joined, or a new one, sent after the
   * code queued now has run (`process.nextTick`), so that callers arriving meanwhile join it.
   * `send` replaces the usual read for a new one (a read that may take the key's lease).
   */
  read(key: string, send: (key: string) => unknown = this.#send): Promise<unknown> {
    const unsent = this.#unsent.get(key);
    if (unsent !== undefined) return unsent;
    const reply = new Promise<unknown>((resolve) => {
      process.nextTick(() => {
        // From now on it is sent: later readers send their own.
        this.#unsent.delete(key);
        try {
          resolve(send(key));
        } catch (error) {
          resolve(Promise.reject(error));
        }
      });
    });
    this.#unsent.set(key, reply);
    return reply;
  }
}
