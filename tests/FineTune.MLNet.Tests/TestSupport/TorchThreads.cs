using System.Runtime.CompilerServices;

namespace FineTune.MLNet.Tests.TestSupport;

/// <summary>
/// Pins libtorch's intra-op thread count for the whole test run (this process and the <c>finetune</c> processes the
/// CLI tests start). Parallel reductions (matmul, sum, softmax) split their work by thread count, so the float32
/// rounding of seeded training depends on it: pinned, a run on a 2-core and a 64-core machine takes the same path.
/// </summary>
internal static class TorchThreads
{
    /// <summary>The thread count every test runs with (CI's machines have at least this many cores).</summary>
    public const int Count = 2;

#pragma warning disable CA2255 // a test assembly's one process-wide setting, before any test runs
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Pin()
    {
        // Child processes inherit these (read by OpenMP/MKL when libtorch loads); this process is set directly.
        Environment.SetEnvironmentVariable("OMP_NUM_THREADS", Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Environment.SetEnvironmentVariable("MKL_NUM_THREADS", Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            TorchSharp.torch.set_num_threads(Count);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException)
        {
            // libtorch does not load here: the tests that need it fail with the real reason; the others still run.
        }
    }
}
