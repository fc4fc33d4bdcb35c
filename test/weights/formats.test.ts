/**
 * Every weight format stc reads, on files tools/reference/weight_files.py writes from one seed with
 * the published files' names and structure (a VGG-19 cut after conv2_1, to stay small): each is
 * recognised (format and profile), and its relu2_1 features, with the file's own preprocessing
 * applied automatically, match PyTorch's float64 reference to 1e-4 (the files hold one network in
 * each publisher's convention: tools/reference/weight_files.py says how).
 * The full-size cross-format check at relu5_1 is bench/weights-formats.ts (docs/benchmarks.md).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../src/compiler/ir/types.ts';
import { UserError } from '../../src/util/errors.ts';
import { mulberry32 } from '../../src/util/prng.ts';
import { WeightError, detectWeightFormat, openPretrained, openWeights, readNpy } from '../../src/weights/index.ts';
import { type Fixtures, hasPythonTools, makeFixtures, relL2, stdlibNetwork, tapOf } from './helpers.ts';

const enabled = hasPythonTools();
if (!enabled) console.warn('[stc tests] python3 with torch, h5py, scipy and onnx is missing: skipping the weight-format tests (tools/reference/README.md)');

describe.skipIf(!enabled)('weight formats (python-written VGG-19 files, conv1_1 .. conv2_1)', () => {
  let fx: Fixtures;
  let scratch: string;
  let image: HostTensor;
  let ref: HostTensor;
  beforeAll(async () => {
    fx = makeFixtures(['--upto', 'conv2_1', '--size', '20']);
    scratch = mkdtempSync(join(tmpdir(), 'stc-weights-scratch-'));
    image = await readNpy(join(fx.dir, 'image.npy'));
    ref = await readNpy(join(fx.dir, 'ref.npy'));
  }, 180_000);

  it('writes the published layouts: torchvision .pth (legacy and zip), Caffe (V1 and current), Keras 2 and 3, MatConvNet, ONNX zoo', () => {
    expect(fx.files.map((f) => f.path.slice(fx.dir.length + 1)).sort()).toEqual([
      'caffe-v1/VGG_ILSVRC_19_layers.caffemodel',
      'caffe/VGG_ILSVRC_19_layers.caffemodel',
      'keras2/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5',
      'keras3/vgg19.weights.h5',
      'matconvnet/imagenet-vgg-verydeep-19.mat',
      'onnx-zoo/vgg19-7.onnx',
      'torchvision-legacy/vgg19-dcbb9e9d.pth',
      'torchvision-zip/vgg19-dcbb9e9d.pth',
    ]);
  });

  it('recognises each file\'s format and layout profile from its bytes, names and shapes', async () => {
    for (const f of fx.files) {
      expect(await detectWeightFormat(f.path), f.path).toBe(f.format);
      const o = await openPretrained('vgg19', { pathOverride: f.path, searchDirs: [] });
      o.file.close?.();
      expect(o.match.profile.id, f.path).toBe(f.profile);
      expect([...o.match.present.keys()], f.path).toEqual(['conv1_1', 'conv1_2', 'conv2_1']);
    }
  });

  it('gives PyTorch\'s relu2_1 for every file, with the file\'s own preprocessing (1e-4 relative L2)', async () => {
    const net = stdlibNetwork('vgg19');
    for (const f of fx.files) expect(relL2(await tapOf(net, fx.tap, image, f.path), ref.data), f.path).toBeLessThan(1e-4);
  });

  it('fuzz: truncated and byte-flipped files of every format open, read or fail with a UserError, never crash or hang', async () => {
    const rand = mulberry32(16);
    let failures = 0;
    let cases = 0;
    for (const f of fx.files) {
      const bytes = readFileSync(f.path);
      const variants: Buffer[] = [];
      for (let i = 0; i < 10; i++) variants.push(bytes.subarray(0, Math.floor(rand() * bytes.length)));
      for (let i = 0; i < 10; i++) {
        const b = Buffer.from(bytes);
        // Flip bytes near the start (headers, names, shapes) more often than in the bulk data.
        for (let k = 0; k < 4; k++) b[Math.floor(rand() ** 3 * b.length)] ^= 1 + Math.floor(rand() * 255);
        variants.push(b);
      }
      for (const [i, v] of variants.entries()) {
        const p = join(scratch, `fuzz-${i}-${f.path.split('/').at(-1)}`);
        writeFileSync(p, v);
        const t0 = Date.now();
        try {
          const file = await openWeights(await detectWeightFormat(p), p);
          try {
            for (const e of file.entries) if (!e.unavailable) await file.read(e.name);
          } finally {
            file.close?.();
          }
        } catch (e) {
          if (!(e instanceof UserError)) throw new Error(`${p} (${f.format}, variant ${i}): not a UserError: ${(e as Error).stack}`);
          expect((e as Error).message.split('\n').length, p).toBe(1);
          failures++;
        }
        expect(Date.now() - t0, `${p} took too long`).toBeLessThan(10_000);
        cases++;
      }
    }
    expect(cases).toBe(fx.files.length * 20);
    expect(failures).toBeGreaterThan(fx.files.length * 5); // most truncations must be noticed
  });

  it('serves the taps a partial file has and names the first missing conv for a deeper one', async () => {
    const net = stdlibNetwork('vgg19');
    const pth = fx.files.find((f) => f.format === 'pth')!.path;
    await expect(tapOf(net, 'relu2_2', image, pth)).rejects.toThrow(
      new RegExp(`weights file .*vgg19-dcbb9e9d.pth \\(torchvision.*\\) holds VGG-19 only up to conv2_1 \\(taps up to relu2_1\\): conv2_2 is missing, needed for parameter conv2_2.weight`),
    );
  });
});

describe.skipIf(!enabled)('bad and unusual weight files give one clear error naming the file and tensor', () => {
  let fx: Fixtures;
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'stc-weights-scratch-'));
    fx = makeFixtures(['--network', 'vgg16', '--upto', 'conv4_1', '--size', '20', '--only', 'pth,caffe', '--extras']);
  }, 180_000);
  const open = (path: string) => openPretrained('vgg19', { pathOverride: path, searchDirs: [] });

  it('a wrong network: a VGG-16 file where VGG-19 is needed', async () => {
    for (const f of fx.files) await expect(open(f.path), f.path).rejects.toThrow(/holds VGG-16 \(.*: 8 of 13 convs\), not VGG-19/);
  });

  it('a zero-byte file', async () => {
    const p = join(scratch, 'empty.pth');
    writeFileSync(p, '');
    await expect(open(p)).rejects.toThrow(new WeightError('truncated', `weights file ${p} is empty (0 bytes)`));
  });

  it('a pickle that asks for code (a __reduce__ payload) is refused before anything runs', async () => {
    const p = join(fx.dir, 'extras/evil.pth');
    const marker = join(tmpdir(), 'stc-weights-pwned'); // the payload's target (tools/reference/weight_files.py)
    rmSync(marker, { force: true });
    await expect(open(p)).rejects.toThrow(/evil\.pth: refusing to load: its data\.pkl pickle asks for the global (posix|os|nt)\.system, which would run code/);
    expect(existsSync(marker)).toBe(false);
  });

  it('a transposed kernel', async () => {
    const p = join(fx.dir, 'extras/transposed.pth');
    const net = stdlibNetwork('vgg19');
    await expect(tapOf(net, 'relu1_1', { shape: [1, 3, 4, 4], data: new Float32Array(48) }, p)).rejects.toThrow(
      /transposed\.pth: tensor features\.0\.weight \(conv1_1\) has shape \[3, 64, 3, 3\], expected \[64, 3, 3, 3\] \(OIHW\): a transposed kernel/,
    );
  });

  it('float16 and float64 tensors are converted, with a note', async () => {
    const p = join(fx.dir, 'extras/wide.pth');
    const f = await openWeights('pth', p);
    expect(f.entries.map((e) => e.note)).toEqual(['stored as float64, converted to float32', 'stored as float16, converted to float32']);
    const w = await f.read('features.0.weight');
    const b = await f.read('features.0.bias');
    f.close?.();
    const want = JSON.parse(readFileSync(join(fx.dir, 'extras/wide.json'), 'utf8')) as Record<string, number[]>;
    expect(Array.from(w.data.subarray(0, 5))).toEqual(want['features.0.weight']);
    expect(Array.from(b.data.subarray(0, 5))).toEqual(want['features.0.bias']);
    const notes: string[] = [];
    const net = stdlibNetwork('vgg19');
    const { bindWeights } = await import('../../src/weights/index.ts');
    const { selectOutputs } = await import('../../src/compiler/passes/prune.ts');
    await bindWeights(selectOutputs(net.graph, ['relu1_1']), net.weights!, { specDir: net.specDir, pathOverride: p, searchDirs: [], onNote: (n) => notes.push(n) });
    expect(notes).toEqual([`${p}: tensors stored as float64, converted to float32`, `${p}: tensors stored as float16, converted to float32`]);
  });

  it('a truncated file, in each format', async () => {
    for (const f of fx.files) {
      const bytes = readFileSync(f.path);
      const cut = join(scratch, `cut-${f.format}-${f.path.split('/').at(-1)}`);
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const err = await open(cut).then(
        async (o) => {
          for (const e of o.file.entries) await o.file.read(e.name);
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err, cut).toBeInstanceOf(UserError);
      expect((err as Error).message, cut).toMatch(new RegExp(`^weights file ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (is truncated|ended)`));
    }
  });
});
