/**
 * Fast sparse recovery: a lasso path by coordinate descent with a certified basis-pursuit exit.
 *
 *   objective   F_λ(x) = ½||P x − y||² + λ||x||₁          (signed)
 *               F_λ(x) = ½||P x − y||² + λ·1ᵀx,  x ≥ 0     (nonneg)
 *   update      x_j ← S_λ(P_jᵀr + c_j x_j) / c_j,  r ← r − Δx_j·P_j  (cd.ts). For a
 *               sparse-binary P one update touches the p rows of column j: a sweep is O(n·p).
 *   path        λ_t = λ_max·ρᵗ from λ_max = max_j |P_jᵀy| (the smallest λ with x = 0), each
 *               solve warm-started from the previous one, with working sets and a KKT check
 *               (Friedman, Hastie & Tibshirani 2010; Tibshirani et al. 2012).
 *   BP exit     (default, noise = 0) once the support S has nearly stopped growing, polish:
 *               least squares on S. If P x̂ = y (to fitTolerance) and x̂ agrees in sign with
 *               x_λ, then z = r_λ/λ is a dual certificate and x̂ IS the basis-pursuit solution the
 *               LP computes (else Fuchs' test on supp x̂ may still certify it; support.ts). In the
 *               exactly sparse case (expander P: Berinde, Gilbert, Indyk, Karloff & Strauss 2008)
 *               this happens after a few halvings of λ; the answer is then exact to rounding.
 *   noise exit  (noise = η > 0) discrepancy principle (Morozov 1966) on the debiased estimate:
 *               stop at the largest λ whose least-squares refit on supp x_λ has residual
 *               ≤ η||y|| (bisection in log λ once bracketed), and return that refit (Belloni &
 *               Chernozhukov 2013). With `debias: false`, the lasso's own residual is matched and
 *               x_λ returned.
 *   warm start  x0 is first polished on its own support and certified by Fuchs' test (zero
 *               sweeps if it is right); otherwise the path starts at the KKT level of x0.
 *   cone case   (noise = 0, P ≥ 0 with constant column sums, y ≥ 0; also nonneg) any x ≥ 0 with
 *               P x = y is optimal: before the path, look for one directly (dense.ts).
 *   non-sparse  (signed BP, support above d/2: noisy y, or a signal that is not sparse) the BP
 *               solution has up to d non-zeros, P_S nears a square, ill-conditioned matrix and
 *               neither CD to 1e-7·λ_max nor the O(|S|³) polish is affordable. CD then stops at a
 *               tolerance relative to λ, with Anderson acceleration (cd.ts), and once the lasso's
 *               estimate ||x||₁ + ||r||²/λ of the BP value has settled, a feasible refit
 *               (P x̂ = y to fitTolerance, dense.ts) is returned when its ℓ1 norm is within
 *               l1Tolerance of that estimate: 'refit-converged', not certified (measured ℓ1 within
 *               4e-5 to 8e-5 of the LP's on noisy FR and gene columns).
 *
 * Nonneg with a sparse-binary P: every column sums to p, so 1ᵀx = 1ᵀ(P x)/p and
 * F_λ(x) = ½||P x − (y − λ/p·1)||² + const: the ℓ1 penalty is only a uniform shift of y. The
 * nonneg basis pursuit min 1ᵀx s.t. Px = y, x ≥ 0 has the constant objective 1ᵀy/p on its
 * feasible set: it is a feasibility problem and ANY x ≥ 0 with Px = y is an LP optimum
 * (certificate z = 1/p). Hence (1) a nonneg exact fit needs no dual check, (2) λ is only a
 * homotopy device in the noiseless case, while with noise the shift still sparsifies (rows pushed
 * below zero force their columns to zero), and (3) a zero measurement y_i = 0 forces x_j = 0 for
 * every column touching row i: `screening` drops those columns first, and when the few that are
 * left can be polished at once, that single least-squares solve is the whole recovery.
 */
import { norm2, type ColumnMatrix } from './columns.js';
import { collectSupport, FastWorkspace, maxCorrelation, screen, setResidual, solveAtLambda, type Ctx } from './cd.js';
import { feasibleRefit, nonnegFit } from './dense.js';
import { fuchsCertificate, polishOnSupport } from './support.js';

export { FastWorkspace } from './cd.js';

/** Solver knobs of the fast method (all required here; defaults live in options.ts). */
export interface FastSolverOptions {
  nonneg: boolean;
  /** Target relative residual η = ||Px − y||/||y||; 0 approximates basis pursuit. */
  noise: number;
  /** Geometric factor ρ between consecutive λ on the path, in (0, 1). */
  pathRatio: number;
  /** The path stops at λ_max·minLambdaRatio if nothing certified earlier. */
  minLambdaRatio: number;
  /** CD convergence: stop a λ when every c_j·Δx_j² ≤ (tolerance·||y||)². */
  tolerance: number;
  /** Budget of coordinate sweeps (passes over a working set) per recovery. */
  maxSweeps: number;
  /** Relative residual below which a polished x̂ counts as an exact fit. */
  fitTolerance: number;
  /** Noise mode: least squares on the final support. */
  debias: boolean;
  /** P ≥ 0, noise = 0, looking for x ≥ 0 (nonneg, or the cone case): drop columns that touch a zero measurement. */
  screening: boolean;
  /** Signed BP, support above d/2: relative ℓ1 accuracy target of the feasible refit (see refitStep, refitKkt). */
  l1Tolerance: number;
  /** Cone case with many candidates: accept the (dense) NNLS fit instead of running the path (see RecoveryOptions). */
  coneNnls?: boolean;
}

/** Why the solver stopped ('refit-converged': non-sparse regime, see the file header). */
export type FastStopReason =
  | 'certified' | 'warm-certified' | 'refit-converged' | 'discrepancy' | 'min-lambda' | 'max-sweeps' | 'zero' | 'fixed-lambda';

/** Work counters and the outcome of one fast recovery. */
export interface FastStats {
  /** Passes over a working set (strong set or active set). */
  sweeps: number;
  /** Single-coordinate updates over all sweeps. */
  coordinateUpdates: number;
  /** Column inner products outside sweeps (strong-rule and KKT screens). */
  gradientEvaluations: number;
  /** λ values solved. */
  pathSteps: number;
  /** Least-squares polishes attempted. */
  polishAttempts: number;
  /** CG iterations of feasible refits (non-sparse regime, dense.ts). */
  refitIterations: number;
  /** True if x is a certified basis-pursuit (LP) optimum. */
  certified: boolean;
  stopReason: FastStopReason;
  /** Last λ solved (0 if none). */
  lambda: number;
  /** ||P x − y|| / ||y|| of the returned x. */
  relativeResidual: number;
  /** Non-zeros of x. */
  support: number;
  /** Columns left after zero-row screening (n if none). */
  candidates: number;
}

/** Result of one fast recovery. */
export interface FastResult {
  x: Float64Array;
  stats: FastStats;
}

/** Bisection steps that place λ on the discrepancy level once the path has bracketed it. */
const DISCREPANCY_BISECTIONS = 6;

/**
 * Recovers x from y = P x (+ noise) by pathwise lasso CD with a certified basis-pursuit exit
 * (see the file header). `x0` warm-starts it; `ws` lets r calls share buffers.
 */
export function solveFast(
  A: ColumnMatrix, y: Float64Array, o: FastSolverOptions, x0?: Float64Array, ws = new FastWorkspace(A.cols, A.rows),
): FastResult {
  const n = A.cols;
  const stats: FastStats = {
    sweeps: 0, coordinateUpdates: 0, gradientEvaluations: 0, pathSteps: 0, polishAttempts: 0, refitIterations: 0,
    certified: false, stopReason: 'zero', lambda: 0, relativeResidual: 0, support: 0, candidates: n,
  };
  const yNorm = norm2(y, A.rows);
  const { x } = ws;
  x.fill(0);
  if (yNorm === 0) return { x: new Float64Array(n), stats: { ...stats, certified: true } };
  const bp = o.noise === 0;
  const c: Ctx = { A, y, o, ws, stats, nAllowed: 0, tolSq: (o.tolerance * yNorm) ** 2, yNorm, gradValid: false, cone: false, accelerate: false };
  c.nAllowed = screen(c, bp && o.nonneg && o.screening && A.nonnegative);
  stats.candidates = c.nAllowed;
  if (x0) for (let t = 0; t < c.nAllowed; t++) { const j = ws.allowed[t]!; x[j] = o.nonneg ? Math.max(0, x0[j]!) : x0[j]!; }
  setResidual(c);

  const polishMax = Math.floor(A.rows / 2);
  let warmLam = 0;
  if (x0) {
    const w = warmStart(c, bp, polishMax);
    if (w === 'certified') return done(c, 'warm-certified', true);
    warmLam = w;
  }

  // λ_max from y (x = 0); a warm start begins lower (see warmStart).
  const lamMax = maxCorrelation(c, y, false);
  if (!(lamMax > 0)) { x.fill(0); setResidual(c); return done(c, 'zero', false); }
  const lamMin = lamMax * o.minLambdaRatio;
  let lamPrev = lamMax;
  let lam = lamMax * o.pathRatio;
  let prevSize = -1, triedSize = -1;
  if (x0) {
    // Start where the refit x0 keeps its signs; if x0 explains little of y (residual above
    // half of ||y||) it is no better than 0 and the ordinary path runs from it.
    const kkt = maxCorrelation(c, ws.r, true);
    const start = norm2(ws.r, A.rows) > 0.5 * yNorm ? lamMax : warmLam > 0 ? warmLam : kkt;
    if (start < lamMax) { lamPrev = Math.max(start, lamMin); lam = lamPrev; }
    prevSize = collectSupport(c);
  }
  // Cone case (dense.ts): every exact fit x ≥ 0 is optimal, found without the path.
  if (bp && A.nonnegative && A.constantColumnSum !== null && (o.nonneg || isNonnegative(y, A.rows))) {
    if (coneFit(c, polishMax)) return done(c, 'certified', true);
  } else if (c.nAllowed < n && c.nAllowed <= polishMax && tryCandidates(c)) {
    // Screened nonneg problems are tiny: if the candidates themselves can be polished, an exact
    // nonneg fit on them is the answer (P_C x = y has at most one solution when P_C has full rank).
    return done(c, 'certified', true);
  }
  const baseTolSq = c.tolSq, kappa = refitKkt(A.rows, o.l1Tolerance);
  const refitState: RefitState = { active: false, prevEst: Infinity, bestL1: Infinity, gap: 0, gapLambda: 1 };
  for (;;) {
    solveAtLambda(c, lam, lamPrev);
    stats.pathSteps++;
    stats.lambda = lam;
    const size = collectSupport(c);
    if (!bp) {
      if (discrepancy(c) <= o.noise * yNorm) {
        matchDiscrepancy(c, lam, stats.pathSteps === 1 ? lamMax : lamPrev);
        if (o.debias) refit(c, true);
        return done(c, 'discrepancy', false);
      }
    } else if (size > 0 && size <= polishMax && worthPolishing(ws, size, prevSize, triedSize)) {
      ws.prevSupp.set(ws.supp.subarray(0, size));
      triedSize = size;
      if (tryPolish(c, size)) return done(c, 'certified', true);
    } else if (!o.nonneg && size > polishMax && refitStep(c, lam, size, refitState)) {
      return finishRefit(c, 'refit-converged');
    }
    if (stats.sweeps >= o.maxSweeps) return endPath(c, bp, lam, refitState, 'max-sweeps');
    if (lam <= lamMin) return endPath(c, bp, lam, refitState, 'min-lambda');
    prevSize = size;
    lamPrev = lam;
    lam = Math.max(lam * o.pathRatio, lamMin);
    // Path steps only warm-start the next one: in the non-sparse regime CD stops once its changes
    // are below κ·λ instead of tolerance·||y|| (see refitKkt).
    if (refitState.active) c.tolSq = Math.max(baseTolSq, (kappa * lam) ** 2);
  }
}

/** End of the path without an exit: the best feasible refit in the non-sparse regime (one more try if none yet), else finalBP. */
function endPath(c: Ctx, bp: boolean, lam: number, st: RefitState, reason: FastStopReason): FastResult {
  if (st.active && st.bestL1 === Infinity && c.gradValid) st.bestL1 = feasibleRefit(c, lam, Infinity);
  return st.active && st.bestL1 < Infinity ? finishRefit(c, reason) : finalBP(c, bp, reason);
}

/**
 * CD tolerance κ in the non-sparse regime (√c_j·|Δx_j| ≤ κ·λ); the refit's ℓ1 inherits an error
 * floor from it. Measured max ℓ1 error vs the LP (noisy planted d = 120, noisy FR d = 400 and
 * 2500) at the default l1Tolerance 2e-5: κ = 0.0075 gives ~4e-5, 3e-5, 9e-5; κ = 0.005 gives
 * 3e-5, 2.5e-5, 8e-5 (and at d = 2500 κ = 0.01: 1.1e-4), hence κ = min(0.0075, 0.25/√d), scaled
 * with l1Tolerance so that a tighter target also tightens CD. Versus tolerance·||y||: 3–4× fewer
 * coordinate updates.
 */
function refitKkt(d: number, l1Tolerance: number): number {
  return Math.min(0.0075, 0.25 / Math.sqrt(d)) * (l1Tolerance / 2e-5);
}
/** Feasible refits start once the support reaches this fraction of d (below it P_T rarely spans R^d). */
const REFIT_START = 0.75;
/** A refit is tried once the previous excess, scaled by λ, predicts ≤ REFIT_SKIP·l1Tolerance. */
const REFIT_SKIP = 2;

/** Non-sparse regime state across path steps. */
interface RefitState {
  /** The support has exceeded d/2 (loose CD tolerance, Anderson acceleration). */
  active: boolean;
  /** est of the previous step. */
  prevEst: number;
  /** ℓ1 norm of the best feasible refit so far (in ws.feasible). */
  bestL1: number;
  /** Excess ||x̂||₁ − est of the last refit, and its λ. */
  gap: number;
  gapLambda: number;
}

/**
 * One path step of the non-sparse regime (signed BP, support above d/2). est = ||x||₁ + ||r||²/λ
 * estimates the BP value: it is the dual bound yᵀr/λ when the lasso is solved exactly, and the
 * refit's ℓ1 norm equals it when the refit flips no sign and stays on supp x (dense.ts). Once est
 * has settled (changed by ≤ l1Tolerance), refit; true when the best refit is within l1Tolerance
 * of est.
 */
function refitStep(c: Ctx, lam: number, size: number, st: RefitState): boolean {
  const { A, ws, o } = c;
  st.active = true;
  c.accelerate = true;
  let xl1 = 0;
  for (let t = 0; t < c.nAllowed; t++) xl1 += Math.abs(ws.x[ws.allowed[t]!]!);
  const rn = norm2(ws.r, A.rows);
  const est = xl1 + (rn * rn) / lam;
  const settled = Math.abs(est - st.prevEst) <= o.l1Tolerance * est;
  st.prevEst = est;
  if (!settled || !c.gradValid || size < REFIT_START * A.rows) return false;
  // The refit's excess over est shrinks roughly like λ: skip refits that cannot be accepted yet
  // (measured: 2 refits instead of 5 per gene column, same answer).
  if (st.gap * (lam / st.gapLambda) > REFIT_SKIP * o.l1Tolerance * est) return false;
  const l1 = feasibleRefit(c, lam, st.bestL1);
  if (l1 < st.bestL1) st.bestL1 = l1;
  if (Number.isFinite(l1)) { st.gap = l1 - est; st.gapLambda = lam; }
  return st.bestL1 < Infinity && st.bestL1 - est <= o.l1Tolerance * st.bestL1;
}

/** x, r ← the best feasible refit (ws.feasible on the candidates). */
function finishRefit(c: Ctx, reason: FastStopReason): FastResult {
  const { ws } = c;
  for (let t = 0; t < c.nAllowed; t++) { const j = ws.allowed[t]!; ws.x[j] = ws.feasible[j]!; }
  setResidual(c);
  return done(c, reason, false);
}

function isNonnegative(v: Float64Array, len: number): boolean {
  for (let i = 0; i < len; i++) if (!(v[i]! >= 0)) return false;
  return true;
}

/**
 * Cone case: screen zero rows (any x ≥ 0 with P x = y vanishes on their columns), then polish on
 * the candidates if few, else nonnegFit. On failure x, r and the candidates are restored.
 */
function coneFit(c: Ctx, polishMax: number): boolean {
  const { ws, o, A, stats } = c;
  const n = A.cols;
  ws.best.set(ws.x);
  c.cone = true;
  if (!o.nonneg) c.nAllowed = screen(c, o.screening);
  ws.x.fill(0);
  for (let t = 0; t < c.nAllowed; t++) { const j = ws.allowed[t]!; ws.x[j] = Math.max(0, ws.best[j]!); }
  setResidual(c);
  const candidates = stats.candidates;
  stats.candidates = c.nAllowed;
  if (c.nAllowed < n && c.nAllowed <= polishMax && tryCandidates(c)) return true;
  // NNLS finds *an* optimum on BP's optimal face; the path's optimum recovered factors better
  // (FR on esGolub and the synthetic model), so this is opt-in.
  if (o.coneNnls && nonnegFit(c)) return true;
  c.cone = false;
  stats.candidates = candidates;
  if (!o.nonneg) c.nAllowed = screen(c, false);
  ws.x.set(ws.best);
  setResidual(c);
  return false;
}

/**
 * Solves the lasso at one given λ (no basis-pursuit exit, no screening): the path
 * λ_max·ρ, λ_max·ρ², … down to λ, each step warm-starting the next, then λ itself.
 */
export function solveLasso(
  A: ColumnMatrix, y: Float64Array, lambda: number, o: FastSolverOptions, ws = new FastWorkspace(A.cols, A.rows),
): FastResult {
  const stats: FastStats = {
    sweeps: 0, coordinateUpdates: 0, gradientEvaluations: 0, pathSteps: 0, polishAttempts: 0, refitIterations: 0,
    certified: false, stopReason: 'fixed-lambda', lambda, relativeResidual: 0, support: 0, candidates: A.cols,
  };
  const yNorm = norm2(y, A.rows);
  ws.x.fill(0);
  const c: Ctx = { A, y, o, ws, stats, nAllowed: 0, tolSq: (o.tolerance * yNorm) ** 2, yNorm: yNorm || 1, gradValid: false, cone: false, accelerate: false };
  c.nAllowed = screen(c, false);
  setResidual(c);
  if (yNorm === 0) return done(c, 'fixed-lambda', false);
  let lamPrev = maxCorrelation(c, y, false);
  for (let lam = lamPrev * o.pathRatio; lam > lambda; lam *= o.pathRatio) {
    solveAtLambda(c, lam, lamPrev);
    stats.pathSteps++;
    lamPrev = lam;
  }
  if (lambda < lamPrev) {
    solveAtLambda(c, lambda, lamPrev);
    stats.pathSteps++;
  }
  return done(c, 'fixed-lambda', false);
}

/**
 * Polish only once the support has (nearly) stopped growing: an exact fit needs S ⊇ supp(x_BP),
 * and while many columns still enter per step it almost surely fails (measured on the benchmark:
 * failed attempts had grown S by more than ~10% in the step), and a polish costs O(|S|³).
 * A support identical to the last one polished is not tried again.
 */
function worthPolishing(ws: FastWorkspace, size: number, prevSize: number, triedSize: number): boolean {
  if (prevSize < 0 || size - prevSize > Math.max(2, size >> 3)) return false;
  if (size !== triedSize) return true;
  for (let a = 0; a < size; a++) if (ws.supp[a] !== ws.prevSupp[a]) return true;
  return false;
}

/** Polishes on every candidate column (screened nonneg case) and certifies the result. */
function tryCandidates(c: Ctx): boolean {
  c.ws.supp.set(c.ws.allowed.subarray(0, c.nAllowed));
  return certifyByFuchs(c, c.nAllowed);
}

/** Polish on ws.supp; accept (write into x) if exact fit and sign-consistent with x_λ. */
function tryPolish(c: Ctx, m: number): boolean {
  const { A, y, ws, o, stats } = c;
  if (m > A.rows) return false;
  stats.polishAttempts++;
  const res = polishOnSupport(A, ws.supp, m, y, ws.polish);
  if (!(res <= o.fitTolerance * c.yNorm)) return false;
  const w = ws.polish.w;
  let consistent = true;
  for (let a = 0; a < m; a++) if (w[a]! * ws.x[ws.supp[a]!]! < 0 || (o.nonneg && w[a]! < 0)) consistent = false;
  if (consistent && stats.sweeps < o.maxSweeps) { writeSupport(c, m, ws.supp); return true; }
  return fuchsOnPolished(c, m);
}

/** x ← 0 except x[S[a]] = w[a]; r ← the polish residual. */
function writeSupport(c: Ctx, m: number, S: Int32Array): void {
  const { ws } = c;
  for (let t = 0; t < c.nAllowed; t++) ws.x[ws.allowed[t]!] = 0;
  for (let a = 0; a < m; a++) ws.x[S[a]!] = ws.polish.w[a]!;
  ws.r.set(ws.polish.res.subarray(0, c.A.rows));
  c.gradValid = false;
}

/**
 * Warm start from the x0 already in x: least squares on supp(x0). In BP mode an exact fit that
 * passes Fuchs' test is the answer ('certified'). Otherwise the refit replaces x0 as the starting
 * point and the returned λ is where the path begins: half the smallest c_j·|x_j| on the support,
 * below which the lasso keeps x0's support and signs. Columns x0 missed enter at that λ, and an
 * exact but Fuchs-uncertified x0 is certified by the lasso dual after that one step.
 */
function warmStart(c: Ctx, bp: boolean, polishMax: number): number | 'certified' {
  const { A, y, ws, o, stats } = c;
  const m = collectSupport(c);
  if (m === 0 || m > polishMax) return 0;
  stats.polishAttempts++;
  const res = polishOnSupport(A, ws.supp, m, y, ws.polish);
  if (!Number.isFinite(res)) return 0;
  if (bp && res <= o.fitTolerance * c.yNorm && fuchsOnPolished(c, m)) return 'certified';
  if (o.nonneg) for (let a = 0; a < m; a++) ws.polish.w[a] = Math.max(0, ws.polish.w[a]!);
  let shrink = Infinity;
  for (let a = 0; a < m; a++) {
    const v = Math.abs(ws.polish.w[a]!);
    if (v > 0) shrink = Math.min(shrink, 0.5 * A.colNormSq[ws.supp[a]!]! * v);
  }
  writeSupport(c, m, ws.supp);
  if (o.nonneg) setResidual(c);
  return Number.isFinite(shrink) ? shrink : 0;
}

/** Polish on ws.supp[0..m) and certify the result with fuchsOnPolished. */
function certifyByFuchs(c: Ctx, m: number): boolean {
  const { A, y, ws, o, stats } = c;
  stats.polishAttempts++;
  const res = polishOnSupport(A, ws.supp, m, y, ws.polish);
  if (!(res <= o.fitTolerance * c.yNorm)) return false;
  return fuchsOnPolished(c, m);
}

/**
 * The polish in ws.polish (on ws.supp[0..m), exact fit) is certified if Fuchs' test holds on its
 * non-zeros (re-polished on them if some coefficients vanished), or, for nonneg with constant
 * column sums, if it is ≥ 0. On success x and r take the polished solution.
 */
function fuchsOnPolished(c: Ctx, m: number): boolean {
  const { A, y, ws, o, stats } = c;
  const w = ws.polish.w, S = ws.fsupp;
  let k = 0;
  for (let a = 0; a < m; a++) {
    if ((o.nonneg || c.cone) && w[a]! < 0) return false;
    if (w[a] !== 0) S[k++] = ws.supp[a]!;
  }
  if (k === 0) return false;
  if ((o.nonneg || c.cone) && A.constantColumnSum !== null) {
    // Constant column sums: every feasible x ≥ 0 is optimal (z = 1/p is a dual certificate).
    writeSupport(c, m, ws.supp);
    return true;
  }
  if (k < m) {
    stats.polishAttempts++;
    const res = polishOnSupport(A, S, k, y, ws.polish);
    if (!(res <= o.fitTolerance * c.yNorm)) return false;
  }
  for (let a = 0; a < k; a++) ws.inSupp[S[a]!] = 1;
  const ok = fuchsCertificate(A, S, k, o.nonneg, ws.inSupp, ws.allowed, c.nAllowed, ws.polish);
  stats.gradientEvaluations += c.nAllowed;
  for (let a = 0; a < k; a++) ws.inSupp[S[a]!] = 0;
  if (ok) writeSupport(c, k, S);
  return ok;
}

/** End of the path without a lasso-dual certificate: a last polish + Fuchs try in BP mode. */
function finalBP(c: Ctx, bp: boolean, reason: FastStopReason): FastResult {
  if (bp) {
    const m = collectSupport(c);
    if (m > 0 && m <= c.A.rows) {
      c.ws.best.set(c.ws.x);
      if (certifyByFuchs(c, m)) return done(c, reason, true);
      c.ws.x.set(c.ws.best);
      setResidual(c);
    }
  }
  return done(c, reason, false);
}

/**
 * Noise mode: the residual the discrepancy principle looks at. With debiasing it is the residual
 * of the least-squares refit on the lasso support, not the lasso's own: shrinkage inflates the
 * latter, so matching it to η||y|| stops too early and keeps false positives (measured: error
 * 0.7–1.1·η, vs 0.3–0.9·η for the refit rule; see the tests).
 */
function discrepancy(c: Ctx): number {
  return c.o.debias ? refit(c, false) : norm2(c.ws.r, c.A.rows);
}

/**
 * Noise mode: λ_lo (just solved) meets the discrepancy target, λ_hi did not. Bisect in log λ
 * for the largest λ that still meets it; leaves that lasso solution in x.
 */
function matchDiscrepancy(c: Ctx, lamLo: number, lamHi: number): void {
  const { ws, o, stats } = c;
  const target = o.noise * c.yNorm;
  let lo = lamLo, hi = lamHi;
  ws.best.set(ws.x);
  for (let k = 0; k < DISCREPANCY_BISECTIONS && hi / lo > 1 + 1e-3; k++) {
    const mid = Math.sqrt(lo * hi);
    solveAtLambda(c, mid, hi);
    stats.pathSteps++;
    if (discrepancy(c) <= target) { lo = mid; ws.best.set(ws.x); } else hi = mid;
  }
  ws.x.set(ws.best);
  setResidual(c);
  stats.lambda = lo;
}

/**
 * Least squares on the lasso support (nonneg: drop negative coefficients and refit, a few
 * rounds). Returns the refit residual norm; with `apply`, x and r take the refit. A support
 * larger than d/2 is not refit (ill-conditioned): the lasso residual stands in for it.
 */
function refit(c: Ctx, apply: boolean): number {
  const { A, y, ws, o, stats } = c;
  let m = collectSupport(c);
  if (m === 0 || m > A.rows >> 1) return norm2(ws.r, A.rows);
  for (let round = 0; round < 8; round++) {
    stats.polishAttempts++;
    const res = polishOnSupport(A, ws.supp, m, y, ws.polish);
    if (!Number.isFinite(res)) return Infinity;
    const w = ws.polish.w;
    let keep = 0;
    if (o.nonneg) for (let a = 0; a < m; a++) if (w[a]! > 0) ws.supp[keep++] = ws.supp[a]!;
    if (!o.nonneg || keep === m) {
      if (apply) writeSupport(c, m, ws.supp);
      return res;
    }
    m = keep;
    if (m === 0) return c.yNorm;
  }
  return Infinity;
}

function done(c: Ctx, reason: FastStopReason, certified: boolean): FastResult {
  const { ws, stats, A } = c;
  stats.stopReason = reason;
  stats.certified = certified;
  stats.relativeResidual = norm2(ws.r, A.rows) / c.yNorm;
  let s = 0;
  for (let j = 0; j < A.cols; j++) if (ws.x[j] !== 0) s++;
  stats.support = s;
  return { x: ws.x.slice(), stats };
}
