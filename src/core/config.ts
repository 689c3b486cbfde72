import { createHash } from 'node:crypto'
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'
import { configError } from './errors'
import { MAX_KEY_BYTES, contentTypeMatcher } from './keys'
import { MAX_EXPIRES_IN, MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_SINGLE_SIZE, MIN_PART_SIZE, MiB } from './limits'
import { type ObjectSettings, objectHeaders, validateObjectSettings } from './object-settings'
import type { ErrorEvent, Identity, PresignOptions, Rule, RuleContext } from './options'

/** The rules in force for one upload: what its token seals, and what every later step applies. */
export interface Rules {
  bucket: string
  keyPrefix: string
  maxFileSize: number
  /** `allowedContentTypes` compiled */
  typeAllowed: (contentType: string) => boolean
  overwrite: boolean
  expiresIn: number
  /** what uploads are stored with (encryption, caching, tags...) */
  object: ObjectSettings | undefined
}

type RuleName = 'bucket' | 'keyPrefix' | 'maxFileSize' | 'allowedContentTypes' | 'overwrite' | 'expiresIn' | 'object'
const RULE_NAMES: readonly RuleName[] = ['bucket', 'keyPrefix', 'maxFileSize', 'allowedContentTypes', 'overwrite', 'expiresIn', 'object']

/**
 * The options after validation (named `config`, as express-rate-limit does): every default
 * applied, every check done once at start-up, nothing left to check per request but the rules
 * given as functions. Field by field as in `PresignOptions`.
 */
export interface Config<Req, Id extends Identity | true, Result> {
  /** the route's name (with `routes`) */
  route: string | undefined
  region: string | undefined
  s3: S3Client | S3ClientConfig
  authorize: PresignOptions<Req, Id, Result>['authorize']
  keyFor: PresignOptions<Req, Id, Result>['keyFor']
  onComplete: PresignOptions<Req, Id, Result>['onComplete']
  multipartThreshold: number
  partSize: number | undefined
  timeout: number
  tokenExpiresIn: number
  uploadCredentials: PresignOptions<Req, Id, Result>['uploadCredentials']
  onError: NonNullable<PresignOptions<Req, Id, Result>['onError']>
  onAbort: PresignOptions<Req, Id, Result>['onAbort']
  /** tag uploads `presign-pending=1` until a `complete` verifies them */
  pendingTag: boolean
  /** the rules, resolved once when none is a function */
  staticRules: Rules | undefined
  /**
   * With static rules and no `contentDisposition` function: the object settings' headers every
   * upload is signed with (`headers` undefined: none), built once instead of per upload.
   */
  staticSettings: { headers: Record<string, string> | undefined } | undefined
  /** each rule as given: a value (validated) or a function (its results validated per request) */
  rules: { [K in RuleName]: Rule<unknown, Req, Id> }
  /**
   * Who issued a token or tag: a short hash of the route's name and rules (a function counts by
   * its source), sealed into every token and object tag. Another mount or route sharing the
   * `secret` but not these rules refuses them (SPEC §5.9); the same options give the same scope,
   * so every instance, and an S3-event handler built with the same options, accepts them.
   */
  scope: string
}

/** The validators of the rules: a value that breaks one is a configuration mistake (start-up, or a rule function's result). */
const VALIDATE: { [K in RuleName]: (value: unknown) => unknown } = {
  bucket(value) {
    if (typeof value !== 'string' || value.length === 0) {
      throw configError('`bucket` is required: the name of the bucket that receives uploads, e.g. `bucket: process.env.S3_BUCKET`.')
    }
    return value
  },
  keyPrefix(value = '') {
    if (
      typeof value !== 'string' ||
      value.startsWith('/') ||
      value.split('/').includes('..') ||
      Buffer.byteLength(value) > MAX_KEY_BYTES / 2
    ) {
      throw configError("`keyPrefix` must be a relative key prefix such as `'uploads/'` (no leading `/`, no `..`).")
    }
    return value && !value.endsWith('/') ? `${value}/` : value
  },
  maxFileSize(value = MAX_OBJECT_SIZE) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_OBJECT_SIZE) {
      throw configError(
        `\`maxFileSize\` must be a whole number of bytes up to S3's object limit (${MAX_OBJECT_SIZE}); got ${String(value)}.`,
      )
    }
    return value
  },
  allowedContentTypes(value) {
    if (value !== undefined && (!Array.isArray(value) || value.some((t) => typeof t !== 'string' || (!t.includes('/') && t !== '*')))) {
      throw configError("`allowedContentTypes` must be a list of media types such as `['image/*', 'application/pdf']`.")
    }
    return value
  },
  overwrite(value = false) {
    if (typeof value !== 'boolean') throw configError(`\`overwrite\` must be true or false; got ${String(value)}.`)
    return value
  },
  expiresIn(value = 600) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_EXPIRES_IN) {
      throw configError(
        `\`expiresIn\` must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN} (7 days, the SigV4 limit); got ${String(value)}.`,
      )
    }
    return value
  },
  object: validateObjectSettings,
}

const matchers = new WeakMap<readonly string[], (contentType: string) => boolean>()
const matchAny = contentTypeMatcher(undefined)

function typeMatcher(allowed: readonly string[] | undefined) {
  if (!allowed) return matchAny
  let matcher = matchers.get(allowed)
  if (!matcher) matchers.set(allowed, (matcher = contentTypeMatcher(allowed)))
  return matcher
}

function rulesOf(values: { [K in RuleName]: unknown }): Rules {
  const allowed = values.allowedContentTypes as readonly string[] | undefined
  return {
    bucket: values.bucket as string,
    keyPrefix: values.keyPrefix as string,
    maxFileSize: values.maxFileSize as number,
    typeAllowed: typeMatcher(allowed),
    overwrite: values.overwrite as boolean,
    expiresIn: values.expiresIn as number,
    object: values.object as ObjectSettings | undefined,
  }
}

/** The rules for one request: the static ones as they are, the functions asked (sync or async) and checked. */
export async function rulesFor<Req, Id extends Identity | true>(config: Config<Req, Id, any>, ctx: RuleContext<Req, Id>): Promise<Rules> {
  if (config.staticRules) return config.staticRules
  const values = {} as { [K in RuleName]: unknown }
  for (const name of RULE_NAMES) {
    const rule = config.rules[name]
    values[name] = typeof rule === 'function' ? VALIDATE[name](await rule(ctx)) : rule
  }
  return rulesOf(values)
}

/** The default `onError`: one line for 5xx answers and hook failures; refusals (4xx) are the client's business. */
function logServerErrors(event: ErrorEvent): void {
  if (event.status < 500) return
  const describe = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))
  const inner = (event.error as { cause?: unknown } | undefined)?.cause
  const cause = describe(event.error) + (inner === undefined ? '' : ` (cause: ${describe(inner)})`)
  console.error(`[s3-presign-middleware] ${event.action}${event.route ? ` (${event.route})` : ''}: ${event.status} ${event.code}: ${cause}`)
}

const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/** The secrets that seal tokens and tags (the first seals, all open): checked at start-up. */
export function secretsOf(options: { secret?: unknown } | null | undefined): readonly string[] {
  if (typeof options !== 'object' || options === null)
    throw configError('options are required: presignMiddleware({ bucket, secret, authorize }).')
  const { secret } = options
  const secrets = typeof secret === 'string' ? [secret] : secret
  if (!Array.isArray(secrets) || secrets.length === 0 || secrets.some((s) => typeof s !== 'string')) {
    throw configError(
      '`secret` is required: it seals upload tokens so that every instance of your app accepts them. Set `secret: process.env.PRESIGN_SECRET` to a random string of 32+ characters (e.g. `openssl rand -base64 32`), the same on every instance.',
    )
  }
  if (secrets.some((s: string) => s.length < 16)) {
    throw configError(
      '`secret` must be at least 16 characters long; use a random string of 32+ characters (e.g. `openssl rand -base64 32`).',
    )
  }
  return secrets
}

/** Validates the options, throwing prefixed start-up errors that name the fix. */
export function resolveConfig<Req, Id extends Identity | true, Result>(
  options: PresignOptions<Req, Id, Result>,
  route?: string,
): Config<Req, Id, Result> {
  if (typeof options !== 'object' || options === null)
    throw configError('options are required: presignMiddleware({ bucket, secret, authorize }).')
  if (route !== undefined && !ROUTE_NAME.test(route)) {
    throw configError(`route names are path segments of letters, digits, \`-\` and \`_\`; got ${JSON.stringify(route)}.`)
  }
  const { authorize } = options
  secretsOf(options) // checked here too, so that a missing secret is the first start-up error
  if (typeof authorize !== 'function') {
    throw configError(
      "`authorize` is required: a function that returns the caller's identity `{ id }`, `true` for anonymous callers, or `false` to refuse. Write `authorize: () => true` to allow everyone.",
    )
  }
  for (const hook of ['keyFor', 'onComplete', 'onError', 'onAbort'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') throw configError(`\`${hook}\` must be a function.`)
  }

  const rules = {} as Config<Req, Id, Result>['rules']
  let allStatic = true
  for (const name of RULE_NAMES) {
    const rule = options[name]
    if (typeof rule === 'function') {
      rules[name] = rule
      allStatic = false
    } else {
      rules[name] = VALIDATE[name](rule)
    }
  }

  const tokenExpiresIn = options.tokenExpiresIn ?? 86_400
  if (!Number.isInteger(tokenExpiresIn) || tokenExpiresIn < 60) {
    throw configError(`\`tokenExpiresIn\` must be a whole number of seconds, at least 60; got ${String(options.tokenExpiresIn)}.`)
  }
  const threshold = options.multipart?.threshold ?? 100 * MiB
  if (!Number.isSafeInteger(threshold) || threshold < 0 || threshold > MAX_SINGLE_SIZE) {
    throw configError(
      `\`multipart.threshold\` must be a whole number of bytes up to 5 GiB (S3's single PUT limit); got ${String(options.multipart?.threshold)}.`,
    )
  }
  const partSize = options.multipart?.partSize
  if (partSize !== undefined && (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE)) {
    throw configError(
      `\`multipart.partSize\` must be a whole number of bytes from 5 MiB to 5 GiB (S3's part limits); got ${String(partSize)}.`,
    )
  }
  const timeout = options.timeout ?? 5000
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw configError(`\`timeout\` must be a positive number of milliseconds; got ${String(options.timeout)}.`)
  }
  const uploadCredentials = options.uploadCredentials
  if (
    uploadCredentials !== undefined &&
    typeof uploadCredentials !== 'function' &&
    (typeof uploadCredentials !== 'object' ||
      uploadCredentials === null ||
      typeof uploadCredentials.accessKeyId !== 'string' ||
      typeof uploadCredentials.secretAccessKey !== 'string')
  ) {
    throw configError(
      '`uploadCredentials` must be `{ accessKeyId, secretAccessKey, sessionToken? }` or a credential provider: the keys of an identity that may only `s3:PutObject` on your key space.',
    )
  }

  const staticRules = allStatic ? rulesOf(rules) : undefined
  const pendingTag = options.pendingTag ?? false
  if (typeof pendingTag !== 'boolean') throw configError(`\`pendingTag\` must be true or false; got ${String(pendingTag)}.`)

  return {
    route,
    region: options.region,
    s3: options.s3 ?? {},
    authorize,
    keyFor: options.keyFor,
    onComplete: options.onComplete,
    multipartThreshold: threshold,
    partSize,
    timeout,
    tokenExpiresIn,
    uploadCredentials,
    onError: options.onError ?? logServerErrors,
    onAbort: options.onAbort,
    pendingTag,
    staticRules,
    staticSettings:
      staticRules && typeof staticRules.object?.contentDisposition !== 'function'
        ? // No disposition function: the file does not matter.
          { headers: objectHeaders(staticRules.object, { filename: '', contentType: '', metadata: {} }, pendingTag) }
        : undefined,
    rules,
    scope: scopeOf(route, rules),
  }
}

function scopeOf(route: string | undefined, rules: Record<RuleName, unknown>): string {
  const described = RULE_NAMES.map((name) => {
    const rule = rules[name]
    if (typeof rule === 'function') return `fn:${rule.toString()}`
    if (name === 'allowedContentTypes' && Array.isArray(rule)) return [...new Set(rule.map((t: string) => t.trim().toLowerCase()))].sort()
    return rule ?? null
  })
  // A function anywhere (a rule, `object.contentDisposition`) counts by its source.
  const source = (_name: string, value: unknown) => (typeof value === 'function' ? `fn:${value.toString()}` : value)
  return createHash('sha256')
    .update(JSON.stringify([route ?? null, ...described], source))
    .digest('base64url')
    .slice(0, 16)
}
