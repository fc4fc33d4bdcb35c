/**
 * Bake a graph input into a constant: the graph is replayed through a builder with the input replaced, so
 * every shape is inferred again from the constant's concrete shape (a [1, 100, 1, 1] style vector then
 * broadcasts against a symbolic batch N). Used to fix a conditional network's condition, e.g. the style
 * vector of an arbitrary-style transformation network, leaving a one-input image network.
 */
import { GraphBuilder } from '../ir/builder.ts';
import type { Graph, HostTensor } from '../ir/types.ts';

export function bakeInput(g: Graph, input: string, value: HostTensor): Graph {
  if (!g.inputs.includes(input)) throw new Error(`bakeInput: ${input} is not an input of the graph (inputs: ${g.inputs.join(', ')})`);
  const b = new GraphBuilder();
  const ids = new Map<string, string>();
  for (const id of g.inputs) {
    const v = g.values.get(id)!;
    ids.set(id, id === input ? b.constant(id, value.shape, value.data) : b.input(id, v.shape, v.span));
  }
  for (const [id, v] of g.values) {
    if (v.kind === 'param') ids.set(id, b.param(id, v.shape as number[], v.init!, v.trainable, v.span));
    else if (v.kind === 'const') ids.set(id, b.constant(id, v.shape as number[], v.data!, v.dtype));
  }
  for (const n of g.nodes) {
    const outs = b.addMulti(n.op, n.inputs.map((i) => ids.get(i)!), n.attrs, { ...(n.layer !== undefined && { layer: n.layer }), ...(n.span && { span: n.span }) }, n.outputs[0]);
    n.outputs.forEach((o, i) => ids.set(o, outs[i]!));
  }
  for (const [name, id] of g.outputs) b.output(name, ids.get(id)!);
  for (const [name, id] of g.taps) if (id !== input) b.tap(name, ids.get(id)!);
  return b.build();
}
