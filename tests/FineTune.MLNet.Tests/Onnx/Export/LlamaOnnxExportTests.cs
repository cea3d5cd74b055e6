using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Tests.TestSupport;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Peft;
using Microsoft.ML.OnnxRuntime;
using Xunit;
using static TorchSharp.torch;
using FineTune.MLNet.Tests.Llama;

namespace FineTune.MLNet.Tests.Onnx.Export;

/// <summary>
/// Llama-family causal LMs exported to ONNX and run by ONNX Runtime (an independent implementation of every operator)
/// against the TorchSharp <c>Forward(ids, mask, positionIds)</c> and the numpy reference's golden logits, on the
/// Fixtures/llama checkpoints. Only positions with attention_mask 1 are compared (padding rows are not meaningful).
/// </summary>
public sealed class LlamaOnnxExportTests : IDisposable
{
    private const double Tolerance = 1e-4;
    private readonly string dir = TestTempRoot.NewFolder("onnx-llama-export-tests");

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    /// <summary>A (B, T) batch: ids, mask and HF-style position ids, row-major.</summary>
    private sealed record Batch(long[] Ids, long[] Mask, long[] Positions, int Rows, int Length);

    private static readonly long[][] Rows = [[1, 5, 9, 17, 33, 65, 100], [1, 127, 3], [0, 64]];

    /// <summary>The golden ids padded to 7: "none" (rows cut to 2 tokens), "left" (as llama-leftpad) or "right".</summary>
    private static Batch MakeBatch(string padding)
    {
        if (padding == "none")
        {
            long[][] ids = [[1, 5, 9, 17, 33, 65, 100], [3, 127, 3, 8, 2, 64, 90]];
            return Build(ids, [.. ids.Select(r => r.Select(_ => 1L).ToArray())]);
        }
        int t = Rows.Max(r => r.Length);
        var padded = Rows.Select(r => padding == "left"
            ? Enumerable.Repeat(0L, t - r.Length).Concat(r).ToArray()
            : r.Concat(Enumerable.Repeat(0L, t - r.Length)).ToArray()).ToArray();
        var mask = Rows.Select(r => padding == "left"
            ? Enumerable.Repeat(0L, t - r.Length).Concat(r.Select(_ => 1L)).ToArray()
            : r.Select(_ => 1L).Concat(Enumerable.Repeat(0L, t - r.Length)).ToArray()).ToArray();
        return Build(padded, mask);
    }

    private static Batch Build(long[][] ids, long[][] mask)
    {
        using var scope = NewDisposeScope();
        var positions = CausalMask.PositionIdsFromMask(LlamaFixtures.Batch(mask));   // (B, T)
        return new Batch([.. ids.SelectMany(r => r)], [.. mask.SelectMany(r => r)],
            positions.data<long>().ToArray(), ids.Length, ids[0].Length);
    }

    private static float[] RunOnnx(byte[] onnx, Batch batch, out long[] shape)
    {
        using var session = new InferenceSession(onnx);
        long[] dims = [batch.Rows, batch.Length];
        using var ids = OrtValue.CreateTensorValueFromMemory(batch.Ids, dims);
        using var mask = OrtValue.CreateTensorValueFromMemory(batch.Mask, dims);
        using var positions = OrtValue.CreateTensorValueFromMemory(batch.Positions, dims);
        var inputs = new Dictionary<string, OrtValue>
        {
            [LlamaOnnxExporter.InputIdsName] = ids,
            [LlamaOnnxExporter.AttentionMaskName] = mask,
            [LlamaOnnxExporter.PositionIdsName] = positions,
        };
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, inputs, [LlamaOnnxExporter.LogitsName]);
        shape = results[0].GetTensorTypeAndShape().Shape;
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static float[] TorchLogits(LlamaForCausalLM model, Batch batch)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long[] dims = [batch.Rows, batch.Length];
        var logits = model.Forward(tensor(batch.Ids, dims), tensor(batch.Mask, dims), tensor(batch.Positions, dims));   // (B, T, V)
        return logits.contiguous().data<float>().ToArray();
    }

    /// <summary>Max |a − b| over the positions whose mask is 1 (each position has <paramref name="vocab"/> logits).</summary>
    private static double MaxAbsDiffUnmasked(IReadOnlyList<float> a, IReadOnlyList<double> b, long[] mask, int vocab)
    {
        Assert.Equal(a.Count, b.Count);
        Assert.Equal(mask.Length * (long)vocab, a.Count);
        double max = 0;
        for (var p = 0; p < mask.Length; p++)
        {
            if (mask[p] == 0) continue;
            for (var j = 0; j < vocab; j++) max = Math.Max(max, Math.Abs(a[p * vocab + j] - b[p * vocab + j]));
        }
        return max;
    }

    private static double[] AsDoubles(float[] values) => [.. values.Select(v => (double)v)];

    [Theory]
    [InlineData("llama", "none")]
    [InlineData("llama", "left")]
    [InlineData("llama", "right")]
    [InlineData("llama-tied", "none")]
    [InlineData("llama-tied", "left")]
    [InlineData("qwen2", "none")]
    [InlineData("qwen2", "left")]
    [InlineData("qwen2", "right")]
    public void LogitsMatchTorchSharp(string fixture, string padding)
    {
        using var model = LlamaFixtures.Load(fixture);
        var batch = MakeBatch(padding);
        var onnx = LlamaOnnxExporter.ExportToBytes(model);

        var actual = RunOnnx(onnx, batch, out var shape);
        var expected = TorchLogits(model, batch);

        int vocab = model.Config.VocabSize;
        Assert.Equal([batch.Rows, batch.Length, (long)vocab], shape);
        Assert.True(expected.Max(Math.Abs) > 0.1, "logits too small for the bound to mean anything");
        var diff = MaxAbsDiffUnmasked(actual, AsDoubles(expected), batch.Mask, vocab);
        Assert.True(diff <= Tolerance, $"{fixture} ({padding} padding): max |torch - onnxruntime| logits = {diff:E3}");
    }

    [Theory]
    [InlineData("llama", "llama-leftpad")]
    [InlineData("qwen2", "qwen2-leftpad")]
    public void LeftPaddedLogitsMatchTheNumpyReference(string fixture, string goldenKey)
    {
        using var model = LlamaFixtures.Load(fixture);
        var batch = Build(LlamaFixtures.Ids(goldenKey), LlamaFixtures.Mask(goldenKey));
        var actual = RunOnnx(LlamaOnnxExporter.ExportToBytes(model), batch, out _);
        var expected = LlamaFixtures.Logits(goldenKey).SelectMany(r => r).SelectMany(p => p).ToArray();   // (B, T, V) float64
        var diff = MaxAbsDiffUnmasked(actual, expected, batch.Mask, model.Config.VocabSize);
        Assert.True(diff <= Tolerance, $"{goldenKey}: max |numpy reference - onnxruntime| logits = {diff:E3}");
    }

    [Fact]
    public void PaddingTokenIdsDoNotChangeTheRealPositions()
    {
        using var model = LlamaFixtures.Load("llama");
        var batch = MakeBatch("left");
        var onnx = LlamaOnnxExporter.ExportToBytes(model);
        var before = RunOnnx(onnx, batch, out _);
        var changed = batch with { Ids = [.. batch.Ids.Select((id, i) => batch.Mask[i] == 0 ? 1L + i % 100 : id)] };
        var after = RunOnnx(onnx, changed, out _);
        var diff = MaxAbsDiffUnmasked(before, AsDoubles(after), batch.Mask, model.Config.VocabSize);
        Assert.True(diff <= 1e-6, $"padded positions leaked into real positions ({diff:E3}): the attention mask is not applied");
    }

    [Fact]
    public void PeftAdapterIsMergedIntoTheExport()
    {
        using var model = LlamaForCausalLM.FromPretrainedWithAdapter(LlamaFixtures.Dir("llama"), LlamaFixtures.Dir("lora"));
        Assert.NotEmpty(model.LoraLayers());
        var batch = MakeBatch("left");

        var onnx = LlamaOnnxExporter.ExportToBytes(model);
        var actual = RunOnnx(onnx, batch, out _);
        var expected = TorchLogits(model, batch);
        float[] baseLogits;
        using (model.DisableAdapters()) baseLogits = TorchLogits(model, batch);

        int vocab = model.Config.VocabSize;
        Assert.True(MaxAbsDiffUnmasked(expected, AsDoubles(baseLogits), batch.Mask, vocab) > 1e-2,
            "the adapter does not change the logits, so this test could not catch a missing merge");
        var diff = MaxAbsDiffUnmasked(actual, AsDoubles(expected), batch.Mask, vocab);
        Assert.True(diff <= Tolerance, $"max |torch (LoRA) - onnxruntime| logits = {diff:E3}");
        Assert.DoesNotContain(OnnxModelReader.Read(onnx).Graph.Initializers, t => t.Name.Contains("lora_"));
        Assert.All(model.LoraLayers(), l => Assert.False(l.Layer.Merged));   // the export leaves the model as it was
    }

    [Fact]
    public void QLoraModelExportsWithItsBaseDequantizedAndAdaptersFolded()
    {
        var lora = new LoraSettings { Rank = 4, Alpha = 8, Dropout = 0, TargetModules = ["all-linear"], QuantizeBase = true };
        using var model = LlamaFixtures.Load("llama", lora);
        manual_seed(7);
        using (no_grad())
        {
            foreach (var (name, p) in model.named_parameters())
            {
                if (name.Contains(".lora_B.")) p.normal_(0.0, 0.3);
            }
        }
        var batch = MakeBatch("none");
        var actual = RunOnnx(LlamaOnnxExporter.ExportToBytes(model), batch, out _);
        var expected = TorchLogits(model, batch);
        var diff = MaxAbsDiffUnmasked(actual, AsDoubles(expected), batch.Mask, model.Config.VocabSize);
        Assert.True(diff <= Tolerance, $"max |torch (QLoRA) - onnxruntime| logits = {diff:E3}");
    }

    [Fact]
    public void FileRereadsWithOpset17AndSymbolicDims()
    {
        using var model = LlamaFixtures.Load("llama-tied");
        var path = Path.Combine(dir, "nested", "model.onnx");
        LlamaOnnxExporter.Export(model, path);

        var onnx = OnnxModelReader.Read(path);
        Assert.Equal(17, onnx.DefaultOpset);
        OnnxDim batch = OnnxDim.Symbolic("batch"), sequence = OnnxDim.Symbolic("sequence");
        Assert.Equal(["input_ids", "attention_mask", "position_ids"], onnx.Graph.Inputs.Select(i => i.Name));
        Assert.All(onnx.Graph.Inputs, i =>
        {
            Assert.Equal(OnnxDataType.Int64, i.ElemType);
            Assert.Equal([batch, sequence], i.Shape!);
        });
        var logits = Assert.Single(onnx.Graph.Outputs);
        Assert.Equal("logits", logits.Name);
        Assert.Equal(OnnxDataType.Float, logits.ElemType);
        Assert.Equal([batch, sequence, OnnxDim.Fixed(128)], logits.Shape!);
        foreach (var op in new[] { "Pow", "ReduceMean", "Sqrt", "Div", "Sigmoid", "Cos", "Sin", "Expand", "Softmax" })
        {
            Assert.Contains(onnx.Graph.Nodes, n => n.OpType == op);
        }

        var initializers = onnx.Graph.Initializers.ToDictionary(t => t.Name);
        var expectedInvFreq = RopeFrequencies.Compute(8, 500000, model.Config.RopeScaling);   // llama3-scaled
        Assert.NotEqual(RopeFrequencies.Compute(8, 500000), expectedInvFreq);
        Assert.Equal(expectedInvFreq, initializers["model.rotary_emb.inv_freq"].ToFloatArray());
        Assert.DoesNotContain("lm_head.weight", initializers.Keys);                        // tied: the head reads the embedding table
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(initializers.TryGetValue(name, out var t), $"no initializer '{name}'");
            Assert.Equal(p.detach().contiguous().data<float>().ToArray(), t!.ToFloatArray());
        }
    }

    [Fact]
    public void EveryNodeInputIsDefinedBeforeUse()
    {
        using var model = LlamaFixtures.Load("qwen2");
        var graph = OnnxModelReader.Read(LlamaOnnxExporter.ExportToBytes(model,
            new LlamaOnnxExportOptions { WeightPrecision = OnnxWeightPrecision.Float16 })).Graph;
        var defined = graph.Inputs.Select(i => i.Name).Concat(graph.Initializers.Select(t => t.Name)).ToHashSet();
        foreach (var node in graph.Nodes)
        {
            foreach (var input in node.Inputs.Where(i => i.Length > 0))
            {
                Assert.True(defined.Contains(input), $"{node} reads '{input}' before it is defined");
            }
            foreach (var output in node.Outputs) Assert.True(defined.Add(output), $"{node} redefines '{output}'");
        }
        Assert.Contains("model.layers.0.self_attn.q_proj.bias", defined);
        Assert.All(graph.Outputs, o => Assert.Contains(o.Name, defined));
    }

    [Fact]
    public void Float16WeightsStayClose()
    {
        using var model = LlamaFixtures.Load("llama");
        var batch = MakeBatch("left");
        var onnx = LlamaOnnxExporter.ExportToBytes(model, new LlamaOnnxExportOptions { WeightPrecision = OnnxWeightPrecision.Float16 });
        Assert.All(OnnxModelReader.Read(onnx).Graph.Initializers.Where(t => t.Name.StartsWith("model.layers.")),
            t => Assert.Equal(OnnxDataType.Float16, t.DataType));
        var actual = RunOnnx(onnx, batch, out _);
        var expected = TorchLogits(model, batch);
        var diff = MaxAbsDiffUnmasked(actual, AsDoubles(expected), batch.Mask, model.Config.VocabSize);
        Assert.True(diff <= 2e-2, $"float16 weights moved the logits by {diff:E3}");
    }

    [Fact]
    public void ExportReplacesAnExistingFileAndLeavesNoTemporaryFile()
    {
        using var model = LlamaFixtures.Load("llama");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "model.onnx");
        File.WriteAllText(path, "not an onnx model");

        LlamaOnnxExporter.Export(model, path);

        Assert.Equal(LlamaOnnxExporter.ExportToBytes(model), File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir));
    }

    [Fact]
    public void InvalidOptionsThrowNamingTheFieldAndWriteNothing()
    {
        using var model = LlamaFixtures.Load("llama");
        var path = Path.Combine(dir, "model.onnx");
        var e = Assert.Throws<ArgumentException>(() => LlamaOnnxExporter.Export(model, path, new LlamaOnnxExportOptions { GraphName = "" }));
        Assert.Equal("GraphName", e.ParamName);
        Assert.False(File.Exists(path));
    }
}
