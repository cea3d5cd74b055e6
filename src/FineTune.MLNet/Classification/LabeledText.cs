namespace FineTune.MLNet.Classification;

/// <summary>One classification example: text (and an optional second text) with a 0-based class index (-1 = unknown).</summary>
public sealed record LabeledText(string Text, string? Pair, int Label);
