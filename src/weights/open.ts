/** Open a weight file or folder by format, and guess a format from what is on disk (src/weights/formats). */
export { acceptedFormats, detectWeightFormat, formatInfo, FORMATS, openWeights } from './formats/index.ts';
