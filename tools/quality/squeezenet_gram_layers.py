"""Per-layer Johnson style loss on SqueezeNet 1.1: why equal layer weights give washed-out trainings.

For images against a style image's Gram targets, prints w_l-free E_l = beta * ||G_l(x) - A_l||_F^2 with
Johnson's G = phi phi^T / (C H W) (Johnson et al. 2016, eq. 3), beta = 5e-3, at the taps of stc's
johnson_squeezenet objective. An independent PyTorch forward (torchvision's SqueezeNet 1.1 topology) on
the .npy weights in ../shared; nothing of stc is imported.

    python3 tools/quality/squeezenet_gram_layers.py [--style wave] [--content tubingen] [extra.png ...]
"""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
SHARED = os.path.join(ROOT, '..', 'shared')
WEIGHTS = os.path.join(SHARED, 'weights', 'squeezenet1_1', 'weights')
TAPS = ['relu1', 'fire2', 'fire3', 'fire5', 'fire7']
BETA = 5e-3


def param(n, kind):
    return torch.from_numpy(np.load(os.path.join(WEIGHTS, f'squeezenet0_conv{n}_{kind}.npy')))


def conv(x, n, **kw):
    return F.conv2d(x, param(n, 'weight'), param(n, 'bias'), **kw)


def fire(x, n):
    s = F.relu(conv(x, n))
    return torch.cat([F.relu(conv(s, n + 1)), F.relu(conv(s, n + 2, padding=1))], 1)


def features(img):
    """Taps of SqueezeNet 1.1 on an RGB 0..255 image (ImageNet mean/std on [0, 1], as stdlib/squeezenet1_1.style)."""
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    x = (x - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    out = {}
    x = F.relu(conv(x, 0, stride=2)); out['relu1'] = x
    x = fire(F.max_pool2d(x, 3, 2), 1); out['fire2'] = x
    x = fire(x, 4); out['fire3'] = x
    x = fire(F.max_pool2d(x, 3, 2), 7)
    x = fire(x, 10); out['fire5'] = x
    x = fire(F.max_pool2d(x, 3, 2), 13)
    x = fire(x, 16); out['fire7'] = x
    return out


def gram(f):
    _, c, h, w = f.shape
    f = f.reshape(c, h * w)
    return f @ f.T / (c * h * w)


def load(path, size=256):
    im = Image.open(path).convert('RGB')
    k = size / max(im.size)
    return im.resize((round(im.size[0] * k), round(im.size[1] * k)), Image.BICUBIC)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--style', default='wave')
    ap.add_argument('--content', default='tubingen')
    ap.add_argument('extra', nargs='*', help='more images to score (e.g. trained outputs)')
    a = ap.parse_args()
    torch.set_num_threads(1)
    style = load(os.path.join(SHARED, 'images', 'style', f'{a.style}.jpg'))
    targets = {t: gram(f) for t, f in features(style).items() if t in TAPS}
    photo = load(os.path.join(SHARED, 'images', 'content', f'{a.content}.jpg'))
    p = np.asarray(photo).astype(np.float32)
    s = np.asarray(style).astype(np.float32)
    # The photo in the painting's colours: per-channel mean and std moved to the style's.
    recoloured = (p - p.mean((0, 1))) / p.std((0, 1)) * s.std((0, 1)) + s.mean((0, 1))
    grey = p.mean(2, keepdims=True)
    images = {
        f'{a.content}': photo,
        f'{a.content}, 60% desaturated': Image.fromarray(np.clip(0.6 * grey + 0.4 * p, 0, 255).astype(np.uint8)),
        f'{a.content} in {a.style} colours': Image.fromarray(np.clip(recoloured, 0, 255).astype(np.uint8)),
        'flat grey 128': Image.fromarray(np.full_like(p, 128).astype(np.uint8)),
    }
    for path in a.extra:
        images[os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))] = Image.open(path).convert('RGB')
    print(f"| image | {' | '.join(TAPS)} | sum |")
    print('|---|' + '---|' * (len(TAPS) + 1))
    for name, img in images.items():
        f = features(img)
        e = [BETA * float(((gram(f[t]) - targets[t]) ** 2).sum()) for t in TAPS]
        print(f"| {name} | {' | '.join(f'{v:.3g}' for v in e)} | {sum(e):.4g} |")


if __name__ == '__main__':
    main()
