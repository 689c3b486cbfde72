import { S3Client } from '@aws-sdk/client-s3'
import type { CompleteResponse, CreateResponse, DownloadResponse, ListPartsResponse, SignPartsResponse } from '../wire'
import { type Config, resolveConfig, secretsOf } from './config'
import { deleteObject, download, removeObject } from './download'
import { configError } from './errors'
import { abort, complete } from './finish'
import type { Identity, PresignOptions } from './options'
import { listParts, signParts } from './parts'
import { type CoreRequest, type CoreResponse, createHandler } from './routes'
import { type S3EventOutcome, completeFromS3Event } from './s3-events'
import { type Signer, createSigner } from './signing/signer'
import { create } from './start'
import { type Storage, createClients, createStorage } from './storage'
import { type ObjectTagger, type TokenSealer, createObjectTagger, createTokenSealer } from './token'

export type { CoreRequest, CoreResponse } from './routes'
export type { S3EventOutcome } from './s3-events'

/** What acts on one bucket: its S3 API calls, and the signers of its URLs. */
export interface BucketServices {
  storage: Storage
  /** Signs downloads (and resolves object URLs) with the `s3` client's credentials. */
  signer: Signer
  /** Signs upload URLs and POST policies: with `uploadCredentials` when given, else `signer`. */
  uploadSigner: Signer
}

/**
 * Everything built once from the options and shared by every action of one route (the whole
 * mount without `routes`): the per-request path only handles the request.
 */
export interface Core<Req = any, Id extends Identity | true = any, Result = any> {
  config: Config<Req, Id, Result>
  /** The storage and signers of a bucket: one S3 client per client config, one signer per bucket. */
  at(bucket: string): BucketServices
  tokens: TokenSealer
  tags: ObjectTagger
}

/** The framework-free core. Every method takes the framework's request for the hooks. */
export interface Presigner<Req = unknown, Result = unknown> {
  /**
   * Answers a request to one of the routes, or `undefined` when the path is not one of
   * them (adapters then pass it on). `PresignError`s become JSON error responses; any
   * other error (a bug, a hook that failed) is thrown for the host framework to handle.
   */
  handle(req: CoreRequest<Req>): Promise<CoreResponse | undefined>
  /** `POST /create` without HTTP; throws `PresignError`s. */
  create(body: unknown, request: Req): Promise<CreateResponse>
  /** `POST /sign-parts` without HTTP. */
  signParts(body: unknown, request: Req): Promise<SignPartsResponse>
  /** `POST /list-parts` without HTTP. */
  listParts(body: unknown, request: Req): Promise<ListPartsResponse>
  /** `POST /complete` without HTTP. */
  complete(body: unknown, request: Req): Promise<CompleteResponse<Result>>
  /** `POST /abort` without HTTP. */
  abort(body: unknown, request: Req): Promise<Record<string, never>>
  /** `POST /download` without HTTP. */
  download(body: unknown, request: Req): Promise<DownloadResponse>
  /** `POST /delete` without HTTP: asks `authorize` (action `delete`), then removes the object. */
  deleteObject(body: unknown, request: Req): Promise<Record<string, never>>
  /**
   * Removes an object from server code (no `authorize`: your code decides). The key must be in
   * this route's key space (`keyPrefix`); `request` is passed to rules given as functions.
   */
  delete(key: string, request?: Req): Promise<void>
  /**
   * Completes uploads whose client vanished before calling `complete`: give it an S3 Event
   * Notification as delivered directly, through SNS, SQS or EventBridge. Each created object
   * uploaded through this presigner (its sealed tag opens for its bucket, key and rules; with
   * `routes`, any route's) is checked and passed to `onComplete` with `source: 'event'` and
   * `request: undefined`. Other objects are ignored; ones that break the rules are removed.
   * Events also arrive for uploads that did call `complete`: keep `onComplete` idempotent.
   */
  handleS3Event(event: unknown): Promise<S3EventOutcome<Result>[]>
  /** With `routes`: the presigner of one route (its actions without HTTP). */
  route(name: string): Presigner<Req, Result>
}

/**
 * Validates the options once (throwing prefixed start-up errors), builds the S3 clients, the
 * signers and the token sealer, and returns the actions and the route handler.
 *
 * @example
 * const presigner = createPresigner({ bucket: 'uploads', secret: process.env.PRESIGN_SECRET, authorize: () => true })
 * const upload = await presigner.create({ filename: 'a.png', contentType: 'image/png', size: 1234 }, req)
 */
export function createPresigner<Req = unknown, Id extends Identity | true = Identity | true, Result = unknown>(
  options: PresignOptions<Req, Id, Result>,
): Presigner<Req, Result> {
  const secrets = secretsOf(options)
  const tokens = createTokenSealer(secrets)
  const tags = createObjectTagger(secrets)
  const services = servicesRegistry()
  const coreOf = (config: Config<Req, Id, Result>): Core<Req, Id, Result> => ({
    config,
    at: (bucket) => services(config, bucket),
    tokens,
    tags,
  })

  const { routes } = options
  if (routes === undefined) return presignerOf(coreOf(resolveConfig(options)))

  if (typeof routes !== 'object' || routes === null || Object.keys(routes).length === 0) {
    throw configError('`routes` must name at least one upload kind: `routes: { avatar: { allowedContentTypes: [...] } }`.')
  }
  const named = new Map<string, Presigner<Req, Result>>()
  const cores: Core<Req, Id, Result>[] = []
  for (const [name, route] of Object.entries(routes)) {
    if (typeof route !== 'object' || route === null) throw configError(`\`routes.${name}\` must be an object of options.`)
    if ('secret' in route || 'routes' in route)
      throw configError(`\`routes.${name}\` cannot set \`secret\` or \`routes\`: they are the mount's.`)
    const core = coreOf(resolveConfig({ ...withoutRoutes(options), ...route }, name))
    cores.push(core)
    named.set(name, presignerOf(core))
  }
  const route = (name: string) => {
    const found = named.get(name)
    if (!found) throw configError(`there is no route \`${name}\`: the routes are ${[...named.keys()].join(', ')}.`)
    return found
  }
  const noRoute = () => {
    throw configError('this presigner has `routes`: call the actions of one, e.g. `presigner.route(name).create(body, request)`.')
  }
  return {
    // `/<name>/<route>`: the rest of the path goes to that route's handler, exactly as sent.
    async handle(req) {
      const slash = req.path.indexOf('/', 1)
      const name = slash < 0 ? req.path.slice(1) : req.path.slice(1, slash)
      const target = named.get(name)
      return target?.handle({ ...req, path: slash < 0 ? '/' : req.path.slice(slash) })
    },
    create: noRoute,
    signParts: noRoute,
    listParts: noRoute,
    complete: noRoute,
    abort: noRoute,
    download: noRoute,
    deleteObject: noRoute,
    delete: noRoute,
    async handleS3Event(event) {
      return completeFromS3Event(cores, event)
    },
    route,
  }
}

function presignerOf<Req, Id extends Identity | true, Result>(core: Core<Req, Id, Result>): Presigner<Req, Result> {
  const self: Presigner<Req, Result> = {
    handle: createHandler(core),
    create: (body, request) => create(core, body, request),
    signParts: (body, request) => signParts(core, body, request),
    listParts: (body, request) => listParts(core, body, request),
    complete: (body, request) => complete(core, body, request),
    abort: (body, request) => abort(core, body, request),
    download: (body, request) => download(core, body, request),
    deleteObject: (body, request) => deleteObject(core, body, request),
    delete: (key, request) => removeObject(core, key, request as Req),
    handleS3Event: (event) => completeFromS3Event([core], event),
    route: () => {
      throw configError('this presigner has no `routes`.')
    },
  }
  return self
}

function withoutRoutes<T extends { routes?: unknown }>(options: T): Omit<T, 'routes'> {
  const { routes: _routes, ...rest } = options
  return rest
}

/** At most this many buckets keep their signers (a bucket per tenant must not grow memory forever). */
const MAX_BUCKETS = 256

/**
 * One S3 client (and one signing client) per distinct client configuration, shared by every
 * route that inherits it; one storage and signer pair per bucket on top, kept for the most
 * recently used buckets.
 */
function servicesRegistry() {
  const clientSets = new Map<string, ReturnType<typeof createClients> & { signingClient: S3Client; uploadClient?: S3Client }>()
  // Client options are compared by identity: routes that inherit the mount's `s3` share its client.
  const ids = new WeakMap<object, number>()
  let nextId = 0
  const identify = (value: unknown) => {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return String(value)
    let id = ids.get(value)
    if (id === undefined) ids.set(value, (id = nextId++))
    return `#${id}`
  }
  const buckets = new Map<string, BucketServices>()

  // Per config, computed once: the hot path only joins it with the bucket.
  const clientKeys = new WeakMap<Config<any, any, any>, string>()
  // The last answer: most calls ask for the same config and bucket as the one before.
  let lastConfig: Config<any, any, any> | undefined
  let lastBucket = ''
  let last: BucketServices | undefined
  return function services(config: Config<any, any, any>, bucket: string): BucketServices {
    if (config === lastConfig && bucket === lastBucket && last) return last
    const found = lookup(config, bucket)
    lastConfig = config
    lastBucket = bucket
    last = found
    return found
  }

  function lookup(config: Config<any, any, any>, bucket: string): BucketServices {
    let clientKey = clientKeys.get(config)
    if (clientKey === undefined) {
      clientKey = [identify(config.s3), config.region ?? '', config.timeout, identify(config.uploadCredentials)].join('|')
      clientKeys.set(config, clientKey)
    }
    const key = `${clientKey}|${bucket}`
    const found = buckets.get(key)
    if (found) {
      // Most recently used last (the first is the one to forget); a lone bucket needs no reordering.
      if (buckets.size > 1) {
        buckets.delete(key)
        buckets.set(key, found)
      }
      return found
    }
    let clients = clientSets.get(clientKey)
    if (!clients) {
      const made = createClients(config.s3, config.region, config.timeout)
      clients = {
        ...made,
        signingClient: new S3Client(made.signingConfig),
        ...(config.uploadCredentials
          ? { uploadClient: new S3Client({ ...made.signingConfig, credentials: config.uploadCredentials }) }
          : {}),
      }
      clientSets.set(clientKey, clients)
    }
    const signer = createSigner(bucket, clients.signingClient)
    const made: BucketServices = {
      storage: createStorage(bucket, clients.client, config.timeout),
      signer,
      uploadSigner: clients.uploadClient ? createSigner(bucket, clients.uploadClient) : signer,
    }
    if (buckets.size >= MAX_BUCKETS) buckets.delete(buckets.keys().next().value!)
    buckets.set(key, made)
    return made
  }
}

/**
 * `presigner.handleS3Event(event)` as a function, for handlers that get the presigner passed in.
 *
 * @example
 * export const handler = (event) => handleS3Event(presigner, event)   // AWS Lambda on SQS
 */
export function handleS3Event<Result>(presigner: Presigner<any, Result>, event: unknown): Promise<S3EventOutcome<Result>[]> {
  return presigner.handleS3Event(event)
}
