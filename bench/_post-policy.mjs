// Contenders of bench/sign.mjs for POST Object policies (Uppy's /s3/params): ours (signer.postObject,
// i.e. post-policy.ts with the endpoint resolved once and the credentials per call) vs the SDK's
// createPresignedPost on a reused client, and one part URL through createSigner().uploadPart, the
// yardstick of the target. The signing modules are internal: bundled from source into bench/.build/
// with the SDK left external, so they share the one copy in node_modules.
import { S3Client } from '@aws-sdk/client-s3'
import { bundleCore } from './_bundle.mjs'

const loadSigning = () =>
  bundleCore('signing', [
    "export { createSigner } from './signing/signer'",
    "export { createSdkSigner } from './signing/sdk-signer'",
    "export { createPostSigner } from './signing/post-policy'",
  ])

export const POST_POLICY = 'ours: POST policy (Uppy /s3/params)'
export const POST_POLICY_SDK = 'createPresignedPost, reused client'
export const PART_URL = 'ours: one part URL (signer.uploadPart)'

export async function postPolicyContenders(config, bucket = 'bench') {
  const { createSigner, createSdkSigner } = await loadSigning()
  const client = new S3Client(config)
  const signer = createSigner(bucket, client)
  const sdk = createSdkSigner(bucket, client)
  // What /s3/params signs: a fresh key, the type, the size cap and the object tag (64 characters).
  const tag = 't'.repeat(64)
  const post = (i) => ({ key: `${i}/photo.png`, contentType: 'image/png', maxSize: 5 * 1024 ** 3, metadata: { 'presign-nonce': tag } })

  return {
    contenders: {
      // The path /s3/params takes: signer.postObject (post-policy.ts with the signer's cached endpoint
      // and key), then one part URL, the target's yardstick, back to back with it.
      [POST_POLICY]: async (n) => {
        for (let i = 0; i < n; i++) await signer.postObject(post(i), 600)
      },
      [PART_URL]: async (n) => {
        for (let i = 0; i < n; i++) {
          await signer.uploadPart(
            { key: `${i}/photo.png`, uploadId: 'bench-upload-1', partNumber: 1 + (i % 10_000), size: 5 * 1024 ** 2 },
            600,
          )
        }
      },
      [POST_POLICY_SDK]: async (n) => {
        for (let i = 0; i < n; i++) await sdk.postObject(post(i), 600)
      },
    },
    close: () => client.destroy(),
  }
}
