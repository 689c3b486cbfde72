import { createHmac } from 'node:crypto'
import { sha256Hex } from '../sha256'
import { amzDate } from './dates'

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
  /** a signed `content-length` besides `headers` (set by HTTP clients themselves) */
  length?: number | undefined
  region: string
  service?: string
  expiresIn: number
  /** the signing time; now when absent */
  date?: Date | undefined
}

const UNRESERVED = /^[\w.~-]*$/

/** RFC 3986 escaping exactly as the SDK's `escapeUri`. */
function escapeUri(value: string): string {
  if (UNRESERVED.test(value)) return value
  const encoded = encodeURIComponent(value)
  return /[!'()*]/.test(encoded) ? encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : encoded
}

const SAFE_KEY = /^[\w.~/-]*$/

/** An object key as a path, as the SDK encodes greedy labels: each segment escaped, `/` kept. */
export function encodeKey(key: string): string {
  if (SAFE_KEY.test(key)) return key
  return key.split('/').map(escapeUri).join('/')
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

const MAX_CACHED_KEYS = 16
const AMZ_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders']

/**
 * SigV4 signing keys, each derived once per (secret, day, region, service) and cached. One cache
 * may serve several signers (the URL signer and the POST policy signer of one `Signer`).
 */
export function createSigningKeys() {
  const signingKeys = new Map<string, Buffer>()

  let lastSecret = ''
  let lastDay = ''
  let lastRegion = ''
  let lastService = ''
  let lastKey: Buffer | undefined

  return function signingKey(secret: string, day: string, region: string, service: string): Buffer {
    // Most calls ask for the last key: compared part by part, without building its id.
    if (lastKey && day === lastDay && secret === lastSecret && region === lastRegion && service === lastService) return lastKey
    const id = `${day}\n${region}\n${service}\n${secret}`
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
    lastSecret = secret
    lastDay = day
    lastRegion = region
    lastService = service
    lastKey = key
    return key
  }
}

export type SigningKeys = ReturnType<typeof createSigningKeys>

export function createQuerySigner(signingKey: SigningKeys = createSigningKeys()) {
  /**
   * Per request shape (query and header names): the sorted names, the signed-header list, and
   * where each sorted query name takes its value from (the request's query, or an X-Amz one).
   */
  interface Shape {
    /** the request's query and header names, in their order, and the flags: what `sameShape` compares */
    queryKeys: string[]
    headerKeys: string[]
    withToken: boolean
    withLength: boolean
    headerNames: string[]
    signedHeaders: string
    escapedSignedHeaders: string
    /** `name=` of each sorted query parameter, escaped, with the `&` before it but for the first */
    prefixes: string[]
    names: string[]
    fromQuery: boolean[]
    signatureAt: number
    /** per sorted query position, the last raw value and its escaping: a batch's parts share most */
    lastRaw: string[]
    lastEscaped: string[]
  }
  const shapes = new Map<string, Shape>()
  let lastShape: Shape | undefined

  function sameShape(
    shape: Shape,
    query: Record<string, string>,
    headers: Record<string, string>,
    withToken: boolean,
    withLength: boolean,
  ) {
    if (shape.withToken !== withToken || shape.withLength !== withLength) return false
    let i = 0
    for (const name in query) if (shape.queryKeys[i++] !== name) return false
    if (i !== shape.queryKeys.length) return false
    i = 0
    for (const name in headers) if (shape.headerKeys[i++] !== name) return false
    return i === shape.headerKeys.length
  }

  function shapeOf(query: Record<string, string>, headers: Record<string, string>, withToken: boolean, withLength: boolean): Shape {
    // Most requests have the shape of the one before (the parts of a batch, busy creates): compared
    // name by name, without building the shape's id.
    if (lastShape && sameShape(lastShape, query, headers, withToken, withLength)) return lastShape
    let id = withToken ? 't' : 'f'
    if (withLength) id += 'l'
    for (const name in query) id += `&${name}`
    id += '|'
    for (const name in headers) id += `&${name}`
    let shape = shapes.get(id)
    if (!shape) {
      const headerNames = [...Object.keys(headers), 'host', ...(withLength ? ['content-length'] : [])].sort()
      const names = [...Object.keys(query), ...AMZ_PARAMS, ...(withToken ? ['X-Amz-Security-Token'] : [])].sort()
      const signatureAt = names.findIndex((name) => name > 'X-Amz-Signature')
      shape = {
        queryKeys: Object.keys(query),
        headerKeys: Object.keys(headers),
        withToken,
        withLength,
        headerNames,
        signedHeaders: headerNames.join(';'),
        escapedSignedHeaders: escapeUri(headerNames.join(';')),
        prefixes: names.map((name, i) => `${i === 0 ? '' : '&'}${escapeUri(name)}=`),
        names,
        fromQuery: names.map((name) => Object.hasOwn(query, name)),
        signatureAt: signatureAt < 0 ? names.length : signatureAt,
        lastRaw: names.map(() => ''),
        lastEscaped: names.map(() => ''),
      }
      if (shapes.size >= 64) shapes.clear()
      shapes.set(id, shape)
    }
    lastShape = shape
    return shape
  }

  // The last credential scope, and the escaped X-Amz-Credential of the last access key and scope: most URLs share them.
  let lastDay = ''
  let lastRegion = ''
  let lastService = ''
  let lastScope = ''
  let lastCredential = ''
  let lastCredentialScope = ''
  let lastEscapedCredential = ''

  // What `canonicalize` leaves for its caller, which reads it at once (no await in between): the
  // signing date, the canonical headers, the canonical query split at the signature (`before`, and
  // `after`, which starts with `&` unless the signature goes first), and where a batch's varying
  // query value and signed length sit in them.
  let datetime = ''
  let day = ''
  let shape: Shape
  let canonicalHeaders = ''
  let before = ''
  let after = ''
  let valueStart = -1
  let valueEnd = -1
  let valueInAfter = false
  let lengthStart = -1
  let lengthEnd = -1

  /** The canonical pieces of `req`; with `vary`, where that query parameter's value is in them. */
  function canonicalize(req: QueryToSign, credentials: Credentials, service: string, vary?: string): void {
    datetime = amzDate(req.date === undefined ? Date.now() : req.date.getTime())
    day = datetime.slice(0, 8)
    if (day !== lastDay || req.region !== lastRegion || service !== lastService) {
      lastDay = day
      lastRegion = req.region
      lastService = service
      lastScope = `${day}/${req.region}/${service}/aws4_request`
    }
    const withLength = req.length !== undefined && !('content-length' in req.headers)
    shape = shapeOf(req.query, req.headers, credentials.sessionToken !== undefined, withLength)

    canonicalHeaders = ''
    lengthStart = -1
    for (const name of shape.headerNames) {
      let value: string
      if (name === 'host') value = req.host
      else if (withLength && name === 'content-length') {
        value = String(req.length)
        lengthStart = canonicalHeaders.length + 15 // after `content-length:`
        lengthEnd = lengthStart + value.length
      } else value = canonicalValue(req.headers[name]!)
      canonicalHeaders += `${name}:${value}\n`
    }

    if (credentials.accessKeyId !== lastCredential || lastScope !== lastCredentialScope) {
      lastCredential = credentials.accessKeyId
      lastCredentialScope = lastScope
      lastEscapedCredential = escapeUri(`${credentials.accessKeyId}/${lastScope}`)
    }
    // The canonical query is the URL's query without the signature: each pair escaped once, the
    // X-Amz values known (the algorithm, date and expiry need no escaping; the rest is cached).
    before = ''
    after = ''
    valueStart = -1
    const { names, prefixes, fromQuery, signatureAt, lastRaw, lastEscaped } = shape
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!
      let value: string
      if (fromQuery[i]) {
        const raw = req.query[name]!
        if (raw !== lastRaw[i]) {
          lastRaw[i] = raw
          lastEscaped[i] = escapeUri(raw)
        }
        value = lastEscaped[i]!
        if (name === vary) {
          valueInAfter = i >= signatureAt
          valueStart = (valueInAfter ? after.length : before.length) + prefixes[i]!.length
          valueEnd = valueStart + value.length
        }
      } else if (name === 'X-Amz-Algorithm') value = 'AWS4-HMAC-SHA256'
      else if (name === 'X-Amz-Credential') value = lastEscapedCredential
      else if (name === 'X-Amz-Date') value = datetime
      else if (name === 'X-Amz-Expires') value = String(req.expiresIn)
      else if (name === 'X-Amz-SignedHeaders') value = shape.escapedSignedHeaders
      else value = escapeUri(credentials.sessionToken!)
      if (i < signatureAt) before += prefixes[i] + value
      else after += prefixes[i] + value
    }
  }

  /** The hex signature of a canonical request, with the day's signing key. */
  function signatureOf(canonicalRequest: string, credentials: Credentials, region: string, service: string): string {
    return createHmac('sha256', signingKey(credentials.secretAccessKey, day, region, service))
      .update(`AWS4-HMAC-SHA256\n${datetime}\n${lastScope}\n${sha256Hex(canonicalRequest)}`)
      .digest('hex')
  }

  /** One presigned URL. */
  function presign(req: QueryToSign, credentials: Credentials): string {
    const service = req.service ?? 's3'
    canonicalize(req, credentials, service)
    const canonicalRequest = `${req.method}\n${req.path}\n${before}${after}\n${canonicalHeaders}\n${shape.signedHeaders}\nUNSIGNED-PAYLOAD`
    const signature = signatureOf(canonicalRequest, credentials, req.region, service)
    // The URL's query is sorted, the signature among the rest, as the SDK's formatUrl does.
    const query =
      shape.signatureAt === 0
        ? `X-Amz-Signature=${signature}${after === '' ? '' : `&${after}`}`
        : `${before}&X-Amz-Signature=${signature}${after}`
    return `${req.protocol}//${req.host}${req.path}?${query}`
  }

  /**
   * Many URLs of requests that differ only in the value of query parameter `name` (`values[i]`,
   * raw) and, with `lengths`, in their signed length (`lengths[i]`, which `req.length` must then
   * be given for): the parts of one upload. `req` is the first of them. The canonical request and
   * the URL are built once around the two values; each URL then costs its hash, its HMAC and a few
   * concatenations. The same URLs as `presign` for each request (differential tests).
   */
  function presignEach(
    req: QueryToSign,
    credentials: Credentials,
    name: string,
    values: readonly string[],
    lengths?: readonly number[],
  ): string[] {
    if (lengths !== undefined && lengths.length !== values.length) {
      throw new TypeError(`presignEach: ${values.length} values but ${lengths.length} lengths`)
    }
    const service = req.service ?? 's3'
    canonicalize(req, credentials, service, name)
    if (valueStart < 0 || (lengths !== undefined && lengthStart < 0)) {
      throw new TypeError(`presignEach: the request has no ${valueStart < 0 ? `query parameter ${name}` : 'signed length'} to vary`)
    }
    const { signatureAt, signedHeaders } = shape
    // The canonical request: head + value + middle + length + tail.
    const query = before + after
    const at = valueInAfter ? before.length : 0
    const head = `${req.method}\n${req.path}\n${query.slice(0, at + valueStart)}`
    const headers =
      lengths === undefined ? [canonicalHeaders, ''] : [canonicalHeaders.slice(0, lengthStart), canonicalHeaders.slice(lengthEnd)]
    const middle = `${query.slice(at + valueEnd)}\n${headers[0]}`
    const tail = `${headers[1]}\n${signedHeaders}\nUNSIGNED-PAYLOAD`
    // The URL: the value after the signature (in `after`) or before it.
    const base = `${req.protocol}//${req.host}${req.path}?`
    let urlHead: string
    let urlMiddle: string
    let urlTail: string
    if (valueInAfter) {
      urlHead = signatureAt === 0 ? `${base}X-Amz-Signature=` : `${base}${before}&X-Amz-Signature=`
      urlMiddle = signatureAt === 0 ? `&${after.slice(0, valueStart)}` : after.slice(0, valueStart)
      urlTail = after.slice(valueEnd)
    } else {
      urlHead = base + before.slice(0, valueStart)
      urlMiddle = `${before.slice(valueEnd)}&X-Amz-Signature=`
      urlTail = after
    }
    const urls = new Array<string>(values.length)
    for (let i = 0; i < values.length; i++) {
      const value = escapeUri(values[i]!)
      const length = lengths === undefined ? '' : String(lengths[i])
      const signature = signatureOf(head + value + middle + length + tail, credentials, req.region, service)
      urls[i] = valueInAfter ? urlHead + signature + urlMiddle + value + urlTail : urlHead + value + urlMiddle + signature + urlTail
    }
    return urls
  }

  return Object.assign(presign, { each: presignEach })
}
