export { createPresigner } from './core/presigner'
export type { CoreRequest, CoreResponse, Presigner, S3EventOutcome } from './core/presigner'
export { handleS3Event } from './core/handle-s3-event'
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
