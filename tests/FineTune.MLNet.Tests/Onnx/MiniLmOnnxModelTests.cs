using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Import.MiniLm;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace FineTune.MLNet.Tests.Onnx;

/// <summary>The reader and importer on the real all-MiniLM-L6-v2 export, checked against ONNX Runtime.</summary>
public class MiniLmOnnxModelTests(ITestOutputHelper output)
{
    [Fact]
    public void ReaderParsesTheRealModel()
    {
        OnnxModel model = EmbeddedMiniLm.Model;
        output.WriteLine($"ir {model.IrVersion}, producer '{model.ProducerName} {model.ProducerVersion}', graph '{model.Graph.Name}', " +
                         $"{model.Graph.Nodes.Count} nodes, {model.Graph.Initializers.Count} initializers");
        foreach (OnnxValueInfo v in model.Graph.Inputs)
        {
            output.WriteLine("input  " + v);
        }
        foreach (OnnxValueInfo v in model.Graph.Outputs)
        {
            output.WriteLine("output " + v);
        }

        Assert.Equal(13, model.DefaultOpset);
        Assert.Equal(7, model.IrVersion);
        Assert.True(model.Graph.Nodes.Count > 500, $"{model.Graph.Nodes.Count} nodes");
        Assert.Equal(48, model.Graph.Nodes.Count(n => n.OpType == "MatMul"));  // 6 layers x (q,k,v,o,in,out + 2 attention)
        Assert.Equal(6, model.Graph.Nodes.Count(n => n.OpType == "Softmax"));
        Assert.Equal(
            ["input_ids: Int64[batch,sequence]", "attention_mask: Int64[batch,sequence]", "token_type_ids: Int64[batch,sequence]"],
            model.Graph.Inputs.Select(v => v.ToString()));
        Assert.Equal("last_hidden_state", model.Graph.Outputs[0].Name);
        Assert.Equal(2, model.Graph.Outputs.Count); // second is the pooler's tanh output, named "924" by the exporter

        Dictionary<string, OnnxTensor> init = model.Graph.Initializers.ToDictionary(t => t.Name);
        Assert.Equal([30522L, 384], init["embeddings.word_embeddings.weight"].Dims);
        Assert.Equal([512L, 384], init["embeddings.position_embeddings.weight"].Dims);
        Assert.Equal([2L, 384], init["embeddings.token_type_embeddings.weight"].Dims);
        Assert.Equal([1536L], init["encoder.layer.5.intermediate.dense.bias"].Dims);
        Assert.Equal([384L, 384], init["pooler.dense.weight"].Dims);
        Assert.Equal(OnnxDataType.Int64, init["embeddings.position_ids"].DataType);
        Assert.Equal(Enumerable.Range(0, 512).Select(i => (long)i), init["embeddings.position_ids"].ToInt64Array());
        // The export's 37 Linear MatMul weights are anonymous: 24 square, 6 [384,1536], 6 [1536,384] (plus pooler Gemm).
        var anonymous = model.Graph.Initializers.Where(t => t.DataType == OnnxDataType.Float && !t.Name.Contains('.')).ToList();
        Assert.Equal(36, anonymous.Count);
        Assert.Equal(6, anonymous.Count(t => t.Dims.SequenceEqual([384L, 1536])));
    }

    [Fact]
    public void ImporterYieldsEveryBertWeightWithHuggingFaceShapes()
    {
        ImportedBertWeights imported = MiniLmOnnxImporter.ImportEmbeddedMiniLm();
        try
        {
            Assert.Equal(
                new BertOnnxDimensions(NumLayers: 6, HiddenSize: 384, IntermediateSize: 1536, NumAttentionHeads: 12,
                    VocabSize: 30522, MaxPositionEmbeddings: 512, TypeVocabSize: 2, HasPooler: true),
                imported.Dimensions);
            Assert.Equal(5 + 6 * 16 + 2, imported.Weights.Count);
            for (int layer = 0; layer < 6; layer++)
            {
                Assert.Equal(16, imported.Weights.Keys.Count(k => k.StartsWith($"encoder.layer.{layer}.", StringComparison.Ordinal)));
                string p = $"encoder.layer.{layer}.";
                Assert.Equal([384L, 384], imported.Weights[p + "attention.self.query.weight"].shape);
                Assert.Equal([384L, 384], imported.Weights[p + "attention.output.dense.weight"].shape);
                Assert.Equal([1536L, 384], imported.Weights[p + "intermediate.dense.weight"].shape);
                Assert.Equal([384L, 1536], imported.Weights[p + "output.dense.weight"].shape);
                Assert.Equal([384L], imported.Weights[p + "output.LayerNorm.bias"].shape);
            }
            Assert.Equal([30522L, 384], imported.Weights["embeddings.word_embeddings.weight"].shape);
            Assert.False(imported.Weights.ContainsKey("embeddings.position_ids"));
            // Distinct projections: a mapping that reused one MatMul for q and k would make these equal.
            Assert.False(imported.Weights["encoder.layer.0.attention.self.query.weight"]
                .allclose(imported.Weights["encoder.layer.0.attention.self.key.weight"]));
        }
        finally
        {
            MiniLmOnnxImporterTests.DisposeAll(imported.Weights);
        }
    }

    /// <summary>
    /// For every Linear (37: 6 layers x 6, plus the pooler) ONNX Runtime computes y from x inside the real graph;
    /// <c>x @ W_imported^T + b</c> must reproduce y. x and y are exposed as extra graph outputs via the writer.
    /// Catches a missing transpose (square q/k/v/o would still have the right shape) and any name mix-up.
    /// </summary>
    [Fact]
    public void ImportedLinearWeightsReproduceOnnxRuntimeActivations()
    {
        OnnxModel source = EmbeddedMiniLm.Model;
        var linears = LocateLinears(source.Graph);
        Assert.Equal(37, linears.Count);

        var probed = new OnnxGraph
        {
            Name = source.Graph.Name,
            Nodes = source.Graph.Nodes,
            Initializers = source.Graph.Initializers,
            Inputs = source.Graph.Inputs,
            Outputs = [.. source.Graph.Outputs],
        };
        var probeNames = linears.SelectMany(l => new[] { l.X, l.Y }).Distinct()
            .Where(n => probed.Outputs.All(o => o.Name != n)).ToList();
        probed.Outputs.AddRange(probeNames.Select(n => new OnnxValueInfo { Name = n, ElemType = OnnxDataType.Float }));
        byte[] probedBytes = OnnxModelWriter.ToBytes(new OnnxModel
        {
            IrVersion = source.IrVersion,
            OpsetImports = source.OpsetImports,
            Graph = probed,
        });

        long[] ids = EmbeddedMiniLm.ThisIsATest;
        int t = ids.Length;
        Dictionary<string, (float[] Data, long[] Shape)> activations = RunOrt(probedBytes, ids, probeNames);

        ImportedBertWeights imported = MiniLmOnnxImporter.ImportEmbeddedMiniLm();
        try
        {
            double worst = 0;
            foreach ((string prefix, string x, string y) in linears)
            {
                using var scope = torch.NewDisposeScope();
                var (xData, xShape) = activations[x];
                var (yData, yShape) = activations[y];
                var xs = torch.tensor(xData, xShape);                                          // (..., in)
                var expected = torch.tensor(yData, yShape);                                    // (..., out)
                var actual = torch.nn.functional.linear(xs, imported.Weights[prefix + ".weight"], imported.Weights[prefix + ".bias"]);
                Assert.Equal(expected.shape, actual.shape);
                double diff = (actual - expected).abs().max().item<float>();
                double scale = expected.abs().max().item<float>();
                worst = Math.Max(worst, diff / Math.Max(1, scale));
                Assert.True(diff <= 1e-4 * Math.Max(1, scale), $"{prefix}: max |diff| {diff:G3} (scale {scale:G3})");
            }
            output.WriteLine($"{linears.Count} Linear layers checked on T={t}; worst relative max diff {worst:G3}");
        }
        finally
        {
            MiniLmOnnxImporterTests.DisposeAll(imported.Weights);
        }
    }

    /// <summary>
    /// Test-side lookup (independent of the importer's walk, which goes from the weight forward): start at each
    /// named bias, take the node that consumes it (Add after a MatMul, or the pooler's Gemm) and read off the
    /// Linear's input activation x and output y.
    /// </summary>
    private static List<(string Prefix, string X, string Y)> LocateLinears(OnnxGraph graph)
    {
        var producer = new Dictionary<string, OnnxNode>();
        foreach (OnnxNode n in graph.Nodes)
        {
            foreach (string o in n.Outputs)
            {
                producer[o] = n;
            }
        }
        var result = new List<(string, string, string)>();
        foreach (OnnxTensor bias in graph.Initializers.Where(i => i.Name.EndsWith(".dense.bias") || i.Name.Contains(".attention.self.")))
        {
            string prefix = bias.Name[..^".bias".Length];
            OnnxNode consumer = graph.Nodes.Single(n => n.Inputs.Contains(bias.Name));
            if (consumer.OpType == "Gemm")
            {
                result.Add((prefix, consumer.Inputs[0], consumer.Outputs[0]));
                continue;
            }
            Assert.Equal("Add", consumer.OpType);
            OnnxNode matMul = producer[consumer.Inputs.Single(i => i != bias.Name)];
            Assert.Equal("MatMul", matMul.OpType);
            result.Add((prefix, matMul.Inputs[0], consumer.Outputs[0]));
        }
        return result;
    }

    private static Dictionary<string, (float[], long[])> RunOrt(byte[] model, long[] ids, IReadOnlyCollection<string> outputs)
    {
        long[] shape = [1, ids.Length];
        using var session = new InferenceSession(model);
        using var inputIds = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, ids.Length).ToArray(), shape);
        using var types = OrtValue.CreateTensorValueFromMemory(new long[ids.Length], shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions,
            new Dictionary<string, OrtValue> { ["input_ids"] = inputIds, ["attention_mask"] = mask, ["token_type_ids"] = types },
            outputs);
        var named = new Dictionary<string, (float[], long[])>();
        int i = 0;
        foreach (string name in outputs)
        {
            named[name] = (results[i].GetTensorDataAsSpan<float>().ToArray(), results[i].GetTensorTypeAndShape().Shape);
            i++;
        }
        return named;
    }
}
