using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.MLNet.ZeroShot;

/// <summary>
/// Sentence embeddings as sentence-transformers computes them for all-MiniLM-L6-v2: mean of the last hidden states over
/// non-padding tokens, then L2-normalised.
/// </summary>
public sealed class SentenceEmbedder(BertModel encoder, WordPieceTokenizer tokenizer, int maxLength = 256, Device? device = null)
{
    private readonly Device _device = device ?? CPU;

    /// <summary>Unit-length embeddings (N, H) as float rows, in input order.</summary>
    public float[][] Embed(IReadOnlyList<string> texts, int batchSize = 64)
    {
        var result = new float[texts.Count][];
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        var wasTraining = encoder.training;
        encoder.to(_device).eval();
        try
        {
            using var _ = no_grad();
            for (var start = 0; start < order.Length; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var rows = order.Skip(start).Take(batchSize).ToArray();
                var (ids, mask, types) = tokenizer.EncodeBatch(rows.Select(r => texts[r]).ToArray(), null, maxLength).ToTensors(_device);
                var hidden = encoder.forward(ids, mask, types);                         // (B, T, H)
                var m = mask.unsqueeze(-1).to(hidden.dtype);                            // (B, T, 1)
                var mean = (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9);              // (B, H)
                var unit = nn.functional.normalize(mean, p: 2, dim: 1).to(ScalarType.Float32).cpu();   // (B, H)
                var flat = unit.data<float>().ToArray();
                var h = (int)unit.shape[1];
                for (var i = 0; i < rows.Length; i++) result[rows[i]] = flat.AsSpan(i * h, h).ToArray();
            }
        }
        finally
        {
            encoder.train(wasTraining);
        }
        return result;
    }
}
