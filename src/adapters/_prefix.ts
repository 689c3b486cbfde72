import { configError } from '../core/errors'

/** `'uploads/'` → `'/uploads'`; `''` and `'/'` → `''`. */
export function normalizePrefix(prefix: unknown): string {
  if (prefix === undefined) return ''
  if (typeof prefix !== 'string') throw configError("`prefix` must be a path such as `'/uploads'`.")
  const trimmed = prefix.replace(/\/+$/, '')
  return trimmed === '' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`
}

/** The path below `prefix`, or undefined when the path is outside it. */
export function stripPrefix(path: string, prefix: string): string | undefined {
  if (!prefix) return path
  if (path === prefix) return '/'
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined
}

/** The option of the adapters that have no mount path of their own (Koa, fetch). */
export interface PrefixOption {
  /**
   * The path the routes are served under.
   * @default ''
   * @example '/uploads'
   */
  prefix?: string
}

/** A request target (`/create?x=1`) as path and query, the path exactly as sent. */
export function splitUrl(url: string): { path: string; query: URLSearchParams } {
  const q = url.indexOf('?')
  return q < 0 ? { path: url, query: NO_QUERY } : { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) }
}

/** The query of every URL without one: the routes only read queries, so one empty one serves all. */
const NO_QUERY = new URLSearchParams()
