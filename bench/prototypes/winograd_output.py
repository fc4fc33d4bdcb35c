"""
Winograd's output stage alone, as onnxruntime runs it with stc's session options: today's AtA·M + DepthToSpace (DCR) against
M^T·(AtA)^T + Gather over the tile rows (peephole/winograd-gather.ts), a 5-D Transpose, and four matmuls + Concat, on
Johnson-IN's residual conv at 512^2 (M [36, 128, 32*32]). Prints medians and minima; outputs must be equal.

    python3 bench/prototypes/winograd_output.py THREADS REPEATS
"""
import sys, time, numpy as np, onnxruntime as ort
from onnx import helper as H, TensorProto as T, numpy_helper as NH
threads, reps = int(sys.argv[1]), int(sys.argv[2])
Co, h, w = 128, 32, 32
TT = h * w
I = lambda a, n: NH.from_array(np.array(a, np.int64), n)
F = lambda a, n: NH.from_array(np.array(a, np.float32), n)
AT = np.array([[1,1,1,1,1,0],[0,1,-1,2,-2,0],[0,1,1,4,4,0],[0,1,-1,8,-8,1]], np.float32)
A2 = np.kron(AT, AT)  # [16, 36]
def session(nodes, inits):
    g = H.make_graph(nodes, 'g', [H.make_tensor_value_info('m', T.FLOAT, [36, Co, TT])], [H.make_tensor_value_info('y', T.FLOAT, None)], inits)
    m = H.make_model(g, opset_imports=[H.make_opsetid('', 18), H.make_opsetid('com.microsoft', 1)]); m.ir_version = 9
    so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
    return ort.InferenceSession(m.SerializeToString(), so, providers=['CPUExecutionProvider'])
forms = {}
# A: today's: MatMul [16,36]x[36,Co*T] -> [1,16*Co,h,w] -> D2S DCR
forms['matmul+d2s'] = session([H.make_node('Reshape', ['m', 's2'], ['m2']), H.make_node('MatMul', ['a', 'm2'], ['o']), H.make_node('Reshape', ['o', 's4'], ['o4']), H.make_node('DepthToSpace', ['o4'], ['y'], blocksize=4, mode='DCR')],
    [F(A2, 'a'), I([36, Co * TT], 's2'), I([1, 16 * Co, h, w], 's4')])
# B: transA matmul -> [Co*T,16] -> [Co*h, w, 4, 4] -> Transpose (0,2,1,3)
forms['transA+transpose'] = session([H.make_node('Reshape', ['m', 's2'], ['m2']), H.make_node('Transpose', ['m2'], ['mt'], perm=[1, 0]), H.make_node('MatMul', ['mt', 'a'], ['o']), H.make_node('Reshape', ['o', 's4'], ['o4']), H.make_node('Transpose', ['o4'], ['t'], perm=[0, 2, 1, 3]), H.make_node('Reshape', ['t', 'so'], ['y'])],
    [F(A2.T, 'a'), I([36, Co * TT], 's2'), I([Co * h, w, 4, 4], 's4'), I([1, Co, 4 * h, 4 * w], 'so')])
# C: transA matmul -> Gather on axis 1 of [Co*h, w*4, 4]
perm = np.array([tx * 4 + i for i in range(4) for tx in range(w)], np.int64)
forms['transA+gather'] = session([H.make_node('Reshape', ['m', 's2'], ['m2']), H.make_node('Transpose', ['m2'], ['mt'], perm=[1, 0]), H.make_node('MatMul', ['mt', 'a'], ['o']), H.make_node('Reshape', ['o', 's4'], ['o4']), H.make_node('Gather', ['o4', 'p'], ['t'], axis=1), H.make_node('Reshape', ['t', 'so'], ['y'])],
    [F(A2.T, 'a'), I([36, Co * TT], 's2'), I([Co * h, w * 4, 4], 's4'), NH.from_array(perm, 'p'), I([1, Co, 4 * h, 4 * w], 'so')])
# D: 4 matmuls (per output row i) -> Concat axis 2
nodes = [H.make_node('Reshape', ['m', 's2'], ['m2']), H.make_node('Transpose', ['m2'], ['mt'], perm=[1, 0])]
inits = [I([36, Co * TT], 's2'), I([Co, h, 1, 4 * w], 's4'), I([1, Co, 4 * h, 4 * w], 'so')]
for i in range(4):
    inits.append(F(A2.T[:, 4 * i:4 * i + 4], f'a{i}'))
    nodes += [H.make_node('MatMul', ['mt', f'a{i}'], [f'o{i}']), H.make_node('Reshape', [f'o{i}', 's4'], [f'r{i}'])]
nodes += [H.make_node('Concat', [f'r{i}' for i in range(4)], ['c'], axis=2), H.make_node('Reshape', ['c', 'so'], ['y'])]
forms['4 matmuls+concat'] = session(nodes, inits)
x = np.random.default_rng(0).standard_normal((36, Co, TT)).astype(np.float32)
outs = {n: s.run(None, {'m': x})[0] for n, s in forms.items()}
ref = outs['matmul+d2s']
for n, o in outs.items(): print(n, o.shape, float(np.abs(o - ref).max()))
times = {n: [] for n in forms}
for _ in range(reps):
    for n, s in forms.items():
        t0 = time.perf_counter(); s.run(None, {'m': x}); times[n].append((time.perf_counter() - t0) * 1e3)
print(f'{threads} thread(s): ' + '; '.join(f'{n} median {np.median(t):.2f} min {min(t):.2f}' for n, t in times.items()))
