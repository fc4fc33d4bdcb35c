/**
 * The one entry to sharp for stc's image code: libvips' operation cache is turned
 * off on first use (not at import time), so decoded images are not kept alive
 * between calls (large `apply` inputs) and a file rewritten under the same name is
 * never served from the cache.
 */
import sharp from 'sharp';

let configured = false;

/** `sharp(input, options)`, with the cache off. */
export function openSharp(...args: Parameters<typeof sharp>): ReturnType<typeof sharp> {
  if (!configured) {
    sharp.cache(false);
    configured = true;
  }
  return sharp(...args);
}
