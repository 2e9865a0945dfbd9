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
 * The EC2 client's schemas (one module for every shape of its 700 actions) write object keys as
 * computed keys (`{ [_xN]: _m }`, `_xN` a string constant), which esbuild must keep, since
 * computing a key could have side effects: the whole 1.3 MB module stayed in the bundle for the
 * one action we call. Writing those keys as the literals they are lets tree shaking drop the
 * rest. Should an SDK release change the module, the build fails here instead of growing.
 */
const literalSchemaKeys: Plugin = {
  name: 'literal-schema-keys',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]client-ec2[\\/]dist-es[\\/]schemas[\\/]schemas_0\.js$/ }, (args) => {
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
      return { contents, loader: 'js' };
    });
  },
};

rmSync(OUT, { recursive: true, force: true });
await build({
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
  logLevel: 'warning',
});
chmodSync(new URL('cli.js', OUT), 0o755);
