/**
 * The part of the Standard Schema interface (https://standardschema.dev) the cache uses to check
 * values read back from the store. zod 4, valibot and arktype schemas all provide it.
 */
export interface ValueSchema<Output = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => SchemaResult<Output> | Promise<SchemaResult<Output>>;
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined;
  };
}

/** What a schema's `validate` returns: the (possibly transformed) value, or the issues found. */
export type SchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string }> };
