/**
 * What every store's tags share. A tag's invalidation stamp must outlive any computation that
 * could still try to record an entry under the tag: a computation that started before the stamp
 * and finishes after the stamp is forgotten would find no stamp, and write a value that predates
 * the invalidation. A day is far beyond any computation a lease keeps alive (leases end one
 * lease TTL after their holder stops extending them), and a stamp costs a few bytes.
 */

/**
 * How long a tag's invalidation stamp is kept, ms. Part of what Redis holds: a record reads the
 * stamp back as its score minus this, so every process sharing a Redis must use the same value
 * (changing it needs a new name for the tag keys).
 */
export const TAG_STAMP_TTL_MS = 24 * 60 * 60 * 1000;
