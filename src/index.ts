export { createPresigner, handleS3Event } from './core/presigner'
export type { CoreRequest, CoreResponse, Presigner, S3EventOutcome } from './core/presigner'
export { PresignError, isPresignError } from './core/errors'
export { sanitizeFilename } from './core/keys'
export { contentDisposition } from './core/object-settings'
export type { ObjectSettings } from './core/object-settings'
export type {
  AbortContext,
  Action,
  AuthorizeContext,
  CompleteContext,
  ErrorEvent,
  FileInfo,
  Identity,
  KeyForContext,
  PresignOptions,
  RouteOptions,
  Rule,
  RuleContext,
} from './core/options'
export { ERROR_STATUS, MAX_BODY_BYTES, partCountFor, partLength } from './wire'
export type {
  AbortRequest,
  CompleteRequest,
  CompleteResponse,
  CreateRequest,
  CreateResponse,
  DownloadRequest,
  DownloadResponse,
  ErrorBody,
  ErrorCode,
  ListPartsRequest,
  ListPartsResponse,
  MultipartCreateResponse,
  SignedPart,
  SignPartsRequest,
  SignPartsResponse,
  SingleCreateResponse,
} from './wire'
