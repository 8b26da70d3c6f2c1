/**
 * Type-level parsing of `{{name}}` templates, mirroring the runtime grammar in `parse.ts`.
 * Each type does one job: find names, then build the context shape from them.
 */

/** A value a placeholder can render: text-like values as text, objects and arrays hashed. */
export type ContextValue = string | number | boolean | bigint | object;

/**
 * The placeholder names of a template: `'a:{{x}}:{{y}}'` gives `'x' | 'y'`; a template only known
 * at run time (type `string`) may have any names.
 */
export type PlaceholderNames<T extends string> = string extends T ? string : ParseNames<T>;

type ParseNames<T extends string> = T extends `${string}{{${infer Name}}}${infer Rest}`
  ? Name | ParseNames<Rest>
  : never;

/**
 * The context a template needs: one required property per placeholder. A template whose text is
 * only known at run time (type `string`) accepts any record of values.
 */
export type TemplateContext<T extends string> = string extends T
  ? Readonly<Record<string, ContextValue>>
  : { readonly [K in PlaceholderNames<T>]: ContextValue };

/** True when the template has no placeholders, so it needs no context. */
export type IsStaticTemplate<T extends string> = string extends T
  ? false
  : [PlaceholderNames<T>] extends [never]
    ? true
    : false;
