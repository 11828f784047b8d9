/** Measurement ensembles, ProjectionSpec and the operator that applies P. */
export * from './projection.js';
export * from './operator.js';
export * from './basis.js';
