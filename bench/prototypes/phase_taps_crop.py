"""The resize-conv's phase conv at full size, alone, as onnxruntime runs it (stc's session options: level 'all', N intra-op
threads): edge pad + 3x3 conv with 4*Co phase outputs + phase interleave, against the same with each phase on its own
2x2 taps (one 2x2 conv, interleave, and a crop of the one-larger result), runs interleaved; prints medians, minima and
the paired ratio (docs/benchmarks.md, "The upsampling convs on their phases' own 2x2 taps", prototype).

    python3 bench/prototypes/phase_taps_crop.py CIN COUT SIDE THREADS REPEATS   # deconv1 at 512^2: 128 64 128 1 15
"""
import sys, time, numpy as np, onnx, onnxruntime as ort
from onnx import helper as H, TensorProto as T, numpy_helper as NH
ci, co, h = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]); threads = int(sys.argv[4]); reps = int(sys.argv[5])
rng = np.random.default_rng(0)
x = rng.standard_normal((1, ci, h, h)).astype(np.float32)
def model(k):
    W = rng.standard_normal((4*co, ci, k, k)).astype(np.float32) * 0.05
    B = rng.standard_normal((4*co,)).astype(np.float32)
    n = h + 3 - k  # conv output size
    nodes = [H.make_node('Pad', ['x', 'pads'], ['xp'], mode='edge'),
             H.make_node('Conv', ['xp', 'W', 'B'], ['y']),
             H.make_node('Reshape', ['y', 's6'], ['y6']),
             H.make_node('Transpose', ['y6'], ['t6'], perm=[0,1,4,2,5,3]),
             H.make_node('Reshape', ['t6', 's4'], ['z' if k == 2 else 'out'])]
    inits = [NH.from_array(np.array([0,0,1,1,0,0,1,1], np.int64), 'pads'), NH.from_array(W, 'W'), NH.from_array(B, 'B'),
             NH.from_array(np.array([1, co, 2, 2, n, n], np.int64), 's6'), NH.from_array(np.array([1, co, 2*n, 2*n], np.int64), 's4')]
    if k == 2:
        nodes.append(H.make_node('Slice', ['z', 'st', 'en', 'ax'], ['out']))
        inits += [NH.from_array(np.array([1, 1], np.int64), 'st'), NH.from_array(np.array([2*n-1, 2*n-1], np.int64), 'en'), NH.from_array(np.array([2, 3], np.int64), 'ax')]
    g = H.make_graph(nodes, 'g', [H.make_tensor_value_info('x', T.FLOAT, x.shape)], [H.make_tensor_value_info('out', T.FLOAT, None)], inits)
    m = H.make_model(g, opset_imports=[H.make_opsetid('', 18)]); m.ir_version = 9
    so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(m.SerializeToString(), so, providers=['CPUExecutionProvider'])
a, b = model(3), model(2)
for s in (a, b): s.run(None, {'x': x}); s.run(None, {'x': x})
ta, tb = [], []
for i in range(reps):
    t0 = time.perf_counter(); a.run(None, {'x': x}); t1 = time.perf_counter(); b.run(None, {'x': x}); t2 = time.perf_counter()
    ta.append(t1 - t0); tb.append(t2 - t1)
ta, tb = np.array(ta) * 1e3, np.array(tb) * 1e3
print(f'ci={ci} co={co} h={h} thr={threads}: 3x3 median {np.median(ta):.1f} min {ta.min():.1f} | 2x2+slice median {np.median(tb):.1f} min {tb.min():.1f} | paired {np.median(tb/ta):.3f}')
