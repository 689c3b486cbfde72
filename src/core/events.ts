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
