using System.Text.RegularExpressions;

namespace FineTune.MLNet.Models.Bert;

/// <summary>
/// Renames DistilBERT checkpoint keys onto <see cref="BertModel"/> / <see cref="BertForSequenceClassification"/>:
/// DistilBERT is BERT without token types, with <c>pre_classifier</c> + ReLU where BERT has the tanh pooler.
/// </summary>
public static partial class DistilBertKeyMap
{
    private static readonly (Regex From, string To)[] Rules =
    [
        (new(@"^distilbert\.embeddings\."), "bert.embeddings."),
        (new(@"^distilbert\.transformer\.layer\.(\d+)\.attention\.q_lin\."), "bert.encoder.layer.$1.attention.self.query."),
        (new(@"^distilbert\.transformer\.layer\.(\d+)\.attention\.k_lin\."), "bert.encoder.layer.$1.attention.self.key."),
        (new(@"^distilbert\.transformer\.layer\.(\d+)\.attention\.v_lin\."), "bert.encoder.layer.$1.attention.self.value."),
        (new(@"^distilbert\.transformer\.layer\.(\d+)\.attention\.out_lin\."), "bert.encoder.layer.$1.attention.output.dense."),
        (new(@"^distilbert\.transformer\.layer\.(\d+)\.sa_layer_norm\."), "bert.encoder.layer.$1.attention.output.LayerNorm."),
        (new(@"^distilbert\.transformer\.layer\.(\d+)\.ffn\.lin1\."), "bert.encoder.layer.$1.intermediate.dense."),
        (new(@"^distilbert\.transformer\.layer\.(\d+)\.ffn\.lin2\."), "bert.encoder.layer.$1.output.dense."),
        (new(@"^distilbert\.transformer\.layer\.(\d+)\.output_layer_norm\."), "bert.encoder.layer.$1.output.LayerNorm."),
        (new(@"^pre_classifier\."), "bert.pooler.dense."),
    ];

    private static readonly (Regex From, string To)[] Inverse =
    [
        (new(@"^bert\.embeddings\."), "distilbert.embeddings."),
        (new(@"^bert\.encoder\.layer\.(\d+)\.attention\.self\.query\."), "distilbert.transformer.layer.$1.attention.q_lin."),
        (new(@"^bert\.encoder\.layer\.(\d+)\.attention\.self\.key\."), "distilbert.transformer.layer.$1.attention.k_lin."),
        (new(@"^bert\.encoder\.layer\.(\d+)\.attention\.self\.value\."), "distilbert.transformer.layer.$1.attention.v_lin."),
        (new(@"^bert\.encoder\.layer\.(\d+)\.attention\.output\.dense\."), "distilbert.transformer.layer.$1.attention.out_lin."),
        (new(@"^bert\.encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\."), "distilbert.transformer.layer.$1.sa_layer_norm."),
        (new(@"^bert\.encoder\.layer\.(\d+)\.intermediate\.dense\."), "distilbert.transformer.layer.$1.ffn.lin1."),
        (new(@"^bert\.encoder\.layer\.(\d+)\.output\.dense\."), "distilbert.transformer.layer.$1.ffn.lin2."),
        (new(@"^bert\.encoder\.layer\.(\d+)\.output\.LayerNorm\."), "distilbert.transformer.layer.$1.output_layer_norm."),
        (new(@"^bert\.pooler\.dense\."), "pre_classifier."),
    ];

    /// <summary>The Hugging Face DistilBERT name of a BERT-structure key (for saving a fine-tuned DistilBERT as HF writes it).</summary>
    public static string ToDistilBert(string bertKey)
    {
        foreach (var (from, to) in Inverse)
        {
            if (from.IsMatch(bertKey)) return from.Replace(bertKey, to, 1);
        }
        return bertKey;
    }

    /// <summary>The BERT-structure name of a DistilBERT key (keys without a rule, e.g. <c>classifier.*</c>, pass through).</summary>
    public static string Map(string key)
    {
        var bare = key.StartsWith("distilbert.", StringComparison.Ordinal) || key.StartsWith("pre_classifier.", StringComparison.Ordinal) ||
                   key.StartsWith("classifier.", StringComparison.Ordinal) ? key : "distilbert." + key;
        foreach (var (from, to) in Rules)
        {
            if (from.IsMatch(bare)) return from.Replace(bare, to, 1);
        }
        return bare.StartsWith("distilbert.", StringComparison.Ordinal) ? key : bare;
    }
}
