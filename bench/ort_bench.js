// Times an ONNX model with ONNX Runtime (onnxruntime-node, CPU, MLAS):
//   node ort_bench.js MODEL.onnx BATCH C,H,W SECONDS THREADS
// One warm-up, then runs back to back for at least SECONDS (and 3 runs);
// prints "median_ms=X runs=N".
const ort = require('onnxruntime-node');

async function main() {
  const [model, batchText, shapeText, secondsText, threadsText] = process.argv.slice(2);
  const batch = parseInt(batchText), seconds = parseFloat(secondsText);
  const dims = [batch, ...shapeText.split(',').map(Number)];
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: parseInt(threadsText), interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all'});
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; ++i) data[i] = ((i * 2654435761) % 1000) / 1000;
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, dims)};
  await session.run(feeds);
  const times = [];
  const start = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - start) / 1e9 < seconds || times.length < 3) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(`median_ms=${times[Math.floor(times.length / 2)].toFixed(4)} runs=${times.length}`);
}

main().catch((e) => { console.error(`ort_bench.js: ${e.message}`); process.exit(1); });
