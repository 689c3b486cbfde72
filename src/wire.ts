/**
 * Wire types: the JSON bodies of every route, shared by the server and the browser client.
 * Browser-safe: types, constants and the part arithmetic both sides share; no imports.
 */

/** Every error code the server answers with, mapped to its HTTP status in one place. */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_key: 400,
  unauthorized: 401,
  payment_required: 402,
  forbidden: 403,
  invalid_token: 403,
  token_expired: 403,
  identity_mismatch: 403,
  not_found: 404,
  upload_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  already_exists: 412,
  body_too_large: 413,
  file_too_large: 413,
  unsupported_media_type: 415,
  content_type_not_allowed: 415,
  verification_failed: 422,
  locked: 423,
  too_many_requests: 429,
  internal_error: 500,
  storage_error: 502,
  storage_unavailable: 503,
  storage_timeout: 504,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

/** The body of every error response. `message` is safe to show to end users. */
export interface ErrorBody {
  code: ErrorCode
  message: string
}

/** `POST /create` */
export interface CreateRequest {
  filename: string
  contentType: string
  size: number
  metadata?: Record<string, string>
  /** base64 SHA-256 of the whole file */
  checksum?: string
}

export interface SingleCreateResponse {
  strategy: 'single'
  token: string
  key: string
  method: 'PUT'
  url: string
  /** The exact headers to send with the PUT: they are signed. */
  headers: Record<string, string>
  /** ISO 8601: when `url` stops working. */
  expiresAt: string
}

export interface MultipartCreateResponse {
  strategy: 'multipart'
  token: string
  key: string
  partSize: number
  partCount: number
  /** ISO 8601: when `token` stops working. */
  expiresAt: string
}

export type CreateResponse = SingleCreateResponse | MultipartCreateResponse

/** `POST /sign-parts` */
export interface SignPartsRequest {
  token: string
  partNumbers: number[]
  /** base64 SHA-256 of each part, by part number */
  checksums?: Record<string, string>
}

export interface SignedPart {
  partNumber: number
  url: string
  headers: Record<string, string>
}

export interface SignPartsResponse {
  parts: SignedPart[]
}

/** `POST /list-parts` */
export interface ListPartsRequest {
  token: string
}

export interface ListPartsResponse {
  parts: Array<{ partNumber: number; etag: string; size: number }>
}

/** `POST /complete` */
export interface CompleteRequest {
  token: string
  parts?: Array<{ partNumber: number; etag: string }>
}

export interface CompleteResponse<Result = unknown> {
  key: string
  size: number
  contentType: string
  etag: string
  result: Result
}

/** `POST /abort` */
export interface AbortRequest {
  token: string
}

/** `POST /download` */
export interface DownloadRequest {
  key: string
}

export interface DownloadResponse {
  url: string
  expiresAt: string
}

/** The largest JSON body any route accepts (a 10,000-part complete fits). */
export const MAX_BODY_BYTES = 1024 * 1024

/** The most part URLs one `sign-parts` call answers: clients ask in batches of at most this. */
export const MAX_SIGN_BATCH = 1000

/** How many parts a `size`-byte file has in parts of `partSize` (at least one). */
export function partCountFor(size: number, partSize: number): number {
  return Math.max(1, Math.ceil(size / partSize))
}

/**
 * The exact length of part `n` (1-based) of a `size`-byte file: `partSize` for every part but
 * the last. The server signs this length into each part URL; the client slices the file by it.
 */
export function partLength(n: number, size: number, partSize: number): number {
  const count = partCountFor(size, partSize)
  return n < count ? partSize : size - partSize * (count - 1)
}
