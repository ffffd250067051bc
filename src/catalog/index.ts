/** The catalog: pure merge of downstream snapshots into what the coordinator exposes. */
export { buildCatalog } from './merge.js';
export { catalogDiff, fingerprint } from './diff.js';
export { catalogSource, namespaceOptions } from './from-config.js';
export { compileFilter, type NameFilter, type NamePredicate } from './filter.js';
export {
  DEFAULT_NAMESPACE,
  MIN_NAME_LENGTH,
  checkNamespace,
  exposedName,
  hashedName,
  sanitizeName,
  type NamespaceOptions,
} from './naming.js';
export { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor, paginate } from './paginate.js';
export * from './types.js';
