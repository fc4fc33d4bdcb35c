/**
 * Whether `device: 'gpu'` can run float16 models (float16.ts). CUDA computes float16 natively. ONNX Runtime's
 * WebGPU provider needs the adapter feature `shader-f16`, and without it does not fall back: the session is
 * created with every node on WebGPU, and the first run fails in its first float16 shader ("Program Cast requires
 * f16 but the device does not support it", onnxruntime-node 1.30 over SwiftShader, whose adapter lacks the
 * feature). So a one-Cast model is run once to find out, before a real model is loaded.
 */
import * as ort from 'onnxruntime-node';
import { UserError } from '../../util/errors.ts';
import { createSessionOn, providerFailureReason, type OrtProvider } from './providers.ts';
import { type ModelProto, node, onnx } from './proto.ts';
import { ONNX_IR_VERSION, ONNX_OPSET } from './emit.ts';

const DT = onnx.TensorProto.DataType;

/** y = float32(float16(x) + float16(x)): one float16 shader besides the two Casts. */
function probeModel(): Uint8Array {
  const io = (name: string) => ({ name, type: { tensorType: { elemType: DT.FLOAT, shape: { dim: [{ dimValue: 4 }] } } } });
  const model: ModelProto = {
    irVersion: ONNX_IR_VERSION,
    producerName: 'stc',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: 'stc-float16-probe',
      node: [node('Cast', ['x'], ['h'], 'to_f16', { to: DT.FLOAT16 }), node('Add', ['h', 'h'], ['s'], 'add'), node('Cast', ['s'], ['y'], 'to_f32', { to: DT.FLOAT })],
      input: [io('x')],
      output: [io('y')],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** ORT's "Non-zero status code returned while running Cast node. ... Status Message: file:line Function <what>": the <what>. */
function runFailureReason(e: unknown): string {
  const line = providerFailureReason(e);
  return (/Status Message:\s*(?:\S+:\d+\s+\S+\s+)?(.*)$/.exec(line)?.[1] ?? line).trim().replace(/\.$/, '');
}

export type Float16Support = { readonly provider: OrtProvider; readonly ok: true } | { readonly provider: OrtProvider; readonly ok: false; readonly reason: string };

/** Run the probe model on `device: 'gpu'`; throws GpuUnavailableError when no GPU provider starts. */
export async function probeFloat16Gpu(): Promise<Float16Support> {
  const { session, provider } = await createSessionOn(probeModel(), 'gpu', { logSeverityLevel: 4 });
  try {
    const x = Float32Array.of(0.5, 1, 1.5, 2);
    const out = await session.run({ x: new ort.Tensor('float32', x, [4]) });
    const y = out.y!.data as Float32Array;
    if (!x.every((v, i) => y[i] === 2 * v)) return { provider, ok: false, reason: `a float16 add gave [${[...y]}], not [${[...x].map((v) => 2 * v)}]` };
    return { provider, ok: true };
  } catch (e) {
    return { provider, ok: false, reason: runFailureReason(e) };
  } finally {
    await session.release();
  }
}

/**
 * Throws a UserError (one line) when `--precision fp16` cannot run on the GPU here, rather than letting the
 * model fail on its first run or run on another device than asked.
 */
export async function requireFloat16Gpu(): Promise<OrtProvider> {
  const s = await probeFloat16Gpu();
  if (s.ok) return s.provider;
  const why = s.provider === 'webgpu' ? "the WebGPU adapter lacks the 'shader-f16' feature" : `the ${s.provider} provider cannot run float16`;
  throw new UserError(`--precision fp16 cannot run on this GPU: ${why} (${s.reason}); use --precision fp32`);
}
