import { createHmac, timingSafeEqual } from 'node:crypto'
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
