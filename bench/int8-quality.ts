/**
 * int8 quality study (issue 22): PSNR of stc's int8 QDQ model against float32 on held-out photos, for every
 * real fast-style network in ../shared, under several QuantizeOptions variants (src/backends/onnx/quantize.ts).
 * PSNR is deterministic, so unlike timings this does not depend on the machine's load.
 *
 *   npx tsx bench/int8-quality.ts [--size 512] [--calibrate 8] [--nets wave,udnie,scream,wreck] [--variants default,...]
 *   npx tsx bench/int8-quality.ts --sensitivity [--nets wave]   (one conv kept in float32 at a time)
 *   npx tsx bench/int8-quality.ts --calibration noise|with-eval  (calibrate on two noise images, as `stc compile
 *       --precision int8` does without --calibrate; or on the COCO photos plus the evaluation photos)
 *
 * Calibration: the first `--calibrate` COCO photos of ../shared/datasets/coco128 at 256², through the network
 * specialised to 256² (as `stc run --precision int8` calibrates at a small size); evaluation: the content photos
 * (chicago, stata, tubingen, golden_gate, hoovertowernight) at `--size`², none of which is a calibration image.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadOnnxModel } from '../src/backends/onnx/index.ts';
import { psnr } from '../src/backends/onnx/quant-math.ts';
import { type QuantizeOptions, calibrate, convSites, floatModelProto, quantizeModel } from '../src/backends/onnx/quantize.ts';
import { onnx } from '../src/backends/onnx/proto.ts';
import { prepareNetwork } from '../src/cli/commands/prepare.ts';
import { loadSpec, pickNetwork } from '../src/cli/load-spec.ts';
import type { HostTensor } from '../src/compiler/ir/types.ts';
import { imageToTensor, readImage } from '../src/runtime/image.ts';
import { uniformTensor } from '../src/verify/det.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = path.resolve(ROOT, '../shared');
const EVAL = ['references/fast-style/chicago.jpg', 'references/fast-style/stata.jpg', 'images/content/tubingen.jpg', 'images/content/golden_gate.jpg', 'images/content/hoovertowernight.jpg'];

/** Named option sets; `default` is what `--precision int8` uses. */
const VARIANTS: Record<string, QuantizeOptions> = {
  default: {},
  'no-equalize': { equalize: false },
  'outputs-only': { equalizeInputs: 0 },
  'inputs-full': { equalizeInputs: 1 },
  '7bit': { reduceRange: true },
  'quantized-skips': { floatSkips: false },
  'before-issue22-item1': { equalize: false, reduceRange: true, floatSkips: false },
  'quantize-first': { keepEnds: 'last' },
  'quantize-ends': { keepEnds: false },
  'float-conv2': { keepFloat: ['conv2'] },
  'nchw-phases': { channelsLastPhases: false },
};

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '512' },
    calibrate: { type: 'string', default: '8' },
    nets: { type: 'string', default: 'wave,udnie,scream,wreck' },
    variants: { type: 'string', default: Object.keys(VARIANTS).join(',') },
    sensitivity: { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
    calibration: { type: 'string', default: 'coco' },
  },
});

if (!existsSync(path.join(SHARED, 'models/fast-style'))) {
  process.stderr.write('int8-quality: ../shared/models/fast-style is absent, nothing to measure\n');
  process.exit(0);
}
const size = Number(values.size);
const opts = { threads: Number(values.threads) };
const coco = readdirSync(path.join(SHARED, 'datasets/coco128')).filter((f) => f.endsWith('.jpg')).sort().slice(0, Number(values.calibrate));
const spec = pickNetwork(loadSpec(path.join(ROOT, 'specs/fast-style.style')), undefined);
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

for (const net of values.nets.split(',')) {
  const weightsPath = path.join(SHARED, 'models/fast-style', net);
  const full = await prepareNetwork(spec, { size: { height: size, width: size }, weightsPath });
  const small = await prepareNetwork(spec, { size: { height: 256, width: 256 }, weightsPath });
  const model = floatModelProto(full.graph, full.weights, opts);
  const input = full.graph.inputs[0]!;
  const read = async (p: string, s: number): Promise<HostTensor> => imageToTensor(await readImage(p, { resize: { height: s, width: s } }));
  const calib = await Promise.all(coco.map(async (f) => ({ [small.graph.inputs[0]!]: await read(path.join(SHARED, 'datasets/coco128', f), 256) })));
  if (values.calibration === 'with-eval') calib.push(...(await Promise.all(EVAL.map(async (p) => ({ [small.graph.inputs[0]!]: await read(path.join(SHARED, p), 256) })))));
  // 'noise': what `stc compile/export --precision int8` calibrates on without --calibrate (two seeded noise images).
  const feeds = values.calibration === 'noise' ? [0, 1].map((i) => ({ [small.graph.inputs[0]!]: uniformTensor([1, 3, 256, 256], `calibration-${i}`, 0, 255) })) : calib;
  const ranges = await calibrate(floatModelProto(small.graph, small.weights, opts), feeds, opts);
  const probes = await Promise.all(EVAL.map(async (p) => ({ [input]: await read(path.join(SHARED, p), size) })));
  const fp = await loadOnnxModel(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish(), opts);
  const out = fp.outputNames[0]!;
  const ref = [];
  for (const p of probes) ref.push((await fp.run(p))[out]!.data);
  await fp.dispose();
  const variants: [string, QuantizeOptions][] = values.sensitivity
    ? [['default', {}], ...convSites(model).map((s): [string, QuantizeOptions] => [`float ${s.output}`, { keepFloat: [s.output] }])]
    : values.variants.split(',').map((v) => [v, VARIANTS[v] ?? (() => { throw new Error(`unknown variant ${v}`); })()]);
  for (const [name, q] of variants) {
    const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(quantizeModel(model, ranges, q))).finish();
    const m = await loadOnnxModel(bytes, opts);
    const dbs = [];
    for (let i = 0; i < probes.length; i++) dbs.push(psnr(ref[i]!, (await m.run(probes[i]!))[out]!.data));
    await m.dispose();
    const row = { net, size, variant: name, calibration: values.calibration, mean_db: +mean(dbs).toFixed(2), min_db: +Math.min(...dbs).toFixed(2), db: dbs.map((d) => +d.toFixed(2)) };
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
}
