using Xunit;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Concurrency;

/// <summary>The leak check itself can fail: tensors a workload leaves alive are caught, disposed ones are not.</summary>
public sealed class NoLeakSelfTests
{
    [Fact]
    public void TensorsLeftAliveFailTheCheck()
    {
        var kept = new List<Tensor>();
        var e = Assert.ThrowsAny<XunitException>(() => NoLeak.Measure("leaky", 2, 2, (_, _) => { lock (kept) kept.Add(zeros(4)); }));
        Assert.Contains("tensors left undisposed", e.Message);
        foreach (var t in kept) t.Dispose();
    }

    [Fact]
    public void DisposedTensorsPassTheCheck()
    {
        var report = NoLeak.Measure("tidy", 2, 2, (thread, round) =>
        {
            using var scope = NewDisposeScope();
            _ = zeros(4) + ones(4);
        });
        Assert.Contains("live tensors", report);
    }
}
