/**
 * The command line as the package publishes it: `bin` names dist/cli.js, an executable with a
 * shebang; its help lists the commands and options whose names are a contract; and a package
 * installed without ioredis (an optional peer) still shows its help and says how to install
 * ioredis instead of crashing. Its commands run against real Redis in test/redis/cli.test.ts.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};

function run(cli: string, args: string[]) {
  const env = { ...process.env };
  delete env.FORCE_COLOR;
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the built command line', () => {
  const cli = join(root, pkg.bin['quickpost-cache'] ?? '');

  it('is the package bin: dist/cli.js, executable, with a shebang', () => {
    expect(pkg.bin).toEqual({ 'quickpost-cache': './dist/cli.js' });
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(cli).mode & 0o111).not.toBe(0);
  });

  it('lists its commands and options, and its version', () => {
    const help = run(cli, ['--help']);
    expect(help.code).toBe(0);
    for (const name of [
      'keys [options] <pattern>',
      'inspect <key>',
      'stats [options]',
      'invalidate [options] <pattern>',
    ]) {
      expect(help.stdout).toContain(name);
    }
    for (const option of [
      '--url <url>',
      'env: REDIS_URL',
      'redis://127.0.0.1:6379',
      '--cluster <nodes>',
      '--prefix <prefix>',
      '(default: "quickpost")',
      '--json',
    ]) {
      expect(help.stdout).toContain(option);
    }
    expect(run(cli, ['invalidate', '--help']).stdout).toContain('--dry-run');
    expect(run(cli, ['keys', '--help']).stdout).toContain('--limit <n>');
    expect(run(cli, ['stats', '--help']).stdout).toContain('--depth <n>');
    expect(run(cli, ['--version']).stdout.trim()).toBe(pkg.version);
  }, 60_000);
});

describe('the command line installed without ioredis', () => {
  // The package as npm installs it in a project without ioredis: dist/ and package.json, beside
  // its dependencies (linked from this repository) and nothing else.
  const project = mkdtempSync(join(tmpdir(), 'qc-cli-'));
  const installed = join(project, 'node_modules', 'quickpost-cache');
  mkdirSync(installed, { recursive: true });
  cpSync(join(root, 'dist'), join(installed, 'dist'), { recursive: true });
  cpSync(join(root, 'package.json'), join(installed, 'package.json'));
  for (const dependency of Object.keys(pkg.dependencies)) {
    symlinkSync(join(root, 'node_modules', dependency), join(project, 'node_modules', dependency));
  }
  const cli = join(installed, pkg.bin['quickpost-cache'] ?? '');
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('shows its help, and says how to install ioredis when a command needs it (exit code 2)', () => {
    expect(run(cli, ['--help']).code).toBe(0);
    const keys = run(cli, ['keys', 'posts:*']);
    expect([keys.code, keys.stdout]).toEqual([2, '']);
    expect(keys.stderr).toBe(
      'quickpost-cache: the command line needs ioredis, which is not installed here: run `npm install ioredis` in your project, or `npx -p quickpost-cache -p ioredis quickpost-cache …`\n',
    );
  }, 60_000);
});
