"""PyTorch's BF16 time for a torchvision network, median ms (bench/isa_ab.sh).

    torch_bf16_ms.py NETWORK BATCH SECONDS

As bench/zoo_bench.py measures it: the model in bfloat16, channels-last
(oneDNN, AMX where the CPU has it), 2 threads, random weights.
"""
import statistics
import sys
import time

import torch
import torchvision

torch.set_num_threads(2)
name, batch, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
model = getattr(torchvision.models, name)().eval().to(torch.bfloat16)
model = model.to(memory_format=torch.channels_last)
x = torch.rand(batch, 3, 224, 224).to(torch.bfloat16).to(memory_format=torch.channels_last)
with torch.no_grad():
    model(x)
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 3:
        t0 = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - t0)
print(f"{statistics.median(times) * 1e3:.3f}")
