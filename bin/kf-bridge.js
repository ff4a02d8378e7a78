#!/usr/bin/env node
// The CLI is TypeScript like the rest of kf-bridge; tsx (a devDependency) runs it without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/index.ts');
