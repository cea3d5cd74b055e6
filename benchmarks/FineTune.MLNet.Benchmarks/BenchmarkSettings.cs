namespace FineTune.MLNet.Benchmarks;

/// <summary>How long each scenario runs: warm-up steps (not timed) and timed steps. <c>--quick</c> shrinks everything.</summary>
internal sealed record BenchmarkSettings
{
    public bool Quick { get; init; }
    public int WarmupSteps => Quick ? 1 : 2;
    public int TimedSteps => Quick ? 2 : 6;
    public int MatmulRepeats => Quick ? 3 : 10;
    /// <summary>Batches of review data taken by the dynamic-padding scenarios.</summary>
    public int ReviewBatches => Quick ? 2 : 8;
    public int BatchSize => 16;
    public int SequenceLength => 128;

    public static BenchmarkSettings Parse(IReadOnlyList<string> args) => new() { Quick = args.Contains("--quick") };
}
