import { GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand, type S3ClientConfig } from '@aws-sdk/client-s3'
import { createPresignedPost } from '@aws-sdk/s3-presigned-post'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'

export interface PutToSign {
  key: string
  contentType: string
  size: number
  /** sign `If-None-Match: *`: S3 refuses to replace an existing object */
  ifNoneMatch: boolean
  /** user metadata, without the `x-amz-meta-` prefix; sent as signed headers */
  metadata: Record<string, string>
  /** base64 SHA-256, sent as the signed `x-amz-checksum-sha256` header */
  checksum?: string
}

export interface PartToSign {
  key: string
  uploadId: string
  partNumber: number
  /** the exact part length to sign; unsigned when the client never declared the file size (Uppy) */
  size?: number
  checksum?: string
}

/** A presigned request: the URL and the headers the client must send with it. */
export interface Signed {
  url: string
  /** Signed headers to send. `content-length` is signed too but left out: HTTP clients set it. */
  headers: Record<string, string>
}

export interface PostToSign {
  key: string
  contentType: string
  /** the largest body S3 accepts (`content-length-range`) */
  maxSize: number
  metadata: Record<string, string>
}

export interface Signer {
  /** A POST Object policy (browser form upload): `url` ends in `/`, `fields` go before the file. */
  postObject(input: PostToSign, expiresIn: number): Promise<{ url: string; fields: Record<string, string> }>
  putObject(input: PutToSign, expiresIn: number, signingDate?: Date): Promise<Signed>
  uploadPart(input: PartToSign, expiresIn: number, signingDate?: Date): Promise<Signed>
  /** Many parts at once (a sign-parts batch): resolves endpoint and credentials once. */
  uploadParts(inputs: PartToSign[], expiresIn: number, signingDate?: Date): Promise<Signed[]>
  getObject(key: string, expiresIn: number, signingDate?: Date): Promise<string>
}

/**
 * Presigns through `getSignedUrl`. Every header we send is signed and kept a header (not
 * hoisted into the query), so S3 refuses a request whose length, type or condition differs.
 */
export function createSdkSigner(bucket: string, config: S3ClientConfig, client = new S3Client(config)): Signer {

  return {
    async postObject(input, expiresIn) {
      const fields: Record<string, string> = { 'Content-Type': input.contentType }
      for (const [name, value] of Object.entries(input.metadata)) fields[`x-amz-meta-${name}`] = value
      const { url, fields: signed } = await createPresignedPost(client, {
        Bucket: bucket,
        Key: input.key,
        Expires: expiresIn,
        // createPresignedPost puts every field (and the key) into the policy as an exact match.
        Fields: fields,
        Conditions: [['content-length-range', 0, input.maxSize]],
      })
      return { url: url.endsWith('/') ? url : `${url}/`, fields: signed }
    },

    async putObject(input, expiresIn, signingDate) {
      const headers: Record<string, string> = { 'content-type': input.contentType }
      if (input.ifNoneMatch) headers['if-none-match'] = '*'
      for (const [name, value] of Object.entries(input.metadata)) headers[`x-amz-meta-${name}`] = value
      if (input.checksum) headers['x-amz-checksum-sha256'] = input.checksum
      const command = new PutObjectCommand({
        Bucket: bucket,
        Key: input.key,
        ContentType: input.contentType,
        ContentLength: input.size,
        ...(input.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
        Metadata: input.metadata,
        ...(input.checksum ? { ChecksumSHA256: input.checksum } : {}),
      })
      const url = await getSignedUrl(client, command, {
        expiresIn,
        ...(signingDate ? { signingDate } : {}),
        signableHeaders: new Set(['content-length', ...Object.keys(headers)]),
        unhoistableHeaders: new Set(Object.keys(headers).filter((h) => h.startsWith('x-amz-'))),
      })
      return { url, headers }
    },

    async uploadPart(input, expiresIn, signingDate) {
      const headers: Record<string, string> = {}
      if (input.checksum) headers['x-amz-checksum-sha256'] = input.checksum
      const command = new UploadPartCommand({
        Bucket: bucket,
        Key: input.key,
        UploadId: input.uploadId,
        PartNumber: input.partNumber,
        ...(input.size === undefined ? {} : { ContentLength: input.size }),
        ...(input.checksum ? { ChecksumSHA256: input.checksum } : {}),
      })
      const url = await getSignedUrl(client, command, {
        expiresIn,
        ...(signingDate ? { signingDate } : {}),
        signableHeaders: new Set([...(input.size === undefined ? [] : ['content-length']), ...Object.keys(headers)]),
        unhoistableHeaders: new Set(Object.keys(headers)),
      })
      return { url, headers }
    },

    uploadParts(inputs, expiresIn, signingDate) {
      return Promise.all(inputs.map((input) => this.uploadPart(input, expiresIn, signingDate)))
    },

    getObject(key, expiresIn, signingDate) {
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn,
        ...(signingDate ? { signingDate } : {}),
      })
    },
  }
}
