import { createHash, createHmac } from 'node:crypto'

/**
 * The hot path: SigV4 query signing (presigned URLs) for S3 without the SDK's middleware stack.
 * One SHA-256 of the canonical request and one HMAC with the signing key, which is derived once
 * per (secret, day, region) and cached. The SDK stays the oracle: test/core/signing.differential.test.ts
 * proves these URLs byte-identical to `getSignedUrl`'s for random keys, dates, regions, session
 * tokens and every header we sign, and the SDK still resolves the endpoint (see `signer.ts`).
 */

export interface Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export interface QueryToSign {
  method: string
  /** `http:` or `https:` */
  protocol: string
  /** host, with the port when it is not the default one: also the signed `host` header */
  host: string
  /** the request path, already encoded as it goes on the wire (S3 does not encode it twice) */
  path: string
  /** query parameters besides the X-Amz-* ones, raw (they are escaped here) */
  query: Record<string, string>
  /** headers to sign and send, lower-case names (`host` is added) */
  headers: Record<string, string>
  region: string
  service?: string
  expiresIn: number
  date: Date
}

/** RFC 3986 escaping exactly as the SDK's `escapeUri`. */
function escapeUri(value: string): string {
  const encoded = encodeURIComponent(value)
  return /[!'()*]/.test(encoded) ? encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : encoded
}

/** An object key as a path, as the SDK encodes greedy labels: each segment escaped, `/` kept. */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) => (/^[\w.~-]*$/.test(segment) ? segment : escapeUri(segment)))
    .join('/')
}

/**
 * A header value as SigV4 (and the SDK) canonicalizes it: CR/LF become spaces, runs of spaces and
 * tabs one space, one space off each end. Not `trim()`: other whitespace (NBSP, VT, FF) is kept.
 */
function canonicalValue(value: string): string {
  return /[\r\n\t]| {2}|^ | $/.test(value)
    ? value
        .replace(/[\r\n]/g, ' ')
        .replace(/[ \t]+/g, ' ')
        .replace(/^ | $/g, '')
    : value
}

let lastSecond = Number.NaN
let lastAmzDate = ''

/** `20261128T120000Z`; most URLs of a busy second share it. */
function amzDate(date: Date): string {
  const second = Math.floor(date.getTime() / 1000)
  if (second !== lastSecond) {
    lastSecond = second
    lastAmzDate = date
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '')
  }
  return lastAmzDate
}

const MAX_CACHED_KEYS = 16
const AMZ_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders']

/**
 * SigV4 signing keys, each derived once per (secret, day, region, service) and cached. One cache
 * may serve several signers (the URL signer and the POST policy signer of one `Signer`).
 */
export function createSigningKeys() {
  const signingKeys = new Map<string, Buffer>()

  let lastId = ''
  let lastKey: Buffer | undefined

  return function signingKey(secret: string, day: string, region: string, service: string): Buffer {
    const id = `${day}\n${region}\n${service}\n${secret}`
    if (id === lastId && lastKey) return lastKey
    let key = signingKeys.get(id)
    if (!key) {
      const kDate = createHmac('sha256', `AWS4${secret}`).update(day).digest()
      const kRegion = createHmac('sha256', kDate).update(region).digest()
      const kService = createHmac('sha256', kRegion).update(service).digest()
      key = createHmac('sha256', kService).update('aws4_request').digest()
      // Credentials refresh and days change: keep only the recent keys.
      if (signingKeys.size >= MAX_CACHED_KEYS) signingKeys.delete(signingKeys.keys().next().value!)
      signingKeys.set(id, key)
    }
    lastId = id
    lastKey = key
    return key
  }
}

export type SigningKeys = ReturnType<typeof createSigningKeys>

export function createQuerySigner(signingKey: SigningKeys = createSigningKeys()) {
  /** Per request shape (query and header names): the sorted names and the signed-header list. */
  interface Shape {
    headerNames: string[]
    signedHeaders: string
    names: string[]
    escapedNames: string[]
    signatureAt: number
  }
  const shapes = new Map<string, Shape>()

  function shapeOf(query: Record<string, string>, headers: Record<string, string>, withToken: boolean): Shape {
    const id = `${Object.keys(query).join('&')}|${Object.keys(headers).join('&')}|${withToken}`
    let shape = shapes.get(id)
    if (!shape) {
      const headerNames = [...Object.keys(headers), 'host'].sort()
      const names = [...Object.keys(query), ...AMZ_PARAMS, ...(withToken ? ['X-Amz-Security-Token'] : [])].sort()
      const signatureAt = names.findIndex((name) => name > 'X-Amz-Signature')
      shape = {
        headerNames,
        signedHeaders: headerNames.join(';'),
        names,
        escapedNames: names.map(escapeUri),
        signatureAt: signatureAt < 0 ? names.length : signatureAt,
      }
      if (shapes.size >= 64) shapes.clear()
      shapes.set(id, shape)
    }
    return shape
  }

  return function presign(req: QueryToSign, credentials: Credentials): string {
    const service = req.service ?? 's3'
    const datetime = amzDate(req.date)
    const day = datetime.slice(0, 8)
    const scope = `${day}/${req.region}/${service}/aws4_request`
    const shape = shapeOf(req.query, req.headers, credentials.sessionToken !== undefined)

    let canonicalHeaders = ''
    for (const name of shape.headerNames) {
      canonicalHeaders += `${name}:${canonicalValue(name === 'host' ? req.host : req.headers[name]!)}\n`
    }

    const amz: Record<string, string> = {
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
      'X-Amz-Date': datetime,
      'X-Amz-Expires': String(req.expiresIn),
      'X-Amz-SignedHeaders': shape.signedHeaders,
    }
    if (credentials.sessionToken !== undefined) amz['X-Amz-Security-Token'] = credentials.sessionToken
    // The canonical query is the URL's query without the signature: escape every pair once.
    const pairs = shape.names.map((name, i) => `${shape.escapedNames[i]}=${escapeUri(req.query[name] ?? amz[name]!)}`)
    const canonicalQuery = pairs.join('&')

    const canonicalRequest = `${req.method}\n${req.path}\n${canonicalQuery}\n${canonicalHeaders}\n${shape.signedHeaders}\nUNSIGNED-PAYLOAD`
    const stringToSign = `AWS4-HMAC-SHA256\n${datetime}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`
    const signature = createHmac('sha256', signingKey(credentials.secretAccessKey, day, req.region, service))
      .update(stringToSign)
      .digest('hex')

    // The URL's query is sorted, the signature among the rest, as the SDK's formatUrl does.
    pairs.splice(shape.signatureAt, 0, `X-Amz-Signature=${signature}`)
    return `${req.protocol}//${req.host}${req.path}?${pairs.join('&')}`
  }
}
