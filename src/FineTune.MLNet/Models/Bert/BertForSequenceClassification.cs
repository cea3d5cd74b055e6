using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Peft;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.MLNet.Models.Bert;

/// <summary>
/// Encoder + pooler + dropout + linear classifier, HF <c>BertForSequenceClassification</c> (keys <c>bert.*</c>,
/// <c>classifier.*</c>). With <see cref="LoraSettings"/> the targeted encoder linears carry adapters and are frozen
/// with the rest of the encoder; the pooler and classifier always train (PEFT <c>modules_to_save</c>).
/// </summary>
public sealed class BertForSequenceClassification : nn.Module<Tensor, Tensor, Tensor?, Tensor>
{
    private readonly BertModel bert;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    public BertForSequenceClassification(BertConfig config, LoraSettings? lora = null) : base(nameof(BertForSequenceClassification))
    {
        bert = new BertModel(config, lora);
        dropout = nn.Dropout(config.ClassifierDropout ?? config.HiddenDropoutProb);
        classifier = nn.Linear(config.HiddenSize, config.NumLabels);
        using (no_grad())
        {
            nn.init.normal_(classifier.weight!, 0, config.InitializerRange);
            nn.init.zeros_(classifier.bias!);
        }
        RegisterComponents();
        Lora = lora;
        if (lora is not null) FreezeAllButAdaptersAndHead();
    }

    public BertConfig Config => bert.Config;

    /// <summary>The adapter settings, or null for full fine-tuning.</summary>
    public LoraSettings? Lora { get; }

    /// <summary>The encoder (last hidden states), e.g. for embeddings.</summary>
    public BertModel Encoder => bert;

    /// <returns>Logits (B, num_labels).</returns>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        var hidden = bert.forward(inputIds, attentionMask, tokenTypeIds);   // (B, T, H)
        var pooled = bert.Pooler.forward(hidden);                            // (B, H)
        return classifier.forward(dropout.forward(pooled)).MoveToOuterDisposeScope();   // (B, C)
    }

    /// <summary>All LoRA layers of the encoder.</summary>
    public IEnumerable<LoraLinear> LoraLayers() => modules().OfType<LoraLinear>().Where(l => l.HasAdapter);

    private void FreezeAllButAdaptersAndHead()
    {
        foreach (var (name, p) in named_parameters())
        {
            p.requires_grad = name.Contains(".lora_") || name.StartsWith("classifier.") || name.StartsWith("bert.pooler.");
        }
    }
}
