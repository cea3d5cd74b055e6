using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Formats.Onnx;
using Microsoft.ML.OnnxRuntime;
using Xunit;
using static FineTune.MLNet.Tests.Onnx.Export.TinyBertModels;

namespace FineTune.MLNet.Tests.Onnx.Export;

/// <summary>
/// int8 dynamic quantization: the rewritten graph (which ops, which weights), ONNX Runtime's result on one MatMul against
/// the ONNX operator formulas computed here, and a whole tiny BERT staying close to its float32 export.
/// </summary>
public sealed class OnnxDynamicQuantizerTests
{
    [Fact]
    public void EveryLinearAndEmbeddingOfABertExportIsQuantized()
    {
        using var model = Create(Config());
        var onnx = BertOnnxExporter.BuildModel(model);
        var floatMatMuls = onnx.Graph.Nodes.Count(n => n.OpType == "MatMul");
        var summary = OnnxDynamicQuantizer.Quantize(onnx);

        Assert.Equal(2 * 6 + 2, summary.MatMuls);   // q, k, v, attention output, intermediate, output per layer; pooler; classifier
        Assert.Equal(2, summary.Embeddings);        // word and token type (positions are a Slice and stay float32)
        Assert.Equal(summary.MatMuls, onnx.Graph.Nodes.Count(n => n.OpType == "MatMulInteger"));
        Assert.Equal(floatMatMuls - summary.MatMuls, onnx.Graph.Nodes.Count(n => n.OpType == "MatMul"));   // attention scores and context stay float
        Assert.DoesNotContain(onnx.Graph.Nodes, n => n.OpType == "Transpose" && n.Name.EndsWith("weight_T", StringComparison.Ordinal));
        // q, k, v read one activation: one DynamicQuantizeLinear for the three.
        Assert.Equal(2 * 4 + 2, onnx.Graph.Nodes.Count(n => n.OpType == "DynamicQuantizeLinear"));
        Assert.DoesNotContain(onnx.Graph.Initializers, t => t.Name == "bert.encoder.layer.0.attention.self.query.weight");
        var q = Assert.Single(onnx.Graph.Initializers, t => t.Name == "bert.encoder.layer.0.attention.self.query.weight_quantized");
        Assert.Equal(OnnxDataType.Int8, q.DataType);
        Assert.Equal([16L, 16L], q.Dims);
    }

    [Fact]
    public void QuantizedBertStaysCloseToFloat32()
    {
        using var model = Create(Config());
        var (ids, mask, types, batch, seq) = PaddedBatch();
        var float32 = RunOnnx(BertOnnxExporter.ExportToBytes(model), ids, mask, types, batch, seq);
        var onnx = BertOnnxExporter.BuildModel(model);
        OnnxDynamicQuantizer.Quantize(onnx);
        var int8 = RunOnnx(OnnxModelWriter.ToBytes(onnx), ids, mask, types, batch, seq);

        var logits = MaxAbsDiff(float32["logits"].Data, int8["logits"].Data);
        var scale = float32["logits"].Data.Max(Math.Abs);
        Assert.True(logits > 0, "the int8 model computes exactly the float32 logits: nothing was quantized");
        Assert.True(logits < 0.05 * scale, $"max |int8 − float32| logits = {logits} (largest logit {scale})");
        Assert.True(MaxAbsDiff(float32["probabilities"].Data, int8["probabilities"].Data) < 0.02);
    }

    [Fact]
    public void OnnxRuntimeComputesTheQuantizedFormula()
    {
        const int m = 3, k = 5, n = 4;
        var random = new Random(11);
        var w = Enumerable.Range(0, k * n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();   // [K, N]
        var x = Enumerable.Range(0, m * k).Select(_ => (float)(random.NextDouble() * 3 - 1)).ToArray();   // [M, K]
        var model = new OnnxModel
        {
            OpsetImports = { new OnnxOpsetImport("", 17) },
            Graph = new OnnxGraph
            {
                Name = "matmul",
                Nodes = { new OnnxNode { Name = "mm", OpType = "MatMul", Inputs = ["x", "w"], Outputs = ["y"] } },
                Initializers = { OnnxTensor.FromFloats("w", [k, n], w) },
                Inputs = { new OnnxValueInfo { Name = "x", Shape = [OnnxDim.Fixed(m), OnnxDim.Fixed(k)] } },
                Outputs = { new OnnxValueInfo { Name = "y", Shape = [OnnxDim.Fixed(m), OnnxDim.Fixed(n)] } },
            },
        };
        Assert.Equal(1, OnnxDynamicQuantizer.Quantize(model).MatMuls);

        using var session = new InferenceSession(OnnxModelWriter.ToBytes(model));
        using var input = OrtValue.CreateTensorValueFromMemory(x, [m, k]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, new Dictionary<string, OrtValue> { ["x"] = input }, ["y"]);
        var actual = results[0].GetTensorDataAsSpan<float>().ToArray();

        // ONNX DynamicQuantizeLinear: range includes 0, uint8, round half to even; weights symmetric per column in [-127, 127].
        float xMin = Math.Min(0, x.Min()), xMax = Math.Max(0, x.Max());
        var xScale = (xMax - xMin) / 255f;
        var xZero = (int)Math.Clamp(MathF.Round(-xMin / xScale, MidpointRounding.ToEven), 0, 255);
        var xq = x.Select(v => (int)Math.Clamp(MathF.Round(v / xScale, MidpointRounding.ToEven) + xZero, 0, 255)).ToArray();
        var compared = 0;
        for (var c = 0; c < n; c++)
        {
            var wScale = Enumerable.Range(0, k).Max(r => Math.Abs(w[r * n + c])) / 127f;
            for (var r = 0; r < m; r++)
            {
                long acc = 0;
                for (var j = 0; j < k; j++) acc += (xq[r * k + j] - xZero) * (long)MathF.Round(w[j * n + c] / wScale, MidpointRounding.ToEven);
                var expected = acc * (xScale * wScale);
                Assert.True(Math.Abs(expected - actual[r * n + c]) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"y[{r},{c}] = {actual[r * n + c]}, formula {expected}");
                compared++;
            }
        }
        Assert.Equal(m * n, compared);
    }
}
