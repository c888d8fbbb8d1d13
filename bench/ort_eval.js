// Runs an ONNX model once with ONNX Runtime (onnxruntime-node, CPU) on a
// batch given as raw float32 and writes what it computed, for
// bench/ort_int8.py:
//   node ort_eval.js MODEL.onnx INPUT.f32 N,C,H,W OUT.json [OPTIMIZED.onnx]
// OUT.json: {"outputs": {name: {"min", "max", "shape"}}, "first": [values of
// the first output]}. With OPTIMIZED.onnx, also writes the graph ORT runs
// (after its fusions: QLinearConv where a QDQ model's convs fused).
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, input, shapeText, out, optimized] = process.argv.slice(2);
  const dims = shapeText.split(',').map(Number);
  const bytes = fs.readFileSync(input);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const options = {intraOpNumThreads: 2, graphOptimizationLevel: 'all'};
  if (optimized) options.optimizedModelFilePath = optimized;
  const session = await ort.InferenceSession.create(model, options);
  const results = await session.run({[session.inputNames[0]]: new ort.Tensor('float32', data, dims)});
  const summary = {outputs: {}, first: []};
  for (const name of session.outputNames) {
    const t = results[name];
    let min = Infinity, max = -Infinity;
    for (const v of t.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    // (int64 tensors, DenseNet's shape arithmetic, hold BigInts: JSON takes Numbers)
    summary.outputs[name] = {min: Number(min), max: Number(max), shape: t.dims, type: t.type};
  }
  summary.first = Array.from(results[session.outputNames[0]].data);
  fs.writeFileSync(out, JSON.stringify(summary));
}

main().catch((e) => { console.error(`ort_eval.js: ${e.message}`); process.exit(1); });
