import { postFieldsOf } from '../object-settings'

/**
 * What each S3 operation we presign signs: the one place that says so. Both signers (the
 * SigV4 query signer on the hot path, and the SDK one used as oracle) build their requests from
 * these, so a header is never signed by one and forgotten by the other.
 */

export interface PutToSign {
  key: string
  contentType: string
  size: number
  /** sign `If-None-Match: *`: S3 refuses to replace an existing object */
  ifNoneMatch: boolean
  /** user metadata, without the `x-amz-meta-` prefix; sent as signed headers */
  metadata: Record<string, string>
  /** base64 SHA-256, sent as the signed `x-amz-checksum-sha256` header */
  checksum?: string
  /** the object settings' headers (`object-settings.ts`): encryption, storage class, caching, tags */
  settings?: Record<string, string> | undefined
}

export interface PartToSign {
  key: string
  uploadId: string
  partNumber: number
  /** the exact part length to sign; unsigned when the client never declared the file size (Uppy) */
  size?: number
  checksum?: string
}

export interface PostToSign {
  key: string
  contentType: string
  /** the largest body S3 accepts (`content-length-range`) */
  maxSize: number
  metadata: Record<string, string>
  /** the object settings' headers, pinned as form fields */
  settings?: Record<string, string> | undefined
}

/** One presigned request, before signing: headers to send, and the headers signed besides them. */
export interface Operation {
  method: 'GET' | 'PUT'
  key: string
  /**
   * query parameters besides the signature's X-Amz-* ones; with `X-Amz-Content-Sha256:
   * UNSIGNED-PAYLOAD`, which the S3 presigner states in the query as getSignedUrl does
   */
  query: Record<string, string>
  /** the headers the client must send (all signed) */
  headers: Record<string, string>
  /** signed too, but set by HTTP clients themselves: `content-length` */
  length?: number
}

const UNSIGNED_PAYLOAD = { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' } as const
/** Never changed by the signers: one object for every PUT. */
const PUT_QUERY: Readonly<Record<string, string>> = Object.freeze({ 'x-id': 'PutObject', ...UNSIGNED_PAYLOAD })

// Header names of user metadata, remembered: a name built anew each time is a new string, which an
// object must look up before storing under it; most uploads repeat the same few names.
const metadataHeaders = new Map<string, string>()

function metadataHeader(name: string): string {
  let header = metadataHeaders.get(name)
  if (header === undefined) {
    header = `x-amz-meta-${name}`
    if (metadataHeaders.size >= 256) metadataHeaders.clear()
    metadataHeaders.set(name, header)
  }
  return header
}

export function putObject(input: PutToSign): Operation {
  const headers: Record<string, string> = { 'content-type': input.contentType }
  if (input.ifNoneMatch) headers['if-none-match'] = '*'
  for (const name in input.metadata) headers[metadataHeader(name)] = input.metadata[name]!
  if (input.checksum) headers['x-amz-checksum-sha256'] = input.checksum
  if (input.settings) Object.assign(headers, input.settings)
  return { method: 'PUT', key: input.key, query: PUT_QUERY, headers, length: input.size }
}

/** The headers of a part without a checksum: none, one object for all (never changed). */
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>

export function uploadPart(input: PartToSign): Operation {
  return {
    method: 'PUT',
    key: input.key,
    query: {
      partNumber: String(input.partNumber),
      uploadId: input.uploadId,
      'x-id': 'UploadPart',
      'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
    },
    headers: input.checksum ? { 'x-amz-checksum-sha256': input.checksum } : NO_HEADERS,
    length: input.size,
  }
}

export interface GetToSign {
  key: string
  /** `response-content-disposition`: S3 answers with this `Content-Disposition` (e.g. `attachment`) */
  disposition?: string
}

export function getObject(input: GetToSign): Operation {
  const query: Record<string, string> = { 'x-id': 'GetObject', ...UNSIGNED_PAYLOAD }
  if (input.disposition) query['response-content-disposition'] = input.disposition
  return { method: 'GET', key: input.key, query, headers: {} }
}

/** The headers an operation signs: the ones sent, plus `content-length` when it is fixed. */
export function signedHeaders(op: Operation): Record<string, string> {
  return op.length === undefined ? op.headers : { ...op.headers, 'content-length': String(op.length) }
}

/** POST Object form fields that the policy pins as exact matches (the key is added by the signer). */
export function postFields(input: PostToSign): Record<string, string> {
  const fields: Record<string, string> = { 'Content-Type': input.contentType }
  for (const name in input.metadata) fields[metadataHeader(name)] = input.metadata[name]!
  return input.settings ? Object.assign(fields, postFieldsOf(input.settings)) : fields
}
