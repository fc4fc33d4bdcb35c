import { describe, expect, it } from 'vitest';
import { AUTO_MIN_IMAGES, AUTO_MIN_PIXELS, isLargeImage, winogradFor } from '../../../src/runtime/apply/winograd-choice.ts';

describe('winogradFor (the --winograd auto rule)', () => {
  it('auto: on from AUTO_MIN_IMAGES large images, off below', () => {
    expect(winogradFor('auto', { largeImages: AUTO_MIN_IMAGES })).toBe(true);
    expect(winogradFor('auto', { largeImages: AUTO_MIN_IMAGES - 1 })).toBe(false);
    expect(winogradFor('auto', { largeImages: 1 })).toBe(false); // one image: stc run, apply on a file
  });

  it('auto: on for a video of 256² or more, off for a smaller one', () => {
    expect(winogradFor('auto', { largeImages: 0, video: { width: 256, height: 256 } })).toBe(true);
    expect(winogradFor('auto', { largeImages: 0, video: { width: 320, height: 180 } })).toBe(false);
  });

  it('auto: off for an exported model (stc apply), whatever the job; on still turns it on', () => {
    expect(winogradFor('auto', { largeImages: 100, video: { width: 1920, height: 1080 }, exportedModel: true })).toBe(false);
    expect(winogradFor('on', { largeImages: 0, exportedModel: true })).toBe(true);
  });

  it('on and off are what they say', () => {
    expect(winogradFor('on', { largeImages: 0 })).toBe(true);
    expect(winogradFor('off', { largeImages: 100, video: { width: 1920, height: 1080 } })).toBe(false);
  });

  it('an image counts from 256² pixels', () => {
    expect(AUTO_MIN_PIXELS).toBe(256 * 256);
    expect(isLargeImage(512, 128)).toBe(true);
    expect(isLargeImage(255, 256)).toBe(false);
  });
});
