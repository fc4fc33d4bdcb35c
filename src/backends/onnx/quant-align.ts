/**
 * Input-channel alignment of quantised convs for MLAS (onnxruntime's CPU kernels): a conv whose input channels
 * misfit MLAS's fast int8 kernels gets zero-point channels appended to its uint8 input and zero weights to its
 * kernel, which leaves its output exactly as it was.
 */
import { type NodeProto, type TensorProto, node, onnx } from './proto.ts';
import { type ConvSite, dimsOf, rawTensor } from './quant-sites.ts';

const DT = onnx.TensorProto.DataType;

/**
 * MLAS (onnxruntime's CPU kernels, 1.30) runs a QLinearConv with int8 weights of zero point 0 on its
 * "symmetric" indirect-conv kernels (requantisation fused, VNNI where the CPU has it) only when the group's
 * input channels are a multiple of 4 and its output channels at least 16 and a multiple of 4 (the AVX-512
 * kernels; MlasConvSymPackWSize in mlas/lib/convsym.cpp); any other conv goes through im2col, a generic
 * u8 GEMM into an int32 buffer and a separate requantisation. A 3-channel image conv is the usual misfit
 * (MobileNet-v2's stem: its kernel times on 3 and 4 channels are in docs/benchmarks.md, "Style prediction speed").
 */
export const MLAS_INPUT_CHANNEL_ALIGN = 4;
const MLAS_MIN_OUTPUT_CHANNELS = 16;

const intAttribute = (n: NodeProto, name: string, dflt: number): number => {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  return a?.i === undefined || a.i === null ? dflt : Number(a.i);
};

/** The input channel count a quantised conv is padded to (see MLAS_INPUT_CHANNEL_ALIGN), or undefined when it keeps its own. */
export function alignedInputChannels(site: ConvSite): number | undefined {
  const [o, i] = dimsOf(site.weight);
  if (o === undefined || i === undefined || intAttribute(site.node, 'group', 1) !== 1) return undefined;
  if (i % MLAS_INPUT_CHANNEL_ALIGN === 0 || o < MLAS_MIN_OUTPUT_CHANNELS || o % MLAS_INPUT_CHANNEL_ALIGN !== 0) return undefined;
  return Math.ceil(i / MLAS_INPUT_CHANNEL_ALIGN) * MLAS_INPUT_CHANNEL_ALIGN;
}

/** An [O, I, ...k] int8 kernel with zero input channels appended up to `channels`. */
export function padInputChannels(q: Int8Array, dims: readonly number[], channels: number): Int8Array {
  const [o, i] = dims as [number, number];
  const k = q.length / (o * i);
  const out = new Int8Array(o * channels * k);
  for (let c = 0; c < o; c++) out.set(q.subarray(c * i * k, (c + 1) * i * k), c * channels * k);
  return out;
}

/**
 * A Pad node appending zero-point channels to the uint8 input of a conv with kernel dims `weightDims`
 * ([O, I, ...k]) up to `channels` (axis 1), and its pads initializer.
 */
function channelPad(q: string, zp: string, weightDims: readonly number[], channels: number, fresh: (stem: string) => string): { node: NodeProto; pads: TensorProto; output: string } {
  const [, have, ...kernel] = weightDims;
  const rank = 2 + kernel.length;
  // ONNX Pad: every axis' begin pad, then every axis' end pad; only axis 1's end grows.
  const padsName = fresh(`${q}.pads`);
  const pads = rawTensor(padsName, [2 * rank], DT.INT64, BigInt64Array.from({ length: 2 * rank }, (_, i) => (i === rank + 1 ? BigInt(channels - have!) : 0n)));
  const output = fresh(`${q}.padded`);
  return { node: node('Pad', [q, padsName, zp], [output], fresh('pad_channels'), { mode: 'constant' }), pads, output };
}

/**
 * A function returning a conv's channel-padded uint8 input (channelPad), made once per tensor and channel count:
 * its Pad nodes and pads initializers are appended to `nodes` and `inits`.
 */
export function channelPadder(fresh: (stem: string) => string, inits: TensorProto[], nodes: NodeProto[]) {
  const padded = new Map<string, string>();
  return (xq: { readonly q: string; readonly zp: string }, site: ConvSite, channels: number): string => {
    const key = `${xq.q}/${channels}`;
    if (!padded.has(key)) {
      const pad = channelPad(xq.q, xq.zp, dimsOf(site.weight), channels, fresh);
      inits.push(pad.pads);
      nodes.push(pad.node);
      padded.set(key, pad.output);
    }
    return padded.get(key)!;
  };
}
