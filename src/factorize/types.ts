/** Types shared by the factorization modules. */

/**
 * Called after every iteration with the 1-based iteration number and the current relative error
 * ‖X − W H‖_F / ‖X‖_F. Returning `true` stops the fit after this iteration (the result then holds
 * the factors of this iteration). The streaming layer turns this into a metrics Observable.
 */
export type ProgressCallback = (iteration: number, error: number) => boolean | void;
