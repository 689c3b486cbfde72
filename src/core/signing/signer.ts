import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import type { MaybePromise } from '../maybe-promise'
import {
  type GetToSign,
  type Operation,
  type PartToSign,
  type PostToSign,
  type PutToSign,
  getObject,
  putObject,
  uploadPart,
} from './operations'
import { type PostTarget, createPostSigner } from './post-policy'
import { type Credentials, type QueryToSign, createQuerySigner, createSigningKeys, encodeKey } from './sigv4-query'

export type { GetToSign, PartToSign, PostToSign, PutToSign } from './operations'

/** A presigned request: the URL and the headers the client must send with it. */
export interface Signed {
  url: string
  /** Signed headers to send. `content-length` is signed too but left out: HTTP clients set it. */
  headers: Record<string, string>
}

/**
 * Each signing method answers synchronously once the bucket's endpoint and current credentials are
 * known (`MaybePromise`): the hot paths then sign without a turn of the event loop.
 */
export interface Signer {
  /** A POST Object policy (browser form upload): `url` ends in `/`, `fields` go before the file. */
  postObject(input: PostToSign, expiresIn: number, signingDate?: Date): MaybePromise<{ url: string; fields: Record<string, string> }>
  putObject(input: PutToSign, expiresIn: number, signingDate?: Date): MaybePromise<Signed>
  uploadPart(input: PartToSign, expiresIn: number, signingDate?: Date): MaybePromise<Signed>
  /** Many parts at once (a sign-parts batch): resolves endpoint and credentials once. */
  uploadParts(inputs: PartToSign[], expiresIn: number, signingDate?: Date): MaybePromise<Signed[]>
  getObject(input: GetToSign, expiresIn: number, signingDate?: Date): MaybePromise<string>
  /** The object's URL without a signature (Uppy's `location`). */
  objectUrl(key: string): Promise<string>
}

interface Endpoint {
  protocol: string
  host: string
  /** path up to the key: `/bucket/` (path-style) or `/` (virtual-hosted) */
  prefix: string
  region: string
}

/**
 * The `Signer` on the hot path. The SDK resolves the endpoint once (virtual-hosted or
 * path-style, dotted bucket names, custom endpoints) by presigning a probe key; each URL after
 * that is built by `sigv4-query.ts`. Credentials come from the SDK's provider, asked again every
 * second and whenever it could have refreshed them (`ready` below), so refreshed credentials are in
 * URLs within a second of the SDK having them; in between, URLs are signed without a turn of the event loop. POST policies are built here too
 * (`post-policy.ts`), with the same cached signing key; the SDK signer stays their oracle.
 */
export function createSigner(bucket: string, client: S3Client): Signer {
  // One cache of signing keys: the URLs and POST policies of a day share its key.
  const signingKeys = createSigningKeys()
  const presign = createQuerySigner(signingKeys)
  const signPost = createPostSigner(signingKeys)
  type Resolved = Endpoint & { post: PostTarget }
  let endpoint: Promise<Resolved> | undefined
  /** The endpoint once resolved (and the POST form's target): the hot path then awaits only the credentials. */
  let resolved: Resolved | undefined

  function resolveEndpoint(): Promise<Resolved> {
    endpoint ??= (async () => {
      // The only SDK presigning left on this path: once, to learn where the bucket's objects are.
      const probe = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'k' }), { expiresIn: 60 }))
      const where = {
        protocol: probe.protocol,
        host: probe.host,
        prefix: probe.pathname.slice(0, -1),
        region: await client.config.region(),
      }
      const done: Resolved = { ...where, post: { ...where, bucket } }
      resolved = done
      return done
    })().catch((error: unknown) => {
      endpoint = undefined // retry on the next call (e.g. credentials not available yet)
      throw error
    })
    return endpoint
  }

  // The credentials the SDK last gave, and until when we sign with them without asking again: at
  // most a second (an app may force the SDK to drop a revoked key: `credentials({ forceRefresh:
  // true })`), and never past 6 minutes before they expire (the SDK itself refreshes at 5:
  // @smithy/core's memoizeIdentityProvider).
  let known: Credentials | undefined
  let knownUntil = 0
  const REFRESH_MARGIN_MS = 6 * 60_000
  const ASK_AGAIN_MS = 1000

  /** Whether the bucket's endpoint and the current credentials are known without asking the SDK. */
  function ready(): boolean {
    return resolved !== undefined && known !== undefined && Date.now() < knownUntil
  }

  async function ask(): Promise<void> {
    const credentials: Credentials & { expiration?: Date } = await client.config.credentials()
    if (!resolved) await resolveEndpoint()
    known = credentials
    const soon = Date.now() + ASK_AGAIN_MS
    knownUntil = credentials.expiration ? Math.min(soon, credentials.expiration.getTime() - REFRESH_MARGIN_MS) : soon
  }

  /** `sign()` at once when the endpoint and credentials are known, else after asking the SDK. */
  function whenReady<T>(sign: () => T): MaybePromise<T> {
    return ready() ? sign() : ask().then(sign)
  }

  /** One operation as the query signer takes it, the key's path already encoded. */
  function requestOf(where: Endpoint, path: string, op: Operation, expiresIn: number, date: Date | undefined): QueryToSign {
    return {
      method: op.method,
      protocol: where.protocol,
      host: where.host,
      path,
      query: op.query,
      headers: op.headers,
      length: op.length,
      region: where.region,
      expiresIn,
      date,
    }
  }

  function signNow(op: Operation, expiresIn: number, date: Date | undefined, path = resolved!.prefix + encodeKey(op.key)): Signed {
    return { url: presign(requestOf(resolved!, path, op, expiresIn, date), known!), headers: op.headers }
  }

  /**
   * Whether a batch is parts of one upload without checksums, each with a length or none with one:
   * what `presign.each` signs (it varies only `partNumber` and the signed length).
   */
  function isOneUpload(inputs: PartToSign[]): boolean {
    const { key, uploadId, size } = inputs[0]!
    for (const input of inputs) {
      if (input.key !== key || input.uploadId !== uploadId || input.checksum || (input.size === undefined) !== (size === undefined))
        return false
    }
    return true
  }

  const sign = (op: Operation, expiresIn: number, date?: Date) => whenReady(() => signNow(op, expiresIn, date))

  return {
    postObject(input, expiresIn, signingDate) {
      return whenReady(() => {
        // As createPresignedPost: the clock corrected by the skew the SDK has seen (none: now).
        const offset = client.config.systemClockOffset
        const date = signingDate ?? (offset ? new Date(Date.now() + offset) : undefined)
        return signPost(input, expiresIn, date, resolved!.post, known!)
      })
    },
    putObject: (input, expiresIn, signingDate) => sign(putObject(input), expiresIn, signingDate),
    uploadPart: (input, expiresIn, signingDate) => sign(uploadPart(input), expiresIn, signingDate),

    uploadParts(inputs, expiresIn, signingDate) {
      return whenReady(() => {
        const date = signingDate ?? new Date()
        if (inputs.length === 0) return []
        const first = inputs[0]!
        // The parts of a batch share their key: encode it once.
        const path = resolved!.prefix + encodeKey(first.key)
        if (!isOneUpload(inputs)) {
          return inputs.map((input) => signNow(uploadPart(input), expiresIn, date, input.key === first.key ? path : undefined))
        }
        // One upload's parts, none with a checksum: they differ only in their number and length.
        const op = uploadPart(first)
        const request = requestOf(resolved!, path, op, expiresIn, date)
        const numbers = inputs.map((input) => String(input.partNumber))
        const lengths = first.size === undefined ? undefined : inputs.map((input) => input.size!)
        return presign.each(request, known!, 'partNumber', numbers, lengths).map((url) => ({ url, headers: op.headers }))
      })
    },

    getObject(input, expiresIn, signingDate) {
      return whenReady(() => signNow(getObject(input), expiresIn, signingDate).url)
    },

    async objectUrl(key) {
      const where = await resolveEndpoint()
      return `${where.protocol}//${where.host}${where.prefix}${encodeKey(key)}`
    },
  }
}
