// Completing uploads whose browser went away before calling /complete: an AWS Lambda that an SQS
// queue triggers, the queue receiving the bucket's ObjectCreated notifications (directly, or
// through SNS or EventBridge: handleS3Event reads every envelope).
//
//   aws s3api put-bucket-notification-configuration --bucket my-uploads --notification-configuration \
//     '{"QueueConfigurations":[{"QueueArn":"arn:aws:sqs:...:uploads","Events":["s3:ObjectCreated:*"]}]}'
//
// Give it the same `secret`, bucket and onComplete as the app: the object's sealed tag proves it
// was uploaded through the app and says who uploaded it.
import { createPresigner, handleS3Event } from 's3-presign-middleware'

export function createHandler(options) {
  const presigner = createPresigner({
    // No HTTP request here: nothing to authorize, the event comes from S3 itself.
    authorize: () => false,
    ...options,
  })
  return async function handler(event) {
    const outcomes = await handleS3Event(presigner, event)
    for (const o of outcomes) console.log(`[uploads] ${o.key}: ${o.status}${o.reason ? ` (${o.reason})` : ''}`)
    return outcomes
  }
}

export const handler = process.env.AWS_LAMBDA_FUNCTION_NAME
  ? createHandler({
      bucket: process.env.S3_BUCKET,
      secret: process.env.PRESIGN_SECRET,
      // The same hook as the app's: keep it idempotent, it also sees uploads that did call /complete.
      onComplete: async ({ key, size, contentType, identity }) => {
        console.log('record upload', { key, size, contentType, owner: identity === true ? null : identity.id })
      },
    })
  : undefined
