import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { clientOf } from '../helpers/quickpost-api.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = 'examples/quickpost/main.ts';

/** Waits until `child`'s output matches `pattern`; rejects if it exits first or takes 60 s. */
function waitFor(
  child: ChildProcess,
  output: () => string,
  pattern: RegExp,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const match = output().match(pattern);
      if (match === null) return;
      cleanup();
      resolve(match);
    };
    const exited = (code: number | null): void => {
      cleanup();
      reject(new Error(`the app exited (${code}) before printing ${pattern}:\n${output()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} within 60 s:\n${output()}`));
    }, 60_000);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('exit', exited);
    };
    child.stdout?.on('data', check);
    child.once('exit', exited);
    check();
  });
}

describe('npm run example', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    // Only if a failed test left it running; stopped by its own pid.
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  it('is the QuickPost app in examples/quickpost, run with tsx', () => {
    const manifest = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts.example).toBe(`tsx ${ENTRY}`);
  });

  it('serves the API on PORT and loopback from embedded PGlite, prints debug lines with DEBUG=quickpost, stops on SIGTERM', async () => {
    const {
      HOST: _host,
      REDIS_URL: _url,
      REDIS_CLUSTER_NODES: _nodes,
      DATABASE_URL: _database,
      SEED: _seed,
      ...env
    } = process.env;
    const app = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
      cwd: root,
      env: { ...env, PORT: '0', DEBUG: 'quickpost' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = app;
    let output = '';
    app.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    app.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const [, url] = await waitFor(
      app,
      () => output,
      /listening on (http:\/\/\S+) \(cache: memory\)/,
    );
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const call = clientOf(url as string);
    const created = await call('POST', '/posts', {
      user: 'alice',
      json: { slug: 'smoke', title: 'Smoke' },
    });
    expect(created.status).toBe(201);
    expect((await call('GET', '/posts/smoke')).cache).toBe('miss');
    expect((await call('GET', '/posts/smoke')).cache).toBe('hit');

    const exited = new Promise<number | null>((resolve) => app.once('exit', resolve));
    app.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const line of [
      '[Cache] INVALIDATE: quickpost:posts:smoke:* (0 keys)',
      '[Cache] MISS: quickpost:posts:smoke',
      '[Cache] SET: quickpost:posts:smoke (TTL: 600s)',
      '[Cache] HIT: quickpost:posts:smoke',
    ]) {
      expect(output).toContain(line);
    }
    expect(output).toContain('[quickpost] data: Postgres (embedded PGlite, in memory)');
    expect(output).toContain('[quickpost] SIGTERM: stopping');
  }, 90_000);
});
