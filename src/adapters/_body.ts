import type { IncomingMessage } from 'node:http'
import { PresignError } from '../core/errors'
import { MAX_BODY_BYTES } from '../wire'

/**
 * Reading JSON bodies for the adapters, with or without a body parser installed before us.
 * A JSON Content-Type is required when we read the body ourselves: it makes every POST a
 * CORS-preflighted request, so another site cannot forge one from a form.
 */

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i

function tooLarge() {
  return new PresignError('body_too_large', `The request body must be at most ${MAX_BODY_BYTES} bytes.`)
}

function checkHeaders(contentType: string | null | undefined, contentLength: string | null | undefined) {
  if (!contentType || !JSON_TYPE.test(contentType)) {
    throw new PresignError('unsupported_media_type', 'Send the request body as JSON with `Content-Type: application/json`.')
  }
  if (contentLength && Number(contentLength) > MAX_BODY_BYTES) throw tooLarge()
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new PresignError('invalid_json', 'The request body is not valid JSON.')
  }
}

type NodeRequest = IncomingMessage & { _body?: boolean }

/**
 * The body of a Node request. When a body parser already consumed the stream
 * (`express.json()`, `@koa/bodyparser`), what it parsed is used instead. Either way the request
 * must have declared JSON: a parser that accepted a form or `text/plain` (which a cross-site page
 * can send without a preflight) does not make it one (SPEC §5.10).
 */
export function readNodeJson(req: NodeRequest, parsed: unknown): Promise<unknown> {
  try {
    checkHeaders(req.headers['content-type'], req.headers['content-length'])
    if (req._body === true || req.readableEnded) {
      if (typeof parsed === 'string') return Promise.resolve(parse(parsed))
      if (parsed instanceof Uint8Array) return Promise.resolve(parse(Buffer.from(parsed).toString('utf8')))
      if (parsed === undefined) throw new PresignError('invalid_json', 'The request body was consumed before it reached the upload routes.')
      return Promise.resolve(parsed)
    }
  } catch (error) {
    return Promise.reject(error)
  }
  // Events, not `for await`: the async iterator costs more than the rest of a request. One
  // promise, parsed where the body ends.
  return new Promise<unknown>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData)
        req.resume() // drain the rest; the answer is already decided
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    }
    // `on`, not `once`: each fires at most once on a request, and `once` wraps every listener.
    req.on('data', onData)
    req.on('end', () => {
      try {
        resolve(parse(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')))
      } catch (error) {
        reject(error)
      }
    })
    req.on('error', reject)
  })
}

/** The body of a fetch `Request`, read with the same limit. */
export async function readFetchJson(request: Request): Promise<unknown> {
  const length = request.headers.get('content-length')
  checkHeaders(request.headers.get('content-type'), length)
  if (request.bodyUsed) {
    throw new PresignError(
      'invalid_json',
      'The request body was read before it reached the upload routes: pass the handler an unread Request.',
    )
  }
  if (!request.body) return parse('')
  // A declared length within the limit: the runtime's own reader is the fast path (Node's
  // fetch and @hono/node-server enforce the declared length).
  if (length !== null) return parse(await request.text())
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {})
      throw tooLarge()
    }
    chunks.push(value)
  }
  return parse(Buffer.concat(chunks).toString('utf8'))
}
