/**
 * Image and weight fuzz cases over `run`, `apply`, `stylize` and `quilt` (issue 21): good and hostile
 * images (truncated, empty, random bytes, a header claiming 16000², 1x1, 2x3000, grey, alpha, 16-bit, SVG
 * claiming 100000², a folder named .png, missing), good and hostile ONNX models (truncated, random, bytes
 * flipped) and weight files (truncated, NaN, infinite, wrong shape, missing tensor, empty, random, a folder).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { compileSource } from '../../src/compiler/frontend.ts';
import { paramsOf } from '../../src/compiler/ir/graph.ts';
import type { HostTensor } from '../../src/compiler/ir/types.ts';
import { encodeSafetensors } from '../../src/weights/safetensors.ts';
import { mulberry32 } from '../../src/util/prng.ts';
import { tinyNetModel } from '../../test/runtime/apply/tiny-models.ts';
import { flipBytes, pngClaiming } from './files.ts';

export const TINY_SPEC = `main network tiny {
  input x: image[N, 3, H, W]
  conv1 = conv(4, 3, padding: zero); relu()
  output y = conv(3, 3, padding: zero)
}
`;

export const IMAGES = ['good.png', 'good.jpg', 'grey.png', 'alpha.png', 'deep16.png', 'one.png', 'tall.png', 'huge.svg', 'trunc.png', 'trunc.jpg', 'empty.png', 'random.png', 'text.jpg', 'bomb.png', 'folder.png', 'missing.png'];
export const MODELS = ['good.onnx', 'trunc.onnx', 'random.onnx', 'flipped.onnx', 'empty.onnx', 'missing.onnx'];
export const WEIGHTS = ['none', 'good.safetensors', 'trunc.safetensors', 'nan.safetensors', 'inf.safetensors', 'shape.safetensors', 'partial.safetensors', 'empty.safetensors', 'random.safetensors', 'folder.safetensors', 'missing.safetensors'];

const concat = (parts: Uint8Array[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));

async function writeImages(dir: string, r: () => number): Promise<void> {
  const noise = (w: number, h: number, c: number) => Buffer.from(Uint8Array.from({ length: w * h * c }, () => Math.floor(r() * 256)));
  const raw = (w: number, h: number, c: 1 | 3 | 4) => sharp(noise(w, h, c), { raw: { width: w, height: h, channels: c } });
  await raw(24, 20, 3).png().toFile(path.join(dir, 'good.png'));
  await raw(24, 20, 3).jpeg().toFile(path.join(dir, 'good.jpg'));
  await raw(24, 20, 1).png().toFile(path.join(dir, 'grey.png'));
  await raw(24, 20, 4).png().toFile(path.join(dir, 'alpha.png'));
  await raw(24, 20, 3).toColourspace('rgb16').png().toFile(path.join(dir, 'deep16.png'));
  await raw(1, 1, 3).png().toFile(path.join(dir, 'one.png'));
  await raw(2, 3000, 3).png().toFile(path.join(dir, 'tall.png'));
  writeFileSync(path.join(dir, 'huge.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="100%" height="100%" fill="red"/></svg>');
  const png = await raw(24, 20, 3).png().toBuffer();
  const jpg = await raw(24, 20, 3).jpeg().toBuffer();
  writeFileSync(path.join(dir, 'trunc.png'), png.subarray(0, png.length >> 1));
  writeFileSync(path.join(dir, 'trunc.jpg'), jpg.subarray(0, jpg.length >> 1));
  writeFileSync(path.join(dir, 'empty.png'), '');
  writeFileSync(path.join(dir, 'random.png'), noise(300, 1, 1));
  writeFileSync(path.join(dir, 'text.jpg'), 'this is not a picture\n');
  writeFileSync(path.join(dir, 'bomb.png'), pngClaiming(16000, 16000));
  mkdirSync(path.join(dir, 'folder.png'), { recursive: true });
}

function writeModels(dir: string, r: () => number): void {
  const good = tinyNetModel(1, true);
  writeFileSync(path.join(dir, 'good.onnx'), good);
  writeFileSync(path.join(dir, 'trunc.onnx'), good.subarray(0, good.length >> 1));
  writeFileSync(path.join(dir, 'random.onnx'), Uint8Array.from({ length: 4096 }, () => Math.floor(r() * 256)));
  writeFileSync(path.join(dir, 'flipped.onnx'), flipBytes(good, 24, r));
  writeFileSync(path.join(dir, 'empty.onnx'), '');
}

function writeWeights(dir: string, r: () => number): void {
  writeFileSync(path.join(dir, 'tiny.style'), TINY_SPEC);
  const mod = compileSource(TINY_SPEC, path.join(dir, 'tiny.style')).module!;
  const params = paramsOf(mod.networks.get('tiny')!.graph);
  const tensors = (f: (i: number) => number, reshape = false): Map<string, HostTensor> =>
    new Map(
      params.map((p) => {
        const shape = (p.shape as number[]).slice();
        const n = shape.reduce((a, b) => a * b, 1);
        return [p.id, { shape: reshape ? [n] : shape, data: Float32Array.from({ length: n }, (_, i) => f(i)) }];
      }),
    );
  const small = (i: number) => ((i * 7919) % 13) / 20 - 0.3;
  const good = concat(encodeSafetensors(tensors(small)));
  writeFileSync(path.join(dir, 'good.safetensors'), good);
  writeFileSync(path.join(dir, 'trunc.safetensors'), good.subarray(0, good.length >> 1));
  writeFileSync(path.join(dir, 'nan.safetensors'), concat(encodeSafetensors(tensors((i) => (i === 3 ? NaN : small(i))))));
  writeFileSync(path.join(dir, 'inf.safetensors'), concat(encodeSafetensors(tensors((i) => (i === 5 ? Infinity : small(i))))));
  writeFileSync(path.join(dir, 'shape.safetensors'), concat(encodeSafetensors(tensors(small, true))));
  const partial = tensors(small);
  partial.delete(params[0]!.id);
  writeFileSync(path.join(dir, 'partial.safetensors'), concat(encodeSafetensors(partial)));
  writeFileSync(path.join(dir, 'empty.safetensors'), '');
  writeFileSync(path.join(dir, 'random.safetensors'), Uint8Array.from({ length: 2048 }, () => Math.floor(r() * 256)));
  mkdirSync(path.join(dir, 'folder.safetensors'), { recursive: true });
}

/** Write every fixture into `dir` (seeded). */
export async function writeFixtures(dir: string): Promise<void> {
  const r = mulberry32(7);
  mkdirSync(dir, { recursive: true });
  await writeImages(dir, r);
  writeModels(dir, r);
  writeWeights(dir, r);
}

export interface InputCase {
  readonly kind: string;
  /** argv after `stc`, with paths inside the fixture folder. */
  readonly args: readonly string[];
}

/**
 * The case of a given kind (`run:IMAGE:WEIGHTS`, `apply:MODEL:IMAGE`, `quilt:TEXTURE:synth`,
 * `quilt:TEXTURE:TARGET`, `stylize:CONTENT:STYLE`), writing to `out-<i>.png`: how a seeded case is built,
 * and how the test suite pins the regressions the fuzzer found.
 */
export function caseOfKind(dir: string, kind: string, i: number, lossNet: string | undefined): InputCase {
  const [command, a, b] = kind.split(':') as [string, string, string];
  const f = (name: string) => path.join(dir, name);
  const out = f(`out-${i}.png`);
  if (command === 'run') return { kind, args: ['run', f('tiny.style'), '--input', f(a), '-o', out, ...(b === 'none' ? [] : ['--weights', f(b)]), '--threads', '1'] };
  if (command === 'apply') return { kind, args: ['apply', f(a), f(b), '-o', out, '--threads', '1'] };
  if (command === 'quilt')
    return b === 'synth'
      ? { kind, args: ['quilt', '--texture', f(a), '--size', '40x32', '--block', '8', '-o', out] }
      : { kind, args: ['quilt', '--texture', f(a), '--target', f(b), '--size', '32', '--block', '8', '-o', out] };
  if (command === 'stylize' && lossNet)
    return {
      kind,
      args: ['stylize', path.resolve('specs/gatys.style'), '--loss-net', 'squeezenet1_1', '--weights', lossNet, '--content', f(a), '--style', f(b), '--size', '32', '--iters', '2', '-o', out],
    };
  throw new Error(`no input fuzz case of kind ${kind}${command === 'stylize' ? ' (stylize needs the SqueezeNet weights)' : ''}`);
}

/** Case `i` of a seeded run (each from its own stream). `lossNet` is the SqueezeNet weights folder, when present. */
export function inputCase(dir: string, seed: number, i: number, lossNet: string | undefined): InputCase {
  const r = mulberry32((seed * 1_000_003 + i) >>> 0);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const commands = lossNet ? ['run', 'apply', 'quilt', 'stylize'] : ['run', 'apply', 'quilt'];
  const command = commands[i % commands.length]!;
  const kind =
    command === 'run'
      ? `run:${pick(IMAGES)}:${pick(WEIGHTS)}`
      : command === 'apply'
        ? `apply:${pick(MODELS)}:${pick(IMAGES)}`
        : command === 'quilt'
          ? ((tex) => `quilt:${tex}:${r() < 0.5 ? 'synth' : pick(IMAGES)}`)(pick(IMAGES))
          : `stylize:${pick(IMAGES)}:${pick(IMAGES)}`;
  return caseOfKind(dir, kind, i, lossNet);
}
