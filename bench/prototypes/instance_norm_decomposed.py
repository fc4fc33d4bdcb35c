"""
Instance norm + ReLU as onnxruntime runs it, against two decompositions into ops ORT parallelises (ReduceMean and
ReduceSumSquare for the statistics, then Mul/Add or BatchNormalization with those statistics), for one [1, C, S, S] map.
Tried for the inference graph at 2 threads, where InstanceNormalization runs on one thread; dropped (docs/benchmarks.md).

    python3 bench/prototypes/instance_norm_decomposed.py THREADS REPEATS C S
"""
import sys, time, numpy as np, onnxruntime as ort
from onnx import helper as H, TensorProto as T, numpy_helper as NH
threads, reps, C, S = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
I = lambda a, n: NH.from_array(np.array(a, np.int64), n)
F = lambda a, n: NH.from_array(np.array(a, np.float32), n)
rng = np.random.default_rng(0)
g, b = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
def session(nodes, inits):
    gr = H.make_graph(nodes, 'g', [H.make_tensor_value_info('x', T.FLOAT, [1, C, S, S])], [H.make_tensor_value_info('y', T.FLOAT, None)], inits)
    m = H.make_model(gr, opset_imports=[H.make_opsetid('', 18)]); m.ir_version = 9
    so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
    return ort.InferenceSession(m.SerializeToString(), so, providers=['CPUExecutionProvider'])
forms = {}
forms['IN+Relu'] = session([H.make_node('InstanceNormalization', ['x', 'g', 'b'], ['n'], epsilon=1e-5), H.make_node('Relu', ['n'], ['y'])], [F(g, 'g'), F(b, 'b')])
# decomposed: mean, E[x^2] via ReduceMean of x*x? use ReduceSumSquare
n = S * S
forms['reduce+mul+add+relu'] = session([
    H.make_node('ReduceMean', ['x', 'ax'], ['mu'], keepdims=1),
    H.make_node('ReduceSumSquare', ['x', 'ax'], ['ss'], keepdims=1),
    H.make_node('Mul', ['ss', 'invn'], ['ex2']), H.make_node('Mul', ['mu', 'mu'], ['mu2']), H.make_node('Sub', ['ex2', 'mu2'], ['var']),
    H.make_node('Add', ['var', 'eps'], ['ve']), H.make_node('Sqrt', ['ve'], ['sd']), H.make_node('Div', ['g4', 'sd'], ['a']),
    H.make_node('Mul', ['mu', 'a'], ['ma']), H.make_node('Sub', ['b4', 'ma'], ['bb']),
    H.make_node('Mul', ['x', 'a'], ['xa']), H.make_node('Add', ['xa', 'bb'], ['z']), H.make_node('Relu', ['z'], ['y'])],
    [I([2, 3], 'ax'), F(1 / n, 'invn'), F(1e-5, 'eps'), F(g.reshape(1, C, 1, 1), 'g4'), F(b.reshape(1, C, 1, 1), 'b4')])
forms['BN(runtime stats)+relu'] = session([
    H.make_node('ReduceMean', ['x', 'ax'], ['mu'], keepdims=0),
    H.make_node('ReduceSumSquare', ['x', 'ax'], ['ss'], keepdims=0),
    H.make_node('Mul', ['ss', 'invn'], ['ex2']), H.make_node('Mul', ['mu', 'mu'], ['mu2']), H.make_node('Sub', ['ex2', 'mu2'], ['var']),
    H.make_node('Reshape', ['mu', 'c1'], ['muc']), H.make_node('Reshape', ['var', 'c1'], ['varc']),
    H.make_node('BatchNormalization', ['x', 'g', 'b', 'muc', 'varc'], ['z'], epsilon=1e-5), H.make_node('Relu', ['z'], ['y'])],
    [I([2, 3], 'ax'), F(1 / n, 'invn'), F(g, 'g'), F(b, 'b'), I([C], 'c1')])
x = (rng.standard_normal((1, C, S, S)) * 3 + 1).astype(np.float32)
outs = {k: s.run(None, {'x': x})[0] for k, s in forms.items()}
for k, o in outs.items(): print(k, float(np.abs(o - outs['IN+Relu']).max()))
times = {k: [] for k in forms}
for _ in range(reps):
    for k, s in forms.items():
        t0 = time.perf_counter(); s.run(None, {'x': x}); times[k].append((time.perf_counter() - t0) * 1e3)
print(f'C={C} S={S} {threads} thread(s): ' + '; '.join(f'{k} median {np.median(t):.2f} min {min(t):.2f}' for k, t in times.items()))
