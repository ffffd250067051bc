/* global process */
// `node --import ./node20.mjs conformance …`: redirects the suite's `import … from "fs"` to
// fs-glob-shim.mjs on Node < 22, so the suite runs on the Node this project supports (>= 20).
import { register } from 'node:module';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) register('./node20-hooks.mjs', import.meta.url);
