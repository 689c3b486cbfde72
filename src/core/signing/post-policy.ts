import { createHmac } from 'node:crypto'
import { jsonString } from '../json'
import { FILENAME_VARIABLE } from '../keys'
import { amzDate, secondCache } from './dates'
import { type PostToSign, postFields } from './operations'
import { type Credentials, type SigningKeys, createSigningKeys } from './sigv4-query'

/**
 * POST Object policies (browser form uploads, Uppy's `/s3/params`) without the SDK: a base64 JSON
 * document and one HMAC with the SigV4 signing key, cached per day as for presigned URLs. The SDK's
 * `createPresignedPost` stays the oracle: test/core/post-policy.differential.test.ts proves every
 * field, the policy and the URL identical to its output for the same time, across keys, metadata,
 * size limits, regions, endpoints, session tokens and expiries, and Ceph RGW enforces what is signed.
 */

/** Where the form goes: what `signer.ts` resolves once per signer, plus the bucket. */
export interface PostTarget {
  bucket: string
  /** `http:` or `https:` */
  protocol: string
  /** host, with the port when it is not the default one */
  host: string
  /** path up to the key: `/bucket/` (path-style) or `/` (virtual-hosted) */
  prefix: string
  region: string
}

export interface SignedPost {
  /** the form's action: ends in `/` */
  url: string
  /** the form fields to send before the file, in `createPresignedPost`'s order */
  fields: Record<string, string>
}

/**
 * Returns `signPost(input, expiresIn, date, target, credentials)`. Give it the `SigningKeys` the
 * signer's query signer uses, so both derive each day's key once.
 */
export function createPostSigner(signingKey: SigningKeys = createSigningKeys()) {
  const expiryDate = secondCache()
  // The X-Amz-Credential of the last access key and scope: most policies share it.
  let lastAccessKey = ''
  let lastDay = ''
  let lastRegion = ''
  let lastCredential = ''

  return function signPost(
    input: PostToSign,
    expiresIn: number,
    date: Date | undefined,
    target: PostTarget,
    credentials: Credentials,
  ): SignedPost {
    const now = date === undefined ? Date.now() : date.getTime()
    const datetime = amzDate(now)
    const day = datetime.slice(0, 8)
    if (credentials.accessKeyId !== lastAccessKey || day !== lastDay || target.region !== lastRegion) {
      lastAccessKey = credentials.accessKeyId
      lastDay = day
      lastRegion = target.region
      lastCredential = `${credentials.accessKeyId}/${day}/${target.region}/s3/aws4_request`
    }

    // In createPresignedPost's order: the exact-match fields, the bucket, then the SigV4 fields.
    // Each becomes an exact-match condition, after the length range and before the key.
    const fields = postFields(input)
    fields.bucket = target.bucket
    fields['X-Amz-Algorithm'] = 'AWS4-HMAC-SHA256'
    fields['X-Amz-Credential'] = lastCredential
    fields['X-Amz-Date'] = datetime
    // As the SDK: an empty session token is no token.
    if (credentials.sessionToken) fields['X-Amz-Security-Token'] = credentials.sessionToken

    // The document as JSON.stringify would write `{ expiration, conditions }`, written directly
    // (no array of one-key objects to build): the length range, each field, then the key.
    let document = `{"expiration":"${expiryDate(now + expiresIn * 1000)}","conditions":[["content-length-range",0,${input.maxSize}]`
    for (const name in fields) document += `,{${jsonString(name)}:${jsonString(fields[name]!)}}`
    // S3 replaces `${filename}` in the key with the uploaded file's name: the SDK then pins only
    // the part before it. Kept for identity with the oracle; keys.ts decides which keys exist.
    const variable = input.key.endsWith(FILENAME_VARIABLE) ? input.key.length - FILENAME_VARIABLE.length : -1
    document +=
      variable < 0 ? `,{"key":${jsonString(input.key)}}]}` : `,["starts-with","$key",${jsonString(input.key.slice(0, variable))}]]}`
    const policy = Buffer.from(document, 'utf8').toString('base64')
    const signature = createHmac('sha256', signingKey(credentials.secretAccessKey, day, target.region, 's3'))
      .update(policy)
      .digest('hex')

    fields.key = input.key
    fields.Policy = policy
    fields['X-Amz-Signature'] = signature
    return { url: `${target.protocol}//${target.host}${target.prefix}`, fields }
  }
}

export type PostSigner = ReturnType<typeof createPostSigner>
