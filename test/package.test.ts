import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

/**
 * The built package, as users get it: every entry loads through `require()` and `import`, by
 * package name (self-reference through `exports`), and gives the same names. Needs `npm run build`
 * (the `pretest` script runs it).
 */

const entries: Record<string, string[]> = {
  's3-presign-middleware': ['createPresigner', 'PresignError', 'isPresignError', 'ERROR_STATUS'],
  's3-presign-middleware/express': ['presignMiddleware', 'PresignError', 'isPresignError'],
  's3-presign-middleware/koa': ['presignMiddleware', 'PresignError', 'isPresignError'],
  's3-presign-middleware/fetch': ['createFetchHandler', 'PresignError', 'isPresignError'],
  's3-presign-middleware/client': ['uploadFile', 'UploadError'],
}

function run(code: string, type: 'commonjs' | 'module'): string {
  return execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: process.cwd(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

describe('the built package', () => {
  it('was built (run `npm run build`)', () => {
    expect(existsSync('dist/index.js') && existsSync('dist/index.cjs')).toBe(true)
  })

  it.each(Object.entries(entries))('%s loads with require() and import, exporting the same names', (entry, names) => {
    const fromRequire = JSON.parse(run(`console.log(JSON.stringify(Object.keys(require(${JSON.stringify(entry)})).sort()))`, 'commonjs'))
    const fromImport = JSON.parse(run(`const m = await import(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(m).sort()))`, 'module'))
    expect(fromImport).toEqual(fromRequire)
    expect(fromRequire).toEqual(expect.arrayContaining(names))
  })

  it('the adapters load without express or koa at runtime (types only)', () => {
    const out = run(
      `for (const e of ['express','koa','fetch']) require('s3-presign-middleware/' + e); console.log(Object.keys(require.cache).filter(p => /node_modules\\/(express|koa)\\//.test(p)).length)`,
      'commonjs',
    )
    expect(out.trim()).toBe('0')
  })

  it('an error from the CJS build is recognised by the ESM brand check', () => {
    const out = run(
      `import { createRequire } from 'node:module'; const req = createRequire(import.meta.url); const { PresignError } = req('s3-presign-middleware'); const { isPresignError } = await import('s3-presign-middleware'); console.log(isPresignError(new PresignError('forbidden', 'x')))`,
      'module',
    )
    expect(out.trim()).toBe('true')
  })

  it('ships the doctor as the package binary', () => {
    const bin = JSON.parse(execFileSync(process.execPath, ['-p', "JSON.stringify(require('./package.json').bin)"], { encoding: 'utf8' }))
    const out = execFileSync(process.execPath, [bin['s3-presign-middleware'], '--help'], { encoding: 'utf8' })
    expect(out).toMatch(/Usage: s3-presign-middleware doctor --bucket/)
  })

  it('refuses to start without a secret, naming the fix', () => {
    expect(() => run(`require('s3-presign-middleware/express').presignMiddleware({ bucket: 'b', authorize: () => true })`, 'commonjs')).toThrow(
      /\[s3-presign-middleware\] `secret` is required/,
    )
  })
})
