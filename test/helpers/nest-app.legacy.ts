/**
 * The NestJS application of the adapter tests (test/helpers/adapter-cases.ts): a guard that sets
 * `req.user` (as Passport would), a controller, and a service whose methods carry `@Cacheable`
 * and `@InvalidateCache`. Legacy decorators, with their metadata, as NestJS projects compile:
 * vitest.config.ts compiles this file with tsconfig.legacy.json's options, and Nest injects the
 * controller's dependencies by their types (the `Cache` class included).
 */
import {
  Body,
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  Module,
  Put,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cacheable, InvalidateCache, QuickpostCacheModule } from '../../src/adapters/nestjs.js';
import { Cache, type RequestContext, type Store } from '../../src/index.js';
import { running } from './adapter-apps.js';
import type { AdapterCase, Ambient, Profile, Profiles, RunningApp } from './adapter-cases.js';

type AuthenticatedRequest = { headers: Record<string, string | undefined>; user: { id: string } };

/** Authenticates the user named by `x-user-id`: guards run before interceptors. */
class HeaderAuthGuard implements CanActivate {
  canActivate(execution: ExecutionContext): boolean {
    const request = execution.switchToHttp().getRequest<AuthenticatedRequest>();
    request.user = { id: request.headers['x-user-id'] ?? 'anonymous' };
    return true;
  }
}

/** Starts a Nest application of `AppModule` on 127.0.0.1, port 0. */
export async function startNest(appModule: new () => object): Promise<RunningApp> {
  const app = await NestFactory.create(appModule, { logger: false, forceCloseConnections: true });
  await app.listen(0, '127.0.0.1');
  const server = await running(app.getHttpServer());
  return { url: server.url, close: () => app.close() };
}

export const nestCase: AdapterCase = {
  name: 'NestJS',
  async start(cache, requestCtx: RequestContext<Ambient>, profiles: Profiles) {
    const userId = (): string => requestCtx.get()?.user_id ?? 'none';

    @Injectable()
    class ProfileService {
      @Cacheable({ cache, key: 'profile:{{user_id}}' })
      async getProfile(): Promise<Profile> {
        return profiles.read(userId());
      }

      @InvalidateCache({ cache, patterns: ['profile:{{user_id}}'] })
      async updateProfile(bio: string): Promise<Profile> {
        return profiles.write(userId(), bio);
      }
    }

    @Controller('profile')
    @UseGuards(HeaderAuthGuard)
    class ProfileController {
      constructor(
        private readonly service: ProfileService,
        private readonly injected: Cache<Store, Ambient>,
      ) {}

      @Get()
      async get(): Promise<Profile & { seenBy: string }> {
        if (this.injected !== cache) throw new Error('the module did not provide the cache');
        const profile = await this.service.getProfile();
        await new Promise((resolve) => setImmediate(resolve));
        return { ...profile, seenBy: userId() };
      }

      @Put()
      async put(@Body() body: { bio: string }): Promise<Profile & { seenBy: string }> {
        const profile = await this.service.updateProfile(body.bio);
        return { ...profile, seenBy: userId() };
      }
    }

    @Module({
      imports: [
        QuickpostCacheModule.forRoot({
          cache,
          context: (request: AuthenticatedRequest) => ({ user_id: request.user.id }),
        }),
      ],
      controllers: [ProfileController],
      providers: [ProfileService],
    })
    class AppModule {}

    return startNest(AppModule);
  },
};

// Cache is imported as a value: its class is what the controller's parameter metadata names.
void Cache;
