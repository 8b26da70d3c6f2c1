// The Express, Fastify and Hono adapters on MemoryStore, over real HTTP on loopback (the same on
// Redis in test/redis/adapters.test.ts; NestJS's in nestjs.legacy.test.ts), and what each one's
// framework adds: middleware order, hooks, values given as a promise, values that fail.

import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import express, { type ErrorRequestHandler } from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { requestContextMiddleware as expressMiddleware } from '../../src/adapters/express.js';
import { requestContextPlugin } from '../../src/adapters/fastify.js';
import { requestContextMiddleware as honoMiddleware } from '../../src/adapters/hono.js';
import { MemoryStore, requestContext } from '../../src/index.js';
import { expressCase, fastifyCase, honoCase, running } from '../helpers/adapter-apps.js';
import { describeAdapter, type StoreCase } from '../helpers/adapter-cases.js';

const memory: StoreCase = { name: 'MemoryStore', create: () => new MemoryStore() };

for (const adapter of [expressCase, fastifyCase, honoCase]) describeAdapter(adapter, memory);

type Ambient = { user_id: string };

/** A JSON body sent 20 ms after the headers (read from socket events, outside the first scope). */
function lateBody(value: unknown): RequestInit {
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      controller.enqueue(new TextEncoder().encode(JSON.stringify(value)));
      controller.close();
    },
  });
  return {
    method: 'PUT',
    headers: { 'x-user-id': 'alice', 'content-type': 'application/json' },
    body,
    duplex: 'half',
  } as RequestInit;
}

describe('the Express adapter', () => {
  it('keeps the values through express.json() registered after it, from values given as a promise', async () => {
    const ctx = requestContext<Ambient>();
    const app = express();
    app.use(
      expressMiddleware(ctx, async (req) => ({ user_id: req.get('x-user-id') ?? 'anonymous' })),
    );
    app.use(express.json());
    app.put('/', (req, res) => {
      res.json({ seenBy: ctx.get()?.user_id, body: req.body });
    });
    const server = await running(app.listen(0, '127.0.0.1'));
    try {
      const response = await fetch(server.url, lateBody({ bio: 'x' }));
      expect(await response.json()).toEqual({ seenBy: 'alice', body: { bio: 'x' } });
    } finally {
      await server.close();
    }
  });

  it('hands an error of the values function to Express’s error handling', async () => {
    const ctx = requestContext<Ambient>();
    const app = express();
    app.use(
      expressMiddleware(ctx, () => {
        throw new Error('no session');
      }),
    );
    app.get('/', (_req, res) => {
      res.send('unreachable');
    });
    const handler: ErrorRequestHandler = (error: Error, _req, res, _next) => {
      res.status(401).send(error.message);
    };
    app.use(handler);
    const server = await running(app.listen(0, '127.0.0.1'));
    try {
      const response = await fetch(server.url);
      expect([response.status, await response.text()]).toEqual([401, 'no session']);
    } finally {
      await server.close();
    }
  });
});

describe('the Fastify adapter', () => {
  it('reaches every hook after onRequest, and handlers, from values given as a promise', async () => {
    const ctx = requestContext<Ambient>();
    const app = Fastify();
    await app.register(
      requestContextPlugin(ctx, async (request) => ({
        user_id: String(request.headers['x-user-id'] ?? 'anonymous'),
      })),
    );
    const seen: string[] = [];
    const record = (hook: string) => seen.push(`${hook}:${ctx.get()?.user_id}`);
    app.addHook('preParsing', async () => void record('preParsing'));
    app.addHook('preValidation', async () => void record('preValidation'));
    app.addHook('preHandler', (_request, _reply, done) => {
      record('preHandler');
      done();
    });
    app.addHook('onSend', async () => void record('onSend'));
    app.put('/', async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      record('handler');
      return { body: request.body };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const server = await running(app.server);
    try {
      const response = await fetch(server.url, lateBody({ bio: 'x' }));
      expect(await response.json()).toEqual({ body: { bio: 'x' } });
      expect(seen).toEqual([
        'preParsing:alice',
        'preValidation:alice',
        'preHandler:alice',
        'handler:alice',
        'onSend:alice',
      ]);
    } finally {
      await server.close();
    }
  });

  it('applies to routes registered in other plugins (it is not encapsulated)', async () => {
    const ctx = requestContext<Ambient>();
    const app = Fastify();
    await app.register(requestContextPlugin(ctx, () => ({ user_id: 'bob' })));
    await app.register(async (scoped) => {
      scoped.get('/scoped', async () => ({ seenBy: ctx.get()?.user_id }));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const server = await running(app.server);
    try {
      expect(await (await fetch(`${server.url}/scoped`)).json()).toEqual({ seenBy: 'bob' });
    } finally {
      await server.close();
    }
  });

  it('fails the request when the values function rejects', async () => {
    const ctx = requestContext<Ambient>();
    const app = Fastify();
    await app.register(
      requestContextPlugin(ctx, async () => Promise.reject(new Error('no session'))),
    );
    app.get('/', async () => 'unreachable');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const server = await running(app.server);
    try {
      const response = await fetch(server.url);
      expect(response.status).toBe(500);
      expect(await response.json()).toMatchObject({ message: 'no session' });
    } finally {
      await server.close();
    }
  });
});

describe('the Hono adapter', () => {
  it('keeps the values across awaits and later middleware, from values given as a promise', async () => {
    const ctx = requestContext<Ambient>();
    const app = new Hono();
    app.use(honoMiddleware(ctx, async (c) => ({ user_id: c.req.header('x-user-id') ?? '?' })));
    app.use(async (c, next) => {
      await next();
      c.header('x-after', ctx.get()?.user_id ?? 'none');
    });
    app.put('/', async (c) => c.json({ body: await c.req.json(), seenBy: ctx.get()?.user_id }));
    const server = await running(
      serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server,
    );
    try {
      const response = await fetch(server.url, lateBody({ bio: 'x' }));
      expect(await response.json()).toEqual({ body: { bio: 'x' }, seenBy: 'alice' });
      expect(response.headers.get('x-after')).toBe('alice');
    } finally {
      await server.close();
    }
  });

  it('hands an error of the values function to Hono’s error handling', async () => {
    const ctx = requestContext<Ambient>();
    const app = new Hono();
    app.use(
      honoMiddleware(ctx, () => {
        throw new Error('no session');
      }),
    );
    app.get('/', (c) => c.text('unreachable'));
    app.onError((error, c) => c.text(error.message, 401));
    const server = await running(
      serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server,
    );
    try {
      const response = await fetch(server.url);
      expect([response.status, await response.text()]).toEqual([401, 'no session']);
    } finally {
      await server.close();
    }
  });
});
