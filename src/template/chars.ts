/**
 * The character classes of the template grammar, as values the type level can read (`typeof`).
 * parse.ts keeps its own regular expressions; test/unit/template.test.ts runs the parser on every
 * UTF-16 code unit to prove the two agree, so neither can drift alone.
 */

/** What a placeholder name may start with: `[A-Za-z_]`. */
export const NAME_START = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_';

/** What a placeholder name may also hold after its first character. */
export const DIGITS = '0123456789';

/** What an encoded value may hold besides name characters (see encode.ts). */
export const VALUE_EXTRA = '.%~-';

/** The braces, reserved for placeholders in literal text. */
export const BRACES = '{}';

/** Redis glob syntax, allowed in patterns and not in key templates. */
export const GLOB = '*?[]\\';

/** What `/[\s\u0000-\u001f\u007f]/` matches: no literal text may hold these. */
export const SPACE_OR_CONTROL = [
  '\u0000',
  '\u0001',
  '\u0002',
  '\u0003',
  '\u0004',
  '\u0005',
  '\u0006',
  '\u0007',
  '\u0008',
  '\u0009',
  '\u000a',
  '\u000b',
  '\u000c',
  '\u000d',
  '\u000e',
  '\u000f',
  '\u0010',
  '\u0011',
  '\u0012',
  '\u0013',
  '\u0014',
  '\u0015',
  '\u0016',
  '\u0017',
  '\u0018',
  '\u0019',
  '\u001a',
  '\u001b',
  '\u001c',
  '\u001d',
  '\u001e',
  '\u001f',
  '\u0020',
  '\u007f',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u2001',
  '\u2002',
  '\u2003',
  '\u2004',
  '\u2005',
  '\u2006',
  '\u2007',
  '\u2008',
  '\u2009',
  '\u200a',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
] as const;
