import { NONCE_METADATA } from './_input'
import { deleteObject, headObject } from './complete'
import type { Context } from './context'
import type { Identity } from './options'
import { keyProblem } from './keys'

/**
 * S3 Event Notifications, as delivered directly (Lambda), through SNS, through SQS (raw or with
 * an SNS envelope) or through EventBridge: every shape reduced to the objects it says were created.
 */

export interface CreatedObject {
  bucket: string
  key: string
}

/** Keys in S3 notifications are URL-encoded with `+` for spaces; EventBridge's are not encoded. */
function decodeKey(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

type Loose = Record<string, any>

export function createdObjects(event: unknown, depth = 0): CreatedObject[] {
  if (depth > 4) return []
  if (typeof event === 'string') return createdObjects(parse(event), depth + 1)
  if (typeof event !== 'object' || event === null) return []
  const e = event as Loose

  if (Array.isArray(e.Records)) {
    return e.Records.flatMap((record: Loose): CreatedObject[] => {
      if (typeof record !== 'object' || record === null) return []
      if (record.s3 && typeof record.eventName === 'string') {
        const bucket = record.s3.bucket?.name
        const key = typeof record.s3.object?.key === 'string' ? decodeKey(record.s3.object.key) : undefined
        return record.eventName.startsWith('ObjectCreated:') && typeof bucket === 'string' && key ? [{ bucket, key }] : []
      }
      if (record.Sns && typeof record.Sns.Message === 'string') return createdObjects(record.Sns.Message, depth + 1)
      if (typeof record.body === 'string') return createdObjects(record.body, depth + 1) // SQS
      return []
    })
  }
  // SNS notification (an SQS message body when raw delivery is off)
  if (e.Type === 'Notification' && typeof e.Message === 'string') return createdObjects(e.Message, depth + 1)
  // EventBridge
  if (e.source === 'aws.s3' && e['detail-type'] === 'Object Created' && typeof e.detail === 'object' && e.detail) {
    const bucket = e.detail.bucket?.name
    const key = e.detail.object?.key
    return typeof bucket === 'string' && typeof key === 'string' && key ? [{ bucket, key }] : []
  }
  return []
}

export interface S3EventOutcome<Result = unknown> {
  key: string
  /** `completed`: onComplete ran; `ignored`: not uploaded through us, or gone; `rejected`: broke a rule, removed */
  status: 'completed' | 'ignored' | 'rejected'
  result?: Result
  reason?: string
}

/**
 * Completion for clients that vanished before calling `complete`. An object counts as ours only
 * if its sealed tag opens; its size and type were enforced by S3 through the signed URL, and
 * are checked again against the options here.
 */
export async function handleS3Event<Req, Result>(ctx: Context<Req, any, Result>, event: unknown): Promise<S3EventOutcome<Result>[]> {
  const outcomes: S3EventOutcome<Result>[] = []
  for (const { bucket, key } of createdObjects(event)) {
    if (bucket === ctx.o.bucket) outcomes.push(await completeFromEvent(ctx, key))
  }
  return outcomes
}

async function completeFromEvent<Req, Result>(ctx: Context<Req, any, Result>, key: string): Promise<S3EventOutcome<Result>> {
  const { o } = ctx
  const head = await headObject(ctx, key)
  if (!head) return { key, status: 'ignored', reason: 'The object no longer exists.' }
  const tag = ctx.tags.open(head.Metadata?.[NONCE_METADATA])
  if (!tag) return { key, status: 'ignored', reason: 'The object was not uploaded through s3-presign-middleware.' }
  const size = head.ContentLength ?? 0
  const contentType = head.ContentType ?? ''
  const problem = keyProblem(key) ?? (size > o.maxFileSize ? 'It is over maxFileSize.' : !ctx.typeAllowed(contentType) ? 'Its type is not allowed.' : undefined)
  if (problem) {
    await deleteObject(ctx, key)
    return { key, status: 'rejected', reason: `${problem} It was removed.` }
  }
  const { [NONCE_METADATA]: _tag, ...metadata } = head.Metadata ?? {}
  const result = o.onComplete
    ? await o.onComplete({
        request: undefined as Req,
        identity: tag.i === null ? true : { id: tag.i },
        key,
        size,
        contentType,
        etag: head.ETag ?? '',
        metadata,
        source: 'event',
      })
    : undefined
  return { key, status: 'completed', result: (result ?? null) as Result }
}
