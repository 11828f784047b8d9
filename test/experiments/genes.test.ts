import { describe, expect, it } from 'vitest';
import { clusterAgreement, runGenes } from '../../src/experiments/genes.js';
import { fromRows, matrix } from '../../src/linalg/matrix.js';
import { Rng } from '../../src/linalg/random.js';

describe('clusterAgreement', () => {
  it('counts samples whose argmax cluster matches the cluster majority class', () => {
    // columns: 0,1 → cluster 0; 2,3,4 → cluster 1
    const H = fromRows([[5, 4, 0, 1, 0], [1, 0, 3, 2, 9]]);
    const r = clusterAgreement(H, ['A', 'A', 'B', 'A', 'B']);
    expect(r.clusters).toEqual([0, 0, 1, 1, 1]);
    expect(r.correct).toBe(4); // cluster 0: A,A (2); cluster 1: B,A,B (2 of 3)
    expect(r.total).toBe(5);
  });
});

describe('runGenes on a small planted non-negative matrix', () => {
  const n = 300, m = 30, r = 3, rng = new Rng(4);
  const W = new Float64Array(n * r), H = new Float64Array(r * m);
  for (let c = 0; c < r; c++) for (let t = 0; t < 12; t++) W[rng.int(n) * r + c] = 1 + rng.uniform();
  for (let i = 0; i < H.length; i++) H[i] = rng.uniform();
  const M = matrix(n, m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let v = 0;
    for (let c = 0; c < r; c++) v += W[i * r + c]! * H[c * m + j]!;
    M.data[i * m + j] = v;
  }

  it('reports FR and RF per compression with stage times, sd over trials and the reduction', async () => {
    const res = await runGenes(M, { rank: 3, compressions: [2, 4], p: 5, recovery: 'fast', nmfAlgorithm: 'hals', trials: 2, seed: 1, rf: true });
    expect(res.rows.map((x) => x.d)).toEqual([150, 75]);
    expect(res.full.error).toBeLessThan(0.01);
    for (const row of res.rows) {
      expect(row.fr.error.mean).toBeLessThan(0.1);
      expect(row.fr.error.sd).toBeGreaterThanOrEqual(0);
      expect(row.rf).toBeDefined();
      expect(row.reduction).toBeCloseTo((row.rf!.error.mean - row.fr.error.mean) / row.rf!.error.mean, 12);
      expect(row.fr.seconds.total).toBeGreaterThan(0);
      expect(row.rf!.seconds.recover).toBeGreaterThan(0);
    }
  });
});
