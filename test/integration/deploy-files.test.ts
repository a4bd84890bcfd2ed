/**
 * The deployment files (Dockerfile, docker-compose.yml, deploy/) checked without Docker: their
 * structure is parsed and checked against the sources they name, the BFF config the compose file
 * mounts goes through the real loader, and then the two Node services run the way compose runs
 * them (same env, container paths translated to the repo's files, loopback instead of 0.0.0.0).
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { posix } from 'node:path'
import { after, describe, it } from 'node:test'
import YAML from 'yaml'
import { loadConfig } from '../../src/config/load.js'
import { ENV_OVERRIDES } from '../../src/config/env.js'
import {
  freePort,
  ROOT,
  scrubbedEnv,
  spawnNode,
  stopAll,
  waitFor,
} from '../helpers/child-process.js'
import { signAppJwt } from '../helpers/jwt.js'
import { startRedis } from '../helpers/redis.js'

const repoPath = (path: string): string => posix.join(ROOT, path)
const readText = (path: string): string => readFileSync(repoPath(path), 'utf8')

// ---- docker-compose.yml -------------------------------------------------------------------------

interface Healthcheck {
  test?: string | string[]
}
interface Service {
  build?: string | { context?: string; dockerfile?: string }
  image?: string
  command?: string | string[]
  environment?: Record<string, string | number | boolean | null> | string[]
  volumes?: (string | { type?: string; source?: string; target?: string })[]
  secrets?: (string | { source: string; target?: string })[]
  ports?: (string | number)[]
  depends_on?: string[] | Record<string, { condition?: string }>
  healthcheck?: Healthcheck
  deploy?: { replicas?: number }
}
interface Compose {
  services: Record<string, Service>
  secrets?: Record<string, { file?: string }>
}

const composeText = readText('docker-compose.yml')
const compose = YAML.parse(composeText) as Compose

function service(name: string): Service {
  const found = compose.services[name]
  assert.ok(found, `docker-compose.yml has no service "${name}"`)
  return found
}

function envOf(svc: Service): Record<string, string> {
  const out: Record<string, string> = {}
  if (Array.isArray(svc.environment)) {
    for (const item of svc.environment) {
      const at = item.indexOf('=')
      out[at < 0 ? item : item.slice(0, at)] = at < 0 ? '' : item.slice(at + 1)
    }
  } else {
    for (const [name, value] of Object.entries(svc.environment ?? {})) {
      out[name] = value === null ? '' : String(value)
    }
  }
  return out
}

function secretNames(svc: Service): string[] {
  return (svc.secrets ?? []).map((item) => (typeof item === 'string' ? item : item.source))
}

/** Container path → repo path, for every secret and bind mount of `svc`. */
function mountsOf(svc: Service): Map<string, string> {
  const mounts = new Map<string, string>()
  for (const name of secretNames(svc)) {
    const file = compose.secrets?.[name]?.file
    assert.ok(file, `secret ${name} is not defined with a file at the top level`)
    mounts.set(`/run/secrets/${name}`, repoPath(file))
  }
  for (const volume of svc.volumes ?? []) {
    const [source, target] =
      typeof volume === 'string' ? volume.split(':') : [volume.source, volume.target]
    if (source?.startsWith('.') && target) mounts.set(target, repoPath(source))
  }
  return mounts
}

/** The service's environment as it would run on the host: container paths become repo files. */
function hostEnv(svc: Service): Record<string, string> {
  const mounts = mountsOf(svc)
  return Object.fromEntries(
    Object.entries(envOf(svc)).map(([name, value]) => [name, mounts.get(value) ?? value]),
  )
}

function dependsOn(svc: Service): Record<string, string | undefined> {
  const raw = svc.depends_on ?? {}
  return Array.isArray(raw)
    ? Object.fromEntries(raw.map((name) => [name, undefined]))
    : Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, value.condition]))
}

// ---- Dockerfile ---------------------------------------------------------------------------------

interface Instruction {
  keyword: string
  args: string
}

/** Instructions per stage: continuation lines joined, comments and blank lines dropped. */
function dockerStages(text: string): Instruction[][] {
  const logical: string[] = []
  let pending = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (pending === '' && (line === '' || line.startsWith('#'))) continue
    if (line.startsWith('#')) continue
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `
      continue
    }
    logical.push(pending + line)
    pending = ''
  }
  const stages: Instruction[][] = []
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line)
    if (!match) continue
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]! }
    if (instruction.keyword === 'FROM') stages.push([])
    assert.ok(stages.length > 0, `Dockerfile: ${instruction.keyword} before the first FROM`)
    stages[stages.length - 1]!.push(instruction)
  }
  return stages
}

const stages = dockerStages(readText('Dockerfile'))
const finalStage = stages[stages.length - 1] ?? []
const args = (stage: Instruction[], keyword: string): string[] =>
  stage.filter((item) => item.keyword === keyword).map((item) => item.args)

/** ENV lines of a stage (`A=1 B=2` form). */
function dockerEnv(stage: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of args(stage, 'ENV')) {
    for (const match of line.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) {
      env[match[1]!] = match[2]!.replace(/^"|"$/g, '')
    }
  }
  return env
}

/** Where `tsc -p tsconfig.build.json` writes the output of a source file. */
function buildOutput(source: string): string {
  type TsConfig = { extends?: string; compilerOptions?: { outDir?: string; rootDir?: string } }
  const build = JSON.parse(readText('tsconfig.build.json')) as TsConfig
  const base = build.extends ? (JSON.parse(readText(build.extends)) as TsConfig) : {}
  const outDir = build.compilerOptions?.outDir ?? base.compilerOptions?.outDir
  const rootDir = build.compilerOptions?.rootDir ?? base.compilerOptions?.rootDir
  assert.ok(outDir && rootDir, 'tsconfig sets outDir and rootDir')
  return posix.join(outDir, posix.relative(rootDir, source)).replace(/\.ts$/, '.js')
}

// ---- the tests ----------------------------------------------------------------------------------

/** The fixed environment variable names the bff service may set. */
const BFF_ENV_NAMES = new Set([
  ...Object.keys(ENV_OVERRIDES),
  ...['TS_SECRET_KEY', 'SESSION_SECRET', 'IDENTITY_HS256_SECRET'].flatMap((name) => [
    name,
    `${name}_FILE`,
  ]),
  'BFF_CONFIG',
  'BFF_MAPPING',
  'NODE_ENV',
])

/** The variables the simulator's CLI reads. */
const SIM_ENV_NAMES = new Set(
  [...readText('src/simulator/main.ts').matchAll(/env\.(SIM_[A-Z_]+)/g)].map((match) => match[1]!),
)

describe('docker-compose.yml', () => {
  it('has the services of the scale-out topology: simulator, bff, redis and a load balancer', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['bff', 'lb', 'redis', 'thoughtspot'])
  })

  it('builds the simulator and the BFF from this repo and pins the other images', () => {
    for (const name of ['thoughtspot', 'bff']) {
      const { build } = service(name)
      const context = typeof build === 'string' ? build : build?.context
      const dockerfile = (typeof build === 'object' && build.dockerfile) || 'Dockerfile'
      assert.equal(context, '.', `${name} builds from the repo root`)
      assert.ok(existsSync(repoPath(dockerfile)), `${name}: ${dockerfile} exists`)
    }
    assert.equal(service('thoughtspot').image, service('bff').image, 'one image for both')
    assert.match(service('redis').image ?? '', /^redis:7(\.\d+)*-alpine$/)
    assert.match(service('lb').image ?? '', /^nginx:1\.\d+(\.\d+)?-alpine$/)
    for (const [name, svc] of Object.entries(compose.services)) {
      assert.ok(svc.build ?? svc.image, `${name} has a build or an image`)
      assert.doesNotMatch(svc.image ?? '', /:latest$/, `${name} does not use :latest`)
    }
  })

  it('sets only the fixed variable names on the bff service', () => {
    const names = Object.keys(envOf(service('bff')))
    assert.ok(names.length > 0)
    for (const name of names) assert.ok(BFF_ENV_NAMES.has(name), `bff sets unknown ${name}`)
  })

  it('runs two bff replicas that share the redis service through REDIS_URL', () => {
    const bff = service('bff')
    assert.equal(bff.deploy?.replicas, 2)
    assert.equal(envOf(bff).REDIS_URL, 'redis://redis:6379')
    assert.equal(dependsOn(bff).redis, 'service_healthy')
  })

  it('mounts and uses only files that exist in the repo', () => {
    const used = new Set<string>()
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const source of mountsOf(svc).values()) {
        assert.ok(existsSync(source), `${name} mounts ${source}, which does not exist`)
        assert.ok(statSync(source).isFile(), `${source} is a file`)
      }
      for (const secret of secretNames(svc)) used.add(secret)
      // Every *_FILE variable names a mounted secret or file.
      const mounts = mountsOf(svc)
      for (const [variable, value] of Object.entries(envOf(svc))) {
        if (variable.endsWith('_FILE') || variable === 'BFF_CONFIG' || variable === 'BFF_MAPPING')
          assert.ok(mounts.has(value), `${name}: ${variable}=${value} is not mounted`)
      }
    }
    for (const [name, secret] of Object.entries(compose.secrets ?? {})) {
      assert.ok(used.has(name), `secret ${name} is used by a service`)
      assert.match(secret.file ?? '', /\.example$/, `secret ${name} is a marked example file`)
      assert.match(readFileSync(repoPath(secret.file!), 'utf8'), /EXAMPLE/)
    }
  })

  it('gives the simulator only variables its CLI reads, and the BFF the same secret key', () => {
    const sim = service('thoughtspot')
    assert.deepEqual(sim.command, ['node', buildOutput('src/simulator/main.ts')])
    for (const name of Object.keys(envOf(sim))) {
      assert.ok(SIM_ENV_NAMES.has(name), `the simulator does not read ${name}`)
    }
    const simEnv = hostEnv(sim)
    assert.equal(simEnv.SIM_HOST, '0.0.0.0')
    const bffEnv = hostEnv(service('bff'))
    assert.equal(bffEnv.TS_HOST, `http://thoughtspot:${simEnv.SIM_PORT ?? '8088'}`)
    assert.ok(simEnv.SIM_SECRET_KEY_FILE && bffEnv.TS_SECRET_KEY_FILE)
    assert.equal(simEnv.SIM_SECRET_KEY_FILE, bffEnv.TS_SECRET_KEY_FILE, 'one trusted-auth key')
  })

  it('starts in order: healthchecks behind every service_healthy dependency', () => {
    assert.equal(dependsOn(service('bff')).thoughtspot, 'service_healthy')
    assert.equal(dependsOn(service('lb')).bff, 'service_healthy')
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const [dependency, condition] of Object.entries(dependsOn(svc))) {
        assert.ok(compose.services[dependency], `${name} depends on unknown ${dependency}`)
        if (condition === 'service_healthy') {
          assert.ok(compose.services[dependency]?.healthcheck?.test, `${dependency} healthcheck`)
        }
      }
    }
    // The simulator must not inherit the image's HEALTHCHECK (the BFF's /healthz on :3000).
    assert.ok(service('thoughtspot').healthcheck?.test)
    assert.match(JSON.stringify(service('redis').healthcheck?.test), /redis-cli.*ping/)
  })

  it('mounts a BFF config that the real loader accepts with the compose environment', () => {
    const env = { ...dockerEnv(finalStage), ...hostEnv(service('bff')) }
    assert.equal(env.BFF_CONFIG, repoPath('deploy/bff.yaml'))
    const config = loadConfig(env)
    assert.equal(config.mode, 'normal')
    assert.equal(config.production, true)
    assert.equal(config.server.trustProxy, true)
    assert.equal(config.server.host, '0.0.0.0')
    assert.equal(config.server.port, 3000)
    assert.equal(config.thoughtspot.host, 'http://thoughtspot:8088')
    assert.equal(config.redis.url, 'redis://redis:6379')
    assert.ok(config.proxy.allow.length > 0, 'the mounted config brings its own allowlist')
    assert.ok(config.server.cors.origins.length > 0)
    const secret = (name: string): string => readFileSync(env[name]!, 'utf8').trimEnd()
    assert.equal(config.secrets.tsSecretKey, secret('TS_SECRET_KEY_FILE'))
    assert.deepEqual(config.secrets.sessionSecrets, [secret('SESSION_SECRET_FILE')])
    assert.equal(config.secrets.identityHs256Secret, secret('IDENTITY_HS256_SECRET_FILE'))
  })
})

describe('deploy/nginx.conf', () => {
  const conf = readText('deploy/nginx.conf')
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('\n')
  const lb = service('lb')

  it('is mounted as the lb server config', () => {
    assert.equal(mountsOf(lb).get('/etc/nginx/conf.d/default.conf'), repoPath('deploy/nginx.conf'))
  })

  it('balances over the bff service port and listens on the published port', () => {
    const upstream = /upstream\s+(\S+)\s*\{([^}]*)\}/.exec(conf)
    assert.ok(upstream, 'an upstream block')
    const bffPort = dockerEnv(finalStage).PORT
    assert.match(upstream[2]!, new RegExp(`\\bserver\\s+bff:${bffPort}\\b`))
    assert.match(conf, new RegExp(`proxy_pass\\s+http://${upstream[1]!};`))
    const listen = /\blisten\s+(\d+)\s*;/.exec(conf)?.[1]
    assert.ok(listen)
    assert.ok(
      (lb.ports ?? []).some((port) => String(port).endsWith(`:${listen}`)),
      `lb publishes container port ${listen}`,
    )
  })

  it('forwards the real scheme, client address and host (the BFF trusts them)', () => {
    assert.match(conf, /proxy_set_header\s+X-Forwarded-Proto\s+\$scheme\s*;/)
    assert.doesNotMatch(conf, /X-Forwarded-Proto\s+"?https"?\s*;/, 'never claims https over http')
    assert.match(conf, /proxy_set_header\s+X-Forwarded-For\s+\$remote_addr\s*;/)
    assert.match(conf, /proxy_set_header\s+X-Forwarded-Host\s+\$http_host\s*;/)
  })
})

describe('Dockerfile', () => {
  it('is multi-stage on node:20-bookworm-slim', () => {
    assert.ok(stages.length >= 2)
    for (const stage of stages) {
      assert.match(stage[0]!.args, /^node:20-bookworm-slim(\s+AS\s+\S+)?$/i)
    }
  })

  it('builds with npm ci and npm run build, and installs production dependencies only at run time', () => {
    const builder = stages[0]!
    assert.ok(args(builder, 'RUN').some((line) => /^npm ci\b/.test(line)))
    assert.ok(args(builder, 'RUN').some((line) => /\bnpm run build\b/.test(line)))
    assert.ok(
      args(finalStage, 'RUN').some((line) => /\bnpm ci --omit=dev --ignore-scripts\b/.test(line)),
    )
  })

  it('runs as node with the production settings, a healthcheck and the built entry', () => {
    const users = args(finalStage, 'USER')
    assert.equal(users[users.length - 1], 'node')
    assert.deepEqual(dockerEnv(finalStage), {
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      PORT: '3000',
    })
    assert.deepEqual(args(finalStage, 'EXPOSE'), ['3000'])
    const healthcheck = args(finalStage, 'HEALTHCHECK')
    assert.equal(healthcheck.length, 1)
    assert.match(healthcheck[0]!, /CMD .*\/healthz/)
    const cmd = JSON.parse(args(finalStage, 'CMD').at(-1)!) as string[]
    assert.ok(existsSync(repoPath('src/main.ts')))
    assert.deepEqual(cmd, ['node', buildOutput('src/main.ts')])
    assert.equal(buildOutput('src/main.ts'), 'dist/src/main.js')
  })

  it('copies only sources that exist, and the build output from the builder', () => {
    const ignored = readText('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
    for (const name of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(name))
    for (const stage of stages) {
      for (const line of args(stage, 'COPY')) {
        const parts = line.split(/\s+/)
        if (parts.some((part) => part.startsWith('--from='))) continue
        const sources = parts.filter((part) => !part.startsWith('--')).slice(0, -1)
        assert.ok(sources.length > 0, `COPY ${line}`)
        for (const source of sources) {
          assert.ok(existsSync(repoPath(source)), `COPY source ${source} exists`)
          assert.ok(!ignored.includes(source), `COPY source ${source} is not in .dockerignore`)
        }
      }
    }
    const builderDir = args(stages[0]!, 'WORKDIR').at(-1)
    const outDir = buildOutput('src/main.ts').split('/')[0]!
    assert.ok(
      args(finalStage, 'COPY').some((line) =>
        new RegExp(`^--from=\\S+\\s+${builderDir}/${outDir}\\s+\\./${outDir}$`).test(line),
      ),
      'the build output is copied from the builder',
    )
    // The browser bundles (demo page, simulator embed app) are built into dist/front-end, so
    // the builder needs their build script; the final stage gets them with dist.
    assert.ok(args(stages[0]!, 'COPY').some((line) => /^scripts\/build-front-end\.ts\s/.test(line)))
    assert.ok(existsSync(repoPath('src/demo/page/index.html')))
  })
})

describe('the compose services, run as compose runs them (on loopback)', () => {
  const START_TIMEOUT_MS = 60_000
  after(stopAll)

  it('starts the simulator, Redis and two BFF replicas; they serve as one, and stop on SIGTERM', async () => {
    const simPort = await freePort()
    const sim = spawnNode(
      'src/simulator/main.ts',
      scrubbedEnv({
        ...dockerEnv(finalStage),
        ...hostEnv(service('thoughtspot')),
        SIM_HOST: '127.0.0.1',
        SIM_PORT: String(simPort),
      }),
    )
    const simUrl = `http://127.0.0.1:${simPort}`
    await waitFor(() => sim.output().stdout.includes(simUrl), {
      timeoutMs: START_TIMEOUT_MS,
      what: 'the simulator listens',
      child: sim,
    })
    const redis = await startRedis()

    const bffEnv = hostEnv(service('bff'))
    assert.equal(bffEnv.REDIS_URL, 'redis://redis:6379')
    const replicas = await Promise.all(
      [0, 1].map(async () => {
        const port = await freePort()
        const child = spawnNode(
          'src/main.ts',
          scrubbedEnv({
            ...dockerEnv(finalStage),
            ...bffEnv,
            TS_HOST: simUrl,
            REDIS_URL: redis.url,
            HOST: '127.0.0.1',
            PORT: String(port),
          }),
        )
        return { child, url: `http://127.0.0.1:${port}` }
      }),
    )
    try {
      for (const { child, url } of replicas) {
        await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => null))?.ok === true, {
          timeoutMs: START_TIMEOUT_MS,
          what: '/readyz answers 200',
          child,
        })
        assert.equal((await fetch(`${url}/healthz`)).status, 200)
      }
      const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]]

      // An app JWT signed with the example HS256 secret, iss and aud as compose sets them.
      const jwt = await signAppJwt(
        { sub: 'compose-user@acme.com', roles: ['analyst'] },
        {
          now: Date.now,
          secret: readFileSync(bffEnv.IDENTITY_HS256_SECRET_FILE!, 'utf8').trimEnd(),
          issuer: bffEnv.IDENTITY_ISSUER!,
          audience: bffEnv.IDENTITY_AUDIENCE!,
        },
      )
      const headers = { Authorization: `Bearer ${jwt}` }
      const fromA = await fetch(`${a.url}/ts/auth/token`, { headers })
      assert.equal(fromA.status, 200, await fromA.clone().text())
      const fromB = await fetch(`${b.url}/ts/auth/token`, { headers })
      assert.equal(await fromB.text(), await fromA.text(), 'B hands out the token A minted')

      // Cookie sessions need https as the load balancer reports it (trustProxy: true).
      const plain = await fetch(`${a.url}/ts/session`, { method: 'POST', headers })
      assert.equal(plain.status, 400)
      const behindTls = await fetch(`${a.url}/ts/session`, {
        method: 'POST',
        headers: { ...headers, 'X-Forwarded-Proto': 'https' },
      })
      assert.equal(behindTls.status, 200)
      const setCookie = behindTls.headers.get('set-cookie') ?? ''
      assert.match(setCookie, /;\s*Secure/i)
      const onB = await fetch(`${b.url}/ts/session`, {
        headers: { Cookie: setCookie.split(';')[0]!, 'X-Forwarded-Proto': 'https' },
      })
      assert.equal(onB.status, 200, 'the session made through A works through B')

      for (const { child } of replicas) assert.equal(await child.stop(), 0, child.transcript())
    } finally {
      await redis.stop()
    }
    assert.equal(await sim.stop(), 0, sim.transcript())
  })
})
