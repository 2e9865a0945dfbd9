/**
 * `npm run build`: bundles src/cli.ts and what it imports into dist/ with esbuild, tree-shaken,
 * as ES modules; modules loaded on demand (the SSM client, the SDK's credential providers) get
 * chunks of their own, and two packages CommonJS files of their own (ON_DEMAND below). A bundle
 * starts in a fraction of the time and memory of node_modules loaded file by file (README,
 * "Scale"). The tests and the benchmark run this bundle.
 */
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire, isBuiltin } from 'node:module';
import { build, type Plugin } from 'esbuild';

const OUT = new URL('../dist/', import.meta.url);

/**
 * The EC2 client's chunk (src/aws/ec2Client.ts and what it needs of the SDK) is some 72 KB with
 * its schemas tree-shaken; with the whole client, 2 MB. Past this, the build fails: the SDK
 * changed and literalSchemaKeys no longer works, or the client is imported whole.
 */
const EC2_CHUNK_MAX_BYTES = 256 * 1024;

/** The clients whose schema modules literalSchemaKeys must rewrite, and those it did. */
const CLIENTS = ['client-ec2', 'client-ecs', 'client-ssm'] as const;
const rewrittenClients = new Set<string>();

/**
 * The clients' schemas (one module for every shape of every action: 1.3 MB for EC2's 700) write
 * object keys as computed keys (`{ [_xN]: _m }`, `_xN` a string constant), which esbuild must
 * keep, since computing a key could have side effects: the whole module stayed in the bundle for
 * the few actions we call. Writing those keys as the literals they are lets tree shaking drop the
 * rest. Should an SDK release change the module, the build fails here instead of growing; should
 * it move or rename it, the checks after the build fail it.
 */
const literalSchemaKeys: Plugin = {
  name: 'literal-schema-keys',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]client-(ec2|ecs|ssm)[\\/]dist-es[\\/]schemas[\\/]schemas_0\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const constants = new Map([...text.matchAll(/^const (_\w+) = ("[^"\n\\]*");$/gm)].map((match) => [match[1], match[2]]));
      let replaced = 0;
      const contents = text.replace(/\[(_\w+)\]:/g, (computed, name: string) => {
        const literal = constants.get(name);
        if (literal === undefined) return computed;
        replaced += 1;
        return `${literal}:`;
      });
      if (constants.size === 0 || replaced === 0) {
        throw new Error(`${args.path}: no computed schema keys of string constants found; the SDK changed, revisit scripts/bundle.ts`);
      }
      rewrittenClients.add(/client-(ec2|ecs|ssm)/.exec(args.path)?.[0] ?? args.path);
      return { contents, loader: 'js' };
    });
  },
};

/**
 * Node.js's built-in modules are loaded with require(), not import. An import makes Node.js build
 * the module's ES facade, which reads every export once, lazy ones included: on Node.js 22 and 24,
 * reading `http.WebSocket` loads undici, http2, tls and web streams, code we never run. Measured at
 * the first AWS call: 3.8 MB less RSS on Node.js 22, 4.6 MB on 24, 0.6 MB on 20.
 * Each built-in module gets a small ES module of our own that require()s it and exports its plain
 * values and the getters named in GETTERS_READ. (A CommonJS module there would cost about 1 MB
 * more: esbuild copies every export of it into a getter, for each module importing it.) require()
 * calls of the CommonJS dependencies go to require() directly.
 */

/**
 * The exports that are getters (on some Node.js) and that our code or the SDK's reads. Others are
 * left out: a getter may load code we never run or print a deprecation warning. A static import of
 * one that is not here fails the build ("No matching export in builtin:node:..."), and so does
 * reading one from a namespace (`import-is-undefined`, made an error below).
 */
const GETTERS_READ: Record<string, string[]> = {
  // The SDK's recursion detection makes one with `(await import('node:async_hooks')).AsyncLocalStorage` when AWS_LAMBDA_MAX_CONCURRENCY is set.
  'node:async_hooks': ['AsyncLocalStorage'],
  'node:crypto': ['getRandomValues'],
  'node:fs': ['promises', 'ReadStream'],
  'node:util': ['parseArgs'],
};

/**
 * Getters of modules that code import()s, known not to be read from the namespace: the SDK reads
 * http's exports from the module itself (`node_http.default ?? node_http`). A dynamic import()
 * gets a namespace, whose missing exports are undefined with no error: so the build fails when a
 * module so imported has a getter in neither list.
 */
const GETTERS_NOT_READ: Record<string, string[]> = {
  'node:http': ['WebSocket', 'CloseEvent', 'MessageEvent', 'globalAgent', 'maxHeaderSize'],
};

const exportsSeen = new Map<string, Map<string, 'value' | 'getter'>>();

/**
 * The exports of a built-in module, each a plain value or a getter, as a fresh Node.js process
 * sees them: in this one, an ES import (tsx's own) has already turned some getters into values.
 */
function exportsOf(name: string): Map<string, 'value' | 'getter'> {
  const known = exportsSeen.get(name);
  if (known !== undefined) return known;
  const script = `const all = Object.getOwnPropertyDescriptors(require(${JSON.stringify(name)})); console.log(JSON.stringify(Object.entries(all).map(([key, descriptor]) => [key, 'value' in descriptor ? 'value' : 'getter'])));`;
  const seen = new Map(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })) as [string, 'value' | 'getter'][]);
  exportsSeen.set(name, seen);
  return seen;
}

/**
 * An ES module that require()s `name` and exports its plain values and GETTERS_READ, each read by
 * a call marked pure: tree shaking keeps only the reads of what the code imports, so that on a
 * newer Node.js, where a plain value became a deprecated getter (fs.F_OK on Node.js 24), it is
 * not read unless imported.
 */
function builtinModule(name: string): string {
  const plain = [...exportsOf(name)].filter(([, kind]) => kind === 'value').map(([key]) => key);
  const names = [...new Set([...plain, ...(GETTERS_READ[name] ?? [])])].filter((key) => key !== 'default');
  return [
    `const builtin = require(${JSON.stringify(name)});`,
    'const read = (key) => builtin[key];',
    'export default builtin;',
    ...names.map((key, index) => `const export${index} = /* @__PURE__ */ read(${JSON.stringify(key)});`),
    `export { ${names.map((key, index) => `export${index} as ${JSON.stringify(key)}`).join(', ')} };`,
  ].join('\n');
}

const builtinsThroughRequire: Plugin = {
  name: 'builtins-through-require',
  setup(pluginBuild) {
    // Bare specifiers only; isBuiltin also knows those with the node: prefix alone (node:test).
    pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => {
      if (!isBuiltin(args.path)) return undefined;
      if (args.namespace === 'builtin' || args.kind === 'require-call') return { path: args.path, external: true };
      const name = args.path.replace(/^(node:)?/, 'node:');
      if (args.kind === 'dynamic-import') {
        const unknown = [...exportsOf(name)].filter(([key, kind]) => kind === 'getter' && ![...(GETTERS_READ[name] ?? []), ...(GETTERS_NOT_READ[name] ?? [])].includes(key));
        if (unknown.length > 0) {
          const keys = unknown.map(([key]) => key).join(', ');
          return { errors: [{ text: `import("${args.path}") in ${args.importer}: its getters ${keys} would be undefined there; add each to GETTERS_READ or GETTERS_NOT_READ in scripts/bundle.ts` }] };
        }
      }
      return { path: name, namespace: 'builtin' };
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: builtinModule(args.path), loader: 'js' }));
  },
};

/**
 * Packages needed only by some configurations, each bundled into a CommonJS file of its own
 * beside the chunks, which require() loads on first use: in the chunk loaded at start, even code
 * that never runs costs its source text and parsing (re2js is 300 KB). Measured at the first AWS
 * call, both together: 0.6 MB less RSS on Node.js 22, 0.5 on 20.
 * - re2js compiles the patterns of some settings. src/discovery/re2.ts loads it with a require()
 *   of its own making, which esbuild does not follow: lazyRequires makes it a plain require().
 * - @opentelemetry/api: prom-client's process CPU metric require()s it at load, for exemplars we
 *   never turn on; lazyRequires makes that require() happen on first use of the API.
 * Should either file change so that its line is not found, the build fails. ON_DEMAND: each
 * package's file, and the package whose dependency it is (found as that package finds it).
 */
const ON_DEMAND: Record<string, { file: string; of?: string }> = {
  re2js: { file: 're2js.cjs' },
  '@opentelemetry/api': { file: 'opentelemetry-api.cjs', of: 'prom-client' },
};
const REWRITES = [
  {
    file: /[\\/]src[\\/]discovery[\\/]re2\.ts$/,
    loader: 'ts',
    from: "createRequire(import.meta.url)('re2js')",
    to: "require('re2js')",
  },
  {
    file: /[\\/]prom-client[\\/]lib[\\/]metrics[\\/]processCpuTotal\.js$/,
    loader: 'js',
    from: "const OtelApi = require('@opentelemetry/api');",
    to: "const OtelApi = new Proxy({}, { get: (_, key) => require('@opentelemetry/api')[key] });",
  },
] as const;
const lazyRequires: Plugin = {
  name: 'lazy-requires',
  setup(pluginBuild) {
    for (const { file, loader, from, to } of REWRITES) {
      pluginBuild.onLoad({ filter: file }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes(from)) throw new Error(`${args.path}: no ${from}; revisit lazyRequires in scripts/bundle.ts`);
        return { contents: text.replace(from, to), loader };
      });
    }
    pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => {
      if (!Object.hasOwn(ON_DEMAND, args.path)) return undefined;
      if (args.kind !== 'require-call') return { errors: [{ text: `${args.path} is imported by ${args.importer}: it is loaded on demand with require() (ON_DEMAND in scripts/bundle.ts)` }] };
      return { path: `./${ON_DEMAND[args.path]?.file}`, external: true };
    });
  },
};

rmSync(OUT, { recursive: true, force: true });
const { metafile } = await build({
  entryPoints: [new URL('../src/cli.ts', import.meta.url).pathname],
  outdir: OUT.pathname,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // ES modules first: the SDK's dist-es files can be tree-shaken, its dist-cjs ones not.
  mainFields: ['module', 'main'],
  // CommonJS dependencies (prom-client, convict) call require() and read __filename.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      "const __dirname = __fileURLToPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  // The licence notices of the bundled packages stay with their code.
  legalComments: 'eof',
  plugins: [literalSchemaKeys, builtinsThroughRequire, lazyRequires],
  // A namespace's export that the module does not have (a getter left out above) must not become undefined quietly.
  logOverride: { 'import-is-undefined': 'error' },
  metafile: true,
  logLevel: 'warning',
});
chmodSync(new URL('cli.js', OUT), 0o755);
const requireHere = createRequire(import.meta.url);
const resolveOnDemand = (name: string, of: string | undefined) => (of === undefined ? requireHere : createRequire(requireHere.resolve(of))).resolve(name);
await build({
  entryPoints: Object.entries(ON_DEMAND).map(([name, { file, of }]) => ({ in: resolveOnDemand(name, of), out: file.replace(/\.cjs$/, '') })),
  outdir: OUT.pathname,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  legalComments: 'eof',
  logLevel: 'warning',
});

// An SDK release that moves the schema module past the plugin's filter must fail the build, not a user's memory.
for (const client of CLIENTS) {
  if (!rewrittenClients.has(client)) {
    throw new Error(`scripts/bundle.ts: the schema module of ${client} (dist-es/schemas/schemas_0.js) was not bundled; the SDK moved it: revisit literalSchemaKeys`);
  }
}
const ec2Chunks = Object.entries(metafile.outputs).filter(([, output]) => Object.keys(output.inputs).some((input) => /[\\/]client-ec2[\\/]/.test(input)));
if (ec2Chunks.length === 0) throw new Error('scripts/bundle.ts: no chunk holds the EC2 client; it must be loaded on demand (src/aws/clients.ts)');
for (const [path, output] of ec2Chunks) {
  if (output.bytes > EC2_CHUNK_MAX_BYTES) {
    throw new Error(`scripts/bundle.ts: ${path} (the EC2 client) is ${output.bytes} bytes, over ${EC2_CHUNK_MAX_BYTES}: its schemas are no longer tree-shaken; revisit literalSchemaKeys`);
  }
}
