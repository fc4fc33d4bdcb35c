/** The page's header sniffing (src/runtime/web/assets/image-header.js) on files made by sharp, in each format it reads. */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { imageHeaderSize } from '../../src/runtime/web/assets/image-header.js';
import { hugePng } from './helpers.ts';

const sniff = imageHeaderSize;

async function encoded(format: 'png' | 'jpeg' | 'gif' | 'webp', width: number, height: number, opts: Record<string, unknown> = {}): Promise<Uint8Array> {
  const img = sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 90 } } });
  return new Uint8Array(await img.toFormat(format, opts).toBuffer());
}

function bmp(width: number, height: number): Uint8Array {
  const b = Buffer.alloc(54);
  b.write('BM', 0, 'latin1');
  b.writeInt32LE(width, 18);
  b.writeInt32LE(-height, 22); // top-down rows: negative height
  return new Uint8Array(b);
}

describe('imageHeaderSize', () => {
  it('reads width and height from PNG, JPEG (baseline and progressive), GIF, WebP (lossy, lossless) and BMP headers', async () => {
    expect(sniff(await encoded('png', 37, 21))).toEqual({ width: 37, height: 21, format: 'PNG' });
    expect(sniff(await encoded('jpeg', 33, 19))).toEqual({ width: 33, height: 19, format: 'JPEG' });
    expect(sniff(await encoded('jpeg', 40, 24, { progressive: true }))).toEqual({ width: 40, height: 24, format: 'JPEG' });
    expect(sniff(await encoded('gif', 17, 9))).toEqual({ width: 17, height: 9, format: 'GIF' });
    expect(sniff(await encoded('webp', 31, 15))).toEqual({ width: 31, height: 15, format: 'WebP' });
    expect(sniff(await encoded('webp', 29, 13, { lossless: true }))).toEqual({ width: 29, height: 13, format: 'WebP' });
    expect(sniff(bmp(300, 200))).toEqual({ width: 300, height: 200, format: 'BMP' });
  });

  it('reads the size of a 20000×20000 PNG without decoding it, and returns null for what it does not know', () => {
    expect(sniff(new Uint8Array(hugePng(20000, 20000).subarray(0, 64)))).toEqual({ width: 20000, height: 20000, format: 'PNG' });
    expect(sniff(new TextEncoder().encode('just some text, not an image'))).toBeNull();
    expect(sniff(new Uint8Array(0))).toBeNull();
  });
});
