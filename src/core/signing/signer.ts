import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
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
import { type Credentials, createQuerySigner, createSigningKeys, encodeKey } from './sigv4-query'

export type { GetToSign, PartToSign, PostToSign, PutToSign } from './operations'

/** A presigned request: the URL and the headers the client must send with it. */
export interface Signed {
  url: string
  /** Signed headers to send. `content-length` is signed too but left out: HTTP clients set it. */
  headers: Record<string, string>
}

export interface Signer {
  /** A POST Object policy (browser form upload): `url` ends in `/`, `fields` go before the file. */
  postObject(input: PostToSign, expiresIn: number, signingDate?: Date): Promise<{ url: string; fields: Record<string, string> }>
  putObject(input: PutToSign, expiresIn: number, signingDate?: Date): Promise<Signed>
  uploadPart(input: PartToSign, expiresIn: number, signingDate?: Date): Promise<Signed>
  /** Many parts at once (a sign-parts batch): resolves endpoint and credentials once. */
  uploadParts(inputs: PartToSign[], expiresIn: number, signingDate?: Date): Promise<Signed[]>
  getObject(input: GetToSign, expiresIn: number, signingDate?: Date): Promise<string>
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
 * that is built by `sigv4-query.ts`. Credentials come from the SDK's provider on every call,
 * so refreshed credentials are used as soon as the SDK has them. POST policies are built here too
 * (`post-policy.ts`), with the same cached signing key; the SDK signer stays their oracle.
 */
export function createSigner(bucket: string, client: S3Client): Signer {
  // One cache of signing keys: the URLs and POST policies of a day share its key.
  const signingKeys = createSigningKeys()
  const presign = createQuerySigner(signingKeys)
  const signPost = createPostSigner(signingKeys)
  let endpoint: Promise<Endpoint> | undefined
  /** The endpoint once resolved: the hot path then awaits only the credentials. */
  let resolved: Endpoint | undefined
  let postTarget: PostTarget | undefined

  function resolveEndpoint(): Promise<Endpoint> {
    endpoint ??= (async () => {
      // The only SDK presigning left on this path: once, to learn where the bucket's objects are.
      const probe = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'k' }), { expiresIn: 60 }))
      resolved = { protocol: probe.protocol, host: probe.host, prefix: probe.pathname.slice(0, -1), region: await client.config.region() }
      return resolved
    })().catch((error: unknown) => {
      endpoint = undefined // retry on the next call (e.g. credentials not available yet)
      throw error
    })
    return endpoint
  }

  /** Endpoint and current credentials, then a synchronous signing function using them. */
  async function signing() {
    const [where, credentials]: [Endpoint, Credentials] = await Promise.all([resolveEndpoint(), client.config.credentials()])
    let lastKey: string | undefined
    let lastPath = ''
    return (op: Operation, expiresIn: number, date: Date): Signed => {
      // The parts of a batch share their key: encode it once.
      if (op.key !== lastKey) {
        lastKey = op.key
        lastPath = where.prefix + encodeKey(op.key)
      }
      const url = presign(
        {
          method: op.method,
          protocol: where.protocol,
          host: where.host,
          path: lastPath,
          query: op.query,
          headers: op.headers,
          length: op.length,
          region: where.region,
          expiresIn,
          date,
        },
        credentials,
      )
      return { url, headers: op.headers }
    }
  }

  /** One URL: no per-call closure, and one await (the credentials) once the endpoint is known. */
  async function sign(op: Operation, expiresIn: number, date?: Date): Promise<Signed> {
    const credentials: Credentials = await client.config.credentials()
    const where = resolved ?? (await resolveEndpoint())
    const url = presign(
      {
        method: op.method,
        protocol: where.protocol,
        host: where.host,
        path: where.prefix + encodeKey(op.key),
        query: op.query,
        headers: op.headers,
        length: op.length,
        region: where.region,
        expiresIn,
        date: date ?? new Date(),
      },
      credentials,
    )
    return { url, headers: op.headers }
  }

  return {
    async postObject(input, expiresIn, signingDate) {
      const credentials: Credentials = await client.config.credentials()
      const where = resolved ?? (await resolveEndpoint())
      postTarget ??= { ...where, bucket }
      // As createPresignedPost: the clock corrected by the skew the SDK has seen.
      const date = signingDate ?? new Date(Date.now() + client.config.systemClockOffset)
      return signPost(input, expiresIn, date, postTarget, credentials)
    },
    putObject: (input, expiresIn, signingDate) => sign(putObject(input), expiresIn, signingDate),
    uploadPart: (input, expiresIn, signingDate) => sign(uploadPart(input), expiresIn, signingDate),

    async uploadParts(inputs, expiresIn, signingDate) {
      const signOne = await signing()
      const date = signingDate ?? new Date()
      return inputs.map((input) => signOne(uploadPart(input), expiresIn, date))
    },

    async getObject(input, expiresIn, signingDate) {
      return (await sign(getObject(input), expiresIn, signingDate)).url
    },

    async objectUrl(key) {
      const where = await resolveEndpoint()
      return `${where.protocol}//${where.host}${where.prefix}${encodeKey(key)}`
    },
  }
}
