using FineTune.MLNet.Formats.Onnx;

namespace FineTune.MLNet.Tests.Onnx;

/// <summary>
/// A synthetic graph laid out like torch.onnx's BERT export (named embeddings, biases and LayerNorms; Linear
/// weights as anonymous MatMul initializers stored [in, out] followed by Add with the named bias; pooler as Gemm).
/// Only the nodes the importer walks are present: it is not meant to run. <see cref="TorchWeights"/> holds the
/// weights in PyTorch layout ([out, in]) that the importer must recover exactly.
/// </summary>
internal sealed class TinyBertOnnxGraph
{
    public const int Hidden = 4, Intermediate = 6, Vocab = 11, Positions = 7, TokenTypes = 2;

    public Dictionary<string, (float[] Data, long[] Dims)> TorchWeights { get; } = [];

    public OnnxModel Model { get; } = new() { OpsetImports = { new OnnxOpsetImport("", 13) } };

    /// <param name="layers">Encoder layers.</param>
    /// <param name="biasFirst">Write <c>Add(bias, matmul)</c> as torch 1.10 does, else <c>Add(matmul, bias)</c>.</param>
    /// <param name="poolerTransB">Pooler Gemm's transB; 0 stores the pooler weight [in, out].</param>
    public TinyBertOnnxGraph(int layers = 2, bool biasFirst = true, int poolerTransB = 1)
    {
        var random = new Random(1234);
        Named("embeddings.word_embeddings.weight", [Vocab, Hidden], random);
        Named("embeddings.position_embeddings.weight", [Positions, Hidden], random);
        Named("embeddings.token_type_embeddings.weight", [TokenTypes, Hidden], random);
        Named("embeddings.LayerNorm.weight", [Hidden], random);
        Named("embeddings.LayerNorm.bias", [Hidden], random);
        Model.Graph.Initializers.Add(OnnxTensor.FromInt64s("embeddings.position_ids", [1, Positions], Enumerable.Range(0, Positions).Select(i => (long)i).ToArray()));
        int anonymous = 900;
        for (int layer = 0; layer < layers; layer++)
        {
            string p = $"encoder.layer.{layer}.";
            foreach (string proj in new[] { "query", "key", "value" })
            {
                Linear($"{p}attention.self.{proj}", Hidden, Hidden, random, ref anonymous, biasFirst);
            }
            Linear($"{p}attention.output.dense", Hidden, Hidden, random, ref anonymous, biasFirst);
            Named($"{p}attention.output.LayerNorm.weight", [Hidden], random);
            Named($"{p}attention.output.LayerNorm.bias", [Hidden], random);
            Linear($"{p}intermediate.dense", Hidden, Intermediate, random, ref anonymous, biasFirst);
            Linear($"{p}output.dense", Intermediate, Hidden, random, ref anonymous, biasFirst);
            Named($"{p}output.LayerNorm.weight", [Hidden], random);
            Named($"{p}output.LayerNorm.bias", [Hidden], random);
        }
        // Attention-score MatMul between two activations: must be ignored by the importer.
        Model.Graph.Nodes.Add(new OnnxNode { Name = "scores", OpType = "MatMul", Inputs = { "q", "kT" }, Outputs = { "s" } });
        // Pooler: Gemm(cls, W, b), W named.
        float[] pw = RandomValues(Hidden * Hidden, random);
        TorchWeights["pooler.dense.weight"] = (pw, [Hidden, Hidden]);
        float[] stored = poolerTransB == 1 ? pw : Transpose(pw, Hidden, Hidden);
        Model.Graph.Initializers.Add(OnnxTensor.FromFloats("pooler.dense.weight", [Hidden, Hidden], stored));
        Named("pooler.dense.bias", [Hidden], random);
        Model.Graph.Nodes.Add(new OnnxNode
        {
            Name = "Gemm_pooler",
            OpType = "Gemm",
            Inputs = { "cls", "pooler.dense.weight", "pooler.dense.bias" },
            Outputs = { "pooled" },
            Attributes = { OnnxAttribute.Float("alpha", 1f), OnnxAttribute.Float("beta", 1f), OnnxAttribute.Int("transB", poolerTransB) },
        });
    }

    private void Named(string name, long[] dims, Random random)
    {
        float[] data = RandomValues((int)dims.Aggregate(1L, (a, b) => a * b), random);
        TorchWeights[name] = (data, dims);
        Model.Graph.Initializers.Add(OnnxTensor.FromFloats(name, dims, data));
    }

    private void Linear(string prefix, int inFeatures, int outFeatures, Random random, ref int anonymous, bool biasFirst)
    {
        float[] torchWeight = RandomValues(inFeatures * outFeatures, random); // [out, in]
        TorchWeights[prefix + ".weight"] = (torchWeight, [outFeatures, inFeatures]);
        string wName = (anonymous++).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Model.Graph.Initializers.Add(OnnxTensor.FromFloats(wName, [inFeatures, outFeatures], Transpose(torchWeight, outFeatures, inFeatures)));
        Named(prefix + ".bias", [outFeatures], random);
        string mm = $"{wName}_mm", y = $"{wName}_y";
        Model.Graph.Nodes.Add(new OnnxNode { Name = $"MatMul_{wName}", OpType = "MatMul", Inputs = { $"{prefix}.input", wName }, Outputs = { mm } });
        Model.Graph.Nodes.Add(new OnnxNode
        {
            Name = $"Add_{wName}",
            OpType = "Add",
            Inputs = biasFirst ? [prefix + ".bias", mm] : [mm, prefix + ".bias"],
            Outputs = { y },
        });
    }

    private static float[] RandomValues(int count, Random random) =>
        Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    public static float[] Transpose(float[] source, int rows, int cols)
    {
        var result = new float[source.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                result[c * rows + r] = source[r * cols + c];
            }
        }
        return result;
    }
}
