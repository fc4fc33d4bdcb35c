/**
 * The primitive layers of the language: their attributes (with types and
 * defaults) and their lowering to IR operators.
 *
 * Parameter ids are `<layer path>.<param>` (`res1.conv1.weight`). Initialisers
 * follow PyTorch's defaults: conv and transposed-conv weights and biases are
 * U(-1/sqrt(fanIn), 1/sqrt(fanIn)), written as `uniform_fan_in` with
 * gain 1/sqrt(3) (ParamInit's bound is gain * sqrt(3 / fanIn)); norm scale 1,
 * bias 0, running mean 0, running variance 1 (the statistics not trainable).
 */
import type { DiagnosticCode } from '../../dsl/diagnostics.ts';
import type { GraphBuilder } from '../ir/builder.ts';
import type { Dim } from '../ir/dim.ts';
import { dimProd, shapeToString } from '../ir/dim.ts';
import type { ParamInit, Padding, PoolAttrs, SourceSpan } from '../ir/types.ts';
import {
  type ParamSpec,
  tBool,
  tChannels,
  tEnum,
  tFloat,
  tFloats,
  tInt,
  tInts,
  tPads,
  tPair,
  tPosFloat,
  tPosInt,
  tNonNegInt,
} from './values.ts';

/** A user error found while lowering a layer (beyond what attribute binding checks). */
export class CheckError extends Error {
  constructor(
    readonly code: DiagnosticCode,
    message: string,
  ) {
    super(message);
  }
}

export interface LayerCtx {
  readonly b: GraphBuilder;
  /** Full layer path, `res1.conv1`; parameter ids extend it. */
  readonly layer: string;
  readonly span: SourceSpan;
}

type Attrs = ReadonlyMap<string, unknown>;

export interface Primitive {
  readonly name: string;
  /** Number of inputs; 'many' means two or more. */
  readonly inputs: number | 'many';
  readonly params: readonly ParamSpec[];
  readonly summary: string;
  lower(ctx: LayerCtx, inputs: readonly string[], attrs: Attrs): string;
}

/** PyTorch's default bound 1/sqrt(fanIn) expressed as ParamInit's gain * sqrt(3/fanIn). */
export const PYTORCH_GAIN = 1 / Math.sqrt(3);

function uniformFanIn(fanIn: number): ParamInit {
  return { kind: 'uniform_fan_in', fanIn, gain: PYTORCH_GAIN };
}

/**
 * The most elements one parameter may have: 2^26 float32 values (256 MiB), 28 times VGG's largest conv kernel.
 * A sanity bound like the channel limit: `conv(8, 30000)` (21.6 G elements) is a typo, refused here rather
 * than by an allocation failure at compile time.
 */
export const MAX_PARAM_ELEMENTS = 2 ** 26;

function param(ctx: LayerCtx, name: string, shape: readonly number[], init: ParamInit, trainable = true): string {
  const id = `${ctx.layer}.${name}`;
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > MAX_PARAM_ELEMENTS)
    throw new CheckError('shape', `parameter ${id} [${shape.join(', ')}] has ${n.toExponential(2)} elements, beyond stc's limit of ${MAX_PARAM_ELEMENTS} (2^26)`);
  if (ctx.b.has(id)) throw new CheckError('duplicate-name', `parameter ${id} is defined twice (two layers named '${ctx.layer}')`);
  return ctx.b.param(id, shape, init, trainable, ctx.span);
}

function channels(ctx: LayerCtx, x: string, what: string): number {
  const s = ctx.b.shape(x);
  if (s.length !== 4) throw new CheckError('shape', `${what} expects an image tensor [N, C, H, W], got ${shapeToString(s)}`);
  const c: Dim = s[1]!;
  if (typeof c !== 'number') throw new CheckError('shape', `${what} needs a known channel count, got ${shapeToString(s)}`);
  if (c > 65536) throw new CheckError('shape', `${what}: ${c} channels is beyond stc's limit of 65536`);
  return c;
}

function constVec(ctx: LayerCtx, stem: string, values: readonly number[], rank4: boolean): string {
  const shape = rank4 ? [1, values.length, 1, 1] : [values.length];
  return ctx.b.constant(`${ctx.layer}.${stem}`, shape, Float32Array.from(values));
}

const opts = (ctx: LayerCtx) => ({ layer: ctx.layer, span: ctx.span });

const pair = (v: unknown) => v as [number, number];
const pads4 = (v: unknown) => v as [number, number, number, number];

function conv(ctx: LayerCtx, [x]: readonly string[], a: Attrs): string {
  const cin = channels(ctx, x!, 'conv');
  const out = a.get('out') as number;
  const [kh, kw] = pair(a.get('k'));
  const stride = pair(a.get('stride'));
  const dil = pair(a.get('dilation'));
  const groups = a.get('groups') as number;
  const mode = a.get('padding') as 'zero' | 'reflect' | 'same';
  if (cin % groups !== 0 || out % groups !== 0)
    throw new CheckError('shape', `conv groups (${groups}) must divide the input channels (${cin}) and the output channels (${out})`);
  const explicitPad = a.get('pad') as [number, number, number, number] | undefined;
  let input = x!;
  let padding: Padding;
  if (mode === 'same') {
    if (explicitPad) throw new CheckError('attribute-type', "conv: 'pad' cannot be combined with padding: same");
    padding = { kind: 'same' };
  } else {
    const half: [number, number, number, number] = [
      Math.floor((dil[0] * (kh - 1)) / 2),
      Math.floor((dil[1] * (kw - 1)) / 2),
      Math.ceil((dil[0] * (kh - 1)) / 2),
      Math.ceil((dil[1] * (kw - 1)) / 2),
    ];
    const pads = explicitPad ?? (mode === 'reflect' ? half : [0, 0, 0, 0]);
    if (mode === 'reflect') {
      if (pads.some((p) => p > 0)) input = ctx.b.add('pad', [x!], { mode: 'reflect', pads, value: 0 }, opts(ctx), `${ctx.layer}.pad`);
      padding = { kind: 'explicit', pads: [0, 0, 0, 0] };
    } else padding = { kind: 'explicit', pads };
  }
  const fanIn = (cin / groups) * kh * kw;
  const w = param(ctx, 'weight', [out, cin / groups, kh, kw], uniformFanIn(fanIn));
  const ins = [input, w];
  if (a.get('bias')) ins.push(param(ctx, 'bias', [out], uniformFanIn(fanIn)));
  return ctx.b.add('conv2d', ins, { strides: stride, dilations: dil, padding, group: groups }, opts(ctx));
}

function deconv(ctx: LayerCtx, [x]: readonly string[], a: Attrs): string {
  const cin = channels(ctx, x!, 'transposed conv');
  const out = a.get('out') as number;
  const [kh, kw] = pair(a.get('k'));
  const groups = a.get('groups') as number;
  if (cin % groups !== 0 || out % groups !== 0)
    throw new CheckError('shape', `deconv groups (${groups}) must divide the input channels (${cin}) and the output channels (${out})`);
  const mode = a.get('padding') as 'zero' | 'same';
  const explicitPad = a.get('pad') as [number, number, number, number] | undefined;
  if (mode === 'same' && explicitPad) throw new CheckError('attribute-type', "deconv: 'pad' cannot be combined with padding: same");
  const padding: Padding = mode === 'same' ? { kind: 'same' } : { kind: 'explicit', pads: explicitPad ?? [0, 0, 0, 0] };
  // ONNX Runtime rejects output_padding >= stride at session creation: the extra rows would be no output position's.
  const [sh, sw] = pair(a.get('stride'));
  const [oph, opw] = pair(a.get('output_pad'));
  if (oph >= sh || opw >= sw) throw new CheckError('attribute-type', `deconv: 'output_pad' [${oph}, ${opw}] must be smaller than 'stride' [${sh}, ${sw}]`);
  // PyTorch computes a transposed conv's fan-in from weight dim 1 (out / groups).
  const fanIn = (out / groups) * kh * kw;
  const w = param(ctx, 'weight', [cin, out / groups, kh, kw], uniformFanIn(fanIn));
  const ins = [x!, w];
  if (a.get('bias')) ins.push(param(ctx, 'bias', [out], uniformFanIn(fanIn)));
  return ctx.b.add(
    'convTranspose2d',
    ins,
    { strides: pair(a.get('stride')), dilations: pair(a.get('dilation')), padding, outputPadding: pair(a.get('output_pad')), group: groups },
    opts(ctx),
  );
}

function pool(kind: 'max' | 'avg', ctx: LayerCtx, x: string, a: Attrs): string {
  const kernel = pair(a.get('k'));
  const strides = (a.get('stride') as [number, number] | undefined) ?? kernel;
  const pads = pads4(a.get('pad'));
  if (pads[0] >= kernel[0] || pads[1] >= kernel[1] || pads[2] >= kernel[0] || pads[3] >= kernel[1])
    throw new CheckError('attribute-type', `${kind}_pool: padding must be smaller than the kernel`);
  const attrs: PoolAttrs = { kernel, strides, pads, ceilMode: a.get('ceil') as boolean, countIncludePad: (a.get('count_include_pad') as boolean | undefined) ?? true };
  return ctx.b.add(kind === 'max' ? 'maxPool' : 'avgPool', [x], attrs, opts(ctx));
}

const poolParams = (withKind: boolean): ParamSpec[] => [
  ...(withKind ? [{ name: 'kind', type: tEnum('max', 'avg') }] : []),
  { name: 'k', type: tPair(tPosInt) },
  { name: 'stride', type: tPair(tPosInt), default: null },
  { name: 'pad', type: tPads, default: [0, 0, 0, 0] },
  { name: 'ceil', type: tBool, default: false },
  { name: 'count_include_pad', type: tBool, default: true },
];

function nullToUndef(a: Attrs): Attrs {
  return new Map([...a].filter(([, v]) => v !== null));
}

const convParams: ParamSpec[] = [
  { name: 'out', type: tChannels },
  { name: 'k', type: tPair(tPosInt) },
  { name: 'stride', type: tPair(tPosInt), default: [1, 1] },
  { name: 'dilation', type: tPair(tPosInt), default: [1, 1] },
  { name: 'padding', type: tEnum('zero', 'reflect', 'same'), default: 'zero' },
  { name: 'pad', type: tPads, default: null },
  { name: 'bias', type: tBool, default: true },
  { name: 'groups', type: tPosInt, default: 1 },
];

const unaryOp =
  (op: 'relu' | 'tanh' | 'sigmoid') =>
  (ctx: LayerCtx, [x]: readonly string[]): string =>
    ctx.b.add(op, [x!], {}, opts(ctx));

function norm(ctx: LayerCtx, x: string, kind: 'batch' | 'instance', a: Attrs): string {
  const c = channels(ctx, x, kind === 'batch' ? 'batch_norm' : 'instance_norm');
  const eps = a.get('eps') as number;
  if (kind === 'batch') {
    const scale = param(ctx, 'scale', [c], { kind: 'ones' });
    const bias = param(ctx, 'bias', [c], { kind: 'zeros' });
    const mean = param(ctx, 'mean', [c], { kind: 'zeros' }, false);
    const variance = param(ctx, 'var', [c], { kind: 'ones' }, false);
    return ctx.b.add('batchNorm', [x, scale, bias, mean, variance], { epsilon: eps }, opts(ctx));
  }
  const affine = a.get('affine') as boolean;
  const scale = affine ? param(ctx, 'scale', [c], { kind: 'ones' }) : constVec(ctx, 'ones', new Array(c).fill(1), false);
  const bias = affine ? param(ctx, 'bias', [c], { kind: 'zeros' }) : constVec(ctx, 'zeros', new Array(c).fill(0), false);
  return ctx.b.add('instanceNorm', [x, scale, bias], { epsilon: eps }, opts(ctx));
}

/**
 * Input preprocessing, applied in this order: x * scale; RGB -> BGR (reverse the channel order) if `bgr`;
 * then (x - mean) / std per channel. `mean` and `std` are in the order of the channels after the swap.
 */
function preprocess(ctx: LayerCtx, x: string, a: Attrs): string {
  const c = channels(ctx, x, 'preprocess');
  if (a.get('from_weights')) return preprocessFromWeights(ctx, x, c, a);
  let y = x;
  const scale = a.get('scale') as number;
  if (scale !== 1) y = ctx.b.add('scale', [y], { value: scale }, opts(ctx), `${ctx.layer}.scaled`);
  if (a.get('bgr')) {
    const planes = [];
    for (let i = c - 1; i >= 0; i--) planes.push(ctx.b.add('slice', [y], { axis: 1, start: i, end: i + 1 }, opts(ctx), `${ctx.layer}.ch${i}`));
    y = ctx.b.add('concat', planes, { axis: 1 }, opts(ctx), `${ctx.layer}.bgr`);
  }
  const mean = a.get('mean') as number[];
  const std = a.get('std') as number[];
  for (const [what, v] of [['mean', mean], ['std', std]] as const)
    if (v.length !== 0 && v.length !== c) throw new CheckError('shape', `preprocess: '${what}' has ${v.length} values for ${c} channels`);
  if (std.some((s) => s <= 0)) throw new CheckError('attribute-type', "preprocess: 'std' values must be positive");
  if (mean.length) y = ctx.b.add('sub', [y, constVec(ctx, 'mean', mean, true)], {}, opts(ctx), `${ctx.layer}.centred`);
  if (std.length) y = ctx.b.add('div', [y, constVec(ctx, 'std', std, true)], {}, opts(ctx), `${ctx.layer}.normed`);
  if (y === x) y = ctx.b.add('scale', [x], { value: 1 }, opts(ctx));
  return y;
}

/**
 * Depthwise conv: one k x k filter per input channel (`multiplier` filters per channel), i.e. a grouped conv
 * with groups = input channels (MobileNet's depthwise layer; Howard et al. 2017). Weights [C * m, 1, kh, kw].
 */
function depthwiseConv(ctx: LayerCtx, [x]: readonly string[], a: Attrs): string {
  const c = channels(ctx, x!, 'depthwise_conv');
  const m = a.get('multiplier') as number;
  return conv(ctx, [x!], new Map([...a, ['out', c * m], ['groups', c]]));
}

/** Mean over `axes` (negative axes count from the end), keeping them as size 1 when `keepdims`. */
function mean(ctx: LayerCtx, x: string, a: Attrs): string {
  const rank = ctx.b.shape(x).length;
  const axes = a.get('axes') as number[];
  const norm = axes.map((ax) => (ax < 0 ? ax + rank : ax));
  if (axes.length === 0) throw new CheckError('attribute-type', 'mean: axes must name at least one axis');
  if (norm.some((ax) => ax < 0 || ax >= rank)) throw new CheckError('attribute-type', `mean: axes [${axes.join(', ')}] out of range for a rank-${rank} value`);
  if (new Set(norm).size !== norm.length) throw new CheckError('attribute-type', `mean: axes [${axes.join(', ')}] repeat an axis`);
  return ctx.b.add('reduceMean', [x], { axes: [...norm].sort((p, q) => p - q), keepDims: a.get('keepdims') as boolean }, opts(ctx));
}

const binaryOp =
  (op: 'add' | 'sub' | 'mul') =>
  (ctx: LayerCtx, xs: readonly string[]): string =>
    ctx.b.add(op, xs, {}, opts(ctx));

const depthwiseParams: ParamSpec[] = [
  { name: 'k', type: tPair(tPosInt) },
  ...convParams.filter((p) => ['stride', 'dilation', 'padding', 'pad', 'bias'].includes(p.name)),
  { name: 'multiplier', type: tPosInt, default: 1 },
];

/**
 * `preprocess(from_weights: true)`: y = x - <layer>.mean, the mean a non-trainable [1, C, 1, 1]
 * parameter that the weights' layout profile supplies (src/weights/profiles). The profile folds the
 * rest of the file's convention (channel order, scale, std) into the first conv's kernel: a channel
 * permutation and a per-channel scale commute with zero padding, so that is exact; a shift does not,
 * which is why the mean stays here. Same weights file, any publisher's preprocessing, one graph.
 */
function preprocessFromWeights(ctx: LayerCtx, x: string, c: number, a: Attrs): string {
  for (const k of ['bgr', 'mean', 'std'] as const) {
    const v = a.get(k);
    if (v === true || (Array.isArray(v) && v.length > 0)) throw new CheckError('attribute-type', `preprocess: '${k}' cannot be combined with from_weights (the weights' profile sets it)`);
  }
  if (a.get('scale') !== 1) throw new CheckError('attribute-type', "preprocess: 'scale' cannot be combined with from_weights (the weights' profile sets it)");
  const mean = param(ctx, 'mean', [1, c, 1, 1], { kind: 'zeros' }, false);
  return ctx.b.add('sub', [x, mean], {}, opts(ctx), `${ctx.layer}.centred`);
}

const table: Primitive[] = [
  { name: 'conv', inputs: 1, params: convParams, summary: '2-D convolution (zero, reflect or TF-SAME padding)', lower: (c, i, a) => conv(c, i, nullToUndef(a)) },
  {
    name: 'deconv',
    inputs: 1,
    params: [
      { name: 'out', type: tChannels },
      { name: 'k', type: tPair(tPosInt) },
      { name: 'stride', type: tPair(tPosInt), default: [1, 1] },
      { name: 'dilation', type: tPair(tPosInt), default: [1, 1] },
      { name: 'padding', type: tEnum('zero', 'same'), default: 'zero' },
      { name: 'pad', type: tPads, default: null },
      { name: 'output_pad', type: tPair(tNonNegInt), default: [0, 0] },
      { name: 'bias', type: tBool, default: true },
      { name: 'groups', type: tPosInt, default: 1 },
    ],
    summary: 'transposed ("fractionally strided") convolution',
    lower: (c, i, a) => deconv(c, i, nullToUndef(a)),
  },
  {
    name: 'upsample',
    inputs: 1,
    params: [
      { name: 'scale', type: tPair(tPosInt), default: [2, 2] },
      { name: 'mode', type: tEnum('nearest'), default: 'nearest' },
    ],
    summary: 'nearest-neighbour upsampling by an integer factor',
    lower: (c, [x], a) => c.b.add('upsampleNearest', [x!], { scale: pair(a.get('scale')) }, opts(c)),
  },
  {
    name: 'batch_norm',
    inputs: 1,
    params: [{ name: 'eps', type: tPosFloat, default: 1e-5 }],
    summary: 'batch normalisation with running statistics (inference form)',
    lower: (c, [x], a) => norm(c, x!, 'batch', a),
  },
  {
    name: 'instance_norm',
    inputs: 1,
    params: [
      { name: 'affine', type: tBool, default: true },
      { name: 'eps', type: tPosFloat, default: 1e-5 },
    ],
    summary: 'instance normalisation (biased variance), optionally with a learned scale and bias',
    lower: (c, [x], a) => norm(c, x!, 'instance', a),
  },
  { name: 'relu', inputs: 1, params: [], summary: 'max(x, 0)', lower: unaryOp('relu') },
  { name: 'tanh', inputs: 1, params: [], summary: 'tanh(x)', lower: unaryOp('tanh') },
  { name: 'sigmoid', inputs: 1, params: [], summary: '1 / (1 + exp(-x))', lower: unaryOp('sigmoid') },
  {
    name: 'scaled_tanh',
    inputs: 1,
    params: [
      { name: 'a', type: tFloat },
      { name: 'b', type: tFloat, default: 0 },
    ],
    summary: 'a * tanh(x) + b',
    lower(c, [x], a) {
      const t = c.b.add('tanh', [x!], {}, opts(c), `${c.layer}.tanh`);
      const s = c.b.add('scale', [t], { value: a.get('a') as number }, opts(c), `${c.layer}.scaled`);
      return c.b.add('shift', [s], { value: a.get('b') as number }, opts(c));
    },
  },
  {
    name: 'scale',
    inputs: 1,
    params: [{ name: 'k', type: tFloat }],
    summary: 'x * k',
    lower: (c, [x], a) => c.b.add('scale', [x!], { value: a.get('k') as number }, opts(c)),
  },
  {
    name: 'shift',
    inputs: 1,
    params: [{ name: 'c', type: tFloat }],
    summary: 'x + c',
    lower: (c, [x], a) => c.b.add('shift', [x!], { value: a.get('c') as number }, opts(c)),
  },
  {
    name: 'clip',
    inputs: 1,
    params: [
      { name: 'min', type: tFloat },
      { name: 'max', type: tFloat },
    ],
    summary: 'clamp to [min, max]',
    lower(c, [x], a) {
      const min = a.get('min') as number;
      const max = a.get('max') as number;
      if (min > max) throw new CheckError('attribute-type', `clip: min (${min}) is greater than max (${max})`);
      return c.b.add('clip', [x!], { min, max }, opts(c));
    },
  },
  { name: 'max_pool', inputs: 1, params: poolParams(false), summary: 'max pooling', lower: (c, [x], a) => pool('max', c, x!, a) },
  { name: 'avg_pool', inputs: 1, params: poolParams(false), summary: 'average pooling', lower: (c, [x], a) => pool('avg', c, x!, a) },
  {
    name: 'pool',
    inputs: 1,
    params: poolParams(true),
    summary: 'max or average pooling, chosen by `kind` (e.g. a network parameter)',
    lower: (c, [x], a) => pool(a.get('kind') as 'max' | 'avg', c, x!, a),
  },
  { name: 'global_avg_pool', inputs: 1, params: [], summary: 'mean over H and W, keeping [N, C, 1, 1]', lower: (c, [x]) => c.b.add('globalAvgPool', [x!], {}, opts(c)) },
  {
    name: 'concat',
    inputs: 'many',
    params: [{ name: 'axis', type: tInt, default: 1 }],
    summary: 'concatenation (along channels by default)',
    lower: (c, xs, a) => c.b.add('concat', xs, { axis: a.get('axis') as number }, opts(c)),
  },
  {
    name: 'flatten',
    inputs: 1,
    params: [],
    summary: 'reshape [N, C, H, W] to [N, C*H*W]',
    lower(c, [x]) {
      const s = c.b.shape(x!);
      const rest = s.slice(1).reduce<Dim>((p, d) => dimProd(p, d), 1);
      return c.b.add('reshape', [x!], { shape: [s[0]!, rest] }, opts(c));
    },
  },
  { name: 'add', inputs: 2, params: [], summary: 'elementwise sum with numpy broadcasting (residual connections)', lower: binaryOp('add') },
  { name: 'sub', inputs: 2, params: [], summary: 'elementwise difference a - b with numpy broadcasting', lower: binaryOp('sub') },
  { name: 'mul', inputs: 2, params: [], summary: 'elementwise product with numpy broadcasting (e.g. [N, C, H, W] * [N, C, 1, 1])', lower: binaryOp('mul') },
  {
    name: 'mean',
    inputs: 1,
    params: [
      { name: 'axes', type: tInts, default: [2, 3] },
      { name: 'keepdims', type: tBool, default: true },
    ],
    summary: 'mean over axes (default H and W, kept as size 1)',
    lower: (c, [x], a) => mean(c, x!, a),
  },
  { name: 'relu6', inputs: 1, params: [], summary: 'min(max(x, 0), 6) (MobileNet)', lower: (c, [x]) => c.b.add('clip', [x!], { min: 0, max: 6 }, opts(c)) },
  {
    name: 'depthwise_conv',
    inputs: 1,
    params: depthwiseParams,
    summary: 'depthwise convolution: groups = input channels, `multiplier` outputs per channel',
    lower: (c, i, a) => depthwiseConv(c, i, nullToUndef(a)),
  },
  {
    name: 'pointwise_conv',
    inputs: 1,
    params: [
      { name: 'out', type: tChannels },
      { name: 'bias', type: tBool, default: true },
    ],
    summary: '1x1 convolution (mixes channels)',
    lower: (c, i, a) => conv(c, i, new Map([...a, ['k', [1, 1]], ['stride', [1, 1]], ['dilation', [1, 1]], ['padding', 'zero'], ['groups', 1]])),
  },
  {
    name: 'preprocess',
    inputs: 1,
    params: [
      { name: 'scale', type: tFloat, default: 1 },
      { name: 'bgr', type: tBool, default: false },
      { name: 'mean', type: tFloats, default: [] },
      { name: 'std', type: tFloats, default: [] },
      { name: 'from_weights', type: tBool, default: false },
    ],
    summary: 'input normalisation: x * scale, optional RGB->BGR, then (x - mean) / std; from_weights: as the weights file expects',
    lower: (c, [x], a) => preprocess(c, x!, a),
  },
];

export const primitives: ReadonlyMap<string, Primitive> = new Map(table.map((p) => [p.name, p]));
