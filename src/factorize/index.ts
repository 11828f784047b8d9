/**
 * Factorizations of X (d×m, columns = samples) ≈ W (d×r) · H (r×m): NMF (HALS, the paper's
 * projected gradient), sparse PCA, their estimators and the factor-update kernels they share;
 * CP for 3-way tensors (cp/) with its estimator `CP`.
 */
export type { ProgressCallback } from './types.js';
export {
  nmf, nmfTransform, resolveNmfOptions, DEFAULT_NMF_OPTIONS, NMF_CONSTRAINTS,
  type NmfOptions, type NmfResult, type NmfSolver, type NmfStart, type NmfTransformOptions,
} from './nmf.js';
export { initializeNmf, randomInit, nndsvdInit, NMF_INITS, type NmfInit } from './init.js';
export {
  sparsePca, sparsePcaPath, sparsePcaTransform, resolveSparsePcaOptions, DEFAULT_SPARSE_PCA_OPTIONS,
  SPARSE_PCA_CONSTRAINTS, type SparsePcaOptions, type SparsePcaResult,
} from './sparsePca.js';
export {
  NMF, SparsePCA, factorize, matrixToJson, matrixFromJson,
  type Factorizer, type NmfState, type SparsePcaState, type MatrixJson, type FactorizeOptions, type FactorizeResult,
} from './estimator.js';
export { cdSweep, cdSolve, halsUpdate, pgdStep, gemmNT4 } from './kernels.js';
export { halsLoop, type HalsSettings } from './hals.js';
export { pgdLoop, PGD_BETA, PGD_MAX_TRIALS, type PgdSettings } from './pgd.js';
export {
  resolveOptions, checkMatrix, checkRank, describeConstraint, satisfies, type Constraint, type ConstraintTable,
} from './validate.js';
export {
  CP, cp, resolveCpOptions, CP_METHODS, DEFAULT_CP_OPTIONS,
  type CpComponents, type CpState, type CpMethod, type CpOptions, type CpResult,
} from './cp/index.js';
export { OnlineNMF, resolveOnlineNmfOptions, DEFAULT_ONLINE_NMF_OPTIONS, ONLINE_NMF_CONSTRAINTS, ONLINE_NMF_MAX_BATCH, ONLINE_NMF_FIT_BATCH, ONLINE_NMF_UPDATE_FRAMES, type OnlineNmfOptions, type OnlineNmfState, type OnlineNmfRuntime } from './online/nmf.js';
export { OnlineCP, resolveOnlineCpOptions, DEFAULT_ONLINE_CP_OPTIONS, ONLINE_CP_CONSTRAINTS, type OnlineCpOptions, type OnlineCpState, type OnlineCpComponents } from './online/cp.js';
