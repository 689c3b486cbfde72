import { createCipheriv, createDecipheriv, createHash, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto'
import { PresignError } from './errors'

/** What an upload token carries, as the code reads it. */
export interface UploadToken {
  /** the object key */
  key: string
  /** the multipart upload id (absent for single uploads) */
  uploadId?: string
  /** the declared size in bytes; undefined when the client did not declare it (Uppy) */
  size?: number
  /** the declared Content-Type */
  contentType: string
  /** the identity id `authorize` returned; null for an anonymous caller */
  identityId: string | null
  /** the object tag written into the object's metadata: proves an object is this upload's */
  tag: string
  /** expiry, unix seconds */
  expiresAt: number
  /** the part size (multipart with a declared size) */
  partSize?: number
  /** base64 SHA-256 of the whole file, when the client gave one */
  checksum?: string
  /** the rules of the presigner that issued it (`config.scope`): no other presigner honours it */
  scope: string
}

/**
 * The same, sealed. Short names keep tokens small: they travel in every follow-up call and,
 * for Uppy, in URLs. `s: -1` is how version 1 said "size not declared".
 */
interface SealedClaims {
  k: string
  u?: string
  s: number
  t: string
  i: string | null
  n: string
  e: number
  p?: number
  c?: string
  m: string
}

function toSealed(token: UploadToken): SealedClaims {
  return {
    k: token.key,
    ...(token.uploadId === undefined ? {} : { u: token.uploadId }),
    s: token.size ?? -1,
    t: token.contentType,
    i: token.identityId,
    n: token.tag,
    e: token.expiresAt,
    ...(token.partSize === undefined ? {} : { p: token.partSize }),
    ...(token.checksum === undefined ? {} : { c: token.checksum }),
    m: token.scope,
  }
}

function fromSealed(c: SealedClaims): UploadToken {
  return {
    key: c.k,
    ...(typeof c.u === 'string' ? { uploadId: c.u } : {}),
    ...(typeof c.s === 'number' && c.s >= 0 ? { size: c.s } : {}),
    contentType: c.t,
    identityId: c.i,
    tag: c.n,
    expiresAt: c.e,
    ...(typeof c.p === 'number' ? { partSize: c.p } : {}),
    ...(typeof c.c === 'string' ? { checksum: c.c } : {}),
    scope: c.m,
  }
}

const VERSION = 'v2'
const MAX_TOKEN_LENGTH = 8192

/** Sign and verify tokens with one or more secrets: the first signs, every one verifies. */
export interface TokenSealer {
  seal(token: UploadToken): string
  /** Throws `invalid_token` or `token_expired`. */
  open(token: unknown, nowSeconds?: number): UploadToken
}

export function createTokenSealer(secrets: readonly string[]): TokenSealer {
  // Domain separation: the app may use the same secret elsewhere (cookies, JWTs).
  const keys = secrets.map((secret) => createHmac('sha256', secret).update('s3-presign-middleware/token/v2').digest())
  const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload).digest()

  return {
    seal(token) {
      const payload = `${VERSION}.${Buffer.from(JSON.stringify(toSealed(token))).toString('base64url')}`
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

      let claims: SealedClaims
      try {
        claims = JSON.parse(Buffer.from(payload.slice(VERSION.length + 1), 'base64url').toString('utf8'))
      } catch {
        throw invalid()
      }
      if (
        typeof claims !== 'object' ||
        claims === null ||
        typeof claims.k !== 'string' ||
        typeof claims.e !== 'number' ||
        typeof claims.m !== 'string'
      ) {
        throw invalid()
      }
      if (claims.e <= nowSeconds) {
        throw new PresignError('token_expired', 'This upload has expired: start it again.')
      }
      return fromSealed(claims)
    },
  }
}

function invalid() {
  return new PresignError('invalid_token', 'This upload token is not valid.')
}

/** The user-metadata name of the object tag (`x-amz-meta-presign-nonce` on the wire). */
export const OBJECT_TAG_METADATA = 'presign-nonce'

/**
 * The tag written into every uploaded object's metadata (`x-amz-meta-presign-nonce`): unique per
 * upload (random IV), unforgeable and opaque (AES-256-GCM under a key derived from `secret`).
 * It proves an object was written through a URL we signed, for this key (a copy elsewhere does
 * not carry a valid tag) and under these rules (`scope`), and carries the uploader's identity
 * id for S3 event completion without showing it to whoever can read the object's headers.
 */
export interface ObjectTagger {
  seal(key: string, scope: string, identityId: string | null): string
  /** The identity id sealed in the tag (null: anonymous), or undefined unless the tag is ours, for this key and scope. */
  open(tag: unknown, key: string, scope: string): { identityId: string | null } | undefined
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

/** What a tag binds besides the identity: 16 bytes of SHA-256(scope, key). */
function bindingOf(key: string, scope: string): Buffer {
  return createHash('sha256').update(scope).update('\n').update(key).digest().subarray(0, 16)
}

// Plain text of a tag: the binding, then 0x00 + identity id (UTF-8), or 0x01 for anonymous.
const ANONYMOUS = 0x01
const NAMED = 0x00

export function createObjectTagger(secrets: readonly string[]): ObjectTagger {
  const keys = secrets.map((secret) => createHmac('sha256', secret).update('s3-presign-middleware/object-tag/v2').digest())
  return {
    seal(key, scope, identityId) {
      const iv = randomIv()
      const cipher = createCipheriv('aes-256-gcm', keys[0]!, iv)
      const who = identityId === null ? Buffer.of(ANONYMOUS) : Buffer.concat([Buffer.of(NAMED), Buffer.from(identityId, 'utf8')])
      const body = Buffer.concat([cipher.update(Buffer.concat([bindingOf(key, scope), who])), cipher.final()])
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')
    },
    open(tag, key, scope) {
      if (typeof tag !== 'string' || tag.length > 2048) return undefined
      const raw = Buffer.from(tag, 'base64url')
      if (raw.length < 12 + 17 + 16) return undefined
      for (const secretKey of keys) {
        let plain: Buffer
        try {
          const decipher = createDecipheriv('aes-256-gcm', secretKey, raw.subarray(0, 12))
          decipher.setAuthTag(raw.subarray(raw.length - 16))
          plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()])
        } catch {
          continue // not sealed with this key
        }
        // Ours, but for another key (a copy) or other rules (another mount): not this object's.
        if (!timingSafeEqual(plain.subarray(0, 16), bindingOf(key, scope))) return undefined
        if (plain[16] === ANONYMOUS && plain.length === 17) return { identityId: null }
        if (plain[16] === NAMED && plain.length > 17) return { identityId: plain.subarray(17).toString('utf8') }
        return undefined
      }
      return undefined
    },
  }
}

/** An object's user metadata without our tag: what hooks and clients see. */
export function withoutTag(metadata: Record<string, string> | undefined): Record<string, string> {
  const { [OBJECT_TAG_METADATA]: _tag, ...rest } = metadata ?? {}
  return rest
}
