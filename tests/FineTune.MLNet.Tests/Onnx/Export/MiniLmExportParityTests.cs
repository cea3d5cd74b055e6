using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Tokenization;
using Xunit;
using static FineTune.MLNet.Tests.Onnx.Export.TinyBertModels;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Onnx.Export;

/// <summary>
/// The real all-MiniLM-L6-v2 encoder (with its pooler) under a 3-label head, exported and run by ONNX Runtime, against the
/// TorchSharp forward on tokenized sentences with padding and sentence pairs.
/// </summary>
public sealed class MiniLmExportParityTests : IClassFixture<MiniLmExportParityTests.Exported>
{
    public sealed class Exported : IDisposable
    {
        public Exported()
        {
            using var pretrained = PretrainedEncoder.LoadMiniLm();
            manual_seed(11);
            Model = new BertForSequenceClassification(pretrained.Config with { NumLabels = 3 });
            var report = StateDictLoader.LoadInto(Model, pretrained.Weights, strict: false);
            Assert.Empty(report.Unexpected);
            Assert.Equal(["classifier.bias", "classifier.weight"], report.Missing.Order());   // the pooler comes from MiniLM
            using (no_grad())
            {
                Model.named_parameters().Single(p => p.name == "classifier.weight").parameter.normal_(0, 0.3);   // logits of order 1
            }
            Model.eval();
            Tokenizer = WordPieceTokenizer.FromVocabStream(new MemoryStream(pretrained.Vocab), pretrained.TokenizerOptions);
            Onnx = new OnnxReferenceRunner(BertOnnxExporter.ExportToBytes(Model, new BertOnnxExportOptions { IncludeLastHiddenState = true }));
        }

        public BertForSequenceClassification Model { get; }
        public WordPieceTokenizer Tokenizer { get; }
        public OnnxReferenceRunner Onnx { get; }

        public void Dispose()
        {
            Model.Dispose();
            Onnx.Dispose();
        }
    }

    private readonly Exported m;

    public MiniLmExportParityTests(Exported exported) => m = exported;

    [Theory]
    [InlineData(new[] { "hello world" }, null)]
    [InlineData(new[] { "The battery died after two days. Returning it.", "ok", "Works as described, nothing special, but the price is fair for what you get." }, null)]
    [InlineData(new[] { "Is the charger included?", "Great sound" }, new[] { "Yes, a USB-C charger is in the box.", "but the bass is weak" })]
    public void LogitsAndHiddenStatesMatchTorchSharp(string[] texts, string[]? pairs)
    {
        var batch = m.Tokenizer.EncodeBatch(texts, pairs, 128);
        var outputs = m.Onnx.Run(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.BatchSize, batch.SequenceLength);
        var expectedLogits = TorchLogits(m.Model, batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.BatchSize, batch.SequenceLength);
        var expectedHidden = TorchHidden(m.Model, batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.BatchSize, batch.SequenceLength);

        Assert.True(expectedLogits.Max(Math.Abs) > 0.1, "logits too small for the bound to mean anything");
        var logitDiff = MaxAbsDiff(expectedLogits, outputs[BertOnnxExporter.LogitsName].Data);
        Assert.True(logitDiff <= 1e-4, $"max |torch - onnxruntime| logits = {logitDiff:E3}");
        var hiddenDiff = MaxAbsDiff(expectedHidden, outputs[BertOnnxExporter.LastHiddenStateName].Data);
        Assert.True(hiddenDiff <= 1e-4, $"max |torch - onnxruntime| last_hidden_state = {hiddenDiff:E3}");
    }
}
