import type { CreateMultipartUploadCommandInput, PutObjectCommandInput } from '@aws-sdk/client-s3'
import { configError } from './errors'
import type { FileInfo } from './options'
import type { StoredObject } from './storage'

/**
 * Object settings (SPEC §3 `object`): what every upload is stored with, signed into single PUT
 * URLs (S3 refuses a PUT that drops or changes one), sent by the server on CreateMultipartUpload,
 * and made exact conditions of POST policies. Resolved per upload into the headers that carry
 * them; those headers are sealed into the upload's token, and completion checks the stored
 * object against them.
 */

/** The `object` option. */
export interface ObjectSettings {
  /** Server-side encryption: `AES256` (S3-managed keys) or `aws:kms` (a KMS key). */
  serverSideEncryption?: 'AES256' | 'aws:kms'
  /** With `aws:kms`: the key id, ARN or alias; AWS uses the account's `aws/s3` key when unset. */
  kmsKeyId?: string
  /** With `aws:kms`: use an S3 Bucket Key (fewer KMS calls). */
  bucketKeyEnabled?: boolean
  /** e.g. `STANDARD_IA`, `INTELLIGENT_TIERING`; the store must know it. */
  storageClass?: string
  /** `Cache-Control` that S3 serves the object with, e.g. `public, max-age=31536000, immutable`. */
  cacheControl?: string
  /**
   * `Content-Disposition` that S3 serves the object with: a string, or a function of the file
   * (e.g. `({ filename }) => contentDisposition('attachment', filename)`).
   */
  contentDisposition?: string | ((file: FileInfo) => string)
  /** Object tags (at most 9: the package may add one of its own). */
  tags?: Record<string, string>
}

/** The tag that marks an upload no `complete` has verified yet (`pendingTag`). */
export const PENDING_TAG = 'presign-pending'

/** The headers that carry each setting, in a fixed order. */
export const SETTING_HEADERS = {
  serverSideEncryption: 'x-amz-server-side-encryption',
  kmsKeyId: 'x-amz-server-side-encryption-aws-kms-key-id',
  bucketKeyEnabled: 'x-amz-server-side-encryption-bucket-key-enabled',
  storageClass: 'x-amz-storage-class',
  cacheControl: 'cache-control',
  contentDisposition: 'content-disposition',
  tags: 'x-amz-tagging',
} as const

/** Header values travel as they are: printable ASCII only (a CR or LF would split the request). */
const HEADER_VALUE = /^[\x20-\x7e]*$/
/** S3's tag rules: letters, digits, spaces and `+ - = . _ : / @`; keys up to 128, values up to 256. */
const TAG_TEXT = /^[\p{L}\p{N} +\-=._:/@]*$/u
const STORAGE_CLASS = /^[A-Z][A-Z0-9_]{0,63}$/

function headerValue(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024 || !HEADER_VALUE.test(value)) {
    throw configError(
      `\`object.${name}\` must be a non-empty header value of printable ASCII (at most 1,024 characters); got ${JSON.stringify(value)}.`,
    )
  }
  return value
}

/** Checks the `object` option (at start-up, or what a rule function returned); `pendingTag` leaves room for its tag. */
export function validateObjectSettings(value: unknown): ObjectSettings | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configError('`object` must be an object such as `{ serverSideEncryption: "aws:kms", cacheControl: "max-age=3600" }`.')
  }
  const settings = value as Record<string, unknown>
  for (const name of Object.keys(settings)) {
    if (!(name in SETTING_HEADERS)) {
      throw configError(`\`object.${name}\` is not an object setting; the settings are ${Object.keys(SETTING_HEADERS).join(', ')}.`)
    }
  }
  const { serverSideEncryption, kmsKeyId, bucketKeyEnabled, storageClass, cacheControl, contentDisposition, tags } = settings
  if (serverSideEncryption !== undefined && serverSideEncryption !== 'AES256' && serverSideEncryption !== 'aws:kms') {
    throw configError(`\`object.serverSideEncryption\` must be 'AES256' or 'aws:kms'; got ${JSON.stringify(serverSideEncryption)}.`)
  }
  if ((kmsKeyId !== undefined || bucketKeyEnabled !== undefined) && serverSideEncryption !== 'aws:kms') {
    throw configError("`object.kmsKeyId` and `object.bucketKeyEnabled` need `serverSideEncryption: 'aws:kms'`.")
  }
  if (kmsKeyId !== undefined) headerValue('kmsKeyId', kmsKeyId)
  if (bucketKeyEnabled !== undefined && typeof bucketKeyEnabled !== 'boolean') {
    throw configError('`object.bucketKeyEnabled` must be true or false.')
  }
  if (storageClass !== undefined && (typeof storageClass !== 'string' || !STORAGE_CLASS.test(storageClass))) {
    throw configError(`\`object.storageClass\` must be a storage class such as 'STANDARD_IA'; got ${JSON.stringify(storageClass)}.`)
  }
  if (cacheControl !== undefined) headerValue('cacheControl', cacheControl)
  if (contentDisposition !== undefined && typeof contentDisposition !== 'function') headerValue('contentDisposition', contentDisposition)
  if (tags !== undefined) validateTags(tags)
  return settings as ObjectSettings
}

function validateTags(tags: unknown) {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    throw configError("`object.tags` must be an object of tag names to values, e.g. `{ app: 'uploads' }`.")
  }
  const entries = Object.entries(tags)
  if (entries.length > 9) throw configError('`object.tags` may hold at most 9 tags (S3 allows 10 per object; the package may add one).')
  for (const [name, value] of entries) {
    if (
      name.length === 0 ||
      name.length > 128 ||
      !TAG_TEXT.test(name) ||
      name.startsWith('aws:') ||
      name === PENDING_TAG ||
      typeof value !== 'string' ||
      value.length > 256 ||
      !TAG_TEXT.test(value)
    ) {
      throw configError(
        `\`object.tags\`: ${JSON.stringify(name)}: ${JSON.stringify(value)} is not a valid S3 tag (names of 1-128 and values of 0-256 letters, digits, spaces and + - = . _ : / @; no \`aws:\` or \`${PENDING_TAG}\` names).`,
      )
    }
  }
}

/** `x-amz-tagging`: the tags as a URL query (`a=1&b=two%20words`). */
export function taggingOf(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&')
}

/** The tags of an `x-amz-tagging` value. */
export function tagsOf(tagging: string | undefined): Record<string, string> {
  const tags: Record<string, string> = {}
  if (!tagging) return tags
  for (const pair of tagging.split('&')) {
    const eq = pair.indexOf('=')
    tags[decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq))] = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1))
  }
  return tags
}

/** The tags an upload was signed with (its settings' `x-amz-tagging`), pending tag included. */
export function settingTags(settings: Record<string, string> | undefined): Record<string, string> {
  return tagsOf(settings?.[SETTING_HEADERS.tags])
}

/**
 * The object settings' headers for one upload: built once at start-up when they cannot depend on
 * the file (`config.staticSettings`), else from these rules and this file.
 */
export function settingsFor(
  config: { staticSettings: { headers: Record<string, string> | undefined } | undefined; pendingTag: boolean },
  object: ObjectSettings | undefined,
  file: FileInfo,
): Record<string, string> | undefined {
  return config.staticSettings ? config.staticSettings.headers : objectHeaders(object, file, config.pendingTag)
}

/**
 * The headers that store one upload with its settings (all of them signed), `undefined` when
 * there are none. `pending` adds the package's pending tag.
 */
export function objectHeaders(settings: ObjectSettings | undefined, file: FileInfo, pending: boolean): Record<string, string> | undefined {
  const tags = pending ? { ...settings?.tags, [PENDING_TAG]: '1' } : settings?.tags
  if (!settings && !pending) return undefined
  const headers: Record<string, string> = {}
  if (settings?.serverSideEncryption) headers[SETTING_HEADERS.serverSideEncryption] = settings.serverSideEncryption
  if (settings?.kmsKeyId) headers[SETTING_HEADERS.kmsKeyId] = settings.kmsKeyId
  if (settings?.bucketKeyEnabled !== undefined) headers[SETTING_HEADERS.bucketKeyEnabled] = String(settings.bucketKeyEnabled)
  if (settings?.storageClass) headers[SETTING_HEADERS.storageClass] = settings.storageClass
  if (settings?.cacheControl) headers[SETTING_HEADERS.cacheControl] = settings.cacheControl
  const disposition = settings?.contentDisposition
  if (disposition !== undefined) {
    headers[SETTING_HEADERS.contentDisposition] = headerValue(
      'contentDisposition',
      typeof disposition === 'function' ? disposition(file) : disposition,
    )
  }
  if (tags && Object.keys(tags).length > 0) headers[SETTING_HEADERS.tags] = taggingOf(tags)
  return Object.keys(headers).length > 0 ? headers : undefined
}

/** The same settings as SDK command input (CreateMultipartUpload; the SDK oracle's PutObject). */
export function commandInputOf(
  headers: Record<string, string> | undefined,
): Partial<CreateMultipartUploadCommandInput & PutObjectCommandInput> {
  if (!headers) return {}
  const h = SETTING_HEADERS
  const input: Partial<CreateMultipartUploadCommandInput> = {}
  if (headers[h.serverSideEncryption]) input.ServerSideEncryption = headers[h.serverSideEncryption] as 'AES256' | 'aws:kms'
  if (headers[h.kmsKeyId]) input.SSEKMSKeyId = headers[h.kmsKeyId]
  if (headers[h.bucketKeyEnabled]) input.BucketKeyEnabled = headers[h.bucketKeyEnabled] === 'true'
  if (headers[h.storageClass]) input.StorageClass = headers[h.storageClass] as CreateMultipartUploadCommandInput['StorageClass']
  if (headers[h.cacheControl]) input.CacheControl = headers[h.cacheControl]
  if (headers[h.contentDisposition]) input.ContentDisposition = headers[h.contentDisposition]
  if (headers[h.tags]) input.Tagging = headers[h.tags]
  return input
}

/**
 * The same settings as POST Object form fields (exact-match policy conditions): tags go as the
 * `tagging` XML document S3 takes in a form.
 */
export function postFieldsOf(headers: Record<string, string> | undefined): Record<string, string> {
  const fields: Record<string, string> = {}
  if (!headers) return fields
  for (const [name, value] of Object.entries(headers)) {
    if (name === SETTING_HEADERS.tags) fields.tagging = taggingXml(tagsOf(value))
    else if (name === 'cache-control') fields['Cache-Control'] = value
    else if (name === 'content-disposition') fields['Content-Disposition'] = value
    else fields[name] = value
  }
  return fields
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }
const xml = (text: string) => text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!)

function taggingXml(tags: Record<string, string>): string {
  const tagSet = Object.entries(tags)
    .map(([name, value]) => `<Tag><Key>${xml(name)}</Key><Value>${xml(value)}</Value></Tag>`)
    .join('')
  return `<Tagging><TagSet>${tagSet}</TagSet></Tagging>`
}

/**
 * Why a stored object does not carry the settings it was uploaded with, or undefined when it
 * does. Tags are counted (HEAD reports their number); bucket keys are not checked (a bucket's own
 * default may turn them on, and not every store reports them). Pure.
 */
export function judgeSettings(object: StoredObject, headers: Record<string, string> | undefined): string | undefined {
  if (!headers) return undefined
  const h = SETTING_HEADERS
  const sse = headers[h.serverSideEncryption]
  if (sse && object.serverSideEncryption !== sse) {
    return `Storage did not encrypt the file with ${sse} (it reports ${object.serverSideEncryption ?? 'no encryption'}).`
  }
  const keyId = headers[h.kmsKeyId]
  if (keyId && !kmsKeyMatches(object.kmsKeyId, keyId)) {
    return `Storage encrypted the file with another KMS key (${object.kmsKeyId ?? 'none reported'}).`
  }
  const storageClass = headers[h.storageClass]
  // S3 reports no storage class for STANDARD.
  if (storageClass && (object.storageClass ?? 'STANDARD') !== storageClass) {
    return `Storage kept the file in storage class ${object.storageClass ?? 'STANDARD'}, not ${storageClass}.`
  }
  for (const [name, field] of [
    [h.cacheControl, 'cacheControl'],
    [h.contentDisposition, 'contentDisposition'],
  ] as const) {
    if (headers[name] !== undefined && object[field] !== headers[name]) {
      return `Storage kept the file with ${name} ${JSON.stringify(object[field] ?? null)}, not ${JSON.stringify(headers[name])}.`
    }
  }
  return undefined
}

/** The number of tags an upload's object must carry. */
export function tagCountOf(headers: Record<string, string> | undefined): number {
  const tagging = headers?.[SETTING_HEADERS.tags]
  return tagging ? tagging.split('&').length : 0
}

/**
 * A KMS key as configured (id, ARN, `alias/...`) against what the store reports (AWS: the key's
 * ARN). An alias cannot be resolved without KMS: it matches any key.
 */
function kmsKeyMatches(reported: string | undefined, configured: string): boolean {
  if (configured.startsWith('alias/') || configured.includes(':alias/')) return true
  if (reported === undefined) return false
  return reported === configured || reported.endsWith(`/${configured}`)
}

/** The longest `Content-Disposition` that `contentDisposition()` writes (header values are at most 1,024). */
const MAX_DISPOSITION = 1000

/**
 * `attachment; filename="..."; filename*=UTF-8''...` (RFC 6266): an ASCII fallback and the exact
 * UTF-8 name. A name too long for a header (percent-encoding takes 9 characters per CJK
 * character) is shortened, keeping its extension.
 */
export function contentDisposition(type: 'attachment' | 'inline', name: string): string {
  const filename = name.toWellFormed()
  const chars = Array.from(filename)
  const dot = filename.lastIndexOf('.')
  const extension = dot > 0 && filename.length - dot <= 16 ? Array.from(filename.slice(dot)) : []
  const base = chars.slice(0, chars.length - extension.length)
  let header = dispositionOf(type, filename)
  while (header.length > MAX_DISPOSITION && base.length > 1) {
    base.length = Math.max(1, Math.floor(base.length * 0.9))
    header = dispositionOf(type, base.join('') + extension.join(''))
  }
  return header
}

function dispositionOf(type: string, filename: string): string {
  const fallback = filename
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\x20-\x7e]|["\\%]/g, '_')
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`
}
