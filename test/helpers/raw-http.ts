import { request as httpRequest } from 'node:http'

/** A request with the path exactly as given (fetch and supertest normalise some paths). */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  body?: string,
  contentType = 'application/json',
): Promise<{ status: number; contentType: string; text: string }> {
  const u = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        hostname: u.hostname,
        port: u.port,
        method,
        path,
        headers:
          body === undefined
            ? {}
            : { ...(contentType ? { 'content-type': contentType } : {}), 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * Request targets that a framework may resolve to `/uploads/create` (doubled and backslashed
 * separators, dot segments plain and percent-encoded), but that are not that route as sent:
 * never served as `create` (SPEC §5.11).
 */
export const DISGUISED_CREATE_PATHS = [
  '/uploads//create',
  '/uploads//x/create',
  '/uploads/\\x/create',
  '/uploads/x/%2e%2e/create',
  '/uploads/x/%2E%2E/create',
  '/uploads/%2e%2e/uploads/create',
  '/uploads/./create',
  '/uploads/%2e/create',
  '/uploads/x/../create',
  '/uploads/x\\..\\create',
]
