'use client'

import { useUpload } from 's3-presign-middleware/react'

/** The bytes go straight to S3; the app only signs (app/api/uploads/[...path]/route.ts). */
export function Uploader() {
  const { upload, abort, status, progress, error, result } = useUpload<{ downloadUrl: string }>({ endpoint: '/api/uploads' })
  return (
    <>
      <input
        type="file"
        aria-label="File"
        onChange={(e) => {
          const file = e.target.files?.[0]
          if (file) upload(file)
          e.target.value = ''
        }}
      />
      {status === 'uploading' && (
        <>
          <progress value={progress.loaded} max={progress.total} />{' '}
          <button type="button" onClick={abort}>
            Cancel
          </button>
        </>
      )}
      {status === 'error' && <p role="alert">{error?.message}</p>}
      {status === 'done' && result && (
        <p role="status">
          Saved as <a href={result.result.downloadUrl}>{result.key}</a>
        </p>
      )}
    </>
  )
}
