import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { encodeKey, createQuerySigner } from './query-signer'
import { type PartToSign, type Signed, type Signer, createSdkSigner } from './sign'

interface Target {
  protocol: string
  host: string
  /** path up to the key: `/bucket/` (path-style) or `/` (virtual-hosted) */
  prefix: string
  region: string
}

/**
 * The `Signer` on the hot path. The SDK resolves the endpoint once (virtual-hosted or
 * path-style, dotted bucket names, custom endpoints) by presigning a probe key; each URL after
 * that is built by `query-signer.ts`. Credentials come from the SDK's provider on every call,
 * so refreshed credentials are used as soon as the SDK has them. POST policies stay with the SDK.
 */
export function createFastSigner(bucket: string, config: S3ClientConfig): Signer {
  const client = new S3Client(config)
  const sdk = createSdkSigner(bucket, config, client)
  const presign = createQuerySigner()
  let target: Promise<Target> | undefined

  function resolveTarget(): Promise<Target> {
    target ??= (async () => {
      const probe = new URL(await sdk.getObject('k', 60))
      return { protocol: probe.protocol, host: probe.host, prefix: probe.pathname.slice(0, -1), region: await client.config.region() }
    })().catch((error: unknown) => {
      target = undefined // retry on the next call (e.g. credentials not available yet)
      throw error
    })
    return target
  }

  /** Endpoint and current credentials, then a synchronous signing function using them. */
  async function signing() {
    const [t, credentials] = await Promise.all([resolveTarget(), client.config.credentials()])
    let lastKey: string | undefined
    let lastPath = ''
    return (method: string, key: string, query: Record<string, string>, headers: Record<string, string>, expiresIn: number, date: Date) => {
      // The parts of a batch share their key: encode it once.
      if (key !== lastKey) {
        lastKey = key
        lastPath = t.prefix + encodeKey(key)
      }
      // The S3 presigner states the unsigned payload in the query, as getSignedUrl does.
      return presign(
        { method, protocol: t.protocol, host: t.host, path: lastPath, query: { ...query, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' }, headers, region: t.region, expiresIn, date },
        credentials,
      )
    }
  }

  async function sign(method: string, key: string, query: Record<string, string>, headers: Record<string, string>, expiresIn: number, date?: Date) {
    return (await signing())(method, key, query, headers, expiresIn, date ?? new Date())
  }

  function part(input: PartToSign) {
    const headers: Record<string, string> = {}
    if (input.checksum) headers['x-amz-checksum-sha256'] = input.checksum
    const signed = input.size === undefined ? headers : { ...headers, 'content-length': String(input.size) }
    const query = { partNumber: String(input.partNumber), uploadId: input.uploadId, 'x-id': 'UploadPart' }
    return { headers, signed, query }
  }

  return {
    postObject: sdk.postObject,

    async putObject(input, expiresIn, signingDate): Promise<Signed> {
      const headers: Record<string, string> = { 'content-type': input.contentType }
      if (input.ifNoneMatch) headers['if-none-match'] = '*'
      for (const [name, value] of Object.entries(input.metadata)) headers[`x-amz-meta-${name}`] = value
      if (input.checksum) headers['x-amz-checksum-sha256'] = input.checksum
      const url = await sign('PUT', input.key, { 'x-id': 'PutObject' }, { ...headers, 'content-length': String(input.size) }, expiresIn, signingDate)
      return { url, headers }
    },

    async uploadPart(input, expiresIn, signingDate): Promise<Signed> {
      const { headers, signed, query } = part(input)
      return { url: await sign('PUT', input.key, query, signed, expiresIn, signingDate), headers }
    },

    async uploadParts(inputs, expiresIn, signingDate): Promise<Signed[]> {
      const sign = await signing()
      const date = signingDate ?? new Date()
      return inputs.map((input) => {
        const { headers, signed, query } = part(input)
        return { url: sign('PUT', input.key, query, signed, expiresIn, date), headers }
      })
    },

    getObject(key, expiresIn, signingDate) {
      return sign('GET', key, { 'x-id': 'GetObject' }, {}, expiresIn, signingDate)
    },
  }
}
