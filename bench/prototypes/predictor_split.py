"""
The int8 style predictor at 2 threads as one ONNX Runtime session, against two sessions in a row: the large early
layers (128^2 to 32^2) at 2 threads and the small late ones (16^2, 8^2) at 1, where a second thread costs more than
it gains (docs/benchmarks.md, "Style prediction speed: where the remaining time goes"). One way per process, so no
other session's thread pool is alive in it. Models from bench/prototypes/predictor-split-model.ts.

    python3 bench/prototypes/predictor_split.py DIR WAY [RUNS]     WAY: whole2 | whole1 | split:<layer>
"""
import sys, time, numpy as np, onnxruntime as ort

d, way = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 400


def session(path, threads):
    o = ort.SessionOptions()
    o.intra_op_num_threads, o.inter_op_num_threads = threads, 1
    return ort.InferenceSession(path, o, providers=['CPUExecutionProvider'])


x = ((np.arange(3 * 256 * 256) * 37) % 256).astype(np.float32).reshape(1, 3, 256, 256)
if way.startswith('whole'):
    s = session(f'{d}/whole.onnx', int(way[-1]))
    f = lambda: s.run(None, {'style_image': x})[0]
else:
    layer = way.split(':')[1]
    a, b = session(f'{d}/A_{layer}.onnx', 2), session(f'{d}/B_{layer}.onnx', 1)
    cut = b.get_inputs()[0].name
    f = lambda: b.run(None, {cut: a.run(None, {'style_image': x})[0]})[0]
    assert np.array_equal(f(), session(f'{d}/whole.onnx', 2).run(None, {'style_image': x})[0])
for _ in range(30):
    f()
t = []
for _ in range(runs):
    t0 = time.perf_counter()
    f()
    t.append((time.perf_counter() - t0) * 1e3)
t = np.array(t)
print(f'{way:24s} median {np.median(t):.3f} ms  best {t.min():.3f}  p25 {np.percentile(t, 25):.3f}  p75 {np.percentile(t, 75):.3f}')
