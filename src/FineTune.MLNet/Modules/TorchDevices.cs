using static TorchSharp.torch;

namespace FineTune.MLNet.Modules;

/// <summary>Parses device names and tells whether CUDA is usable.</summary>
public static class TorchDevices
{
    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; CUDA must be available.</summary>
    public static Device Parse(string name)
    {
        var n = (name ?? "").Trim().ToLowerInvariant();
        if (n == "cpu") return CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new ArgumentException($"device '{name}' was requested but CUDA is not available (build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU).");
            return n == "cuda" ? CUDA : device(n);
        }
        throw new ArgumentException($"unknown device '{name}': expected cpu, cuda or cuda:N.");
    }
}
