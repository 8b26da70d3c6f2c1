export {
  type AmbientSource,
  type CompiledTemplate,
  compilePattern,
  compileTemplate,
  type Renderer,
  renderer,
  renderFrom,
  widenPattern,
} from './compile.js';
export { encodeKeyValue, LONG_VALUE_PREFIX, MAX_VALUE_LENGTH } from './encode.js';
export { type ParsedTemplate, parseTemplate } from './parse.js';
export type {
  AmbientKeys,
  CheckedTemplate,
  ContextFor,
  ContextValue,
  IsStaticTemplate,
  NoAmbient,
  PlaceholderNames,
  TemplateContext,
  TemplateError,
  TemplateMode,
  ValidPattern,
  ValidTemplate,
} from './types.js';
