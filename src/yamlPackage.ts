import type * as Yaml from 'yaml';

/**
 * The yaml package, loaded when a YAML file or answer first needs it: most runs never read one,
 * and the package costs some megabytes of memory. In the bundle it is CommonJS, so that a dynamic
 * import gives its exports under `default`; run from the sources, they are the module's own.
 */
export async function loadYaml(): Promise<typeof Yaml> {
  const loaded = (await import('yaml')) as typeof Yaml & { default?: typeof Yaml };
  return typeof loaded.parse === 'function' ? loaded : loaded.default;
}
