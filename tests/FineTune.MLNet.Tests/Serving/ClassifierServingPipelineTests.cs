using System.IO.Compression;
using System.Text.Json;
using FineTune.MLNet.Classification;
using FineTune.MLNet.Serving;
using FineTune.MLNet.Tests.Cli;
using FineTune.MLNet.Tests.Estimators;
using FineTune.MLNet.Tests.TestSupport;
using FineTune.MLNet.Transformers;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;
using static FineTune.MLNet.Tests.TestSupport.Close;

namespace FineTune.MLNet.Tests.Serving;

/// <summary>
/// The ML.NET serving pipeline: <c>mlContext.Model.Save</c>/<c>Load</c> round-trip one .zip, and the reloaded pipeline's
/// probabilities equal the TorchSharp classifier's (≤ 1e-4), in this process and in a fresh <c>finetune predict</c> process.
/// </summary>
public sealed class ClassifierServingPipelineTests
{
    private static readonly string[] Labels = ["Negative", "Neutral", "Positive"];

    private static readonly string[] Texts =
    [
        "the product is very good",
        "This was AWFUL, really awful!",
        "okay",
        "zebra quantum excellent",                                             // unknown words → [UNK]
        "Café naïve fine, and a normal product.",                             // accents stripped, punctuation split
        string.Join(' ', Enumerable.Repeat("the product was really great and", 40)),   // 240 words: truncated to max length
    ];

    /// <summary>The tiny BERT folder with named labels (so label mapping is visible).</summary>
    private static string NamedLabelFolder()
    {
        var folder = TinyClassifierData.ModelFolder();
        var config = Path.Combine(folder, "config.json");
        var text = File.ReadAllText(config);
        for (var i = 0; i < Labels.Length; i++) text = text.Replace($"LABEL_{i}", Labels[i]);
        File.WriteAllText(config, text);
        return folder;
    }

    [Fact]
    public void SavedZipReloadsAndMatchesTorchSharpProbabilities()
    {
        using var transformer = TextClassificationTransformer.Load(NamedLabelFolder());
        var expected = transformer.Classifier.PredictProbabilities(Texts);
        var zip = Path.Combine(TestTempRoot.NewFolder("serving"), "m.zip");
        transformer.ToServingPipeline(new MLContext(seed: 1)).Save(zip);

        using (var archive = ZipFile.OpenRead(zip))
            Assert.Contains(archive.Entries, e => e.Length > 100_000);   // the ONNX model (tiny BERT: ~0.5 MB of weights) is inside

        var ml = new MLContext(seed: 2);
        ClassifierServingPipeline.RegisterComponents(ml);
        var model = ml.Model.Load(zip, out var schema);   // plain ML.NET load
        Assert.Equal(["Text"], schema.Select(c => c.Name));
        using var engine = ml.Model.CreatePredictionEngine<ServingInput, ServingPrediction>(model, schema);
        var compared = 0;
        for (var i = 0; i < Texts.Length; i++)
        {
            var p = engine.Predict(new ServingInput { Text = Texts[i] });
            compared += AssertAllClose(expected[i], p.Score, atol: 1e-4, what: $"text {i} probabilities");
            Assert.Equal(Labels[ClassifierInference.ArgMax(expected[i])], p.PredictedLabel);
        }
        Assert.Equal(Texts.Length * Labels.Length, compared);
    }

    [Fact]
    public void TransformScoresADataViewWithKeyAndLabelColumns()
    {
        using var classifier = FineTunedTextClassifier.Load(NamedLabelFolder());
        var ml = new MLContext(seed: 1);
        var pipeline = ClassifierServingPipeline.Create(ml, classifier);
        var scored = pipeline.Model.Transform(ml.Data.LoadFromEnumerable(Texts.Select(t => new ServingInput { Text = t })));
        Assert.Equal(["Text", "Score", "PredictedLabelKey", "PredictedLabel"], scored.Schema.Select(c => c.Name));
        var keyValues = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema["PredictedLabelKey"].GetKeyValues(ref keyValues);
        Assert.Equal(Labels.Length, keyValues.Length);
        var rows = ml.Data.CreateEnumerable<ServingPrediction>(scored, reuseRowObject: false).ToList();
        var expected = classifier.PredictProbabilities(Texts);
        var compared = rows.Select((r, i) => AssertAllClose(expected[i], r.Score, atol: 1e-4, what: $"row {i}")).Sum();
        Assert.Equal(Texts.Length * Labels.Length, compared);
    }

    [Fact]
    public void AFreshProcessLoadsTheZipExportedByTheCli()
    {
        var folder = NamedLabelFolder();
        var zip = Path.Combine(TestTempRoot.NewFolder("serving-cli"), "m.zip");
        var (code, stdout, stderr) = CliRunner.Run("export", "--format", "mlnet", "--model", folder, "--output", zip);
        Assert.True(code == 0, stdout + stderr);

        string[] args = ["predict", "--model", zip, .. Texts.SelectMany(t => new[] { "--text", t })];
        (code, stdout, stderr) = CliRunner.Run(args);
        Assert.True(code == 0, stdout + stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Texts.Length, lines.Length);
        using var classifier = FineTunedTextClassifier.Load(folder);
        var expected = classifier.PredictProbabilities(Texts);
        var compared = 0;
        for (var i = 0; i < Texts.Length; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            Assert.Equal(Texts[i], json.RootElement.GetProperty("text").GetString());
            Assert.Equal(Labels[ClassifierInference.ArgMax(expected[i])], json.RootElement.GetProperty("label").GetString());
            var p = json.RootElement.GetProperty("probabilities").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            compared += AssertAllClose(expected[i], p, atol: 1e-4, what: $"text {i}");
        }
        Assert.Equal(Texts.Length * Labels.Length, compared);
    }

    [Fact]
    public void PredictRejectsASecondTextForASingleTextModel()
    {
        using var classifier = FineTunedTextClassifier.Load(NamedLabelFolder());
        var zip = Path.Combine(TestTempRoot.NewFolder("serving-single"), "m.zip");
        var pipeline = ClassifierServingPipeline.Create(new MLContext(), classifier);
        Assert.False(pipeline.IsSentencePair);
        pipeline.Save(zip);

        var (code, stdout, stderr) = CliRunner.Run("predict", "--model", zip, "--text", "good", "--second-text", "bad");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("--second-text: this model classifies single texts (its input has only Text, no SecondText)", stderr);

        (code, _, stderr) = CliRunner.Run("predict", "--model", zip, "--test", "unused.tsv", "--second-text-column", "b");
        Assert.Equal(2, code);
        Assert.Contains("--second-text-column: this model classifies single texts", stderr);
    }

    [Fact]
    public void Int8PipelineIsSmallerAndStaysCloseToTorchSharp()
    {
        using var classifier = FineTunedTextClassifier.Load(NamedLabelFolder());
        var dir = TestTempRoot.NewFolder("serving-int8");
        string zip32 = Path.Combine(dir, "fp32.zip"), zip8 = Path.Combine(dir, "int8.zip");
        ClassifierServingPipeline.Create(new MLContext(), classifier).Save(zip32);
        ClassifierServingPipeline.Create(new MLContext(), classifier, new ServingPipelineOptions { Int8 = true }).Save(zip8);
        Assert.True(new FileInfo(zip8).Length < 0.6 * new FileInfo(zip32).Length, $"int8 {new FileInfo(zip8).Length} bytes, fp32 {new FileInfo(zip32).Length}");

        using var engine = ClassifierServingPipeline.Load(new MLContext(), zip8).CreatePredictionEngine();
        var expected = classifier.PredictProbabilities(Texts);
        var compared = Texts.Select((t, i) => AssertAllClose(expected[i], engine.Predict(new ServingInput { Text = t }).Score, atol: 0.05, what: $"text {i}")).Sum();
        Assert.Equal(Texts.Length * Labels.Length, compared);
    }

    [Fact]
    public void ExportOnnxInt8WritesMatMulInteger()
    {
        var folder = TinyClassifierData.ModelFolder();
        var dir = TestTempRoot.NewFolder("export-int8");
        var (code, stdout, stderr) = CliRunner.Run("export", "--format", "onnx", "--model", folder, "--output", Path.Combine(dir, "fp32.onnx"));
        Assert.True(code == 0, stdout + stderr);
        (code, stdout, stderr) = CliRunner.Run("export", "--format", "onnx", "--int8", "--model", folder, "--output", Path.Combine(dir, "int8.onnx"));
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("int8: 14 MatMul weights, 2 embedding tables", stdout);
        var model = FineTune.MLNet.Formats.Onnx.OnnxModelReader.Read(Path.Combine(dir, "int8.onnx"));
        Assert.Equal(14, model.Graph.Nodes.Count(n => n.OpType == "MatMulInteger"));
        Assert.True(new FileInfo(Path.Combine(dir, "int8.onnx")).Length < 0.6 * new FileInfo(Path.Combine(dir, "fp32.onnx")).Length);
    }

    [Fact]
    public void DistilBertClassifierWithoutTokenTypesServes()
    {
        using var model = FineTune.MLNet.Tests.Onnx.Export.TinyBertModels.Create(FineTune.MLNet.Tests.Onnx.Export.TinyBertModels.Config("distilbert") with { MaxPositionEmbeddings = 64 });
        var vocab = new List<string> { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "the", "product" };
        vocab.AddRange(Enumerable.Range(0, FineTune.MLNet.Tests.Onnx.Export.TinyBertModels.Vocab - vocab.Count).Select(i => $"w{i}"));
        using var classifier = new FineTunedTextClassifier(model, System.Text.Encoding.UTF8.GetBytes(string.Join('\n', vocab) + "\n"),
            FineTune.MLNet.Tokenization.WordPieceTokenizerOptions.Uncased, Labels, 16, TorchSharp.torch.CPU);
        string[] texts = ["the product good", "bad bad w3 unknown"];
        var expected = classifier.PredictProbabilities(texts);
        var zip = Path.Combine(TestTempRoot.NewFolder("serving-distil"), "m.zip");
        ClassifierServingPipeline.Create(new MLContext(), classifier).Save(zip);
        using var engine = ClassifierServingPipeline.Load(new MLContext(), zip).CreatePredictionEngine();
        var compared = texts.Select((t, i) => AssertAllClose(expected[i], engine.Predict(new ServingInput { Text = t }).Score, atol: 1e-4, what: $"text {i}")).Sum();
        Assert.Equal(texts.Length * Labels.Length, compared);
    }

    [Fact]
    public void PaddingBeyondThePositionEmbeddingsIsRefused()
    {
        using var model = FineTune.MLNet.Tests.Onnx.Export.TinyBertModels.Create(FineTune.MLNet.Tests.Onnx.Export.TinyBertModels.Config());   // 16 positions
        using var classifier = new FineTunedTextClassifier(model, System.Text.Encoding.UTF8.GetBytes("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"),
            FineTune.MLNet.Tokenization.WordPieceTokenizerOptions.Uncased, Labels, 16, TorchSharp.torch.CPU);
        var e = Assert.Throws<ArgumentException>(() => ClassifierServingPipeline.Create(new MLContext(), classifier));
        Assert.Contains("pads to 64 tokens", e.Message);
        Assert.Contains("more than the model's 16 position embeddings", e.Message);
    }

    [Fact]
    public void ExportWithAnUnknownFormatExitsTwo()
    {
        var (code, _, stderr) = CliRunner.Run("export", "--format", "tflite", "--model", TinyClassifierData.ModelFolder(), "--output", "x");
        Assert.Equal(2, code);
        Assert.Contains("--format: 'tflite' is not a format (expected onnx, mlnet, genai, gguf)", stderr);
    }

    [Fact]
    public void ANegativeGpuDeviceIdIsRejectedByName()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ServingPipelineOptions { GpuDeviceId = -1 }.Validate());
        Assert.Equal("GpuDeviceId", e.ParamName);
    }
}
