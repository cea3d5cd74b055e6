namespace FineTune.MLNet.Export.Onnx;

/// <summary>How <see cref="OnnxReferenceRunner"/> builds its ONNX Runtime session.</summary>
public sealed record OnnxRunnerOptions
{
    /// <summary>Append the CUDA execution provider (needs the CUDA 12 and cuDNN 9 runtime libraries). Default false: CPU only.</summary>
    public bool UseCuda { get; init; }

    /// <summary>When <see cref="UseCuda"/> is set and CUDA cannot be used, run on CPU instead of throwing. Default false.</summary>
    public bool FallBackToCpu { get; init; }

    /// <summary>CUDA device ordinal, 0 or more. Default 0.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>Threads for one operator on CPU; null lets ONNX Runtime decide. 1 or more when set.</summary>
    public int? IntraOpThreads { get; init; }

    public void Validate()
    {
        if (CudaDeviceId < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(CudaDeviceId), CudaDeviceId, "CudaDeviceId must be 0 or more.");
        }
        if (IntraOpThreads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "IntraOpThreads must be 1 or more when set.");
        }
        if (FallBackToCpu && !UseCuda)
        {
            throw new ArgumentException("FallBackToCpu only applies when UseCuda is true.", nameof(FallBackToCpu));
        }
    }
}
