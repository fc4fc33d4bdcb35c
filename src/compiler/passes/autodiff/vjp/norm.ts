/**
 * VJPs of the normalisation layers, composed from elementwise ops and reductions.
 *
 * batchNorm (inference statistics): y = scale * xhat + bias, xhat = (x - mean) / sd, sd = sqrt(var + eps).
 *   dx = dy * scale / sd; dscale = sum(dy * xhat); dbias = sum(dy);
 *   dmean = -sum(dy) * scale / sd; dvar = -1/2 * sum(dy * xhat) * scale / (var + eps)   (sums over N, H, W).
 * instanceNorm: per (n, c) plane with M = H W, mu = mean(x), var = mean((x - mu)^2) (biased), same y.
 *   With g = dy * scale:  dx = (g - mean(g) - xhat * mean(g * xhat)) / sd   (means over H, W);
 *   dscale = sum(dy * xhat), dbias = sum(dy) over N, H, W.
 */
import type { GradEmitter, VjpRule } from '../emitter.ts';

const SPATIAL = [2, 3];
const ALL_BUT_C = [0, 2, 3];

function channelSum(e: GradEmitter, t: string): string {
  return e.op('reduceSum', [t], { axes: ALL_BUT_C, keepDims: false });
}

export const batchNorm: VjpRule<'batchNorm'> = ({ e, node, dy, needs }) => {
  const [x, scaleV, , meanV, varV] = node.inputs as [string, string, string, string, string];
  const [C] = e.shape(scaleV) as [number];
  const scale4 = e.channels4(scaleV);
  const varEps = e.op('shift', [e.channels4(varV)], { value: node.attrs.epsilon });
  const sd = e.op('sqrt', [varEps], {});
  const k = e.op('div', [scale4, sd], {}); // scale / sd, [1, C, 1, 1]
  const needXhat = needs[1] || needs[4];
  const xhat = needXhat ? e.op('div', [e.op('sub', [x, e.channels4(meanV)], {}), sd], {}) : undefined;
  const sumDyXhat = xhat ? e.op('reduceSum', [e.op('mul', [dy, xhat], {})], { axes: ALL_BUT_C, keepDims: true }) : undefined;
  const sumDy = needs[2] || needs[3] ? e.op('reduceSum', [dy], { axes: ALL_BUT_C, keepDims: true }) : undefined;
  return [
    needs[0] ? e.op('mul', [dy, k], {}) : undefined,
    needs[1] ? e.reshapeTo(sumDyXhat!, [C]) : undefined,
    needs[2] ? e.reshapeTo(sumDy!, [C]) : undefined,
    needs[3] ? e.reshapeTo(e.op('neg', [e.op('mul', [sumDy!, k], {})], {}), [C]) : undefined,
    needs[4] ? e.reshapeTo(e.op('scale', [e.op('div', [e.op('mul', [sumDyXhat!, scale4], {}), varEps], {})], { value: -0.5 }), [C]) : undefined,
  ];
};

export const instanceNorm: VjpRule<'instanceNorm'> = ({ e, node, dy, needs }) => {
  const [x, scaleV] = node.inputs as [string, string | undefined];
  const dbias = needs[2] ? channelSum(e, dy) : undefined;
  if (!needs[0] && !needs[1]) return [undefined, undefined, dbias];
  const mu = e.op('reduceMean', [x], { axes: SPATIAL, keepDims: true });
  const xc = e.op('sub', [x, mu], {});
  const variance = e.op('reduceMean', [e.op('mul', [xc, xc], {})], { axes: SPATIAL, keepDims: true });
  const sd = e.op('sqrt', [e.op('shift', [variance], { value: node.attrs.epsilon })], {});
  const xhat = e.op('div', [xc, sd], {});
  let dx: string | undefined;
  if (needs[0]) {
    const g = scaleV ? e.op('mul', [dy, e.channels4(scaleV)], {}) : dy;
    const m1 = e.op('reduceMean', [g], { axes: SPATIAL, keepDims: true });
    const m2 = e.op('reduceMean', [e.op('mul', [g, xhat], {})], { axes: SPATIAL, keepDims: true });
    dx = e.op('div', [e.op('sub', [e.op('sub', [g, m1], {}), e.op('mul', [xhat, m2], {})], {}), sd], {});
  }
  return [dx, needs[1] ? channelSum(e, e.op('mul', [dy, xhat], {})) : undefined, dbias];
};
