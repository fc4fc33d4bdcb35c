/**
 * An RGB image as planar float32 (CHW), values in 0..255.
 * This is the exchange type between image I/O, the runtime and the tensor world.
 */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** Length 3 * height * width: the R plane, then G, then B. */
  readonly data: Float32Array;
}

export function createImage(width: number, height: number): RgbImage {
  return { width, height, data: new Float32Array(3 * width * height) };
}
