import { writeDocs } from './docs.js';

writeDocs();
console.log('README.md tables and settings.default.json written');
