/** Types for image-header.js (plain JavaScript: it ships to the browser as is). */
export interface HeaderSize {
  readonly width: number;
  readonly height: number;
  readonly format: 'PNG' | 'JPEG' | 'GIF' | 'WebP' | 'BMP';
}
export declare function imageHeaderSize(bytes: Uint8Array): HeaderSize | null;
