/**
 * `npx tsx bench/credential-mask.ts`: what the proxy's credential scan of textual answers costs,
 * in milliseconds of CPU per MB of body, beside a plain copy and gunzip (what a compressed JSON
 * answer costs to decode first). A 64 MB JSON-like body of varied rows goes through each stream
 * chain in 64 KiB chunks, seven times; the median is printed.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { PassThrough, Readable, Writable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, gzipSync } from 'node:zlib'
import { createCredentialMask, credentialForms } from '../src/proxy/credential-scan.js'

const MB = 1024 * 1024
const SIZE = 64 * MB
const CHUNK = 64 * 1024
const RUNS = 7

function jsonLikeBody(): Buffer {
  const rows: string[] = []
  let length = 0
  for (let i = 0; length < SIZE; i++) {
    const row = JSON.stringify({
      id: i,
      region: ['EMEA', 'APAC', 'AMER'][i % 3],
      revenue: (i * 7919) % 100_000,
      product: `Product ${randomBytes(6).toString('base64url')}`,
    })
    rows.push(row)
    length += row.length + 1
  }
  return Buffer.from(`[${rows.join(',')}]`).subarray(0, SIZE)
}

function chunksOf(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0; at < buf.length; at += size) out.push(buf.subarray(at, at + size))
  return out
}

async function msPerMb(chain: () => Transform[], input: readonly Buffer[]): Promise<number> {
  const times: number[] = []
  for (let run = 0; run < RUNS; run++) {
    const copies = input.map((chunk) => Buffer.from(chunk)) // the mask writes in place
    const start = process.hrtime.bigint()
    await pipeline([
      Readable.from(copies),
      ...chain(),
      new Writable({ write: (_chunk, _encoding, done) => done() }),
    ])
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  times.sort((a, b) => a - b)
  return (times[Math.floor(RUNS / 2)] ?? 0) / (SIZE / MB)
}

const body = jsonLikeBody()
const chunks = chunksOf(body, CHUNK)
const gzipped = gzipSync(body)
const gzippedChunks = chunksOf(gzipped, 16 * 1024)
const v2Token = randomBytes(36).toString('base64url')
const longToken = randomBytes(600).toString('base64')
const v1Cookie = [randomBytes(16).toString('hex').toUpperCase(), randomUUID()]
const mask = (secrets: string[]) => () => [
  createCredentialMask({ forms: credentialForms(secrets), limit: Infinity }),
]

const rows: Array<[string, number]> = [
  ['copy only (PassThrough)', await msPerMb(() => [new PassThrough()], chunks)],
  ['mask: v2 token (48-char base64url, 1 form)', await msPerMb(mask([v2Token]), chunks)],
  ['mask: 800-char base64 token (4 forms)', await msPerMb(mask([longToken]), chunks)],
  ['mask: v1 JSESSIONID + clientId (2 forms)', await msPerMb(mask(v1Cookie), chunks)],
  ['gunzip only (per decoded MB)', await msPerMb(() => [createGunzip()], gzippedChunks)],
  [
    'gunzip + mask v2 token (per decoded MB)',
    await msPerMb(() => [createGunzip(), ...mask([v2Token])()], gzippedChunks),
  ],
]
console.log(`gzip ratio of the body: ${(body.length / gzipped.length).toFixed(1)}`)
console.log('| stream chain | ms per MB |\n| --- | --- |')
for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(2)} |`)
