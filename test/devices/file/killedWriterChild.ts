/**
 * Child process of killedWriter.test.ts: records a deterministic 4-channel stream to argv[2]
 * (.edf, .bdf or .cfs) forever, printing "records N" after each second of data, until killed.
 * Channel c at seq k holds ((k + 37·c) mod 200) − 100.
 */
import { createRecorder } from '../../../devices/file/recorder.js';

const path = process.argv[2]!;
const info = { id: 'child', kind: 'raw' as const, n: 4, rate: 100, units: 'uV' };
const rec = createRecorder({ path, info, physicalMin: -100, physicalMax: 100 });
rec.annotate({ t: 0, duration: 1, text: 'started' });
let k = 0;
const values = new Float64Array(4);
const second = () => {
  for (let i = 0; i < 100; i++, k++) {
    for (let c = 0; c < 4; c++) values[c] = ((k + 37 * c) % 200) - 100;
    rec.write({ seq: k, t: k / 100, values });
  }
  process.stdout.write(`records ${k / 100}\n`);
  setTimeout(second, 2);
};
second();
