/**
 * Direct float64 loops over NCHW arrays, written from the operator definitions
 * (ONNX / PyTorch conventions), as independent expectations for the tfjs backend.
 */
export interface T64 {
  shape: number[];
  data: Float64Array;
}

export function t64(shape: number[], fill: (i: number) => number): T64 {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float64Array.from({ length: n }, (_, i) => fill(i)) };
}

/** Deterministic pseudo-random values in [-1, 1) (an LCG; no dependence on the code under test). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

export function rand(shape: number[], seed: number, scale = 1): T64 {
  const r = seeded(seed);
  return t64(shape, () => r() * scale);
}

const at4 = (t: T64, n: number, c: number, h: number, w: number): number => t.data[((n * t.shape[1]! + c) * t.shape[2]! + h) * t.shape[3]! + w]!;

/** conv2d, weight [O, I/g, kh, kw], pads [t, l, b, r]. */
export function conv2d(x: T64, w: T64, b: T64 | undefined, s: [number, number], d: [number, number], p: [number, number, number, number], g: number): T64 {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Ig, kh, kw] = w.shape as [number, number, number, number];
  const OH = Math.floor((H + p[0] + p[2] - d[0] * (kh - 1) - 1) / s[0]) + 1;
  const OW = Math.floor((W + p[1] + p[3] - d[1] * (kw - 1) - 1) / s[1]) + 1;
  const out = t64([N, O, OH, OW], () => 0);
  const Og = O / g;
  let k = 0;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          let acc = b ? b.data[o]! : 0;
          const grp = Math.floor(o / Og);
          for (let ci = 0; ci < Ig; ci++)
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const y = i * s[0] - p[0] + u * d[0];
                const xx = j * s[1] - p[1] + v * d[1];
                if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
                acc += at4(x, n, grp * Ig + ci, y, xx) * w.data[((o * Ig + ci) * kh + u) * kw + v]!;
              }
          out.data[k++] = acc;
        }
  void C;
  return out;
}

/** Transposed conv (scatter form), weight [I, O/g, kh, kw], pads [t, l, b, r] cropped from the full output. */
export function convTranspose2d(x: T64, w: T64, b: T64 | undefined, s: [number, number], p: [number, number, number, number], op: [number, number], g: number): T64 {
  const [N, I, H, W] = x.shape as [number, number, number, number];
  const [, Og, kh, kw] = w.shape as [number, number, number, number];
  const O = Og * g;
  const OH = (H - 1) * s[0] + kh + op[0] - p[0] - p[2];
  const OW = (W - 1) * s[1] + kw + op[1] - p[1] - p[3];
  const out = t64([N, O, OH, OW], (idx) => (b ? b.data[Math.floor(idx / (OH * OW)) % O]! : 0));
  const Ig = I / g;
  for (let n = 0; n < N; n++)
    for (let ci = 0; ci < I; ci++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          const grp = Math.floor(ci / Ig);
          for (let oo = 0; oo < Og; oo++)
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const y = i * s[0] + u - p[0];
                const xx = j * s[1] + v - p[1];
                if (y < 0 || y >= OH || xx < 0 || xx >= OW) continue;
                const o = grp * Og + oo;
                out.data[((n * O + o) * OH + y) * OW + xx]! += at4(x, n, ci, i, j) * w.data[((ci * Og + oo) * kh + u) * kw + v]!;
              }
        }
  return out;
}

export function pad(x: T64, mode: 'constant' | 'reflect' | 'edge', p: [number, number, number, number], value = 0): T64 {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const OH = H + p[0] + p[2];
  const OW = W + p[1] + p[3];
  const src = (i: number, n: number): number => {
    if (mode === 'reflect') return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
    return Math.min(Math.max(i, 0), n - 1);
  };
  const out = t64([N, C, OH, OW], () => 0);
  let k = 0;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          const y = i - p[0];
          const xx = j - p[1];
          const inside = y >= 0 && y < H && xx >= 0 && xx < W;
          out.data[k++] = mode === 'constant' && !inside ? value : at4(x, n, c, src(y, H), src(xx, W));
        }
  return out;
}

/** PyTorch pooling, including ceil mode and count_include_pad (padded range only, never the ceil overhang). */
export function pool(kind: 'max' | 'avg', x: T64, k: [number, number], s: [number, number], p: [number, number, number, number], ceil: boolean, includePad: boolean): T64 {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const size = (n: number, kk: number, ss: number, lo: number, hi: number): number => {
    const num = n + lo + hi - kk;
    let o = (ceil ? Math.ceil(num / ss) : Math.floor(num / ss)) + 1;
    if (ceil && (o - 1) * ss >= n + lo) o--;
    return o;
  };
  const OH = size(H, k[0], s[0], p[0], p[2]);
  const OW = size(W, k[1], s[1], p[1], p[3]);
  const out = t64([N, C, OH, OW], () => 0);
  let q = 0;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          const h0 = i * s[0] - p[0];
          const w0 = j * s[1] - p[1];
          const h1 = Math.min(h0 + k[0], H + p[2]);
          const w1 = Math.min(w0 + k[1], W + p[3]);
          let m = -Infinity;
          let sum = 0;
          let cnt = 0;
          for (let y = Math.max(h0, 0); y < Math.min(h1, H); y++)
            for (let xx = Math.max(w0, 0); xx < Math.min(w1, W); xx++) {
              const v = at4(x, n, c, y, xx);
              m = Math.max(m, v);
              sum += v;
              cnt++;
            }
          out.data[q++] = kind === 'max' ? m : sum / (includePad ? (h1 - h0) * (w1 - w0) : cnt);
        }
  return out;
}

export function instanceNorm(x: T64, scale: T64, bias: T64, eps: number): T64 {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const out = t64(x.shape, () => 0);
  const M = H * W;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const off = (n * C + c) * M;
      let mean = 0;
      for (let i = 0; i < M; i++) mean += x.data[off + i]!;
      mean /= M;
      let v = 0;
      for (let i = 0; i < M; i++) v += (x.data[off + i]! - mean) ** 2;
      v /= M;
      for (let i = 0; i < M; i++) out.data[off + i] = ((x.data[off + i]! - mean) / Math.sqrt(v + eps)) * scale.data[c]! + bias.data[c]!;
    }
  return out;
}

export function batchNorm(x: T64, scale: T64, bias: T64, mean: T64, variance: T64, eps: number): T64 {
  const [, C, H, W] = x.shape as [number, number, number, number];
  return t64(x.shape, (i) => {
    const c = Math.floor(i / (H * W)) % C;
    return ((x.data[i]! - mean.data[c]!) / Math.sqrt(variance.data[c]! + eps)) * scale.data[c]! + bias.data[c]!;
  });
}

export function upsampleNearest(x: T64, sh: number, sw: number): T64 {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  return t64([N, C, H * sh, W * sw], (i) => {
    const j = i % (W * sw);
    const r = Math.floor(i / (W * sw)) % (H * sh);
    const nc = Math.floor(i / (W * sw * H * sh));
    return x.data[(nc * H + Math.floor(r / sh)) * W + Math.floor(j / sw)]!;
  });
}

/** Largest |a - b| and the largest |b| (for relative error). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; scale: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { abs, scale };
}
