/**
 * `stc quilt`: image quilting (Efros & Freeman 2001).
 *   synthesis: stc quilt --texture t.jpg --size HxW -o out.png
 *   transfer:  stc quilt --texture t.jpg --target c.jpg -o out.png [--alpha A] [--iterations N] [--size N]
 */
import type { Command } from 'commander';
import { UserError } from '../../util/errors.ts';
import { intFlag, numberFlag as numberInRange, parseSize } from '../flags.ts';
import type { RgbImage } from '../../runtime/image-types.ts';
import {
  DEFAULT_ALPHA,
  DEFAULT_SEED,
  DEFAULT_TOLERANCE,
  synthesizeTexture,
  transferTexture,
  type QuiltProgress,
} from '../../quilt/index.ts';
import { checkWritablePath, readImage, resizeImage, writeImage } from '../../runtime/image.ts';
import type { Register } from './index.ts';
import { checkPixels } from '../../runtime/limits.ts';
import { QUILT_MAX_PIXELS } from '../../quilt/options.ts';

interface QuiltFlags {
  texture: string;
  target?: string;
  output: string;
  size?: string;
  block?: string;
  overlap?: string;
  tolerance?: string;
  seed?: string;
  alpha?: string;
  iterations?: string;
  blurCorrespondence?: boolean;
  textureSize?: string;
}

/** Default synthesis block side in pixels. */
const SYNTHESIS_BLOCK = 32;
/** Default first-pass transfer block: the target's long side over this (26 px at 256). */
const TRANSFER_BLOCK_DIVISOR = 10;

const integerFlag = intFlag;
const numberFlag = (name: string, text: string | undefined, lo: number, hi: number): number | undefined => numberInRange(name, text, { min: lo, max: hi });

/** Renders one progress bar line per pass on stderr (redrawn in place on a terminal). */
function progressBar(stream: NodeJS.WriteStream): (p: QuiltProgress) => void {
  const width = 30;
  return (p) => {
    const filled = Math.round((width * p.done) / p.total);
    const line = `pass ${p.pass}/${p.passes} (block ${p.blockSize}px) [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total}`;
    if (stream.isTTY) stream.write(`\r${line}${p.done === p.total ? '\n' : ''}`);
    else if (p.done === p.total) stream.write(`${line}\n`);
  };
}

/** Resizes (up or down) so the longer side is `longSide` px, keeping the aspect ratio; `what` names the flag asking for it. */
function resizeLongSide(img: RgbImage, longSide: number, what: string): RgbImage {
  const scale = longSide / Math.max(img.width, img.height);
  const [w, h] = [Math.max(1, Math.round(img.width * scale)), Math.max(1, Math.round(img.height * scale))];
  checkPixels(w, h, what, QUILT_MAX_PIXELS);
  return resizeImage(img, w, h);
}

/**
 * The long side of a texture scaled like the target. Enlarging adds no detail, only candidates to search
 * (the work grows with the square of the scale), so an enlarged texture stops at twice the target's long
 * side: a 1×1 target with `--size 32` scaled a 24×20 texture to 768×640 and quilted for 17.6 s (issue 21).
 */
function autoTextureSide(texture: RgbImage, target: RgbImage, scale: number): number {
  const side = Math.max(texture.width, texture.height);
  const scaled = Math.max(2, Math.round(side * scale));
  const cap = Math.max(side, 2 * Math.max(target.width, target.height));
  if (scaled <= cap) return scaled;
  process.stderr.write(`stc: note: the texture is enlarged to ${cap} px on its long side (twice the target's), not ${scaled} px like the target; give --texture-size to choose\n`);
  return cap;
}

async function run(flags: QuiltFlags): Promise<void> {
  const block = integerFlag('block', flags.block, 2);
  const overlap = integerFlag('overlap', flags.overlap, 1);
  const tolerance = numberFlag('tolerance', flags.tolerance, 0, 1e6) ?? DEFAULT_TOLERANCE;
  const seed = integerFlag('seed', flags.seed, 0) ?? DEFAULT_SEED;
  const textureSize = integerFlag('texture-size', flags.textureSize, 2);
  const onProgress = progressBar(process.stderr);
  await checkWritablePath(flags.output);

  if (flags.target === undefined) {
    for (const f of ['alpha', 'iterations'] as const) {
      if (flags[f] !== undefined) throw new UserError(`--${f} applies to texture transfer only (give --target)`);
    }
    if (flags.blurCorrespondence) throw new UserError('--blur-correspondence applies to texture transfer only (give --target)');
    if (flags.size === undefined) throw new UserError('texture synthesis needs --size HxW (or give --target for transfer)');
    const size = parseSize(flags.size);
    checkPixels(size.width, size.height, `--size ${flags.size}`, QUILT_MAX_PIXELS);
    let texture = await readImage(flags.texture);
    if (textureSize !== undefined) texture = resizeLongSide(texture, textureSize, `--texture-size ${textureSize}`);
    const out = synthesizeTexture(texture, {
      ...size,
      block: block ?? SYNTHESIS_BLOCK,
      overlap,
      tolerance,
      seed,
      onProgress,
    });
    await writeImage(flags.output, out);
    return;
  }

  const alpha = numberFlag('alpha', flags.alpha, 0, 1) ?? DEFAULT_ALPHA;
  const iterations = integerFlag('iterations', flags.iterations, 1) ?? 1;
  const longSide = integerFlag('size', flags.size, 2);
  const [texture0, target0] = await Promise.all([readImage(flags.texture), readImage(flags.target)]);
  const target = longSide === undefined ? target0 : resizeLongSide(target0, longSide, `--size ${longSide}`);
  checkPixels(target.width, target.height, `--target ${flags.target}`, QUILT_MAX_PIXELS);
  // Unless told otherwise, the texture is scaled like the target, so the two keep their relative scale.
  const scale = target.width / target0.width;
  const texture =
    textureSize !== undefined
      ? resizeLongSide(texture0, textureSize, `--texture-size ${textureSize}`)
      : scale === 1
        ? texture0
        : resizeLongSide(
            texture0,
            autoTextureSide(texture0, target, scale),
            `scaling the texture ${scale.toFixed(scale < 10 ? 2 : 0)}x like the target (give --texture-size to choose its size)`,
          );
  checkPixels(texture.width, texture.height, `--texture ${flags.texture}`, QUILT_MAX_PIXELS);
  const out = transferTexture(texture, target, {
    block: block ?? Math.max(6, Math.round(Math.max(target.width, target.height) / TRANSFER_BLOCK_DIVISOR)),
    overlap,
    tolerance,
    alpha,
    iterations,
    correspondence: flags.blurCorrespondence ? 'blurred-luminance' : 'luminance',
    seed,
    onProgress,
  });
  await writeImage(flags.output, out);
}

export const register: Register = (program: Command) => {
  program
    .command('quilt')
    .description('texture synthesis and texture transfer by image quilting (Efros & Freeman 2001)')
    .requiredOption('--texture <image>', 'the source texture')
    .option('--target <image>', 'texture transfer: render this image from the texture')
    .option('--size <size>', 'synthesis: output HxW (height first, as every command); transfer: resize the target so its long side is N px')
    .requiredOption('-o, --output <image>', 'output image (.png, .jpg)')
    .option('--block <px>', `block side (synthesis default ${SYNTHESIS_BLOCK}; transfer default long side / ${TRANSFER_BLOCK_DIVISOR})`)
    .option('--overlap <px>', 'overlap between blocks (default block / 6)')
    .option('--tolerance <t>', `pick among blocks within (1 + t) of the best error (default ${DEFAULT_TOLERANCE})`)
    .option('--seed <n>', `random seed (default ${DEFAULT_SEED})`)
    .option('--alpha <a>', `transfer: weight of the overlap error in the first pass, 0..1 (default ${DEFAULT_ALPHA}); rises to 0.9`)
    .option('--iterations <n>', 'transfer: refinement passes, each with blocks a third smaller (default 1)')
    .option('--blur-correspondence', 'transfer: compare blurred luminance instead of luminance')
    .option('--texture-size <px>', "resize the texture so its long side is N px (transfer default: scaled like the target)")
    .action(async (flags: QuiltFlags) => {
      await run(flags);
    });
};
