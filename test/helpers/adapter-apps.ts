/**
 * The applications of the adapter tests (test/helpers/adapter-cases.ts) on Express, Fastify and
 * Hono, each through its adapter; NestJS's is in nest-app.legacy.ts (legacy decorators).
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { requestContextMiddleware as expressMiddleware } from '../../src/adapters/express.js';
import { requestContextPlugin } from '../../src/adapters/fastify.js';
import { requestContextMiddleware as honoMiddleware } from '../../src/adapters/hono.js';
import { type AdapterCase, profileFunctions, type RunningApp } from './adapter-cases.js';

/** The user named by the `x-user-id` header. */
function userOf(header: string | string[] | undefined): string {
  return typeof header === 'string' ? header : 'anonymous';
}

/** A running Node HTTP server as a RunningApp; closing it also ends idle keep-alive connections. */
export async function running(server: Server): Promise<RunningApp> {
  if (!server.listening) await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}

export const expressCase: AdapterCase = {
  name: 'Express',
  async start(cache, requestCtx, profiles) {
    const { getProfile, updateProfile, userId } = profileFunctions(cache, requestCtx, profiles);
    const app = express();
    app.use(express.json());
    app.use(expressMiddleware(requestCtx, (req) => ({ user_id: userOf(req.get('x-user-id')) })));
    app.get('/profile', async (_req, res) => {
      const profile = await getProfile();
      await tick();
      res.json({ ...profile, seenBy: userId() });
    });
    app.put('/profile', async (req, res) => {
      const profile = await updateProfile((req.body as { bio: string }).bio);
      res.json({ ...profile, seenBy: userId() });
    });
    return running(app.listen(0, '127.0.0.1'));
  },
};

export const fastifyCase: AdapterCase = {
  name: 'Fastify',
  async start(cache, requestCtx, profiles) {
    const { getProfile, updateProfile, userId } = profileFunctions(cache, requestCtx, profiles);
    const app = Fastify();
    await app.register(
      requestContextPlugin(requestCtx, (request) => ({
        user_id: userOf(request.headers['x-user-id']),
      })),
    );
    app.get('/profile', async () => {
      const profile = await getProfile();
      await tick();
      return { ...profile, seenBy: userId() };
    });
    app.put<{ Body: { bio: string } }>('/profile', async (request) => {
      const profile = await updateProfile(request.body.bio);
      return { ...profile, seenBy: userId() };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return running(app.server);
  },
};

export const honoCase: AdapterCase = {
  name: 'Hono',
  async start(cache, requestCtx, profiles) {
    const { getProfile, updateProfile, userId } = profileFunctions(cache, requestCtx, profiles);
    const app = new Hono();
    app.use(honoMiddleware(requestCtx, (c) => ({ user_id: userOf(c.req.header('x-user-id')) })));
    app.get('/profile', async (c) => {
      const profile = await getProfile();
      await tick();
      return c.json({ ...profile, seenBy: userId() });
    });
    app.put('/profile', async (c) => {
      const { bio } = await c.req.json<{ bio: string }>();
      const profile = await updateProfile(bio);
      return c.json({ ...profile, seenBy: userId() });
    });
    return running(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server);
  },
};
