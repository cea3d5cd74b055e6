namespace FineTune.MLNet.Metrics;

/// <summary>Means of the per-example generation metrics over a set, each in 0..1 (SQuAD's script reports them x100).</summary>
/// <param name="ExactMatch">Mean SQuAD exact match.</param>
/// <param name="F1">Mean SQuAD token F1.</param>
/// <param name="RougeL">Mean ROUGE-L F-measure.</param>
/// <param name="Count">Number of examples.</param>
public sealed record GenerationScores(double ExactMatch, double F1, double RougeL, int Count);
