import { Agent, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse, createServer, request as httpRequest } from 'node:http'
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3'

/**
 * A loopback pass-through proxy in front of Ceph RGW that makes RGW answer a browser POST
 * Object upload the way AWS S3 does.
 *
 * Why: AWS answers a successful POST Object (form upload) with `204` plus `ETag` and `Location`
 * headers. RGW 16.2 answers `204` with neither (FACTS.md, "Ceph RGW"). The unmodified
 * `@uppy/aws-s3` v5 client reads the `ETag` response header of its POST and, when it cannot,
 * logs "Could not read the ETag header" and never settles the upload: it waits forever. So the
 * POST path can only be tested end to end against RGW if something adds the header AWS would
 * send. This proxy does only that:
 *
 * - every request (API calls, CORS preflights, part PUTs, GETs) is forwarded byte for byte,
 *   streaming both ways, with the `Host` header unchanged, so a SigV4 signature made for the
 *   proxy's `host:port` still verifies on RGW (which checks the `Host` it receives);
 * - a POST Object request (`POST /<bucket>/` with a `multipart/form-data` body) is buffered
 *   (test files are small) to read its `key` field, forwarded as is, and if RGW answers 2xx
 *   without an `ETag`, the proxy HEADs the object on RGW (with `client`) and adds `ETag` and
 *   `Location` (`http://<host>/<bucket>/<key>`, as AWS does), and lists both in
 *   `Access-Control-Expose-Headers` so the browser lets Uppy read them.
 *
 * It emulates AWS; it does not change what RGW stored or verified.
 */
export interface EtagProxy {
  /** `http://127.0.0.1:<port>`: point the presigning S3 config's `endpoint` here. */
  url: string
  /** `METHOD path -> status` of every request seen, for debugging. */
  log: string[]
  /** POST Object answers the proxy completed with an ETag it read from a HEAD. */
  patched: { key: string; status: number; etag: string; location: string }[]
  close(): Promise<void>
}

export interface EtagProxyOptions {
  /** RGW's own endpoint, e.g. `http://127.0.0.1:7480`. */
  target: string
  /** A client talking to RGW directly, used for the HeadObject that reads the ETag. */
  client: S3Client
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded; none of them is ever signed. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade'])

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value
  return out
}

function isPostObject(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false
  const path = (req.url ?? '/').split('?')[0]!
  // Path-style `/<bucket>` or `/<bucket>/`, no sub-resource query (`?uploads`, `?delete`...).
  return /^\/[^/]+\/?$/.test(path) && !(req.url ?? '').includes('?') && /^multipart\/form-data/i.test(req.headers['content-type'] ?? '')
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** The form's `key` field (with `${filename}` replaced, as S3 does), or undefined. */
async function formKey(body: Buffer, contentType: string): Promise<string | undefined> {
  try {
    const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData()
    const key = form.get('key')
    if (typeof key !== 'string') return undefined
    const file = form.get('file')
    return file && typeof file !== 'string' ? key.replace('$' + '{filename}', file.name) : key
  } catch {
    return undefined
  }
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/')
}

function withExposed(value: string | string[] | number | undefined, names: string[]): string {
  const current = (Array.isArray(value) ? value.join(',') : value === undefined ? '' : String(value))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const name of names) if (!current.some((c) => c.toLowerCase() === name.toLowerCase())) current.push(name)
  return current.join(', ')
}

export async function startEtagProxy({ target, client }: EtagProxyOptions): Promise<EtagProxy> {
  const upstream = new URL(target)
  const agent = new Agent({ keepAlive: true })
  const log: string[] = []
  const patched: EtagProxy['patched'] = []

  function forward(req: IncomingMessage, body: Buffer | undefined): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const out = httpRequest({
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        // Host is kept: it is what the client signed (the proxy's host:port).
        headers: forwardable(req.headers),
        agent,
      })
      out.on('response', resolve)
      out.on('error', reject)
      if (body) out.end(body)
      else req.pipe(out)
    })
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const postObject = isPostObject(req)
    const body = postObject ? await readAll(req) : undefined
    const answer = await forward(req, body)
    const headers: Record<string, string | string[] | number | undefined> = forwardable(answer.headers)
    const ok = answer.statusCode !== undefined && answer.statusCode >= 200 && answer.statusCode < 300
    if (postObject && ok && !answer.headers.etag) {
      const bucket = decodeURIComponent((req.url ?? '/').split('/')[1]!)
      const key = await formKey(body!, req.headers['content-type']!)
      if (key !== undefined) {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
        if (head.ETag) {
          const location = `http://${req.headers.host}/${encodeURIComponent(bucket)}/${encodeKey(key)}`
          headers.etag = head.ETag
          headers.location = location
          if (headers['access-control-allow-origin']) {
            headers['access-control-expose-headers'] = withExposed(headers['access-control-expose-headers'], ['ETag', 'Location'])
          }
          patched.push({ key, status: answer.statusCode!, etag: head.ETag, location })
        }
      }
    }
    log.push(`${req.method} ${req.url} -> ${answer.statusCode}${postObject ? ` (etag from RGW: ${answer.headers.etag ?? 'none'})` : ''}`)
    res.writeHead(answer.statusCode ?? 502, headers)
    answer.pipe(res)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.push(`${req.method} ${req.url} -> proxy error: ${(error as Error).message}`)
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' })
      res.end(`etag-proxy: ${(error as Error).message}`)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    patched,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
        agent.destroy()
      }),
  }
}
