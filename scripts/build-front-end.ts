/**
 * Builds the browser side into dist/front-end with esbuild, offline (everything comes from
 * node_modules): the demo page (src/demo/page → dist/front-end/demo, the real Visual Embed SDK
 * and REST SDK bundled in) and the simulator's embed app (src/simulator/page →
 * dist/front-end/simulator). `npm run build` runs it after tsc; tests call `buildFrontEnd()`.
 *
 * Every file is written under a temporary name and renamed into place, so two builds running at
 * once (parallel test files) never serve a half-written file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build, type OutputFile } from 'esbuild'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** One bundle: its entry point, the static files copied beside it, and where both go. */
interface Bundle {
  entry: string
  out: string
  name: string
  copy: string[]
}

const BUNDLES: readonly Bundle[] = [
  {
    entry: 'src/demo/page/main.ts',
    out: 'dist/front-end/demo',
    name: 'app.js',
    copy: ['src/demo/page/index.html', 'src/demo/page/style.css'],
  },
  {
    entry: 'src/simulator/page/embed-app.ts',
    out: 'dist/front-end/simulator',
    name: 'embed-app.js',
    copy: ['src/simulator/page/embed-app.css'],
  },
]

function writeAtomically(file: string, contents: Uint8Array | string): void {
  mkdirSync(dirname(file), { recursive: true })
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  writeFileSync(temporary, contents)
  renameSync(temporary, file)
}

async function bundle(root: string, { entry, out, name, copy }: Bundle): Promise<void> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: join(out, name),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    write: false,
    logLevel: 'warning',
  })
  const files: OutputFile[] = result.outputFiles
  for (const file of files) writeAtomically(file.path, file.contents)
  for (const source of copy) {
    const target = join(root, out, source.split('/').at(-1) ?? source)
    writeAtomically(target, readFileSync(join(root, source)))
  }
}

/** Builds every bundle of the repository at `root` (default: this repository). */
export async function buildFrontEnd(root: string = ROOT): Promise<void> {
  for (const each of BUNDLES) await bundle(root, each)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildFrontEnd()
}
