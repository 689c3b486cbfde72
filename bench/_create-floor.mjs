// The work a `create` cannot do without (issue 14): one SigV4 signature (SHA-256 of the canonical
// request, HMAC with the day's signing key), one token HMAC, one AES-256-GCM object tag and one
// random id, on inputs of the sizes `create` really handles. No validation, no key sanitizing, no
// JSON shaping: the yardstick `create` is held to (at most 2× this).
import * as crypto from 'node:crypto'
import { createCipheriv, createHmac, randomFillSync, randomUUID } from 'node:crypto'

/**
 * SHA-256 as src/core/sha256.ts hashes: in one call (`crypto.hash`, Node ≥ 20.12), which skips
 * building a Hash object. A floor must do its work the cheapest way the code does.
 */
export const sha256Hex = crypto.hash
  ? (data) => crypto.hash('sha256', data, 'hex')
  : (data) => crypto.createHash('sha256').update(data).digest('hex')

// A PUT of create's shape: content-length, content-type, host, if-none-match and the two
// metadata headers (file name and 64-character tag), as sigv4-query.ts canonicalizes them.
const CANONICAL_TAIL =
  'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=AKIABENCHBENCHBENCH0%2F20261128%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261128T202800Z&X-Amz-Expires=600&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bif-none-match%3Bx-amz-meta-presign-filename%3Bx-amz-meta-presign-nonce&x-id=PutObject\n' +
  `content-length:1234\ncontent-type:image/png\nhost:127.0.0.1:7480\nif-none-match:*\nx-amz-meta-presign-filename:photo.png\nx-amz-meta-presign-nonce:${'t'.repeat(64)}\n\n` +
  'content-length;content-type;host;if-none-match;x-amz-meta-presign-filename;x-amz-meta-presign-nonce\nUNSIGNED-PAYLOAD'

/** A sealed token's payload as long as create's (about 330 characters of base64url). */
const TOKEN_PAYLOAD = `v2.${'e'.repeat(330)}`

export function createFloor() {
  const signingKey = createHmac('sha256', 'k').update('x').digest()
  const tokenKey = createHmac('sha256', 'bench-secret-0123456789').update('token').digest()
  const tagKey = createHmac('sha256', 'bench-secret-0123456789').update('tag').digest()
  const ivs = Buffer.alloc(4092)
  let ivAt = ivs.length
  const plain = Buffer.alloc(16 + 8 + 6) // binding, size limit, identity id

  const steps = {
    'random id (randomUUID)': () => randomUUID(),
    'AES-256-GCM tag (IV, encrypt 30 bytes, auth tag)': () => {
      if (ivAt + 12 > ivs.length) {
        randomFillSync(ivs)
        ivAt = 0
      }
      const iv = ivs.subarray(ivAt, (ivAt += 12))
      const cipher = createCipheriv('aes-256-gcm', tagKey, iv)
      return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString('base64url')
    },
    'token HMAC (330-character payload)': () => createHmac('sha256', tokenKey).update(TOKEN_PAYLOAD).digest('base64url'),
    'signature (SHA-256 + HMAC)': (i) => {
      const hash = sha256Hex(`PUT\n/bench/${i}/photo.png\n${CANONICAL_TAIL}`)
      return createHmac('sha256', signingKey)
        .update(`AWS4-HMAC-SHA256\n20261128T000000Z\n20261128/us-east-1/s3/aws4_request\n${hash}`)
        .digest('hex')
    },
  }
  const [id, tag, token, signature] = Object.values(steps)
  return {
    steps,
    // Each step by name, for the benches that do part of the floor's work (servers/server.mjs).
    id,
    tag,
    token,
    signature,
    /** The whole floor once. */
    run(i) {
      id()
      tag()
      token()
      signature(i)
    },
  }
}
