/* global process */
// The suite's bundle imports `globSync` from "fs", which Node gained in 22. On an older Node this
// module stands in for "fs" when (and only when) the suite's bundle imports it: everything of
// node:fs, plus a globSync that says why it is missing. Server scenarios do not call it.
import fs from 'node:fs';

export * from 'node:fs';
export default fs;
export function globSync() {
  throw new Error(`fs.globSync needs Node >= 22 (this is ${process.version})`);
}
