import { createHash, createHmac } from 'node:crypto'

/**
 * The hot path: SigV4 query signing (presigned URLs) for S3 without the SDK's middleware stack.
 * One SHA-256 of the canonical request and one HMAC with the signing key, which is derived once
 * per (secret, day, region) and cached. The SDK stays the oracle: test/sigv4.differential.test.ts
 * proves these URLs byte-identical to `getSignedUrl`'s for random keys, dates, regions, session
 * tokens and every header we sign, and the SDK still resolves the endpoint (see `fast-signer.ts`).
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
export function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** An object key as a path, as the SDK encodes greedy labels: each segment escaped, `/` kept. */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) => (/^[\w.~-]*$/.test(segment) ? segment : escapeUri(segment)))
    .join('/')
}

function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
}

const MAX_CACHED_KEYS = 16

export function createQuerySigner() {
  const signingKeys = new Map<string, Buffer>()

  function signingKey(secret: string, day: string, region: string, service: string): Buffer {
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
    return key
  }

  return function presign(req: QueryToSign, credentials: Credentials): string {
    const service = req.service ?? 's3'
    const datetime = amzDate(req.date)
    const day = datetime.slice(0, 8)
    const scope = `${day}/${req.region}/${service}/aws4_request`

    const headers: Record<string, string> = { ...req.headers, host: req.host }
    const headerNames = Object.keys(headers).sort()
    const signedHeaders = headerNames.join(';')
    let canonicalHeaders = ''
    for (const name of headerNames) canonicalHeaders += `${name}:${headers[name]!.trim().replace(/\s+/g, ' ')}\n`

    const query: Record<string, string> = {
      ...req.query,
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
      'X-Amz-Date': datetime,
      'X-Amz-Expires': String(req.expiresIn),
      'X-Amz-SignedHeaders': signedHeaders,
      ...(credentials.sessionToken ? { 'X-Amz-Security-Token': credentials.sessionToken } : {}),
    }
    const names = Object.keys(query).sort()
    let canonicalQuery = ''
    for (const name of names) canonicalQuery += `${canonicalQuery ? '&' : ''}${escapeUri(name)}=${escapeUri(query[name]!)}`

    const canonicalRequest = `${req.method}\n${req.path}\n${canonicalQuery}\n${canonicalHeaders}\n${signedHeaders}\nUNSIGNED-PAYLOAD`
    const stringToSign = `AWS4-HMAC-SHA256\n${datetime}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`
    const signature = createHmac('sha256', signingKey(credentials.secretAccessKey, day, req.region, service)).update(stringToSign).digest('hex')

    // The URL's query is sorted too, the signature among the rest, as the SDK's formatUrl does.
    let url = ''
    let placed = false
    for (const name of names) {
      if (!placed && name > 'X-Amz-Signature') {
        url += `&X-Amz-Signature=${signature}`
        placed = true
      }
      url += `&${escapeUri(name)}=${escapeUri(query[name]!)}`
    }
    if (!placed) url += `&X-Amz-Signature=${signature}`
    return `${req.protocol}//${req.host}${req.path}?${url.slice(1)}`
  }
}
