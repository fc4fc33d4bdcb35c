// The Winograd kernel transform U = G g Gᵀ for ten of Johnson-IN's 128×128 3×3 kernels, timed cold and warm in one fresh
// process: the row-wise form optimize/winograd.ts transformKernels uses ("cur") and a separable two-pass form ("sep"),
// three rounds each (docs/benchmarks.md, "Winograd for folders and videos", the kernel transform left to ONNX Runtime).
//
//   node bench/prototypes/kernel_transform.mjs
const G = [[1/4,0,0],[-1/6,-1/6,-1/6],[-1/6,1/6,-1/6],[1/24,1/12,1/6],[1/24,-1/12,1/6],[0,0,1]];
const pairs = 128*128, a = 6;
const wd = Float32Array.from({ length: pairs * 9 }, (_, i) => Math.sin(i));
function cur() {
  const u = new Float32Array(36 * pairs);
  const m = new Float64Array(9);
  for (let i = 0; i < a; i++) for (let j = 0; j < a; j++) {
    for (let p = 0; p < 3; p++) for (let q = 0; q < 3; q++) m[p*3+q] = G[i][p]*G[j][q];
    const [m0,m1,m2,m3,m4,m5,m6,m7,m8] = m;
    const row = (i*a+j)*pairs;
    for (let k = 0, b = 0; k < pairs; k++, b += 9)
      u[row+k] = m0*wd[b]+m1*wd[b+1]+m2*wd[b+2]+m3*wd[b+3]+m4*wd[b+4]+m5*wd[b+5]+m6*wd[b+6]+m7*wd[b+7]+m8*wd[b+8];
  }
  return u;
}
// Separable: T = G g (per kernel, [6,3]) into planes t[iq][k] (18 planes, contiguous in k), then U[ij][k] = Σ_q t[iq][k] G[j][q].
function sep() {
  const u = new Float32Array(36 * pairs);
  const t = new Float32Array(18 * pairs);
  for (let i = 0; i < 6; i++) {
    const g0 = G[i][0], g1 = G[i][1], g2 = G[i][2];
    for (let q = 0; q < 3; q++) {
      const row = (i*3+q)*pairs;
      for (let k = 0, b = q; k < pairs; k++, b += 9) t[row+k] = g0*wd[b] + g1*wd[b+3] + g2*wd[b+6];
    }
  }
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) {
    const h0 = G[j][0], h1 = G[j][1], h2 = G[j][2];
    const r0 = (i*3)*pairs, r1 = r0+pairs, r2 = r1+pairs, row = (i*6+j)*pairs;
    for (let k = 0; k < pairs; k++) u[row+k] = t[r0+k]*h0 + t[r1+k]*h1 + t[r2+k]*h2;
  }
  return u;
}
for (let r = 0; r < 3; r++) for (const [n, f] of [['cur', cur], ['sep', sep]]) {
  const t0 = performance.now(); let u; for (let k = 0; k < 10; k++) u = f(); console.log(n, (performance.now()-t0).toFixed(0), 'ms for 10', u[12345]);
}
