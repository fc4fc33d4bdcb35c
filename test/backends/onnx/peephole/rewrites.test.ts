/**
 * Each GPU peephole rewrite on a small hand-built ONNX graph: where it applies, the graph loses nodes and
 * computes the same outputs on ONNX Runtime's CPU provider (1e-5 relative); where its precondition fails
 * (another reader, a shape the broadcast would change, an operand not marked symmetric), the graph is left as it was.
 */
import { describe, expect, it } from 'vitest';
import { CPU_PEEPHOLE_REWRITES, peephole } from '../../../../src/backends/onnx/peephole/index.ts';
import { type ModelProto, type NodeProto, type TensorProto, floatTensor, int64Tensor, node, onnx, valueInfo, type AttrValue } from '../../../../src/backends/onnx/proto.ts';
import type { HostTensor } from '../../../../src/compiler/ir/types.ts';
import { Rng } from '../../../../src/runtime/data/rng.ts';
import { runProto } from './outputs-close.ts';

type Shapes = Record<string, number[]>;

/** A graph from `ops` ([op, inputs, output, attrs]); inputs and outputs with their shapes; `f:v` / `i:a,b` names are constants. */
function model(ops: [string, string[], string, Record<string, AttrValue>?][], inputs: Shapes, outputs: Shapes): ModelProto {
  const inits = new Map<string, TensorProto>();
  const constant = (name: string): void => {
    if (inits.has(name)) return;
    if (name.startsWith('f:')) inits.set(name, floatTensor(name, [], Float32Array.of(Number(name.slice(2)))));
    if (name.startsWith('i:')) {
      const v = name.slice(2).split(',').map(Number);
      inits.set(name, int64Tensor(name, [v.length], v));
    }
  };
  const nodes: NodeProto[] = ops.map(([op, ins, out, attrs], k) => {
    ins.forEach(constant);
    return node(op, ins, [out], `n${k}`, attrs ?? {});
  });
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 18 }],
    graph: {
      name: 't',
      node: nodes,
      initializer: [...inits.values()],
      input: Object.entries(inputs).map(([n, s]) => valueInfo(n, 'float32', s)),
      output: Object.entries(outputs).map(([n, s]) => valueInfo(n, 'float32', s)),
    },
  };
}

async function run(m: ModelProto, inputs: Shapes, symmetric: string[] = []): Promise<Record<string, HostTensor>> {
  const rng = Rng.fromSeed(9);
  const feeds: Record<string, HostTensor> = {};
  for (const [name, shape] of Object.entries(inputs)) {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng.next() - 1);
    if (symmetric.includes(name)) {
      const c = shape.at(-1)!;
      for (let i = 0; i < c; i++) for (let j = 0; j < i; j++) data[j * c + i] = data[i * c + j]!;
    }
    feeds[name] = { shape, data };
  }
  return runProto(m, feeds);
}

/**
 * Rewrite with the shapes given and the `symmetric` inputs marked so (and fed symmetric matrices); returns the
 * op types left and checks the outputs are unchanged.
 */
async function rewrite(ops: Parameters<typeof model>[0], inputs: Shapes, outputs: Shapes, known: Shapes = {}, symmetric: string[] = [], rewrites?: Parameters<typeof peephole>[3]): Promise<string[]> {
  const before = model(ops, inputs, outputs);
  const shapes: Shapes = { ...inputs, ...outputs, ...known };
  const after = peephole(model(ops, inputs, outputs), (n) => shapes[n], new Set(symmetric), rewrites);
  const [want, got] = [await run(before, inputs, symmetric), await run(after, inputs, symmetric)];
  for (const [k, w] of Object.entries(want)) {
    expect(got[k]!.shape).toEqual(w.shape);
    const err = Math.max(...w.data.map((v, i) => Math.abs(v - got[k]!.data[i]!)));
    const scale = Math.max(...w.data.map(Math.abs));
    expect(err, k).toBeLessThanOrEqual(1e-5 * scale + 1e-6);
  }
  return after.graph!.node!.map((n) => n.opType!);
}

describe('GPU peephole rewrites', () => {
  it("folds autodiff's gradient of a sum of squares: Expand, twin Muls, x + x and constant factors", async () => {
    // d(Σ d²)·k/dd = expand(k·g)·d + expand(k·g)·d, the scale a chain of Muls by constants
    const ops: Parameters<typeof model>[0] = [
      ['Mul', ['g', 'f:0.5'], 'g1'],
      ['Mul', ['g1', 'f:3'], 'g2'],
      ['Expand', ['g2', 'i:2,3,4'], 'e'],
      ['Mul', ['e', 'd'], 'a'],
      ['Mul', ['e', 'd'], 'b'],
      ['Add', ['a', 'b'], 'y'],
      ['Mul', ['d', 'd'], 'sq'],
      ['ReduceSum', ['sq', 'i:0,1,2'], 'loss', { keepdims: 0 }],
    ];
    const left = await rewrite(ops, { g: [], d: [2, 3, 4] }, { y: [2, 3, 4], loss: [] }, { g1: [], g2: [] });
    expect(left.sort()).toEqual(['Mul', 'Mul', 'Mul', 'ReduceSumSquare']);
  });

  it('keeps an Expand whose reader would broadcast to another shape, and a factor read twice', async () => {
    const ops: Parameters<typeof model>[0] = [
      ['Expand', ['g', 'i:2,3,4'], 'e'],
      ['Mul', ['e', 'd'], 'y'],
      ['Mul', ['x', 'f:2'], 'x2'],
      ['Mul', ['x2', 'f:3'], 'z'],
      ['Neg', ['x2'], 'w'],
    ];
    const left = await rewrite(ops, { g: [1], d: [1, 1, 4], x: [5] }, { y: [2, 3, 4], z: [5], w: [5] }, { x2: [5] });
    expect(left).toEqual(['Expand', 'Mul', 'Mul', 'Mul', 'Neg']);
  });

  const gramOps = (target: string): Parameters<typeof model>[0] => [
    ['Reshape', ['x', 'i:1,4,6'], 'f'],
    ['Transpose', ['f'], 'ft', { perm: [0, 2, 1] }],
    ['MatMul', ['f', 'ft'], 'gram'],
    ['Sub', ['gram', target], 'diff'],
    ['Mul', ['diff', 'f:0.25'], 'dg'],
    ['Transpose', ['dg'], 'dgt', { perm: [0, 2, 1] }],
    ['Add', ['dg', 'dgt'], 'dsym'],
    ['MatMul', ['dsym', 'f'], 'df3'],
    ['Reshape', ['df3', 'i:1,4,2,3'], 'df'],
  ];

  it('computes a Gram as one Gemm and its gradient without a transpose, against an input marked symmetric', async () => {
    const shapes = { diff: [1, 4, 4], dg: [1, 4, 4], f: [1, 4, 6] };
    const left = await rewrite(gramOps('target.style:t'), { x: [1, 4, 2, 3], 'target.style:t': [1, 4, 4] }, { df: [1, 4, 2, 3], diff: [1, 4, 4] }, shapes, ['target.style:t']);
    expect(left).toEqual(['Reshape', 'Gemm', 'Sub', 'Mul', 'MatMul', 'Reshape']);
  });

  it('keeps (X + Xᵀ) where X is not known to be symmetric (an operand that is no style target)', async () => {
    const shapes = { diff: [1, 4, 4], dg: [1, 4, 4], f: [1, 4, 6] };
    const left = await rewrite(gramOps('other'), { x: [1, 4, 2, 3], other: [1, 4, 4] }, { df: [1, 4, 2, 3], diff: [1, 4, 4] }, shapes);
    expect(left.filter((op) => op === 'Transpose')).toHaveLength(1);
    expect(left).toContain('Gemm');
  });

  it('keeps (X + Xᵀ) against a square target input that is not marked symmetric, whatever its name', async () => {
    // Fed a non-symmetric matrix: X + Xᵀ ≠ 2X, so rewriting by the name `target.*` would change the gradient.
    const shapes = { diff: [1, 4, 4], dg: [1, 4, 4], f: [1, 4, 6] };
    const left = await rewrite(gramOps('target.cross:t'), { x: [1, 4, 2, 3], 'target.cross:t': [1, 4, 4] }, { df: [1, 4, 2, 3], diff: [1, 4, 4] }, shapes);
    expect(left.filter((op) => op === 'Transpose')).toHaveLength(1);
    expect(left).toContain('Gemm');
  });

  it('fuses a ReLU mask with the tiling max pool after it, not when the ReLU has another reader', async () => {
    const up = { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };
    const ops = (extra: boolean): Parameters<typeof model>[0] => [
      ['Relu', ['c'], 'r'],
      ['MaxPool', ['r'], 'p', { kernel_shape: [2, 2], strides: [2, 2] }],
      ['Resize', ['p', '', 'scales'], 'up_p', up],
      ['Equal', ['r', 'up_p'], 'is_max'],
      ['Resize', ['dp', '', 'scales'], 'up_dp', up],
      ['Where', ['is_max', 'up_dp', 'f:0'], 'dr'],
      ['Greater', ['r', 'f:0'], 'pos'],
      ['Where', ['pos', 'dr', 'f:0'], 'dc'],
      ...(extra ? [['Mul', ['r', 'f:2'], 'r2'] as [string, string[], string]] : []),
    ];
    const withScales = (m: ModelProto): ModelProto => ({ ...m, graph: { ...m.graph, initializer: [...m.graph!.initializer!, floatTensor('scales', [4], Float32Array.of(1, 1, 2, 2))] } });
    const io = { c: [1, 2, 4, 6], dp: [1, 2, 2, 3] };
    for (const extra of [false, true]) {
      const outs = { p: [1, 2, 2, 3], dc: [1, 2, 4, 6], ...(extra && { r2: [1, 2, 4, 6] }) };
      const before = withScales(model(ops(extra), io, outs));
      const shapes: Shapes = { ...io, ...outs };
      const after = peephole(withScales(model(ops(extra), io, outs)), (n) => shapes[n]);
      const [want, got] = [await run(before, io), await run(after, io)];
      for (const [k, w] of Object.entries(want)) expect([...got[k]!.data], k).toEqual([...w.data]);
      expect(after.graph!.node!.length).toBe(before.graph!.node!.length - (extra ? 0 : 2));
    }
  });

  it("rewrites TV's neighbour differences as a depthwise Conv and their gradient as a ConvTranspose, the scale in its kernel", async () => {
    const ops: Parameters<typeof model>[0] = [
      ['Slice', ['x', 'i:1', 'i:5', 'i:2'], 'hi'],
      ['Slice', ['x', 'i:0', 'i:4', 'i:2'], 'lo'],
      ['Sub', ['hi', 'lo'], 'dh'],
      ['Mul', ['dh', 'f:0.5'], 'g'],
      ['Neg', ['g'], 'ng'],
      ['Pad', ['ng', 'i:0,0,0,0,0,0,1,0'], 'pa'],
      ['Add', ['pa', 'other'], 's1'],
      ['Pad', ['g', 'i:0,0,1,0,0,0,0,0'], 'pb'],
      ['Add', ['s1', 'pb'], 'dx'],
    ];
    const left = await rewrite(ops, { x: [1, 2, 5, 6], other: [1, 2, 5, 6] }, { dh: [1, 2, 4, 6], dx: [1, 2, 5, 6] }, { g: [1, 2, 4, 6] });
    expect(left).toEqual(['Conv', 'ConvTranspose', 'Add']);
  });

  it('moves a loss scale into the terms of the sum it multiplies', async () => {
    const ops: Parameters<typeof model>[0] = [
      ['Mul', ['a', 'f:2'], 'a2'],
      ['Mul', ['b', 'f:3'], 'b3'],
      ['Add', ['a2', 'b3'], 's'],
      ['Mul', ['s', 'f:10'], 'loss'],
    ];
    expect(await rewrite(ops, { a: [], b: [] }, { loss: [] })).toEqual(['Mul', 'Mul', 'Add']);
  });
});

describe('GPU peephole rewrites, sums', () => {
  it('writes a sum of just the two Pads of a difference gradient as the ConvTranspose itself', async () => {
    const ops: Parameters<typeof model>[0] = [
      ['Neg', ['g'], 'ng'],
      ['Pad', ['ng', 'i:0,0,0,0,0,0,0,1'], 'pa'],
      ['Pad', ['g', 'i:0,0,0,1,0,0,0,0'], 'pb'],
      ['Add', ['pa', 'pb'], 'dx'],
    ];
    expect(await rewrite(ops, { g: [1, 3, 4, 5] }, { dx: [1, 3, 4, 6] })).toEqual(['ConvTranspose']);
  });

  it('merges twin nodes only with as many outputs: a MaxPool with Indices is no twin of the same pool without', async () => {
    const pool = { kernel_shape: [2, 2], strides: [2, 2] };
    const m = model([['MaxPool', ['x'], 'y', pool], ['Neg', ['y'], 'a']], { x: [1, 2, 4, 4] }, { a: [1, 2, 2, 2], b: [1, 2, 2, 2] });
    // The CPU lowering's max-pool gradient: the pool again, with its argmax, here read through a Cast.
    m.graph!.node!.push(node('MaxPool', ['x'], ['y2', 'idx'], 'withIndices', pool), node('Cast', ['idx'], ['b'], 'cast', { to: onnx.TensorProto.DataType.FLOAT }));
    const after = peephole(m, () => undefined);
    expect(after.graph!.node!.map((n) => n.opType)).toEqual(['MaxPool', 'Neg', 'MaxPool', 'Cast']);
    const [want, got] = [await run(m, { x: [1, 2, 4, 4] }), await run(after, { x: [1, 2, 4, 4] })];
    for (const k of ['a', 'b']) expect(Array.from(got[k]!.data), k).toEqual(Array.from(want[k]!.data));
  });

  it("drops Identities: a reader takes the input, a graph output is written by the input's producer", async () => {
    const ops: Parameters<typeof model>[0] = [
      ['Relu', ['x'], 'r'],
      ['Identity', ['r'], 'i1'],
      ['Neg', ['i1'], 'y'],
      ['Sigmoid', ['x'], 's'],
      ['Identity', ['s'], 'z'],
      ['Identity', ['x'], 'w'],
    ];
    // The last copies an input to an output: nothing else can write that name, so it stays.
    expect(await rewrite(ops, { x: [2, 3] }, { y: [2, 3], z: [2, 3], w: [2, 3] })).toEqual(['Relu', 'Neg', 'Sigmoid', 'Identity']);
  });
});

describe('CPU peephole rewrites', () => {
  it('merges a Slice of a Slice on other axes into one Slice, not when the axes overlap or the inner one has another reader', async () => {
    const cpu = (ops: Parameters<typeof model>[0], outputs: Shapes): Promise<string[]> => rewrite(ops, { x: [1, 8, 5, 6] }, outputs, {}, [], CPU_PEEPHOLE_REWRITES);
    // channels 2..4, then rows 1..5, then columns 0..4: one Slice over three axes
    const chain: Parameters<typeof model>[0] = [
      ['Slice', ['x', 'i:2', 'i:4', 'i:1'], 'c'],
      ['Slice', ['c', 'i:1', 'i:5', 'i:2'], 'r'],
      ['Slice', ['r', 'i:0', 'i:4', 'i:3'], 'y'],
    ];
    expect(await cpu(chain, { y: [1, 2, 4, 4] })).toEqual(['Slice']);
    // the same axis twice (a slice of a slice of rows) composes differently: left alone
    const sameAxis: Parameters<typeof model>[0] = [
      ['Slice', ['x', 'i:1', 'i:5', 'i:2'], 'r'],
      ['Slice', ['r', 'i:1', 'i:3', 'i:2'], 'y'],
    ];
    expect(await cpu(sameAxis, { y: [1, 8, 2, 6] })).toEqual(['Slice', 'Slice']);
    // the inner slice is also an output: both stay
    expect(await cpu(chain.slice(0, 2), { c: [1, 2, 5, 6], r: [1, 2, 4, 6] })).toEqual(['Slice', 'Slice']);
  });

  it('runs a 2×2 block split (Reshape, Transpose 0,3,5,1,2,4) read by Reshapes as SpaceToDepth, not when another op reads it', async () => {
    const cpu = (ops: Parameters<typeof model>[0], outputs: Shapes): Promise<string[]> =>
      rewrite(ops, { x: [2, 3, 4, 6] }, outputs, { s: [2, 3, 2, 2, 3, 2], t: [2, 2, 2, 3, 2, 3] }, [], CPU_PEEPHOLE_REWRITES);
    const split: Parameters<typeof model>[0] = [
      ['Reshape', ['x', 'i:2,3,2,2,3,2'], 's'],
      ['Transpose', ['s'], 't', { perm: [0, 3, 5, 1, 2, 4] }],
      ['Reshape', ['t', 'i:2,12,6'], 'y'],
    ];
    expect(await cpu(split, { y: [2, 12, 6] })).toEqual(['SpaceToDepth', 'Reshape']);
    // another permutation, or a reader that is not a Reshape: left alone
    const other: Parameters<typeof model>[0] = [split[0]!, ['Transpose', ['s'], 't', { perm: [0, 1, 3, 5, 2, 4] }], split[2]!];
    expect(await cpu(other, { y: [2, 12, 6] })).toEqual(['Reshape', 'Transpose', 'Reshape']);
    expect(await cpu([...split.slice(0, 2), ['Relu', ['t'], 'y']], { y: [2, 2, 2, 3, 2, 3] })).toEqual(['Reshape', 'Transpose', 'Relu']);
  });

  it('writes the phase interleave (Reshape, 6-D Transpose, Reshape) as one DepthToSpace in CRD mode, not another permutation', async () => {
    const interleave = (perm: number[]): Parameters<typeof model>[0] => [
      ['Reshape', ['x', 'i:1,3,2,2,5,6'], 's'],
      ['Transpose', ['s'], 't', { perm }],
      ['Reshape', ['t', 'i:1,3,10,12'], 'y'],
    ];
    const known = { s: [1, 3, 2, 2, 5, 6], t: [1, 3, 5, 2, 6, 2] };
    const [x, y] = [{ x: [1, 12, 5, 6] }, { y: [1, 3, 10, 12] }];
    expect(await rewrite(interleave([0, 1, 4, 2, 5, 3]), x, y, known, [], CPU_PEEPHOLE_REWRITES)).toEqual(['DepthToSpace']);
    // the phases the other way round (a, b swapped) are not CRD's order: left alone
    expect(await rewrite(interleave([0, 1, 4, 3, 5, 2]), x, y, known, [], CPU_PEEPHOLE_REWRITES)).toEqual(['Reshape', 'Transpose', 'Reshape']);
  });
});
