using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Formats.Onnx;
using static FineTune.MLNet.Tests.TestSupport.Close;
using FineTune.MLNet.Peft;
using Xunit;
using static FineTune.MLNet.Tests.Onnx.Export.TinyBertModels;

namespace FineTune.MLNet.Tests.Onnx.Export;

/// <summary>
/// Tiny BERT / DistilBERT classifiers exported to ONNX and run by ONNX Runtime (an independent implementation of every
/// operator) against the TorchSharp forward in eval mode on a padded batch.
/// </summary>
public sealed class BertOnnxExportParityTests
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("bert", "gelu")]
    [InlineData("bert", "gelu_new")]
    [InlineData("bert", "relu")]
    [InlineData("distilbert", "gelu")]
    public void LogitsAndHiddenStatesMatchTorchSharp(string modelType, string hiddenAct)
    {
        using var model = Create(Config(modelType, hiddenAct));
        var hasTypes = modelType == "bert";
        var (ids, mask, types, batch, seq) = PaddedBatch(hasTypes);
        var onnx = BertOnnxExporter.ExportToBytes(model, new BertOnnxExportOptions { IncludeLastHiddenState = true });

        var outputs = RunOnnx(onnx, ids, mask, hasTypes ? types : null, batch, seq);
        var expectedLogits = TorchLogits(model, ids, mask, hasTypes ? types : null, batch, seq);
        var expectedHidden = TorchHidden(model, ids, mask, hasTypes ? types : null, batch, seq);

        Assert.Equal([batch, 3L], outputs[BertOnnxExporter.LogitsName].Shape);
        Assert.Equal([batch, seq, 16L], outputs[BertOnnxExporter.LastHiddenStateName].Shape);
        Assert.True(expectedLogits.Max(Math.Abs) > 0.1, "logits too small for the bound to mean anything");
        var logitDiff = MaxAbsDiff(expectedLogits, outputs[BertOnnxExporter.LogitsName].Data);
        Assert.True(logitDiff <= Tolerance, $"max |torch - onnxruntime| logits = {logitDiff:E3}");
        var hiddenDiff = MaxAbsDiff(expectedHidden, outputs[BertOnnxExporter.LastHiddenStateName].Data);
        Assert.True(hiddenDiff <= Tolerance, $"max |torch - onnxruntime| last_hidden_state = {hiddenDiff:E3}");
    }

    [Fact]
    public void ProbabilitiesAreTheSoftmaxOfTheLogits()
    {
        using var model = Create(Config());
        var (ids, mask, types, batch, seq) = PaddedBatch();
        var outputs = RunOnnx(BertOnnxExporter.ExportToBytes(model), ids, mask, types, batch, seq);
        var logits = outputs[BertOnnxExporter.LogitsName].Data;
        var probabilities = outputs[BertOnnxExporter.ProbabilitiesName].Data;
        for (var b = 0; b < batch; b++)
        {
            var row = logits.Skip(b * 3).Take(3).Select(v => (double)v).ToArray();
            var max = row.Max();
            var sum = row.Sum(v => Math.Exp(v - max));
            for (var c = 0; c < 3; c++)
            {
                AssertClose(Math.Exp(row[c] - max) / sum, probabilities[b * 3 + c], atol: 1e-6, what: $"probability [{b}, {c}]");   // float32 Softmax: a few ulps
            }
        }
    }

    [Fact]
    public void PaddingTokenIdsDoNotChangeTheLogits()
    {
        using var model = Create(Config());
        var (ids, mask, types, batch, seq) = PaddedBatch();
        var onnx = BertOnnxExporter.ExportToBytes(model);
        var before = RunOnnx(onnx, ids, mask, types, batch, seq)[BertOnnxExporter.LogitsName].Data;
        var changed = ids.Select((id, i) => mask[i] == 0 ? 1L + i % (Vocab - 1) : id).ToArray();
        var after = RunOnnx(onnx, changed, mask, types, batch, seq)[BertOnnxExporter.LogitsName].Data;
        Assert.True(MaxAbsDiff(before, after) <= 1e-6, "padded positions leaked into the logits: the attention mask is not applied");
    }

    [Fact]
    public void LoraAdaptersAreMergedIntoTheExport()
    {
        var lora = new LoraSettings { Rank = 4, Alpha = 8, Dropout = 0, TargetModules = ["all-linear"] };
        using var model = Create(Config(), lora);
        PerturbAdapters(model);
        var layers = model.LoraLayers().ToList();
        Assert.Equal(2 * 6, layers.Count);
        foreach (var layer in layers.Take(layers.Count / 2)) layer.Merge();       // both merged and unmerged layers must export right
        var (ids, mask, types, batch, seq) = PaddedBatch();

        var onnx = BertOnnxExporter.ExportToBytes(model);
        var actual = RunOnnx(onnx, ids, mask, types, batch, seq)[BertOnnxExporter.LogitsName].Data;
        var expected = TorchLogits(model, ids, mask, types, batch, seq);

        foreach (var layer in layers) layer.Unmerge();
        foreach (var layer in layers) layer.AdapterDisabled = true;
        var baseLogits = TorchLogits(model, ids, mask, types, batch, seq);
        Assert.True(MaxAbsDiff(expected, baseLogits) > 1e-2, "the adapters do not change the logits, so this test could not catch a missing merge");
        var diff = MaxAbsDiff(expected, actual);
        Assert.True(diff <= Tolerance, $"max |torch (LoRA) - onnxruntime| logits = {diff:E3}");
        Assert.DoesNotContain(OnnxModelReader.Read(onnx).Graph.Initializers, t => t.Name.Contains("lora_"));
    }

    [Fact]
    public void Float16WeightsHalveTheFileAndStayClose()
    {
        using var model = Create(Config());
        var (ids, mask, types, batch, seq) = PaddedBatch();
        var fp32 = BertOnnxExporter.ExportToBytes(model);
        var fp16 = BertOnnxExporter.ExportToBytes(model, new BertOnnxExportOptions { WeightPrecision = OnnxWeightPrecision.Float16 });

        static List<OnnxTensor> Weights(byte[] onnx) =>
            [.. OnnxModelReader.Read(onnx).Graph.Initializers.Where(t => t.Name.StartsWith("bert.") || t.Name.StartsWith("classifier."))];
        var half = Weights(fp16);
        var full = Weights(fp32);
        Assert.Equal(full.Select(t => t.Name), half.Select(t => t.Name));
        Assert.All(half, t => Assert.Equal(OnnxDataType.Float16, t.DataType));
        Assert.Equal(full.Sum(t => t.RawData.Length), 2 * half.Sum(t => t.RawData.Length));   // the graph itself is the same size

        var actual = RunOnnx(fp16, ids, mask, types, batch, seq)[BertOnnxExporter.LogitsName].Data;
        var expected = TorchLogits(model, ids, mask, types, batch, seq);
        var diff = MaxAbsDiff(expected, actual);
        Assert.True(diff <= 2e-2, $"float16 weights moved the logits by {diff:E3}");
    }

    [Fact]
    public void Float16RejectsWeightsOutOfRange()
    {
        using var model = Create(Config());
        using (TorchSharp.torch.no_grad())
        {
            model.named_parameters().First(p => p.name == "classifier.bias").parameter.fill_(1e6f);
        }
        var e = Assert.Throws<InvalidOperationException>(() =>
            BertOnnxExporter.ExportToBytes(model, new BertOnnxExportOptions { WeightPrecision = OnnxWeightPrecision.Float16 }));
        Assert.Contains("classifier.bias", e.Message);
    }
}
