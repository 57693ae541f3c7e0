#!/usr/bin/env node
// Development entry point: same as run.js but without the cached manifests, so new commands show
// up after `tsc -b` without regenerating oclif.manifest.json.
import { execute } from '@oclif/core/execute';

await execute({ development: true, dir: import.meta.url });
