using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Import.MiniLm;
using TorchSharp;
using Xunit;

namespace FineTune.MLNet.Tests.Onnx;

/// <summary>Importer behaviour on synthetic torch.onnx-shaped graphs (see <see cref="TinyBertOnnxGraph"/>).</summary>
public class MiniLmOnnxImporterTests
{
    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    public void RecoversEveryWeightExactlyInTorchLayout(bool biasFirst, int poolerTransB)
    {
        var tiny = new TinyBertOnnxGraph(layers: 2, biasFirst: biasFirst, poolerTransB: poolerTransB);
        // Through bytes, so the writer and reader are part of the path.
        using var stream = new MemoryStream(OnnxModelWriter.ToBytes(tiny.Model));

        ImportedBertWeights imported = MiniLmOnnxImporter.Import(stream, numAttentionHeads: 2);
        try
        {
            Assert.Equal(
                tiny.TorchWeights.Keys.OrderBy(k => k, StringComparer.Ordinal),
                imported.Weights.Keys.OrderBy(k => k, StringComparer.Ordinal));
            foreach ((string key, (float[] data, long[] dims)) in tiny.TorchWeights)
            {
                torch.Tensor t = imported.Weights[key];
                Assert.Equal(dims, t.shape);
                Assert.Equal(torch.ScalarType.Float32, t.dtype);
                Assert.Equal(data, t.data<float>().ToArray());
            }
            Assert.Equal(
                new BertOnnxDimensions(NumLayers: 2, HiddenSize: 4, IntermediateSize: 6, NumAttentionHeads: 2,
                    VocabSize: 11, MaxPositionEmbeddings: 7, TypeVocabSize: 2, HasPooler: true),
                imported.Dimensions);
        }
        finally
        {
            DisposeAll(imported.Weights);
        }
    }

    [Fact]
    public void LinearOnImportedWeightEqualsMatMulOnOnnxInitializer()
    {
        // y = x @ W_onnx + b (what the graph computes) must equal x @ W_imported^T + b (what nn.Linear computes).
        var tiny = new TinyBertOnnxGraph(layers: 1);
        OnnxGraph graph = tiny.Model.Graph;
        OnnxNode add = graph.Nodes.Single(n => n.OpType == "Add" && n.Inputs.Contains("encoder.layer.0.intermediate.dense.bias"));
        OnnxNode matMul = graph.Nodes.Single(n => n.Outputs.Contains(add.Inputs[1]));
        OnnxTensor wOnnx = graph.Initializers.Single(t => t.Name == matMul.Inputs[1]);       // [in, out]
        float[] b = graph.Initializers.Single(t => t.Name == "encoder.layer.0.intermediate.dense.bias").ToFloatArray();

        ImportedBertWeights imported = MiniLmOnnxImporter.Import(tiny.Model, numAttentionHeads: 2);
        try
        {
            using var scope = torch.NewDisposeScope();
            var x = torch.tensor(new float[] { 0.5f, -1f, 2f, 0.25f, 1f, 1f, -3f, 0.1f }, [2, 4]); // (N, in)
            var viaOnnx = x.matmul(torch.tensor(wOnnx.ToFloatArray(), wOnnx.Dims)) + torch.tensor(b);       // (N, out)
            var viaLinear = torch.nn.functional.linear(x, imported.Weights["encoder.layer.0.intermediate.dense.weight"], torch.tensor(b));
            Assert.Equal([2L, 6L], viaLinear.shape);
            Assert.True(viaOnnx.allclose(viaLinear, rtol: 1e-6, atol: 1e-6));
        }
        finally
        {
            DisposeAll(imported.Weights);
        }
    }

    [Fact]
    public void MissingLinearIsListedByName()
    {
        var tiny = new TinyBertOnnxGraph(layers: 2);
        // Break the link from layer 1's value MatMul to its bias: its weight can no longer be named.
        OnnxNode add = tiny.Model.Graph.Nodes.Single(n => n.OpType == "Add" && n.Inputs.Contains("encoder.layer.1.attention.self.value.bias"));
        tiny.Model.Graph.Nodes.Remove(add);

        var e = Assert.Throws<OnnxFormatException>(() => MiniLmOnnxImporter.Import(tiny.Model, numAttentionHeads: 2));
        Assert.Contains("2-layer model", e.Message);
        Assert.Contains("Missing 1 weights: encoder.layer.1.attention.self.value.weight.", e.Message);
    }

    [Fact]
    public void MissingLayerNormIsListedByName()
    {
        var tiny = new TinyBertOnnxGraph(layers: 2);
        tiny.Model.Graph.Initializers.RemoveAll(t => t.Name == "encoder.layer.0.output.LayerNorm.bias");
        var e = Assert.Throws<OnnxFormatException>(() => MiniLmOnnxImporter.Import(tiny.Model, numAttentionHeads: 2));
        Assert.Contains("encoder.layer.0.output.LayerNorm.bias", e.Message);
    }

    [Fact]
    public void InconsistentShapeIsReported()
    {
        var tiny = new TinyBertOnnxGraph(layers: 1);
        int index = tiny.Model.Graph.Initializers.FindIndex(t => t.Name == "embeddings.LayerNorm.weight");
        tiny.Model.Graph.Initializers[index] = OnnxTensor.FromFloats("embeddings.LayerNorm.weight", [5], new float[5]);
        var e = Assert.Throws<OnnxFormatException>(() => MiniLmOnnxImporter.Import(tiny.Model, numAttentionHeads: 2));
        Assert.Contains("embeddings.LayerNorm.weight is [5]", e.Message);
        Assert.Contains("expected [4]", e.Message);
    }

    [Fact]
    public void HeadsThatDoNotDivideHiddenAreRejected()
    {
        var tiny = new TinyBertOnnxGraph(layers: 1);
        var e = Assert.Throws<ArgumentException>(() => MiniLmOnnxImporter.Import(tiny.Model, numAttentionHeads: 3));
        Assert.Equal("numAttentionHeads", e.ParamName);
    }

    [Fact]
    public void GraphWithoutEmbeddingsIsRejected()
    {
        OnnxModel model = OnnxTestGraphs.MatMulAdd(3, 2);
        var e = Assert.Throws<OnnxFormatException>(() => MiniLmOnnxImporter.Import(model));
        Assert.Contains("'embeddings.word_embeddings.weight' not found", e.Message);
    }

    internal static void DisposeAll(Dictionary<string, torch.Tensor> weights)
    {
        foreach (torch.Tensor t in weights.Values)
        {
            t.Dispose();
        }
    }
}
