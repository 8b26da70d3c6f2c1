/**
 * The `quickpost-cache` command line: arguments (commander), output (human or `--json`), exit
 * codes. Everything that needs Redis is imported once a command runs, so `--help` and argument
 * errors work without ioredis, and a missing ioredis gets a message saying how to install it.
 */
import { Command, CommanderError, Option } from 'commander';
import pc from 'picocolors';
import { CliFailure, Exit, type ExitCode } from './failure.js';
import {
  checkUrl,
  DEFAULT_URL,
  type Endpoint,
  integerAtLeast,
  keyBody,
  parseNatMap,
  parseNodes,
  patternBody,
} from './input.js';
import { type Progress, progressOn } from './progress.js';
import { type Colors, renderInspect, renderInvalidate, renderKeys, renderStats } from './render.js';
import type { CommandResult } from './results.js';
import type { Session } from './session.js';

/** The options every command takes. */
interface GlobalOptions {
  url: string;
  cluster?: Endpoint[];
  natMap?: Record<string, Endpoint>;
  prefix: string;
  json?: boolean;
  timeout: number;
}

/** Where the command line writes, and its environment (the process's, or a test's). */
export interface Io {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
}

/** Colour on a terminal, unless `NO_COLOR` is set or `TERM` is `dumb`; `FORCE_COLOR` forces it. */
function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): Colors {
  const forced = env.FORCE_COLOR;
  const on =
    forced !== undefined
      ? forced !== '0'
      : env.NO_COLOR === undefined && stream.isTTY === true && env.TERM !== 'dumb';
  return pc.createColors(on);
}

/** Runs the command line on `argv` (as `process.argv`); resolves to the exit code. */
export async function main(argv: readonly string[], version: string, io: Io): Promise<ExitCode> {
  const out = colorsFor(io.stdout, io.env);
  const err = colorsFor(io.stderr, io.env);
  let exitCode: ExitCode = Exit.Ok;
  const fail = (failure: CliFailure) => {
    io.stderr.write(`${err.red('quickpost-cache:')} ${failure.message}\n`);
    exitCode = failure.exitCode;
  };

  /** Connects, runs `work`, prints its result, closes; failures become messages and exit codes. */
  const run = async (
    globals: GlobalOptions,
    check: () => void,
    work: (session: Session, progress: Progress) => Promise<CommandResult>,
  ): Promise<void> => {
    let session: Session | undefined;
    let failureOf: ((error: unknown, session: Session) => CliFailure) | undefined;
    try {
      check();
      if (globals.cluster === undefined) checkUrl(globals.url);
      const redis = await loadRedisPart();
      failureOf = redis.failureOf;
      session = await redis.openSession({
        url: globals.url,
        cluster: globals.cluster,
        natMap: globals.natMap,
        prefix: globals.prefix,
        timeoutMs: globals.timeout,
      });
      const result = await work(session, progressOn(io.stderr));
      io.stdout.write(
        globals.json === true
          ? `${JSON.stringify(result, null, 2)}\n`
          : `${render(result, out).join('\n')}\n`,
      );
      if (result.command === 'inspect' && !result.found) exitCode = Exit.NotFound;
    } catch (error) {
      if (error instanceof CliFailure) fail(error);
      else if (session !== undefined && failureOf !== undefined) fail(failureOf(error, session));
      else throw error;
    } finally {
      await session?.close();
    }
  };

  const program = new Command('quickpost-cache')
    .description(
      "Look at and invalidate what quickpost-cache holds in Redis. Keys and patterns are given without the prefix, as in the cache's manual API; keys are found through the cache's key index, else SCAN on every master (never KEYS).",
    )
    .version(version)
    .addOption(
      new Option('--url <url>', 'Redis URL (redis:// or rediss://)')
        .env('REDIS_URL')
        .default(DEFAULT_URL),
    )
    .option(
      '--cluster <nodes>',
      'a Redis Cluster instead: some of its nodes, host:port,…',
      parseNodes,
    )
    .option(
      '--nat-map <map>',
      'with --cluster: addresses the nodes announce mapped to reachable ones, host:port=host:port,…',
      parseNatMap,
    )
    .option('--prefix <prefix>', "the cache's prefix", 'quickpost')
    .option('--json', 'machine-readable output on stdout')
    .option(
      '--timeout <ms>',
      'longest wait to connect, and for each Redis command',
      integerAtLeast(1),
      5000,
    )
    .exitOverride()
    .showHelpAfterError('(quickpost-cache --help shows the commands and options)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(err.red(text)),
    })
    .addHelpText(
      'after',
      `
Exit codes: 0 done, 1 inspect found no such key, 2 bad arguments, pattern or key (or ioredis missing),
3 Redis unreachable or not answering, 4 Redis refused a command.

Examples:
  quickpost-cache keys 'posts:*'
  quickpost-cache inspect posts:my-post
  quickpost-cache stats --cluster 10.0.0.1:7000,10.0.0.2:7000
  quickpost-cache invalidate 'posts:list:*' --dry-run`,
    );

  program
    .command('keys')
    .description('count the keys matching a pattern, and show some of them')
    .argument(
      '<pattern>',
      "a Redis glob without the prefix: 'posts:*' (a trailing :* also covers the key without it)",
    )
    .option('--limit <n>', 'keys to show', integerAtLeast(0), 20)
    .option('--scan', 'SCAN every master even where the key index could answer')
    .action(
      async (pattern: string, options: { limit: number; scan?: boolean }, command: Command) => {
        await run(
          command.optsWithGlobals<GlobalOptions>(),
          () => patternBody(pattern),
          async (session, progress) =>
            (await import('./commands.js')).keysCommand(
              session,
              pattern,
              { limit: options.limit, scan: options.scan === true },
              progress,
            ),
        );
      },
    );

  program
    .command('inspect')
    .description('show what one key holds: decoded value, TTL, size, lease or not, entry header')
    .argument('<key>', 'a key without the prefix: posts:my-post')
    .action(async (key: string, _options: object, command: Command) => {
      await run(
        command.optsWithGlobals<GlobalOptions>(),
        () => keyBody(key),
        async (session) => (await import('./commands.js')).inspectCommand(session, key),
      );
    });

  program
    .command('stats')
    .description(
      "keys, memory and TTLs under the prefix, by key template (or first segments), and Redis's keyspace hit rate",
    )
    .option(
      '--depth <n>',
      'group by the first n segments of keys instead of by template',
      integerAtLeast(1),
    )
    .option(
      '--sample <n>',
      'keys to measure (MEMORY USAGE, PTTL) and group',
      integerAtLeast(1),
      1000,
    )
    .action(async (options: { depth?: number; sample: number }, command: Command) => {
      await run(
        command.optsWithGlobals<GlobalOptions>(),
        () => undefined,
        async (session, progress) =>
          (await import('./commands.js')).statsCommand(
            session,
            { sample: options.sample, depth: options.depth },
            progress,
          ),
      );
    });

  program
    .command('invalidate')
    .description("delete the keys matching a pattern, as the cache's deletePattern does")
    .argument('<pattern>', "a Redis glob without the prefix: 'posts:my-post:*'")
    .option('--dry-run', 'show what would be deleted, delete nothing')
    .option('--limit <n>', 'keys to show', integerAtLeast(0), 20)
    .action(
      async (pattern: string, options: { dryRun?: boolean; limit: number }, command: Command) => {
        await run(
          command.optsWithGlobals<GlobalOptions>(),
          () => patternBody(pattern),
          async (session, progress) =>
            (await import('./commands.js')).invalidateCommand(
              session,
              pattern,
              { limit: options.limit, dryRun: options.dryRun === true },
              progress,
            ),
        );
      },
    );

  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Help and version end with 0; every other commander error is a usage error.
    return error.exitCode === 0 ? Exit.Ok : Exit.Usage;
  }
  return exitCode;
}

/** The human output of a result. */
function render(result: CommandResult, colors: Colors): string[] {
  switch (result.command) {
    case 'keys':
      return renderKeys(result, colors);
    case 'invalidate':
      return renderInvalidate(result, colors);
    case 'inspect':
      return renderInspect(result, colors, Date.now());
    case 'stats':
      return renderStats(result, colors);
  }
}

/** The part of the command line that loads ioredis; a missing ioredis is a usage error. */
async function loadRedisPart(): Promise<typeof import('./session.js')> {
  try {
    return await import('./session.js');
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (code === 'ERR_MODULE_NOT_FOUND' && String(message).includes("'ioredis'")) {
      throw new CliFailure(
        Exit.Usage,
        'the command line needs ioredis, which is not installed here: run `npm install ioredis` in your project, or `npx -p quickpost-cache -p ioredis quickpost-cache …`',
      );
    }
    throw error;
  }
}
