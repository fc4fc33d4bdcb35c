import { describe, expect, it } from 'vitest';
import { foldInputNormalisation, optimizeGraph } from '../../../../src/backends/onnx/optimize/index.ts';
import { maxOutputDiff, opsOf, seeded, tinyNet } from './helpers.ts';

const spec = (pre: string, conv: string) => `
main network t {
  input x: image[N, 3, H, W]
  preprocess = preprocess(${pre})
  conv1 = conv(4, 3${conv}); relu1 = relu()
  output y = relu1
}`;

const ENV = { N: 2, H: 7, W: 9 };
const feeds = (g: { inputs: readonly string[] }) => ({ [g.inputs[0]!]: seeded([2, 3, 7, 9], 5, 0, 255) });

describe('foldInputNormalisation', () => {
  it.each([
    ['Keras caffe (BGR, mean), zero padding', 'bgr: true, mean: [103.939, 116.779, 123.68]', ', pad: 1'],
    ['ImageNet (scale, mean, std), no padding', 'scale: 0.00392156862745098, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]', ''],
    ['everything, zero padding', 'scale: 0.5, bgr: true, mean: [1, 2, 3], std: [0.5, 0.25, 2]', ', pad: 1'],
    ['everything, stride 2, no padding', 'scale: 0.5, bgr: true, mean: [1, 2, 3], std: [0.5, 0.25, 2]', ', stride: 2'],
  ])('folds %s into the conv exactly', async (_name, pre, conv) => {
    const { graph, weights } = await tinyNet(spec(pre, conv), ENV);
    const folded = foldInputNormalisation(graph);
    const ops = opsOf(folded);
    for (const gone of ['slice', 'concat', 'sub', 'div', 'scale']) expect(ops).not.toContain(gone);
    // The shift stays one add on the input (see preprocess.ts: exact with padding, and avoids an ORT NCHWc bug).
    expect(ops.filter((o) => o === 'add')).toHaveLength(1);
    const { diff, scale } = maxOutputDiff(graph, folded, weights, feeds(graph));
    expect(scale).toBeGreaterThan(1);
    expect(diff).toBeLessThan(1e-4 * scale);
    // After constant folding only the input shift, the conv and the relu remain.
    const opt = optimizeGraph(graph, weights);
    expect(opsOf(opt)).toEqual(['add', 'conv2d', 'relu']);
    const after = maxOutputDiff(graph, opt, weights, feeds(graph));
    expect(after.diff).toBeLessThan(1e-4 * after.scale);
  });

  it('keeps a chain whose intermediate value is also read elsewhere', async () => {
    const { graph } = await tinyNet(
      `main network t {
        input x: image[N, 3, H, W]
        pre = preprocess(scale: 2)
        conv1 = conv(4, 3); relu1 = relu()
        other = pre -> relu()
        output y = relu1
        output z = other
      }`,
      ENV,
    );
    expect(foldInputNormalisation(graph)).toBe(graph);
  });

  it('does nothing to networks without preprocessing', async () => {
    const { graph } = await tinyNet('main network t { input x: image[N, 3, H, W]\n conv1 = conv(4, 3)\n output y = conv1 }', ENV);
    expect(foldInputNormalisation(graph)).toBe(graph);
  });
});
