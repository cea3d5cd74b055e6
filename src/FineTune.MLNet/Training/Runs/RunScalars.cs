namespace FineTune.MLNet.Training.Runs;

/// <summary>One scalar of a run-folder record: its <c>metrics.jsonl</c> key and its TensorBoard tag.</summary>
internal readonly record struct RunScalar(string Key, string Tag, double Value);

/// <summary>
/// The scalars of a progress report, in the one naming both sinks share. Training steps: <c>loss</c>,
/// <c>learning_rate</c>, <c>grad_norm</c> (before clipping), <c>tokens_per_second</c> and the task's metrics (DPO:
/// TRL's <c>rewards/*</c>, <c>logps/*</c>), tagged <c>train/KEY</c>. Evaluations: <c>validation_loss</c> (tag
/// <c>eval/loss</c>), <c>accuracy</c>, <c>macro_f1</c> and the task's metrics, tagged <c>eval/KEY</c>.
/// </summary>
internal static class RunScalars
{
    public static IReadOnlyList<RunScalar> Of(TrainingProgress p)
    {
        var list = new List<RunScalar>();
        if (p.IsValidation)
        {
            list.Add(new("validation_loss", "eval/loss", p.ValidationLoss!.Value));
            if (p.ValidationAccuracy is { } accuracy) list.Add(new("accuracy", "eval/accuracy", accuracy));
            if (p.ValidationMacroF1 is { } f1) list.Add(new("macro_f1", "eval/macro_f1", f1));
            AddMetrics(list, p, "eval/");
            return list;
        }
        list.Add(new("loss", "train/loss", p.TrainLoss));
        list.Add(new("learning_rate", "train/learning_rate", p.LearningRate));
        if (p.GradNorm is { } norm) list.Add(new("grad_norm", "train/grad_norm", norm));
        list.Add(new("tokens_per_second", "train/tokens_per_second", p.TokensPerSecond));
        AddMetrics(list, p, "train/");
        return list;
    }

    private static void AddMetrics(List<RunScalar> list, TrainingProgress p, string prefix)
    {
        if (p.Metrics is null) return;
        // A task metric named like one of the loop's (DPO's own "loss") is not written twice: a JSON line with a repeated key is invalid input to every strict reader.
        foreach (var (name, value) in p.Metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!list.Exists(s => s.Key == name)) list.Add(new(name, prefix + name, value));
        }
    }
}
