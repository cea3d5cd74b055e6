using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Tokenization;
using static TorchSharp.torch;

namespace FineTune.MLNet.Classification;

/// <summary>
/// Batched, length-sorted scoring of a sequence classifier. Thread-safe for a model in eval mode (every call has its
/// own tensors under its own dispose scope); a model in training mode is switched to eval for the call and back.
/// </summary>
internal static class ClassifierInference
{
    /// <summary>Class probabilities per example (softmax of the logits), in input order.</summary>
    public static float[][] Probabilities(BertForSequenceClassification model, WordPieceTokenizer tokenizer,
        IReadOnlyList<LabeledText> examples, int batchSize, int maxLength, Device device)
    {
        var result = new float[examples.Count][];
        if (examples.Count == 0) return result;
        var lengths = examples.Select(e => e.Pair is null ? tokenizer.CountTokens(e.Text) : tokenizer.CountTokens(e.Text, e.Pair)).ToArray();
        var order = Enumerable.Range(0, examples.Count).OrderBy(i => lengths[i]).ToArray();
        // A fitted classifier is already in eval mode: switch (and switch back) only when it is not, since flipping the
        // mode on every call races with other threads scoring with the same model.
        var wasTraining = model.training;
        if (wasTraining) model.eval();
        try
        {
            using var _ = no_grad();
            for (var start = 0; start < order.Length; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var rows = order.Skip(start).Take(batchSize).ToArray();
                using var batch = ClassifierBatch.Create(tokenizer, examples, rows, maxLength, device, withLabels: false);
                var probs = model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds)   // (B, C)
                    .softmax(-1).to(ScalarType.Float32).cpu();
                var flat = probs.data<float>().ToArray();
                var classes = (int)probs.shape[1];
                for (var i = 0; i < rows.Length; i++) result[rows[i]] = flat.AsSpan(i * classes, classes).ToArray();
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return result;
    }

    /// <summary>Mean cross-entropy of labelled examples.</summary>
    public static double Loss(float[][] probabilities, IReadOnlyList<LabeledText> examples)
    {
        double sum = 0;
        for (var i = 0; i < examples.Count; i++) sum -= Math.Log(Math.Max(probabilities[i][examples[i].Label], 1e-12f));
        return sum / examples.Count;
    }

    public static int ArgMax(float[] p)
    {
        var best = 0;
        for (var i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
        return best;
    }
}
