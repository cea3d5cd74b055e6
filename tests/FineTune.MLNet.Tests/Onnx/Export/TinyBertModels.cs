using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Peft;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Onnx.Export;

/// <summary>
/// Tiny seeded <see cref="BertForSequenceClassification"/> models with weights spread wide enough (std 0.2,
/// LayerNorm scales around 1) that the logits are of order 1, so a 1e-4 parity bound means something; and a padded
/// batch to run them on.
/// </summary>
internal static class TinyBertModels
{
    public const int Vocab = 40, Positions = 16;

    public static BertConfig Config(string modelType = "bert", string hiddenAct = "gelu") => new()
    {
        ModelType = modelType,
        VocabSize = Vocab,
        HiddenSize = 16,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        IntermediateSize = 32,
        HiddenAct = hiddenAct,
        MaxPositionEmbeddings = Positions,
        TypeVocabSize = modelType == "distilbert" ? 0 : 2,
        LayerNormEps = 1e-12,
        NumLabels = 3,
    };

    /// <summary>A seeded model in eval mode with every weight redrawn (adapters keep lora_A, lora_B stays zero).</summary>
    public static BertForSequenceClassification Create(BertConfig config, LoraSettings? lora = null, long seed = 17)
    {
        manual_seed(seed);
        var model = new BertForSequenceClassification(config, lora);
        using (no_grad())
        {
            foreach (var (name, p) in model.named_parameters())
            {
                if (name.Contains(".lora_")) continue;
                if (name.EndsWith("LayerNorm.weight", StringComparison.Ordinal)) p.normal_(1.0, 0.1);
                else p.normal_(0.0, 0.2);
            }
        }
        model.eval();
        return model;
    }

    /// <summary>Sets every lora_B weight to non-zero values so the adapters change the output.</summary>
    public static void PerturbAdapters(BertForSequenceClassification model, long seed = 5)
    {
        manual_seed(seed);
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.Contains(".lora_B.")) p.normal_(0.0, 0.3);
        }
    }

    /// <summary>
    /// Three rows of lengths 7, 4 and 2 padded to 7 (pad id 0, mask 0, token type 0); the first row has a second segment.
    /// </summary>
    public static (long[] Ids, long[] Mask, long[] Types, int Batch, int Seq) PaddedBatch(bool tokenTypes = true)
    {
        const int batch = 3, seq = 7;
        int[] lengths = [7, 4, 2];
        var random = new Random(3);
        var ids = new long[batch * seq];
        var mask = new long[batch * seq];
        var types = new long[batch * seq];
        for (var b = 0; b < batch; b++)
        {
            for (var t = 0; t < lengths[b]; t++)
            {
                ids[b * seq + t] = random.Next(1, Vocab);
                mask[b * seq + t] = 1;
                types[b * seq + t] = tokenTypes && b == 0 && t >= 4 ? 1 : 0;
            }
        }
        return (ids, mask, types, batch, seq);
    }

    /// <summary>The TorchSharp model's logits (eval mode, no grad) on a row-major (B, T) batch.</summary>
    public static float[] TorchLogits(BertForSequenceClassification model, long[] ids, long[] mask, long[]? types, int batch, int seq)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long[] shape = [batch, seq];
        var logits = model.forward(tensor(ids, shape), tensor(mask, shape), types is null ? null : tensor(types, shape));   // (B, C)
        return logits.data<float>().ToArray();
    }

    /// <summary>The TorchSharp encoder's last hidden state (B, T, H), row-major.</summary>
    public static float[] TorchHidden(BertForSequenceClassification model, long[] ids, long[] mask, long[]? types, int batch, int seq)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long[] shape = [batch, seq];
        return model.Encoder.forward(tensor(ids, shape), tensor(mask, shape), types is null ? null : tensor(types, shape)).data<float>().ToArray();
    }

    public static Dictionary<string, OnnxFloatOutput> RunOnnx(byte[] onnx, long[] ids, long[] mask, long[]? types, int batch, int seq)
    {
        using var runner = new OnnxReferenceRunner(onnx);
        return runner.Run(ids, mask, types, batch, seq);
    }

    public static double MaxAbsDiff(IReadOnlyList<float> a, IReadOnlyList<float> b)
    {
        Xunit.Assert.Equal(a.Count, b.Count);
        double max = 0;
        for (var i = 0; i < a.Count; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}
