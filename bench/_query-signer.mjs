// The SigV4 query signer alone (src/core/signing/sigv4-query.ts): internal, not a package export,
// so the benches bundle it from source. The yardstick of "the signer alone" rows and of the floors.
export async function loadQuerySigner() {
  const { build } = await import('esbuild')
  const out = await build({
    entryPoints: [new URL('../src/core/signing/sigv4-query.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
  })
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`)
}
