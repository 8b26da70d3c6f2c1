// The README's figures (example app, "Lists by tags"): npx vitest run --project unit test/unit/quickpost-lists.test.ts
import { createCache } from '../../src/index.js';
import { describeListSurvival } from '../helpers/quickpost-lists.js';

describeListSurvival('on MemoryStore', (prefix) => createCache({ prefix }));
