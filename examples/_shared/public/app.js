// Plain browser JS for the demo page, using the package's client (served by the app as /client.js).
// The server describes its upload routes and their limits (GET /api/upload-routes); the page draws
// an upload area for each, and uploads with `endpoint` set to the route: nothing else is per route.
import { uploadFile } from '/client.js'

const template = document.querySelector('#route-template')
const areas = document.querySelector('#routes')

for (const route of await uploadRoutes()) areas.append(uploadArea(route))

/** The server's upload routes. A server with one upload kind at /uploads describes none (examples/fastify, examples/hono). */
async function uploadRoutes() {
  const response = await fetch('/api/upload-routes', { headers: { accept: 'application/json' } })
  if (response.ok) return await response.json()
  return [{ name: 'uploads', endpoint: '/uploads', files: '/api/files' }]
}

/** One route's area: its limits, a file picker, progress, the result or the server's refusal, its files. */
function uploadArea({ name, endpoint, allowedContentTypes, maxFileSize, files: filesUrl }) {
  const section = template.content.firstElementChild.cloneNode(true)
  // Ids like `avatar-file`, `avatar-status`: one set per route.
  const el = {}
  for (const node of section.querySelectorAll('[data-id]')) {
    node.id = `${name}-${node.dataset.id}`
    el[node.dataset.id] = node
  }
  section.dataset.route = name
  section.setAttribute('aria-labelledby', el.title.id)
  el.label.htmlFor = el.file.id
  el.files.setAttribute('aria-labelledby', el['files-heading'].id)
  el.title.textContent = name[0].toUpperCase() + name.slice(1)
  el.progress.setAttribute('aria-label', `${el.title.textContent} upload progress`)
  el.limits.textContent = [allowedContentTypes?.join(', '), maxFileSize && `up to ${formatBytes(maxFileSize)}`].filter(Boolean).join(' · ')

  const { file: fileInput, upload: button, progress, status } = el
  const showStatus = (state, ...content) => {
    status.replaceChildren(...content)
    status.dataset.state = state
  }
  const setProgress = (percent) => {
    progress.value = Math.min(100, Math.max(0, percent))
    progress.textContent = `${Math.round(progress.value)}%`
  }

  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0]
    button.disabled = !file
    setProgress(0)
    showStatus('', file ? `${file.name}, ${formatBytes(file.size)}` : '')
  })

  el.form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const file = fileInput.files?.[0]
    if (!file) return
    button.disabled = true
    fileInput.disabled = true
    showStatus('', 'Preparing the upload…')
    setProgress(0)
    try {
      // The whole upload: create, one PUT or parallel parts straight to storage, complete.
      const done = await uploadFile(file, {
        endpoint,
        onProgress: ({ loaded, total }) => {
          const percent = total ? (loaded / total) * 100 : 100
          setProgress(percent)
          showStatus('', `${Math.floor(percent)}% · ${formatBytes(loaded)} of ${formatBytes(total)}`)
        },
      })
      // `result` is what the server's onComplete returned.
      showStatus('done', `Uploaded ${file.name} (${formatBytes(done.size)}). `, link('Download', done.result.downloadUrl))
      await refreshFiles()
    } catch (error) {
      // An UploadError: the server's refusal (safe to show) or what storage answered.
      showStatus('error', error.message || 'The upload failed.')
    } finally {
      fileInput.disabled = false
      button.disabled = !fileInput.files?.length
    }
  })

  async function refreshFiles() {
    let list
    try {
      const response = await fetch(filesUrl, { headers: { accept: 'application/json' } })
      if (!response.ok) throw new Error()
      list = await response.json()
    } catch {
      el.files.replaceChildren(item('The file list could not be loaded.'))
      return
    }
    if (!list.length) {
      el.files.replaceChildren(item('No files yet.'))
      return
    }
    el.files.replaceChildren(
      ...list.map(({ key, size, lastModified }) => {
        const li = document.createElement('li')
        const a = link(key.slice(key.lastIndexOf('/') + 1) || key, `${endpoint}/download?key=${encodeURIComponent(key)}`)
        a.title = key
        const meta = document.createElement('span')
        meta.className = 'meta'
        meta.textContent = `${formatBytes(size)} · ${new Date(lastModified).toLocaleString()}`
        li.append(a, meta)
        return li
      }),
    )
  }

  refreshFiles()
  return section
}

function link(text, href) {
  const a = document.createElement('a')
  a.href = href
  a.textContent = text
  return a
}

function item(text) {
  const li = document.createElement('li')
  li.className = 'empty'
  li.textContent = text
  return li
}

/** `1.5 MiB`, in the units of the server's messages. */
function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '?'
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return unit === 0 ? `${value} ${value === 1 ? 'byte' : 'bytes'}` : `${Number(value.toFixed(1))} ${units[unit]}`
}
