using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Peft;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.MLNet.Models.Bert;

/// <summary>
/// The BERT encoder, HF <c>BertModel</c> with identical parameter names (<c>embeddings.*</c>, <c>encoder.layer.{i}.*</c>,
/// <c>pooler.dense.*</c>), so Hugging Face checkpoints load as they are. DistilBERT checkpoints load through
/// <see cref="DistilBertKeyMap"/> onto this same structure.
/// </summary>
public sealed class BertModel : nn.Module<Tensor, Tensor, Tensor?, Tensor>
{
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler pooler;

    public BertModel(BertConfig config, LoraSettings? lora = null) : base(nameof(BertModel))
    {
        config.Validate();
        ModelMemory.EnsureFits(ModelMemory.ParameterCount(config), sizeof(float), $"{config.ModelType} config");
        Config = config;
        embeddings = new BertEmbeddings(config);
        encoder = new BertEncoder(config, lora);
        pooler = new BertPooler(config);
        RegisterComponents();
    }

    public BertConfig Config { get; }

    internal BertPooler Pooler => pooler;

    /// <summary>Last hidden state.</summary>
    /// <param name="inputIds">(B, T) int64.</param>
    /// <param name="attentionMask">(B, T) int64/bool, 1 = token, 0 = padding.</param>
    /// <param name="tokenTypeIds">(B, T) int64 or null.</param>
    /// <returns>(B, T, H).</returns>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        var x = embeddings.forward(inputIds, tokenTypeIds);                     // (B, T, H)
        var additiveMask = AdditiveMask(attentionMask, x.dtype);                 // (B, 1, 1, T)
        return encoder.forward(x, additiveMask).MoveToOuterDisposeScope();
    }

    /// <summary>0 where the mask is 1, the dtype's most negative value where it is 0 (as HF's extended attention mask).</summary>
    internal static Tensor AdditiveMask(Tensor attentionMask, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var keep = attentionMask.to(ScalarType.Bool).unsqueeze(1).unsqueeze(2);  // (B, 1, 1, T)
        var min = dtype == ScalarType.Float64 ? double.MinValue : dtype == ScalarType.Float32 ? float.MinValue : -65504.0;
        var mask = zeros(keep.shape, dtype, attentionMask.device).masked_fill_(keep.logical_not(), min);
        return mask.MoveToOuterDisposeScope();
    }
}

/// <summary>The stack of transformer blocks, HF <c>BertEncoder</c> (<c>encoder.layer.{i}</c>).</summary>
public sealed class BertEncoder : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<BertLayer> layer;

    public BertEncoder(BertConfig config, LoraSettings? lora) : base(nameof(BertEncoder))
    {
        layer = new ModuleList<BertLayer>(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config, lora)).ToArray());
        RegisterComponents();
    }

    /// <param name="x">(B, T, H).</param><param name="additiveMask">(B, 1, 1, T).</param><returns>(B, T, H).</returns>
    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var h = x;
        foreach (var block in layer)
        {
            h = block.forward(h, additiveMask);   // (B, T, H)
        }
        return h.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// <c>act(dense(hidden[:, 0]))</c>: HF <c>BertPooler</c> (tanh); DistilBERT's <c>pre_classifier</c> + ReLU maps here too.
/// </summary>
public sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly bool relu;

    public BertPooler(BertConfig config) : base(nameof(BertPooler))
    {
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        relu = config.ModelType == "distilbert";
        using (no_grad())
        {
            nn.init.normal_(dense.weight!, 0, config.InitializerRange);
            nn.init.zeros_(dense.bias!);
        }
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, H).</param><returns>(B, H).</returns>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var first = hidden.select(1, 0);                   // (B, H)
        var h = dense.forward(first);                       // (B, H)
        return (relu ? nn.functional.relu(h) : h.tanh()).MoveToOuterDisposeScope();
    }
}
