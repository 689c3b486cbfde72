export { createPresigner } from './core/presigner'
export type { CoreRequest, CoreResponse, Presigner } from './core/presigner'
export { PresignError, isPresignError } from './core/errors'
export { sanitizeFilename } from './core/keys'
export type {
  Action,
  AuthorizeContext,
  CompleteContext,
  FileInfo,
  Identity,
  KeyForContext,
  PresignOptions,
} from './core/options'
export * from './wire'
