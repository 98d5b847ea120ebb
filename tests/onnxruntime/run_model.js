#!/usr/bin/env node
// Runs an ONNX model with ONNX Runtime (the npm package onnxruntime-node, CPU) on .npy inputs and
// writes its outputs as .npy files: an independent reader of the files adjoint-cli exports.
//
//   node tests/onnxruntime/run_model.js MODEL.onnx [--input NAME=FILE.npy]... [--out DIR]
//        [--expect NAME=FILE.npy]... [--rtol R] [--atol A] [--optimization LEVEL] [--json]
//
// --out DIR writes DIR/<output>.npy for each model output (characters outside [A-Za-z0-9._-]
// become '_', as adjoint-cli does). --expect compares an output with a reference:
// |got - want| <= atol + rtol |want| everywhere (defaults 1e-4 and 1e-5); a mismatch, like any
// error, exits with status 1 and a line starting with "error:" on stderr. --optimization: ONNX
// Runtime's graph optimization level (disabled, basic, extended or all, the default); the model
// tests use disabled, as ONNX Runtime 1.20's own rewrites change what some files compute (its
// Pad-into-AveragePool fusion drops count_include_pad: Inception v3 off by 40x).
//
// .npy files: read are versions 1.0 to 3.0, C order, '<f4' or '<f8' (converted to float32), '<i8'
// (kept as int64: token ids);
// written are version 1.0 '<f4'. Install the package with scripts/install-onnxruntime.sh.
'use strict';

const fs = require('fs');
const path = require('path');

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  let headerLen, offset;
  if (major === 1) { headerLen = buf.readUInt16LE(8); offset = 10; }
  else if (major === 2 || major === 3) { headerLen = buf.readUInt32LE(8); offset = 12; }
  else throw new Error(`${file}: unsupported .npy version ${major}`);
  const header = buf.toString('latin1', offset, offset + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeText) throw new Error(`${file}: malformed .npy header`);
  if (fortran[1] === 'True') throw new Error(`${file}: Fortran order is not supported`);
  const shape = shapeText[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = buf.subarray(offset + headerLen);
  if (descr[1] === '<i8') {  // token ids: kept as int64 (a BigInt64Array), fed as ONNX int64
    if (data.length !== count * 8) throw new Error(`${file}: data size does not match the shape`);
    const ints = new BigInt64Array(count);
    for (let i = 0; i < count; ++i) ints[i] = data.readBigInt64LE(i * 8);
    return { shape, data: ints };
  }
  const out = new Float32Array(count);
  if (descr[1] === '<f4') {
    if (data.length !== count * 4) throw new Error(`${file}: data size does not match the shape`);
    for (let i = 0; i < count; ++i) out[i] = data.readFloatLE(i * 4);
  } else if (descr[1] === '<f8') {
    if (data.length !== count * 8) throw new Error(`${file}: data size does not match the shape`);
    for (let i = 0; i < count; ++i) out[i] = data.readDoubleLE(i * 8);
  } else {
    throw new Error(`${file}: dtype ${descr[1]} is not supported (float32, float64 or int64)`);
  }
  return { shape, data: out };
}

function writeNpy(file, shape, data) {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; ++i) body.writeFloatLE(data[i], i * 4);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

function fileNameFor(name) {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/// Largest excess of |got - want| over atol + rtol |want|; <= 1 means close. Returns a report.
function compare(got, want, rtol, atol) {
  if (got.shape.join(',') !== want.shape.join(',')) return { ok: false, why: `shape [${got.shape}] vs [${want.shape}]` };
  let worst = 0, at = -1;
  for (let i = 0; i < want.data.length; ++i) {
    const g = got.data[i], w = want.data[i];
    const excess = Number.isNaN(g) !== Number.isNaN(w) ? Infinity : Math.abs(g - w) / (atol + rtol * Math.abs(w));
    if (excess > worst || Number.isNaN(excess)) { worst = excess; at = i; }
  }
  if (worst <= 1) return { ok: true, worst };
  return { ok: false, why: `element ${at}: ${got.data[at]} vs ${want.data[at]} (${worst.toFixed(2)}x the tolerance)` };
}

/// Runs the model on the named inputs ({name: {shape, data}}); returns {name: {shape, data}}.
/// `optimization`: ONNX Runtime's graph optimization level.
async function runModel(modelPath, inputs, optimization = 'all') {
  const ort = require('onnxruntime-node');
  // logSeverityLevel 3: errors only (ONNX Runtime warns about unused initializers, which optimized
  // graphs keep as parameters).
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'], graphOptimizationLevel: optimization, logSeverityLevel: 3 });
  const feeds = {};
  for (const name of session.inputNames) {
    if (!inputs[name]) throw new Error(`${modelPath}: input '${name}' has no binding (--input ${name}=FILE.npy)`);
    const type = inputs[name].data instanceof BigInt64Array ? 'int64' : 'float32';
    feeds[name] = new ort.Tensor(type, inputs[name].data, inputs[name].shape);
  }
  for (const name of Object.keys(inputs))
    if (!session.inputNames.includes(name)) throw new Error(`${modelPath}: the model has no input '${name}'`);
  const results = await session.run(feeds);
  const out = {};
  for (const name of session.outputNames) out[name] = { shape: Array.from(results[name].dims), data: Float32Array.from(results[name].data) };
  return out;
}

function parseArgs(argv) {
  const args = { model: null, inputs: {}, expect: {}, out: null, rtol: 1e-4, atol: 1e-5, json: false, optimization: 'all' };
  const pair = (s, flag) => {
    const eq = s ? s.indexOf('=') : -1;
    if (eq <= 0) throw new Error(`${flag} needs NAME=FILE.npy`);
    return [s.slice(0, eq), s.slice(eq + 1)];
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--input') { const [k, v] = pair(argv[++i], a); args.inputs[k] = v; }
    else if (a === '--expect') { const [k, v] = pair(argv[++i], a); args.expect[k] = v; }
    else if (a === '--out') args.out = argv[++i];
    else if (a === '--rtol') args.rtol = Number(argv[++i]);
    else if (a === '--atol') args.atol = Number(argv[++i]);
    else if (a === '--json') args.json = true;
    else if (a === '--optimization') args.optimization = argv[++i];
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else if (args.model === null) args.model = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!args.model) throw new Error('usage: run_model.js MODEL.onnx [--input NAME=FILE.npy]... [--out DIR] [--expect NAME=FILE.npy]... [--rtol R] [--atol A] [--optimization LEVEL] [--json]');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const inputs = {};
  for (const [k, f] of Object.entries(args.inputs)) inputs[k] = readNpy(f);
  const outputs = await runModel(args.model, inputs, args.optimization);
  const report = { model: args.model, outputs: [] };
  if (args.out) fs.mkdirSync(args.out, { recursive: true });
  let failed = false;
  for (const [name, t] of Object.entries(outputs)) {
    const entry = { name, shape: t.shape };
    if (args.out) {
      entry.file = path.join(args.out, fileNameFor(name) + '.npy');
      writeNpy(entry.file, t.shape, t.data);
    }
    if (args.expect[name]) {
      const r = compare(t, readNpy(args.expect[name]), args.rtol, args.atol);
      entry.matches = r.ok;
      if (!r.ok) {
        failed = true;
        console.error(`error: ${args.model}: output '${name}' differs from ${args.expect[name]}: ${r.why}`);
      }
    }
    report.outputs.push(entry);
    if (!args.json) console.log(`${name} [${t.shape.join(', ')}]${entry.file ? ' -> ' + entry.file : ''}${'matches' in entry ? (entry.matches ? ' (matches)' : ' (DIFFERS)') : ''}`);
  }
  for (const name of Object.keys(args.expect)) {
    if (!outputs[name]) { failed = true; console.error(`error: ${args.model}: the model has no output '${name}'`); }
  }
  if (args.json) console.log(JSON.stringify(report));
  return failed ? 1 : 0;
}

module.exports = { readNpy, writeNpy, compare, runModel, fileNameFor };

if (require.main === module) {
  main().then((code) => process.exit(code), (e) => {
    console.error(`error: ${e.message || e}`);
    process.exit(1);
  });
}
