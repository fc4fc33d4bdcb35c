/** A two-conv loss network with seeded weights and one content + Gram objective `o`, for Gatys runs at 16-24 px. */
export const toySpec = (extraTerms = ''): string => `
network toy {
  input x: image[N, 3, H, W]
  conv1 = conv(4, 3, pad: 1); relu1 = relu()
  conv2 = conv(6, 3, pad: 1); relu2 = relu()
  weights random(seed: 1)
}
objective o on toy {
  content(weight: 1, norm: half_sum) { relu2 }
  style(weight: 1000, norm: gatys) { relu1: 0.5, relu2: 0.5 }
${extraTerms}}
`;
