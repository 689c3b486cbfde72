/** `2026-11-28T12:00:00Z`: ISO 8601 without milliseconds (cut, not rounded), as the SDK writes dates. */
function iso8601(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/**
 * A time (ms) as the SDK writes it, remembered for its second: most URLs and policies of a busy
 * second share their signing date and their expiry (formatting costs as much as a hash).
 */
export function secondCache(format: (iso: string) => string = (iso) => iso) {
  let second = Number.NaN
  let text = ''
  return (time: number): string => {
    // Date keeps whole milliseconds, truncated toward zero: the same second as the text.
    const s = Math.floor(Math.trunc(time) / 1000)
    if (s !== second) {
      text = format(iso8601(new Date(time)))
      second = s
    }
    return text
  }
}

/** SigV4's `X-Amz-Date`: `20261128T120000Z`. */
export const amzDate = secondCache((iso) => iso.replace(/[-:]/g, ''))
