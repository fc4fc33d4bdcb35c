"""The resize-conv's phase tensor from the 3x3 phase conv, against the form stc now emits: one 2x2 conv with phase-major
outputs and the four phases cut out (channels, rows a.., columns b..) and stacked, runs interleaved with stc's session
options; `chain` cuts each phase with three single-axis Slices (what the IR emits before the peephole's slice merge)
instead of one (docs/benchmarks.md, "The upsampling convs on their phases' own 2x2 taps", prototype).

    python3 bench/prototypes/phase_taps_slices.py CIN COUT SIDE THREADS REPEATS [chain]   # deconv2 at 512^2: 64 32 256 1 15
"""
import sys, time, numpy as np, onnx, onnxruntime as ort
from onnx import helper as H, TensorProto as T, numpy_helper as NH
ci, co, h = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]); threads = int(sys.argv[4]); reps = int(sys.argv[5])
chained = len(sys.argv) > 6 and sys.argv[6] == 'chain'
rng = np.random.default_rng(0)
x = rng.standard_normal((1, ci, h, h)).astype(np.float32)
I = lambda a, n: NH.from_array(np.array(a, np.int64), n)
def sess(nodes, inits):
    g = H.make_graph(nodes, 'g', [H.make_tensor_value_info('x', T.FLOAT, x.shape)], [H.make_tensor_value_info('out', T.FLOAT, None)], inits)
    m = H.make_model(g, opset_imports=[H.make_opsetid('', 18)]); m.ir_version = 9
    so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
    return ort.InferenceSession(m.SerializeToString(), so, providers=['CPUExecutionProvider'])
W3 = rng.standard_normal((4*co, ci, 3, 3)).astype(np.float32) * 0.05
W2 = rng.standard_normal((4*co, ci, 2, 2)).astype(np.float32) * 0.05
B = np.zeros(4*co, np.float32)
pad = H.make_node('Pad', ['x', 'pads'], ['xp'], mode='edge')
A = sess([pad, H.make_node('Conv', ['xp', 'W', 'B'], ['out'])], [I([0,0,1,1,0,0,1,1], 'pads'), NH.from_array(W3, 'W'), NH.from_array(B, 'B')])
nodes = [pad, H.make_node('Conv', ['xp', 'W', 'B'], ['y'])]; inits = [I([0,0,1,1,0,0,1,1], 'pads'), NH.from_array(W2, 'W'), NH.from_array(B, 'B'), I([1,2,3], 'ax'), I([2], 'u'), I([1], 'a1'), I([2], 'a2'), I([3], 'a3')]
parts = []
for a in (0, 1):
    for b in (0, 1):
        p = 2*a + b; k = f'{a}{b}'
        if chained:
            inits += [I([p*co], 'sc'+k), I([(p+1)*co], 'ec'+k), I([a], 'sr'+k), I([a+h], 'er'+k), I([b], 'sw'+k), I([b+h], 'ew'+k)]
            nodes += [H.make_node('Slice', ['y', 'sc'+k, 'ec'+k, 'a1'], ['c'+k]), H.make_node('Slice', ['c'+k, 'sr'+k, 'er'+k, 'a2'], ['r'+k]), H.make_node('Slice', ['r'+k, 'sw'+k, 'ew'+k, 'a3'], ['s'+k])]
        else:
            inits += [I([p*co, a, b], 'st'+k), I([(p+1)*co, a+h, b+h], 'en'+k)]
            nodes.append(H.make_node('Slice', ['y', 'st'+k, 'en'+k, 'ax'], ['s'+k]))
        nodes.append(H.make_node('Unsqueeze', ['s'+k, 'u'], ['q'+k]))
        parts.append('q'+k)
nodes += [H.make_node('Concat', parts, ['cc'], axis=2), H.make_node('Reshape', ['cc', 'shp'], ['out'])]
inits.append(I([1, 4*co, h, h], 'shp'))
Bs = sess(nodes, inits)
for s in (A, Bs): s.run(None, {'x': x}); s.run(None, {'x': x})
ta, tb = [], []
for i in range(reps):
    t0 = time.perf_counter(); A.run(None, {'x': x}); t1 = time.perf_counter(); Bs.run(None, {'x': x}); t2 = time.perf_counter()
    ta.append(t1 - t0); tb.append(t2 - t1)
ta, tb = np.array(ta) * 1e3, np.array(tb) * 1e3
print(f'ci={ci} co={co} h={h} thr={threads}: 3x3 median {np.median(ta):.1f} min {ta.min():.1f} | 2x2+4slices+concat median {np.median(tb):.1f} min {tb.min():.1f} | paired {np.median(tb/ta):.3f}')
