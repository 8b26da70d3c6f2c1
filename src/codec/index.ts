export {
  decodeEntry,
  type EntryMeta,
  encodeEntry,
  type Serializer,
  UNREADABLE,
} from './envelope.js';
