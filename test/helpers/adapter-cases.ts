/**
 * What the framework adapters promise, written once: an application on a real HTTP server on
 * 127.0.0.1 (port 0), driven by real requests (fetch). Each framework gives an application with
 * the same two routes; each test file runs them on a store (MemoryStore in test/unit, Redis in
 * test/redis).
 *
 * The routes, for the user named by the `x-user-id` header (which the adapter's values function
 * turns into the request context's `user_id`):
 * - `GET /profile`: the user's profile from a function cached under `profile:{{user_id}}`, which
 *   reads the user from the request context only;
 * - `PUT /profile` with a JSON body `{ bio }`: updates it through a function that invalidates
 *   `profile:{{user_id}}`.
 * Both answer JSON with `seenBy`: the request context's `user_id` read by the handler after its
 * awaits (and, for `PUT`, after the body was parsed).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cache,
  createCache,
  type RequestContext,
  requestContext,
  type Store,
} from '../../src/index.js';
import { quietLogger } from './stores.js';

/** The request context's values in every adapter test. */
export type Ambient = { user_id: string };

export interface Profile {
  user_id: string;
  bio: string;
}

/** The "database" behind the routes, recording each read the cache let through. */
export class Profiles {
  readonly #rows = new Map<string, string>();
  /** The users whose profile was read from here, in order (misses of the cache). */
  readonly loads: string[] = [];

  read(userId: string): Profile {
    this.loads.push(userId);
    return { user_id: userId, bio: this.#rows.get(userId) ?? `hello ${userId}` };
  }

  write(userId: string, bio: string): Profile {
    this.#rows.set(userId, bio);
    return { user_id: userId, bio };
  }
}

/** A running application and how to stop it. */
export interface RunningApp {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** One framework: starts its application with the routes above on `cache`. */
export interface AdapterCase {
  name: string;
  start(
    cache: Cache<Store, Ambient>,
    requestCtx: RequestContext<Ambient>,
    profiles: Profiles,
  ): Promise<RunningApp>;
}

/** The cached and invalidating functions of the routes, for the frameworks that use wrappers. */
export function profileFunctions(
  cache: Cache<Store, Ambient>,
  requestCtx: RequestContext<Ambient>,
  profiles: Profiles,
) {
  const userId = (): string => {
    const values = requestCtx.get();
    if (values === undefined) throw new Error('no request context');
    return values.user_id;
  };
  const getProfile = cache.cacheable(async () => profiles.read(userId()), {
    key: 'profile:{{user_id}}',
  });
  const updateProfile = cache.invalidating(async (bio: string) => profiles.write(userId(), bio), {
    patterns: ['profile:{{user_id}}'],
  });
  return { getProfile, updateProfile, userId };
}

/** Where the caches of a test file keep their entries. */
export interface StoreCase {
  name: string;
  create(): Store;
  dispose?(store: Store): Promise<unknown>;
}

async function get(
  app: RunningApp,
  user: string,
): Promise<Profile & { seenBy: string; status: number }> {
  const response = await fetch(`${app.url}/profile`, { headers: { 'x-user-id': user } });
  return { ...((await response.json()) as Profile & { seenBy: string }), status: response.status };
}

/**
 * A `PUT /profile` whose JSON body is sent after the headers, in two parts 20 ms apart: the
 * server reads it from socket events that arrive outside the request's first async scope (a body
 * that came with the headers would be read from a callback scheduled within it).
 */
async function put(
  app: RunningApp,
  user: string,
  bio: string,
): Promise<Profile & { seenBy: string; status: number }> {
  const text = JSON.stringify({ bio });
  const half = Math.floor(text.length / 2);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      await delay(20);
      controller.enqueue(encoder.encode(text.slice(0, half)));
      await delay(20);
      controller.enqueue(encoder.encode(text.slice(half)));
      controller.close();
    },
  });
  const response = await fetch(`${app.url}/profile`, {
    method: 'PUT',
    headers: { 'x-user-id': user, 'content-type': 'application/json' },
    body,
    duplex: 'half',
  } as RequestInit);
  return { ...((await response.json()) as Profile & { seenBy: string }), status: response.status };
}

export function describeAdapter(adapter: AdapterCase, stores: StoreCase): void {
  describe(`${adapter.name} adapter over HTTP, on ${stores.name}`, () => {
    let store: Store;
    let requestCtx: RequestContext<Ambient>;
    let cache: Cache<Store, Ambient>;
    let profiles: Profiles;
    let app: RunningApp;

    beforeAll(async () => {
      store = stores.create();
      profiles = new Profiles();
      requestCtx = requestContext<Ambient>();
      cache = createCache({
        store,
        requestContext: requestCtx,
        prefix: `adapter-${randomUUID().slice(0, 8)}`,
        logger: quietLogger,
      });
      app = await adapter.start(cache, requestCtx, profiles);
      expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    });

    afterAll(async () => {
      await app?.close();
      await cache?.deletePattern('*');
      await cache?.close();
      if (store !== undefined) await stores.dispose?.(store);
    });

    it('caches per user: each sees their own profile, and the second request is a hit', async () => {
      expect(await get(app, 'alice')).toEqual({
        status: 200,
        user_id: 'alice',
        bio: 'hello alice',
        seenBy: 'alice',
      });
      expect(await get(app, 'bob')).toMatchObject({ user_id: 'bob', seenBy: 'bob' });
      expect(await get(app, 'alice')).toMatchObject({ user_id: 'alice', seenBy: 'alice' });
      expect(await get(app, 'bob')).toMatchObject({ user_id: 'bob', seenBy: 'bob' });
      expect(profiles.loads).toEqual(['alice', 'bob']);
      expect(await cache.get('profile:{{user_id}}', { user_id: 'alice' })).toEqual({
        user_id: 'alice',
        bio: 'hello alice',
      });
    });

    it('keeps concurrent requests of different users apart', async () => {
      const users = Array.from({ length: 40 }, (_, i) => `user-${i % 8}`);
      const answers = await Promise.all(users.map((user) => get(app, user)));
      expect(answers.map(({ user_id, seenBy }) => `${user_id}/${seenBy}`)).toEqual(
        users.map((user) => `${user}/${user}`),
      );
    });

    it('invalidates the user’s entry on PUT (a JSON body parsed), and only theirs', async () => {
      await get(app, 'alice');
      await get(app, 'bob');
      const loads = profiles.loads.length;
      expect(await put(app, 'alice', 'new bio')).toEqual({
        status: 200,
        user_id: 'alice',
        bio: 'new bio',
        seenBy: 'alice',
      });
      expect(await cache.get('profile:{{user_id}}', { user_id: 'alice' })).toBeUndefined();
      expect(await cache.get('profile:{{user_id}}', { user_id: 'bob' })).toBeDefined();
      expect(await get(app, 'alice')).toMatchObject({ bio: 'new bio', seenBy: 'alice' });
      expect(await get(app, 'bob')).toMatchObject({ bio: 'hello bob', seenBy: 'bob' });
      expect(profiles.loads.slice(loads)).toEqual(['alice']);
    });
  });
}
