/**
 * Every ```ts block of README.md compiles against the published declarations (dist/, through the
 * package's own name, as a user's project resolves it), each block as a module of its own. A line
 * whose comment says `compile error` must fail to compile, and is the only kind allowed to. A
 * block whose first line mentions `"experimentalDecorators"` (NestJS's) is compiled as NestJS
 * projects are, with legacy decorators and their metadata; the others with TypeScript's standard
 * decorators.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * What the snippets take as given: the app around them (a request, a database, a metrics client)
 * and a cache made earlier in the README. Declared, never defined: only the types are checked.
 */
const PRELUDE = `
import type { Cache, MemoryStore } from 'quickpost-cache';

declare global {
  interface Post { slug: string; title: string; body: string; tags: string[] }
  interface PostInput { title?: string; body?: string; tags?: string[] }
  interface Profile { userId: number; fullName: string; bio: string }
  /** What a web handler receives. */
  interface Req { userId: number; headers: Record<string, string | undefined> }
  const req: Req;
  const userInput: string;
  const cache: Cache<MemoryStore>;
  /** A database transaction, as an ORM hands it to its callback. */
  interface Tx { query(sql: string, params?: unknown[]): Promise<unknown> }
  const db: {
    posts: {
      find(slug: string): Promise<Post | null>;
      list(filters: { tag?: string; page: number }): Promise<Post[]>;
      update(slug: string, data: PostInput): Promise<Post>;
    };
    transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  };
  const knex: { transaction<T>(fn: (trx: Tx) => Promise<T>): Promise<T> };
  const slug: string;
  const title: string;
  /** A mutation wrapped with \`cache.invalidating\`, run in a transaction. */
  function renamePost(tx: Tx, slug: string, title: string): Promise<void>;
  const profiles: { get(userId: number): Profile };
  function loadPost(req: Req, slug: string): Promise<Post | null>;
  const metrics: { increment(name: string, tags?: Record<string, string>): void };
}
`;

/** The store module the "Testing your store" block imports (`./my-store.js`). */
const MY_STORE = `
import { MemoryStore } from 'quickpost-cache';
export class MyStore extends MemoryStore {
  async close(): Promise<void> {}
}
`;

interface Block {
  /** The line of README.md the block's opening fence is on. */
  readonly line: number;
  readonly code: string;
}

/** The ```ts (or ```typescript) blocks of a Markdown text. */
function tsBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  let open: { line: number; ts: boolean; body: string[] } | undefined;
  lines.forEach((text, index) => {
    const fence = /^\s*```(\S*)/.exec(text);
    if (open === undefined) {
      if (fence)
        open = { line: index + 1, ts: ['ts', 'typescript'].includes(fence[1] ?? ''), body: [] };
      return;
    }
    if (fence && fence[1] === '') {
      if (open.ts) blocks.push({ line: open.line, code: open.body.join('\n') });
      open = undefined;
      return;
    }
    open.body.push(text);
  });
  return blocks;
}

/** Diagnostics of each block, as `README.md:<line>: <message>` with the line in README.md. */
function checkBlocks(
  blocks: readonly Block[],
  extra: ts.CompilerOptions = {},
): { unexpected: string[]; missing: string[] } {
  const config = ts.parseJsonConfigFileContent(
    ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile).config,
    ts.sys,
    root,
  );
  const options: ts.CompilerOptions = {
    ...config.options,
    // Snippets define things for the reader that they do not use themselves.
    noUnusedLocals: false,
    noUnusedParameters: false,
    // Each block is a module of its own, even without import or export.
    moduleDetection: ts.ModuleDetectionKind.Force,
    types: ['node'],
    ...extra,
  };
  // Virtual files beside the package's own files, so that `quickpost-cache` resolves to this
  // package (its exports, dist/) and other imports to its node_modules.
  const files = new Map<string, string>([
    [join(root, 'readme-prelude.d.ts'), PRELUDE],
    [join(root, 'my-store.ts'), MY_STORE],
  ]);
  const fileOf = new Map<string, Block>();
  for (const block of blocks) {
    const path = join(root, `readme-block-${block.line}.ts`);
    files.set(path, block.code);
    fileOf.set(path, block);
  }
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (path) => files.has(path) || fileExists.call(host, path);
  host.readFile = (path) => files.get(path) ?? readFile.call(host, path);
  host.getSourceFile = (path, language, ...rest) => {
    const text = files.get(path);
    return text === undefined
      ? getSourceFile.call(host, path, language, ...rest)
      : ts.createSourceFile(path, text, language, true);
  };
  const program = ts.createProgram([...files.keys()], options, host);

  const unexpected: string[] = [];
  const failed = new Set<string>();
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const file = diagnostic.file;
    const block = file === undefined ? undefined : fileOf.get(file.fileName);
    if (file === undefined || block === undefined) {
      unexpected.push(`${file?.fileName ?? '(no file)'}: ${message}`);
      continue;
    }
    const { line } = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const readmeLine = block.line + 1 + line;
    const text = block.code.split('\n')[line] ?? '';
    if (/\/\/.*compile error/.test(text)) {
      failed.add(`${block.line}:${line}`);
      continue;
    }
    unexpected.push(
      `README.md:${readmeLine} (block at line ${block.line}): ${message}\n    ${text.trim()}`,
    );
  }
  const missing: string[] = [];
  for (const block of blocks) {
    block.code.split('\n').forEach((text, line) => {
      if (/\/\/.*compile error/.test(text) && !failed.has(`${block.line}:${line}`)) {
        missing.push(
          `README.md:${block.line + 1 + line} says "compile error" but compiles: ${text.trim()}`,
        );
      }
    });
  }
  return { unexpected, missing };
}

describe('the README', () => {
  const blocks = tsBlocks(readFileSync(join(root, 'README.md'), 'utf8'));

  it('has TypeScript blocks to check', () => {
    expect(blocks.length).toBeGreaterThan(10);
  });

  it('has TypeScript blocks that all compile, but for the lines marked `compile error`', () => {
    if (!existsSync(join(root, 'dist/index.d.ts'))) {
      throw new Error('the README blocks are checked against dist/: run `npm run build` first');
    }
    const legacy = (block: Block) =>
      /"experimentalDecorators"/.test(block.code.trimStart().split('\n')[0] ?? '');
    const standard = checkBlocks(blocks.filter((block) => !legacy(block)));
    const nest = checkBlocks(blocks.filter(legacy), {
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
    });
    const unexpected = [...standard.unexpected, ...nest.unexpected];
    const missing = [...standard.missing, ...nest.missing];
    expect(unexpected, unexpected.join('\n')).toEqual([]);
    expect(missing, missing.join('\n')).toEqual([]);
  }, 60_000);
});
