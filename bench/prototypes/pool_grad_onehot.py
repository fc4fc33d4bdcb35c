"""VGG's 2x2 max-pool gradient without MaxPool's Indices: a first-max one-hot from four strided slices (Equal, Not, And),
four Wheres, a concat and a DepthToSpace, against the indexed MaxPool + MaxUnpool the CPU lowering uses; checks both
agree exactly (a flat region gives tied positive maxima) and times them interleaved (docs/benchmarks.md, "Also tried
and dropped (2026-12-07 evening, the lead)").

    python3 bench/prototypes/pool_grad_onehot.py CHANNELS SIDE THREADS REPEATS   # pool1 at 256^2: 64 256 2 40
"""
import sys, time, numpy as np, onnxruntime as ort
from onnx import helper as H, TensorProto as T, numpy_helper as NH
c, h, thr, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(0)
x = np.maximum(rng.standard_normal((1, c, h, h)), 0).astype(np.float32)
x[:, :, :h//4, :h//4] = 0.5  # flat region: ties at a positive value
dp = rng.standard_normal((1, c, h//2, h//2)).astype(np.float32)
I = lambda a, n: NH.from_array(np.array(a, np.int64), n)
def sess(nodes, inits, outs):
    g = H.make_graph(nodes, 'g', [H.make_tensor_value_info('x', T.FLOAT, x.shape), H.make_tensor_value_info('dp', T.FLOAT, dp.shape)], [H.make_tensor_value_info(o, T.FLOAT, None) for o in outs], inits)
    m = H.make_model(g, opset_imports=[H.make_opsetid('', 18)]); m.ir_version = 9
    so = ort.SessionOptions(); so.intra_op_num_threads = thr; so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    return ort.InferenceSession(m.SerializeToString(), so, providers=['CPUExecutionProvider'])
A = sess([H.make_node('MaxPool', ['x'], ['p', 'idx'], kernel_shape=[2, 2], strides=[2, 2]), H.make_node('Shape', ['x'], ['xs']),
          H.make_node('MaxUnpool', ['dp', 'idx', 'xs'], ['dx'], kernel_shape=[2, 2], strides=[2, 2])], [], ['p', 'dx'])
nodes = [H.make_node('MaxPool', ['x'], ['p'], kernel_shape=[2, 2], strides=[2, 2]), H.make_node('Constant', [], ['zero'], value=NH.from_array(np.zeros((), np.float32)))]
inits = [I([2, 3], 'ax'), I([2, 2], 'st2'), I([h, h], 'en')]
taken = None
parts = []
for a in (0, 1):
    for b in (0, 1):
        k = f'{a}{b}'; inits.append(I([a, b], 's' + k))
        nodes += [H.make_node('Slice', ['x', 's' + k, 'en', 'ax', 'st2'], ['x' + k]), H.make_node('Equal', ['x' + k, 'p'], ['e' + k])]
        if taken is None: m = 'e' + k; nodes.append(H.make_node('Identity', [m], ['t' + k]))
        else:
            nodes += [H.make_node('Not', [taken], ['n' + k]), H.make_node('And', ['e' + k, 'n' + k], ['m' + k]), H.make_node('Or', [taken, 'm' + k], ['t' + k])]; m = 'm' + k
        taken = 't' + k
        nodes += [H.make_node('Where', [m, 'dp', 'zero'], ['d' + k]), H.make_node('Unsqueeze', ['d' + k, 'u2'], ['q' + k])]
        parts.append('q' + k)
inits += [I([2], 'u2'), I([1, c * 4, h // 2, h // 2], 'sh')]
nodes += [H.make_node('Concat', parts, ['cc'], axis=2), H.make_node('Reshape', ['cc', 'sh'], ['cr']), H.make_node('DepthToSpace', ['cr'], ['dx'], blocksize=2, mode='CRD')]
B = sess(nodes, inits, ['p', 'dx'])
ra, rb = A.run(None, {'x': x, 'dp': dp}), B.run(None, {'x': x, 'dp': dp})
print('max diff p', np.abs(ra[0] - rb[0]).max(), 'dx', np.abs(ra[1] - rb[1]).max())
ta, tb = [], []
for i in range(reps):
    t0 = time.perf_counter(); A.run(None, {'x': x, 'dp': dp}); t1 = time.perf_counter(); B.run(None, {'x': x, 'dp': dp}); t2 = time.perf_counter(); ta.append(t1 - t0); tb.append(t2 - t1)
ta, tb = np.array(ta) * 1e3, np.array(tb) * 1e3
print(f'c={c} h={h} thr={thr}: indexed+unpool median {np.median(ta):.2f} min {ta.min():.2f} | onehot median {np.median(tb):.2f} min {tb.min():.2f} | paired {np.median(tb/ta):.3f}')
