/**
 * The stc tfjs runtime: every IR primitive as a function of tfjs tensors.
 *
 * This file is plain JavaScript on purpose. The in-process interpreter imports it,
 * and the code generator copies its text verbatim into every generated tfjs
 * program, so the two paths run exactly the same lowering. It must stay
 * self-contained: no imports, no references to anything but its `tf` argument.
 *
 * Layout: 4-D activations are NHWC inside the runtime (tfjs's native conv
 * layout); graph inputs and outputs are NCHW (the IR's layout). The plan
 * (plan.ts) inserts `toNhwc` / `toNchw` where a value changes layout.
 * Every op takes its tensors positionally, then one attribute object.
 * Pads are [top, left, bottom, right] (ONNX order) unless stated otherwise.
 */
export function createOps(tf, options = {}) {
  // tf.fused.conv2d's gradient (a customGrad) computes the filter and bias gradients eagerly, even for
  // constant filters; the wasm backend has no Conv2DBackpropFilter, so under autodiff (grad.ts) a fused
  // conv sends the whole computation to the cpu backend. options.fusedConv = false uses conv2d + add, whose
  // gradients tfjs computes only for the inputs that need one.
  const fusedConv = options.fusedConv !== false;
  /** Output size of a pooling window along one axis; ceil mode drops a last window that starts in the end padding. */
  function windowOut(x, k, s, lo, hi, ceil) {
    if (!ceil) return Math.floor((x + lo + hi - k) / s) + 1;
    let out = Math.floor((x + lo + hi - k + s - 1) / s) + 1;
    if ((out - 1) * s >= x + lo) out -= 1;
    return out;
  }

  /** TensorFlow SAME padding [lo, hi] for one axis (the extra pixel goes at the end). */
  function samePads(x, k, s, d) {
    const out = Math.ceil(x / s);
    const total = Math.max((out - 1) * s + d * (k - 1) + 1 - x, 0);
    const lo = Math.floor(total / 2);
    return [lo, total - lo];
  }

  function sliceAxis(x, axis, start, end) {
    const begin = x.shape.map(() => 0);
    const size = x.shape.map(() => -1);
    begin[axis] = start;
    size[axis] = end - start;
    return tf.slice(x, begin, size);
  }

  /** Pad one axis by reflection (without repeating the edge) or by repeating the edge. */
  function padAxis(x, axis, lo, hi, mode) {
    if (lo === 0 && hi === 0) return x;
    const n = x.shape[axis];
    const reps = (k) => x.shape.map((_, i) => (i === axis ? k : 1));
    const parts = [];
    if (lo > 0) parts.push(mode === 'reflect' ? tf.reverse(sliceAxis(x, axis, 1, lo + 1), axis) : tf.tile(sliceAxis(x, axis, 0, 1), reps(lo)));
    parts.push(x);
    if (hi > 0) parts.push(mode === 'reflect' ? tf.reverse(sliceAxis(x, axis, n - 1 - hi, n - 1), axis) : tf.tile(sliceAxis(x, axis, n - 1, n), reps(hi)));
    return tf.concat(parts, axis);
  }

  /** tfjs explicit NHWC padding from [top, left, bottom, right]. */
  function nhwcPads(p) {
    return [[0, 0], [p[0], p[2]], [p[1], p[3]], [0, 0]];
  }

  /**
   * Prepare x (NHWC) for a VALID pool that yields exactly the requested window grid:
   * pad the start with `lo`, then pad or crop the end so the last window ends at the edge.
   */
  function poolInput(x, a, fill) {
    const [H, W] = [x.shape[1], x.shape[2]];
    const [kh, kw] = a.kernel;
    const [sh, sw] = a.strides;
    const [t, l, b, r] = a.pads;
    const oh = windowOut(H, kh, sh, t, b, a.ceilMode);
    const ow = windowOut(W, kw, sw, l, r, a.ceilMode);
    const needH = (oh - 1) * sh + kh - t;
    const needW = (ow - 1) * sw + kw - l;
    let y = x;
    if (needH < H || needW < W) y = tf.slice(y, [0, 0, 0, 0], [-1, Math.min(H, needH), Math.min(W, needW), -1]);
    const padH = Math.max(needH - H, 0);
    const padW = Math.max(needW - W, 0);
    if (t || l || padH || padW) y = tf.pad(y, [[0, 0], [t, padH], [l, padW], [0, 0]], fill);
    return { y, oh, ow, keepH: Math.min(H, needH), keepW: Math.min(W, needW) };
  }

  /**
   * Divisor correction for average pooling along one axis: the count of window cells
   * inside [lo, hi), for each output position. With count_include_pad the range is the
   * padded input [-pad_lo, H + pad_hi) (PyTorch/ONNX convention: the ceil-mode overhang
   * past the padding never counts); without it, the input itself [0, H).
   */
  function windowCounts(n, out, k, s, padLo, padHi, includePad) {
    const lo = includePad ? -padLo : 0;
    const hi = includePad ? n + padHi : n;
    const counts = [];
    for (let i = 0; i < out; i++) {
      const start = i * s - padLo;
      counts.push(Math.min(start + k, hi) - Math.max(start, lo));
    }
    return counts;
  }

  /**
   * Place `t` ([N, oh, ow, C], one value per window) at rows u + i*sh, cols v + j*sw of a zero
   * [N, Hp, Wp, C] tensor: interleave zeros (rank-4 reshapes and pads only), then shift.
   */
  function scatterStrided(t, u, v, sh, sw, Hp, Wp) {
    const [N, oh, ow, C] = t.shape;
    let y = tf.pad(tf.reshape(t, [N * oh, ow, 1, C]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]);
    y = tf.pad(tf.reshape(y, [N, oh, 1, ow * sw * C]), [[0, 0], [0, 0], [0, sh - 1], [0, 0]]);
    y = tf.reshape(y, [N, oh * sh, ow * sw, C]);
    const rows = Math.min(oh * sh, Hp - u);
    const cols = Math.min(ow * sw, Wp - v);
    if (rows < oh * sh || cols < ow * sw) y = tf.slice(y, [0, 0, 0, 0], [N, rows, cols, C]);
    return tf.pad(y, [[0, 0], [u, Hp - u - rows], [v, Wp - v - cols], [0, 0]]);
  }

  /**
   * Max-pool VJP: each window's dy goes to its maximum (the first in row-major order on ties),
   * summed where windows overlap. Built from elementwise ops, not tfjs's MaxPoolGrad kernel
   * (the wasm one returns wrong values on larger inputs, e.g. 37x53).
   */
  function maxPoolVjp(x, dy, a) {
    const { y: xp, keepH, keepW } = poolInput(x, a, -Infinity);
    const [N, Hp, Wp, C] = xp.shape;
    const [, oh, ow] = dy.shape;
    const [kh, kw] = a.kernel;
    const [sh, sw] = a.strides;
    const ymax = tf.maxPool(xp, a.kernel, a.strides, 'valid');
    let claimed = null;
    let dxp = null;
    for (let u = 0; u < kh; u++)
      for (let v = 0; v < kw; v++) {
        const xs = tf.stridedSlice(xp, [0, u, v, 0], [N, u + (oh - 1) * sh + 1, v + (ow - 1) * sw + 1, C], [1, sh, sw, 1]);
        let hit = tf.equal(xs, ymax);
        if (claimed) hit = tf.logicalAnd(hit, tf.logicalNot(claimed));
        claimed = claimed ? tf.logicalOr(claimed, hit) : hit;
        const part = scatterStrided(tf.mul(dy, tf.cast(hit, 'float32')), u, v, sh, sw, Hp, Wp);
        dxp = dxp ? tf.add(dxp, part) : part;
      }
    // Undo poolInput: drop the padding, restore any rows/columns no window reached.
    const [t, l] = [a.pads[0], a.pads[1]];
    const [H, W] = [x.shape[1], x.shape[2]];
    let dx = tf.slice(dxp, [0, t, l, 0], [N, keepH, keepW, C]);
    if (keepH < H || keepW < W) dx = tf.pad(dx, [[0, 0], [0, H - keepH], [0, W - keepW], [0, 0]]);
    return dx;
  }

  function maxPool(x, a) {
    const f = tf.customGrad((xin, save) => {
      save([xin]);
      const { y } = poolInput(xin, a, -Infinity);
      return { value: tf.maxPool(y, a.kernel, a.strides, 'valid'), gradFunc: (dy, saved) => maxPoolVjp(saved[0], dy, a) };
    });
    return f(x);
  }

  function avgPool(x, a) {
    const { y, oh, ow } = poolInput(x, a, 0);
    const pooled = tf.avgPool(y, a.kernel, a.strides, 'valid');
    const [kh, kw] = a.kernel;
    const rows = windowCounts(x.shape[1], oh, kh, a.strides[0], a.pads[0], a.pads[2], a.countIncludePad);
    const cols = windowCounts(x.shape[2], ow, kw, a.strides[1], a.pads[1], a.pads[3], a.countIncludePad);
    if (rows.every((c) => c === kh) && cols.every((c) => c === kw)) return pooled;
    // tf.avgPool divided every window by kh*kw; rescale to the true divisor.
    const rowScale = tf.tensor(rows.map((c) => kh / c), [1, oh, 1, 1]);
    const colScale = tf.tensor(cols.map((c) => kw / c), [1, 1, ow, 1]);
    return tf.mul(tf.mul(pooled, rowScale), colScale);
  }

  function pad(x, a) {
    const [t, l, b, r] = a.pads;
    if (a.mode === 'constant') return tf.pad(x, nhwcPads(a.pads), a.value);
    // reflect and edge are built from slices, so tfjs's autodiff folds the borders back correctly
    // (tf.mirrorPad's registered gradient only slices the centre out, which is wrong for reflect).
    return padAxis(padAxis(x, 1, t, b, a.mode), 2, l, r, a.mode);
  }

  function conv2d(x, f, bias, a) {
    const [sh, sw] = a.strides;
    const [dh, dw] = a.dilations;
    let pads = a.pads;
    if ((sh > 1 || sw > 1) && (dh > 1 || dw > 1)) {
      // tfjs cannot combine strides and dilations: run at stride 1 and subsample.
      if (pads === 'same') {
        const [kh, kw] = [f.shape[0], f.shape[1]];
        const [t, b] = samePads(x.shape[1], kh, sh, dh);
        const [l, r] = samePads(x.shape[2], kw, sw, dw);
        pads = [t, l, b, r];
      }
      const full = conv2d(x, f, bias, { ...a, strides: [1, 1], pads });
      return tf.stridedSlice(full, [0, 0, 0, 0], full.shape, [1, sh, sw, 1]);
    }
    const pad = pads === 'same' ? 'same' : nhwcPads(pads);
    let y;
    if (a.depthwise) y = tf.depthwiseConv2d(x, f, a.strides, pad, 'NHWC', a.dilations);
    else if (a.group === 1) {
      if (bias && fusedConv) return tf.fused.conv2d({ x, filter: f, bias, strides: a.strides, pad, dataFormat: 'NHWC', dilations: a.dilations });
      y = tf.conv2d(x, f, a.strides, pad, 'NHWC', a.dilations);
    } else {
      const xs = tf.split(x, a.group, 3);
      const fs = tf.split(f, a.group, 3);
      y = tf.concat(xs.map((xi, i) => tf.conv2d(xi, fs[i], a.strides, pad, 'NHWC', a.dilations)), 3);
    }
    return bias ? tf.add(y, bias) : y;
  }

  /** x NHWC, f [kh, kw, out/g, in] (already dilated), bias [out] or null. */
  function convTranspose2d(x, f, bias, a) {
    const [N, H, W] = x.shape;
    const [kh, kw] = [f.shape[0], f.shape[1]];
    const [sh, sw] = a.strides;
    const outC = f.shape[2] * a.group;
    let oh, ow, pad;
    if (a.pads === 'same') {
      [oh, ow, pad] = [H * sh, W * sw, 'same'];
    } else {
      const [t, l, b, r] = a.pads;
      const [oph, opw] = a.outputPadding;
      oh = (H - 1) * sh + kh + oph - t - b;
      ow = (W - 1) * sw + kw + opw - l - r;
      // tfjs reads only the start pads; the end pads just have to make the matching forward conv
      // map [oh, ow] back onto [H, W], which b - op + s - 1 (>= 0, as op < s) always does.
      pad = [[0, 0], [t, b - oph + sh - 1], [l, r - opw + sw - 1], [0, 0]];
    }
    let y;
    if (a.group === 1) y = tf.conv2dTranspose(x, f, [N, oh, ow, outC], a.strides, pad);
    else {
      const xs = tf.split(x, a.group, 3);
      const fs = tf.split(f, a.group, 3);
      y = tf.concat(xs.map((xi, i) => tf.conv2dTranspose(xi, fs[i], [N, oh, ow, outC / a.group], a.strides, pad)), 3);
    }
    return bias ? tf.add(y, bias) : y;
  }

  /** Instance norm over H and W per sample and channel, biased variance (divide by H·W), as ONNX and PyTorch. */
  function instanceNorm(x, scale, bias, a) {
    const { mean, variance } = tf.moments(x, [1, 2], true);
    let k = tf.rsqrt(tf.add(variance, a.epsilon));
    if (scale) k = tf.mul(k, scale);
    const y = tf.mul(tf.sub(x, mean), k);
    return bias ? tf.add(y, bias) : y;
  }

  function upsampleNearest(x, a) {
    // With alignCorners and halfPixelCenters off, output pixel i reads floor(i * H / (H * s)) = floor(i / s):
    // exact replication for integer scales (checked by the tests on odd sizes). The gradient is the
    // block sum below: tfjs's registered ResizeNearestNeighborGrad gives wrong values here.
    const f = tf.customGrad((xin) => {
      const [, H, W] = xin.shape;
      const value = tf.image.resizeNearestNeighbor(xin, [H * a.scale[0], W * a.scale[1]], false, false);
      return { value, gradFunc: (dy) => upsampleNearestGrad(dy, a) };
    });
    return f(x);
  }

  /**
   * Depth-to-space in DCR order on NHWC: channel (i * b + j) * C + c of pixel (h, w) goes to pixel
   * (b * h + i, b * w + j), channel c. Reshapes and a transpose (differentiable by tfjs as they are).
   */
  function depthToSpace(x, a) {
    const [N, H, W, CBB] = x.shape;
    const b = a.block;
    const C = CBB / (b * b);
    const moved = tf.transpose(tf.reshape(x, [N, H, W, b, b, C]), [0, 1, 3, 2, 4, 5]);
    return tf.reshape(moved, [N, H * b, W * b, C]);
  }

  /** Sum each sh x sw block of dy (NHWC); a partial last block (ceil) is zero-filled first. */
  function upsampleNearestGrad(dy, a) {
    const [N, H, W, C] = dy.shape;
    const [sh, sw] = a.scale;
    const oh = Math.ceil(H / sh);
    const ow = Math.ceil(W / sw);
    let y = dy;
    if (oh * sh !== H || ow * sw !== W) y = tf.pad(y, [[0, 0], [0, oh * sh - H], [0, ow * sw - W], [0, 0]]);
    return tf.sum(tf.reshape(y, [N, oh, sh, ow, sw, C]), [2, 4]);
  }

  /** Gradient-only ops are the vector-Jacobian products of the forward ops above, taken by tfjs. */
  function vjp(forward, x, dy) {
    return tf.grad(forward)(x, dy);
  }

  return {
    // layout and weight preparation
    toNhwc: (x) => tf.transpose(x, [0, 2, 3, 1]),
    toNchw: (x) => tf.transpose(x, [0, 3, 1, 2]),
    /** An IR-layout operand that broadcasts against an NCHW tensor, re-laid to broadcast against its NHWC form. */
    broadcastNhwc(x) {
      if (x.rank === 0) return x;
      const shape = [1, 1, 1, 1].slice(0, 4 - x.rank).concat(x.shape);
      return tf.transpose(tf.reshape(x, shape), [0, 2, 3, 1]);
    },
    /** Conv weight OIHW -> HWIO; for depthwise convs (group = in channels, one input channel each) [kh, kw, C, O/C]. */
    convFilter(w, a) {
      const hwio = tf.transpose(w, [2, 3, 1, 0]);
      if (!a.depthwise) return hwio;
      const [kh, kw, , O] = hwio.shape;
      return tf.reshape(hwio, [kh, kw, a.group, O / a.group]);
    },
    /** Transposed conv weight IOHW -> [kh, kw, O/g, I], with dilation holes filled in. */
    convTransposeFilter(w, a) {
      let f = tf.transpose(w, [2, 3, 1, 0]);
      const [dh, dw] = a.dilations;
      if (dh === 1 && dw === 1) return f;
      const [kh, kw, o, i] = f.shape;
      f = tf.pad(tf.reshape(f, [kh, 1, kw, 1, o, i]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
      f = tf.reshape(f, [kh * dh, kw * dw, o, i]);
      return tf.slice(f, [0, 0, 0, 0], [dh * (kh - 1) + 1, dw * (kw - 1) + 1, o, i]);
    },
    // convolution, padding, normalisation
    conv2d,
    convTranspose2d,
    pad,
    batchNorm: (x, scale, bias, mean, variance, a) => tf.batchNorm(x, mean, variance, bias, scale, a.epsilon),
    instanceNorm,
    // elementwise
    relu: (x) => tf.relu(x),
    tanh: (x) => tf.tanh(x),
    sigmoid: (x) => tf.sigmoid(x),
    sqrt: (x) => tf.sqrt(x),
    neg: (x) => tf.neg(x),
    clip: (x, a) => tf.clipByValue(x, a.min, a.max),
    scale: (x, a) => tf.mul(x, a.value),
    shift: (x, a) => tf.add(x, a.value),
    add: (x, y) => tf.add(x, y),
    sub: (x, y) => tf.sub(x, y),
    mul: (x, y) => tf.mul(x, y),
    div: (x, y) => tf.div(x, y),
    // pooling and resampling
    maxPool,
    avgPool,
    globalAvgPool: (x) => tf.mean(x, [1, 2], true),
    upsampleNearest,
    depthToSpace,
    // structure
    concat(...args) {
      const a = args.pop();
      return tf.concat(args, a.axis);
    },
    slice: (x, a) => sliceAxis(x, a.axis < 0 ? a.axis + x.rank : a.axis, a.start, a.end),
    reshape: (x, a) => tf.reshape(x, a.shape),
    transpose: (x, a) => tf.transpose(x, a.perm),
    matmul: (x, y, a) => tf.matMul(x, y, a.transA, a.transB),
    reduceSum: (x, a) => tf.sum(x, a.axes, a.keepDims),
    reduceMean: (x, a) => tf.mean(x, a.axes, a.keepDims),
    expand: (x, a) => tf.broadcastTo(x, a.shape),
    // gradient-only primitives
    reluGrad: (y, dy) => tf.mul(dy, tf.step(y)),
    maxPoolGrad: (x, dy, a) => maxPoolVjp(x, dy, a),
    avgPoolGrad: (x, dy, a) => vjp((t) => avgPool(t, a), x, dy),
    padGrad(dy, a) {
      const [t, l, b, r] = a.pads;
      const [N, H, W, C] = dy.shape;
      return vjp((x) => pad(x, a), tf.zeros([N, H - t - b, W - l - r, C]), dy);
    },
    upsampleNearestGrad,
  };
}
