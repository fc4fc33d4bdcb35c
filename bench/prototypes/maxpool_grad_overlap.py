"""
The gradient of an overlapping max pool (SqueezeNet's 3x3 stride-2 pools) alone, as onnxruntime runs it: today's
MaxPool Indices + ScatterElements(add) against index-free forms that route dy to each window's first maximum with
elementwise ops (every one runs on all threads) and place the nine offsets' masked gradients with Pads, Sums and
one Gather. Shapes: pool1 of the 256^2 Gatys step, x [1, 64, 127, 127] -> [1, 64, 63, 63]. x is quantised to a
few levels so that windows hold tied maxima; outputs must equal torch's max_pool2d backward (first maximum).

    python3 bench/prototypes/maxpool_grad_overlap.py THREADS REPEATS [C H]
"""
import sys, time, numpy as np, onnxruntime as ort, torch
from onnx import helper as H, TensorProto as T, numpy_helper as NH

threads, reps = int(sys.argv[1]), int(sys.argv[2])
C, HW = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (64, 127)
K, S = 3, 2
HO = (HW - K) // S + 1
I = lambda a, n: NH.from_array(np.array(a, np.int64), n)
F = lambda a, n: NH.from_array(np.array(a, np.float32), n)


def session(nodes, inits):
    ins = [H.make_tensor_value_info('x', T.FLOAT, [1, C, HW, HW]), H.make_tensor_value_info('y', T.FLOAT, [1, C, HO, HO]), H.make_tensor_value_info('dy', T.FLOAT, [1, C, HO, HO])]
    g = H.make_graph(nodes, 'g', ins, [H.make_tensor_value_info('dx', T.FLOAT, None)], inits)
    m = H.make_model(g, opset_imports=[H.make_opsetid('', 18)])
    m.ir_version = 9
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(m.SerializeToString(), so, providers=['CPUExecutionProvider'])


forms = {}
# A: today's CPU lowering (lower-grad.ts 'scatter').
forms['indices+scatter'] = session([
    H.make_node('MaxPool', ['x'], ['yy', 'idx'], kernel_shape=[K, K], strides=[S, S]),
    H.make_node('Reshape', ['idx', 'flat'], ['i1']), H.make_node('Reshape', ['dy', 'flat'], ['d1']),
    H.make_node('ConstantOfShape', ['n'], ['z'], value=H.make_tensor('v', T.FLOAT, [1], [0.0])),
    H.make_node('ScatterElements', ['z', 'i1', 'd1'], ['s'], axis=0, reduction='add'),
    H.make_node('Reshape', ['s', 'shape'], ['dx'])],
    [I([-1], 'flat'), I([C * HW * HW], 'n'), I([1, C, HW, HW], 'shape')])


def chain_nodes(extract):
    """The nine offsets' first-maximum routing and their placement; `extract(a, b)` names the offset's window values."""
    nodes, inits = [], [F([0.0], 'zero')]
    R0 = (HW + 1) // 2
    rem = 'dy'
    phase = {}
    for a in range(K):
        for b in range(K):
            k = a * K + b
            sk, nk = extract(a, b, nodes, inits)
            nodes.append(H.make_node('Equal', [sk, 'y'], [f'eq{k}']))
            nodes.append(H.make_node('Where', [f'eq{k}', rem, 'zero'], [f'm{k}']))
            if k < K * K - 1:
                nodes.append(H.make_node('Where', [f'eq{k}', 'zero', rem], [f'rem{k}']))
                rem = f'rem{k}'
            da, db = a // S, b // S
            inits.append(I([0, 0, da, db, 0, 0, R0 - da - HO, R0 - db - HO], f'pad{k}'))
            nodes.append(H.make_node('Pad', [f'm{k}', f'pad{k}'], [f'pm{k}'], mode='constant'))
            phase.setdefault((a % S, b % S), []).append(f'pm{k}')
    for (pa, pb), terms in phase.items():
        nodes.append(H.make_node('Sum', terms, [f'ph{pa}{pb}']))
        nodes.append(H.make_node('Reshape', [f'ph{pa}{pb}', 'plane'], [f'pr{pa}{pb}']))
    nodes.append(H.make_node('Concat', [f'pr{pa}{pb}' for pa in range(S) for pb in range(S)], ['pf'], axis=2))
    idx = np.array([((r % S) * S + c % S) * R0 * R0 + (r // S) * R0 + c // S for r in range(HW) for c in range(HW)], np.int64)
    inits += [NH.from_array(idx, 'interleave'), I([1, C, R0 * R0], 'plane'), I([1, C, HW, HW], 'shape')]
    nodes += [H.make_node('Gather', ['pf', 'interleave'], ['g'], axis=2), H.make_node('Reshape', ['g', 'shape'], ['dx'])]
    return nodes, inits


def strided(a, b, nodes, inits):
    inits += [I([a, b], f's{a}{b}'), I([a + S * (HO - 1) + 1, b + S * (HO - 1) + 1], f'e{a}{b}')]
    if 'ax' not in [t.name for t in inits]:
        inits += [I([2, 3], 'ax'), I([S, S], 'st')]
    nodes.append(H.make_node('Slice', ['x', f's{a}{b}', f'e{a}{b}', 'ax', 'st'], [f'x{a}{b}']))
    return f'x{a}{b}', None


forms['strided slices+chain'] = session(*chain_nodes(strided))


def gathered_planes():
    """x's four phase planes by one Gather (pad slot for the short ones), then contiguous shifted Slices."""
    R0 = (HW + 1) // 2
    nodes = [H.make_node('Reshape', ['x', 'xflat'], ['xf']), H.make_node('Concat', ['xf', 'lowest'], ['xl'], axis=2)]
    idx = np.full((S * S, R0, R0), HW * HW, np.int64)
    for pa in range(S):
        for pb in range(S):
            for i in range(R0):
                for j in range(R0):
                    r, c = S * i + pa, S * j + pb
                    if r < HW and c < HW:
                        idx[pa * S + pb, i, j] = r * HW + c
    inits = [I([1, C, HW * HW], 'xflat'), NH.from_array(np.full((1, C, 1), -3.4028234663852886e38, np.float32), 'lowest'),
             NH.from_array(idx.reshape(-1), 'phases'), I([1, C * S * S, R0, R0], 'pshape'), I([2, 3], 'ax')]
    nodes += [H.make_node('Gather', ['xl', 'phases'], ['pg'], axis=2), H.make_node('Reshape', ['pg', 'pshape'], ['xp'])]

    def extract(a, b, ns, ins):
        ch = (a % S) * S + b % S
        da, db = a // S, b // S
        # the channel axis interleaves C and the phase: take phase ch of every channel with a step-S*S slice.
        ins += [I([ch, da, db], f's{a}{b}'), I([C * S * S, da + HO, db + HO], f'e{a}{b}'), I([1, 2, 3], f'a{a}{b}'), I([S * S, 1, 1], f't{a}{b}')]
        ns.append(H.make_node('Slice', ['xp', f's{a}{b}', f'e{a}{b}', f'a{a}{b}', f't{a}{b}'], [f'x{a}{b}']))
        return f'x{a}{b}', None

    n2, i2 = chain_nodes(extract)
    return nodes + n2, inits + i2


forms['gathered planes+chain'] = session(*gathered_planes())


def unpool_parity():
    """Indices from MaxPool, then dy placed by four MaxUnpools, one per parity class of windows (i mod 2, j mod 2):
    windows two apart along both axes do not overlap, so each MaxUnpool's indices are distinct; a Sum adds the four."""
    nodes = [H.make_node('MaxPool', ['x'], ['yy', 'idx'], kernel_shape=[K, K], strides=[S, S])]
    inits = [I([2, 3], 'ax'), I([2, 2], 'st'), I([1, C, HW, HW], 'shape')]
    terms = []
    for pi in range(2):
        for pj in range(2):
            inits += [I([pi, pj], f'u{pi}{pj}'), I([HO, HO], f'v{pi}{pj}')]
            nodes += [H.make_node('Slice', ['dy', f'u{pi}{pj}', f'v{pi}{pj}', 'ax', 'st'], [f'd{pi}{pj}']),
                      H.make_node('Slice', ['idx', f'u{pi}{pj}', f'v{pi}{pj}', 'ax', 'st'], [f'i{pi}{pj}']),
                      H.make_node('MaxUnpool', [f'd{pi}{pj}', f'i{pi}{pj}', 'shape'], [f'p{pi}{pj}'], kernel_shape=[K, K], strides=[S, S])]
            terms.append(f'p{pi}{pj}')
    nodes.append(H.make_node('Sum', terms, ['dx']))
    return nodes, inits


forms['indices+4 unpools'] = session(*unpool_parity())


def onehot_kernel():
    w = np.zeros((C * K * K, 1, K, K), np.float32)
    for c in range(C):
        for k in range(K * K):
            w[c * K * K + k, 0, k // K, k % K] = 1
    return NH.from_array(w, 'onehot')


def conv_argmax():
    """The nine offsets by a depthwise one-hot Conv, the first maximum by ArgMax, dy routed by Equal with 0..8 and
    Where, and placed by a depthwise one-hot ConvTranspose (overlapping windows add)."""
    nodes = [H.make_node('Conv', ['x', 'onehot'], ['x9'], kernel_shape=[K, K], strides=[S, S], group=C),
             H.make_node('Reshape', ['x9', 's5'], ['x5']),
             H.make_node('ArgMax', ['x5'], ['am'], axis=2, keepdims=1),
             H.make_node('Equal', ['am', 'range'], ['first']),
             H.make_node('Unsqueeze', ['dy', 'two'], ['dyu']),
             H.make_node('Where', ['first', 'dyu', 'zero'], ['routed']),
             H.make_node('Reshape', ['routed', 's4'], ['r4']),
             H.make_node('ConvTranspose', ['r4', 'onehot'], ['dx'], kernel_shape=[K, K], strides=[S, S], group=C)]
    inits = [onehot_kernel(), I([1, C, K * K, HO, HO], 's5'), I(np.arange(K * K).reshape(1, 1, K * K, 1, 1), 'range'), I([2], 'two'),
             F([0.0], 'zero'), I([1, C * K * K, HO, HO], 's4')]
    return nodes, inits


forms['conv+argmax+convT'] = session(*conv_argmax())


def scatter_nd():
    """MaxPool Indices, then ScatterND (reduction add) instead of ScatterElements."""
    return [H.make_node('MaxPool', ['x'], ['yy', 'idx'], kernel_shape=[K, K], strides=[S, S]),
            H.make_node('Reshape', ['idx', 'col'], ['i1']), H.make_node('Reshape', ['dy', 'flat'], ['d1']),
            H.make_node('ConstantOfShape', ['n'], ['z'], value=H.make_tensor('v', T.FLOAT, [1], [0.0])),
            H.make_node('ScatterND', ['z', 'i1', 'd1'], ['s'], reduction='add'),
            H.make_node('Reshape', ['s', 'shape'], ['dx'])], [I([-1, 1], 'col'), I([-1], 'flat'), I([C * HW * HW], 'n'), I([1, C, HW, HW], 'shape')]


forms['indices+scatterND'] = session(*scatter_nd())


def scatter_rows():
    """MaxPool Indices made per channel (minus c*H*W), then ScatterElements along axis 1 of [C, H*W]."""
    off = (np.arange(C, dtype=np.int64) * HW * HW).reshape(C, 1)
    return [H.make_node('MaxPool', ['x'], ['yy', 'idx'], kernel_shape=[K, K], strides=[S, S]),
            H.make_node('Reshape', ['idx', 'rows'], ['i1']), H.make_node('Sub', ['i1', 'off'], ['i2']), H.make_node('Reshape', ['dy', 'rows'], ['d1']),
            H.make_node('ConstantOfShape', ['n'], ['z'], value=H.make_tensor('v', T.FLOAT, [1], [0.0])),
            H.make_node('ScatterElements', ['z', 'i2', 'd1'], ['s'], axis=1, reduction='add'),
            H.make_node('Reshape', ['s', 'shape'], ['dx'])], [I([C, -1], 'rows'), NH.from_array(off, 'off'), I([C, HW * HW], 'n'), I([1, C, HW, HW], 'shape')]


forms['indices+scatter rows'] = session(*scatter_rows())

rng = np.random.default_rng(0)
x = np.round(rng.standard_normal((1, C, HW, HW)) * 2).astype(np.float32)  # a few levels: ties in most windows
xt = torch.from_numpy(x).requires_grad_()
yt = torch.nn.functional.max_pool2d(xt, K, S)
dy = rng.standard_normal(yt.shape).astype(np.float32)
yt.backward(torch.from_numpy(dy))
ref = xt.grad.numpy()
feed = {'x': x, 'y': yt.detach().numpy(), 'dy': dy}
for n, s in forms.items():
    o = s.run(None, feed)[0]
    print(f'{n}: max |dx - torch| = {float(np.abs(o - ref).max()):.3g}')
times = {n: [] for n in forms}
for _ in range(reps):
    for n, s in forms.items():
        t0 = time.perf_counter()
        s.run(None, feed)
        times[n].append((time.perf_counter() - t0) * 1e3)
print(f'{threads} thread(s), x [1,{C},{HW},{HW}]: ' + '; '.join(f'{n} median {np.median(t):.2f} min {min(t):.2f} ms' for n, t in times.items()))
