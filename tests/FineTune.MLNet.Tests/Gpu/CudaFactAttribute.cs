using Xunit;

namespace FineTune.MLNet.Tests.Gpu;

/// <summary>A fact that runs only where libtorch sees a CUDA device (the CUDA build on a GPU machine); skipped elsewhere.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!TorchSharp.torch.cuda.is_available()) Skip = "No CUDA device (or a CPU-only libtorch build): GPU test skipped.";
    }
}
