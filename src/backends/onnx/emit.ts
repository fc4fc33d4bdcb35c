/**
 * IR graph + weights -> ONNX ModelProto (opset 18, IR version 8).
 *
 * Graph inputs keep their value ids as names and graph outputs their output
 * names; shapes are declared on both, symbolic dimensions as `dim_param`
 * strings (`H`, `ceil(H/2)`). Parameters and constants become initializers.
 */
import { dimToString } from '../../compiler/ir/dim.ts';
import type { Graph, HostTensor } from '../../compiler/ir/types.ts';
import type { WeightMap } from '../types.ts';
import { EmitContext } from './context.ts';
import { lowerNode } from './lower.ts';
import { type GraphProto, type ModelProto, type TensorProto, type ValueInfoProto, floatTensor, int64Tensor, onnx, valueInfo } from './proto.ts';

/** The ONNX operator set version every emitted model imports (standard domain only). */
export const ONNX_OPSET = 18;
/** ONNX IR version (8: the version that introduced opset 18-compatible models in onnx 1.10+). */
export const ONNX_IR_VERSION = 8;

export interface EmitOptions {
  /** Graph name stored in the model; default `stc`. */
  readonly name?: string;
  readonly docString?: string;
  /**
   * How maxPoolGrad is lowered: 'scatter' (default) scatter-adds dy at MaxPool's Indices output;
   * 'window' finds each window's argmax among strided slices and spreads dy back with a one-hot
   * transposed conv, for providers without MaxPool's Indices output (ONNX Runtime 1.30's WebGPU
   * provider). Both route to the first maximum in row-major order. 'tiled' (the GPU's): where the windows tile
   * the input exactly, a 4-node Resize/Equal/Where lowering that routes to every maximum of a window
   * (lower-max-pool-grad.ts), else 'window'.
   */
  readonly maxPoolGrad?: 'scatter' | 'window' | 'tiled';
  /** How reluGrad is lowered (see BackendOptions.reluGrad); default 'mul'. */
  readonly reluGrad?: 'mul' | 'where';
}

function sameShape(a: readonly number[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function paramInitializer(id: string, shape: readonly unknown[], t: HostTensor | undefined): TensorProto {
  if (!t) throw new Error(`ONNX emitter: no weights for parameter ${id} (bind weights before emitting)`);
  if (!sameShape(t.shape, shape)) throw new Error(`ONNX emitter: parameter ${id} has shape [${t.shape}], the graph expects [${shape.join(', ')}]`);
  return floatTensor(id, t.shape, t.data);
}

/** Build the ModelProto object (not yet serialised). */
export function buildModelProto(g: Graph, weights: WeightMap, opts: EmitOptions = {}): ModelProto {
  const ctx = new EmitContext(g, { maxPoolGrad: opts.maxPoolGrad ?? 'scatter', reluGrad: opts.reluGrad ?? 'mul' });
  const read = new Set<string>();
  for (const n of g.nodes) for (const i of n.inputs) read.add(i);
  for (const id of g.outputs.values()) read.add(id);

  for (const [id, v] of g.values) {
    if (!read.has(id)) continue;
    if (v.kind === 'param') ctx.addInitializer(paramInitializer(id, v.shape, weights.get(id)));
    else if (v.kind === 'const') {
      if (!v.data) throw new Error(`IR invariant: constant ${id} has no data`);
      const dims = v.shape as number[];
      ctx.addInitializer(v.dtype === 'int64' ? int64Tensor(id, dims, Array.from(v.data)) : floatTensor(id, dims, v.data));
    }
  }
  for (const n of g.nodes) {
    ctx.scope = n.outputs[0]!;
    lowerNode(ctx, n);
  }
  for (const [name, id] of g.outputs) {
    if (name === id) continue;
    if (g.values.has(name)) throw new Error(`ONNX emitter: output name ${name} collides with a different value of the graph`);
    ctx.scope = name;
    ctx.opTo('Identity', [id], [name]);
  }
  ctx.scope = '';

  const info = (name: string, id: string): ValueInfoProto => {
    const v = g.values.get(id)!;
    return valueInfo(name, v.dtype, v.shape.map((d) => (typeof d === 'number' ? d : dimToString(d))));
  };
  const graph: GraphProto = {
    name: opts.name ?? 'stc',
    node: ctx.nodes,
    initializer: ctx.initializers,
    input: g.inputs.map((id) => info(id, id)),
    output: [...g.outputs].map(([name, id]) => info(name, id)),
    ...(opts.docString !== undefined && { docString: opts.docString }),
  };
  return {
    irVersion: ONNX_IR_VERSION,
    producerName: 'stc',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph,
  };
}

/** Serialise an IR graph with its weights as an ONNX model. */
export function emitModel(g: Graph, weights: WeightMap, opts: EmitOptions = {}): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(buildModelProto(g, weights, opts))).finish();
}
