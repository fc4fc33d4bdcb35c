/**
 * What a fresh buffer costs on this machine: allocating a 3 MiB Float32Array (the 512² output image that
 * onnxruntime-node copies every output into), its first touch, and a copy into a buffer touched before.
 * A page fault is the cost: run it plain and with glibc's allocator keeping freed memory and using huge pages,
 *
 *   node bench/prototypes/first-touch.mjs
 *   GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=4294967296 node bench/prototypes/first-touch.mjs
 */
const n = 786432;
const src = new Float32Array(n).fill(1);
const dst = new Float32Array(n);
const ms = (f) => {
  const t0 = performance.now();
  f();
  return (performance.now() - t0).toFixed(2);
};
for (let round = 0; round < 3; round++) {
  let fresh;
  const alloc = ms(() => (fresh = new Float32Array(n)));
  const touch = ms(() => fresh.fill(2));
  const copy = ms(() => dst.set(src));
  console.log(`round ${round}: allocate ${alloc} ms, first touch ${touch} ms, copy into a touched buffer ${copy} ms`);
}
