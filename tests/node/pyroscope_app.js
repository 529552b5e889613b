#!/usr/bin/env node
// A small workload profiled by a real @pyroscope/nodejs SDK, pointed at
// profgate by tests/integration/test_pyroscope_nodejs.py.
//
//   node pyroscope_app.js SDK_MODULE SERVER SECONDS APP_NAME TENANT AUTH
//
// SDK_MODULE  the npm alias to load (pyroscope-node-064, pyroscope-node-0413)
// AUTH        none | basic:USER:PASSWORD | bearer:TOKEN
//
// Flushes every 1.5 s, so a 4-5 s run gives a few wall and heap uploads; on
// exit it prints one JSON line (what it did) for the test's log.
'use strict';

const [sdkModule, server, seconds, appName, tenant, auth] = process.argv.slice(2);
if (!sdkModule || !server || !seconds || !appName || tenant === undefined || !auth) {
  console.error('usage: pyroscope_app.js SDK_MODULE SERVER SECONDS APP_NAME TENANT AUTH');
  process.exit(2);
}

const sdk = require(sdkModule);
// 0.6.x exports the API as `default`; 0.4.x as the module itself
const Pyroscope = sdk.default && sdk.default.init ? sdk.default : sdk;

function authOptions(mode) {
  if (mode === 'none') return {};
  const [kind, ...rest] = mode.split(':');
  if (kind === 'bearer') return { authToken: rest.join(':') };
  if (kind === 'basic') return { basicAuthUser: rest[0], basicAuthPassword: rest.slice(1).join(':') };
  throw new Error('unknown auth mode ' + mode);
}

Pyroscope.init({
  serverAddress: server,
  appName,
  tags: { env: 'itest', region: 'lab-1' },
  flushIntervalMs: 1500,
  tenantID: tenant || undefined,
  wall: { collectCpuTime: true },
  heap: { samplingIntervalBytes: 16384 },
  ...authOptions(auth),
});
Pyroscope.start();

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

// Keep some allocations alive so the in-use heap profile has samples.
const kept = [];
let fibCalls = 0;
let allocs = 0;

function burn() {
  Pyroscope.wrapWithLabels({ handler: 'fib' }, () => {
    fibCalls += fib(20) > 0 ? 1 : 0;
  });
  Pyroscope.wrapWithLabels({ handler: 'alloc' }, () => {
    const block = new Array(2048).fill(0).map((_, i) => ({ i, s: 'v' + i }));
    kept.push(block);
    if (kept.length > 64) kept.shift();
    allocs++;
  });
}

const deadline = Date.now() + Number(seconds) * 1000;

function loop() {
  if (Date.now() >= deadline) {
    finish();
    return;
  }
  const sliceEnd = Date.now() + 20;
  while (Date.now() < sliceEnd) burn();
  // yield so the SDK's flush timer and uploads can run
  setTimeout(loop, 5);
}

async function finish() {
  await Pyroscope.stop();
  console.log(JSON.stringify({ sdk: sdkModule, appName, fibCalls, allocs, kept: kept.length }));
}

loop();
