/**
 * Code generation: an IR graph with weights -> a standalone ES module (a "tfjs
 * program") that imports only @tensorflow/tfjs.
 *
 * The program contains, in order: the stc tfjs runtime (runtime.js, copied
 * verbatim, so it runs exactly the lowering the in-process interpreter runs);
 * the weights, embedded as base64 little-endian float32 in the IR layout (conv
 * OIHW, transposed conv IOHW), one line per tensor, so the module is a single
 * file; and three layers of entry points:
 *
 *   loadWeights()            IR-layout parameter tensors (caller owns them)
 *   prepare(W)               adds the layout-converted weights (one line per conversion)
 *   forward(inputs, P)       the network, one line per IR node, layer names in comments;
 *                            pure tfjs ops, so tf.grad / tf.variableGrads work through it
 *                            (loss and gradient entry points are built on forward)
 *   run(inputs), predict(x)  forward with the embedded weights, in tf.tidy
 *   valueAndGrads(inputs, wrt, output)
 *                            only for a graph with a single-element output (a loss, e.g. a Gatys
 *                            step graph's `loss`): tf.valueAndGrads over forward, with respect to
 *                            fed inputs (the image) and/or parameters (by IR id), so a Gatys or
 *                            training loop can run from the standalone module
 *
 * Inputs and outputs are NCHW float32 (images 0..255 for stc's image networks).
 * The program uses whatever backend @tensorflow/tfjs has active; call
 * tf.setBackend before the first run to choose one.
 *
 * Finding tfjs: the program imports '@tensorflow/tfjs' itself (a top-level dynamic
 * import) when that resolves from its own location (it sits in a project with
 * tfjs installed). Anywhere else (e.g. /tmp/model.js), the caller hands over its
 * own copy once: `import * as tf from '@tensorflow/tfjs'; m.useTfjs(tf)`.
 */
import { readFileSync } from 'node:fs';
import { type Dim, type DimExpr, dimToString } from '../../compiler/ir/dim.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import type { WeightMap } from '../types.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { constantData } from './execute.ts';
import { planGraph, type PlanAttrValue, type PlanStep } from './plan.ts';

export interface EmitTfjsOptions {
  /** Where the graph came from (a spec path), for the header comment. */
  readonly source?: string;
  /** Network name, for the header comment and metadata. */
  readonly name?: string;
}

const RESERVED = new Set(
  (
    'tf ops env inputs P W x break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static await ' +
    'arguments eval undefined NaN Infinity Math Object Array'
  ).split(' '),
);

/** Readable, unique JS identifiers for plan value names. */
class Names {
  private readonly taken = new Set<string>(RESERVED);
  private readonly map = new Map<string, string>();

  get(name: string): string {
    const known = this.map.get(name);
    if (known) return known;
    let base = name.replace(/@/g, '_').replace(/[^A-Za-z0-9_$]/g, '_');
    if (!/^[A-Za-z_$]/.test(base)) base = `v_${base}`;
    let id = base;
    for (let k = 2; this.taken.has(id); k++) id = `${base}_${k}`;
    this.taken.add(id);
    this.map.set(name, id);
    return id;
  }
}

function isIdent(s: string): boolean {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s);
}

/** A symbolic size as a JS expression over `env`. */
export function dimToJs(d: Dim): string {
  if (typeof d === 'number') return String(d);
  const e: DimExpr = d;
  switch (e.kind) {
    case 'var':
      return isIdent(e.name) ? `env.${e.name}` : `env[${JSON.stringify(e.name)}]`;
    case 'add':
      return `(${dimToJs(e.a)} + ${e.c})`;
    case 'sum':
      return `(${dimToJs(e.a)} + ${dimToJs(e.b)})`;
    case 'prod':
      return `(${dimToJs(e.a)} * ${dimToJs(e.b)})`;
    case 'mul':
      return `${e.k} * ${dimToJs(e.a)}`;
    case 'floordiv':
      return `Math.floor(${dimToJs(e.a)} / ${e.k})`;
    case 'ceildiv':
      return `Math.ceil(${dimToJs(e.a)} / ${e.k})`;
  }
}

function literal(v: PlanAttrValue): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x: PlanAttrValue) => literal(x)).join(', ')}]`;
  if ('$dim' in v) return dimToJs(v.$dim as DimExpr);
  const entries = Object.entries(v as Record<string, PlanAttrValue>).map(([k, x]) => `${isIdent(k) ? k : JSON.stringify(k)}: ${literal(x)}`);
  return `{ ${entries.join(', ')} }`;
}

function shapeMeta(shape: readonly Dim[]): (number | string)[] {
  return shape.map((d) => (typeof d === 'number' ? d : dimToString(d)));
}

function base64(data: Float32Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

/** The runtime's source, as a local (non-exported) function declaration. */
function runtimeSource(): string {
  const text = readFileSync(new URL('./runtime.js', import.meta.url), 'utf8');
  const out = text.replace(/^export function createOps/m, 'function createOps');
  if (out === text) throw new Error('tfjs codegen: runtime.js no longer starts with `export function createOps`');
  return out.trimEnd();
}

function comment(s: PlanStep): string {
  if (!s.node) return s.op === 'toNhwc' || s.op === 'toNchw' || s.op === 'broadcastNhwc' ? 'layout' : 'weight layout';
  return s.node.layer !== undefined ? `${s.node.layer}: ${s.node.op}` : `${s.node.op} (${s.node.id})`;
}

/** Emit the tfjs program for a graph and its weights. */
export function emitTfjsProgram(g: Graph, weights: WeightMap, opts: EmitTfjsOptions = {}): string {
  const plan = planGraph(g);
  const names = new Names();
  const constKey = new Map<string, string>();
  for (const c of plan.constants) constKey.set(c.id, names.get(c.id));
  for (const s of plan.prep) constKey.set(s.out, names.get(s.out));
  const ref = (name: string | null): string => {
    if (name === null) return 'null';
    const k = constKey.get(name);
    return k ? `P.${k}` : names.get(name);
  };
  const call = (s: PlanStep): string => {
    const args = s.args.map(ref);
    if (s.attrs) args.push(literal(s.attrs));
    return `ops.${s.op}(${args.join(', ')})`;
  };

  const L: string[] = [];
  L.push(`// Generated by stc (the style-transfer compiler)${opts.name ? ` for network ${opts.name}` : ''}${opts.source ? ` from ${opts.source}` : ''}. Do not edit.`);
  L.push('// A standalone tfjs program: it imports only @tensorflow/tfjs and embeds its weights (base64 float32, IR layout).');
  L.push('// Tensors in and out are NCHW float32; inside, activations are NHWC. See loadWeights, prepare, forward, run, predict.');
  L.push('');
  L.push(runtimeSource());
  L.push('');
  L.push('let tf = null;');
  L.push('let ops = null;');
  L.push('let gradOps = null; // unfused convs, for gradients (see createOps)');
  L.push('let prepared; // embedded weights, prepared on first run');
  L.push('/** Use this @tensorflow/tfjs module (needed only when the program cannot import it from where it lies). */');
  L.push('export function useTfjs(tfjs) {');
  L.push('  dispose();');
  L.push('  tf = tfjs;');
  L.push('  ops = createOps(tfjs);');
  L.push('  gradOps = createOps(tfjs, { fusedConv: false });');
  L.push('}');
  L.push('try {');
  L.push("  useTfjs(await import('@tensorflow/tfjs'));");
  L.push('} catch (e) {');
  L.push("  // @tensorflow/tfjs does not resolve from this file: the caller must call useTfjs(tf).");
  L.push("  if (!(e && (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND'))) throw e;");
  L.push('}');
  L.push('function requireTfjs() {');
  L.push("  if (!tf) throw new Error('this tfjs program could not import @tensorflow/tfjs from its folder: call useTfjs(tf) first');");
  L.push('}');
  L.push('');

  const inputsMeta = plan.inputs.map((i) => ({ name: i.id, shape: shapeMeta(i.shape) }));
  const outputsMeta = plan.outputs.map((o) => ({ name: o.name, shape: shapeMeta(o.shape) }));
  const paramsMeta = plan.constants.map((c) => ({ id: c.id, key: constKey.get(c.id)!, shape: shapeMeta(c.shape) }));
  L.push('/** Inputs and outputs (NCHW), and the parameters (IR layout: conv OIHW, transposed conv IOHW). */');
  L.push(`export const metadata = ${JSON.stringify({ name: opts.name ?? null, layout: 'NCHW', inputs: inputsMeta, outputs: outputsMeta, parameters: paramsMeta }, null, 2)};`);
  L.push('');

  L.push('// Weights: little-endian float32, base64, in the IR layout.');
  L.push('const EMBEDDED = {');
  for (const c of plan.constants) {
    const t = constantData(g, c, weights);
    L.push(`  ${constKey.get(c.id)}: [${JSON.stringify(t.shape)}, '${base64(t.data)}'],`);
  }
  L.push('};');
  L.push('');
  L.push('function decodeFloat32(b64) {');
  L.push('  const bin = atob(b64);');
  L.push('  const bytes = new Uint8Array(bin.length);');
  L.push('  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);');
  L.push('  return new Float32Array(bytes.buffer);');
  L.push('}');
  L.push('');
  L.push('/** The embedded parameters as tensors, keyed as in metadata.parameters. The caller owns (and disposes) them. */');
  L.push('export function loadWeights() {');
  L.push('  requireTfjs();');
  L.push('  const W = {};');
  L.push('  for (const [key, [shape, b64]] of Object.entries(EMBEDDED)) W[key] = tf.tensor(decodeFloat32(b64), shape, "float32");');
  L.push('  return W;');
  L.push('}');
  L.push('');

  L.push('/** Parameters plus their layout-converted forms, as forward reads them. Differentiable (use inside tf.grad for training). */');
  L.push('export function prepare(W) {');
  L.push('  const P = { ...W };');
  for (const s of plan.prep) L.push(`  P.${constKey.get(s.out)} = ${call(s)}; // ${comment(s)}`);
  L.push('  return P;');
  L.push('}');
  L.push('');

  L.push('/** The network. inputs: { name: NCHW tensor }; P: prepare(W). Returns { output name: NCHW tensor }. */');
  L.push('export function forward(inputs, P) {');
  const vars = new Map<string, string>();
  for (const i of plan.inputs) {
    const id = names.get(i.id);
    L.push(`  const ${id} = inputs[${JSON.stringify(i.id)}];`);
    i.shape.forEach((d, axis) => {
      if (typeof d !== 'number' && d.kind === 'var' && !vars.has(d.name)) vars.set(d.name, `${id}.shape[${axis}]`);
    });
  }
  if (vars.size) L.push(`  const env = { ${[...vars].map(([k, v]) => `${isIdent(k) ? k : JSON.stringify(k)}: ${v}`).join(', ')} };`);
  for (const s of plan.body) L.push(`  const ${names.get(s.out)} = ${call(s)}; // ${comment(s)}`);
  L.push(`  return { ${plan.outputs.map((o) => `${JSON.stringify(o.name)}: ${ref(o.value)}`).join(', ')} };`);
  L.push('}');
  L.push('');

  L.push('function embeddedParams() {');
  L.push('  prepared ??= tf.tidy(() => prepare(loadWeights()));');
  L.push('  return prepared;');
  L.push('}');
  L.push('');
  L.push('/** Run with the embedded weights. inputs: { name: NCHW tensor }. The caller owns the returned tensors. */');
  L.push('export function run(inputs) {');
  L.push('  requireTfjs();');
  L.push('  const P = embeddedParams();');
  L.push('  return tf.tidy(() => forward(inputs, P));');
  L.push('}');
  L.push('');
  const firstIn = plan.inputs[0]?.id;
  const firstOut = plan.outputs[0]?.name;
  L.push(`/** The first output (${JSON.stringify(firstOut ?? null)}) for the first input (${JSON.stringify(firstIn ?? null)}), NCHW. */`);
  L.push('export function predict(input) {');
  L.push(`  const outs = run({ [metadata.inputs[0].name]: input });`);
  L.push(`  for (const [name, t] of Object.entries(outs)) if (name !== metadata.outputs[0].name) t.dispose();`);
  L.push(`  return outs[metadata.outputs[0].name];`);
  L.push('}');
  L.push('');
  const losses = plan.outputs.filter((o) => o.shape.every((d) => typeof d === 'number') && o.shape.reduce<number>((a, d) => a * (d as number), 1) === 1);
  if (losses.length > 0) emitValueAndGrads(L, losses.map((o) => o.name));
  L.push('/** Release the embedded weights (they are reloaded on the next run). */');
  L.push('export function dispose() {');
  L.push('  if (prepared) for (const t of Object.values(prepared)) t.dispose();');
  L.push('  prepared = undefined;');
  L.push('}');
  return L.join('\n') + '\n';
}

/** The loss and gradient entry point, for a graph with single-element outputs `losses` (the first is the default). */
function emitValueAndGrads(L: string[], losses: readonly string[]): void {
  L.push(`/** The single-element outputs valueAndGrads can differentiate (the first is its default). */`);
  L.push(`export const lossOutputs = ${JSON.stringify(losses)};`);
  L.push('');
  L.push('/**');
  L.push(' * The value of a single-element output (a loss) and its gradient with respect to each name in `wrt`:');
  L.push(' * a fed input (e.g. the image, as Gatys optimises it) or a parameter by its IR id (metadata.parameters[].id;');
  L.push(' * gradients flow through prepare, so they come back in the IR layout). The embedded weights are used');
  L.push(' * for every parameter. Built on forward with tf.valueAndGrads: tfjs\'s own reverse mode.');
  L.push(' * Returns { value: scalar tensor, grads: { name: tensor shaped like it } }; the caller owns them.');
  L.push(' * The wasm backend has no conv weight-gradient kernel: use the cpu (or tfjs-node) backend for parameter gradients;');
  L.push(' * input gradients (Gatys) run on wasm.');
  L.push(' */');
  L.push('export function valueAndGrads(inputs, wrt, output = lossOutputs[0]) {');
  L.push('  requireTfjs();');
  L.push("  if (!lossOutputs.includes(output)) throw new Error(`valueAndGrads: ${output} is not a single-element output; these are: ${lossOutputs.join(', ')}`);");
  L.push('  const P0 = embeddedParams();');
  L.push('  const keyOf = Object.fromEntries(metadata.parameters.map((p) => [p.id, p.key]));');
  L.push('  for (const name of wrt)');
  L.push("    if (!(name in inputs) && !(name in keyOf)) throw new Error(`valueAndGrads: ${name} is neither a fed input nor a parameter id`);");
  L.push('  const xs0 = wrt.map((name) => (name in inputs ? inputs[name] : P0[keyOf[name]]));');
  L.push('  return tf.tidy(() => {');
  L.push('    const f = (...xs) => {');
  L.push('      const fed = { ...inputs };');
  L.push('      let W = null;');
  L.push('      wrt.forEach((name, k) => {');
  L.push('        if (name in inputs) fed[name] = xs[k];');
  L.push('        else {');
  L.push('          W ??= Object.fromEntries(metadata.parameters.map((p) => [p.key, P0[p.key]]));');
  L.push('          W[keyOf[name]] = xs[k];');
  L.push('        }');
  L.push('      });');
  L.push('      return tf.reshape(forward(fed, W ? prepare(W) : P0)[output], []);');
  L.push('    };');
  L.push('    const fused = ops;');
  L.push('    ops = gradOps;');
  L.push('    try {');
  L.push('      const { value, grads } = tf.valueAndGrads(f)(xs0);');
  L.push('      return { value, grads: Object.fromEntries(wrt.map((name, k) => [name, grads[k]])) };');
  L.push('    } finally {');
  L.push('      ops = fused;');
  L.push('    }');
  L.push('  });');
  L.push('}');
  L.push('');
}

/** Emit and write a tfjs program atomically (temp file, then rename). */
export async function compileToTfjs(path: string, g: Graph, weights: WeightMap, opts: EmitTfjsOptions = {}): Promise<void> {
  await writeFileAtomic(path, emitTfjsProgram(g, weights, opts));
}
