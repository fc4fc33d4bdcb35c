"""
The input-gradient Winograd convs' output stage alone (optimize/winograd.ts, `rev`: M^T [36, T, C], tiles major), as
onnxruntime runs it: today's JAtA·M + Transpose [16, T, C] -> [16, C, T] + DepthToSpace (DCR), against forms that take
the output transform the other way round, M·(JAtA)^T [T·C, 16] (each 4x4 tile contiguous, as in
peephole/winograd-gather.ts), followed by:
  R2b    a 3-D Transpose [T, C, 16] -> [C, T, 16] and the tile-row Gather (the lead's prototype),
  G1     one Gather along the rows of [N, T·C·4, 4] (units of 4 floats), int32 indices (C·T·4 of them),
  G1-64  the same with int64 indices,
  G2     a Gather of 64-byte tiles [T·C, 16] -> [C, T, 16] (C·T indices) and the tile-row Gather,
  G3     the tile-row Gather within each tile row of [h, w·C·4, 4] (C·4·w indices), then a Gather of whole image
         rows [h·C, 16w] -> [C·h, 16w] (C·h indices).
The sizes are the VGG-19 Gatys step's gradient convs at 256^2 (conv2_2: C=128 at 32x32 tiles; conv3_x: C=256 at 16x16;
conv4_x: C=512 at 8x8). Prints medians and minima (ms) per form, interleaved; every form's output must equal today's.

    python3 bench/prototypes/winograd_grad_output.py THREADS REPEATS
"""
import sys, time, numpy as np, onnxruntime as ort
from onnx import helper as H, TensorProto as T, numpy_helper as NH
threads, reps = int(sys.argv[1]), int(sys.argv[2])
I = lambda a, n: NH.from_array(np.array(a, np.int64), n)
I32 = lambda a, n: NH.from_array(np.array(a, np.int32), n)
F = lambda a, n: NH.from_array(np.array(a, np.float32), n)
AT = np.array([[1,1,1,1,1,0],[0,1,-1,2,-2,0],[0,1,1,4,4,0],[0,1,-1,8,-8,1]], np.float32)
A2 = np.kron(AT[::-1], AT[::-1])  # JAtA [16, 36]
def session(nodes, inits, shape):
    g = H.make_graph(nodes, 'g', [H.make_tensor_value_info('m', T.FLOAT, shape)], [H.make_tensor_value_info('y', T.FLOAT, None)], inits)
    m = H.make_model(g, opset_imports=[H.make_opsetid('', 18)]); m.ir_version = 9
    so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
    return ort.InferenceSession(m.SerializeToString(), so, providers=['CPUExecutionProvider'])
def tile_rows(w):  # output row i·w + tx of a tile row reads input row tx·4 + i
    return [tx * 4 + i for i in range(4) for tx in range(w)]
for C, h in [(128, 32), (256, 16), (512, 8)]:
    w = h; TT = h * w
    forms = {}
    forms['now'] = session([H.make_node('Reshape', ['m', 's2'], ['m2']), H.make_node('MatMul', ['a', 'm2'], ['o']), H.make_node('Reshape', ['o', 's3'], ['o3']),
        H.make_node('Transpose', ['o3'], ['ot'], perm=[0, 2, 1]), H.make_node('Reshape', ['ot', 's4'], ['o4']), H.make_node('DepthToSpace', ['o4'], ['y'], blocksize=4, mode='DCR')],
        [F(A2, 'a'), I([36, TT * C], 's2'), I([16, TT, C], 's3'), I([1, 16 * C, h, w], 's4')], [36, TT, C])
    pre = [H.make_node('Reshape', ['m', 's2'], ['m2']), H.make_node('Transpose', ['m2'], ['mt'], perm=[1, 0]), H.make_node('MatMul', ['mt', 'a'], ['o'])]
    base = [F(A2.T, 'a'), I([36, TT * C], 's2'), I([1, C, 4 * h, 4 * w], 'so')]
    forms['R2b'] = session(pre + [H.make_node('Reshape', ['o', 's3'], ['o3']), H.make_node('Transpose', ['o3'], ['t'], perm=[1, 0, 2]), H.make_node('Reshape', ['t', 'sr'], ['r']),
        H.make_node('Gather', ['r', 'p'], ['gg'], axis=1), H.make_node('Reshape', ['gg', 'so'], ['y'])],
        base + [I([TT, C, 16], 's3'), I([C * h, w * 4, 4], 'sr'), I(tile_rows(w), 'p')], [36, TT, C])
    # G1: output row (c, ty, i, tx) of [C·h·4·w, 4] reads row ((ty·w + tx)·C + c)·4 + i.
    c, ty, i, tx = np.meshgrid(np.arange(C), np.arange(h), np.arange(4), np.arange(w), indexing='ij')
    full = (((ty * w + tx) * C + c) * 4 + i).reshape(-1)
    for name, mk in [('G1', I32), ('G1-64', I)]:
        forms[name] = session(pre + [H.make_node('Reshape', ['o', 'sr'], ['r']), H.make_node('Gather', ['r', 'p'], ['gg'], axis=0), H.make_node('Reshape', ['gg', 'so'], ['y'])],
            base + [I([TT * C * 4, 4], 'sr'), mk(full, 'p')], [36, TT, C])
    c2, t2 = np.meshgrid(np.arange(C), np.arange(TT), indexing='ij')
    forms['G2'] = session(pre + [H.make_node('Reshape', ['o', 's3'], ['o3']), H.make_node('Gather', ['o3', 'q'], ['t'], axis=0), H.make_node('Reshape', ['t', 'sr'], ['r']),
        H.make_node('Gather', ['r', 'p'], ['gg'], axis=1), H.make_node('Reshape', ['gg', 'so'], ['y'])],
        base + [I([TT * C, 16], 's3'), I32((t2 * C + c2).reshape(-1), 'q'), I([C * h, w * 4, 4], 'sr'), I(tile_rows(w), 'p')], [36, TT, C])
    c3, i3, tx3 = np.meshgrid(np.arange(C), np.arange(4), np.arange(w), indexing='ij')
    c4, ty4 = np.meshgrid(np.arange(C), np.arange(h), indexing='ij')
    forms['G3'] = session(pre + [H.make_node('Reshape', ['o', 's3'], ['o3']), H.make_node('Gather', ['o3', 'q'], ['t'], axis=1), H.make_node('Reshape', ['t', 'sr'], ['r']),
        H.make_node('Gather', ['r', 'p'], ['gg'], axis=0), H.make_node('Reshape', ['gg', 'so'], ['y'])],
        base + [I([h, w * C * 4, 4], 's3'), I32(((tx3 * C + c3) * 4 + i3).reshape(-1), 'q'), I([h * C, 16 * w], 'sr'), I32((ty4 * C + c4).reshape(-1), 'p')], [36, TT, C])
    x = np.random.default_rng(0).standard_normal((36, TT, C)).astype(np.float32)
    outs = {n: s.run(None, {'m': x})[0] for n, s in forms.items()}
    ref = outs['now']
    errs = {n: float(np.abs(o.reshape(ref.shape) - ref).max()) for n, o in outs.items()}
    times = {n: [] for n in forms}
    for _ in range(reps):
        for n, s in forms.items():
            t0 = time.perf_counter(); s.run(None, {'m': x}); times[n].append((time.perf_counter() - t0) * 1e3)
    print(f'C={C} h=w={h} {threads}t: ' + '; '.join(f'{n} med {np.median(t):.2f} min {min(t):.2f} err {errs[n]:.0e}' for n, t in times.items()), flush=True)
