/**
 * Several steps of an iterative graph in one session run: the step's model becomes the body of an ONNX Loop.
 *
 * Why: onnxruntime-node converts every feed and copies every output of a run into fresh JS memory. A training
 * step carries its parameters and Adam moments through the run as feeds and outputs (hundreds of tensors,
 * megabytes), so each run pays that conversion and the page faults of the fresh buffers, while inside the
 * Loop the carried tensors pass from one iteration to the next in ORT's own memory. The body is the step
 * graph itself, unchanged, so K steps in one run compute bit for bit what K runs of the step compute
 * (test/backends/onnx/step-loop.test.ts); docs/benchmarks.md (item 12, "Several training steps per session run") has
 * the time. The CPU training step uses it; GPU graphs stay without control flow.
 *
 * The looped model's interface, for a step with carried pairs (x → x'), per-step inputs u and outputs y:
 *   inputs   stackedName(u) [K, ...u's shape], initialName(x) (x's shape), and the step's other inputs as they are
 *            (read by every iteration: constants of the loop such as style targets);
 *   outputs  finalName(x') (the state after the K-th step), stackedName(y) [K, ...y's shape].
 * K is the stacked inputs' first extent, so one compiled model runs any number of steps.
 */
import { onnx, type GraphProto, type ModelProto, type NodeProto, type ValueInfoProto } from './proto.ts';

export interface StepLoop {
  /** [step input, step output] pairs: the output of step k is the input of step k + 1. */
  readonly carried: readonly (readonly [string, string])[];
  /** Step inputs that differ per step, fed stacked along a new first axis. */
  readonly perStepInputs: readonly string[];
  /** Step outputs wanted from every step, returned stacked along a new first axis. */
  readonly perStepOutputs: readonly string[];
}

export const stackedName = (name: string): string => `steps/${name}`;
export const initialName = (name: string): string => `initial/${name}`;
export const finalName = (name: string): string => `final/${name}`;

const ITER = 'loop.iteration';
const COND_IN = 'loop.cond';
const COND_OUT = 'loop.cond_out';
const TRIPS = 'loop.trips';
const ALWAYS = 'loop.true';

const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

function scalarInfo(name: string, elemType: number): ValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: [] } } } };
}

/** `v` with a new leading axis of symbolic extent K. */
function stackedInfo(v: ValueInfoProto, name: string): ValueInfoProto {
  const t = v.type?.tensorType;
  if (!t?.shape?.dim) throw new Error(`step loop: ${v.name} has no tensor shape`);
  return { name, type: { tensorType: { elemType: t.elemType ?? DT.FLOAT, shape: { dim: [{ dimParam: 'K' }, ...t.shape.dim] } } } };
}

function byName(list: readonly ValueInfoProto[] | null | undefined, what: string): (name: string) => ValueInfoProto {
  const m = new Map((list ?? []).map((v) => [v.name ?? '', v]));
  return (name) => m.get(name) ?? fail(`step loop: the step has no ${what} ${name}`);
}

function fail(message: string): never {
  throw new Error(message);
}

/** The step's model as the body of a Loop (see the module comment for the interface). */
export function loopModel(model: ModelProto, loop: StepLoop): ModelProto {
  const g = model.graph ?? fail('step loop: the model has no graph');
  if (loop.perStepInputs.length === 0) throw new Error('step loop: at least one per-step input sets the number of steps');
  const both = loop.perStepInputs.find((u) => loop.perStepOutputs.includes(u));
  if (both !== undefined) throw new Error(`step loop: ${both} is both a per-step input and a per-step output`);
  const input = byName(g.input, 'input');
  const output = byName(g.output, 'output');
  const carriedIn = new Set(loop.carried.map(([x]) => x));
  const perStep = new Set(loop.perStepInputs);
  const shared = (g.input ?? []).filter((v) => !carriedIn.has(v.name ?? '') && !perStep.has(v.name ?? ''));
  // Each iteration takes its slice of a stacked input: Gather with a scalar index drops the stacked axis.
  const slices: NodeProto[] = loop.perStepInputs.map((u) => ({
    opType: 'Gather',
    input: [stackedName(u), ITER],
    output: [u],
    name: `loop.slice/${u}`,
    attribute: [{ name: 'axis', type: AT.INT, i: 0 }],
  }));
  const body: GraphProto = {
    name: `${g.name ?? 'step'}.body`,
    input: [scalarInfo(ITER, DT.INT64), scalarInfo(COND_IN, DT.BOOL), ...loop.carried.map(([x]) => input(x))],
    output: [scalarInfo(COND_OUT, DT.BOOL), ...loop.carried.map(([, y]) => output(y)), ...loop.perStepOutputs.map(output)],
    node: [{ opType: 'Identity', input: [COND_IN], output: [COND_OUT], name: 'loop.cond' }, ...slices, ...(g.node ?? [])],
    initializer: g.initializer ?? [],
    valueInfo: g.valueInfo ?? [],
  };
  const first = stackedName(loop.perStepInputs[0]!);
  const outer: GraphProto = {
    name: `${g.name ?? 'step'}.steps`,
    input: [...loop.perStepInputs.map((u) => stackedInfo(input(u), stackedName(u))), ...shared, ...loop.carried.map(([x]) => ({ ...input(x), name: initialName(x) }))],
    output: [...loop.carried.map(([, y]) => ({ ...output(y), name: finalName(y) })), ...loop.perStepOutputs.map((y) => stackedInfo(output(y), stackedName(y)))],
    node: [
      { opType: 'Shape', input: [first], output: ['loop.shape'], name: 'loop.shape', attribute: [{ name: 'end', type: AT.INT, i: 1 }] },
      { opType: 'Squeeze', input: ['loop.shape'], output: [TRIPS], name: 'loop.trips' },
      { opType: 'Constant', input: [], output: [ALWAYS], name: 'loop.true', attribute: [{ name: 'value', type: AT.TENSOR, t: { dims: [], dataType: DT.BOOL, int32Data: [1] } }] },
      {
        opType: 'Loop',
        input: [TRIPS, ALWAYS, ...loop.carried.map(([x]) => initialName(x))],
        output: [...loop.carried.map(([, y]) => finalName(y)), ...loop.perStepOutputs.map(stackedName)],
        name: 'loop',
        attribute: [{ name: 'body', type: AT.GRAPH, g: body }],
      },
    ],
  };
  return { ...model, graph: outer };
}
