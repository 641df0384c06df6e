#!/usr/bin/env node
import { run } from '../dist/src/cli/process.js';
await run();
