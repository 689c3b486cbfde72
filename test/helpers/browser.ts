import { existsSync } from 'node:fs'
import { build } from 'esbuild'
import { type Browser, chromium } from 'playwright-core'
import { describe } from 'vitest'

/**
 * Headless Chromium for browser tests: Debian's `/usr/bin/chromium` driven by playwright-core
 * (never `playwright install`: no downloaded browsers). Without it, tests are skipped locally
 * with a printed reason, and fail in CI, where a missing browser is a broken runner.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const missing = existsSync(CHROMIUM_PATH)
  ? undefined
  : `Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`

if (missing && process.env.CI) {
  throw new Error(`[browser tests] ${missing}; CI must have a browser, so this is a failure, not a skip.`)
}
if (missing) console.warn(`[browser tests] skipped: ${missing}.`)

/** `describe` when Chromium is available, `describe.skip` otherwise (CI fails above instead). */
export const describeBrowser: typeof describe = (missing ? describe.skip : describe) as typeof describe

export function launchBrowser(): Promise<Browser> {
  if (missing) throw new Error(`[browser tests] ${missing}.`)
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/** Uppy's core and S3 plugin, unmodified, exposed as `window.Uppy` and `window.AwsS3`. */
export const UPPY_ENTRY = `
import Uppy from '@uppy/core'
import AwsS3 from '@uppy/aws-s3'
window.Uppy = Uppy
window.AwsS3 = AwsS3
`

const bundles = new Map<string, Promise<string>>()

/**
 * Bundles `entryCode` (resolved from the repository's node_modules) into one IIFE script for a
 * `<script>` tag. Cached per process: each distinct entry is built once.
 */
export function bundleForBrowser(entryCode: string = UPPY_ENTRY): Promise<string> {
  let bundle = bundles.get(entryCode)
  if (!bundle) {
    bundle = build({
      stdin: { contents: entryCode, resolveDir: process.cwd(), loader: 'js', sourcefile: 'browser-entry.js' },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'chrome110',
      write: false,
      minify: false,
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    }).then((result) => result.outputFiles[0]!.text)
    bundles.set(entryCode, bundle)
    bundle.catch(() => bundles.delete(entryCode))
  }
  return bundle
}
