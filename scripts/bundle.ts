/**
 * `npm run build`: bundles src/cli.ts and what it imports into dist/ with esbuild, tree-shaken,
 * as ES modules; modules loaded on demand (the SSM client, the SDK's credential providers) get
 * chunks of their own. A bundle starts in a fraction of the time and memory of node_modules
 * loaded file by file (README, "Scale"). The tests and the benchmark run this bundle.
 */
import { chmodSync, readFileSync, rmSync } from 'node:fs';
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
  plugins: [literalSchemaKeys],
  metafile: true,
  logLevel: 'warning',
});
chmodSync(new URL('cli.js', OUT), 0o755);

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
