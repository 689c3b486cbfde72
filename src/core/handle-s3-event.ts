import type { Presigner, S3EventOutcome } from './presigner'

/**
 * Completes uploads from an S3 Event Notification (direct, SNS, SQS or EventBridge shapes):
 * `presigner.handleS3Event(event)` as a function, for handlers that get the presigner passed in.
 *
 * @example
 * export const handler = (event) => handleS3Event(presigner, event)   // AWS Lambda on SQS
 */
export function handleS3Event<Result>(presigner: Presigner<any, Result>, event: unknown): Promise<S3EventOutcome<Result>[]> {
  return presigner.handleS3Event(event)
}
