using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Dpo;

namespace FineTune.MLNet.Estimators;

/// <summary>Options of <see cref="DpoFineTuneEstimator"/> (DPO preference alignment of a LoRA-tuned decoder LLM).</summary>
public sealed record DpoFineTuneOptions : CausalLmFineTuneOptions
{
    public DpoFineTuneOptions()
    {
        LearningRate = 5e-5;
        BatchSize = 8;
        WeightDecay = 0.0;
        WarmupRatio = 0.1;
        Decay = LearningRateDecay.Linear;
        Epochs = 1;
    }

    /// <summary>
    /// Optional PEFT adapter folder (e.g. the SFT result, <c>adapter_config.json</c> + <c>adapter_model.safetensors</c>)
    /// to start from; its own rank/alpha/targets replace <see cref="CausalLmFineTuneOptions.Lora"/>. As in TRL for a PEFT model without a
    /// separate reference model, the reference is the base model with adapters off. Null = fresh adapters (B = 0) with
    /// <see cref="CausalLmFineTuneOptions.Lora"/>.
    /// </summary>
    public string? AdapterPath { get; init; }

    /// <summary>Preferred completion column (String).</summary>
    public string ChosenColumnName { get; init; } = "Chosen";

    /// <summary>Dispreferred completion column (String).</summary>
    public string RejectedColumnName { get; init; } = "Rejected";

    /// <summary>β of the implicit reward β·log(π/π_ref): higher keeps the policy closer to the reference. Range (0, 100]. TRL default 0.1.</summary>
    public double Beta { get; init; } = 0.1;

    /// <summary>cDPO label smoothing ε in [0, 0.5): assumed probability that a preference is flipped. Default 0 (plain DPO).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Compute the reference log-probs of the training pairs once before training (one extra pass, no
    /// reference forward per step), as TRL's <c>precompute_ref_log_probs</c>. Default false.</summary>
    public bool PrecomputeReferenceLogProbs { get; init; }

    /// <summary>Receives the DPO metrics (reward margin, accuracy, rewards, log-probs) after each optimizer step and validation pass.</summary>
    public IProgress<DpoProgress>? DpoProgress { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (AdapterPath is not null && !File.Exists(Path.Combine(AdapterPath, PeftAdapterConfig.FileName)))
            throw new ArgumentException($"AdapterPath '{AdapterPath}' has no {PeftAdapterConfig.FileName}; give a PEFT adapter folder or null.", nameof(AdapterPath));
        foreach (var (value, field) in new[] { (ChosenColumnName, nameof(ChosenColumnName)), (RejectedColumnName, nameof(RejectedColumnName)) })
        {
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{field} must name a column.", field);
        }
        if (ChosenColumnName == RejectedColumnName || ChosenColumnName == PromptColumnName || RejectedColumnName == PromptColumnName)
            throw new ArgumentException($"PromptColumnName ('{PromptColumnName}'), ChosenColumnName ('{ChosenColumnName}') and RejectedColumnName ('{RejectedColumnName}') must be three different columns.", nameof(ChosenColumnName));
        Check(Beta > 0 && Beta <= 100, nameof(Beta), Beta, "must be in (0, 100]");
        Check(LabelSmoothing is >= 0 and < 0.5, nameof(LabelSmoothing), LabelSmoothing, "must be in [0, 0.5)");
    }
}
