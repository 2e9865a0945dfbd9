import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(directory, entry.name)) : entry.name.endsWith('.ts') ? [join(directory, entry.name)] : [],
  );
}

/** Each module of src/ and the modules of src/ it imports (type imports included: they are a dependency too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const imports = [...text.matchAll(/^(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gms)].map((match) =>
      relative(SRC, resolve(dirname(file), (match[1] as string).replace(/\.js$/, '.ts'))),
    );
    graph.set(relative(SRC, file), imports);
  }
  return graph;
}

/** Every cycle, as the path of modules that closes it. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const visit = (module: string, path: string[]) => {
    const seenAt = path.indexOf(module);
    if (seenAt >= 0) {
      cycles.push([...path.slice(seenAt), module]);
      return;
    }
    if (done.has(module)) return;
    for (const next of graph.get(module) ?? []) visit(next, [...path, module]);
    done.add(module);
  };
  for (const module of graph.keys()) visit(module, []);
  return cycles;
}

describe('the structure of src/', () => {
  it('has no import cycle', () => {
    expect(findCycles(importGraph())).toEqual([]);
  });

  it('keeps the pure core free of I/O and of the layers around it', () => {
    const core = [...importGraph()].filter(([module]) => module.startsWith('discovery/'));
    for (const [module, imports] of core) {
      expect(imports.filter((target) => !target.startsWith('discovery/')), module).toEqual([]);
      expect(readFileSync(join(SRC, module), 'utf8'), module).not.toMatch(/from 'node:(fs|http|https|net|child_process)/);
    }
  });
});
