// Plain browser JS for the demo page, using the package's client (served by the app as /client.js).
import { uploadFile } from '/client.js'

const UPLOADS = '/uploads'

const form = document.querySelector('#form')
const fileInput = document.querySelector('#file')
const button = document.querySelector('#upload')
const progress = document.querySelector('#progress')
const status = document.querySelector('#status')
const files = document.querySelector('#files')

fileInput.addEventListener('change', () => {
  button.disabled = !fileInput.files?.length
  setProgress(0)
  showStatus(fileInput.files?.[0] ? `${fileInput.files[0].name}, ${formatBytes(fileInput.files[0].size)}` : '')
})

form.addEventListener('submit', async (event) => {
  event.preventDefault()
  const file = fileInput.files?.[0]
  if (!file) return
  button.disabled = true
  fileInput.disabled = true
  try {
    const done = await upload(file)
    showStatus(`Uploaded ${file.name} (${formatBytes(done.size)}).`, 'done')
    await refreshFiles()
  } catch (error) {
    showStatus(error.message, 'error')
  } finally {
    fileInput.disabled = false
    button.disabled = !fileInput.files?.length
  }
})

/**
 * The package's client does the whole upload: create, one PUT or parallel parts straight to
 * storage, complete. Progress comes from XHR upload events.
 */
async function upload(file) {
  showStatus('Preparing the upload…')
  setProgress(0)
  try {
    return await uploadFile(file, {
      endpoint: UPLOADS,
      onProgress: ({ loaded, total }) => {
        const percent = total ? (loaded / total) * 100 : 100
        setProgress(percent)
        showStatus(`${Math.floor(percent)}% · ${formatBytes(loaded)} of ${formatBytes(total)}`)
      },
    })
  } catch (error) {
    // UploadError carries the server's message (safe to show) or what storage answered.
    throw new Error(error.message || 'The upload failed.')
  }
}

async function refreshFiles() {
  let list
  try {
    const response = await fetch('/api/files', { headers: { accept: 'application/json' } })
    if (!response.ok) throw new Error()
    list = await response.json()
  } catch {
    files.replaceChildren(item('The file list could not be loaded.'))
    return
  }
  if (!list.length) {
    files.replaceChildren(item('No files yet.'))
    return
  }
  files.replaceChildren(
    ...list.map(({ key, size, lastModified }) => {
      const li = document.createElement('li')
      const link = document.createElement('a')
      link.href = `${UPLOADS}/download?key=${encodeURIComponent(key)}`
      link.textContent = key.slice(key.lastIndexOf('/') + 1) || key
      link.title = key
      const meta = document.createElement('span')
      meta.className = 'meta'
      meta.textContent = `${formatBytes(size)} · ${new Date(lastModified).toLocaleString()}`
      li.append(link, meta)
      return li
    }),
  )
}

function item(text) {
  const li = document.createElement('li')
  li.className = 'empty'
  li.textContent = text
  return li
}

function setProgress(percent) {
  progress.value = Math.min(100, Math.max(0, percent))
  progress.textContent = `${Math.round(progress.value)}%`
}

function showStatus(text, state = '') {
  status.textContent = text
  status.dataset.state = state
}

function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '?'
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit += 1
  }
  return unit === 0 ? `${value} ${value === 1 ? 'byte' : 'bytes'}` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

refreshFiles()
