/** The linear-algebra surface: dense matrices, kernels, the sparse binary type and the PRNG. */
export * from './matrix.js';
export * from './kernels.js';
export * from './sparseBinary.js';
export * from './random.js';
export * from './small.js';
export * from './stats.js';
