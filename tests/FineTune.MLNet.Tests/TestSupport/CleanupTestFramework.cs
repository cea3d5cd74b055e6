using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: Xunit.TestFramework("FineTune.MLNet.Tests.TestSupport.CleanupTestFramework", "FineTune.MLNet.Tests")]

namespace FineTune.MLNet.Tests.TestSupport;

/// <summary>
/// xUnit's own framework, plus one thing at the end of the run: the test run's <see cref="TestTempRoot"/> is deleted
/// (the test host is stopped without running process-exit handlers, so the framework's disposal is the last hook).
/// </summary>
public sealed class CleanupTestFramework : XunitTestFramework
{
    /// <summary>Called by xUnit with its diagnostic sink.</summary>
    public CleanupTestFramework(IMessageSink messageSink) : base(messageSink)
    {
        DisposalTracker.Add(new DeleteTempRootOnDispose());
    }

    private sealed class DeleteTempRootOnDispose : IDisposable
    {
        public void Dispose() => TestTempRoot.DeleteIfCreated();
    }
}
