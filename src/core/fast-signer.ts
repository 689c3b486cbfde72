import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { encodeKey, createQuerySigner } from './query-signer'
import { type Signed, type Signer, createSdkSigner } from './sign'

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

  async function sign(method: string, key: string, query: Record<string, string>, headers: Record<string, string>, expiresIn: number, date?: Date) {
    const [t, credentials] = await Promise.all([resolveTarget(), client.config.credentials()])
    // The S3 presigner states the unsigned payload in the query, as getSignedUrl does.
    return presign(
      { method, protocol: t.protocol, host: t.host, path: t.prefix + encodeKey(key), query: { ...query, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' }, headers, region: t.region, expiresIn, date: date ?? new Date() },
      credentials,
    )
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
      const headers: Record<string, string> = {}
      if (input.checksum) headers['x-amz-checksum-sha256'] = input.checksum
      const signed = input.size === undefined ? headers : { ...headers, 'content-length': String(input.size) }
      const query = { partNumber: String(input.partNumber), uploadId: input.uploadId, 'x-id': 'UploadPart' }
      return { url: await sign('PUT', input.key, query, signed, expiresIn, signingDate), headers }
    },

    getObject(key, expiresIn, signingDate) {
      return sign('GET', key, { 'x-id': 'GetObject' }, {}, expiresIn, signingDate)
    },
  }
}
