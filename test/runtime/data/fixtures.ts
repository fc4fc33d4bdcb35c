/** Tiny on-disk image folders for data-pipeline tests. */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

/** A PNG whose pixel (x, y) is (x, y, tag), so crops can be located exactly. */
export async function writeCoordImage(path: string, width: number, height: number, tag: number): Promise<void> {
  const buf = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      buf[o] = x;
      buf[o + 1] = y;
      buf[o + 2] = tag;
    }
  const img = sharp(buf, { raw: { width, height, channels: 3 } });
  if (path.endsWith('.webp')) await img.webp({ lossless: true }).toFile(path);
  else await img.png().toFile(path);
}

/** A folder of `n` coordinate images (tags 10, 20, ...) spread over a subfolder, plus a text file. */
export async function makeDataFolder(n: number, width: number, height: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stc-data-'));
  await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
  for (let i = 0; i < n; i++) {
    const sub = i % 3 === 0 ? '' : i % 3 === 1 ? 'sub' : join('sub', 'deeper');
    const ext = i % 2 === 0 ? 'png' : 'webp';
    await writeCoordImage(join(dir, sub, `img${i}.${ext}`), width, height, 10 * (i + 1));
  }
  await writeFile(join(dir, 'notes.txt'), 'not an image');
  return dir;
}
