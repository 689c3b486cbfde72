import { randomUUID } from 'node:crypto'
import { SETTING_HEADERS } from '../core/object-settings'
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'

/**
 * Real requests the doctor makes against the bucket, as a browser and an attacker would: it
 * proves what it reports instead of trusting the configuration it read. Every probe object
 * lives under `PROBE_PREFIX` and is deleted before the probe returns.
 */

export const PROBE_PREFIX = 's3-presign-middleware-doctor/'

/** Request headers a browser upload may send (the CORS rule must allow each in a preflight). */
export const PREFLIGHT_HEADERS = [
  'content-type',
  'if-none-match',
  'x-amz-meta-probe',
  'x-amz-checksum-sha256',
  // every object setting's header (`object`), KMS key and bucket key included
  ...Object.values(SETTING_HEADERS),
]

const TIMEOUT_MS = 15_000

export interface Answer {
  status: number
  /** S3's `<Code>` when the answer is an XML error */
  code?: string
  headers: Headers
  text: string
}

export type Outcome = { ok: true } | { ok: false; failure: string }

interface Probe {
  client: S3Client
  bucket: string
}

async function send(url: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<Answer> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) })
  const text = await res.text()
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1]
  return { status: res.status, ...(code ? { code } : {}), headers: res.headers, text }
}

const said = (a: Answer) => (a.code ? `${a.status} ${a.code}` : `${a.status}`)
const ok = (a: Answer) => a.status >= 200 && a.status < 300

function probeKey(): string {
  return `${PROBE_PREFIX}${randomUUID()}`
}

/** A presigned PUT signing what the middleware signs (type, `If-None-Match: *`), as a URL and its headers. */
async function presignPut({ client, bucket }: Probe, key: string) {
  const headers = { 'content-type': 'text/plain', 'if-none-match': '*' }
  const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: 'text/plain', IfNoneMatch: '*' }), {
    expiresIn: 300,
    signableHeaders: new Set(Object.keys(headers)),
  })
  return { url, headers }
}

/** The object's address without a signature: what an anonymous reader would request. */
const unsigned = (url: string) => url.split('?')[0]!

async function removeProbe({ client, bucket }: Probe, key: string): Promise<void> {
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {})
}

/** A presigned PUT of a small object: does the store accept uploads at all? */
export async function uploadWorks(probe: Probe): Promise<Outcome> {
  const key = probeKey()
  try {
    const { url, headers } = await presignPut(probe, key)
    const put = await send(url, { method: 'PUT', headers, body: 'probe' })
    return ok(put) ? { ok: true } : { ok: false, failure: `a presigned PUT was refused (${said(put)})` }
  } finally {
    await removeProbe(probe, key)
  }
}

/**
 * What a browser on `origin` does: preflight, presigned PUT (reading `ETag`), presigned GET, then
 * a presigned DELETE. `uploads` says whether the store served the requests; `browser` (with an
 * origin) whether its CORS answers would let a browser on that origin make them.
 */
export async function roundTrip(probe: Probe, origin?: string): Promise<{ uploads: Outcome; browser?: Outcome }> {
  const key = probeKey()
  const body = `s3-presign-middleware doctor probe ${new Date().toISOString()}`
  const from: Record<string, string> = origin ? { origin } : {}
  const corsFailures: string[] = []
  const allows = (a: Answer) => [origin, '*'].includes(a.headers.get('access-control-allow-origin') ?? '')
  const result = (uploads: Outcome) => ({
    uploads,
    ...(origin ? { browser: corsFailures.length ? { ok: false as const, failure: corsFailures.join('; ') } : { ok: true as const } } : {}),
  })
  try {
    const { url, headers } = await presignPut(probe, key)
    if (origin) {
      const preflight = await send(unsigned(url), {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': PREFLIGHT_HEADERS.join(',') },
      })
      if (!ok(preflight) || !allows(preflight)) corsFailures.push(`the preflight of a PUT from ${origin} was refused (${said(preflight)})`)
    }
    const put = await send(url, { method: 'PUT', headers: { ...headers, ...from }, body })
    if (!ok(put)) return result({ ok: false, failure: `the presigned PUT was refused (${said(put)})` })
    if (origin) {
      const exposed = (put.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/)
      if (!allows(put)) corsFailures.push(`the PUT's answer does not allow the origin ${origin}`)
      else if (!exposed.includes('etag')) corsFailures.push(`the PUT's answer does not expose ETag to ${origin}`)
    }
    const getUrl = await getSignedUrl(probe.client, new GetObjectCommand({ Bucket: probe.bucket, Key: key }), { expiresIn: 300 })
    const get = await send(getUrl, { method: 'GET', headers: from })
    if (!ok(get) || get.text !== body) return result({ ok: false, failure: `the presigned GET did not return the object (${said(get)})` })
    if (origin && !allows(get)) corsFailures.push(`the GET's answer does not allow the origin ${origin}`)
    const deleteUrl = await getSignedUrl(probe.client, new DeleteObjectCommand({ Bucket: probe.bucket, Key: key }), { expiresIn: 300 })
    const del = await send(deleteUrl, { method: 'DELETE' })
    if (!ok(del)) return result({ ok: false, failure: `the presigned DELETE was refused (${said(del)})` })
    return result({ ok: true })
  } finally {
    await removeProbe(probe, key)
  }
}

/**
 * An uploader adds an unsigned `x-amz-acl: public-read` to his presigned PUT: `refused` (the store
 * refuses the header or the ACL), `ignored` (stored, but an anonymous GET is refused) or `public`.
 */
export async function publicAclProbe(probe: Probe): Promise<{ result: 'refused' | 'ignored' | 'public'; answer: string }> {
  const key = probeKey()
  try {
    const { url, headers } = await presignPut(probe, key)
    const put = await send(url, { method: 'PUT', headers: { ...headers, 'x-amz-acl': 'public-read' }, body: 'probe' })
    if (!ok(put)) return { result: 'refused', answer: `the PUT was refused: ${said(put)}` }
    const anonymous = await send(unsigned(url), { method: 'GET' })
    return ok(anonymous)
      ? { result: 'public', answer: `anonymous GET ${anonymous.status}` }
      : { result: 'ignored', answer: `anonymous GET ${said(anonymous)}` }
  } finally {
    await removeProbe(probe, key)
  }
}

/**
 * A presigned PUT sent with an unsigned `x-amz-meta-probe: 1`: AWS refuses it (403 AccessDenied,
 * "headers present in the request which were not signed"); some stores accept and apply it, and
 * then also apply `x-amz-copy-source` or `x-amz-acl` added by whoever holds an upload URL.
 */
export async function unsignedHeaderProbe(probe: Probe): Promise<{ refused: boolean; answer: string }> {
  const key = probeKey()
  try {
    const { url, headers } = await presignPut(probe, key)
    const put = await send(url, { method: 'PUT', headers: { ...headers, 'x-amz-meta-probe': '1' }, body: 'probe' })
    const message = /<Message>([^<]*)<\/Message>/.exec(put.text)?.[1]
    return { refused: !ok(put), answer: `${said(put)}${message ? ` "${message}"` : ''}` }
  } finally {
    await removeProbe(probe, key)
  }
}
