#!/usr/bin/env node
// ONNX Runtime as an independent reader of what adjoint-cli exports (ctest onnxruntime_*).
//
//   node tests/onnxruntime/check_fixtures.js models --cli ADJOINT_CLI --work DIR [--model NAME]
//   node tests/onnxruntime/check_fixtures.js opsets --cli ADJOINT_CLI --work DIR
//   node tests/onnxruntime/check_fixtures.js ops    --cli ADJOINT_CLI --work DIR
//
// models: each PyTorch fixture of tests/fixtures/onnx/manifest.json is exported by adjoint-cli
//   (`export -o m.onnx`, and `optimize -O2 -o m.onnx` when the CLI has it) and run by ONNX Runtime
//   on the fixture's inputs; the outputs must equal torch's (rtol 1e-4, atol 1e-5).
// opsets: the same for tests/fixtures/onnx/opsets/manifest.json (one module exported by PyTorch at
//   each opset 11 to 17), read back through adjoint-cli and written at opset 17.
// ops: every op case of tests/fixtures/ops/manifest.json (a JSON graph per op of the table) is
//   exported the same way and must give torch's outputs in ONNX Runtime, apart from the cases whose
//   export uses the custom domain "ai.adjoint" (pool gradients, grouped conv2d_grad_weight), which
//   ONNX Runtime cannot run (docs/ONNX.md); those are counted and listed.
//
// Exit status: 0 all checks pass, 1 a check failed, 77 onnxruntime-node is not installed (ctest
// reports the test as skipped; scripts/install-onnxruntime.sh installs it).
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const RTOL = 1e-4, ATOL = 1e-5;

function parseArgs(argv) {
  const a = { mode: argv[0], cli: null, work: null, model: null };
  for (let i = 1; i < argv.length; ++i) {
    if (argv[i] === '--cli') a.cli = argv[++i];
    else if (argv[i] === '--work') a.work = argv[++i];
    else if (argv[i] === '--model') a.model = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!['models', 'opsets', 'ops'].includes(a.mode) || !a.cli || !a.work) throw new Error('usage: check_fixtures.js models|opsets|ops --cli ADJOINT_CLI --work DIR [--model NAME]');
  return a;
}

function cli(args, exe) {
  const r = spawnSync(exe, args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout || '', err: (r.stderr || '') + (r.error ? String(r.error) : '') };
}

/// Exports `graph` to `dir`: the plain export, and the optimized one when the CLI has `optimize`.
function exportVariants(exe, graph, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const variants = [];
  const plain = path.join(dir, 'exported.onnx');
  const r = cli(['export', graph, '-o', plain], exe);
  if (r.code !== 0) throw new Error(`adjoint-cli export ${graph} failed (exit ${r.code}): ${r.err.trim()}`);
  variants.push({ name: 'export', file: plain });
  const optimized = path.join(dir, 'optimized.onnx');
  const o = cli(['optimize', graph, '-o', optimized, '-O2'], exe);
  if (o.code === 0) variants.push({ name: 'optimize -O2', file: optimized });
  else if (o.code === 2) variants.push({ name: 'optimize -O2', skipped: 'adjoint-cli has no optimize command' });
  else throw new Error(`adjoint-cli optimize ${graph} failed (exit ${o.code}): ${o.err.trim()}`);
  return variants;
}

async function checkRun(run, variant, inputs, expected) {
  const { readNpy, runModel, compare } = run;
  const feeds = {};
  for (const [k, f] of Object.entries(inputs)) feeds[k] = readNpy(path.join(ROOT, f));
  const outputs = await runModel(variant.file, feeds);
  const names = Object.keys(outputs);
  const problems = [];
  Object.entries(expected).forEach(([name, f], index) => {
    // By name; by position where the exporter renamed an output that shares its name with an
    // input (ONNX has one namespace; the file's metadata keeps the original name).
    const got = outputs[name] || (Object.keys(expected).length === names.length ? outputs[names[index]] : undefined);
    if (!got) { problems.push(`no output '${name}'`); return; }
    const c = compare(got, readNpy(path.join(ROOT, f)), RTOL, ATOL);
    if (!c.ok) problems.push(`output '${name}': ${c.why}`);
  });
  return problems;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  try {
    require.resolve('onnxruntime-node');
  } catch (e) {
    console.log('SKIP: onnxruntime-node is not installed (run scripts/install-onnxruntime.sh)');
    return 77;
  }
  const run = require('./run_model.js');
  let failures = 0, checks = 0;
  const skipped = [];
  if (args.mode === 'models' || args.mode === 'opsets') {
    const file = args.mode === 'models' ? 'tests/fixtures/onnx/manifest.json' : 'tests/fixtures/onnx/opsets/manifest.json';
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));
    for (const m of manifest) {
      if (args.model && m.model !== args.model) continue;
      for (const v of exportVariants(args.cli, path.join(ROOT, m.file), path.join(args.work, m.model))) {
        if (v.skipped) { skipped.push(`${m.model} (${v.name}): ${v.skipped}`); continue; }
        ++checks;
        const problems = await checkRun(run, v, m.inputs, m.expected);
        if (problems.length) { ++failures; console.error(`error: ${m.model} (${v.name}): ${problems.join('; ')}`); }
        else console.log(`ok: ${m.model} (${v.name}) matches torch in ONNX Runtime`);
      }
    }
    if (args.model && checks === 0 && skipped.length === 0) { console.error(`error: no fixture model '${args.model}'`); return 1; }
  } else {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/ops/manifest.json'), 'utf8'));
    for (const c of manifest) {
      let variants;
      try {
        variants = exportVariants(args.cli, path.join(ROOT, c.graph), path.join(args.work, c.case));
      } catch (e) {
        ++failures;
        console.error(`error: ${c.case}: ${e.message}`);
        continue;
      }
      for (const v of variants) {
        if (v.skipped) { skipped.push(`${c.case} (${v.name}): ${v.skipped}`); continue; }
        if (fs.readFileSync(v.file).includes('ai.adjoint')) { skipped.push(`${c.case} (${v.name}): uses the ai.adjoint domain`); continue; }
        ++checks;
        let problems;
        try {
          problems = await checkRun(run, v, c.inputs, c.expected);
        } catch (e) {
          problems = [String(e.message || e).split('\n')[0]];
        }
        if (problems.length) { ++failures; console.error(`error: ${c.case} (${v.name}): ${problems.join('; ')}`); }
      }
    }
  }
  for (const s of skipped) console.log(`skipped: ${s}`);
  console.log(`${checks - failures} of ${checks} ONNX Runtime checks passed, ${skipped.length} skipped`);
  return failures ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`error: ${e.message || e}`);
  process.exit(1);
});
