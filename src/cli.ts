#!/usr/bin/env node
import { applyV8Settings } from './v8Settings.js';

// Everything else is imported only now, so that V8's settings hold from its first line on.
applyV8Settings();
await import('./cliMain.js');
