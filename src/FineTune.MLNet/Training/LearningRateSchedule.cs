namespace FineTune.MLNet.Training;

/// <summary>How the learning rate decays after warmup.</summary>
public enum LearningRateDecay
{
    /// <summary>Linear to zero at the last step (HF <c>get_linear_schedule_with_warmup</c>).</summary>
    Linear,
    /// <summary>Half-cosine to zero (HF <c>get_cosine_schedule_with_warmup</c>, 0.5 cycles).</summary>
    Cosine,
    /// <summary>Constant after warmup.</summary>
    Constant,
}

/// <summary>Warmup then decay, as a pure function of the step: the multiplier for the peak learning rate.</summary>
public static class LearningRateSchedule
{
    /// <param name="step">0-based optimizer step about to be taken.</param>
    /// <param name="warmupSteps">Steps of linear warmup from 0.</param>
    /// <param name="totalSteps">All optimizer steps of the run.</param>
    /// <param name="decay">Decay after warmup.</param>
    public static double Multiplier(long step, long warmupSteps, long totalSteps, LearningRateDecay decay)
    {
        if (step < warmupSteps) return (double)step / Math.Max(1, warmupSteps);
        if (decay == LearningRateDecay.Constant) return 1.0;
        var progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return decay == LearningRateDecay.Linear
            ? Math.Max(0.0, 1.0 - progress)
            : Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress)));
    }
}
