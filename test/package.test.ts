import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
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
  's3-presign-middleware/fastify': ['presignPlugin', 'default', 'PresignError', 'isPresignError'],
  's3-presign-middleware/client': ['uploadFile', 'UploadError'],
  's3-presign-middleware/react': ['useUpload', 'UploadError', 'isUploadError'],
}

function run(code: string, type: 'commonjs' | 'module'): string {
  return execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], {
    cwd: process.cwd(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

describe('the built package', () => {
  it('was built (run `npm run build`)', () => {
    expect(existsSync('dist/index.js') && existsSync('dist/index.cjs')).toBe(true)
  })

  it.each(Object.entries(entries))('%s loads with require() and import, exporting the same names', (entry, names) => {
    const fromRequire = JSON.parse(run(`console.log(JSON.stringify(Object.keys(require(${JSON.stringify(entry)})).sort()))`, 'commonjs'))
    const fromImport = JSON.parse(
      run(`const m = await import(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(m).sort()))`, 'module'),
    )
    expect(fromImport).toEqual(fromRequire)
    expect(fromRequire).toEqual(expect.arrayContaining(names))
  })

  it('the adapters load without express, koa or fastify at runtime (types only)', () => {
    const out = run(
      `for (const e of ['express','koa','fetch','fastify']) require('s3-presign-middleware/' + e); console.log(Object.keys(require.cache).filter(p => /node_modules\\/(express|koa|fastify)\\//.test(p)).length)`,
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

  it("the react entry renders on a server without a DOM, on the app's own React (not a bundled copy)", () => {
    const render = [
      "const { createElement: h } = require('react')",
      "const { renderToString } = require('react-dom/server')",
      "const { useUpload } = require('s3-presign-middleware/react')",
      "function C() { const u = useUpload({ endpoint: '/uploads' }); return h('p', null, [u.status, u.progress.loaded, u.progress.total].join(' ')) }",
      'console.log(renderToString(h(C)))',
    ].join('\n')
    expect(run(render, 'commonjs').trim()).toBe('<p>idle 0 0</p>')
    for (const file of ['dist/react.js', 'dist/react.cjs'])
      expect(readFileSync(file, 'utf8')).not.toMatch(/react\.(production|development)|__CLIENT_INTERNALS/)
  })

  it('refuses to start without a secret, naming the fix', () => {
    expect(() =>
      run(`require('s3-presign-middleware/express').presignMiddleware({ bucket: 'b', authorize: () => true })`, 'commonjs'),
    ).toThrow(/\[s3-presign-middleware\] `secret` is required/)
  })
})

interface PackResult {
  files: { path: string }[]
}

/** What `npm publish` would upload: `npm pack --dry-run --json` lists the tarball without writing it. */
function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: process.cwd(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const [pack] = JSON.parse(out) as PackResult[]
  return pack!.files.map((f) => f.path).sort()
}

/** Every file path that package.json points at: main, module, types, bin and each `exports` target. */
function pointedAt(pkg: Record<string, any>): string[] {
  const paths = new Set<string>()
  const walk = (v: unknown): void => {
    if (typeof v === 'string') paths.add(v.replace(/^\.\//, ''))
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x)
  }
  walk([pkg.main, pkg.module, pkg.types, pkg.bin, pkg.exports])
  return [...paths].sort()
}

describe('the npm tarball', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Record<string, any>
  let files: string[]

  it('holds dist, LICENSE, SECURITY.md, README.md and package.json, and nothing else', () => {
    files = packedFiles()
    const top = [...new Set(files.map((p) => p.split('/')[0]))].sort()
    expect(top).toEqual(['LICENSE', 'README.md', 'SECURITY.md', 'dist', 'package.json'])
    expect(files.filter((p) => p.startsWith('dist/')).length).toBeGreaterThan(10)
  }, 60_000)

  it('holds every file that main, module, types, bin and exports point at', () => {
    files ??= packedFiles()
    const targets = pointedAt(pkg)
    expect(targets).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.cjs', 'dist/cli.js', 'package.json']))
    expect(targets.filter((p) => !files.includes(p))).toEqual([])
  }, 60_000)

  it('is MIT licensed in package.json and in the LICENSE it carries', () => {
    expect(pkg.license).toBe('MIT')
    const license = readFileSync('LICENSE', 'utf8')
    expect(license).toMatch(/^MIT License\b/)
    expect(license).toContain('Copyright (c) 2026 s3-presign-middleware contributors')
  })

  it('names its repository, issue tracker and homepage', () => {
    const base = 'https://github.com/s3-presign-middleware/s3-presign-middleware'
    expect(pkg.repository).toEqual({ type: 'git', url: `git+${base}.git` })
    expect(pkg.bugs).toEqual({ url: `${base}/issues` })
    expect(pkg.homepage).toBe(`${base}#readme`)
  })
})
