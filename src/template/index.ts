export { type CompiledTemplate, compilePattern, compileTemplate } from './compile.js';
export { encodeKeyValue, LONG_VALUE_PREFIX, MAX_VALUE_LENGTH } from './encode.js';
export { type ParsedTemplate, parseTemplate, type TemplateMode } from './parse.js';
export type { ContextValue, IsStaticTemplate, PlaceholderNames, TemplateContext } from './types.js';
