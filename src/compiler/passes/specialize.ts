/**
 * Bind symbolic sizes (N, H, W, ...) to concrete numbers, re-running shape
 * inference so every value gets a concrete shape, and resolving TF "SAME"
 * padding to explicit pads (which the gradient rules need).
 */
import { substDim, evalDim, type DimEnv } from '../ir/dim.ts';
import { inferShapes, samePads, ShapeError } from '../ir/ops.ts';
import type { Graph, Node, Value, Conv2dAttrs } from '../ir/types.ts';

export function specialize(g: Graph, env: DimEnv): Graph {
  const values = new Map<string, Value>();
  for (const [id, v] of g.values) {
    if (v.kind !== 'node') values.set(id, { ...v, shape: v.shape.map((d) => substDim(d, env)) });
  }
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    const inShapes = n.inputs.map((i) => values.get(i)!.shape);
    let node = n;
    // Attributes that hold symbolic sizes are bound too.
    if (n.op === 'reshape') node = { ...n, attrs: { shape: n.attrs.shape.map((d) => substDim(d, env)) } };
    if (n.op === 'slice') node = { ...n, attrs: { ...n.attrs, end: substDim(n.attrs.end, env) } };
    if (n.op === 'conv2d' && n.attrs.padding.kind === 'same') {
      const x = inShapes[0]!;
      const w = inShapes[1]!;
      if (typeof x[2] === 'number' && typeof x[3] === 'number') {
        const a: Conv2dAttrs = n.attrs;
        const [t, b] = samePads(x[2], w[2] as number, a.strides[0], a.dilations[0]);
        const [l, r] = samePads(x[3], w[3] as number, a.strides[1], a.dilations[1]);
        node = { ...n, attrs: { ...a, padding: { kind: 'explicit', pads: [t, l, b, r] } } };
      }
    }
    let outShapes;
    try {
      outShapes = inferShapes(node.op, inShapes, node.attrs as never);
    } catch (e) {
      if (e instanceof ShapeError) {
        const where = n.layer ? ` at layer ${n.layer}` : '';
        throw new ShapeError(`${e.message}${where} (sizes ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(', ')})`);
      }
      throw e;
    }
    n.outputs.forEach((o, i) => values.set(o, { ...g.values.get(o)!, shape: outShapes[i]! }));
    nodes.push(node);
  }
  return { ...g, values, nodes };
}

/** Concrete shape of a value in a specialised graph. Throws if still symbolic. */
export function concreteShapeOf(g: Graph, id: string): number[] {
  const v = g.values.get(id);
  if (!v) throw new Error(`concreteShapeOf: unknown value ${id}`);
  return v.shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`concreteShapeOf: ${id} still has a symbolic dimension`);
    return d;
  });
}

export { evalDim };
