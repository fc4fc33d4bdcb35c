/** Chromium's SwiftShader Vulkan driver as the WebGPU adapter of tests on machines without a GPU. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll } from 'vitest';

/** The SwiftShader ICD file of Debian's chromium-common, or undefined when it is not installed. */
export function SWIFTSHADER_ICD(): string | undefined {
  const known = '/usr/lib/chromium/vk_swiftshader_icd.json';
  if (existsSync(known)) return known;
  try {
    return execFileSync('dpkg', ['-L', 'chromium-common'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .find((l) => l.endsWith('vk_swiftshader_icd.json'));
  } catch {
    return undefined;
  }
}

/**
 * Point the Vulkan loader at SwiftShader alone before the first WebGPU instance of this test file's process
 * (the loader reads the variables when the instance is created); XDG_RUNTIME_DIR silences Dawn's complaint
 * when it is unset.
 */
export function useSwiftShader(icd: string): void {
  beforeAll(() => {
    process.env.VK_ICD_FILENAMES = icd;
    process.env.XDG_RUNTIME_DIR ??= '/tmp';
  });
}
