namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>A run of rendered conversation text that either carries loss (an assistant reply) or is context.</summary>
internal readonly record struct TextSegment(string Text, bool Supervised);
