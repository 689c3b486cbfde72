import { createCipheriv, createDecipheriv, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto'
import { PresignError } from './errors'
import { jsonString } from './json'
import { sha256 } from './sha256'

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
  /**
   * the mount path the upload was created through (Express `baseUrl`, the adapter's `prefix`);
   * absent when created from server code. Another mount refuses it, whatever its rules.
   */
  mount?: string
  /** the rules in force when the upload was created: every later step applies these */
  bucket: string
  maxFileSize: number
  overwrite: boolean
  /** seconds each presigned URL of this upload lives */
  expiresIn: number
  /** the headers of the object settings it was signed with (`object-settings.ts`), checked at completion */
  settings?: Record<string, string>
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
  b: string
  mt?: string
  x: number
  o: boolean
  ex: number
  os?: Record<string, string>
}

/**
 * The sealed claims as JSON, written directly in `SealedClaims`' order (no object to build and
 * walk: `create` seals one token per upload). Strings are quoted as JSON.stringify quotes them (`jsonString`); the numbers are
 * whole numbers the code computed, written as JSON writes them. test/core/core.test.ts opens
 * tokens with every claim, and strings of every kind, back to what was sealed.
 */
function claimsJson(token: UploadToken): string {
  let json = `{"k":${jsonString(token.key)}`
  if (token.uploadId !== undefined) json += `,"u":${jsonString(token.uploadId)}`
  json += `,"s":${token.size ?? -1},"t":${jsonString(token.contentType)},"i":${token.identityId === null ? 'null' : jsonString(token.identityId)},"n":${jsonString(token.tag)},"e":${token.expiresAt}`
  if (token.partSize !== undefined) json += `,"p":${token.partSize}`
  if (token.checksum !== undefined) json += `,"c":${jsonString(token.checksum)}`
  json += `,"m":${jsonString(token.scope)},"b":${jsonString(token.bucket)}`
  if (token.mount !== undefined) json += `,"mt":${jsonString(token.mount)}`
  json += `,"x":${token.maxFileSize},"o":${token.overwrite},"ex":${token.expiresIn}`
  if (token.settings !== undefined) json += `,"os":${JSON.stringify(token.settings)}`
  return `${json}}`
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
    bucket: c.b,
    ...(typeof c.mt === 'string' ? { mount: c.mt } : {}),
    maxFileSize: c.x,
    overwrite: c.o,
    expiresIn: c.ex,
    ...(isStringRecord(c.os) ? { settings: c.os } : {}),
  }
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string')
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
      const payload = `${VERSION}.${Buffer.from(claimsJson(token)).toString('base64url')}`
      return `${payload}.${createHmac('sha256', keys[0]!).update(payload).digest('base64url')}`
    },

    open(token, nowSeconds = Math.floor(Date.now() / 1000)) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw invalid()
      }
      const dot = token.lastIndexOf('.')
      const payload = token.slice(0, dot)
      const signature = Buffer.from(token.slice(dot + 1), 'base64url')
      // One string per token: base64url decoding is lenient (padding, stray characters), so the
      // signature must be exactly the canonical encoding of its 32 bytes.
      if (
        dot < 0 ||
        !payload.startsWith(`${VERSION}.`) ||
        signature.length !== 32 ||
        signature.toString('base64url') !== token.slice(dot + 1)
      ) {
        throw invalid()
      }
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
        typeof claims.m !== 'string' ||
        typeof claims.b !== 'string' ||
        typeof claims.x !== 'number' ||
        typeof claims.o !== 'boolean' ||
        typeof claims.ex !== 'number'
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

/** Where an object lives and under which rules it was uploaded: what a tag is bound to. */
export interface TagBinding {
  scope: string
  bucket: string
  key: string
}

/** What a tag carries besides its binding. */
export interface TagContent {
  /** the uploader's identity id as `authorize` returned it, a string or a number (null: anonymous) */
  identityId: string | number | null
  /** the size limit in force when the upload was created (S3 events judge the object by it) */
  maxFileSize: number
}

/**
 * The tag written into every uploaded object's metadata (`x-amz-meta-presign-nonce`): unique per
 * upload (random IV), unforgeable and opaque (AES-256-GCM under a key derived from `secret`).
 * It proves an object was written through a URL we signed, for this bucket and key (a copy
 * elsewhere does not carry a valid tag) and under these rules (`scope`), and carries the
 * uploader's identity id and size limit for S3 event completion without showing them to whoever
 * can read the object's headers.
 */
export interface ObjectTagger {
  seal(at: TagBinding, content: TagContent): string
  /** What the tag carries, or undefined unless the tag is ours, for this bucket, key and scope. */
  open(tag: unknown, at: TagBinding): TagContent | undefined
}

// IVs come from a pooled CSPRNG buffer: one syscall per 341 uploads instead of one each.
const pool = Buffer.alloc(4092)
let poolOffset = pool.length

function randomIv(): Buffer {
  if (poolOffset + 12 > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  // A view, not a copy: the cipher copies its IV, and `seal` is done with it before the pool refills.
  const iv = pool.subarray(poolOffset, poolOffset + 12)
  poolOffset += 12
  return iv
}

/** What a tag is bound to: the scope, bucket and key (none holds a newline; a key holds no control). */
function bindingText(at: TagBinding): string {
  return `${at.scope}\n${at.bucket}\n${at.key}`
}

// Plain text of a tag: the size limit (8 bytes, big-endian), then 0x00 + the identity id (UTF-8),
// 0x02 + a numeric id (its decimal digits), or 0x01 for an anonymous uploader. Version 3 binds the
// tag by authenticating `bindingText` as AES-GCM's associated data; version 2 (package 0.1 to 0.3)
// put 16 bytes of SHA-256(bindingText) before the size limit, and its tags still open.
const ANONYMOUS = 0x01
const NAMED = 0x00
const NUMBERED = 0x02
const V2_BINDING = 16

function contentOf(plain: Buffer, at: number): TagContent | undefined {
  if (plain.length < at + 9) return undefined
  const maxFileSize = Number(plain.readBigUInt64BE(at))
  const kind = plain[at + 8]
  const id = plain.subarray(at + 9)
  if (kind === ANONYMOUS && id.length === 0) return { identityId: null, maxFileSize }
  if (kind === NAMED && id.length > 0) return { identityId: id.toString('utf8'), maxFileSize }
  if (kind === NUMBERED && id.length > 0) return { identityId: Number(id.toString('utf8')), maxFileSize }
  return undefined
}

/** AES-256-GCM decryption, or undefined when the tag was not sealed with this key and associated data. */
function decrypt(key: Buffer, raw: Buffer, aad: Buffer | undefined): Buffer | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
    if (aad) decipher.setAAD(aad)
    decipher.setAuthTag(raw.subarray(raw.length - 16))
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()])
  } catch {
    return undefined
  }
}

export function createObjectTagger(secrets: readonly string[]): ObjectTagger {
  const derive = (secret: string, version: string) =>
    createHmac('sha256', secret).update(`s3-presign-middleware/object-tag/${version}`).digest()
  const keys = secrets.map((secret) => derive(secret, 'v3'))
  const v2Keys = secrets.map((secret) => derive(secret, 'v2'))
  return {
    seal(at, { identityId, maxFileSize }) {
      const iv = randomIv()
      const cipher = createCipheriv('aes-256-gcm', keys[0]!, iv)
      cipher.setAAD(Buffer.from(bindingText(at)))
      // One plain-text buffer, written in place: size limit, identity.
      const id = identityId === null ? '' : String(identityId)
      const plain = Buffer.allocUnsafe(9 + Buffer.byteLength(id))
      // maxFileSize ≤ MAX_OBJECT_SIZE < 2^48: two zero bytes, then 6 bytes (no BigInt).
      plain.writeUInt16BE(0, 0)
      plain.writeUIntBE(maxFileSize, 2, 6)
      plain[8] = identityId === null ? ANONYMOUS : typeof identityId === 'number' ? NUMBERED : NAMED
      if (id) plain.write(id, 9, 'utf8')
      return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString('base64url')
    },
    open(tag, at) {
      if (typeof tag !== 'string' || tag.length > 2048) return undefined
      const raw = Buffer.from(tag, 'base64url')
      if (raw.length < 12 + 9 + 16) return undefined
      const binding = Buffer.from(bindingText(at))
      for (const key of keys) {
        const plain = decrypt(key, raw, binding)
        if (plain) return contentOf(plain, 0)
      }
      // A version 2 tag: ours, but for another bucket or key (a copy) or other rules (another mount) unless its binding is this one.
      for (const key of v2Keys) {
        const plain = decrypt(key, raw, undefined)
        if (!plain) continue
        if (plain.length < V2_BINDING || !timingSafeEqual(plain.subarray(0, V2_BINDING), sha256(bindingText(at)).subarray(0, V2_BINDING)))
          return undefined
        return contentOf(plain, V2_BINDING)
      }
      return undefined
    },
  }
}

/**
 * The user-metadata name of the original file name (`x-amz-meta-presign-filename`), percent-encoded
 * UTF-8: signed into the upload like the tag, so `onComplete` sees the name the client declared,
 * whether it runs from `complete` or from an S3 event.
 */
export const FILENAME_METADATA = 'presign-filename'

/** An object's user metadata without ours (tag, file name): what hooks and clients see. */
export function withoutTag(metadata: Record<string, string> | undefined): Record<string, string> {
  const { [OBJECT_TAG_METADATA]: _tag, [FILENAME_METADATA]: _filename, ...rest } = metadata ?? {}
  return rest
}

/** The original file name an object was uploaded with, or undefined for an object without ours. */
export function filenameOf(metadata: Record<string, string>): string | undefined {
  const encoded = metadata[FILENAME_METADATA]
  if (encoded === undefined) return undefined
  try {
    return decodeURIComponent(encoded)
  } catch {
    return undefined
  }
}
