import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  CONTEXT_NAMES,
  type Diagnostic,
  PACKAGE,
  assertFreshBuild,
  compileFixture,
  declaredNames,
  nextCompilerOptions,
  repoRoot,
} from './_fixture'

/**
 * Every ```ts block of README.md compiles under `strict` against the built package, in an app
 * that declares its user type the usual way (see `_fixture.ts`): what a user who copies a block
 * into their app gets.
 *
 * Convention: a block runs in a *context*, the app around it. Write the context in an HTML
 * comment on the line just above the fence (blank lines between are allowed):
 *
 *     <!-- ts-context: express -->
 *     ```ts
 *     app.use('/uploads', presignMiddleware({ ... }))
 *     ```
 *
 * | context   | the app around the block                                   | names it offers               |
 * |-----------|------------------------------------------------------------|-------------------------------|
 * | `express` | Express 5, Passport's `Express.User { id: string; plan }`  | `app`, `db`, `presignMiddleware`, `PresignError` from `s3-presign-middleware/express` |
 * | `koa`     | Koa 3, `ctx.state.user: { id: string; plan }`              | `app`, `db`, `presignMiddleware`, `PresignError` from `s3-presign-middleware/koa` |
 * | `fetch`   | a Hono app                                                 | `app`, `db`, `createFetchHandler`, `PresignError` from `s3-presign-middleware/fetch` |
 * | `next`    | a Next.js App Router app (bundler resolution, the DOM lib) | `db`, `createFetchHandler`, `PresignError` from `s3-presign-middleware/fetch` |
 * | `node`    | a plain Node module                                        | `db` |
 *
 * A context offers only the names the block does not declare or import itself, so a full example
 * (`const app = express()`) keeps its own. Without a comment the context is the adapter the block
 * imports (`s3-presign-middleware/express`, `/koa`, `/fetch`), else `node`. `db` is the app's
 * data layer (`db.files.insert(row) → Promise<{ id }>`, `db.users.bySession(id) → Promise<AppUser | undefined>`).
 * Nothing else is supplied: a block that uses a name none of these offer does not compile, as it
 * would not in the user's app. `next` blocks are compiled apart, with a Next.js app's compiler
 * options (`next/server`, `next/headers` resolve only there).
 */

const README = join(repoRoot, 'README.md')
const CONTEXT_COMMENT = /^<!--\s*ts-context:\s*([\w-]+)\s*-->$/

interface Block {
  /** README line of the block's first code line (1-based) */
  line: number
  context: string
  code: string
  /** fixture path, relative to the app folder */
  file: string
}

/** Every block module starts with one line the test adds (the context's imports). */
const PREAMBLE_LINES = 1

function extractBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i] ?? '')) continue
    const start = i + 1
    let end = start
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++
    const code = lines.slice(start, end).join('\n')
    let above = i - 1
    while (above >= 0 && (lines[above] ?? '').trim() === '') above--
    const declared = CONTEXT_COMMENT.exec((lines[above] ?? '').trim())?.[1]
    const imported = /from\s+['"]s3-presign-middleware\/(express|koa|fetch)['"]/.exec(code)?.[1]
    blocks.push({ line: start + 1, context: declared ?? imported ?? 'node', code, file: `readme-line-${start + 1}.ts` })
    i = end
  }
  return blocks
}

/** The block as a module of the fixture app: the context's names it lacks, imported on one line. */
function moduleFor(block: Block): string {
  const own = declaredNames(block.code)
  const missing = (CONTEXT_NAMES[block.context] ?? []).filter((name) => !own.has(name))
  const preamble = missing.length > 0 ? `import { ${missing.join(', ')} } from './contexts/${block.context}.js'` : 'export {}'
  return `${preamble}\n${block.code}\n`
}

const blocks = extractBlocks(readFileSync(README, 'utf8'))

/** Contexts whose app compiles with other options than a Node server's. */
const CONTEXT_OPTIONS: Record<string, object> = { next: nextCompilerOptions }

describe('README.md TypeScript blocks compile under strict against the built types', () => {
  const fixture: { diagnostics: Diagnostic[] } = { diagnostics: [] }

  beforeAll(() => {
    assertFreshBuild()
    // One program per set of compiler options; the Node server's also when no block needs it.
    const groups = new Map<object | undefined, Block[]>([[undefined, []]])
    for (const block of blocks) {
      const options = CONTEXT_OPTIONS[block.context]
      groups.set(options, [...(groups.get(options) ?? []), block])
    }
    for (const [options, group] of groups) {
      const files = Object.fromEntries(group.map((block) => [block.file, moduleFor(block)]))
      fixture.diagnostics.push(...compileFixture('readme', files, options).diagnostics)
    }
  }, 60_000)

  it('README.md has TypeScript blocks to check', () => {
    expect(blocks.length).toBeGreaterThan(0)
  })

  it('the fixture app (user types, contexts) compiles on its own', () => {
    // The package's own declarations are judged in hooks.test.ts.
    const own = fixture.diagnostics.filter((d) => !d.file.startsWith('readme-line-') && !d.file.startsWith(PACKAGE))
    expect(own.map((d) => `${d.file}:${d.line}:${d.column} TS${d.code}: ${d.message}`)).toEqual([])
  })

  it.each(blocks)('the block at README.md line $line (context: $context) compiles', (block) => {
    expect(Object.keys(CONTEXT_NAMES), `unknown ts-context "${block.context}"`).toContain(block.context)
    const codeLines = block.code.split('\n')
    const errors = fixture.diagnostics
      .filter((d) => d.file === block.file)
      .map((d) => {
        const index = d.line - 1 - PREAMBLE_LINES
        const where = index >= 0 ? `README.md:${block.line + index}:${d.column}` : `(context import) ${d.column}`
        return `${where} TS${d.code}: ${d.message}\n    > ${(codeLines[index] ?? '').trim()}`
      })
    expect(errors).toEqual([])
  })
})
