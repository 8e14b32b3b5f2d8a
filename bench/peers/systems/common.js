'use strict';
// What the peers share: their settings from the environment (each one's
// default is the setting chosen for the table in README.md, "Benchmarks")
// and the version of the package under test.
const path = require('path');

// An integer (or, with `real`, a number) setting from the environment.
function setting(name, def, { min = 0, real = false } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || (!real && !Number.isInteger(v))) {
    throw new Error(`${name}=${raw}: expected ${real ? 'a number' : 'an integer'} >= ${min}`);
  }
  return v;
}

// The installed version of an npm package (what package-lock.json pinned).
function version(pkg) {
  return require(path.join(__dirname, '..', 'node_modules', pkg, 'package.json')).version;
}

module.exports = { setting, version };
