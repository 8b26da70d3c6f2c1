#!/usr/bin/env node
/**
 * The `quickpost-cache` command (the package's `bin`): see src/cli/program.ts. The version is read
 * from the package.json one folder up, which is the package's in `dist/` and the repository's in
 * `src/`.
 */
import { readFileSync } from 'node:fs';
import { main } from './cli/program.js';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

process.exitCode = await main(process.argv, version, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
