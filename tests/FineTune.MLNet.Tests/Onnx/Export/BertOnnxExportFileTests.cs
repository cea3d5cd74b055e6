using FineTune.MLNet.Tests.TestSupport;
using FineTune.MLNet.Classification;
using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Tokenization;
using Xunit;
using static FineTune.MLNet.Tests.Onnx.Export.TinyBertModels;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Onnx.Export;

/// <summary>The exported file itself: re-read by <see cref="OnnxModelReader"/>, declared inputs/outputs, weights, writing.</summary>
public sealed class BertOnnxExportFileTests : IDisposable
{
    private readonly string dir = TestTempRoot.NewFolder("onnx-export-tests");

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void FileRereadsWithOpset17AndSymbolicDims()
    {
        using var model = Create(Config());
        var path = Path.Combine(dir, "nested", "model.onnx");
        BertOnnxExporter.Export(model, path);

        var onnx = OnnxModelReader.Read(path);
        Assert.Equal(17, onnx.DefaultOpset);
        Assert.Equal(8, onnx.IrVersion);
        OnnxDim batch = OnnxDim.Symbolic("batch"), sequence = OnnxDim.Symbolic("sequence");
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], onnx.Graph.Inputs.Select(i => i.Name));
        Assert.All(onnx.Graph.Inputs, i =>
        {
            Assert.Equal(OnnxDataType.Int64, i.ElemType);
            Assert.Equal([batch, sequence], i.Shape!);
        });
        Assert.Equal(["logits", "probabilities"], onnx.Graph.Outputs.Select(o => o.Name));
        Assert.All(onnx.Graph.Outputs, o =>
        {
            Assert.Equal(OnnxDataType.Float, o.ElemType);
            Assert.Equal([batch, OnnxDim.Fixed(3)], o.Shape!);
        });
        Assert.Contains(onnx.Graph.Nodes, n => n.OpType == "LayerNormalization");
        Assert.Contains(onnx.Graph.Nodes, n => n.OpType == "Erf");
        Assert.Contains(onnx.Graph.Nodes, n => n.OpType == "Tanh" && n.Name == "/bert/pooler/tanh");
    }

    [Fact]
    public void LastHiddenStateIsDeclaredWhenRequested()
    {
        using var model = Create(Config());
        var onnx = OnnxModelReader.Read(BertOnnxExporter.ExportToBytes(model, new BertOnnxExportOptions { IncludeLastHiddenState = true }));
        var hidden = Assert.Single(onnx.Graph.Outputs, o => o.Name == "last_hidden_state");
        Assert.Equal([OnnxDim.Symbolic("batch"), OnnxDim.Symbolic("sequence"), OnnxDim.Fixed(16)], hidden.Shape!);
    }

    [Fact]
    public void InitializersAreTheWeightsUnderTheirHuggingFaceNames()
    {
        using var model = Create(Config());
        var initializers = OnnxModelReader.Read(BertOnnxExporter.ExportToBytes(model)).Graph.Initializers.ToDictionary(t => t.Name);
        var parameters = model.named_parameters().ToList();
        Assert.Equal(2 * 16 + 5 + 4, parameters.Count);
        foreach (var (name, p) in parameters)
        {
            Assert.True(initializers.TryGetValue(name, out var t), $"no initializer '{name}'");
            Assert.Equal(p.shape, t!.Dims);
            Assert.Equal(p.detach().contiguous().data<float>().ToArray(), t.ToFloatArray());
        }
        Assert.Contains("bert.encoder.layer.1.attention.self.query.weight", initializers.Keys);
        Assert.Contains("classifier.weight", initializers.Keys);
    }

    [Fact]
    public void EveryNodeInputIsDefinedBeforeUse()
    {
        using var model = Create(Config(), new() { Rank = 2, Dropout = 0 });
        var graph = OnnxModelReader.Read(BertOnnxExporter.ExportToBytes(model, new BertOnnxExportOptions
        {
            IncludeLastHiddenState = true, WeightPrecision = OnnxWeightPrecision.Float16,
        })).Graph;
        var defined = graph.Inputs.Select(i => i.Name).Concat(graph.Initializers.Select(t => t.Name)).ToHashSet();
        foreach (var node in graph.Nodes)
        {
            foreach (var input in node.Inputs.Where(i => i.Length > 0))
            {
                Assert.True(defined.Contains(input), $"{node} reads '{input}' before it is defined");
            }
            foreach (var output in node.Outputs) Assert.True(defined.Add(output), $"{node} redefines '{output}'");
        }
        Assert.All(graph.Outputs, o => Assert.Contains(o.Name, defined));
    }

    [Fact]
    public void DistilBertHasNoTokenTypeInputAndAReluPooler()
    {
        using var model = Create(Config("distilbert"));
        var graph = OnnxModelReader.Read(BertOnnxExporter.ExportToBytes(model)).Graph;
        Assert.Equal(["input_ids", "attention_mask"], graph.Inputs.Select(i => i.Name));
        Assert.Contains(graph.Nodes, n => n.OpType == "Relu" && n.Name == "/bert/pooler/relu");
        Assert.DoesNotContain(graph.Nodes, n => n.OpType == "Tanh");
    }

    [Fact]
    public void ExportReplacesAnExistingFileAndLeavesNoTemporaryFile()
    {
        using var model = Create(Config());
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "model.onnx");
        File.WriteAllText(path, "not an onnx model");

        BertOnnxExporter.Export(model, path);

        Assert.Equal(BertOnnxExporter.ExportToBytes(model), File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir));
    }

    [Fact]
    public void InvalidOptionsThrowNamingTheFieldAndWriteNothing()
    {
        using var model = Create(Config());
        var path = Path.Combine(dir, "model.onnx");
        var e = Assert.Throws<ArgumentException>(() => BertOnnxExporter.Export(model, path, new BertOnnxExportOptions { GraphName = " " }));
        Assert.Equal("GraphName", e.ParamName);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ClassifierExportOnnxMatchesPredictProbabilities()
    {
        string[] words = ["the", "battery", "died", "works", "great", "price", "is", "fair", "sound", "bad", "good", "not"];
        var vocab = System.Text.Encoding.UTF8.GetBytes(string.Join("\n", new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }.Concat(words)) + "\n");
        var model = Create(Config());
        using var classifier = new FineTunedTextClassifier(model, vocab, WordPieceTokenizerOptions.Uncased, ["neg", "neutral", "pos"], 16, CPU);
        string[] texts = ["the battery died", "works great", "price is fair, sound is not good"];
        var path = Path.Combine(dir, "classifier.onnx");

        classifier.ExportOnnx(path);

        var batch = classifier.Tokenizer.EncodeBatch(texts, null, classifier.MaxLength);
        using var runner = new OnnxReferenceRunner(path);
        var onnx = runner.Run(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.BatchSize, batch.SequenceLength)["probabilities"].Data;
        var expected = classifier.PredictProbabilities(texts).SelectMany(p => p).ToArray();
        var diff = MaxAbsDiff(expected, onnx);
        Assert.True(diff <= 1e-5, $"max |PredictProbabilities - onnxruntime| = {diff:E3}");
    }
}
