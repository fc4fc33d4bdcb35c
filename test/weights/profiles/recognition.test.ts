/** Recognising a file's network and layout from tensor names and shapes alone (src/weights/profiles). */
import { describe, expect, it } from 'vitest';
import { fileShape, rankProfiles } from '../../../src/weights/profiles/index.ts';
import { SQUEEZENET1_1, VGG16, VGG19, type KnownNetwork } from '../../../src/weights/profiles/networks.ts';
import type { TensorEntry } from '../../../src/weights/tensor-file.ts';

/** torchvision's names for a VGG (conv, ReLU per conv, a pool per block). */
function torchvision(net: KnownNetwork, upTo = net.convs.length): TensorEntry[] {
  const out: TensorEntry[] = [];
  let [idx, block] = [0, '1'];
  for (const c of net.convs.slice(0, upTo)) {
    const b = c.name.slice(4, c.name.indexOf('_'));
    if (b !== block) [idx, block] = [idx + 1, b];
    out.push({ name: `features.${idx}.weight`, shape: c.shape }, { name: `features.${idx}.bias`, shape: [c.shape[0]] });
    idx += 2;
  }
  return out;
}

const keras = (net: KnownNetwork): TensorEntry[] =>
  net.convs.flatMap((c) => {
    const l = c.name.replace(/^conv(\d)_(\d)$/, 'block$1_conv$2');
    return [
      { name: `${l}/${l}/kernel:0`, shape: fileShape(c.shape, 'HWIO') },
      { name: `${l}/${l}/bias:0`, shape: [c.shape[0]] },
    ];
  });

describe('profile recognition', () => {
  it('tells VGG-16 from VGG-19 under torchvision names, which overlap', () => {
    expect(rankProfiles(torchvision(VGG16))[0]!.profile).toMatchObject({ id: 'torchvision', network: VGG16 });
    expect(rankProfiles(torchvision(VGG19))[0]!.profile).toMatchObject({ id: 'torchvision', network: VGG19 });
  });
  it('tells VGG-16 from VGG-19 under Keras names, where every VGG-16 name is also a VGG-19 name', () => {
    expect(rankProfiles(keras(VGG16))[0]!.profile).toMatchObject({ id: 'keras', network: VGG16 });
    expect(rankProfiles(keras(VGG19))[0]!.profile).toMatchObject({ id: 'keras', network: VGG19 });
  });
  it('takes a prefix of VGG-19 for a partial VGG-19, with no gaps', () => {
    const m = rankProfiles(torchvision(VGG19, 8))[0]!;
    expect(m.profile.network).toBe(VGG19);
    expect([...m.present.keys()].at(-1)).toBe('conv3_4');
    expect(m.gaps).toEqual([]);
  });
  it('flags a transposed kernel by name and shape', () => {
    const entries = torchvision(VGG19).map((e) => (e.name === 'features.0.weight' ? { ...e, shape: [3, 64, 3, 3] } : e));
    const m = rankProfiles(entries, VGG19)[0]!;
    expect(m.shapeProblems).toEqual([{ conv: 'conv1_1', tensor: 'features.0.weight', got: [3, 64, 3, 3], want: [64, 3, 3, 3], transposed: true }]);
  });
  it('recognises SqueezeNet 1.1 under torchvision names', () => {
    const fire = { fire2: 3, fire3: 4, fire4: 6, fire5: 7, fire6: 9, fire7: 10, fire8: 11, fire9: 12 } as Record<string, number>;
    const entries = SQUEEZENET1_1.convs.flatMap((c) => {
      const n = c.name === 'conv1' ? 'features.0' : c.name === 'conv10' ? 'classifier.1' : `features.${fire[c.name.split('.')[0]!]}.${c.name.split('.')[1]}`;
      return [{ name: `${n}.weight`, shape: c.shape }, { name: `${n}.bias`, shape: [c.shape[0]] }];
    });
    const m = rankProfiles(entries)[0]!;
    expect(m.profile).toMatchObject({ id: 'torchvision', network: SQUEEZENET1_1 });
    expect(m.present.size).toBe(26);
  });
  it('recognises nothing in unrelated names', () => {
    expect(rankProfiles([{ name: 'encoder.layer0.weight', shape: [8, 3, 3, 3] }])).toEqual([]);
  });
});
