/** 3-way CP (CANDECOMP/PARAFAC) decomposition: ALS, non-negative HALS and (projected) Orth-ALS. */
export {
  cp, checkTensor3, resolveCpOptions, CP_CONSTRAINTS, CP_METHODS, DEFAULT_CP_OPTIONS,
  type CpMethod, type CpOptions, type CpResult,
} from './cp.js';
export {
  checkCpShapes, cpErrorSq, cpInnerWithTensor, cpNormSq, cpNormSqFromGrams, cpReconstruct, hadamardInto,
  innerFromMttkrp, mttkrp, mttkrpInto, tensorNormSq, type CpFactors, type CpMode,
} from './mttkrp.js';
export { CP, type CpComponents, type CpState } from './estimator.js';
