import { createCipheriv, createDecipheriv, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto'
import { PresignError } from './errors'

/**
 * What a token seals. Short field names keep tokens small: they travel in every follow-up
 * call and, for Uppy, in URLs.
 */
export interface UploadClaims {
  /** object key */
  k: string
  /** multipart upload id (absent for single uploads) */
  u?: string
  /** declared size in bytes */
  s: number
  /** declared Content-Type */
  t: string
  /** identity id from `authorize`, null for an anonymous caller */
  i: string | null
  /** random nonce, also written into the object's metadata: proves an object is this upload's */
  n: string
  /** expiry, unix seconds */
  e: number
  /** part size (multipart only) */
  p?: number
  /** base64 SHA-256 of the whole file, when the client gave one */
  c?: string
}

const VERSION = 'v1'
const MAX_TOKEN_LENGTH = 8192

/** Sign and verify tokens with one or more secrets: the first signs, every one verifies. */
export interface TokenSealer {
  seal(claims: UploadClaims): string
  /** Throws `invalid_token` or `token_expired`. */
  open(token: unknown, nowSeconds?: number): UploadClaims
}

export function createTokenSealer(secrets: readonly string[]): TokenSealer {
  // Domain separation: the app may use the same secret elsewhere (cookies, JWTs).
  const keys = secrets.map((secret) => createHmac('sha256', secret).update('s3-presign-middleware/token/v1').digest())
  const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload).digest()

  return {
    seal(claims) {
      const payload = `${VERSION}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
      return `${payload}.${mac(keys[0]!, payload).toString('base64url')}`
    },

    open(token, nowSeconds = Math.floor(Date.now() / 1000)) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw invalid()
      }
      const dot = token.lastIndexOf('.')
      const payload = token.slice(0, dot)
      const signature = Buffer.from(token.slice(dot + 1), 'base64url')
      if (dot < 0 || !payload.startsWith(`${VERSION}.`) || signature.length !== 32) throw invalid()
      if (!keys.some((key) => timingSafeEqual(mac(key, payload), signature))) throw invalid()

      let claims: UploadClaims
      try {
        claims = JSON.parse(Buffer.from(payload.slice(VERSION.length + 1), 'base64url').toString('utf8'))
      } catch {
        throw invalid()
      }
      if (typeof claims !== 'object' || claims === null || typeof claims.k !== 'string' || typeof claims.e !== 'number') {
        throw invalid()
      }
      if (claims.e <= nowSeconds) {
        throw new PresignError('token_expired', 'This upload has expired: start it again.')
      }
      return claims
    },
  }
}

function invalid() {
  return new PresignError('invalid_token', 'This upload token is not valid.')
}

/**
 * The tag written into every uploaded object's metadata (`x-amz-meta-presign-nonce`): unique per
 * upload (random IV), unforgeable and opaque (AES-256-GCM under a key derived from `secret`).
 * It proves an object was written through a URL we signed, and carries the uploader's identity
 * id for S3 event completion without showing it to whoever can read the object's headers.
 */
export interface ObjectTagger {
  seal(identityId: string | null): string
  /** The identity id sealed in the tag (null: anonymous), or undefined if the tag is not ours. */
  open(tag: unknown): { i: string | null } | undefined
}

// IVs come from a pooled CSPRNG buffer: one syscall per 341 uploads instead of one each.
const pool = Buffer.alloc(4092)
let poolOffset = pool.length

function randomIv(): Buffer {
  if (poolOffset + 12 > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const iv = Buffer.from(pool.subarray(poolOffset, poolOffset + 12))
  poolOffset += 12
  return iv
}

export function createObjectTagger(secrets: readonly string[]): ObjectTagger {
  const keys = secrets.map((secret) => createHmac('sha256', secret).update('s3-presign-middleware/object-tag/v1').digest())
  return {
    seal(identityId) {
      const iv = randomIv()
      const cipher = createCipheriv('aes-256-gcm', keys[0]!, iv)
      const body = Buffer.concat([cipher.update(JSON.stringify({ i: identityId }), 'utf8'), cipher.final()])
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')
    },
    open(tag) {
      if (typeof tag !== 'string' || tag.length > 2048) return undefined
      const raw = Buffer.from(tag, 'base64url')
      if (raw.length < 12 + 16 + 2) return undefined
      for (const key of keys) {
        try {
          const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
          decipher.setAuthTag(raw.subarray(raw.length - 16))
          const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()])
          const value = JSON.parse(plain.toString('utf8')) as { i?: unknown }
          if (value.i === null || typeof value.i === 'string') return { i: value.i }
        } catch {
          // not sealed with this key
        }
      }
      return undefined
    },
  }
}
