import { doorEnv } from '/work/wt/door-json/dist/daemon/door-env.js';
import { readEnvFile } from '/work/wt/door-json/dist/daemon/fifo-files.js';
const N = 5000;
function t(name, f) { for (let i=0;i<200;i++) f(); const t0 = process.hrtime.bigint(); for (let i=0;i<N;i++) f(); console.log(name, (Number(process.hrtime.bigint()-t0)/N/1000).toFixed(1), 'us'); }
t('doorEnv', () => doorEnv('/tmp/dj/mb'));
t('readEnvFile', () => readEnvFile('/tmp/dj/mb'));
console.log(doorEnv('/tmp/dj/mb').length);
