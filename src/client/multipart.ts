import { type CompleteResponse, type ListPartsResponse, MAX_SIGN_BATCH, type SignPartsResponse, type SignedPart, partLength } from '../wire'
import { UploadError, abortError } from './errors'
import { transient, withRetries } from './retry'
import type { Session } from './upload-file'

/** What `resume` keeps per file: enough to continue its multipart upload after a reload. */
export interface Saved {
  token: string
  key: string
  partSize: number
  partCount: number
}

type Target = Pick<SignedPart, 'url' | 'headers'>

/**
 * The multipart upload saved for this file, with the parts S3 already holds at their exact
 * length; `undefined` when there is none to resume. A saved token the server no longer takes
 * (expired, or its upload gone) is forgotten, and the file starts over.
 */
export async function resumeUpload(session: Session): Promise<{ saved: Saved; etags: Map<number, string> } | undefined> {
  const { file, fingerprint, options } = session
  const stored = options.resume ? await options.resume.getItem(fingerprint) : null
  if (!stored) return undefined
  let saved: Saved | undefined
  try {
    saved = JSON.parse(stored) as Saved
  } catch {
    return undefined
  }
  if (!saved) return undefined
  try {
    const { parts } = await session.api<ListPartsResponse>('/list-parts', { token: saved.token })
    const etags = new Map<number, string>()
    for (const p of parts) if (p.size === partLength(p.partNumber, file.size, saved.partSize)) etags.set(p.partNumber, p.etag)
    return { saved, etags }
  } catch (error) {
    // No answer (offline, server down) or an abort: keep the token for the next try.
    if (!(error as UploadError).status) throw error
    await options.resume?.removeItem(fingerprint)
    return undefined
  }
}

/**
 * Uploads the parts not in `etags`, `concurrency` at a time, then completes. On abort, the upload
 * is aborted on the server too and its saved token forgotten.
 */
export async function uploadParts<Result>(
  session: Session,
  { token, partSize, partCount }: Saved,
  etags: Map<number, string>,
): Promise<CompleteResponse<Result>> {
  const { file, options, retry } = session
  const length = (n: number) => partLength(n, file.size, partSize)
  const slice = (n: number) => file.slice((n - 1) * partSize, (n - 1) * partSize + length(n))
  const concurrency = Math.max(1, options.concurrency ?? 4)

  const inFlight = new Map<number, number>()
  let finished = [...etags.keys()].reduce((sum, n) => sum + length(n), 0)
  const report = () => session.progress(finished + [...inFlight.values()].reduce((a, b) => a + b, 0))
  report()

  // Parts not started yet: workers take from the front, sign batches are drawn from it too.
  const queue = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !etags.has(n))
  const urlFor = signAhead(
    session,
    token,
    queue,
    Math.min(MAX_SIGN_BATCH, Math.max(2, concurrency * 2)),
    options.checksum ? (n) => sha256(slice(n)) : undefined,
  )

  async function uploadPart(n: number) {
    let part = await urlFor(n)
    // Only storage's answer to this part's PUT is retried: a failed signing is final.
    let refusal: { error: UploadError; expired: boolean } | undefined
    const sent = await withRetries(
      async () => {
        if (refusal?.expired) part = await urlFor(n, true) // the URL expired: sign this part again
        const sent = await session.put(
          part.url,
          part.headers,
          slice(n),
          (loaded) => {
            inFlight.set(n, loaded)
            report()
          },
          `part ${n}`,
        )
        inFlight.delete(n)
        if (!sent.error) return sent
        refusal = { error: sent.error, expired: sent.status === 403 && /expired/i.test(sent.text) }
        throw refusal.error
      },
      {
        ...retry,
        retryable: (error, attempt) => {
          if (!refusal || error !== refusal.error) return false
          return refusal.expired ? 'now' : transient(error, attempt)
        },
      },
    )
    if (!sent.etag) {
      throw new UploadError(
        'etag_unreadable',
        "Storage did not let the browser read the part's ETag header: expose ETag in the bucket's CORS configuration.",
      )
    }
    etags.set(n, sent.etag)
    finished += length(n)
    report()
  }

  const stop = (error: unknown): never => {
    queue.length = 0
    throw error
  }
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        // A failed part ends the upload: the other workers take no new part.
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) await uploadPart(n).catch(stop)
      }),
    )
    const parts = [...etags].sort(([a], [b]) => a - b).map(([partNumber, etag]) => ({ partNumber, etag }))
    const result = await session.api<CompleteResponse<Result>>('/complete', { token, parts })
    await options.resume?.removeItem(session.fingerprint)
    return result
  } catch (error) {
    if (options.signal?.aborted) {
      await session.api('/abort', { token }, false).catch(() => {})
      await options.resume?.removeItem(session.fingerprint)
      throw abortError()
    }
    throw error
  }
}

/**
 * Part URLs in batches of up to `batchSize`, drawn from the front of `queue` just ahead of the
 * workers: never all up front, where the last ones could expire before their turn.
 * `urlFor(n, true)` signs part `n` again.
 */
function signAhead(session: Session, token: string, queue: number[], batchSize: number, checksumOf?: (n: number) => Promise<string>) {
  const signed = new Map<number, Target>()
  let signing: Promise<void> | undefined
  return async function urlFor(n: number, again = false): Promise<Target> {
    if (again) signed.delete(n)
    while (!signed.has(n)) {
      if (!signing) {
        const batch = [n, ...queue.filter((p) => !signed.has(p))].slice(0, batchSize)
        signing = (async () => {
          const checksums = checksumOf
            ? Object.fromEntries(await Promise.all(batch.map(async (p) => [String(p), await checksumOf(p)])))
            : undefined
          const { parts } = await session.api<SignPartsResponse>('/sign-parts', {
            token,
            partNumbers: batch,
            ...(checksums ? { checksums } : {}),
          })
          for (const p of parts) signed.set(p.partNumber, p)
        })().finally(() => {
          signing = undefined
        })
      }
      await signing
    }
    const url = signed.get(n)!
    signed.delete(n)
    return url
  }
}

/** base64 SHA-256 (WebCrypto), as S3's `x-amz-checksum-sha256` takes it. */
async function sha256(blob: Blob): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()))
  let binary = ''
  for (const b of digest) binary += String.fromCharCode(b)
  return btoa(binary)
}
