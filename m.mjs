import { readFileSync, statSync, readdirSync, openSync, readSync, closeSync, writeFileSync } from 'node:fs';
const pid = process.argv[2];
writeFileSync('/tmp/dj/envcopy', readFileSync('/proc/'+pid+'/environ'));
const N = 5000;
function t(name, f) { const t0 = process.hrtime.bigint(); for (let i=0;i<N;i++) f(); console.log(name, Number(process.hrtime.bigint()-t0)/N/1000, 'us'); }
const buf = Buffer.allocUnsafe(16384);
t('proc environ', () => { const fd = openSync('/proc/'+pid+'/environ', 'r'); readSync(fd, buf, 0, buf.length, null); closeSync(fd); });
t('file copy', () => { const fd = openSync('/tmp/dj/envcopy', 'r'); readSync(fd, buf, 0, buf.length, null); closeSync(fd); });
t('readdir fd', () => readdirSync('/proc/'+pid+'/fd'));
t('stat fd/1', () => statSync('/proc/'+pid+'/fd/1'));
t('stat file', () => statSync('/tmp/dj/envcopy'));
