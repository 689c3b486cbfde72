import { useCallback, useEffect, useRef, useState } from 'react'
import { type UploadOptions, type UploadProgress, uploadFile } from '../client'
import type { CompleteResponse } from '../wire'

export { UploadError, isUploadError } from '../client'
export type { ClientErrorCode, CompleteResponse, ResumeStorage, UploadOptions, UploadProgress } from '../client'

/**
 * Where the latest upload stands: `idle` before the first one, `uploading`, then `done`, `error`
 * or `aborted` (by `abort()` or the `signal` option). An upload replaced by a newer `upload(file)`
 * is aborted too, but only the newer one's state is shown.
 */
export type UploadStatus = 'idle' | 'uploading' | 'done' | 'error' | 'aborted'

/** The options of `useUpload`: those of `uploadFile` (`endpoint`, `headers`, `resume`, `onProgress`, `signal`, ...). */
export type UseUploadOptions = UploadOptions

/** What `useUpload` returns: the latest upload's state, and the two actions. */
export interface UseUpload<Result = unknown> {
  /**
   * Starts uploading `file` (a `File`, or a `Blob` with `name` in the options), aborting the
   * upload in progress, if any. Resolves to what `/complete` answered, or to `undefined` when the
   * upload failed or was aborted (then see `status` and `error`): it never rejects, so it can be
   * called straight from an event handler.
   * @example <input type="file" onChange={(e) => e.target.files?.[0] && upload(e.target.files[0])} />
   */
  upload(file: Blob): Promise<CompleteResponse<Result> | undefined>
  /** Aborts the upload in progress (a multipart upload is aborted on the server too); `status` becomes `aborted`. Does nothing when none is. */
  abort(): void
  /** @default 'idle' */
  status: UploadStatus
  /**
   * Bytes S3 has received and the file's size, as `uploadFile`'s `onProgress` gives them: `loaded`
   * never goes back and equals `total` when done. `{ loaded: 0, total: 0 }` before the first upload.
   * @example <progress value={progress.loaded} max={progress.total} />
   */
  progress: UploadProgress
  /**
   * Why the upload failed (`status: 'error'`): usually an `UploadError` with the server's `code`,
   * `status` and a `message` safe to show users (check with `isUploadError`).
   */
  error: Error | undefined
  /** What `/complete` answered (`status: 'done'`): `{ key, size, contentType, etag, result }`, `result` being what `onComplete` returned. */
  result: CompleteResponse<Result> | undefined
}

type State<Result> = Pick<UseUpload<Result>, 'status' | 'progress' | 'error' | 'result'>

const IDLE: State<never> = { status: 'idle', progress: { loaded: 0, total: 0 }, error: undefined, result: undefined }

/**
 * A React hook over `uploadFile`: one upload at a time, with its status, progress, error and
 * result as state. Unmounting the component aborts the upload in progress.
 *
 * @example
 * const { upload, abort, status, progress, error, result } = useUpload<{ id: string } | null>({ endpoint: '/uploads', resume: globalThis.localStorage })
 */
export function useUpload<Result = unknown>(options: UseUploadOptions): UseUpload<Result> {
  const [state, setState] = useState<State<Result>>(IDLE)
  // The upload whose updates are shown; an older one's late callbacks find it replaced and are ignored.
  const current = useRef<AbortController | undefined>(undefined)
  // `upload` stays the same function across renders and reads the options of the latest one.
  const latest = useRef(options)
  useEffect(() => {
    latest.current = options
  })
  useEffect(() => () => current.current?.abort(), [])

  const upload = useCallback(async (file: Blob) => {
    current.current?.abort()
    const controller = new AbortController()
    current.current = controller
    const live = () => current.current === controller
    const { signal, onProgress, ...rest } = latest.current
    const stop = () => controller.abort()
    if (signal?.aborted) stop()
    signal?.addEventListener('abort', stop)
    setState({ ...IDLE, status: 'uploading', progress: { loaded: 0, total: file.size } })
    try {
      const result = await uploadFile<Result>(file, {
        ...rest,
        signal: controller.signal,
        onProgress: (progress) => {
          if (!live()) return
          setState({ ...IDLE, status: 'uploading', progress })
          onProgress?.(progress)
        },
      })
      if (live()) setState({ ...IDLE, status: 'done', progress: { loaded: file.size, total: file.size }, result })
      return result
    } catch (error) {
      if (live())
        setState((s) => ({ ...s, ...(controller.signal.aborted ? { status: 'aborted' } : { status: 'error', error: error as Error }) }))
    } finally {
      signal?.removeEventListener('abort', stop)
      if (live()) current.current = undefined
    }
  }, [])

  const abort = useCallback(() => {
    const controller = current.current
    if (!controller) return
    current.current = undefined
    controller.abort()
    setState((s) => ({ ...s, status: 'aborted' }))
  }, [])

  return { ...state, upload, abort }
}
