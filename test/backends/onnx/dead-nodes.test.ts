/**
 * liveNodes (dead-node elimination for the peephole rewrites and int8 quantisation): keeps exactly the nodes some
 * graph output depends on, in their given order, whatever that order is: a node list in reverse topological order
 * loses nothing live (a single backward pass over the list would keep only the last producer), and a chain of
 * dead nodes goes in one call. Control-flow subgraphs keep the outer producers they read.
 */
import { describe, expect, it } from 'vitest';
import { liveNodes } from '../../../src/backends/onnx/dead-nodes.ts';
import { ProtoGraph } from '../../../src/backends/onnx/peephole/graph.ts';
import { type NodeProto, node, valueInfo } from '../../../src/backends/onnx/proto.ts';

const n = (name: string, op: string, input: string[], output: string[]): NodeProto => node(op, input, output, name, {});

// x → a → b → y (output); b → dead1 → dead2; a → split → (s0 → y2 (output), s1 unread); c reads nothing live.
const topological = [
  n('a', 'Relu', ['x'], ['a']),
  n('b', 'Neg', ['a'], ['b']),
  n('y', 'Abs', ['b'], ['y']),
  n('dead1', 'Neg', ['b'], ['d1']),
  n('dead2', 'Neg', ['d1'], ['d2']),
  n('split', 'Split', ['a', ''], ['s0', 's1']),
  n('y2', 'Relu', ['s0'], ['y2']),
  n('c', 'Neg', ['x'], ['c']),
];
const names = (nodes: readonly NodeProto[]): string[] => nodes.map((m) => m.name!);
const LIVE = ['a', 'b', 'y', 'split', 'y2'];

describe('liveNodes', () => {
  it('keeps the nodes the outputs depend on, in their order', () => {
    expect(names(liveNodes(topological, ['y', 'y2']))).toEqual(LIVE);
  });

  it('is right for a node list in any order: reversed, and shuffled', () => {
    const reversed = [...topological].reverse();
    expect(names(liveNodes(reversed, ['y', 'y2']))).toEqual([...LIVE].reverse());
    const shuffled = [5, 2, 7, 0, 3, 6, 1, 4].map((i) => topological[i]!);
    expect(names(liveNodes(shuffled, new Set(['y2', 'y'])))).toEqual(['split', 'y', 'a', 'y2', 'b']);
  });

  it('keeps a node whose only live output is a graph output, and nothing for no outputs', () => {
    expect(names(liveNodes(topological, ['b']))).toEqual(['a', 'b']);
    expect(liveNodes(topological, [])).toEqual([]);
  });

  it('keeps the producers a control-flow subgraph reads from the outer graph', () => {
    const branch = { name: 'then', node: [n('inner', 'Neg', ['b'], ['t'])], output: [valueInfo('t', 'float32', [])] };
    const cond = n('if', 'If', ['c'], ['z']);
    cond.attribute = [{ name: 'then_branch', type: 5, g: branch }, { name: 'else_branch', type: 5, g: { name: 'else', node: [], output: [valueInfo('d2', 'float32', [])] } }];
    expect(names(liveNodes([cond, ...topological], ['z']))).toEqual(['if', 'a', 'b', 'dead1', 'dead2', 'c']);
  });
});

describe('ProtoGraph.removeDead', () => {
  it('drops a chain of dead nodes from an unordered list in one call, and reports whether any went', () => {
    const shuffled = [3, 7, 4, 2, 6, 0, 5, 1].map((i) => topological[i]!);
    const model = { graph: { node: shuffled, input: [valueInfo('x', 'float32', [2])], output: ['y', 'y2'].map((o) => valueInfo(o, 'float32', [2])) } };
    const g = new ProtoGraph(model, () => undefined);
    expect(g.removeDead()).toBe(true);
    expect(names(g.nodes)).toEqual(['y', 'y2', 'a', 'split', 'b']);
    expect(g.consumers('d1')).toEqual([]);
    expect(g.removeDead()).toBe(false);
  });
});
