/**
 * Two rewrites of an image model that contains InstanceNormalization, so that a large image can be run in
 * tiles without changing the network's meaning (issue 21, defect 7: statistics computed per tile give each
 * tile its own tone and a seam at every border).
 *
 * - `stats`: the model unchanged, plus two outputs per instance-norm layer k, `stc_in{k}_mean` and
 *   `stc_in{k}_var` of shape [N, C, 1, 1]: the per-channel mean and population variance over H, W of the
 *   layer's input, i.e. exactly what InstanceNormalization computes (ONNX operator spec).
 * - `fed`: every InstanceNormalization replaced by y = scale · (x − mean) / sqrt(var + ε) + bias, with
 *   mean and var read from the graph inputs of the same names.
 *
 * The caller runs `stats` once on the whole image (or a downscaled copy) and `fed` on every tile with those
 * statistics: every tile is then normalised alike, as in the untiled run.
 */
import { int64Tensor, node, onnx, valueInfo, type ModelProto, type NodeProto, type TensorProto } from './proto.ts';

export interface InstanceNormStatsModels {
  /** Encoded model with the extra statistics outputs. */
  readonly stats: Uint8Array;
  /** Encoded model whose instance norms read their statistics from inputs. */
  readonly fed: Uint8Array;
  /** Statistics names, in the order of the layers in the graph: `stc_in{k}_mean`, `stc_in{k}_var`. */
  readonly names: readonly { readonly mean: string; readonly variance: string }[];
}

const AXES_HW = 'stc_axes_hw';
const AXES_CHW = 'stc_axes_unsq_12';

function opsetOf(m: ModelProto): number {
  const o = (m.opsetImport ?? []).find((x) => !x.domain || x.domain === 'ai.onnx');
  return Number(o?.version ?? 0);
}

function epsilonOf(n: NodeProto): number {
  const a = (n.attribute ?? []).find((x) => x.name === 'epsilon');
  return a?.f ?? 1e-5;
}

/** ReduceMean over H and W, keeping dims: axes an input from opset 18, an attribute before. */
function reduceMeanHW(opset: number, x: string, y: string, name: string): NodeProto {
  return opset >= 18 ? node('ReduceMean', [x, AXES_HW], [y], name, { keepdims: 1 }) : node('ReduceMean', [x], [y], name, { axes: [2, 3], keepdims: 1 });
}

/** The statistics nodes for one layer: mean = E[x], var = E[(x − mean)²] (population, as InstanceNormalization). */
function statsNodes(opset: number, x: string, k: number, mean: string, variance: string): NodeProto[] {
  const d = `stc_in${k}_centred`;
  const sq = `stc_in${k}_sq`;
  return [
    reduceMeanHW(opset, x, mean, `stc_in${k}_mean_node`),
    node('Sub', [x, mean], [d], `stc_in${k}_sub`),
    node('Mul', [d, d], [sq], `stc_in${k}_mul`),
    reduceMeanHW(opset, sq, variance, `stc_in${k}_var_node`),
  ];
}

/** y = scale · (x − mean) / sqrt(var + ε) + bias, with scale and bias [C] broadcast as [C, 1, 1]. */
function fedNodes(n: NodeProto, k: number, mean: string, variance: string): { nodes: NodeProto[]; eps: TensorProto } {
  const [x, scale, bias] = n.input as [string, string, string];
  const y = n.output![0]!;
  const p = `stc_in${k}`;
  const eps = `${p}_eps`;
  const nodes = [
    node('Sub', [x, mean], [`${p}_d`], `${p}_sub`),
    node('Add', [variance, eps], [`${p}_ve`], `${p}_add_eps`),
    node('Sqrt', [`${p}_ve`], [`${p}_sd`], `${p}_sqrt`),
    node('Div', [`${p}_d`, `${p}_sd`], [`${p}_n`], `${p}_div`),
    node('Unsqueeze', [scale, AXES_CHW], [`${p}_scale`], `${p}_unsq_scale`),
    node('Unsqueeze', [bias, AXES_CHW], [`${p}_bias`], `${p}_unsq_bias`),
    node('Mul', [`${p}_n`, `${p}_scale`], [`${p}_s`], `${p}_mul`),
    node('Add', [`${p}_s`, `${p}_bias`], [y], `${p}_add_bias`),
  ];
  const e = new Float32Array([epsilonOf(n)]);
  return { nodes, eps: { name: eps, dims: [], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(e.buffer) } };
}

/**
 * The two rewrites of an encoded model, or undefined when it has no InstanceNormalization (nothing to do)
 * or an opset before 13 (Unsqueeze then takes attributes; stc exports opset 18).
 */
export function instanceNormStatsModels(bytes: Uint8Array): InstanceNormStatsModels | undefined {
  const model = onnx.ModelProto.decode(bytes);
  const opset = opsetOf(model);
  const g = model.graph;
  if (!g || opset < 13) return undefined;
  const norms = (g.node ?? []).filter((n) => n.opType === 'InstanceNormalization' && (!n.domain || n.domain === 'ai.onnx'));
  if (norms.length === 0) return undefined;
  const names = norms.map((_, k) => ({ mean: `stc_in${k}_mean`, variance: `stc_in${k}_var` }));
  const statDims = (k: number) => ['N', `stc_in${k}_C`, 1, 1] as const;
  const axesHW = opset >= 18 ? [int64Tensor(AXES_HW, [2], [2, 3])] : [];

  const statsGraph = { ...g, node: [...(g.node ?? [])], output: [...(g.output ?? [])], initializer: [...(g.initializer ?? []), ...axesHW] };
  norms.forEach((n, k) => {
    statsGraph.node.push(...statsNodes(opset, n.input![0]!, k, names[k]!.mean, names[k]!.variance));
    statsGraph.output.push(valueInfo(names[k]!.mean, 'float32', statDims(k)), valueInfo(names[k]!.variance, 'float32', statDims(k)));
  });

  const fedNodesAll: NodeProto[] = [];
  const extraInit = [int64Tensor(AXES_CHW, [2], [1, 2])];
  for (const n of g.node ?? []) {
    const k = norms.indexOf(n);
    if (k < 0) {
      fedNodesAll.push(n);
      continue;
    }
    const r = fedNodes(n, k, names[k]!.mean, names[k]!.variance);
    fedNodesAll.push(...r.nodes);
    extraInit.push(r.eps);
  }
  const fedInputs = names.flatMap((s, k) => [valueInfo(s.mean, 'float32', statDims(k)), valueInfo(s.variance, 'float32', statDims(k))]);
  const fedGraph = { ...g, node: fedNodesAll, input: [...(g.input ?? []), ...fedInputs], initializer: [...(g.initializer ?? []), ...extraInit] };

  const encode = (graph: typeof g) => onnx.ModelProto.encode({ ...model, graph }).finish();
  return { stats: encode(statsGraph), fed: encode(fedGraph), names };
}
