// The NestJS adapter on MemoryStore, over real HTTP on loopback (the same on Redis in
// test/redis/nestjs.legacy.test.ts), and what the module adds. Legacy decorators: see
// vitest.config.ts.
import { Controller, Get, Injectable, Module, UnauthorizedException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { Cacheable, QuickpostCacheModule } from '../../src/adapters/nestjs.js';
import {
  Cache,
  configureCache,
  createCache,
  getDefaultCache,
  InvalidOptionError,
  MemoryStore,
  requestContext,
} from '../../src/index.js';
import { describeAdapter } from '../helpers/adapter-cases.js';
import { nestCase, startNest } from '../helpers/nest-app.legacy.js';

describeAdapter(nestCase, { name: 'MemoryStore', create: () => new MemoryStore() });

describe('QuickpostCacheModule', () => {
  it('makes its cache the default one, which decorators without `cache` use', async () => {
    const cache = createCache({ prefix: 'nest-default' });
    let loads = 0;

    @Injectable()
    class PostService {
      @Cacheable({ key: 'posts:{{slug}}', context: (slug: string) => ({ slug }) })
      async getPost(slug: string): Promise<string> {
        loads += 1;
        return `post ${slug}`;
      }
    }

    @Controller('posts')
    class PostController {
      constructor(private readonly posts: PostService) {}

      @Get()
      async get(): Promise<string> {
        return this.posts.getPost('a');
      }
    }

    @Module({
      imports: [QuickpostCacheModule.forRoot({ cache })],
      controllers: [PostController],
      providers: [PostService],
    })
    class AppModule {}

    const app = await startNest(AppModule);
    try {
      expect(getDefaultCache()).toBe(cache);
      expect(await (await fetch(`${app.url}/posts`)).text()).toBe('post a');
      expect(await (await fetch(`${app.url}/posts`)).text()).toBe('post a');
      expect(loads).toBe(1);
      expect(cache.get('posts:a')).toBe('post a');
    } finally {
      await app.close();
      configureCache(createCache());
    }
  });

  it('fills the request context from values given as a promise, and fails the request when they fail', async () => {
    const ctx = requestContext<{ user_id: string }>();
    const cache = createCache({ requestContext: ctx });

    @Controller('me')
    class MeController {
      @Get()
      async get(): Promise<string> {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return ctx.get()?.user_id ?? 'none';
      }
    }

    @Module({
      imports: [
        QuickpostCacheModule.forRoot({
          cache,
          context: async (request: { headers: Record<string, string | undefined> }) => {
            const user = request.headers['x-user-id'];
            if (user === undefined) throw new UnauthorizedException('who are you?');
            return { user_id: user };
          },
        }),
      ],
      controllers: [MeController],
    })
    class AppModule {}

    const app = await startNest(AppModule);
    try {
      const known = await fetch(`${app.url}/me`, { headers: { 'x-user-id': 'dora' } });
      expect([known.status, await known.text()]).toEqual([200, 'dora']);
      const unknown = await fetch(`${app.url}/me`);
      expect(unknown.status).toBe(401);
      expect(await unknown.json()).toMatchObject({ message: 'who are you?' });
    } finally {
      await app.close();
      configureCache(createCache());
    }
  });

  it('refuses `context` for a cache made without a request context', () => {
    expect(() =>
      QuickpostCacheModule.forRoot({ cache: createCache(), context: () => ({ user_id: 'x' }) }),
    ).toThrow(InvalidOptionError);
  });

  it('provides the cache by its class', () => {
    const cache = createCache();
    const module = QuickpostCacheModule.forRoot({ cache });
    expect(module.providers).toEqual([{ provide: Cache, useValue: cache }]);
    expect(module.exports).toEqual([Cache]);
    configureCache(createCache());
  });
});
