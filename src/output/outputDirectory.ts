import { mkdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { temporaryFileName } from './writeAtomically.js';

/**
 * `mkdir -p`; resolves whether it made the directory (false: it was there). Not
 * `mkdir(..., { recursive: true })`: on Node 20 that spins forever on paths such as /proc/x,
 * where mkdir answers ENOENT although the parent exists.
 */
export async function makeDirectory(directory: string): Promise<boolean> {
  try {
    await mkdir(directory);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && (await stat(directory)).isDirectory()) return false;
    const parent = dirname(directory);
    const parentExists = await stat(parent).then(() => true, () => false);
    if (code !== 'ENOENT' || parent === directory || parentExists) throw error;
    await makeDirectory(parent);
    await mkdir(directory);
    return true;
  }
}

/**
 * Creates the output directory when missing and proves that it can be written; rejects with the
 * system's reason otherwise. Resolves whether it made the directory.
 */
export async function prepareOutputDirectory(directory: string): Promise<{ made: boolean }> {
  // Named as our temporary files: if the process is killed right here, the next start removes it.
  const probe = join(directory, temporaryFileName());
  const made = await makeDirectory(directory);
  await writeFile(probe, '', { flag: 'wx' });
  await rm(probe, { force: true });
  return { made };
}

/** Removes a directory made at start, when the start failed and left it empty; anything in it stays. */
export async function removeIfEmpty(directory: string): Promise<void> {
  await rmdir(directory).catch(() => {});
}
