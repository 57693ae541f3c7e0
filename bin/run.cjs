#!/usr/bin/env node
'use strict';
// CommonJS, so that a start-up that runs no command of ours (--version, help) never starts Node's
// ES module loader; the commands themselves are ES modules, imported when one runs
// package.json's engines, checked here (the bundled @oclif/core skips its own, looser, check)
if (Number(process.versions.node.split('.')[0]) < 20) {
  process.stderr.write(`ha: Node.js 20 or newer is needed; this is ${process.version}\n`);
  process.exit(1);
}
// @oclif/core from one bundled file with a code cache (bin/load-core.cjs); HA_NO_BUNDLE=1 turns it off
const core = process.env.HA_NO_BUNDLE ? undefined : require('./load-core.cjs').loadCore();
// the bundle's execute directly, without resolving @oclif/core/execute through the package's exports
const { execute } = core?.entry('lib/execute.js') ?? require('@oclif/core/execute');
execute({ dir: __filename }).catch((error) => {
  // execute handles its own errors; this is only for one thrown before it could
  process.exitCode = 1;
  console.error(error);
});
