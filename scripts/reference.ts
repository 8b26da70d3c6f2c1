/**
 * Writes docs/reference.md, the options reference, from the doc comments of the options types in
 * src/: each option is documented once, where it is typed, and this page is made from there
 * (test/unit/reference.test.ts fails when it is out of date). `npm run docs` runs it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));

/** One option: its name, type and doc comment. */
export interface OptionDoc {
  name: string;
  type: string;
  text: string;
  defaultText: string | undefined;
}

/** A section of the reference: a heading, what it documents, and where the options are typed. */
interface Section {
  heading: string;
  intro: string;
  /** `file#TypeName` sources, read in order; an option already listed is not repeated. */
  sources: string[];
}

const SECTIONS: Section[] = [
  {
    heading: 'createCache(options)',
    intro: 'Options of `createCache`. Every option is checked when the cache is made.',
    sources: ['src/core/options.ts#CacheOptions'],
  },
  {
    heading: 'lease',
    intro: 'The `lease` option of `createCache` (or `false`).',
    sources: ['src/core/options.ts#LeaseOptions'],
  },
  {
    heading: 'breaker',
    intro: 'The `breaker` option of `createCache` (or `false`).',
    sources: ['src/core/guard.ts#BreakerOptions'],
  },
  {
    heading: 'cache.cacheable(fn, options)',
    intro: 'Options of `cacheable`, checked when the wrapper is made.',
    sources: [
      'src/wrappers/cacheable.ts#CacheableOptions',
      'src/wrappers/cacheable.ts#CacheableContextOption',
      'src/wrappers/cacheable.ts#CacheableBaseOptions',
    ],
  },
  {
    heading: 'cache.invalidating(fn, options)',
    intro: 'Options of `invalidating`, checked when the wrapper is made.',
    sources: [
      'src/wrappers/invalidating.ts#InvalidatingOptions',
      'src/wrappers/invalidating.ts#InvalidatingContextOption',
    ],
  },
  {
    heading: 'cache.set(key, value, options) and cache.getOrSet(key, compute, options)',
    intro: 'Options of the manual writes (plus `context` when the key has placeholders).',
    sources: ['src/cache.ts#WriteOptions'],
  },
  {
    heading: 'cache.stats(options)',
    intro: 'Options of `stats` (the counters it answers are described in the README).',
    sources: ['src/cache.ts#StatsOptions'],
  },
  {
    heading: 'cache.health(options)',
    intro: 'Options of `health`.',
    sources: ['src/cache.ts#HealthOptions'],
  },
  {
    heading: 'instrumentCache(cache, options)',
    intro: 'Options of `instrumentCache` (`quickpost-cache/otel`).',
    sources: ['src/otel.ts#InstrumentOptions'],
  },
  {
    heading: 'new MemoryStore(options)',
    intro: 'Options of the embedded in-memory store.',
    sources: ['src/stores/memory.ts#MemoryStoreOptions'],
  },
  {
    heading: 'new RedisStore(options)',
    intro:
      'Options of the Redis store (`quickpost-cache/redis`), besides `{ client }`, `{ url, redis? }` or `{ redis }`.',
    sources: ['src/stores/redis.ts#RedisStoreTuning'],
  },
];

/** The options typed by `name` in `file`: properties of its interface or type literals. */
export function optionsOf(file: string, name: string): OptionDoc[] {
  const path = `${root}${file}`;
  const source = ts.createSourceFile(
    path,
    readFileSync(path, 'utf8'),
    ts.ScriptTarget.ES2022,
    true,
  );
  const docs: OptionDoc[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isPropertySignature(node) && node.type !== undefined && ts.isIdentifier(node.name)) {
      const tags = ts.getJSDocTags(node);
      const comment = ts.getJSDocCommentsAndTags(node).find(ts.isJSDoc)?.comment;
      const text =
        typeof comment === 'string' ? comment : (ts.getTextOfJSDocComment(comment) ?? '');
      // An undocumented property may hold documented ones (`required: { context }`).
      if (text === '') {
        ts.forEachChild(node, visit);
        return;
      }
      const defaultTag = tags.find((tag) => tag.tagName.text === 'default');
      const example = tags.find((tag) => tag.tagName.text === 'example');
      docs.push({
        name: node.name.text,
        type: node.type
          .getText(source)
          .replace(/\s*\|\s*undefined$/, '')
          .replace(/\s+/g, ' '),
        text:
          example === undefined
            ? text
            : `${text}\n\nExample: \`${ts.getTextOfJSDocComment(example.comment)}\``,
        defaultText:
          defaultTag === undefined ? undefined : ts.getTextOfJSDocComment(defaultTag.comment),
      });
      return;
    }
    ts.forEachChild(node, visit);
  };
  for (const statement of source.statements) {
    if (
      (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) &&
      statement.name.text === name
    ) {
      visit(statement);
      return docs;
    }
  }
  throw new Error(`no type ${name} in ${file}`);
}

/** The reference page, as markdown. */
export function renderReference(): string {
  const out = [
    '# Options reference',
    '',
    '<!-- Made by `npm run docs` from the doc comments in src/; edit those, not this page. -->',
    '',
    'Every option of the library, as its type documents it in your editor. A `Duration` is a',
    "string with its unit (`'150ms'`, `'2s'`, `'10m'`, `'1h'`, `'1d'`) or a number: seconds for `ttl`",
    'and `staleTtl`, milliseconds for every other duration, as each entry says.',
  ];
  for (const section of SECTIONS) {
    out.push('', `## ${section.heading}`, '', section.intro);
    const seen = new Set<string>();
    for (const spec of section.sources) {
      const [file, name] = spec.split('#') as [string, string];
      for (const option of optionsOf(file, name)) {
        if (seen.has(option.name)) continue;
        seen.add(option.name);
        const type = option.type === 'S' ? 'Store' : option.type;
        out.push('', `### ${option.name}`, '');
        if (option.defaultText === undefined) out.push(`Type: \`${type}\``);
        else out.push(`Type: \`${type}\`\\`, `Default: ${option.defaultText}`);
        out.push('', option.text);
      }
    }
  }
  return `${out.join('\n')}\n`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(`${root}docs/reference.md`, renderReference());
  console.log('wrote docs/reference.md');
}
