import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The front door: package.json says where the project lives, and the README, which the npm
 * package carries and the npm page shows away from the repository, links to the repository's
 * files absolutely, so that every link works there too.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  repository?: { type?: string; url?: string };
  homepage?: string;
  bugs?: { url?: string };
};
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const repository = /^git\+(https:\/\/github\.com\/[\w.-]+\/[\w.-]+)\.git$/.exec(packageJson.repository?.url ?? '')?.[1] ?? '';
/** Inline Markdown links and images, `[text](target)`; code spans left out. */
const links = [...readme.replace(/`[^`\n]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string);

describe('package.json', () => {
  it('names the repository, its home page and where to report bugs, all on one GitHub repository', () => {
    expect(packageJson.repository?.type).toBe('git');
    expect(repository, 'repository.url: git+https://github.com/<owner>/<name>.git').not.toBe('');
    expect(packageJson.homepage).toBe(`${repository}#readme`);
    expect(packageJson.bugs?.url).toBe(`${repository}/issues`);
  });
});

describe('the README, as the npm page shows it', () => {
  it('has only absolute links and links to its own sections: no link that works in the repository alone', () => {
    const relative = links.filter((link) => !link.startsWith('#') && !/^https?:\/\//.test(link));

    expect(links.length).toBeGreaterThan(10);
    expect(relative).toEqual([]);
  });

  it("links to the repository's files on its main branch, and each of them exists", () => {
    const ownFiles = links.filter((link) => link.startsWith(`${repository}/`));
    const paths = ownFiles.map((link) => link.slice(`${repository}/blob/main/`.length));

    expect(ownFiles.length).toBeGreaterThan(5);
    expect(ownFiles.filter((link) => !link.startsWith(`${repository}/blob/main/`))).toEqual([]);
    expect(paths.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(['iam-policy.json', 'examples/ecs-task-definition.json', 'examples/grafana-dashboard.json', 'examples/alerts.yml']));
  });
});
