import { bigBinariesCache, smallPathsCache, bigNarCache } from './bench-cache.ts';
let t = Date.now(); smallPathsCache(); console.log('small', Date.now() - t);
t = Date.now(); bigBinariesCache(); console.log('big', Date.now() - t);
t = Date.now(); bigNarCache(); console.log('huge', Date.now() - t);
