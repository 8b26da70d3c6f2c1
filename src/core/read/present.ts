/**
 * Keys this instance recently found or stored, with when their entry goes (ms): a read of any
 * other key is expected to miss, and may take the key's lease at once.
 *
 * Bounded in two generations: new keys go to the young one; when it is full it becomes the old
 * one, and the previous old one is dropped whole. Every operation is O(1). (A single Map trimmed
 * by deleting its first key costs more at each miss: V8 keeps deleted entries in place until it
 * rehashes, and finding the first live key walks over them.)
 */
export class PresentKeys {
  /** Keys per generation. */
  readonly #generation: number;
  #young = new Map<string, number>();
  #old = new Map<string, number>();

  /** Remembers about `capacity` keys: at least half of them, at most all. */
  constructor(capacity: number) {
    this.#generation = Math.max(1, Math.ceil(capacity / 2));
  }

  /** Whether no key is remembered. */
  get empty(): boolean {
    return this.#young.size === 0 && this.#old.size === 0;
  }

  /** When `key`'s entry goes, if remembered. */
  until(key: string): number | undefined {
    return this.#young.get(key) ?? this.#old.get(key);
  }

  /** Remembers that `key` holds an entry until `until`. */
  set(key: string, until: number): void {
    if (this.#young.size >= this.#generation && !this.#young.has(key)) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, until);
  }

  /** Forgets `key`. */
  delete(key: string): void {
    this.#young.delete(key);
    this.#old.delete(key);
  }

  /** Forgets every key `matches` accepts. */
  deleteMatching(matches: (key: string) => boolean): void {
    for (const generation of [this.#young, this.#old]) {
      for (const key of generation.keys()) if (matches(key)) generation.delete(key);
    }
  }
}
