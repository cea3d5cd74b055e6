using FineTune.MLNet.Formats.Onnx;

namespace FineTune.MLNet.Import.MiniLm;

/// <summary>A float weight recovered from an ONNX graph, in PyTorch layout (Linear weights are [out, in]).</summary>
internal sealed record RecoveredWeight(float[] Data, long[] Dims, string Source);

/// <summary>
/// Names the Linear weights of a PyTorch-exported ONNX graph by their Hugging Face keys. torch.onnx exports a
/// Linear on a 3-D input as <c>MatMul(x, W)</c> with an anonymous initializer W stored [in, out], followed by
/// <c>Add</c> with the named bias (in either operand order); on a 2-D input it exports <c>Gemm(x, W, b)</c> with the
/// named weight. The key is taken from the bias initializer (<c>prefix.bias</c> gives <c>prefix.weight</c>), never
/// from the numeric initializer names. Weights are returned transposed to [out, in] where the graph stored [in, out].
/// </summary>
internal static class OnnxLinearWeightFinder
{
    public static Dictionary<string, RecoveredWeight> Find(OnnxGraph graph)
    {
        Dictionary<string, OnnxTensor> initializers = IndexInitializers(graph);
        var consumers = new Dictionary<string, List<OnnxNode>>();
        foreach (OnnxNode node in graph.Nodes)
        {
            foreach (string input in node.Inputs.Where(i => i.Length > 0))
            {
                if (!consumers.TryGetValue(input, out List<OnnxNode>? list))
                {
                    consumers[input] = list = [];
                }
                list.Add(node);
            }
        }

        var found = new Dictionary<string, RecoveredWeight>();
        foreach (OnnxNode node in graph.Nodes)
        {
            (string Key, RecoveredWeight Weight)? hit = node.OpType switch
            {
                "MatMul" => FromMatMul(node, initializers, consumers),
                "Gemm" => FromGemm(node, initializers),
                _ => null,
            };
            if (hit is not { } h)
            {
                continue;
            }
            if (found.TryGetValue(h.Key, out RecoveredWeight? earlier))
            {
                throw new OnnxFormatException(
                    $"Two ONNX nodes map to the same weight '{h.Key}': {earlier.Source} and {h.Weight.Source}.");
            }
            found[h.Key] = h.Weight;
        }
        return found;
    }

    internal static Dictionary<string, OnnxTensor> IndexInitializers(OnnxGraph graph)
    {
        var byName = new Dictionary<string, OnnxTensor>();
        foreach (OnnxTensor tensor in graph.Initializers)
        {
            if (!byName.TryAdd(tensor.Name, tensor))
            {
                throw new OnnxFormatException($"ONNX graph '{graph.Name}' has two initializers named '{tensor.Name}'.");
            }
        }
        return byName;
    }

    private static (string, RecoveredWeight)? FromMatMul(
        OnnxNode matMul, Dictionary<string, OnnxTensor> initializers, Dictionary<string, List<OnnxNode>> consumers)
    {
        if (matMul.Inputs.Count != 2 || matMul.Outputs.Count != 1
            || !initializers.TryGetValue(matMul.Inputs[1], out OnnxTensor? w)
            || w.DataType != OnnxDataType.Float || w.Dims.Length != 2)
        {
            return null;
        }
        List<(OnnxNode Add, OnnxTensor Bias)> biasAdds = [];
        foreach (OnnxNode consumer in consumers.GetValueOrDefault(matMul.Outputs[0]) ?? [])
        {
            if (consumer.OpType != "Add" || consumer.Inputs.Count != 2)
            {
                continue;
            }
            string other = consumer.Inputs[0] == matMul.Outputs[0] ? consumer.Inputs[1] : consumer.Inputs[0];
            if (other.EndsWith(".bias", StringComparison.Ordinal) && initializers.TryGetValue(other, out OnnxTensor? bias))
            {
                biasAdds.Add((consumer, bias));
            }
        }
        if (biasAdds.Count != 1)
        {
            return null; // not a Linear (e.g. attention scores), or ambiguous: left for the missing-key report
        }
        (OnnxNode add, OnnxTensor b) = biasAdds[0];
        long inFeatures = w.Dims[0], outFeatures = w.Dims[1];
        if (b.Dims.Length != 1 || b.Dims[0] != outFeatures)
        {
            throw new OnnxFormatException(
                $"MatMul '{matMul.Name}' weight '{w.Name}' is [{inFeatures},{outFeatures}] but its bias '{b.Name}' " +
                $"(added by '{add.Name}') has dims [{string.Join(",", b.Dims)}], expected [{outFeatures}].");
        }
        string key = WeightKeyForBias(b.Name);
        float[] transposed = Transpose(w.ToFloatArray(), (int)inFeatures, (int)outFeatures); // [in,out] -> [out,in]
        return (key, new RecoveredWeight(transposed, [outFeatures, inFeatures], $"MatMul '{matMul.Name}' initializer '{w.Name}'"));
    }

    private static (string, RecoveredWeight)? FromGemm(OnnxNode gemm, Dictionary<string, OnnxTensor> initializers)
    {
        if (gemm.Inputs.Count != 3
            || !initializers.TryGetValue(gemm.Inputs[1], out OnnxTensor? w)
            || !initializers.TryGetValue(gemm.Inputs[2], out OnnxTensor? b)
            || !b.Name.EndsWith(".bias", StringComparison.Ordinal)
            || w.DataType != OnnxDataType.Float || w.Dims.Length != 2)
        {
            return null;
        }
        if ((gemm.FindAttribute("transA")?.I ?? 0) != 0
            || (gemm.FindAttribute("alpha")?.F ?? 1f) != 1f
            || (gemm.FindAttribute("beta")?.F ?? 1f) != 1f)
        {
            throw new OnnxFormatException(
                $"Gemm '{gemm.Name}' (bias '{b.Name}') uses transA, alpha or beta; only Y = X W^T + b (or X W + b) is a Linear layer.");
        }
        bool transB = (gemm.FindAttribute("transB")?.I ?? 0) != 0;
        string key = WeightKeyForBias(b.Name);
        string source = $"Gemm '{gemm.Name}' initializer '{w.Name}' (transB={(transB ? 1 : 0)})";
        return transB
            ? (key, new RecoveredWeight(w.ToFloatArray(), [w.Dims[0], w.Dims[1]], source)) // already [out,in]
            : (key, new RecoveredWeight(Transpose(w.ToFloatArray(), (int)w.Dims[0], (int)w.Dims[1]), [w.Dims[1], w.Dims[0]], source));
    }

    private static string WeightKeyForBias(string biasName) => biasName[..^".bias".Length] + ".weight";

    /// <summary>Row-major [rows, cols] to [cols, rows].</summary>
    internal static float[] Transpose(float[] source, int rows, int cols)
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
