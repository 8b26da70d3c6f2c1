/**
 * Type-level parsing of `{{name}}` templates: the grammar of `parseTemplate` (parse.ts), so a
 * template the parser would reject is a compile error where it is written, not an exception at the
 * first call. Each type does one job. The recursive ones carry their result in an accumulator or
 * return the recursive call itself: the compiler runs such types as loops of up to 1000 steps,
 * where nested instantiations stop at depth 100, so templates of hundreds of characters and
 * placeholders still check.
 */

import type { BRACES, DIGITS, GLOB, NAME_START, SPACE_OR_CONTROL, VALUE_EXTRA } from './chars.js';

/** `key` templates name one entry; `pattern` templates may also use Redis glob wildcards. */
export type TemplateMode = 'key' | 'pattern';

/** A value a placeholder can render: text-like values as text, objects and arrays hashed. */
export type ContextValue = string | number | boolean | bigint | object;

/**
 * The placeholder names of a template: `'a:{{x}}:{{y}}'` gives `'x' | 'y'`; a template only known
 * at run time (type `string`) may have any names.
 */
export type PlaceholderNames<T extends string> = string extends T ? string : ParseNames<T>;

// Names that cannot be placeholder names are left out: the template is a compile error already,
// and a context asking for a property `''` or `'1a'` would only add a second, confusing one.
type ParseNames<
  T extends string,
  Names extends string = never,
> = T extends `${string}{{${infer Name}}}${infer Rest}`
  ? ParseNames<Rest, [NameError<Name>] extends [never] ? Names | Name : Names>
  : Names;

/** No request context: the default of the `Ambient` type parameters. */
export type NoAmbient = Record<never, never>;

/**
 * The names a request context of type `Ambient` always provides: its required properties whose
 * type a placeholder can render (an optional property, one that may be `undefined` or `null`, or
 * a function, provides nothing for sure).
 */
export type AmbientKeys<Ambient> = {
  [K in keyof Ambient]-?: NoAmbient extends Pick<Ambient, K>
    ? never
    : Ambient[K] extends ContextValue
      ? Ambient[K] extends (...args: never) => unknown
        ? never
        : K
      : never;
}[keyof Ambient] &
  string;

/**
 * The context a template needs: one required property per placeholder. A template whose text is
 * only known at run time (type `string`) accepts any record of values. With a request context of
 * type `Ambient`, the placeholders it provides are optional (a value given wins over it).
 */
export type TemplateContext<T extends string, Ambient = NoAmbient> = string extends T
  ? Readonly<Record<string, ContextValue>>
  : [PlaceholderNames<T> & AmbientKeys<Ambient>] extends [never]
    ? { readonly [K in PlaceholderNames<T>]: ContextValue }
    : { readonly [K in Exclude<PlaceholderNames<T>, AmbientKeys<Ambient>>]: ContextValue } & {
        readonly [K in PlaceholderNames<T> & AmbientKeys<Ambient>]?: ContextValue;
      };

/** True when the template has no placeholders, so it needs no context. */
export type IsStaticTemplate<T extends string> = string extends T
  ? false
  : [PlaceholderNames<T>] extends [never]
    ? true
    : false;

/**
 * Picks the shape of a context argument or option for template `T`: `required` when `T` has
 * placeholders the request context (of type `Ambient`) does not provide, `ambient` when it
 * provides them all (`runtime` if no `ambient` shape is given), `none` when `T` has no
 * placeholders, `runtime` when `T` is only known at run time (`string`) or is malformed in mode `M`.
 */
// Malformed templates get the `runtime` shape because a required context left out would make
// "Expected 2 arguments" the error shown, hiding the template's own, readable one.
export type ContextFor<
  T extends string,
  Shapes extends { required: unknown; none: unknown; runtime: unknown; ambient?: unknown },
  M extends TemplateMode = 'key',
  Ambient = NoAmbient,
> = string extends T
  ? Shapes['runtime']
  : [TemplateError<T, M>] extends [never]
    ? [PlaceholderNames<T>] extends [never]
      ? Shapes['none']
      : [Exclude<PlaceholderNames<T>, AmbientKeys<Ambient>>] extends [never]
        ? Shapes extends { ambient: infer Shape }
          ? Shape
          : Shapes['runtime']
        : Shapes['required']
    : Shapes['runtime'];

/**
 * Why `parseTemplate` would reject template `T` in mode `M`, as a readable string literal type;
 * `never` when it would accept it. Templates not fully known to the compiler (`string`,
 * `` `posts:${string}` ``) give `never`: they are checked at run time only.
 */
// Distributes over a union, so each template of `key: cond ? 'a:{{x}}' : 'b'` is checked alone.
export type TemplateError<T extends string, M extends TemplateMode = 'key'> = T extends string
  ? IsLiteral<T> extends true
    ? T extends ''
      ? Problem<'a template cannot be empty'>
      : ParseText<T, M, never>
    : never
  : never;

/**
 * `T` itself when it is a valid template in mode `M`, else its {@link TemplateError}. Used as a
 * parameter type, it makes a malformed template a compile error that reads as the reason.
 */
export type CheckedTemplate<T extends string, M extends TemplateMode = 'key'> = T extends string
  ? [TemplateError<T, M>] extends [never]
    ? T
    : TemplateError<T, M>
  : never;

/** A key template checked at compile time: `T`, or why it is malformed. */
export type ValidTemplate<T extends string> = CheckedTemplate<T, 'key'>;

/** An invalidation pattern checked at compile time: `T`, or why it is malformed. */
export type ValidPattern<T extends string> = CheckedTemplate<T, 'pattern'>;

// Every message starts alike, so the editor's "not assignable to parameter of type" reads as one.
type Problem<Text extends string> = `template error: ${Text}`;

// A `${string}` hole may hide braces, a separator or a name, so only the run-time parser can judge
// such a template. `string` and patterns such as `a${string}` make a record type with an index
// signature, which the empty object satisfies; a finite string makes a required property.
type IsLiteral<T extends string> = Record<never, never> extends Record<T, unknown> ? false : true;

/**
 * Parses `T` from the start of a literal text segment up to the end of the template. `Previous` is
 * the name of the placeholder just before that segment, `never` at the start.
 */
// The checks come in parse.ts's order (text, closing braces, name, separator), so the problem
// named is the one the parser would throw for.
type ParseText<
  T extends string,
  M extends TemplateMode,
  Previous extends string,
> = T extends `${infer Text}{{${infer Rest}`
  ? [TextError<Text, M>] extends [never]
    ? Rest extends `${infer Name}}}${infer After}`
      ? [NameError<Name>] extends [never]
        ? [Previous] extends [never]
          ? ParseText<After, M, Name>
          : OnlyOf<Text, ValueChar> extends true
            ? Problem<`{{${Previous}}} and {{${Name}}} need a separator that values cannot contain, such as ':'`>
            : ParseText<After, M, Name>
        : NameError<Name>
      : Problem<"'{{' is never closed by '}}'">
    : TextError<Text, M>
  : TextError<T, M>;

/** Why literal text (between placeholders) is not allowed in mode `M`, or `never`. */
// "Contains" tests rather than a walk over the characters: no recursion, so literal text of any
// length checks. The price: text with two kinds of problem is reported by kind (braces, then
// whitespace, then wildcards) where the parser reports the first by position.
type TextError<Text extends string, M extends TemplateMode> = [
  FirstFound<Text, typeof BRACES>,
] extends [never]
  ? Text extends `${string}${SpaceOrControl}${string}`
    ? Problem<'whitespace and control characters are not allowed'>
    : M extends 'key'
      ? GlobError<FirstFound<Text, typeof GLOB>>
      : never
  : Problem<`a lone '${FirstFound<Text, typeof BRACES>}' is not allowed; braces only appear as {{name}} placeholders`>;

type GlobError<Wildcard extends string> = [Wildcard] extends [never]
  ? never
  : Problem<`'${Wildcard}' is a wildcard character; it belongs in invalidation patterns, not in key templates`>;

/** Why `Name` (between `{{` and `}}`) is not a placeholder name, or `never`. */
type NameError<Name extends string> = Name extends ''
  ? Problem<'a placeholder needs a name, as in {{slug}}'>
  : Name extends `${infer First}${infer Rest}`
    ? First extends NameStart
      ? OnlyOf<Rest, NameChar> extends true
        ? never
        : BadName<Name>
      : BadName<Name>
    : never;

type BadName<Name extends string> =
  Problem<`'${Name}' is not a valid placeholder name (letters, digits and _, not starting with a digit)`>;

/** True when every character of `Text` is one of `Allowed` (also for empty text). */
type OnlyOf<
  Text extends string,
  Allowed extends string,
> = Text extends `${infer First}${infer Rest}`
  ? First extends Allowed
    ? OnlyOf<Rest, Allowed>
    : false
  : true;

/** The first of the characters `Wanted` that occurs in `Text`, or `never`. */
type FirstFound<
  Text extends string,
  Wanted extends string,
> = Wanted extends `${infer First}${infer Rest}`
  ? Text extends `${string}${First}${string}`
    ? First
    : FirstFound<Text, Rest>
  : never;

/** The characters of `Text`, as a union. */
type Chars<
  Text extends string,
  Found extends string = never,
> = Text extends `${infer First}${infer Rest}` ? Chars<Rest, Found | First> : Found;

type NameStart = Chars<typeof NAME_START>;
type NameChar = NameStart | Chars<typeof DIGITS>;
type ValueChar = NameChar | Chars<typeof VALUE_EXTRA>;
type SpaceOrControl = (typeof SPACE_OR_CONTROL)[number];
