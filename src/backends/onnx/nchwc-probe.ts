/**
 * The NCHWc block size ONNX Runtime's CPU provider uses on this machine (MLAS: 16 channels with AVX-512, 8 with
 * AVX2, none where the platform has no NCHWc kernels), for nchwc-convs.ts, which must write kernels in the blocked
 * order ORT's own transformer writes. Found, not assumed: a one-conv model with a constant kernel of distinct
 * values is optimised at level 'all' and saved; the kernel ORT wrote is matched against the OIHWBiBo order of each
 * candidate block size. No match (another layout, no NCHWc conv in the saved model, any failure) gives 0: the
 * rewrite is then not applied.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ONNX_IR_VERSION, ONNX_OPSET } from './emit.ts';
import { floatTensor, node, onnx, tensorNumbers, type ModelProto } from './proto.ts';

const CHANNELS = 64;
const K = 3;
const CANDIDATES = [32, 16, 8, 4] as const;

function probeModel(): Uint8Array {
  const io = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const w = Float32Array.from({ length: CHANNELS * CHANNELS * K * K }, (_, i) => i);
  const model: ModelProto = {
    irVersion: ONNX_IR_VERSION,
    producerName: 'stc',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: 'stc-nchwc-probe',
      node: [node('Conv', ['x', 'w'], ['y'], 'conv', { kernel_shape: [K, K] })],
      input: [io('x', [1, CHANNELS, 8, 8])],
      output: [io('y', [1, CHANNELS, 6, 6])],
      initializer: [floatTensor('w', [CHANNELS, CHANNELS, K, K], w)],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/**
 * Whether `values` (original flat indices of an [O, C, KH, KW] kernel, as the reordered kernel holds them) are the
 * OIHWBiBo blocking with block b: [O/b, C/b, KH, KW, b (input), b (output)].
 */
export function isBlockedOrder(values: readonly number[], o: number, c: number, taps: number, b: number): boolean {
  if (o % b !== 0 || c % b !== 0 || values.length !== o * c * taps) return false;
  let i = 0;
  for (let ob = 0; ob < o / b; ob++)
    for (let cb = 0; cb < c / b; cb++)
      for (let t = 0; t < taps; t++)
        for (let ci = 0; ci < b; ci++)
          for (let oi = 0; oi < b; oi++) if (values[i++] !== ((ob * b + oi) * c + cb * b + ci) * taps + t) return false;
  return true;
}

async function probe(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'stc-nchwc-'));
  try {
    const file = join(dir, 'optimised.onnx');
    const session = await ort.InferenceSession.create(probeModel(), { graphOptimizationLevel: 'all', optimizedModelFilePath: file, logSeverityLevel: 3, intraOpNumThreads: 1 });
    await session.release();
    // A plain Uint8Array, not the Buffer readFile gives: protobufjs would decode bytes fields as Buffer views of a
    // shared pool, which tensorNumbers cannot reinterpret.
    const saved = onnx.ModelProto.decode(new Uint8Array(await readFile(file)));
    const conv = saved.graph?.node?.find((n) => n.opType === 'Conv' && n.domain === 'com.microsoft.nchwc');
    const kernel = saved.graph?.initializer?.find((t) => t.name === conv?.input?.[1]);
    const values = kernel ? tensorNumbers(kernel) : undefined;
    if (!values) return 0;
    return CANDIDATES.find((b) => isBlockedOrder(values, CHANNELS, CHANNELS, K * K, b)) ?? 0;
  } catch {
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let cached: Promise<number> | undefined;

/** The NCHWc block size of ORT's CPU provider here, or 0 where its kernels cannot be matched (probed once per process). */
export function nchwcBlockSize(): Promise<number> {
  cached ??= probe();
  return cached;
}
