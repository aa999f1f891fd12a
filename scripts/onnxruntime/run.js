#!/usr/bin/env node
// onnxruntime as the outside reference: runs MODEL on every sample of
// INPUTS.npy (float32, C order, leading batch dimension) one sample at a
// time and writes the first graph output of each, stacked, to OUT.npy
// (float32 {N, ...}).
//
//   node scripts/onnxruntime/run.js MODEL INPUTS.npy OUT.npy [--optimization all|disabled]
//
// onnxruntime-node comes from npm, installed by scripts/install_deps.sh into
// .deps/npm (git-ignored). CPU, one thread, so the figures are reproducible.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', '..', '.deps', 'npm', 'node_modules', 'onnxruntime-node'));

function fail(message) {
  process.stderr.write(message + '\n');
  process.exit(1);
}

// The .npy layout of numpy/lib/format.py, little-endian float32 C order only.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') fail(`${file}: expected a NumPy .npy file`);
  const major = buf[6];
  const headerLen = major >= 2 ? buf.readUInt32LE(8) : buf.readUInt16LE(8);
  const start = (major >= 2 ? 12 : 10);
  const header = buf.toString('latin1', start, start + headerLen);
  if (!/'descr':\s*'<f4'/.test(header)) fail(`${file}: expected dtype '<f4' (float32)`);
  if (!/'fortran_order':\s*False/.test(header)) fail(`${file}: expected a C-order array`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (buf.length - offset !== count * 4) fail(`${file}: payload does not match shape (${shape})`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; ++i) data[i] = buf.readFloatLE(offset + 4 * i);
  return { shape, data };
}

function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; ++i) body.writeFloatLE(data[i], 4 * i);
  fs.writeFileSync(file + '.tmp', Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
  fs.renameSync(file + '.tmp', file);
}

async function main() {
  const args = process.argv.slice(2);
  let optimization = 'all';
  const at = args.indexOf('--optimization');
  if (at >= 0) {
    optimization = args[at + 1];
    args.splice(at, 2);
  }
  if (args.length !== 3) fail('usage: run.js MODEL INPUTS.npy OUT.npy [--optimization all|disabled]');
  const [model, inputs, out] = args;
  const x = readNpy(inputs);
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: optimization, intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
  });
  const sampleShape = [1, ...x.shape.slice(1)];
  const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  const results = [];
  let outShape = null;
  for (let n = 0; n < x.shape[0]; ++n) {
    const feed = {};
    feed[session.inputNames[0]] = new ort.Tensor('float32', x.data.slice(n * sampleSize, (n + 1) * sampleSize), sampleShape);
    const y = (await session.run(feed))[session.outputNames[0]];
    outShape = y.dims.slice(1);
    results.push(Float32Array.from(y.data));
  }
  const all = new Float32Array(results.reduce((a, r) => a + r.length, 0));
  let offset = 0;
  for (const r of results) {
    all.set(r, offset);
    offset += r.length;
  }
  writeNpy(out, [x.shape[0], ...outShape], all);
}

main().catch((e) => fail(`onnxruntime: ${e.message}`));
