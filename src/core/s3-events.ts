import { isPresignError } from './errors'
import { judgeObject, notifyAbort, runOnComplete } from './finish'
import { keyProblem } from './keys'
import { SETTING_HEADERS, judgeSettings, settingsFor, taggingOf } from './object-settings'
import type { Core } from './presigner'
import { OBJECT_TAG_METADATA, filenameOf, withoutTag } from './token'

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

/** The objects an S3 event notification says were created, from any of its envelopes. */
export function parseS3Event(event: unknown, depth = 0): CreatedObject[] {
  if (depth > 4) return []
  if (typeof event === 'string') return parseS3Event(parse(event), depth + 1)
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
      if (record.Sns && typeof record.Sns.Message === 'string') return parseS3Event(record.Sns.Message, depth + 1)
      if (typeof record.body === 'string') return parseS3Event(record.body, depth + 1) // SQS
      return []
    })
  }
  // SNS notification (an SQS message body when raw delivery is off)
  if (e.Type === 'Notification' && typeof e.Message === 'string') return parseS3Event(e.Message, depth + 1)
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
 * if its sealed tag opens for its bucket, its key and the rules of one of the presigner's routes;
 * its size and type were enforced by S3 through the signed URL, and are judged again here.
 */
export async function completeFromS3Event<Req, Result>(
  cores: readonly Core<Req, any, Result>[],
  event: unknown,
): Promise<S3EventOutcome<Result>[]> {
  const outcomes: S3EventOutcome<Result>[] = []
  for (const { bucket, key } of parseS3Event(event)) {
    // Routes whose bucket could be this one: a fixed bucket must match; a bucket rule (a function) may be any.
    const candidates = cores.filter(({ config }) => typeof config.rules.bucket === 'function' || config.rules.bucket === bucket)
    if (candidates.length > 0) outcomes.push(await completeObject(candidates, bucket, key))
  }
  return outcomes
}

async function completeObject<Req, Result>(
  cores: readonly Core<Req, any, Result>[],
  bucket: string,
  key: string,
): Promise<S3EventOutcome<Result>> {
  // Any route's client can look: they differ only in what the tag must open under.
  const object = await cores[0]!.at(bucket).storage.head(key)
  if (!object) return { key, status: 'ignored', reason: 'The object no longer exists.' }
  // A tag opens only for the bucket, key and rules it was sealed for: a copy elsewhere, or an
  // object of a presigner with other rules, is not ours to complete, and never ours to delete.
  const tag = object.metadata[OBJECT_TAG_METADATA]
  for (const core of cores) {
    const content = core.tags.open(tag, { scope: core.config.scope, bucket, key })
    if (!content) continue
    const { staticRules, pendingTag } = core.config
    const contentType = object.contentType ?? ''
    // The settings were signed into the upload; with static rules they are checked again here
    // (`judgeSettings` leaves tags alone: a `complete` may have cleared the pending one since).
    const file = { filename: filenameOf(object.metadata) ?? key, contentType, size: object.size, metadata: withoutTag(object.metadata) }
    const settings = staticRules ? settingsFor(core.config, staticRules.object, file) : undefined
    const badKey = keyProblem(key)
    const problem =
      (badKey ? `Its key ${badKey}.` : undefined) ??
      judgeObject(object, {
        maxFileSize: content.maxFileSize,
        // Types were signed into the upload; with static rules they are checked again here.
        contentType: staticRules ? staticRules.typeAllowed : () => true,
      }) ??
      judgeSettings(object, settings)
    const { storage } = core.at(bucket)
    const identity = content.identityId === null ? (true as const) : { id: content.identityId }
    const from = { source: 'event' as const, request: undefined, identity }
    // Clearing the pending tag keeps the object's other tags: read them (the rules may be functions).
    const tagging = pendingTag ? { [SETTING_HEADERS.tags]: taggingOf(await storage.getTags(key)) } : undefined
    const upload = { bucket, key, contentType, ...(tagging ? { settings: tagging } : {}) }
    if (problem) {
      await storage.delete(key)
      await notifyAbort(core, upload, 'refused', from)
      return { key, status: 'rejected', reason: `${problem} It was removed.` }
    }
    try {
      const result = await runOnComplete(core, upload, object, from)
      return { key, status: 'completed', result }
    } catch (error) {
      // onComplete refused it (and it was removed); a crash goes on to the caller.
      if (isPresignError(error)) return { key, status: 'rejected', reason: `${error.message} It was removed.` }
      throw error
    }
  }
  return { key, status: 'ignored', reason: 'The object was not uploaded through s3-presign-middleware under these rules at this key.' }
}
