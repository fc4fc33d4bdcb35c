/** Writing a web site (src/runtime/web/site.ts), serving it (serve.ts), and the export command's web target errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeWebSite, styleFileStem, type WebStyleModel } from '../../src/runtime/web/site.ts';
import { serveSite } from '../../src/runtime/web/serve.ts';
import type { SiteManifest } from '../../src/runtime/web/site-types.ts';
import { vendorFiles, vendorSource } from '../../src/runtime/web/vendor.ts';
import { UserError } from '../../src/util/errors.ts';
import { exportWeb } from '../../src/cli/commands/export-web.ts';
import { loadRunNetwork } from '../../src/cli/commands/export.ts';
import { loadSpec, pickNetwork } from '../../src/cli/load-spec.ts';
import { bindWeights } from '../../src/weights/index.ts';
import { saveCheckpoint } from '../../src/runtime/checkpoint/checkpoint.ts';
import { CHECKPOINT_DIR } from '../../src/runtime/train/trainer.ts';
import { loadImageModel } from '../../src/runtime/apply/model.ts';
import { runReference } from '../../src/backends/reference/index.ts';
import type { Graph, HostTensor } from '../../src/compiler/ir/types.ts';
import { loadOnnxModel } from '../../src/backends/onnx/index.ts';
import { StylePredictor, bakedTransfer } from '../../src/runtime/arbitrary/pipeline.ts';
import { uniformTensor } from '../../src/verify/det.ts';
import { stc, tinySpec } from './helpers.ts';

let dir: string;
const onnxStyle = (name: string): WebStyleModel => ({ name, model: new Uint8Array([1, 2, 3]) });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stc-site-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeWebSite', () => {
  it('writes the page, the manifest, one model per style and the runtime copied from node_modules', async () => {
    const site = path.join(dir, 'a');
    const summary = await writeWebSite(site, { engine: 'onnx', styles: [onnxStyle('wave'), onnxStyle('wave'), onnxStyle('la muse!')], tile: 256 });
    const manifest = JSON.parse(await readFile(path.join(site, 'site.json'), 'utf8')) as SiteManifest;
    expect(manifest).toMatchObject({ engine: 'onnx', tile: 256, overlap: 64 });
    expect(manifest.styles.map((s) => [s.name, s.file])).toEqual([
      ['wave', 'models/wave.onnx'],
      ['wave', 'models/wave-2.onnx'],
      ['la muse!', 'models/la-muse.onnx'],
    ]);
    for (const f of vendorFiles('onnx')) expect((await stat(path.join(site, 'vendor', f.name))).size).toBe((await stat(vendorSource(f))).size);
    const html = await readFile(path.join(site, 'index.html'), 'utf8');
    expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN
    expect(html).not.toContain('importmap'); // onnx pages need none
    expect(await readFile(path.join(site, 'tiling.js'), 'utf8')).toMatch(/export \{[^}]*\brunTiled\b/);
    expect(summary.files).toBe((await readdir(site, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length);
  });

  it('maps the tfjs programs\' bare import to the vendored tfjs bundle', async () => {
    const site = path.join(dir, 'b');
    await writeWebSite(site, { engine: 'tfjs', styles: [{ name: 's', model: 'export const x = 1;\n' }] });
    const html = await readFile(path.join(site, 'index.html'), 'utf8');
    expect(html).toContain('"@tensorflow/tfjs":"./vendor/tf.fesm.min.js"');
    expect(await readFile(path.join(site, 'engine.js'), 'utf8')).toContain("from '@tensorflow/tfjs'");
  });

  it('replaces an earlier site, refuses a folder that is not one, and leaves no temporary folder', async () => {
    const site = path.join(dir, 'c');
    await writeWebSite(site, { engine: 'onnx', styles: [onnxStyle('one')] });
    await writeWebSite(site, { engine: 'onnx', styles: [onnxStyle('two')] });
    expect(await readdir(path.join(site, 'models'))).toEqual(['two.onnx']);
    const other = path.join(dir, 'other');
    await mkdir(other);
    await writeFile(path.join(other, 'thesis.tex'), 'keep me');
    await expect(writeWebSite(other, { engine: 'onnx', styles: [onnxStyle('x')] })).rejects.toThrow(UserError);
    expect(await readFile(path.join(other, 'thesis.tex'), 'utf8')).toBe('keep me');
    await expect(writeWebSite(site, { engine: 'tfjs', styles: [onnxStyle('x')] })).rejects.toThrow(/ONNX model in a tfjs site/);
    expect((await readdir(dir)).filter((n) => n.startsWith('.tmp-') || n.startsWith('.old-'))).toEqual([]);
    expect(await readdir(path.join(site, 'models'))).toEqual(['two.onnx']);
  });

  it('names style files safely', () => {
    const taken = new Set<string>();
    expect(['a/b', '..', 'ok', 'ok'].map((n) => styleFileStem(n, taken))).toEqual(['a-b', 'style', 'ok', 'ok-2']);
  });
});

describe('serveSite', () => {
  it('serves the site cross-origin isolated, with wasm and module content types', async () => {
    const site = path.join(dir, 'served');
    await writeWebSite(site, { engine: 'onnx', styles: [onnxStyle('s')] });
    const server = await serveSite(site, { port: 0 });
    try {
      const page = await fetch(server.url);
      expect(page.status).toBe(200);
      expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(await page.text()).toContain('<canvas id="output"');
      const wasm = await fetch(new URL('vendor/ort-wasm-simd-threaded.asyncify.wasm', server.url));
      expect(wasm.headers.get('content-type')).toBe('application/wasm');
      expect(wasm.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      await wasm.arrayBuffer();
      const mjs = await fetch(new URL('vendor/ort.webgpu.bundle.min.mjs', server.url));
      expect(mjs.headers.get('content-type')).toMatch(/javascript/);
      await mjs.arrayBuffer();
    } finally {
      await server.close();
    }
  });

  it('refuses a folder without index.html', async () => {
    await expect(serveSite(dir, { port: 0 })).rejects.toThrow(/has no index.html/);
  });
});

describe('stc export --target web (errors)', () => {
  it('refuses an ONNX file for the tfjs engine (one message, exit 1), a bad engine name, no model and a missing file', async () => {
    await writeFile(path.join(dir, 'm.onnx'), new Uint8Array([8, 1]));
    await writeFile(path.join(dir, 'tiny.style'), tinySpec(1));
    await expect(stc(['export', path.join(dir, 'm.onnx'), '--target', 'web', '--engine', 'tfjs', '-o', path.join(dir, 'x')])).rejects.toThrow(
      /stc: error: .*m\.onnx is an ONNX file: it can only go into an --engine onnx site \(give a run folder or a .style spec for tfjs\)\n$/,
    );
    const noRun = () => Promise.reject(new Error('no run folder here'));
    await expect(exportWeb([path.join(dir, 'tiny.style')], { output: path.join(dir, 'x'), engine: 'webgl', model: [] }, noRun)).rejects.toThrow(/--engine must be onnx or tfjs, got 'webgl'/);
    await expect(exportWeb([], { output: path.join(dir, 'x'), model: [] }, noRun)).rejects.toThrow(UserError);
    await expect(exportWeb([path.join(dir, 'nope.style')], { output: path.join(dir, 'x'), model: [] }, noRun)).rejects.toThrow(/nope.style does not exist/);
  });
});

/** The float64 reference interpreter's output, clamped to 0..255 as exported models clamp it. */
function referenceRun(g: Graph, weights: ReadonlyMap<string, HostTensor>, x: HostTensor): Float64Array {
  const out = Object.values(runReference(g, weights, { [g.inputs[0]!]: x }))[0]!;
  return Float64Array.from(out.data, (v) => Math.min(255, Math.max(0, v)));
}

describe('stc export --target web from a training run', () => {
  it('exports the run\'s checkpointed weights: the page model computes what the checkpoint\'s network computes', async () => {
    const spec = path.join(dir, 'run.style');
    await writeFile(spec, tinySpec(5));
    // A "trained" checkpoint: the spec's random weights times 0.5, so the export must read the checkpoint, not the spec.
    const net = pickNetwork(loadSpec(spec));
    const init = await bindWeights(net.graph, net.weights!, { specDir: net.specDir });
    const trained = new Map([...init].map(([k, t]) => [k, { shape: t.shape, data: t.data.map((v) => v * 0.5) }]));
    const run = path.join(dir, 'run');
    await mkdir(path.join(run, CHECKPOINT_DIR), { recursive: true });
    await saveCheckpoint(path.join(run, CHECKPOINT_DIR), { step: 7, params: trained, adamM: new Map(), adamV: new Map(), meta: { config: { source: { spec } } } });
    const message = await exportWeb([run], { output: path.join(dir, 'run-site'), model: [] }, loadRunNetwork);
    expect(message).toMatch(/onnx engine, style run\b/);
    const manifest = JSON.parse(await readFile(path.join(dir, 'run-site/site.json'), 'utf8')) as SiteManifest;
    const model = await loadImageModel(path.join(dir, 'run-site', manifest.styles[0]!.file), { threads: 1 });
    const x = { shape: [1, 3, 8, 8], data: Float32Array.from({ length: 192 }, (_, i) => (i * 53) % 256) };
    const got = await model.run(x);
    await model.dispose();
    const want = referenceRun(net.graph, trained, x);
    expect(Math.max(...got.data.map((v, i) => Math.abs(v - want[i]!)))).toBeLessThan(1e-2);
  });
});

/** A style-conditioned spec in miniature (random weights): a 4-d style predictor and a network conditioned on it. */
const TINY_ARBITRARY = `import arbitrary_style
network style_predict {
  input style_image: image[N, 3, H, W]
  preprocess(scale: 0.00392156862745098)
  c1 = conv(8, 3, stride: 2, padding: same); relu6()
  pooled = mean(axes: [2, 3])
  output style_vector = conv(4, 1)
  weights random(seed: 1)
}
main network tiny_transfer {
  input content: image[N, 3, H, W]
  input style: tensor[N, 4, 1, 1]
  x = content -> preprocess(scale: 0.00392156862745098)
  c1 = conv(8, 3, stride: 2, padding: reflect); relu()
  r1 = (c1, style) -> residual_cin(8)
  u = r1 -> upsample(2)
  e = (u, style) -> conv_cin(3, 3)
  sigmoid()
  output stylized = scale(255)
  weights random(seed: 2)
}
`;

describe('stc export --target web of an arbitrary-style spec (a painting as the style)', () => {
  it('writes the predictor and the network with its style input open; together they compute what stc transfer computes', async () => {
    const spec = path.join(dir, 'tiny-arbitrary.style');
    await writeFile(spec, TINY_ARBITRARY);
    const site = path.join(dir, 'arbitrary-site');
    await exportWeb([spec], { output: site, model: [] }, () => Promise.reject(new Error('no run folder here')));
    const manifest = JSON.parse(await readFile(path.join(site, 'site.json'), 'utf8')) as SiteManifest;
    const style = manifest.styles[0]!;
    expect(style).toEqual({ name: 'tiny-arbitrary', kind: 'arbitrary', file: 'models/tiny-arbitrary.onnx', predictor: 'models/tiny-arbitrary.predictor.onnx', styleInput: 'style', styleSize: 4, predictorSize: 256 });
    const mod = loadSpec(spec);
    const painting = uniformTensor([1, 3, 256, 256], 'painting', 0, 255);
    const predictor = await loadOnnxModel(new Uint8Array(await readFile(path.join(site, style.predictor!))), { threads: 1 });
    const expected = await StylePredictor.load(pickNetwork(mod, 'style_predict'), { threads: 1 });
    let vector: HostTensor;
    try {
      vector = (await predictor.run({ style_image: painting })).style_vector!;
      const want = await expected.predict(painting);
      expect(vector.shape).toEqual([1, 4, 1, 1]);
      for (let k = 0; k < 4; k++) expect(vector.data[k]).toBeCloseTo(want.data[k]!, 4);
    } finally {
      await predictor.dispose();
      await expected.dispose();
    }
    const photo = uniformTensor([1, 3, 12, 20], 'photo', 0, 255);
    const net = await loadOnnxModel(new Uint8Array(await readFile(path.join(site, style.file))), { threads: 1 });
    try {
      const out = (await net.run({ content: photo, style: vector })).image!;
      const baked = await bakedTransfer(pickNetwork(mod, undefined), vector);
      const want = referenceRun(baked.graph, baked.weights, photo);
      expect(out.shape).toEqual([1, 3, 12, 20]);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(out.data[i]! - want[i]!));
      expect(worst).toBeLessThan(1e-2);
    } finally {
      await net.dispose();
    }
  });

  it('refuses the tfjs engine for it with one message (the page runs arbitrary styles on onnxruntime-web only)', async () => {
    const spec = path.join(dir, 'tiny-arbitrary.style');
    await writeFile(spec, TINY_ARBITRARY);
    await expect(stc(['export', spec, '--target', 'web', '--engine', 'tfjs', '-o', path.join(dir, 'y')])).rejects.toThrow(
      /stc: error: network 'tiny_transfer' is an arbitrary-style network \(a painting as the style\): the web page runs it with --engine onnx only\n$/,
    );
  });
});
