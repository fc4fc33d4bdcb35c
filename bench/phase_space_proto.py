"""
Prototypes behind docs/benchmarks.md, "The last upsampling kept in phase space, and Winograd at inference": plain ONNX
graphs of parts of Johnson-IN, built with onnx.helper, checked against each other and timed interleaved in one
process by onnxruntime with stc's CPU session options (memory pattern off, sequential). Throwaway measurements kept
so the figures can be reproduced; not a test, not a runtime dependency.

  python3 bench/phase_space_proto.py tail SIDE [THREADS] [REPEATS]   # SIDE: low-resolution side of the last upsampling's input
  python3 bench/phase_space_proto.py head SIZE [THREADS] [REPEATS]   # head A against B (phase space) and C (space-to-depth conv1)
  python3 bench/phase_space_proto.py pad SIDE [THREADS]               # reflect / edge / constant Pad and Slices + Concats, 32 channels
  python3 bench/phase_space_proto.py d2s SIDE [THREADS]               # 6-D Transpose against DepthToSpace CRD / DCR, 64 channels, block 2

tail: A = today's stc tail (phase conv, 6-D interleave, instance norm, ReLU, reflect pad 4, stride-4 output-phase conv,
depth-to-space); B = optimize/phase-tail.ts (norm over the phases by reshape, stride-2 conv over the phase tensor,
border strips through the interleaved image). head: A = reflect pad 4, conv1 9x9 3->32, IN, ReLU, reflect pad 1, conv2
3x3/2 32->64; B = conv1 on the space-to-depth input (12 -> 4*32, 5x5), IN over the phases, ReLU, edge pad top/left 1,
conv2 as a 2x2 conv over the phase tensor; C = conv1 as in B, DepthToSpace (CRD) back, then as A.
"""
import sys
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto as T
from onnx import helper as H
from onnx import numpy_helper as nh


class Builder:
    def __init__(self):
        self.init, self.nodes = [], []

    def const(self, name, value, dtype=np.float32):
        self.init.append(nh.from_array(np.asarray(value, dtype), name))
        return name

    def i64(self, name, value):
        return self.const(name, value, np.int64)

    def node(self, op, ins, out, **kw):
        self.nodes.append(H.make_node(op, ins, [out], **kw))
        return out

    def model(self, ins, outs):
        g = H.make_graph(self.nodes, 'proto', [H.make_tensor_value_info(n, T.FLOAT, s) for n, s in ins],
                         [H.make_tensor_value_info(n, T.FLOAT, s) for n, s in outs], self.init)
        return H.make_model(g, opset_imports=[H.make_opsetid('', 18)], ir_version=8).SerializeToString()


def interleave(b, t, out, c, hh, ww):
    r = b.node('Reshape', [t, b.i64(out + 's1', [1, c, 2, 2, hh, ww])], out + 'r1')
    tt = b.node('Transpose', [r], out + 't', perm=[0, 1, 4, 2, 5, 3])
    return b.node('Reshape', [tt, b.i64(out + 's2', [1, c, 2 * hh, 2 * ww])], out)


def tail_model(variant, h, rng):
    ci, co, s, k = 64, 32, 4, 12
    w9 = rng.standard_normal((3, co, 9, 9)).astype(np.float32) * 0.02
    wo = np.zeros((s * s * 3, co, k, k), np.float32)  # output-phases.ts: the 9x9 kernel shifted per phase
    for p in range(s):
        for q in range(s):
            wo[(p * s + q) * 3:(p * s + q + 1) * 3, :, p:p + 9, q:q + 9] = w9
    b = Builder()
    b.const('wp', rng.standard_normal((4 * co, ci, 3, 3)) * 0.05)
    b.const('bp', rng.standard_normal(4 * co) * 0.1)
    b.const('g', 1 + 0.1 * rng.standard_normal(co))
    b.const('b', 0.1 * rng.standard_normal(co))
    b.const('wo', wo)
    b.const('bo', np.tile(rng.standard_normal(3), s * s))
    conv = lambda x, w, out, kk, st=1: b.node('Conv', [x, w, 'bo' if w != 'wp' else 'bp'], out, kernel_shape=[kk, kk], strides=[st, st])
    y = conv(b.node('Pad', ['x', b.i64('p1', [0, 0, 1, 1, 0, 0, 1, 1])], 'xp', mode='edge'), 'wp', 'y', 3)

    def hi_tail(t, out, pads):
        return conv(b.node('Pad', [t, b.i64(out + 'pp', pads)], out + 'pad', mode='reflect'), 'wo', out, k, s)

    if variant == 'A':
        r = b.node('Relu', [b.node('InstanceNormalization', [interleave(b, y, 'hi', co, h, h), 'g', 'b'], 'in', epsilon=1e-5)], 'relu')
        ph = hi_tail(r, 'ph', [0, 0, 4, 4, 0, 0, 4, 4])
    else:
        b.const('wpp', wo.reshape(48, co, k // 2, 2, k // 2, 2).transpose(0, 1, 3, 5, 2, 4).reshape(48, 4 * co, k // 2, k // 2))
        n4 = b.node('InstanceNormalization', [b.node('Reshape', [y, b.i64('s4', [1, co, 4 * h, h])], 'y4'), 'g', 'b'], 'in', epsilon=1e-5)
        r = b.node('Relu', [b.node('Reshape', [n4, b.i64('s5', [1, 4 * co, h, h])], 'in4')], 'relu')

        def strip(name, start, end, axis, hh, ww, pads):
            sl = b.node('Slice', [r, b.i64(name + 'a', [start]), b.i64(name + 'b', [end]), b.i64(name + 'c', [axis])], name + 'sl')
            return hi_tail(interleave(b, sl, name + 'hi', co, hh, ww), name, pads)

        mid = b.node('Concat', [strip('l', 0, 4, 3, h, 4, [0, 0, 0, 4, 0, 0, 0, 0]), conv(r, 'wpp', 'main', k // 2, 2),
                                strip('r', h - 4, h, 3, h, 4, [0, 0, 0, 0, 0, 0, 0, 4])], 'mid', axis=3)
        ph = b.node('Concat', [strip('t', 0, 4, 2, 4, h, [0, 0, 4, 4, 0, 0, 0, 4]), mid, strip('bo_', h - 4, h, 2, 4, h, [0, 0, 0, 4, 0, 0, 4, 4])], 'ph', axis=2)
    b.node('DepthToSpace', [ph], 'out', blocksize=s, mode='DCR')
    return b.model([('x', [1, ci, h, h])], [('out', [1, 3, 2 * h, 2 * h])]), [1, ci, h, h]


def head_model(variant, n, rng):
    w1 = rng.standard_normal((32, 3, 9, 9)).astype(np.float32) * 0.05
    w2 = rng.standard_normal((64, 32, 3, 3)).astype(np.float32) * 0.05
    b1 = rng.standard_normal(32)
    b = Builder()
    b.const('b1', b1)
    b.const('g', 1 + 0.1 * rng.standard_normal(32))
    b.const('be', 0.1 * rng.standard_normal(32))
    b.const('b2', rng.standard_normal(64))
    xp = b.node('Pad', ['x', b.i64('p4', [0, 0, 4, 4, 0, 0, 4, 4])], 'xp', mode='reflect')
    if variant == 'A':
        b.const('w1', w1)
        b.const('w2', w2)
        y = b.node('Conv', [xp, 'w1', 'b1'], 'y', kernel_shape=[9, 9])
    else:
        # Phase (a, c) of conv1's output reads padded rows 2i + a + r: space-to-depth row i + (a + r) // 2, sub-row (a + r) % 2.
        w1p = np.zeros((128, 12, 5, 5), np.float32)
        for a in range(2):
            for c in range(2):
                for r in range(9):
                    for s in range(9):
                        (R, dy), (S, dx) = divmod(a + r, 2), divmod(c + s, 2)
                        w1p[2 * a + c::4, (dy * 2 + dx) * 3:(dy * 2 + dx) * 3 + 3, R, S] += w1[:, :, r, s]
        b.const('w1p', w1p)
        b.const('b1p', np.repeat(b1, 4))
        yp = b.node('Conv', [b.node('SpaceToDepth', [xp], 'xs', blocksize=2), 'w1p', 'b1p'], 'yp', kernel_shape=[5, 5])
        if variant == 'C':
            b.const('w2', w2)
            y = b.node('DepthToSpace', [yp], 'y', blocksize=2, mode='CRD')
    if variant in ('A', 'C'):
        r = b.node('Relu', [b.node('InstanceNormalization', [y, 'g', 'be'], 'in', epsilon=1e-5)], 'r')
        rp = b.node('Pad', [r, b.i64('p1', [0, 0, 1, 1, 0, 0, 1, 1])], 'rp', mode='reflect')
        b.node('Conv', [rp, 'w2', 'b2'], 'out', kernel_shape=[3, 3], strides=[2, 2])
    else:
        # conv2 reads rows 2i - 1 + r: r = 0 -> phase 1 of row i - 1 (R = 0), r = 1 -> phase 0 of row i, r = 2 -> phase 1 of row i.
        ra = {0: (0, 1), 1: (1, 0), 2: (1, 1)}
        w2p = np.zeros((64, 128, 2, 2), np.float32)
        for r in range(3):
            for s in range(3):
                (R, a), (S, c) = ra[r], ra[s]
                w2p[:, 2 * a + c::4, R, S] += w2[:, :, r, s]
        b.const('w2p', w2p)
        i4 = b.node('InstanceNormalization', [b.node('Reshape', [yp, b.i64('s4', [1, 32, 2 * n, n // 2])], 'y4'), 'g', 'be'], 'in', epsilon=1e-5)
        r = b.node('Relu', [b.node('Reshape', [i4, b.i64('s5', [1, 128, n // 2, n // 2])], 'ib')], 'r')
        rp = b.node('Pad', [r, b.i64('p1', [0, 0, 1, 1, 0, 0, 0, 0])], 'rp', mode='edge')
        b.node('Conv', [rp, 'w2p', 'b2'], 'out', kernel_shape=[2, 2])
    return b.model([('x', [1, 3, n, n])], [('out', [1, 64, n // 2, n // 2])]), [1, 3, n, n]


def pad_model(variant, n, _rng):
    b = Builder()
    if variant != 'concat':
        b.node('Pad', ['x', b.i64('p', [0, 0, 1, 1, 0, 0, 1, 1])], 'out', mode=variant)
    else:  # reflect by 1 as one-row Slices and Concats
        sl = lambda x, out, s, e, ax: b.node('Slice', [x, b.i64(out + 'a', [s]), b.i64(out + 'b', [e]), b.i64(out + 'x', [ax])], out)
        xh = b.node('Concat', [sl('x', 't', 1, 2, 2), 'x', sl('x', 'bt', n - 2, n - 1, 2)], 'xh', axis=2)
        b.node('Concat', [sl(xh, 'l', 1, 2, 3), xh, sl(xh, 'r', n - 2, n - 1, 3)], 'out', axis=3)
    return b.model([('x', [1, 32, n, n])], [('out', [1, 32, n + 2, n + 2])]), [1, 32, n, n]


def d2s_model(variant, h, _rng):
    b = Builder()
    if variant == 'transpose':
        interleave(b, 'x', 'out', 64, h, h)
    else:
        b.node('DepthToSpace', ['x'], 'out', blocksize=2, mode=variant)
    return b.model([('x', [1, 256, h, h])], [('out', [1, 64, 2 * h, 2 * h])]), [1, 256, h, h]


KINDS = {'tail': (tail_model, ['A', 'B']), 'head': (head_model, ['A', 'B', 'C']),
         'pad': (pad_model, ['reflect', 'edge', 'constant', 'concat']), 'd2s': (d2s_model, ['transpose', 'CRD', 'DCR'])}


def main():
    kind, side = sys.argv[1], int(sys.argv[2])
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 7
    make, variants = KINDS[kind]
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    so.enable_mem_pattern = False
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    sessions, shape = {}, None
    for v in variants:
        proto, shape = make(v, side, np.random.default_rng(0))
        sessions[v] = ort.InferenceSession(proto, so, providers=['CPUExecutionProvider'])
    x = (np.random.default_rng(1).random(shape) * (255 if kind == 'head' else 1)).astype(np.float32)
    outs = {v: s.run(None, {'x': x})[0] for v, s in sessions.items()}
    ref = outs[variants[0]]
    for v in variants[1:]:
        print(f'{v}: max |{variants[0]} - {v}| = {np.abs(ref - outs[v]).max():.3g} (max |{variants[0]}| {np.abs(ref).max():.3g})')
    times = {v: [] for v in variants}
    for i in range(repeats + 1):
        for v, s in sessions.items():
            t = time.perf_counter()
            s.run(None, {'x': x})
            if i:
                times[v].append((time.perf_counter() - t) * 1e3)
    for v in variants:
        paired = np.median([b / a for a, b in zip(times[variants[0]], times[v])])
        print(f'{kind} {side} threads {threads}: {v} median {np.median(times[v]):.1f} ms, min {min(times[v]):.1f} ms, paired x {variants[0]} {paired:.3f}')


if __name__ == '__main__':
    main()
