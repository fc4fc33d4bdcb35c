/**
 * The user's path with weight files: `stc weights inspect | check | convert`, `stc stylize` with a
 * .pth and with a .caffemodel of the same network (the same image), a partial file (an objective it
 * serves, or the missing conv named), and the "no weights found" message.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/in-process.ts';
import { stylize } from '../../src/runtime/gatys/stylize.ts';
import { knownNetwork, readNpy, resolveWeightsPath } from '../../src/weights/index.ts';
import { type Fixtures, ROOT, existsSync, hasPythonTools, makeFixtures, relL2, stdlibNetwork, tapOf } from './helpers.ts';

describe('finding weights', () => {
  it('says where the usual files come from and which formats stc reads when nothing is found', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'stc-no-weights-'));
    await expect(resolveWeightsPath(knownNetwork('vgg19')!, { searchDirs: [empty] })).rejects.toThrow(
      new RegExp(`^no VGG-19 weights found: pass --weights FILE, or put the file in ${empty} .*vgg19-dcbb9e9d\\.pth \\(torchvision, PyTorch\\).*VGG_ILSVRC_19_layers\\.caffemodel.*imagenet-vgg-verydeep-19\\.mat.*stc reads .*\\.pth.*\\.caffemodel.*\\.h5.*\\.mat.*\\.onnx`),
    );
  });
  it('finds a file as its publisher names it, in $STC_WEIGHTS order, and not another network\'s', async () => {
    const [a, b] = [mkdtempSync(join(tmpdir(), 'stc-w-a-')), mkdtempSync(join(tmpdir(), 'stc-w-b-'))];
    writeFileSync(join(a, 'vgg19_bn-c79401a0.pth'), 'x');
    writeFileSync(join(b, 'vgg19-dcbb9e9d.pth'), 'x');
    writeFileSync(join(b, 'imagenet-vgg-verydeep-16.mat'), 'x');
    expect(await resolveWeightsPath(knownNetwork('vgg19')!, { searchDirs: [a, b] })).toBe(join(b, 'vgg19-dcbb9e9d.pth'));
    expect(await resolveWeightsPath(knownNetwork('vgg16')!, { searchDirs: [a, b] })).toBe(join(b, 'imagenet-vgg-verydeep-16.mat'));
    expect(await resolveWeightsPath(knownNetwork('vgg19')!, { pathOverride: 'x.pth', searchDirs: [a, b] })).toBe(join(process.cwd(), 'x.pth'));
  });
});

const enabled = hasPythonTools();
if (!enabled) console.warn('[stc tests] python3 with torch, h5py, scipy and onnx is missing: skipping the stc weights / stylize --weights tests');

describe.skipIf(!enabled)('stc weights and stc stylize --weights on python-written VGG-19 files', () => {
  let fx: Fixtures;
  let dir: string;
  let pth: string;
  let caffemodel: string;
  beforeAll(() => {
    fx = makeFixtures(['--upto', 'conv2_1', '--size', '20']);
    dir = mkdtempSync(join(tmpdir(), 'stc-weights-cli-'));
    pth = fx.files.find((f) => f.path.includes('torchvision-legacy'))!.path;
    caffemodel = fx.files.find((f) => f.path.includes('caffe-v1'))!.path;
  }, 180_000);

  it('inspect: format, counts, network, profile, preprocessing and taps', async () => {
    const r = await cli('weights', 'inspect', pth);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        `file: ${pth}`,
        'format: PyTorch state dict (zip or legacy)',
        `tensors: 6, parameters: ${(64 * 27 + 64 + 64 * 576 + 64 + 128 * 576 + 128).toLocaleString('en-US')}`,
        'network: vgg19 (3 of 16 convs; stops before conv2_2)',
        'profile: torchvision (features.N.weight, OIHW)',
        'preprocessing: RGB [0, 1], mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)',
        'taps: relu1_1 .. relu2_1',
        '',
      ].join('\n'),
    );
  });

  it('check: present layers by tensor name, the missing ones, exit 1', async () => {
    const r = await cli('weights', 'check', caffemodel, '--network', 'vgg19');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^profile: Caffe \(conv1_1 blobs 0 and 1, OIHW\)\nconv1_1  present  conv1_1\/0 \[64, 3, 3, 3\], conv1_1\/1\n/);
    expect(r.out).toContain('conv2_2  missing  no tensor');
    expect(r.out).toMatch(/3 of 16 layers present; first missing or wrong: conv2_2\n$/);
  });

  it('convert: stc names with the preprocessing folded in; the converted file gives the same features', async () => {
    const out = join(dir, 'vgg19.safetensors');
    const r = await cli('weights', 'convert', fx.files.find((f) => f.format === 'mat')!.path, '-o', out);
    expect(r.code).toBe(0);
    expect((await cli('weights', 'inspect', out)).out).toContain("profile: stc's own (conv1_1.weight, OIHW, with preprocess.mean)");
    const image = await readNpy(join(fx.dir, 'image.npy'));
    const ref = await readNpy(join(fx.dir, 'ref.npy'));
    expect(relL2(await tapOf(stdlibNetwork('vgg19'), fx.tap, image, out), ref.data)).toBeLessThan(1e-4);
  });

  it('stylize with the .pth and with the .caffemodel gives the same image', async () => {
    const spec = join(dir, 'shallow.style');
    writeFileSync(spec, 'import vgg19\nobjective shallow on vgg19 {\n  content(weight: 1, norm: half_sum) { relu2_1 }\n  style(weight: 1e3, norm: gatys) { relu1_1: 0.5, relu2_1: 0.5 }\n}\n');
    const content = join(dir, 'content.png');
    const style = join(dir, 'style.png');
    const noise = (seed: number) => Buffer.from(Array.from({ length: 24 * 24 * 3 }, (_, i) => ((i * 2654435761 + seed * 97) >>> 7) & 255));
    await sharp(noise(1), { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(content);
    await sharp(noise(2), { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(style);
    const run = async (weights: string, name: string) => {
      const o = join(dir, name);
      const r = await cli('stylize', spec, '--content', content, '--style', style, '-o', o, '--weights', weights, '--size', '24', '--iters', '4', '--optimizer', 'adam', '--init', 'noise', '--threads', '1');
      expect(r.code, r.err).toBe(0);
      return (await sharp(o).raw().toBuffer()) as Buffer;
    };
    const [a, b] = [await run(pth, 'pth.png'), await run(caffemodel, 'caffe.png')];
    const maxDiff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
    expect(maxDiff).toBeLessThanOrEqual(1);
    // and the run really moved the image: not the content image (from noise, as before the palette start became the default)
    const c = (await sharp(content).raw().toBuffer()) as Buffer;
    expect(a.reduce((m, v, i) => Math.max(m, Math.abs(v - c[i]!)), 0)).toBeGreaterThan(10);
  });

  it('stylize --loss-net vgg19 with a file too shallow for every VGG-19 objective names the file and the missing conv', async () => {
    const r = await cli('stylize', join(ROOT, 'specs/gatys.style'), '--content', join(dir, 'content.png'), '--style', join(dir, 'style.png'), '-o', join(dir, 'x.png'), '--loss-net', 'vgg19', '--weights', pth, '--size', '24', '--iters', '1');
    expect(r.code).toBe(1);
    expect(r.err.split('\n').filter((l) => !l.startsWith('stylize: ')).join('\n')).toBe(
      `stc: error: weights file ${pth} holds VGG-19 only up to conv2_1 (taps up to relu2_1), and objective gatys needs conv2_2; no objective in the spec on these weights stops by its last conv: pass complete weights with --weights (docs/weights.md)\n`,
    );
  });
});

const sharedVgg = join(ROOT, '../shared/weights/vgg19-keras-partial');
describe.skipIf(!existsSync(sharedVgg))('stylize --loss-net vgg19 with the partial VGG-19 in ../shared', () => {
  it('picks the objective the file serves (gatys_vgg19_partial) and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stc-partial-'));
    mkdirSync(dir, { recursive: true });
    const phases: string[] = [];
    const r = await stylize({
      spec: join(ROOT, 'specs/gatys.style'),
      content: join(ROOT, '../shared/images/content/tubingen.jpg'),
      styles: [join(ROOT, '../shared/images/style/starry_night.jpg')],
      output: join(dir, 'out.png'),
      lossNet: 'vgg19',
      weights: sharedVgg,
      size: 32,
      iterations: 1,
      optimizer: 'adam',
      threads: 1,
      onPhase: (m) => phases.push(m),
    });
    expect(r.objective).toBe('gatys_vgg19_partial');
    expect(phases).toContain(
      `weights file ${join(sharedVgg, 'model.json')} holds VGG-19 only up to conv3_4 (taps up to relu3_4), and objective gatys needs conv4_1: using objective gatys_vgg19_partial instead, which it serves`,
    );
    expect(readFileSync(join(dir, 'out.png')).length).toBeGreaterThan(0);
  });
});
