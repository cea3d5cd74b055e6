namespace FineTune.MLNet.Import.MiniLm;

/// <summary>Hugging Face <c>BertModel</c> state-dict keys and their expected shapes (Linear weights [out, in]).</summary>
internal static class BertWeightKeys
{
    public static IEnumerable<(string Key, long[] Shape)> Expected(BertOnnxDimensions d)
    {
        long h = d.HiddenSize, i = d.IntermediateSize;
        yield return ("embeddings.word_embeddings.weight", [d.VocabSize, h]);
        yield return ("embeddings.position_embeddings.weight", [d.MaxPositionEmbeddings, h]);
        yield return ("embeddings.token_type_embeddings.weight", [d.TypeVocabSize, h]);
        yield return ("embeddings.LayerNorm.weight", [h]);
        yield return ("embeddings.LayerNorm.bias", [h]);
        for (int layer = 0; layer < d.NumLayers; layer++)
        {
            foreach ((string key, long[] shape) in Layer(layer, h, i))
            {
                yield return (key, shape);
            }
        }
        if (d.HasPooler)
        {
            yield return ("pooler.dense.weight", [h, h]);
            yield return ("pooler.dense.bias", [h]);
        }
    }

    /// <summary>The 16 tensors of one encoder layer.</summary>
    public static IEnumerable<(string Key, long[] Shape)> Layer(int layer, long h, long i)
    {
        string p = $"encoder.layer.{layer}.";
        foreach (string proj in new[] { "query", "key", "value" })
        {
            yield return ($"{p}attention.self.{proj}.weight", [h, h]);
            yield return ($"{p}attention.self.{proj}.bias", [h]);
        }
        yield return ($"{p}attention.output.dense.weight", [h, h]);
        yield return ($"{p}attention.output.dense.bias", [h]);
        yield return ($"{p}attention.output.LayerNorm.weight", [h]);
        yield return ($"{p}attention.output.LayerNorm.bias", [h]);
        yield return ($"{p}intermediate.dense.weight", [i, h]);
        yield return ($"{p}intermediate.dense.bias", [i]);
        yield return ($"{p}output.dense.weight", [h, i]);
        yield return ($"{p}output.dense.bias", [h]);
        yield return ($"{p}output.LayerNorm.weight", [h]);
        yield return ($"{p}output.LayerNorm.bias", [h]);
    }

    /// <summary>True for keys that belong to a BertModel state dict (the import's namespace).</summary>
    public static bool IsBertKey(string name) =>
        name.StartsWith("embeddings.", StringComparison.Ordinal)
        || name.StartsWith("encoder.layer.", StringComparison.Ordinal)
        || name.StartsWith("pooler.", StringComparison.Ordinal);
}
