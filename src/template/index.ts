export {
  type CompiledTemplate,
  compilePattern,
  compileTemplate,
  renderFrom,
  widenPattern,
} from './compile.js';
export { encodeKeyValue, LONG_VALUE_PREFIX, MAX_VALUE_LENGTH } from './encode.js';
export { type ParsedTemplate, parseTemplate } from './parse.js';
export type {
  CheckedTemplate,
  ContextFor,
  ContextValue,
  IsStaticTemplate,
  PlaceholderNames,
  TemplateContext,
  TemplateError,
  TemplateMode,
  ValidPattern,
  ValidTemplate,
} from './types.js';
