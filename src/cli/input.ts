/**
 * The command line's arguments, checked before anything connects: a bad value is a usage error
 * (exit code 2) whether or not Redis is reachable. Each parser throws commander's
 * `InvalidArgumentError`, whose message commander prints after the option's name.
 */
import { InvalidArgumentError } from 'commander';
import { isCacheError } from '../errors.js';
import { compilePattern, compileTemplate } from '../template/index.js';
import { CliFailure, Exit } from './failure.js';

/** A `host:port`. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Where Redis is when neither `--url` nor `REDIS_URL` says. */
export const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** A whole number of at least `min`. */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected a whole number of at least ${min}, got "${value}"`);
    }
    return n;
  };
}

/** `host:port` (an IPv6 host in brackets: `[::1]:7000`). */
export function parseEndpoint(value: string): Endpoint {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (match === null || port < 1 || port > 65_535) {
    throw new InvalidArgumentError(`expected host:port, got "${value}"`);
  }
  return { host: (match[1] ?? match[2]) as string, port };
}

/** `host:port,host:port,…`: a Cluster's seed nodes. */
export function parseNodes(value: string): Endpoint[] {
  return value.split(',').map(parseEndpoint);
}

/** `announced=reachable,…`, each a `host:port`: ioredis's `natMap` for a Cluster behind NAT. */
export function parseNatMap(value: string): Record<string, Endpoint> {
  const map: Record<string, Endpoint> = {};
  for (const pair of value.split(',')) {
    const [from, to, extra] = pair.split('=');
    if (from === undefined || to === undefined || extra !== undefined) {
      throw new InvalidArgumentError(`expected host:port=host:port, got "${pair}"`);
    }
    const announced = parseEndpoint(from);
    map[`${announced.host}:${announced.port}`] = parseEndpoint(to);
  }
  return map;
}

/** Checks a Redis URL: `redis://` or `rediss://` (TLS). */
export function checkUrl(url: string): string {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new CliFailure(Exit.Usage, `--url must be a redis:// or rediss:// URL, got "${url}"`);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new CliFailure(Exit.Usage, `--url must be a redis:// or rediss:// URL, got "${url}"`);
  }
  return url;
}

/**
 * A pattern given without the prefix, rendered as the manual API renders it: Redis glob syntax,
 * checked by the template parser. Placeholders have no values here, so they are refused.
 */
export function patternBody(pattern: string): string {
  return checked(pattern, 'pattern');
}

/** A key given without the prefix, checked as the manual API checks keys (no wildcards). */
export function keyBody(key: string): string {
  return checked(key, 'key');
}

function checked(text: string, what: 'key' | 'pattern'): string {
  let render: ReturnType<typeof compilePattern<string>>;
  try {
    render = what === 'key' ? compileTemplate<string>(text) : compilePattern<string>(text);
  } catch (error) {
    if (!isCacheError(error)) throw error;
    throw new CliFailure(
      Exit.Usage,
      `bad ${what} "${text}": ${error.message.replace(/^\[quickpost-cache\] Invalid template "[^"]*" /, '')}`,
    );
  }
  if (render.placeholders.length > 0) {
    throw new CliFailure(
      Exit.Usage,
      `bad ${what} "${text}": {{${render.placeholders[0]}}} is a placeholder, and there are no values to fill it with here; write the value as it appears in stored keys (see \`keys\`)${what === 'pattern' ? ', or * for any value' : ''}`,
    );
  }
  return render({});
}
