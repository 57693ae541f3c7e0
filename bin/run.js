#!/usr/bin/env node
import { createRequire } from 'node:module';
import { loadCore } from './load-core.js';

// @oclif/core from one bundled file with a code cache (bin/load-core.js); HA_NO_BUNDLE=1 turns it off
if (!process.env.HA_NO_BUNDLE) loadCore();
// required, not imported: an import of CommonJS from ESM has Node scan the module's source for its exports
const { execute } = createRequire(import.meta.url)('@oclif/core/execute');
await execute({ dir: import.meta.url });
