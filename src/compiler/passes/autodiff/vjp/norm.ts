/**
 * VJPs of the normalisation layers, composed from elementwise ops and reductions.
 *
 * batchNorm (inference statistics): y = scale * xhat + bias, xhat = (x - mean) / sd, sd = sqrt(var + eps).
 *   dx = dy * scale / sd; dscale = sum(dy * xhat); dbias = sum(dy);
 *   dmean = -sum(dy) * scale / sd; dvar = -1/2 * sum(dy * xhat) * scale / (var + eps)   (sums over N, H, W).
 * instanceNorm: per (n, c) plane with M = H W, mu = mean(x), var = mean((x - mu)^2) (biased), same y.
 *   With g = dy * scale:  dx = (g - mean(g) - xhat * mean(g * xhat)) / sd   (means over H, W);
 *   dscale = sum(dy * xhat), dbias = sum(dy) over N, H, W.
 *   Emitted with the per-(n, c) factors taken out of the means, so that only seven full-size ops remain
 *   (xc = x - mu, xc², dy·xc, and dx = a (dy - mean(dy)) + b xc as four): with S = mean(dy·xc),
 *   a = scale / sd, b = -a S / sd², dscale = Σ_n M S / sd and dbias = Σ_n M mean(dy).
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
  const [, , h, w] = e.shape(x) as [number, number, number, number];
  const planeSum = (mean: string): string => channelSum(e, e.op('scale', [mean], { value: h * w })); // Σ_n M·mean, [C]
  const m1 = needs[0] || needs[2] ? e.op('reduceMean', [dy], { axes: SPATIAL, keepDims: true }) : undefined; // mean(dy), [N, C, 1, 1]
  const dbias = needs[2] ? planeSum(m1!) : undefined;
  if (!needs[0] && !needs[1]) return [undefined, undefined, dbias];
  const mu = e.op('reduceMean', [x], { axes: SPATIAL, keepDims: true });
  const xc = e.op('sub', [x, mu], {});
  const varEps = e.op('shift', [e.op('reduceMean', [e.op('mul', [xc, xc], {})], { axes: SPATIAL, keepDims: true })], { value: node.attrs.epsilon });
  const sd = e.op('sqrt', [varEps], {});
  const S = e.op('reduceMean', [e.op('mul', [dy, xc], {})], { axes: SPATIAL, keepDims: true }); // mean(dy·xc)
  let dx: string | undefined;
  if (needs[0]) {
    const a = e.op('div', [scaleV ? e.channels4(scaleV) : e.scalar(1), sd], {});
    const b = e.op('neg', [e.op('div', [e.op('mul', [a, S], {}), varEps], {})], {});
    dx = e.op('add', [e.op('mul', [e.op('sub', [dy, m1!], {}), a], {}), e.op('mul', [xc, b], {})], {});
  }
  return [dx, needs[1] ? planeSum(e.op('div', [S, sd], {})) : undefined, dbias];
};
