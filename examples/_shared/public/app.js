// Plain browser JS for the demo page: create → PUT straight to storage → complete.
// The package's client helper does the same (and multipart); this file shows the wire protocol.
const UPLOADS = '/uploads'

const form = document.querySelector('#form')
const fileInput = document.querySelector('#file')
const button = document.querySelector('#upload')
const progress = document.querySelector('#progress')
const status = document.querySelector('#status')
const files = document.querySelector('#files')

// Headers a page may not set; the browser sends its own (Content-Length is the file's size).
const FORBIDDEN_HEADERS = new Set([
  'accept-charset', 'accept-encoding', 'access-control-request-headers', 'access-control-request-method',
  'connection', 'content-length', 'cookie', 'cookie2', 'date', 'dnt', 'expect', 'host', 'keep-alive',
  'origin', 'referer', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'via',
])
const forbidden = (name) => {
  const lower = name.toLowerCase()
  return FORBIDDEN_HEADERS.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')
}

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

async function upload(file) {
  const contentType = file.type || 'application/octet-stream'
  showStatus('Preparing the upload…')
  setProgress(0)
  const created = await postJson('/create', { filename: file.name, contentType, size: file.size })

  if (created.strategy !== 'single') {
    // Large files go multipart: the package's client helper handles that, this page does not.
    // Release the multipart upload the server just started.
    postJson('/abort', { token: created.token }).catch(() => {})
    throw new Error(`${file.name} is ${formatBytes(file.size)}: files this large go multipart, which this demo page does not do.`)
  }

  await put(file, created)
  showStatus('Checking the upload…')
  return postJson('/complete', { token: created.token })
}

/** PUTs the file to the presigned URL with exactly the signed headers, reporting progress. */
function put(file, { method, url, headers }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open(method, url)
    for (const [name, value] of Object.entries(headers ?? {})) {
      if (!forbidden(name)) xhr.setRequestHeader(name, value)
    }
    xhr.upload.onprogress = (event) => {
      const total = event.lengthComputable ? event.total : file.size
      setProgress(total ? (event.loaded / total) * 100 : 0)
      showStatus(`${Math.floor(total ? (event.loaded / total) * 100 : 0)}% · ${formatBytes(event.loaded)} of ${formatBytes(total)}`)
    }
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        setProgress(100)
        resolve()
      } else {
        // Storage answers in XML; its <Code> is enough to tell what went wrong.
        const code = /<Code>([^<]+)<\/Code>/.exec(xhr.responseText ?? '')?.[1]
        reject(new Error(`Storage refused the upload (HTTP ${xhr.status}${code ? ` ${code}` : ''}).`))
      }
    }
    xhr.onerror = () => reject(new Error('The upload to storage failed: network error or CORS not allowed on the bucket.'))
    xhr.onabort = () => reject(new Error('The upload was cancelled.'))
    xhr.send(file)
  })
}

/** POSTs JSON to an upload route; errors come back as `{ code, message }`. */
async function postJson(route, body) {
  let response
  try {
    response = await fetch(UPLOADS + route, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    })
  } catch {
    throw new Error('The server could not be reached.')
  }
  const data = await response.json().catch(() => ({}))
  if (!response.ok) throw new Error(data.message || `The server answered ${response.status}.`)
  return data
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
