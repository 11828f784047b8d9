import { describe, expect, it } from 'vitest';
import {
  sparseBinaryFromColumns, spMulMat, spMulTransMat, spMulTransVec, spMulVec, spToDense,
} from '../../src/linalg/sparseBinary.js';
import { Rng } from '../../src/linalg/random.js';

describe('SparseBinaryMatrix', () => {
  const P = sparseBinaryFromColumns(3, [[0, 2], [1], [2, 1, 0], []]);
  const D = spToDense(P);

  it('builds CSC with sorted rows and a dense copy', () => {
    expect(Array.from(P.colPtr)).toEqual([0, 2, 3, 6, 6]);
    expect(Array.from(P.rowIdx)).toEqual([0, 2, 1, 0, 1, 2]);
    expect(Array.from(D.data)).toEqual([1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0]);
  });

  it('rejects out-of-range and duplicate row indices, naming the column', () => {
    expect(() => sparseBinaryFromColumns(3, [[0], [3]])).toThrow(/column 1/);
    expect(() => sparseBinaryFromColumns(3, [[1, 1]])).toThrow(/duplicate 1/);
  });

  it('P·x, Pᵀ·y, P·M and Pᵀ·Y agree with the dense products', () => {
    const rng = new Rng(2);
    const x = rng.fillNormal(new Float64Array(4));
    const y = new Float64Array(3);
    spMulVec(P, x, y);
    for (let i = 0; i < 3; i++) {
      let s = 0;
      for (let j = 0; j < 4; j++) s += D.data[i * 4 + j]! * x[j]!;
      expect(y[i]).toBeCloseTo(s, 12);
    }
    const xt = new Float64Array(4);
    spMulTransVec(P, y, xt);
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let i = 0; i < 3; i++) s += D.data[i * 4 + j]! * y[i]!;
      expect(xt[j]).toBeCloseTo(s, 12);
    }
    const m = 5;
    const M = rng.fillNormal(new Float64Array(4 * m));
    const out = new Float64Array(3 * m);
    spMulMat(P, M, m, out);
    const back = new Float64Array(4 * m);
    spMulTransMat(P, out, m, back);
    for (let c = 0; c < m; c++) {
      const col = Float64Array.from({ length: 4 }, (_, j) => M[j * m + c]!);
      const pc = new Float64Array(3);
      spMulVec(P, col, pc);
      for (let i = 0; i < 3; i++) expect(out[i * m + c]).toBeCloseTo(pc[i]!, 12);
      const ptc = new Float64Array(4);
      spMulTransVec(P, pc, ptc);
      for (let j = 0; j < 4; j++) expect(back[j * m + c]).toBeCloseTo(ptc[j]!, 12);
    }
  });
});
