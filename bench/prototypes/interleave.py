"""
Phase interleaves as onnxruntime runs them, alone, interleaved runs with stc's session options: the resize-conv's
[1, 4*C, H, W] -> [1, C, 2H, 2W] interleave as stc's Reshape + 6-D Transpose + Reshape against one DepthToSpace in
CRD mode (which reads the channels in stc's order) and in DCR mode; and Winograd's [1, 16*C, h, w] -> [1, C, 4h, 4w]
output interleave as DepthToSpace (DCR, blocksize 4) against Reshape + Transpose. Prints medians and minima
(docs/benchmarks.md, "The last upsampling kept in phase space, and Winograd at inference"; peephole/depth-to-space.ts).

    python3 bench/prototypes/interleave.py THREADS REPEATS
"""
import sys, time, numpy as np, onnxruntime as ort
from onnx import helper as H, TensorProto as T, numpy_helper as NH

threads, reps = int(sys.argv[1]), int(sys.argv[2])
I = lambda a, n: NH.from_array(np.array(a, np.int64), n)


def session(nodes, inits, shape):
    g = H.make_graph(nodes, 'g', [H.make_tensor_value_info('x', T.FLOAT, shape)], [H.make_tensor_value_info('y', T.FLOAT, None)], inits)
    m = H.make_model(g, opset_imports=[H.make_opsetid('', 18)]); m.ir_version = 9
    so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
    return ort.InferenceSession(m.SerializeToString(), so, providers=['CPUExecutionProvider'])


def transpose_form(c, b, h, w, perm):
    return session([H.make_node('Reshape', ['x', 's6'], ['a']), H.make_node('Transpose', ['a'], ['t'], perm=perm), H.make_node('Reshape', ['t', 's4'], ['y'])],
                   [I([1, c, b, b, h, w] if perm == [0, 1, 4, 2, 5, 3] else [1, b, b, c, h, w], 's6'), I([1, c, b * h, b * w], 's4')], [1, b * b * c, h, w])


def d2s(c, b, h, w, mode):
    return session([H.make_node('DepthToSpace', ['x'], ['y'], blocksize=b, mode=mode)], [], [1, b * b * c, h, w])


cases = [
    ('deconv1 at 512^2', 64, 2, 128, 128, [('stc 6-D transpose', lambda *a: transpose_form(*a, [0, 1, 4, 2, 5, 3])), ('DepthToSpace CRD', lambda *a: d2s(*a, 'CRD')), ('DepthToSpace DCR', lambda *a: d2s(*a, 'DCR'))]),
    ('deconv1 at 1024^2', 64, 2, 256, 256, [('stc 6-D transpose', lambda *a: transpose_form(*a, [0, 1, 4, 2, 5, 3])), ('DepthToSpace CRD', lambda *a: d2s(*a, 'CRD')), ('DepthToSpace DCR', lambda *a: d2s(*a, 'DCR'))]),
    ('Winograd output at 512^2', 128, 4, 32, 32, [('reshape + transpose (DCR order)', lambda *a: transpose_form(*a, [0, 3, 4, 1, 5, 2])), ('DepthToSpace DCR', lambda *a: d2s(*a, 'DCR'))]),
]
for title, c, b, h, w, forms in cases:
    x = np.random.default_rng(0).standard_normal((1, b * b * c, h, w)).astype(np.float32)
    sessions = [(name, make(c, b, h, w)) for name, make in forms]
    outs = [s.run(None, {'x': x})[0] for _, s in sessions]
    if 'Winograd' not in title:  # the stc form and CRD must agree; DCR reads another channel order
        assert np.array_equal(outs[0], outs[1])
    times = {name: [] for name, _ in sessions}
    for _ in range(reps):
        for name, s in sessions:
            t0 = time.perf_counter(); s.run(None, {'x': x}); times[name].append((time.perf_counter() - t0) * 1e3)
    print(f'{title}, {threads} thread(s): ' + '; '.join(f'{n} median {np.median(t):.1f} min {min(t):.1f} ms' for n, t in times.items()))
