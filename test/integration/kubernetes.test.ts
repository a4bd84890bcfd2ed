/**
 * The Kubernetes manifests (deploy/kubernetes/) checked without a cluster: parsed, and checked
 * against the code they configure. The environment names are ones the BFF reads, every file
 * variable points into a mounted volume that holds that file, the config and mapping embedded in
 * the ConfigMaps go through the BFF's real loaders with the Deployment's environment (container
 * paths translated to a temp dir), probes hit routes the real app answers, and the pod is locked
 * down as the README says.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Secret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import YAML from 'yaml'
import { ENV_OVERRIDES } from '../../src/config/env.js'
import { loadConfig } from '../../src/config/load.js'
import { loadMappingFile } from '../../src/mapping/schema.js'
import { ROOT } from '../helpers/child-process.js'
import { startStack, type Stack } from '../helpers/start.js'

const DIR = posix.join(ROOT, 'deploy/kubernetes')
const readText = (file: string): string => readFileSync(posix.join(DIR, file), 'utf8')

// ---- the parsed manifests -----------------------------------------------------------------------

type Labels = Record<string, string>
interface Manifest<Spec = unknown> {
  apiVersion: string
  kind: string
  metadata: { name: string; labels?: Labels; annotations?: Labels }
  spec: Spec
  data?: Record<string, string>
  stringData?: Record<string, string>
}
interface EnvVar {
  name: string
  value?: string
  valueFrom?: { secretKeyRef?: { name: string; key: string } }
}
interface Probe {
  httpGet?: { path: string; port: string | number }
}
interface KeyToPath {
  key: string
  path: string
}
interface Volume {
  name: string
  configMap?: { name: string; items?: KeyToPath[] }
  secret?: { secretName: string; items?: KeyToPath[]; defaultMode?: number }
  emptyDir?: Record<string, unknown>
}
interface VolumeMount {
  name: string
  mountPath: string
  readOnly?: boolean
  subPath?: string
  subPathExpr?: string
}
interface SecurityContext {
  runAsNonRoot?: boolean
  runAsUser?: number
  fsGroup?: number
  readOnlyRootFilesystem?: boolean
  allowPrivilegeEscalation?: boolean
  privileged?: boolean
  capabilities?: { drop?: string[]; add?: string[] }
  seccompProfile?: { type: string }
}
interface Container {
  image: string
  ports: { name: string; containerPort: number }[]
  env: EnvVar[]
  volumeMounts: VolumeMount[]
  resources: { requests: Labels; limits: Labels }
  securityContext: SecurityContext
  startupProbe?: Probe
  livenessProbe?: Probe
  readinessProbe?: Probe
  lifecycle?: { preStop?: { exec?: { command: string[] } } }
}
interface PodSpec {
  containers: Container[]
  volumes: Volume[]
  securityContext: SecurityContext
  terminationGracePeriodSeconds: number
  automountServiceAccountToken?: boolean
  enableServiceLinks?: boolean
  hostNetwork?: boolean
  topologySpreadConstraints: { topologyKey: string; labelSelector: { matchLabels: Labels } }[]
}
interface DeploymentSpec {
  replicas: number
  selector: { matchLabels: Labels }
  strategy: { rollingUpdate: { maxUnavailable: number | string } }
  template: { metadata: { labels: Labels; annotations?: Labels }; spec: PodSpec }
}
interface ServiceSpec {
  selector: Labels
  ports: { targetPort: string | number }[]
}
interface PdbSpec {
  minAvailable: number
  selector: { matchLabels: Labels }
}

function manifestsIn(file: string): Manifest[] {
  return YAML.parseAllDocuments(readText(file)).map((doc) => {
    assert.equal(doc.errors.length, 0, `${file}: ${doc.errors.join('; ')}`)
    return doc.toJS() as Manifest
  })
}

interface Kustomization {
  apiVersion: string
  kind: string
  resources: string[]
  images?: { name: string; newName?: string; newTag?: string }[]
}

const kustomization = YAML.parse(readText('kustomization.yaml')) as Kustomization
const applied = kustomization.resources.flatMap(manifestsIn)

function one<Spec = unknown>(kind: string, name?: string): Manifest<Spec> {
  const found = applied.filter(
    (item) => item.kind === kind && (name === undefined || item.metadata.name === name),
  )
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''} is applied`)
  return found[0] as Manifest<Spec>
}

const deployment = one<DeploymentSpec>('Deployment')
const pod = deployment.spec.template.spec
const container = pod.containers[0]!
const { env } = container
const secretExample = manifestsIn('secret.example.yaml')[0]!

/** The variables the BFF reads: overrides, the secrets inline or as files, and paths. */
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

/** The value the Deployment gives a variable, secret references resolved from the example. */
function envValue(item: EnvVar): string {
  const ref = item.valueFrom?.secretKeyRef
  if (ref) {
    assert.equal(ref.name, secretExample.metadata.name, `${item.name}: the Secret it reads`)
    const value = secretExample.stringData?.[ref.key]
    assert.ok(value, `${item.name}: the Secret has the key ${ref.key}`)
    return value
  }
  assert.ok(item.value !== undefined, `${item.name} has a value`)
  return item.value
}

function volume(name: string): Volume {
  const found = pod.volumes.find((item) => item.name === name)
  assert.ok(found, `volume ${name} exists`)
  return found
}

/** File name → content of every file a volume provides (ConfigMap data, Secret items). */
function volumeFiles(name: string): Map<string, string> {
  const source = volume(name)
  const files = new Map<string, string>()
  if (source.configMap) {
    const map = one('ConfigMap', source.configMap.name)
    const items =
      source.configMap.items ?? Object.keys(map.data ?? {}).map((key) => ({ key, path: key }))
    for (const { key, path } of items) files.set(path, map.data?.[key] ?? '')
  } else if (source.secret) {
    assert.equal(source.secret.secretName, secretExample.metadata.name)
    const items =
      source.secret.items ??
      Object.keys(secretExample.stringData ?? {}).map((key) => ({ key, path: key }))
    for (const { key, path } of items) {
      const value = secretExample.stringData?.[key]
      assert.ok(value, `the Secret has the key ${key} that volume ${name} mounts`)
      files.set(path, value)
    }
  }
  return files
}

/** The mount under which a container path lies, and the file's name inside it. */
function mountOf(path: string): { volume: string; file: string } | undefined {
  for (const mount of container.volumeMounts) {
    const prefix = `${mount.mountPath.replace(/\/$/, '')}/`
    if (path.startsWith(prefix)) return { volume: mount.name, file: path.slice(prefix.length) }
  }
  return undefined
}

/** Kubernetes quantities in base units (cores, bytes), enough for the ones used here. */
function quantity(value: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(String(value))
  assert.ok(match, `quantity ${value}`)
  const factor = { m: 0.001, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[match[2] ?? ''] ?? 1
  return Number(match[1]) * factor
}

// ---- the tests ----------------------------------------------------------------------------------

describe('deploy/kubernetes: the kustomization', () => {
  it('applies every manifest in the directory but the example Secret and the examples/ folder', () => {
    const manifests = readdirSync(DIR).filter(
      (file) => file.endsWith('.yaml') && file !== 'kustomization.yaml',
    )
    assert.deepEqual(
      [...kustomization.resources].sort(),
      manifests.filter((file) => file !== 'secret.example.yaml').sort(),
    )
    assert.ok(!kustomization.resources.some((file) => file.startsWith('examples/')))
    assert.match(readText('secret.example.yaml'), /EXAMPLE ONLY/)
    for (const value of Object.values(secretExample.stringData ?? {})) {
      if (!value.startsWith('redis://')) assert.match(value, /^EXAMPLE-ONLY-/)
    }
    assert.match(readText('examples/redis.yaml'), /^# NOT FOR PRODUCTION\./)
  })

  it('holds only objects valid against the Kubernetes API schema, examples included', () => {
    const models: Record<string, (value: Manifest) => { validate(): void }> = {
      'apps/v1 Deployment': (value) => new Deployment(value as never),
      'v1 Service': (value) => new Service(value as never),
      'v1 ConfigMap': (value) => new ConfigMap(value as never),
      'v1 Secret': (value) => new Secret(value as never),
      'policy/v1 PodDisruptionBudget': (value) => new PodDisruptionBudget(value as never),
    }
    const all = [
      ...applied,
      ...manifestsIn('secret.example.yaml'),
      ...manifestsIn('examples/redis.yaml'),
    ]
    for (const item of all) {
      const model = models[`${item.apiVersion} ${item.kind}`]
      assert.ok(model, `${item.apiVersion} ${item.kind} is a kind this test validates`)
      assert.doesNotThrow(() => model(item).validate(), `${item.kind} ${item.metadata.name}`)
    }
  })

  it('uses only transformations this test models, and pins the image', () => {
    // namePrefix, commonLabels, patches, generators… would change what the checks below see.
    assert.deepEqual(Object.keys(kustomization).sort(), [
      'apiVersion',
      'images',
      'kind',
      'resources',
    ])
    assert.equal(kustomization.kind, 'Kustomization')
    const image = kustomization.images?.find((item) => item.name === container.image)
    assert.ok(image, `kustomization.yaml sets the image ${container.image}`)
    assert.ok(image.newName && image.newTag)
    assert.notEqual(image.newTag, 'latest')
  })
})

describe('deploy/kubernetes: the Deployment environment', () => {
  it('sets only variables the BFF reads, each once, and no secret inline', () => {
    const names = env.map((item) => item.name)
    assert.equal(new Set(names).size, names.length, 'no variable twice')
    for (const name of names) assert.ok(BFF_ENV_NAMES.has(name), `the BFF does not read ${name}`)
    for (const secret of ['TS_SECRET_KEY', 'SESSION_SECRET', 'IDENTITY_HS256_SECRET']) {
      assert.ok(!names.includes(secret), `${secret} comes from a file, not inline`)
    }
    for (const name of ['NODE_ENV', 'HOST', 'PORT', 'BFF_CONFIG', 'BFF_MAPPING']) {
      assert.ok(names.includes(name), `${name} is set explicitly`)
    }
  })

  it('shows only real variable names in its commented alternatives', () => {
    const commented = [...readText('deployment.yaml').matchAll(/^\s*#\s*- name: ([A-Z0-9_]+)/gm)]
    assert.ok(commented.length >= 2, 'the identity alternatives are shown')
    for (const [, name] of commented) assert.ok(BFF_ENV_NAMES.has(name!), name)
  })

  it('runs two replicas with REDIS_URL from the Secret', () => {
    assert.equal(deployment.spec.replicas, 2)
    const redis = env.find((item) => item.name === 'REDIS_URL')
    assert.ok(redis?.valueFrom?.secretKeyRef, 'REDIS_URL comes from a secretKeyRef')
    assert.match(envValue(redis), /^rediss?:\/\//)
  })

  it('points every file variable into a mounted volume that holds that file', () => {
    const fileVars = env.filter(
      (item) => item.name.endsWith('_FILE') || ['BFF_CONFIG', 'BFF_MAPPING'].includes(item.name),
    )
    assert.ok(fileVars.some((item) => item.name === 'TS_SECRET_KEY_FILE'))
    assert.ok(fileVars.some((item) => item.name === 'SESSION_SECRET_FILE'))
    for (const item of fileVars) {
      const mount = mountOf(envValue(item))
      assert.ok(mount, `${item.name}=${item.value} is inside a volume mount`)
      assert.ok(
        volumeFiles(mount.volume).has(mount.file),
        `volume ${mount.volume} provides ${mount.file} (${item.name})`,
      )
    }
    // Secret files come from the Secret volume, config and mapping from their ConfigMaps.
    for (const item of fileVars) {
      const source = volume(mountOf(envValue(item))!.volume)
      if (item.name.endsWith('_FILE')) assert.ok(source.secret, `${item.name} is a Secret file`)
      else assert.ok(source.configMap, `${item.name} is a ConfigMap file`)
    }
  })

  it('mounts the mapping (and everything else) as a directory: no subPath', () => {
    for (const mount of container.volumeMounts) {
      assert.equal(mount.subPath, undefined, `${mount.name} has no subPath`)
      assert.equal(mount.subPathExpr, undefined)
    }
    const mapping = env.find((item) => item.name === 'BFF_MAPPING')!
    const mount = mountOf(envValue(mapping))!
    assert.ok(volume(mount.volume).configMap)
    assert.ok(!mount.file.includes('/'), 'the mapping file sits at the top of its mount')
  })
})

describe('deploy/kubernetes: the embedded config and mapping, through the real loaders', () => {
  let dir: string
  let hostEnv: Record<string, string>
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbff-k8s-'))
    // Every mounted volume becomes a folder holding its files; container paths point there.
    const hostPath = new Map<string, string>()
    for (const mount of container.volumeMounts) {
      const folder = join(dir, mount.name)
      mkdirSync(folder)
      for (const [file, content] of volumeFiles(mount.name))
        writeFileSync(join(folder, file), content)
      hostPath.set(mount.mountPath.replace(/\/$/, ''), folder)
    }
    hostEnv = Object.fromEntries(
      env.map((item) => {
        const value = envValue(item)
        const mount = mountOf(value)
        const folder = mount && hostPath.get(value.slice(0, -mount.file.length - 1))
        return [item.name, folder ? join(folder, mount.file) : value]
      }),
    )
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('loads the config in production with the Deployment environment', () => {
    const config = loadConfig(hostEnv)
    assert.equal(config.production, true)
    assert.equal(config.mode, 'normal')
    assert.equal(config.server.host, '0.0.0.0')
    assert.equal(config.server.trustProxy, true)
    assert.ok(config.server.publicOrigin?.startsWith('https://'))
    assert.equal(config.thoughtspot.host, hostEnv.TS_HOST)
    assert.equal(config.redis.url, hostEnv.REDIS_URL)
    assert.ok(config.identity.jwksUrl, 'the example identity source is a JWKS URL')
    assert.equal(config.secrets.identityHs256Secret, null)
    assert.equal(config.identity.publicKeyFile, null)
    assert.equal(config.secrets.tsSecretKey, secretExample.stringData?.ts_secret_key)
    assert.deepEqual(config.secrets.sessionSecrets, [secretExample.stringData?.session_secret])
    assert.ok(config.proxy.allow.length > 0, 'the config brings its own allowlist')
    assert.ok(config.server.cors.origins.length > 0)
  })

  it('loads the mapping with the real mapping loader', () => {
    const result = loadMappingFile(hostEnv.BFF_MAPPING!)
    assert.ok('loaded' in result, 'problems' in result ? result.problems.join('\n') : '')
    assert.ok(result.loaded.mapping.default, 'a default, so no user is refused for lack of a rule')
  })

  it('exposes the ports the config listens on', () => {
    const config = loadConfig(hostEnv)
    const port = (name: string): number | undefined =>
      container.ports.find((item) => item.name === name)?.containerPort
    assert.equal(port('http'), config.server.port)
    assert.equal(port('metrics'), config.server.metricsPort)
    const annotations = deployment.spec.template.metadata.annotations ?? {}
    assert.equal(annotations['prometheus.io/port'], String(config.server.metricsPort))
    const service = one<ServiceSpec>('Service')
    assert.deepEqual(
      service.spec.ports.map((item) => item.targetPort),
      ['http'],
      'the Service exposes the http port only, never /metrics',
    )
  })

  it('gives the pod longer to stop than the preStop pause plus any shutdown deadline', () => {
    const config = loadConfig(hostEnv) as unknown as Record<string, Record<string, unknown>>
    const preStop = container.lifecycle?.preStop?.exec?.command ?? []
    const pause = preStop[0] === 'sleep' ? Number(preStop[1]) : 0
    // A shutdown deadline the schema may gain (e.g. server.shutdownTimeoutMs), wherever it is.
    const deadlines = Object.values(config)
      .flatMap((section) => (section && typeof section === 'object' ? Object.entries(section) : []))
      .filter(([key, value]) => /shutdown.*ms$/i.test(key) && typeof value === 'number')
      .map(([, value]) => (value as number) / 1000)
    const grace = pod.terminationGracePeriodSeconds
    assert.ok(grace >= 30)
    for (const deadline of [0, ...deadlines]) {
      assert.ok(grace > pause + deadline, `grace ${grace} s > ${pause} s + ${deadline} s`)
    }
  })
})

describe('deploy/kubernetes: probes against the real app', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack()
  })
  after(() => stack.close())

  const probes: Record<string, Probe | undefined> = {
    startupProbe: container.startupProbe,
    livenessProbe: container.livenessProbe,
    readinessProbe: container.readinessProbe,
  }

  it('checks /healthz for liveness and start-up, /readyz for readiness, on the http port', () => {
    assert.equal(probes.livenessProbe?.httpGet?.path, '/healthz')
    assert.equal(probes.startupProbe?.httpGet?.path, '/healthz')
    assert.equal(probes.readinessProbe?.httpGet?.path, '/readyz')
    for (const [name, probe] of Object.entries(probes)) {
      assert.equal(probe?.httpGet?.port, 'http', `${name} uses the named http port`)
    }
  })

  it('probes routes the app answers with 200', async () => {
    for (const [name, probe] of Object.entries(probes)) {
      const response = await stack.request.get(probe!.httpGet!.path)
      assert.equal(response.status, 200, `${name} ${probe!.httpGet!.path}`)
    }
  })
})

describe('deploy/kubernetes: the pod is locked down', () => {
  it('runs as the image user, non-root, read-only, unprivileged, seccomp RuntimeDefault', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true)
    assert.equal(pod.securityContext.runAsUser, 1000)
    assert.equal(pod.securityContext.seccompProfile?.type, 'RuntimeDefault')
    const security = container.securityContext
    assert.equal(security.runAsNonRoot, true)
    assert.equal(security.runAsUser ?? pod.securityContext.runAsUser, 1000)
    assert.equal(security.readOnlyRootFilesystem, true)
    assert.equal(security.allowPrivilegeEscalation, false)
    assert.notEqual(security.privileged, true)
    assert.deepEqual(security.capabilities?.drop, ['ALL'])
    assert.equal(security.capabilities?.add, undefined)
    assert.equal(security.seccompProfile?.type ?? 'RuntimeDefault', 'RuntimeDefault')
    assert.equal(pod.automountServiceAccountToken, false)
    assert.equal(pod.enableServiceLinks, false)
    assert.equal(pod.hostNetwork ?? false, false)
  })

  it('gives the read-only filesystem a writable /tmp and keeps secret files group-readable only', () => {
    const tmp = container.volumeMounts.find((mount) => mount.mountPath === '/tmp')
    assert.ok(tmp, '/tmp is mounted')
    assert.ok(volume(tmp.name).emptyDir, '/tmp is an emptyDir')
    const secrets = pod.volumes.flatMap((item) => (item.secret ? [item.secret] : []))
    assert.ok(secrets.length > 0)
    for (const secret of secrets) assert.equal(secret.defaultMode, 0o440)
    assert.equal(pod.securityContext.fsGroup, 1000, 'the group that may read them')
    for (const mount of container.volumeMounts) {
      if (mount.mountPath !== '/tmp') assert.equal(mount.readOnly, true, `${mount.name} read-only`)
    }
  })

  it('asks for resources within its limits', () => {
    const { requests, limits } = container.resources
    for (const kind of ['cpu', 'memory']) {
      assert.ok(requests[kind] && limits[kind], `${kind} request and limit`)
      assert.ok(quantity(requests[kind]) <= quantity(limits[kind]), `${kind} request ≤ limit`)
    }
  })
})

describe('deploy/kubernetes: labels and selectors agree', () => {
  const podLabels = deployment.spec.template.metadata.labels
  const selects = (selector: Labels, what: string): void => {
    assert.ok(Object.keys(selector).length > 0, `${what} selects something`)
    for (const [key, value] of Object.entries(selector)) {
      assert.equal(podLabels[key], value, `${what} selects the pods by ${key}`)
    }
  }

  it('the Deployment, Service, PodDisruptionBudget and spread constraints select the same pods', () => {
    const selector = deployment.spec.selector.matchLabels
    selects(selector, 'the Deployment')
    const service = one<ServiceSpec>('Service')
    assert.deepEqual(service.spec.selector, selector)
    const pdb = one<PdbSpec>('PodDisruptionBudget')
    assert.deepEqual(pdb.spec.selector.matchLabels, selector)
    const spread = pod.topologySpreadConstraints
    assert.ok(spread.some((item) => item.topologyKey === 'kubernetes.io/hostname'))
    for (const item of spread) assert.deepEqual(item.labelSelector.matchLabels, selector)
  })

  it('keeps one replica through voluntary disruptions and rollouts', () => {
    const pdb = one<PdbSpec>('PodDisruptionBudget')
    assert.equal(pdb.apiVersion, 'policy/v1')
    assert.equal(pdb.spec.minAvailable, 1)
    assert.ok(pdb.spec.minAvailable < deployment.spec.replicas)
    assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0)
  })

  it('labels every applied object like the pods it belongs to', () => {
    for (const item of applied) {
      assert.equal(
        item.metadata.labels?.['app.kubernetes.io/name'],
        podLabels['app.kubernetes.io/name'],
        `${item.kind} ${item.metadata.name}`,
      )
    }
  })
})
