/**
 * Who is calling: the one place that reads the user from a request and gives it to the cache.
 * The user is the `x-user-id` header (absent or empty: anonymous). Cached functions that depend on
 * the user take the `Viewer` as an argument and fill `{{user_id}}` from it with `userContext`.
 */
import type { Request } from 'express';

/** The caller of a request: a user id, or `null` for an anonymous caller. */
export interface Viewer {
  readonly userId: string | null;
}

/** A caller known by id. */
export interface SignedIn extends Viewer {
  readonly userId: string;
}

/** Longest accepted `x-user-id`. */
const MAX_USER_ID_LENGTH = 100;

/** The `x-user-id` header is longer than {@link MAX_USER_ID_LENGTH}. */
export class InvalidUserIdError extends Error {
  override readonly name = 'InvalidUserIdError';
  constructor() {
    super(`the x-user-id header must be at most ${MAX_USER_ID_LENGTH} characters`);
  }
}

/** The caller of `req`, from its `x-user-id` header. */
export function viewerOf(req: Request): Viewer {
  const userId = req.get('x-user-id')?.trim() ?? '';
  if (userId.length > MAX_USER_ID_LENGTH) throw new InvalidUserIdError();
  return { userId: userId === '' ? null : userId };
}

/** Whether the caller is known by id. */
export function isSignedIn(viewer: Viewer): viewer is SignedIn {
  return viewer.userId !== null;
}

/** The `{{user_id}}` of a key template or pattern, from the caller. */
export function userContext(viewer: SignedIn): { user_id: string } {
  return { user_id: viewer.userId };
}
