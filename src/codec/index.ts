export {
  decodeEntry,
  type EntryMeta,
  encodeEntry,
  entryComputeMs,
  entryExpiresAt,
  isEntry,
  isLease,
  LEASE_MARK,
  type Serializer,
  UNREADABLE,
  withExpiresAt,
} from './envelope.js';
