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
// ops: every op case of tests/fixtures/ops (one <case>.json each, holding the graph, its inputs and
//   torch's outputs; the format is in tests/fixtures/make_fixtures.py) is written out as a graph
//   file, exported the same way and must give torch's outputs in ONNX Runtime, apart from the cases
//   whose export uses the custom domain "ai.adjoint" (pool gradients, grouped conv2d_grad_weight),
//   which ONNX Runtime cannot run (docs/ONNX.md); those are counted and listed.
//
// Exit status: 0 all checks pass, 1 a check failed or onnxruntime-node is not installed (a missing
// peer is a failure: scripts/install-onnxruntime.sh installs it); with --missing-is-skip (configure
// with -DADJOINT_ALLOW_MISSING_PEERS=ON) a missing package is 77 instead, which ctest reports as
// skipped.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const RTOL = 1e-4, ATOL = 1e-5;

function parseArgs(argv) {
  const a = { mode: argv[0], cli: null, work: null, model: null, missingIsSkip: false };
  for (let i = 1; i < argv.length; ++i) {
    if (argv[i] === '--cli') a.cli = argv[++i];
    else if (argv[i] === '--work') a.work = argv[++i];
    else if (argv[i] === '--model') a.model = argv[++i];
    else if (argv[i] === '--missing-is-skip') a.missingIsSkip = true;
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

/// A tensor of an op case file, in the graph format's encoding ({"shape", "values"} or
/// {"shape", "base64"}: little-endian float32), as {shape, data: Float32Array}.
function decodeTensor(t, where) {
  const count = t.shape.reduce((a, b) => a * b, 1);
  let data;
  if (Array.isArray(t.values)) {
    data = Float32Array.from(t.values);
  } else if (typeof t.base64 === 'string') {
    const bytes = Buffer.from(t.base64, 'base64');
    if (bytes.length !== count * 4) throw new Error(`${where}: base64 holds ${bytes.length} bytes, not ${count * 4}`);
    data = new Float32Array(count);
    for (let i = 0; i < count; ++i) data[i] = bytes.readFloatLE(i * 4);
  } else {
    throw new Error(`${where}: a tensor needs "values" or "base64"`);
  }
  if (data.length !== count) throw new Error(`${where}: ${data.length} values for shape [${t.shape}]`);
  return { shape: t.shape, data };
}

function decodeTensors(obj, where) {
  const r = {};
  for (const [k, t] of Object.entries(obj)) r[k] = decodeTensor(t, `${where}.${k}`);
  return r;
}

/// {name: {shape, data}} from {name: .npy path relative to the repository root}.
function readNpys(run, files) {
  const r = {};
  for (const [k, f] of Object.entries(files)) r[k] = run.readNpy(path.join(ROOT, f));
  return r;
}

/// The text of the value of `key` in the JSON object `text`, as written: JSON.parse would round
/// integers beyond 2^53 (a slice's "ends" of INT64_MAX) that adjoint-cli must read exactly.
function rawMember(text, key, where) {
  let i = 0;
  const ws = () => { while (/\s/.test(text[i])) ++i; };
  const skipString = () => {
    for (++i; text[i] !== '"'; ++i) {
      if (i >= text.length) throw new Error(`${where}: unterminated string`);
      if (text[i] === '\\') ++i;
    }
    ++i;
  };
  // up to the ',' or '}' that ends the value (at depth 0)
  const skipValue = () => {
    let depth = 0;
    while (i < text.length) {
      const ch = text[i];
      if (depth === 0 && (ch === ',' || ch === '}')) return;
      if (ch === '"') { skipString(); continue; }
      if (ch === '{' || ch === '[') ++depth;
      else if (ch === '}' || ch === ']') --depth;
      ++i;
    }
    throw new Error(`${where}: truncated JSON`);
  };
  ws();
  if (text[i++] !== '{') throw new Error(`${where}: not a JSON object`);
  for (;;) {
    ws();
    if (text[i] !== '"') break;
    const start = i;
    skipString();
    const name = JSON.parse(text.slice(start, i));
    ws();
    if (text[i++] !== ':') break;
    ws();
    const from = i;
    skipValue();
    if (name === key) return text.slice(from, i).trimEnd();
    ws();
    if (text[i++] !== ',') break;
  }
  throw new Error(`${where}: no "${key}"`);
}

/// Every op case of tests/fixtures/ops, sorted by name.
function opCases() {
  const dir = path.join(ROOT, 'tests/fixtures/ops');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (!files.length) throw new Error(`${dir}: no op cases`);
  return files.map((f) => {
    const where = path.join(dir, f);
    const text = fs.readFileSync(where, 'utf8');
    const c = JSON.parse(text);
    if (c.case !== f.slice(0, -5)) throw new Error(`${where}: case '${c.case}' is not named after its file`);
    return { name: c.case, graphText: rawMember(text, 'graph', where), inputs: decodeTensors(c.inputs, `${where}: inputs`), expected: decodeTensors(c.expected, `${where}: expected`) };
  });
}

/// inputs and expected: {name: {shape, data}}.
async function checkRun(run, variant, inputs, expected) {
  const { runModel, compare } = run;
  const outputs = await runModel(variant.file, inputs);
  const names = Object.keys(outputs);
  const problems = [];
  Object.entries(expected).forEach(([name, want], index) => {
    // By name; by position where the exporter renamed an output that shares its name with an
    // input (ONNX has one namespace; the file's metadata keeps the original name).
    const got = outputs[name] || (Object.keys(expected).length === names.length ? outputs[names[index]] : undefined);
    if (!got) { problems.push(`no output '${name}'`); return; }
    const c = compare(got, want, RTOL, ATOL);
    if (!c.ok) problems.push(`output '${name}': ${c.why}`);
  });
  return problems;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  try {
    require.resolve('onnxruntime-node');
  } catch (e) {
    if (args.missingIsSkip) {
      console.log('SKIP: onnxruntime-node is not installed (run scripts/install-onnxruntime.sh)');
      return 77;
    }
    console.log(`FAIL: onnxruntime-node is not installed in ${process.env.NODE_PATH || 'NODE_PATH (unset)'}: ` +
                'run scripts/install-onnxruntime.sh, or configure with -DADJOINT_ALLOW_MISSING_PEERS=ON to skip these checks');
    return 1;
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
        const problems = await checkRun(run, v, readNpys(run, m.inputs), readNpys(run, m.expected));
        if (problems.length) { ++failures; console.error(`error: ${m.model} (${v.name}): ${problems.join('; ')}`); }
        else console.log(`ok: ${m.model} (${v.name}) matches torch in ONNX Runtime`);
      }
    }
    if (args.model && checks === 0 && skipped.length === 0) { console.error(`error: no fixture model '${args.model}'`); return 1; }
  } else {
    const cases = opCases();
    for (const c of cases) {
      let variants;
      try {
        // the graph as adjoint-cli reads it: a file of its own
        const dir = path.join(args.work, c.name);
        fs.mkdirSync(dir, { recursive: true });
        const graph = path.join(dir, 'graph.json');
        fs.writeFileSync(graph, c.graphText + '\n');
        variants = exportVariants(args.cli, graph, dir);
      } catch (e) {
        ++failures;
        console.error(`error: ${c.name}: ${e.message}`);
        continue;
      }
      for (const v of variants) {
        if (v.skipped) { skipped.push(`${c.name} (${v.name}): ${v.skipped}`); continue; }
        if (fs.readFileSync(v.file).includes('ai.adjoint')) { skipped.push(`${c.name} (${v.name}): uses the ai.adjoint domain`); continue; }
        ++checks;
        let problems;
        try {
          problems = await checkRun(run, v, c.inputs, c.expected);
        } catch (e) {
          problems = [String(e.message || e).split('\n')[0]];
        }
        if (problems.length) { ++failures; console.error(`error: ${c.name} (${v.name}): ${problems.join('; ')}`); }
      }
    }
    console.log(`${cases.length} op cases`);
  }
  for (const s of skipped) console.log(`skipped: ${s}`);
  console.log(`${checks - failures} of ${checks} ONNX Runtime checks passed, ${skipped.length} skipped`);
  return failures ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`error: ${e.message || e}`);
  process.exit(1);
});
