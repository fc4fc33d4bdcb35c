// The arbitrary kind's painting: the predictor's input cropped as src/runtime/arbitrary/style-image.ts crops
// it (scaled so the shorter side is `size`, then the centre size×size), and the strength mix of
// src/runtime/arbitrary/vector.ts (Ghiasi et al., BMVC 2017, fig. 9). The browser scales with its own
// filter, not sharp's, so a painting that is not already size×size gives a slightly different vector.

/** Shorter side `size`, aspect kept (the longer side rounded, at least `size`): style-image.ts coverSize. */
export function coverSize(width, height, size) {
  const k = size / Math.min(width, height);
  return { width: Math.max(size, Math.round(width * k)), height: Math.max(size, Math.round(height * k)) };
}

/**
 * The centre crop of a drawable (image bitmap, canvas, video) as a planar [1, 3, size, size] float32 tensor,
 * RGB 0..255. `show`, when given, is a canvas that gets the crop drawn for the user.
 */
export function centreCrop(source, width, height, size, show) {
  const cover = coverSize(width, height, size);
  const canvas = document.createElement('canvas');
  canvas.width = cover.width;
  canvas.height = cover.height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, 0, 0, cover.width, cover.height);
  const left = Math.floor((cover.width - size) / 2);
  const top = Math.floor((cover.height - size) / 2);
  const rgba = ctx.getImageData(left, top, size, size);
  if (show) {
    show.width = size;
    show.height = size;
    show.getContext('2d').putImageData(rgba, 0, 0);
  }
  const plane = size * size;
  const data = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    data[p] = rgba.data[4 * p];
    data[plane + p] = rgba.data[4 * p + 1];
    data[2 * plane + p] = rgba.data[4 * p + 2];
  }
  return { shape: [1, 3, size, size], data };
}

/** s · style + (1 − s) · content (vector.ts withStrength): s = 1 is the painting's style, 0 the photo's own. */
export function mixVectors(style, content, s) {
  const data = new Float32Array(style.data.length);
  for (let k = 0; k < data.length; k++) data[k] = s * style.data[k] + (1 - s) * content.data[k];
  return { shape: style.shape, data };
}
